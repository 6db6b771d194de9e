package notify

import "strconv"

// BadControl returns the first control character of s that has no business
// in a message, a profile or a report, and whether there is one: C0 but
// tab, newline and carriage return (NUL, ESC and the like), DEL, and C1.
// They would reach SMS, email and push payloads and result sheets, where
// they break parsers or hide text.
func BadControl(s string) (rune, bool) {
	for _, r := range s {
		if IsBadControl(r) {
			return r, true
		}
	}
	return 0, false
}

// IsBadControl reports whether r is one of the control characters
// BadControl finds; spreadsheets remove the same ones from their cells.
func IsBadControl(r rune) bool {
	return r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f))
}

// Quantity writes n with the noun's singular or plural: "1 user", "2 users".
func Quantity(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
