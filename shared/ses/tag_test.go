package ses

import (
	"strings"
	"testing"
)

func TestTagValue(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"ws_local", "ws_local"},
		{"01J0ABCDEFGHJKMNPQRSTVWXYZ", "01J0ABCDEFGHJKMNPQRSTVWXYZ"},
		{"a-b", "a-2Db"},
		{"user@example.com", "user-40example-2Ecom"},
		{"ü", "-C3-BC"},
		{"", ""},
	}
	for _, tt := range tests {
		got := TagValue(tt.in)
		if got != tt.want {
			t.Errorf("TagValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Trim(got, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
			t.Errorf("TagValue(%q) = %q has characters SES refuses", tt.in, got)
		}
		back, err := ParseTagValue(got)
		if err != nil || back != tt.in {
			t.Errorf("ParseTagValue(%q) = %q, %v, want %q", got, back, err, tt.in)
		}
	}
}

func TestParseTagValueRefuses(t *testing.T) {
	for _, v := range []string{"a-", "a-2", "a-zz", "a-2d", "a.b"} {
		if got, err := ParseTagValue(v); err == nil {
			t.Errorf("ParseTagValue(%q) = %q, want an error", v, got)
		}
	}
}

func FuzzTagValue(f *testing.F) {
	for _, s := range []string{"ws_1", "a-b", "user@example.com", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		back, err := ParseTagValue(TagValue(s))
		if err != nil || back != s {
			t.Errorf("ParseTagValue(TagValue(%q)) = %q, %v", s, back, err)
		}
	})
}
