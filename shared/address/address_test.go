package address

import "testing"

func TestPhone(t *testing.T) {
	cases := []struct {
		in, region, want string
		ok               bool
	}{
		{"+34600000000", "", "+34600000000", true},
		{"+34 600 00 00 00", "", "+34600000000", true},
		{"600000000", "ES", "+34600000000", true},
		{"600 000 000", "ES", "+34600000000", true},
		{"0034600000000", "ES", "+34600000000", true},
		// A spreadsheet that stored the phone as a number lost its +.
		{"34600000000", "ES", "+34600000000", true},
		{"34600000000", "", "+34600000000", true},
		{"447911123456", "ES", "+447911123456", true},
		{"600000000", "", "", false},
		{"12345", "ES", "", false},
		{"+1", "", "", false},
		{"hello", "ES", "", false},
		{"", "ES", "", false},
		{"=1+1", "ES", "", false},
	}
	for _, c := range cases {
		got, err := Phone(c.in, c.region)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Phone(%q, %q) = %q, %v; want %q, ok %v", c.in, c.region, got, err, c.want, c.ok)
		}
	}
}

func TestEmail(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Ana@Example.com", "ana@example.com", true},
		{" ana@example.com ", "ana@example.com", true},
		{"Ana <ana@example.com>", "", false},
		{"ana@localhost", "", false},
		{"not an email", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, err := Email(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Email(%q) = %q, %v; want %q, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
