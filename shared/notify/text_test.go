package notify

import "testing"

func TestBadControl(t *testing.T) {
	tests := []struct {
		in   string
		want rune
		bad  bool
	}{
		{"plain text, ñ, 😀", 0, false},
		{"tab\tnewline\ncr\r", 0, false},
		{"nul\x00", 0x00, true},
		{"esc\x1b[31m", 0x1b, true},
		{"bell\a", 0x07, true},
		{"del\x7f", 0x7f, true},
		{"c1 \u0085 next line", 0x85, true},
		{"c1 \u009b csi", 0x9b, true},
		{"nbsp\u00a0 is text", 0, false},
		{"unit separator\x1f", 0x1f, true},
		{"first C1 \u0080", 0x80, true},
		{"last C1 \u009f", 0x9f, true},
		{"space and tilde ~ are text", 0, false},
		{"", 0, false},
		{"first of two: \x01\x02", 0x01, true},
	}
	for _, tt := range tests {
		if got, bad := BadControl(tt.in); got != tt.want || bad != tt.bad {
			t.Errorf("BadControl(%q) = %U, %v; want %U, %v", tt.in, got, bad, tt.want, tt.bad)
		}
	}
}

func TestQuantity(t *testing.T) {
	for n, want := range map[int]string{0: "0 users", 1: "1 user", 2: "2 users", 1000: "1000 users"} {
		if got := Quantity(n, "user", "users"); got != want {
			t.Errorf("Quantity(%d) = %q, want %q", n, got, want)
		}
	}
}
