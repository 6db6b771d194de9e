package notify

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

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

// CheckText refuses the first string (or map key) of v holding a control
// character BadControl finds, naming its field by the JSON names of v's
// fields under path ("body" for a bare string). A json.RawMessage inside
// (a campaign's notification) is walked too. The API checks every body it
// decodes; the services check their inputs again, for the callers that
// are not the API.
func CheckText(v any, path string) error { return checkText(reflect.ValueOf(v), path) }

// checkText is CheckText on a reflected value.
func checkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkText(v.Elem(), path)
	case reflect.String:
		if r, bad := BadControl(v.String()); bad {
			field := path
			if field == "" {
				field = "body"
			}
			return Invalid(FieldError{Field: field, Problem: "holds the control character U+" + strings.ToUpper(strconv.FormatInt(int64(r)+0x10000, 16)[1:]) + "; text may hold tabs and line breaks, no other control characters"})
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if name != "" {
				p = join(path, name)
			}
			if err := checkText(v.Field(i), p); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			if v.Len() == 0 {
				return nil
			}
			var inner any
			if json.Unmarshal(v.Bytes(), &inner) != nil {
				return nil // its own decoding reports it
			}
			return checkText(reflect.ValueOf(inner), path)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := range v.Len() {
			if err := checkText(v.Index(i), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if err := checkText(k, join(path, "(a key)")); err != nil {
					return err
				}
			}
			name := k.String()
			if k.Kind() != reflect.String {
				name = "?"
			}
			if err := checkText(iter.Value(), join(path, name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// join names field name under path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
