package spreadsheet

import (
	"bytes"
	"errors"
	"strings"
	"testing"

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
		{" =1+1", " =1+1"},
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
	wantStart := "\xEF\xBB\xBFphone,name,status,error\r\n+34600000000,\"Ana, \"\"la jefa\"\"\",'=1+1,\"line1\r\nline2\"\r\n"
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
		{2, []string{"+34600000000", "Ana, \"la jefa\"", "'=1+1", "line1\nline2"}},
		{3, []string{"+34 600 000 000", "ñ 😀", "'@SUM(A1)", "'-2+3"}},
		{4, []string{"-12.5", "'\ttab", "'+cmd|' /C calc'!A0", "a;b"}},
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
		cells := []string{strings.TrimSpace(Neutralise(xmlText(a))), strings.TrimSpace(Neutralise(xmlText(b)))}
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
