package spreadsheet

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// row is a data row as Next returns it.
type row struct {
	N     int
	Cells []string
}

// readAll opens data and reads every row, copying the reused slices.
func readAll(data []byte, lim Limits) (header []string, rows []row, err error) {
	r, err := Open(bytes.NewReader(data), int64(len(data)), lim)
	if err != nil {
		return nil, nil, err
	}
	for {
		cells, n, err := r.Next()
		if err == io.EOF {
			return r.Header(), rows, nil
		}
		if err != nil {
			return r.Header(), rows, err
		}
		rows = append(rows, row{n, append([]string(nil), cells...)})
	}
}

// wantError checks that err is a *Error about row whose message holds msg.
func wantError(t *testing.T, err error, row int, msg string) *Error {
	t.Helper()
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("error = %v (%T), want a *Error containing %q", err, err, msg)
	}
	if e.Row != row || !strings.Contains(e.Message, msg) {
		t.Fatalf("error = {Row: %d, Message: %q}, want {Row: %d, Message containing %q}", e.Row, e.Message, row, msg)
	}
	if e.Error() != e.Message {
		t.Errorf("Error() = %q, want the message %q", e.Error(), e.Message)
	}
	return e
}

func TestOpenSniffsContent(t *testing.T) {
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[10] = 0 // whatever the seed, there is a NUL
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "the file is empty"},
		{"only a byte order mark", []byte("\xEF\xBB\xBF"), "the file is empty"},
		{"only whitespace", []byte("  \r\n\n \t \n"), "the file is empty"},
		{"only blank rows", []byte(",,\n , \n\t,\n"), "the file is empty"},
		{"xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 600)...), "this is an old Excel 97-2003 .xls file"},
		{"utf-16 little endian", []byte("\xFF\xFEp\x00h\x00o\x00n\x00e\x00\n\x00"), "UTF-16"},
		{"utf-16 big endian", []byte("\xFE\xFF\x00p\x00h\x00o\x00n\x00e\x00\n"), "UTF-16"},
		{"utf-16 without byte order mark", []byte("p\x00h\x00o\x00n\x00e\x00\r\x00\n\x001\x002\x00"), "UTF-16"},
		{"random bytes", random, "this is not a CSV or XLSX file (binary content)"},
		{"nul in text", []byte("phone\n+34600000000\x00\n"), "this is not a CSV or XLSX file (binary content)"},
		{"pdf", []byte("%PDF-1.7\nphone,name\n"), "binary content"},
		{"control characters", bytes.Repeat([]byte("a\x01\x02\x03"), 100), "binary content"},
		{"zip that is not a workbook", zipOf(t, map[string]string{"hello.txt": "hi"}), "this is a zip file, not an Excel workbook"},
		{"docx", zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": "<document/>"}), "this is a Word document"},
		{"ods", zipOf(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}), "OpenDocument"},
		{"xlsb", zipOf(t, map[string]string{"xl/workbook.bin": "x"}), ".xlsb"},
		{"damaged zip", []byte("PK\x03\x04 this is not really a zip file"), "damaged zip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(tt.data, Limits{})
			wantError(t, err, 0, tt.want)
		})
	}
}

