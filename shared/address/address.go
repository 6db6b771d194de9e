// Package address checks and normalises the addresses Herald sends to:
// phone numbers (to E.164) and email addresses. The API, the spreadsheet
// ingest and the users import share it, so a number accepted in one place
// is written the same way everywhere.
package address

import (
	"errors"
	"net/mail"
	"strings"
)

// Kinds of address (see notify.Channel.AddressKind).
const (
	KindPhone = "phone"
	KindEmail = "email"
)

// Phone returns v in E.164. A number without a leading + (or 00 and the
// like) is read as a national number of region (an ISO 3166 code such as
// "ES"); with no region it must be international. A number that is invalid
// as a national one but valid with a + in front is taken as international
// with its + lost, as spreadsheets lose it when they store phones as
// numbers (34600000000).
func Phone(v, region string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errors.New("is empty")
	}
	if strings.HasPrefix(v, "+") || region == "" {
		if !strings.HasPrefix(v, "+") {
			if e164, ok := parse("+"+v, ""); ok && digitsOnly(v) {
				return e164, nil
			}
			return "", errors.New("must be in international format, such as +34600000000")
		}
		if e164, ok := parse(v, ""); ok {
			return e164, nil
		}
		return "", errors.New("not a valid phone number")
	}
	if e164, ok := parse(v, region); ok {
		return e164, nil
	}
	if digitsOnly(v) {
		if e164, ok := parse("+"+v, ""); ok {
			return e164, nil
		}
	}
	return "", errors.New("not a valid phone number")
}

// digitsOnly reports whether v is digits, allowing the spaces, dots,
// dashes and parentheses people write numbers with.
func digitsOnly(v string) bool {
	n := 0
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			n++
		case strings.ContainsRune(" .-()", r):
		default:
			return false
		}
	}
	return n >= 8
}

// Email returns v lower-cased when it is a plain address (no display name)
// with a dotted domain, at most 254 bytes.
func Email(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errors.New("is empty")
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || len(v) > 254 || !strings.Contains(v[strings.LastIndex(v, "@"):], ".") {
		return "", errors.New("not a valid email address")
	}
	return strings.ToLower(v), nil
}

// Normalize checks v as an address of kind (KindPhone or KindEmail).
func Normalize(kind, v, region string) (string, error) {
	if kind == KindPhone {
		return Phone(v, region)
	}
	return Email(v)
}
