package spreadsheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/heavytest"
)

// deflated is a part compressed ahead of writing, with what its zip entry
// declares (which a hostile file may make lie).
type deflated struct {
	data         []byte
	size         uint64 // unpacked
	crc          uint32
	declaredSize uint64 // 0: size
	declaredComp uint64 // 0: len(data)
}

// repeatDeflate deflates unit repeated times times without compressing it
// times times: a non-final deflate block that refers to nothing before it
// may be repeated, so a gigabyte of XML takes a moment to make.
func repeatDeflate(t testing.TB, prefix, unit, suffix string, times int) deflated {
	t.Helper()
	block := func(s string) []byte {
		var buf bytes.Buffer
		w, err := flate.NewWriter(&buf, flate.BestCompression)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(s))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	// A block of units up to 1 MiB, repeated.
	per := max(1, (1<<20)/len(unit))
	reps := times / per
	body := block(strings.Repeat(unit, per))
	var out bytes.Buffer
	out.Write(block(prefix))
	h := crc32.NewIEEE()
	h.Write([]byte(prefix))
	chunk := []byte(strings.Repeat(unit, per))
	for range reps {
		out.Write(body)
		h.Write(chunk)
	}
	rest := strings.Repeat(unit, times-reps*per) + suffix
	var tail bytes.Buffer
	w, _ := flate.NewWriter(&tail, flate.BestCompression)
	w.Write([]byte(rest))
	w.Close()
	out.Write(tail.Bytes())
	h.Write([]byte(rest))
	return deflated{data: out.Bytes(), size: uint64(len(prefix) + reps*len(chunk) + len(rest)), crc: h.Sum32()}
}

// deflate compresses s as a part.
func deflate(t testing.TB, s string) deflated {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write([]byte(s))
	w.Close()
	return deflated{data: buf.Bytes(), size: uint64(len(s)), crc: crc32.ChecksumIEEE([]byte(s))}
}

