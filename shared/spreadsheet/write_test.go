package spreadsheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

func TestNeutralise(t *testing.T) {
	tests := []struct {
		cell, want string
	}{
		{"", ""},
		{"hello", "hello"},
		{"a=b", "a=b"},
		{" =1+1", " '=1+1"},
		{"\u00a0\u3000@x", "\u00a0\u3000'@x"},
		{"\"=1+1\"", "\"'=1+1\""},
		{"x;=1+1;y", "x;'=1+1;y"},
		{"x,=1+1", "x,'=1+1"},
		{"x\t=1+1", "x\t'=1+1"},
		{"x\n=1+1", "x\n'=1+1"},
		{"x\r\n -2+3", "x\r\n '-2+3"},
		{"a; b, c", "a; b, c"},
		{"=a;=b,@c", "'=a;'=b,'@c"},
		{"\t=1", "'\t'=1"},
		{"\uff1d1+1", "'\uff1d1+1"},
		{"x; \uff0bcmd", "x; '\uff0bcmd"},
		{"\uff0d1", "'\uff0d1"},
		{"\uff20SUM(A1)", "'\uff20SUM(A1)"},
		{"12;-5;+34 600", "12;'-5;+34 600"},
		{"-1,1+HYPERLINK(\"http://x\",\"y\")", "'-1,1+HYPERLINK(\"http://x\",\"y\")"},
		{"x;-1,1+A1", "x;'-1,1+A1"},
		{"x,-1;1+A1", "x,'-1;1+A1"},
		{"x;-5\t6", "x;'-5\t6"},
		{"-12,5", "-12,5"},
		{"x;-12,5", "x;-12,5"},
		{"-5,6,7", "'-5,6,7"},
		{"x,-5,6,7", "x,'-5,6,7"},
		{"1;-a", "1;'-a"},
		{"Oferta 10%, -20% en la segunda", "Oferta 10%, '-20% en la segunda"},
		{"34600000000", "34600000000"},
		{"=1+1", "'=1+1"},
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"-2+3", "'-2+3"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"+", "'+"},
		{"-", "'-"},
		{"+34600000000", "+34600000000"},
		{"-12.5", "-12.5"},
		{"-12,5", "-12,5"},
		{"+34 600 000 000", "+34 600 000 000"},
		{"+34  600", "'+34  600"},
		{"+34 ", "'+34 "},
		{"+34 600,", "'+34 600,"},
		{"+1.2.3", "'+1.2.3"},
		{"-.5", "'-.5"},
		{"-1e5", "'-1e5"},
		{"+1 (555) 123-4567", "'+1 (555) 123-4567"},
		{"-1,234.5", "'-1,234.5"},
	}
	for _, tt := range tests {
		if got := Neutralise(tt.cell); got != tt.want {
			t.Errorf("Neutralise(%q) = %q, want %q", tt.cell, got, tt.want)
		}
	}
}

// reportRows is a result sheet with every kind of cell that is hard to
// write.
var reportRows = [][]string{
	{"phone", "name", "status", "error"},
	{"+34600000000", "Ana, \"la jefa\"", "=1+1", "line1\nline2"},
	{"+34 600 000 000", "ñ 😀", "@SUM(A1)", "-2+3"},
	{"-12.5", "\ttab", "+cmd|' /C calc'!A0", "a;b"},
	{"", "", "", "only last"},
	{"1", "<b>&amp;</b>", "_x0041_", "x"},
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, CSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(reportRows, []string{"\rcr", "a\r\nb", "bad\xffbyte", "end"}) {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write(%q): %v", r, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.Write([]string{"late"}); err == nil {
		t.Errorf("Write after Close = nil, want an error")
	}
	wantStart := "\xEF\xBB\xBFphone,name,status,error\r\n'+34600000000,\"Ana, \"\"la jefa\"\"\",'=1+1,\"line1\r\nline2\"\r\n"
	if got := buf.String(); !strings.HasPrefix(got, wantStart) {
		t.Errorf("CSV starts %q, want %q", got[:min(len(got), len(wantStart))], wantStart)
	}

	header, rows, err := readAll(buf.Bytes(), Limits{})
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if diff := cmp.Diff(reportRows[0], header); diff != "" {
		t.Errorf("Header() (-want +got):\n%s", diff)
	}
	want := []row{
		// A number that starts with + or - and is followed by
		// other cells gets a quote too (see neutralise).
		{2, []string{"'+34600000000", "Ana, \"la jefa\"", "'=1+1", "line1\nline2"}},
		{3, []string{"'+34 600 000 000", "ñ 😀", "'@SUM(A1)", "'-2+3"}},
		{4, []string{"'-12.5", "'\ttab", "'+cmd|' /C calc'!A0", "a;b"}},
		{5, []string{"", "", "", "only last"}},
		{6, []string{"1", "<b>&amp;</b>", "_x0041_", "x"}},
		// Line ends inside a cell read back as newlines.
		{7, []string{"'\ncr", "a\nb", "bad\uFFFDbyte", "end"}},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows read back (-want +got):\n%s", diff)
	}
}

