package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// encodingJSON is what encoding/json writes for s, HTML escaped or not.
func encodingJSON(t testing.TB, s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendStringIsEncodingJSONs(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\b backspace \f form feed", "\x00\x01\x1f\x7f",
		"<b>&amp;</b>", "línea\u2028y\u2029párrafo", "bad \xff\xfe utf-8", "€ 😀 ñ", "\xed\xa0\x80"} {
		for _, html := range []bool{true, false} {
			if got, want := string(AppendString(nil, s, html)), encodingJSON(t, s, html); got != want {
				t.Errorf("AppendString(%q, html %v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("<a href=\"x\">\u2028\xff</a>")
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{true, false} {
			if got, want := string(AppendString([]byte("x"), s, html)), "x"+encodingJSON(t, s, html); got != want {
				t.Fatalf("AppendString(%q, html %v) = %s, want %s", s, html, got, want)
			}
		}
	})
}
