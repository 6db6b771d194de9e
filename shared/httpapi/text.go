package httpapi

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// checkText walks a decoded request and refuses the first string (or map
// key) holding a control character, naming its field as the client wrote
// it. A json.RawMessage inside (a campaign's notification) is walked too.
func checkText(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkText(v.Elem(), path)
	case reflect.String:
		if r, bad := notify.BadControl(v.String()); bad {
			field := path
			if field == "" {
				field = "body"
			}
			return notify.Invalid(notify.FieldError{Field: field, Problem: "holds the control character U+" + strings.ToUpper(strconv.FormatInt(int64(r)+0x10000, 16)[1:]) + "; text may hold tabs and line breaks, no other control characters"})
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

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