func TestWriteXLSX(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, XLSX)
	if err != nil {
		t.Fatal(err)
	}
	extra := []string{"cr\rinside", "ctl\x01\x1f\uFFFEchars", "bad\xffbyte", "  spaced  "}
	for _, r := range append(reportRows, extra) {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write(%q): %v", r, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// What a spreadsheet program shows: every cell neutralised, the
	// characters XML cannot hold dropped.
	want := [][]string{
		{"phone", "name", "status", "error"},
		{"+34600000000", "Ana, \"la jefa\"", "'=1+1", "line1\nline2"},
		{"+34 600 000 000", "ñ 😀", "'@SUM(A1)", "'-2+3"},
		{"-12.5", "'\ttab", "'+cmd|' /C calc'!A0", "a;b"},
		{"", "", "", "only last"},
		{"1", "<b>&amp;</b>", "_x0041_", "x"},
		{"cr\rinside", "ctlchars", "badbyte", "  spaced  "},
	}

	t.Run("excelize", func(t *testing.T) {
		f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("excelize.OpenReader: %v", err)
		}
		defer f.Close()
		if got := f.GetSheetList(); !slicesEqual(got, []string{"Report"}) {
			t.Errorf("sheets = %q, want [Report]", got)
		}
		got, err := f.GetRows("Report")
		if err != nil {
			t.Fatalf("GetRows: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
		id, err := f.GetCellStyle("Report", "B1")
		if err != nil {
			t.Fatal(err)
		}
		style, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if style.Font == nil || !style.Font.Bold {
			t.Errorf("header font = %+v, want bold", style.Font)
		}
	})

	t.Run("Reader", func(t *testing.T) {
		header, rows, err := readAll(buf.Bytes(), Limits{})
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if diff := cmp.Diff(want[0], header); diff != "" {
			t.Errorf("Header() (-want +got):\n%s", diff)
		}
		var wantRows []row
		for i, cells := range want[1:] {
			trimmed := make([]string, len(cells))
			for j, c := range cells {
				trimmed[j] = strings.TrimSpace(c)
			}
			wantRows = append(wantRows, row{i + 2, trimmed})
		}
		if diff := cmp.Diff(wantRows, rows); diff != "" {
			t.Errorf("rows (-want +got):\n%s", diff)
		}
	})
}

func slicesEqual(a, b []string) bool { return cmp.Equal(a, b) }

func TestWriteXLSXEmptyAndLong(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, XLSX)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("😀", 20_000) // 40,000 UTF-16 units
	if err := w.Write([]string{"long"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{long}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("excelize.OpenReader: %v", err)
	}
	defer f.Close()
	got, err := f.GetCellValue("Report", "A2")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("😀", 16_383); got != want {
		t.Errorf("A2 has %d bytes, want the %d bytes of 16,383 emoji (32,766 UTF-16 units)", len(got), len(want))
	}
}

func TestNewWriterUnknownFormat(t *testing.T) {
	if _, err := NewWriter(&bytes.Buffer{}, Format("ods")); err == nil {
		t.Error("NewWriter(ods) = nil error, want one")
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestWriterReportsWriteErrors(t *testing.T) {
	for _, f := range []Format{CSV, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			w, err := NewWriter(failingWriter{}, f)
			if err != nil {
				if !errors.Is(err, errDisk) {
					t.Fatalf("NewWriter = %v, want it to wrap %v", err, errDisk)
				}
				return
			}
			w.Write([]string{"a"})
			if err := w.Close(); !errors.Is(err, errDisk) {
				t.Errorf("Close = %v, want it to wrap %v", err, errDisk)
			}
		})
	}
}

// FuzzWriteXLSX checks that whatever cells are written, the workbook reads
// back with each cell as Neutralise and the XML rules leave it.
func FuzzWriteXLSX(f *testing.F) {
	f.Add("=1+1", "a_x000D_b\r\n\x00<&>")
	f.Add("+34 600", "\uFFFE😀\xff")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 1000 || len(b) > 1000 {
			t.Skip()
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, XLSX)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write([]string{"a", "b"}); err != nil {
			t.Fatal(err)
		}
		if err := w.Write([]string{a, b}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, rows, err := readAll(buf.Bytes(), Limits{})
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		cells := []string{strings.TrimSpace(clean(xmlText(a), false)), strings.TrimSpace(clean(xmlText(b), false))}
		var want []row
		switch {
		case cells[1] != "":
			want = []row{{2, cells}}
		case cells[0] != "":
			want = []row{{2, cells[:1]}}
		}
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("rows read back (-want +got):\n%s", diff)
		}
	})
}

