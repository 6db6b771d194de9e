package spreadsheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/heraldhq/herald/shared/heavytest"
)

// writeCSVRows writes a header and n rows of phone,name,offer.
func writeCSVRows(w io.Writer, n int) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("phone,name,offer\r\n")
	b := make([]byte, 0, 64)
	for i := range n {
		b = append(b[:0], "+346"...)
		b = strconv.AppendInt(b, int64(10_000_000+i), 10)
		b = append(b, ",Nombre Apellido "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ",\"Oferta 10%, válida\"\r\n"...)
		bw.Write(b)
	}
	return bw.Flush()
}

// countRows reads every row of r, failing on any error.
func countRows(tb testing.TB, r io.ReaderAt, size int64) int {
	rd, err := Open(r, size, Limits{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	n := 0
	for {
		_, _, err := rd.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatalf("Next: %v", err)
		}
		n++
	}
}

func benchmarkRead(b *testing.B, data []byte, rows int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if got := countRows(b, bytes.NewReader(data), int64(len(data))); got != rows {
			b.Fatalf("read %d rows, want %d", got, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkReadCSV100k(b *testing.B) {
	var buf bytes.Buffer
	if err := writeCSVRows(&buf, 100_000); err != nil {
		b.Fatal(err)
	}
	benchmarkRead(b, buf.Bytes(), 100_000)
}

func BenchmarkReadXLSX100k(b *testing.B) {
	// As Excel saves it: text in the shared strings table, phones as
	// numbers.
	b.Run("shared strings", func(b *testing.B) {
		f := excelize.NewFile()
		defer f.Close()
		if err := f.SetSheetRow("Sheet1", "A1", &[]any{"phone", "name", "offer"}); err != nil {
			b.Fatal(err)
		}
		row := make([]any, 3)
		for i := range 100_000 {
			cell := "A" + strconv.Itoa(i+2)
			row[0], row[1], row[2] = 34_610_000_000+i, "Nombre Apellido "+strconv.Itoa(i), "Oferta 10%, válida"
			if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
				b.Fatal(err)
			}
		}
		buf, err := f.WriteToBuffer()
		if err != nil {
			b.Fatal(err)
		}
		benchmarkRead(b, buf.Bytes(), 100_000)
	})
	// As streaming writers (and this package's Writer) save it: inline
	// strings.
	b.Run("inline strings", func(b *testing.B) {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, XLSX)
		if err != nil {
			b.Fatal(err)
		}
		w.Write([]string{"phone", "name", "offer"})
		for i := range 100_000 {
			w.Write([]string{"+346" + strconv.Itoa(10_000_000+i), "Nombre Apellido " + strconv.Itoa(i), "Oferta 10%, válida"})
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		benchmarkRead(b, buf.Bytes(), 100_000)
	})
}

// TestReadCSVMillionRowsPeakHeap reads a CSV of 1,000,000 rows from a file,
// sampling the heap: memory must not grow with the file.
func TestReadCSVMillionRowsPeakHeap(t *testing.T) {
	heavytest.Skip(t)
	const rows = 1_000_000
	path := filepath.Join(t.TempDir(), "million.csv")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := writeCSVRows(file, rows); err != nil {
		t.Fatal(err)
	}
	info, err := file.Stat()
	if err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := base
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	})
	start := time.Now()
	got := countRows(t, file, info.Size())
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()

	if got != rows {
		t.Fatalf("read %d rows, want %d", got, rows)
	}
	growth := peak - base
	t.Logf("read %d rows (%d MB) in %v; peak heap %.1f MB (%.1f MB above the %.1f MB before)",
		rows, info.Size()>>20, elapsed.Round(time.Millisecond), mb(peak), mb(growth), mb(base))
	if growth > 100<<20 {
		t.Errorf("peak heap grew by %.1f MB reading %d rows, want under 100 MB", mb(growth), rows)
	}
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// writeXLSXRows writes a workbook as Excel saves one: a header and n rows
// of a phone number, a name of its own and an offer all rows share, the
// text in the table of shared strings.
func writeXLSXRows(w io.Writer, n int) error {
	zw := zip.NewWriter(w)
	part := func(name, body string) error {
		pw, err := zw.Create(name)
		if err != nil {
			return err
		}
		_, err = io.WriteString(pw, body)
		return err
	}
	if err := part("xl/workbook.xml", testWorkbook); err != nil {
		return err
	}
	if err := part("xl/_rels/workbook.xml.rels", testWorkbookRels); err != nil {
		return err
	}
	pw, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(pw)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>phone</t></si><si><t>name</t></si><si><t>offer</t></si><si><t>Oferta 10%, válida</t></si>`)
	for i := range n {
		fmt.Fprintf(bw, "<si><t>Nombre Apellido %d</t></si>", i)
	}
	bw.WriteString(`</sst>`)
	if err := bw.Flush(); err != nil {
		return err
	}
	if pw, err = zw.Create("xl/worksheets/sheet1.xml"); err != nil {
		return err
	}
	bw = bufio.NewWriter(pw)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
		`<row r="1" spans="1:3"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>`)
	for i := range n {
		r := i + 2
		fmt.Fprintf(bw, `<row r="%d" spans="1:3" x14ac:dyDescent="0.25"><c r="A%[1]d"><v>%[2]d</v></c><c r="B%[1]d" t="s"><v>%[3]d</v></c><c r="C%[1]d" t="s"><v>3</v></c></row>`,
			r, 34_610_000_000+i, i+4)
	}
	bw.WriteString(`</sheetData></worksheet>`)
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

// TestReadXLSXMillionRows reads a workbook of 1,000,000 rows, the row
// limit, as Excel saves it: the bounds on what a workbook may unpack to
// must let it through, and memory must not grow with it beyond its table
// of text.
func TestReadXLSXMillionRows(t *testing.T) {
	heavytest.Skip(t)
	const rows = 1_000_000
	file, err := os.Create(filepath.Join(t.TempDir(), "million.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if err := writeXLSXRows(file, rows); err != nil {
		t.Fatal(err)
	}
	info, err := file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	start := time.Now()
	grew := heavytest.PeakHeap(func() { got = countRows(t, file, info.Size()) })
	if got != rows {
		t.Fatalf("read %d rows, want %d", got, rows)
	}
	t.Logf("read %d rows (%d MB) in %v; heap grew by %.1f MiB", rows, info.Size()>>20, time.Since(start).Round(time.Millisecond), mb(grew))
	if bound := uint64(2*stringsMemory + 8<<20); grew > bound {
		t.Errorf("heap grew by %.1f MiB reading %d rows, want at most %.0f MiB", mb(grew), rows, mb(bound))
	}
}