func TestOpenFormat(t *testing.T) {
	tests := []struct {
		name  string
		data  []byte
		want  Format
		delim rune
	}{
		{"csv", []byte("phone\n1\n"), CSV, ','},
		{"csv with semicolons", []byte("phone;name\n1;a\n"), CSV, ';'},
		{"csv with tabs", []byte("phone\tname\n1\ta\n"), CSV, '\t'},
		// The content decides, whatever the upload was called.
		{"xlsx", sheetZip(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>`), XLSX, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)), Limits{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got := r.Format(); got != tt.want {
				t.Errorf("Format() = %q, want %q", got, tt.want)
			}
			if got := r.Delimiter(); got != tt.delim {
				t.Errorf("Delimiter() = %q, want %q", got, tt.delim)
			}
		})
	}
}

// failingReaderAt fails every read, as a broken disk or network would.
type failingReaderAt struct{}

var errDisk = errors.New("disk on fire")

func (failingReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errDisk }

func TestOpenIOErrorIsNotAFileError(t *testing.T) {
	_, err := Open(failingReaderAt{}, 100, Limits{})
	if !errors.Is(err, errDisk) {
		t.Fatalf("Open = %v, want it to wrap %v", err, errDisk)
	}
	if _, ok := errors.AsType[*Error](err); ok {
		t.Errorf("Open = %#v, a *Error; an I/O failure is not the file's fault", err)
	}
}

func TestNextIsStickyAndHeaderIsACopy(t *testing.T) {
	data := []byte("a,b\n1,2\n3,\"x\n")
	r, err := Open(bytes.NewReader(data), int64(len(data)), Limits{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	r.Header()[0] = "changed"
	if diff := cmp.Diff([]string{"a", "b"}, r.Header()); diff != "" {
		t.Errorf("Header() after changing a copy (-want +got):\n%s", diff)
	}
	if _, _, err := r.Next(); err != nil {
		t.Fatalf("Next: %v", err)
	}
	_, _, err1 := r.Next()
	_, _, err2 := r.Next()
	wantError(t, err1, 3, "row 3")
	if err2 != err1 {
		t.Errorf("Next after an error = %v, want the same error %v", err2, err1)
	}
}

func TestColumnLetter(t *testing.T) {
	tests := map[int]string{0: "A", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"}
	for i, want := range tests {
		if got := ColumnLetter(i); got != want {
			t.Errorf("ColumnLetter(%d) = %q, want %q", i, got, want)
		}
		if got, ok := columnOf([]byte(want + "7")); !ok || got != i+1 {
			t.Errorf("columnOf(%q) = %d, %t, want %d, true", want+"7", got, ok, i+1)
		}
	}
}

func TestGroup(t *testing.T) {
	tests := map[int]string{0: "0", 999: "999", 1000: "1,000", 256: "256", 1_000_000: "1,000,000", 12345678: "12,345,678"}
	for n, want := range tests {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}

// FuzzRead checks that no input makes the Reader panic or break its
// promises: rows are non-blank, trimmed and within the limits, row numbers
// increase, and every failure is either a *Error or io.EOF.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		"phone,name\n+34600000000,Ana\n",
		"a;b\n\"x\"\"y\";\"1\n2\"\n\n",
		"sep=\t\na\tb\n1\t2\n",
		"a\r1\r\"2\r3\"\r",
		"\xEF\xBB\xBFa\n\"",
	} {
		f.Add([]byte(seed))
	}
	f.Add(sheetZip(f, `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"><c r="A2"><v>1</v></c><c r="C2" t="b"><v>1</v></c></row>`))
	f.Fuzz(func(t *testing.T, data []byte) { checkReader(t, data) })
}

// FuzzReadXLSX fuzzes the XML of a workbook's sheet, shared strings and
// styles, inside a zip that is valid.
func FuzzReadXLSX(f *testing.F) {
	f.Add(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><r><t>b</t></r></is></c></row><row r="2"><c r="A2" s="1"><v>45356.5</v></c><c t="s"><v>1</v></c></row>`,
		`<sst><si><t>phone</t></si><si><r><t>a_x000D_</t></r><rPh><t>x</t></rPh></si></sst>`,
		`<styleSheet><numFmts><numFmt numFmtId="164" formatCode="yyyy-mm-dd h:mm"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/></cellXfs></styleSheet>`)
	f.Fuzz(func(t *testing.T, sheetData, sst, styles string) {
		checkReader(t, workbookZip(t, map[string]string{
			"xl/worksheets/sheet1.xml": sheetXML(sheetData),
			"xl/sharedStrings.xml":     sst,
			"xl/styles.xml":            styles,
		}))
	})
}

// checkReader reads data through a Reader, failing if it breaks a promise.
func checkReader(t *testing.T, data []byte) {
	t.Helper()
	lim := Limits{MaxRows: 50, MaxColumns: 8, MaxCellBytes: 64}
	r, err := Open(bytes.NewReader(data), int64(len(data)), lim)
	if err != nil {
		if _, ok := errors.AsType[*Error](err); !ok {
			t.Fatalf("Open = %v (%T), want a *Error", err, err)
		}
		return
	}
	if h := r.Header(); len(h) == 0 || len(h) > lim.MaxColumns || h[len(h)-1] == "" {
		t.Fatalf("Header() = %q", h)
	}
	last := 0
	for {
		cells, n, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("Next = %v (%T), want a *Error", err, err)
			}
			return
		}
		if n <= last {
			t.Fatalf("row %d after row %d", n, last)
		}
		last = n
		if len(cells) == 0 || len(cells) > lim.MaxColumns || cells[len(cells)-1] == "" {
			t.Fatalf("row %d = %q", n, cells)
		}
		for _, c := range cells {
			if len(c) > lim.MaxCellBytes || c != strings.TrimSpace(c) || c != StripControls(c) {
				t.Fatalf("row %d has cell %q", n, c)
			}
		}
	}
}
