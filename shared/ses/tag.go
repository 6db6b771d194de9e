package ses

import (
	"errors"
	"fmt"
	"strings"
)

// maxTagValue is the longest message tag value SES accepts.
const maxTagValue = 256

// TagValue encodes s in the characters SES allows in a message tag value
// (ASCII letters, digits, '_' and '-'), reversibly so ParseTagValue gives s
// back from an event: letters, digits and '_' stay as they are, and every
// other byte becomes '-' and two upper-case hex digits ("a-b" is "a-2Db").
// Herald's own ids ("ws_…", ULIDs) are unchanged. A value longer than 256
// characters once encoded is not sent.
func TagValue(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = isTagChar(s[i])
	}
	if plain {
		return s // Herald's own ids: no copy
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isTagChar(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "-%02X", c)
	}
	return b.String()
}

// ParseTagValue decodes a value made by TagValue.
func ParseTagValue(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isTagChar(c):
			b.WriteByte(c)
		case c == '-' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			b.WriteByte(unhex(v[i+1])<<4 | unhex(v[i+2]))
			i += 2
		default:
			return "", errors.New("parse ses tag value: not made by TagValue")
		}
	}
	return b.String(), nil
}

func isTagChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}
