package spreadsheet

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// stdTokens reads data with encoding/xml's RawToken, as this package read
// workbooks before xmlScanner: its tokens written out one a line (comments
// and processing instructions left out, as xmlScanner leaves them), then
// "error" or "EOF". A document type declaration ends it with "directive".
func stdTokens(data []byte) []string {
	d := xml.NewDecoder(bytes.NewReader(data))
	var out []string
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return append(out, "EOF")
		}
		if err != nil {
			return append(out, "error")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			s := fmt.Sprintf("start %q %q", t.Name.Space, t.Name.Local)
			for _, a := range t.Attr {
				s += fmt.Sprintf(" %q:%q=%q", a.Name.Space, a.Name.Local, a.Value)
			}
			out = append(out, s)
		case xml.EndElement:
			out = append(out, fmt.Sprintf("end %q %q", t.Name.Space, t.Name.Local))
		case xml.CharData:
			out = append(out, fmt.Sprintf("text %q", t))
		case xml.Directive:
			return append(out, "directive")
		}
	}
}

// scanTokens reads data with xmlScanner the way stdTokens does, from a
// reader that returns a few bytes at a time, so that tokens straddle
// reads.
func scanTokens(data []byte, maxToken int) []string {
	errLong := errors.New("too long")
	sc := newXMLScanner(iotest.HalfReader(bytes.NewReader(data)), maxToken, func() error { return errLong })
	var out []string
	for {
		tok, err := sc.next()
		if err == io.EOF {
			return append(out, "EOF")
		}
		if err != nil {
			var se *xml.SyntaxError
			if strings.Contains(err.Error(), "document type declaration") {
				return append(out, "directive")
			}
			if !errors.As(err, &se) && !strings.HasPrefix(err.Error(), "xml: ") && err != errLong {
				return append(out, "unexpected error: "+err.Error())
			}
			return append(out, "error")
		}
		switch tok.kind {
		case startToken:
			s := fmt.Sprintf("start %q %q", tok.space, tok.local)
			for _, a := range tok.attrs {
				s += fmt.Sprintf(" %q:%q=%q", a.space, a.local, a.value)
			}
			out = append(out, s)
		case endToken:
			out = append(out, fmt.Sprintf("end %q %q", tok.space, tok.local))
		case textToken:
			out = append(out, fmt.Sprintf("text %q", tok.text))
		}
	}
}

var xmlSeeds = []string{
	testSharedStrings,
	testStyles,
	testWorkbook,
	testWorkbookRels,
	sheetXML(`<row r="1" spans="1:3" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"/></row>`),
	`<a x='1'y="2" z = "&amp;&lt;&#65;&#x42;&#xD800;"/>`,
	"<a>x\r\ny\rz&#13;\n</a>",
	"<![CDATA[a]]b<c>\r\n]]>",
	"<!-- c -- x --><!----><!---->",
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><?pi some data?><a/>",
	`<?xml version="1.1"?>`,
	`<?xml encoding='UTF-16'?>`,
	"\uFEFF<a>é</a>",
	"<é:ñ a:b:c='1'/>",
	"<a:b:c/>",
	"<:a b:=''/>",
	"<1a/>",
	"<a>]]></a>",
	"<a>&#0;</a>",
	"<a>&#x110000;</a>",
	"<a>&unknown;</a>",
	"<a>&amp</a>",
	"<a>\x01</a>",
	"<a>\xff</a>",
	"<a>\uFFFE</a>",
	"<a b=\"<\"/>",
	"<a b=c/>",
	"<a b/>",
	"</a >",
	"</a b>",
	"<a/ >",
	"<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>",
	"<![CDAT",
	"<!-",
	"<",
	"text at the end",
	"<a",
}

func FuzzXMLScanner(f *testing.F) {
	for _, s := range xmlSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanner(t, data)
	})
}

// checkScanner holds xmlScanner's reading of data to encoding/xml's: the
// same tokens, and an error where encoding/xml has one. Where xmlScanner
// refuses a document type declaration, encoding/xml may return it or find
// it malformed.
func checkScanner(t *testing.T, data []byte) {
	t.Helper()
	want := stdTokens(data)
	got := scanTokens(data, 1<<20)
	if n := len(got); got[n-1] == "directive" && len(want) == n && want[n-1] == "error" {
		want[n-1] = "directive"
	}
	if !cmp.Equal(got, want) {
		t.Errorf("xmlScanner of %q differs from encoding/xml (-want +got):\n%s", data, cmp.Diff(want, got))
	}
}

// TestXMLScannerMatchesEncodingXML holds the seeds to encoding/xml's
// reading, which FuzzXMLScanner does for any input.
func TestXMLScannerMatchesEncodingXML(t *testing.T) {
	for _, s := range xmlSeeds {
		checkScanner(t, []byte(s))
	}
}

func TestXMLScannerBoundsTokens(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{"a text", "<a>" + strings.Repeat("x", 100) + "</a>"},
		{"a tag", "<a b='" + strings.Repeat("x", 100) + "'/>"},
		{"a comment with < inside", "<!--" + strings.Repeat("<", 100) + "-->"},
		{"a CDATA section with < inside", "<![CDATA[" + strings.Repeat("<", 100) + "]]>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanTokens([]byte(tt.data), 64)
			if got[len(got)-1] != "error" {
				t.Errorf("tokens of a token of 100 bytes with 64 allowed = %q, want an error", got)
			}
			if got := scanTokens([]byte(tt.data), 128); got[len(got)-1] != "EOF" {
				t.Errorf("tokens of a token of 100 bytes with 128 allowed = %q, want no error", got)
			}
		})
	}
}

// TestXMLScannerJudgesOtherNamesOnce: a name beyond ASCII costs an
// encoding/xml decoder to judge, so it is judged once however often it
// comes, and a part with more distinct ones than a workbook could have is
// refused rather than read at a few MB a second.
func TestXMLScannerJudgesOtherNamesOnce(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("<r>")
	for range 5000 {
		b.WriteString("<éa/><éb x='1'/>")
	}
	b.WriteString("</r>")
	sc := newXMLScanner(bytes.NewReader(b.Bytes()), 1<<16, func() error { return errors.New("too long") })
	tokens := 0
	for {
		tok, err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next after %d tokens: %v", tokens, err)
		}
		if tok.kind == startToken {
			tokens++
		}
	}
	if tokens != 10001 || len(sc.otherNames) != 2 {
		t.Errorf("read %d start tokens judging %d names, want 10001 judging 2", tokens, len(sc.otherNames))
	}

	b.Reset()
	b.WriteString("<r>")
	for i := range maxOtherNames + 1 {
		fmt.Fprintf(&b, "<é%d/>", i)
	}
	b.WriteString("</r>")
	sc = newXMLScanner(bytes.NewReader(b.Bytes()), 1<<16, func() error { return errors.New("too long") })
	var err error
	for err == nil {
		_, err = sc.next()
	}
	if err == io.EOF || !strings.Contains(err.Error(), "distinct names beyond ASCII") {
		t.Errorf("scanning %d distinct names = %v, want the distinct-names error", maxOtherNames+1, err)
	}
}
