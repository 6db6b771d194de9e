package notify

import (
	"encoding/json"
	"errors"
	"testing"
)

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

// TestCheckTextNamesTheField: the field of the first control character,
// by the JSON names a client writes, through pointers, slices, map keys
// and values, and raw JSON.
func TestCheckTextNamesTheField(t *testing.T) {
	type inner struct {
		Body string            `json:"body"`
		Vars map[string]string `json:"variables"`
	}
	type body struct {
		Name    *string         `json:"name"`
		Tags    []string        `json:"tags"`
		Content inner           `json:"content"`
		Raw     json.RawMessage `json:"notification"`
		Skip    string          `json:"-"`
	}
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"clean", body{Name: s("Ana\tGil\r\n"), Tags: []string{"a"}, Skip: "\x00"}, ""},
		{"pointer", body{Name: s("A\x00")}, "name"},
		{"slice", body{Tags: []string{"ok", "b\x7f"}}, "tags[1]"},
		{"nested", body{Content: inner{Body: "x\u0085"}}, "content.body"},
		{"map value", body{Content: inner{Vars: map[string]string{"plan": "\x1b"}}}, "content.variables.plan"},
		{"map key", body{Content: inner{Vars: map[string]string{"p\x07": "x"}}}, "content.variables.(a key)"},
		{"raw JSON", body{Raw: json.RawMessage(`{"content": {"body": "\u0000"}}`)}, "notification.content.body"},
		{"a bare string", "a\x01", "body"},
	}
	for _, tt := range tests {
		err := CheckText(tt.v, "")
		var e *Error
		got := ""
		if errors.As(err, &e) && len(e.Details) == 1 {
			got = e.Details[0].Field
		}
		if (err == nil) != (tt.want == "") || got != tt.want {
			t.Errorf("%s: CheckText = %v (field %q), want field %q", tt.name, err, got, tt.want)
		}
	}
}