// rawWorkbook zips a one-sheet workbook whose parts are given compressed;
// parts not given are the plain workbook's.
func rawWorkbook(t testing.TB, parts map[string]deflated) []byte {
	t.Helper()
	all := map[string]deflated{
		"[Content_Types].xml":        deflate(t, `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`),
		"xl/workbook.xml":            deflate(t, testWorkbook),
		"xl/_rels/workbook.xml.rels": deflate(t, testWorkbookRels),
		"xl/worksheets/sheet1.xml":   deflate(t, sheetXML(`<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"><c r="A2"><v>1</v></c></row>`)),
	}
	for k, v := range parts {
		all[k] = v
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml", "xl/styles.xml", "xl/worksheets/sheet1.xml"} {
		p, ok := all[name]
		if !ok {
			continue
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: p.crc,
			CompressedSize64: uint64(len(p.data)), UncompressedSize64: p.size}
		if p.declaredSize != 0 {
			h.UncompressedSize64 = p.declaredSize
		}
		if p.declaredComp != 0 {
			h.CompressedSize64 = p.declaredComp
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheetOf returns the sheet part of sheetData rows, as repeatDeflate takes
// them.
func sheetOf(t testing.TB, head, unit string, times int) deflated {
	return repeatDeflate(t, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`+head, unit, `</sheetData></worksheet>`, times)
}

const hostileHeader = `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>`

// hostileFile is a file made to take memory or time.
type hostileFile struct {
	name string
	data func(t testing.TB) []byte
	lim  Limits
	want string
	// inflated says the error is marked Inflated.
	inflated bool
}

func hostileFiles() []hostileFile {
	sst := func(t testing.TB, d deflated) []byte {
		return rawWorkbook(t, map[string]deflated{"xl/sharedStrings.xml": d})
	}
	lying := func(d deflated, size, comp uint64) deflated {
		d.declaredSize, d.declaredComp = size, comp
		return d
	}
	return []hostileFile{
		{
			// The first file: 393 KB, the table 255 MiB of <si/>.
			name: "a table of 255 MiB of empty entries",
			data: func(t testing.TB) []byte {
				return sst(t, repeatDeflate(t, `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`, `<si/>`, `</sst>`, 255<<20/5))
			},
			want:     "the text of the workbook unpacks to more than 100 times its size in the file",
			inflated: true,
		},
		{
			name: "a table of 255 MiB of empty entries, its entry declaring the file's size compressed",
			data: func(t testing.TB) []byte {
				d := repeatDeflate(t, `<sst>`, `<si/>`, `</sst>`, 255<<20/5)
				return sst(t, lying(d, 0, 40<<20))
			},
			want:     "the text of the workbook unpacks to more than 100 times its size in the file",
			inflated: true,
		},
		{
			name: "a table declaring 1 KiB that unpacks to 255 MiB",
			data: func(t testing.TB) []byte {
				d := repeatDeflate(t, `<sst>`, `<si/>`, `</sst>`, 255<<20/5)
				return sst(t, lying(d, 1024, 40<<20))
			},
			want: "the workbook is damaged (the text cannot be read)",
		},
		{
			name: "more entries than a sheet within the limits can use",
			data: func(t testing.TB) []byte {
				return sst(t, deflate(t, `<sst>`+strings.Repeat(`<si><t>x</t></si>`, 23)+`</sst>`))
			},
			lim:  Limits{MaxRows: 10, MaxColumns: 2},
			want: "the workbook's table of text has more than 22 entries",
		},
		{
			// The second file: 2 MB, the sheet 2 GiB.
			name: "a sheet of 2 GiB",
			data: func(t testing.TB) []byte {
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": sheetOf(t, hostileHeader, `<row/>`, 2<<30/6)})
			},
			want:     "the first sheet of the workbook is larger than 977 MiB unpacked",
			inflated: true,
		},
		{
			name: "a sheet of 2 GiB declaring 900 MiB, and the file's size compressed",
			data: func(t testing.TB) []byte {
				d := sheetOf(t, hostileHeader, `<row/>`, 2<<30/6)
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": lying(d, 900<<20, 40<<20)})
			},
			want:     "the first sheet of the workbook unpacks to more than 100 times its size in the file",
			inflated: true,
		},
		{
			name: "a sheet declaring 1 KiB that unpacks to 2 GiB",
			data: func(t testing.TB) []byte {
				d := sheetOf(t, hostileHeader, `<row/>`, 2<<30/6)
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": lying(d, 1024, 0)})
			},
			want: "the workbook is damaged (the first sheet cannot be read)",
		},
		{
			name: "a sheet that inflates 130 times",
			data: func(t testing.TB) []byte {
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": padded(t)})
			},
			want:     "the first sheet of the workbook unpacks to more than 100 times its size in the file",
			inflated: true,
		},
		{
			name: "a sheet that inflates 130 times, its entry declaring the file's size compressed",
			data: func(t testing.TB) []byte {
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": lying(padded(t), 0, 40<<20)})
			},
			want:     "the first sheet of the workbook unpacks to more than 100 times its size in the file",
			inflated: true,
		},
		{
			name: "more text than is held",
			data: func(t testing.TB) []byte {
				// 1.7 million entries of 20 letters: 33 MiB of
				// text that does not compress much.
				var b strings.Builder
				b.WriteString(`<sst>`)
				text := randomText(33 << 20)
				for i := 0; i+20 <= len(text); i += 20 {
					b.WriteString(`<si><t>` + text[i:i+20] + `</t></si>`)
				}
				b.WriteString(`</sst>`)
				return sst(t, deflate(t, b.String()))
			},
			want: "the workbook holds more than 32 MiB of text",
		},
		{
			name: "a sheet nested 200,000 deep",
			data: func(t testing.TB) []byte {
				var b strings.Builder
				b.WriteString(hostileHeader)
				for i := range 200_000 {
					fmt.Fprintf(&b, "<e%x>", i)
				}
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": deflate(t, sheetXML(b.String()))})
			},
			want: "the file has a header but no rows",
		},
		{
			name: "an attribute of 2 MiB",
			data: func(t testing.TB) []byte {
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": deflate(t, sheetXML(hostileHeader+`<row r="2" x="`+randomText(2<<20)+`"/>`))})
			},
			want: "the first sheet of the workbook has a cell or element longer than 1 MiB",
		},
		{
			name: "more rows than allowed, a cell each",
			data: func(t testing.TB) []byte {
				var b strings.Builder
				for i := range 2_000 {
					fmt.Fprintf(&b, `<row><c><v>%d</v></c></row>`, i)
				}
				return rawWorkbook(t, map[string]deflated{"xl/worksheets/sheet1.xml": deflate(t, sheetXML(hostileHeader+b.String()))})
			},
			lim:  Limits{MaxRows: 1000},
			want: "the file has more than 1,000 rows",
		},
		{
			name: "more cell formats than Excel allows",
			data: func(t testing.TB) []byte {
				return rawWorkbook(t, map[string]deflated{"xl/styles.xml": deflate(t, `<styleSheet><cellXfs>`+strings.Repeat(`<xf numFmtId="14"/>`, maxStyles+1)+`</cellXfs></styleSheet>`)})
			},
			want:     "the styles of the workbook have more than 65,490 cell formats",
			inflated: true,
		},
	}
}

// readThrough opens data and reads every row, returning the first error
// (one that says so for a file of no rows).
func readThrough(data []byte, lim Limits) error {
	return readFrom(bytes.NewReader(data), int64(len(data)), lim)
}

func readFrom(ra io.ReaderAt, size int64, lim Limits) error {
	r, err := Open(ra, size, lim)
	if err != nil {
		return err
	}
	rows := 0
	for {
		_, _, err := r.Next()
		if err == io.EOF && rows == 0 {
			return fileError("the file has a header but no rows")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rows++
	}
}

// TestHostileXLSX reads files made to take memory or time: each is refused
// with its message, within moments (logged; not asserted).
func TestHostileXLSX(t *testing.T) {
	heavytest.Skip(t)
	for _, tt := range hostileFiles() {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			start := time.Now()
			err := readThrough(data, tt.lim)
			t.Logf("a file of %d KiB refused in %v", len(data)>>10, time.Since(start).Round(time.Millisecond))
			e := wantError(t, err, e0(err), tt.want)
			if e.Inflated != tt.inflated {
				t.Errorf("Inflated = %v, want %v", e.Inflated, tt.inflated)
			}
		})
	}
}

// padded is a sheet of rows of one cell, each its own number, padded with
// elements that are not read to inflate some 130 times.
func padded(t testing.TB) deflated {
	var b strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&b, `<row r="%d"><c r="A%[1]d"><v>%[1]d</v></c>%s</row>`, i+2, strings.Repeat(`<x/>`, 400))
	}
	return deflate(t, sheetXML(hostileHeader+b.String()))
}

// e0 is the row of err, for tests that do not care about it.
func e0(err error) int {
	if e, ok := err.(*Error); ok {
		return e.Row
	}
	return 0
}

// TestHostileXLSXPeakHeap reads every hostile file with the heap sampled:
// none may make it grow by more than the table of text it may hold
// (stringsMemory) and the little a sheet takes as it streams, twice over,
// as the collector lets it.
func TestHostileXLSXPeakHeap(t *testing.T) {
	heavytest.Skip(t)
	const bound = 2*stringsMemory + 8<<20
	for _, tt := range hostileFiles() {
		// From a file, as ingestion reads them: the file is not on the
		// heap, and does not set the collector's pace.
		f, err := os.CreateTemp(t.TempDir(), "hostile-*.xlsx")
		if err != nil {
			t.Fatal(err)
		}
		data := tt.data(t)
		if _, err := f.Write(data); err != nil {
			t.Fatal(err)
		}
		size := int64(len(data))
		data = nil
		grew := heavytest.PeakHeap(func() { err = readFrom(f, size, tt.lim) })
		f.Close()
		t.Logf("%s: heap grew by %.1f MiB", tt.name, mb(grew))
		if err == nil {
			t.Errorf("%s: read without error", tt.name)
		}
		if grew > bound {
			t.Errorf("%s: heap grew by %.1f MiB, want at most %.0f MiB", tt.name, mb(grew), mb(uint64(bound)))
		}
	}
}

// TestHostileCSV reads CSV files made to take memory or time, of the most
// an upload may be (50 MB): each is refused with its message, in constant
// memory.
func TestHostileCSV(t *testing.T) {
	heavytest.Skip(t)
	const size = 50_000_000
	tests := []struct {
		name string
		data func() []byte
		row  int
		want string
	}{
		{
			name: "one line",
			data: func() []byte { return []byte("phone," + strings.Repeat("x", size)) },
			row:  1,
			want: "row 1 has a line longer than 1 MiB",
		},
		{
			name: "a quote never closed",
			data: func() []byte {
				return []byte("phone,name\n1,\"" + strings.Repeat(strings.Repeat("x", 99)+"\n", size/100))
			},
			row:  2,
			want: "row 2 is longer than 2,097,920 bytes; check for a quote",
		},
		{
			name: "empty cells",
			data: func() []byte {
				return []byte("phone,name\n" + strings.Repeat(strings.Repeat(",", 1000)+"\n", size/1001))
			},
			want: "the file has a header but no rows",
		},
		{
			name: "blank lines",
			data: func() []byte { return []byte("phone,name\n" + strings.Repeat("\n", size)) },
			want: "the file has a header but no rows",
		},
		{
			name: "a cell of a megabyte",
			data: func() []byte { return []byte("phone,name\n1,\"" + strings.Repeat("x", 1<<20-100) + "\"\n") },
			row:  2,
			want: `row 2, column "name" has a cell of 1,048,476 bytes`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.CreateTemp(t.TempDir(), "hostile-*.csv")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			data := tt.data()
			if _, err := f.Write(data); err != nil {
				t.Fatal(err)
			}
			n := int64(len(data))
			data = nil
			start := time.Now()
			grew := heavytest.PeakHeap(func() { err = readFrom(f, n, Limits{}) })
			t.Logf("refused in %v; heap grew by %.1f MiB", time.Since(start).Round(time.Millisecond), mb(grew))
			wantError(t, err, tt.row, tt.want)
			if grew > 16<<20 {
				t.Errorf("heap grew by %.1f MiB, want at most 16 MiB", mb(grew))
			}
		})
	}
}
