package boltstore

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/notify"
)

// rawFilter tells, from a user's stored JSON alone, that the user cannot
// match a filter, so that a scan decodes only the users that may: decoding
// is most of a scan's cost, and a search for one name among 100,000 users
// would otherwise decode them all. Every test is a necessary condition of
// UserFilter.Matches on the record as putJSON wrote it (encoding/json:
// strings as UTF-8 with only ", \, control characters, <, >, &, U+2028
// and U+2029 escaped); Matches still decides on the decoded user.
type rawFilter struct {
	// needles must all appear in the record.
	needles [][]byte
	// q is the lower-cased search, when it can be looked for in the
	// lower-cased record; digits the search's phone digits.
	q      []byte
	digits []byte
}

func newRawFilter(f notify.UserFilter) rawFilter {
	var r rawFilter
	field := func(name, value string) {
		if v, ok := literal(value); ok {
			r.needles = append(r.needles, []byte(`"`+name+`":`+v))
		}
	}
	if len(f.Status) == 1 {
		field("status", f.Status[0])
	}
	if f.Type != "" {
		field("type", f.Type)
	}
	if f.Language != "" {
		field("language", f.Language)
	}
	for _, t := range append(append([]string(nil), f.Tags...), nonEmpty(f.Tag)...) {
		if v, ok := literal(t); ok {
			r.needles = append(r.needles, []byte(v))
		}
	}
	if q := strings.ToLower(f.Q); q != "" {
		if v, ok := literal(q); ok && v == `"`+q+`"` && isASCIIorUTF8Lower(q) {
			r.q = []byte(q)
			d := strings.TrimLeft(strings.Map(func(c rune) rune {
				if c >= '0' && c <= '9' {
					return c
				}
				return -1
			}, q), "0")
			if d != "" {
				r.digits = []byte(d)
			}
		}
	}
	return r
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// literal is s as encoding/json writes it, quotes included; ok is false
// when the encoder would change it (escapes), so no needle is made.
func literal(s string) (string, bool) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// isASCIIorUTF8Lower reports whether lower-casing a record byte by byte
// (bytes.ToLower) finds q as strings.ToLower wrote it: true for valid
// UTF-8 whose lower case has the same length as its upper case.
func isASCIIorUTF8Lower(q string) bool {
	if !utf8.ValidString(q) {
		return false
	}
	return len(strings.ToUpper(q)) == len(q)
}

// mayMatch reports whether the record may match: false only when it
// cannot.
func (r rawFilter) mayMatch(v []byte) bool {
	for _, n := range r.needles {
		if !bytes.Contains(v, n) {
			return false
		}
	}
	if r.q != nil {
		if containsFold(v, r.q) {
			return true
		}
		return r.digits != nil && bytes.Contains(v, r.digits)
	}
	return true
}

// containsFold reports whether the lower case of v contains q (lower
// case). An ASCII record with an ASCII q is searched in place; anything
// else is lower-cased as strings.ToLower would (a non-ASCII letter may
// lower-case to other bytes, even to ASCII ones: "İ" to "i̇").
func containsFold(v, q []byte) bool {
	if !isASCII(q) || !isASCII(v) {
		return bytes.Contains(bytes.ToLower(v), q)
	}
	first, alt := q[0], q[0]
	if first >= 'a' && first <= 'z' {
		alt = first - 'a' + 'A'
	}
	for i := 0; i+len(q) <= len(v); i++ {
		if b := v[i]; b != first && b != alt {
			continue
		}
		if bytes.EqualFold(v[i:i+len(q)], q) {
			return true
		}
	}
	return false
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