// hostileCells are cells made to run as formulas in some program, dialect
// or locale.
var hostileCells = []string{
	"=1+1", "+1+1", "-1+1", "@SUM(A1)", "\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20A1",
	"x;=1+1;y", "x,=1+1,y", "x\t=1+1\ty", "x\n=1+1", "x\r=1+1", "x\r\n=1+1",
	" =1+1", "\u00a0=1", "\u3000=1", "\t=1", "\r=1", "\"=1+1\"", "x;\"=1+1\"",
	"\x1b=1+1", "\x00@x", "x;\x07=1", "\x7f-1+1", "_x001B_=1",
	"-1,1+HYPERLINK(\"http://x\",\"y\")", "x;-1,1+A1", "x,-1;1+A1", "-5\t6", "x;-5\t6",
	"=HYPERLINK(\"http://x;=1\",\"y\")", "x\"\"=1", "\"\"\";=1",
	"+34600000000", "+34 600 000 000", "-12.5", "-12,5", "12;-5", "bad\xff=1",
}

// formulaLike reports whether a cell, as a program reads it (spaces and
// quotes around it dropped), would start a formula.
func formulaLike(cell string) bool {
	cell = strings.TrimLeftFunc(cell, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
	cell = strings.TrimRightFunc(cell, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
	r, size := utf8.DecodeRuneInString(cell)
	switch r {
	case '=', '@', '\uff1d', '\uff0b', '\uff0d', '\uff20':
		return true
	case '+', '-':
		return !isPlainNumber(cell[size:])
	}
	return false
}

// splitLines splits a file at its line breaks, whatever they are.
func splitLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
}

// splitHonouringQuotes splits a line on delim as Excel does: a cell that
// starts with a quote runs to its closing quote (a doubled quote is one),
// and whatever follows it up to the delimiter is added to it.
func splitHonouringQuotes(line string, delim byte) []string {
	var cells []string
	var b strings.Builder
	quoted, start := false, true
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case start && c == '"':
			quoted, start = true, false
		case quoted && c == '"' && i+1 < len(line) && line[i+1] == '"':
			b.WriteByte('"')
			i++
		case quoted && c == '"':
			quoted = false
		case !quoted && c == delim:
			cells = append(cells, b.String())
			b.Reset()
			start = true
		default:
			b.WriteByte(c)
			start = false
		}
	}
	return append(cells, b.String())
}

// checkNoFormula reads a CSV written by Writer in every dialect, as
// programs that honour quotes and programs that ignore them do, and fails
// on any cell that would start a formula.
func checkNoFormula(t *testing.T, data string) {
	t.Helper()
	for _, delim := range []byte{',', ';', '\t'} {
		for _, line := range splitLines(data) {
			for _, cell := range strings.Split(line, string(delim)) {
				if formulaLike(cell) {
					t.Errorf("split on %q ignoring quotes, line %q has the cell %q", delim, line, cell)
				}
			}
		}
		// Programs that honour quotes keep a quoted line break in its
		// cell: split the file into rows as they do.
		for _, line := range splitRows(data) {
			for _, cell := range splitHonouringQuotes(line, delim) {
				if formulaLike(cell) {
					t.Errorf("split on %q honouring quotes, row %q has the cell %q", delim, line, cell)
				}
			}
		}
	}
}

// splitRows splits a CSV file into rows at the line breaks outside quotes.
func splitRows(s string) []string {
	var rows []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\r', '\n':
			if !quoted {
				rows = append(rows, s[start:i])
				start = i + 1
			}
		}
	}
	return append(rows, s[start:])
}

func TestWriteCSVEveryDialect(t *testing.T) {
	for _, comma := range []rune{',', ';', '\t'} {
		t.Run(fmt.Sprintf("%q", comma), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewCSVWriter(&buf, comma)
			if err != nil {
				t.Fatal(err)
			}
			rows := [][]string{{"a", "b"}}
			for i, c := range hostileCells {
				rows = append(rows, []string{c, hostileCells[(i+1)%len(hostileCells)]})
			}
			for _, r := range rows {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data := strings.TrimPrefix(buf.String(), utf8BOM)
			checkNoFormula(t, data)

			// In its own dialect, the file holds the cells cleaned.
			cr := csv.NewReader(strings.NewReader(data))
			cr.Comma = comma
			got, err := cr.ReadAll()
			if err != nil {
				t.Fatalf("encoding/csv with %q: %v", comma, err)
			}
			var want [][]string
			for _, r := range rows {
				var cells []string
				for _, c := range r {
					c = clean(c, len(cells)+1 < len(r))
					c = strings.ReplaceAll(strings.ReplaceAll(c, "\r\n", "\n"), "\r", "\n")
					cells = append(cells, c)
				}
				want = append(want, cells)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cells read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewCSVWriterDelimiters(t *testing.T) {
	if _, err := NewCSVWriter(&bytes.Buffer{}, '|'); err == nil {
		t.Error("NewCSVWriter('|') = nil error, want one")
	}
}

// FuzzWriteCSV checks that whatever cells are written, in whatever dialect,
// no program reads a formula in the file.
func FuzzWriteCSV(f *testing.F) {
	for i, c := range hostileCells {
		f.Add(c, hostileCells[(i+1)%len(hostileCells)], uint8(i))
	}
	f.Fuzz(func(t *testing.T, a, b string, d uint8) {
		comma := []rune{',', ';', '\t'}[int(d)%3]
		var buf bytes.Buffer
		w, err := NewCSVWriter(&buf, comma)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write([]string{a, b}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkNoFormula(t, strings.TrimPrefix(buf.String(), utf8BOM))
	})
}

// TestNeutraliseIsLinear neutralises cells of a million pieces, which a
// check of each piece to the end of its line made take hours.
func TestNeutraliseIsLinear(t *testing.T) {
	for _, piece := range []string{"-;", "+1;", "-1,", "\t-", "=\n"} {
		cell := strings.Repeat(piece, 1_000_000/len(piece))
		got := neutralise(cell, true)
		want := strings.Count(cell, piece) + len(cell)
		if cell[0] == '\t' {
			want++ // and one at the start
		}
		if len(got) != want {
			t.Errorf("neutralise(%q × %d) has %d bytes, want %d: a quote for each piece", piece, len(cell)/len(piece), len(got), want)
		}
	}
}
