package ingest

import (
	"archive/zip"
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/heavytest"
	"github.com/heraldhq/herald/shared/notify"
)

// countQueue counts the messages sent and keeps none.
type countQueue struct{ n atomic.Int64 }

func (q *countQueue) Send(_ context.Context, bodies [][]byte) error {
	q.n.Add(int64(len(bodies)))
	return nil
}
func (q *countQueue) SendDelayed(ctx context.Context, bodies [][]byte, _ time.Duration) error {
	return q.Send(ctx, bodies)
}
func (q *countQueue) Receive(context.Context, int, time.Duration) ([]notify.QueueMessage, error) {
	return nil, nil
}
func (q *countQueue) Delete(context.Context, string) error                          { return nil }
func (q *countQueue) ChangeVisibility(context.Context, string, time.Duration) error { return nil }

// ingestPeak ingests a send of the file write makes, with the heap
// sampled, and returns the upload and how far the heap grew.
func ingestPeak(t *testing.T, write func(io.Writer) error) (notify.Upload, uint64) {
	t.Helper()
	f := newFixture(t)
	f.g.Dispatch = &countQueue{}
	f.g.Config.MaxBytes = 100 << 20
	file, err := os.Create(filepath.Join(t.TempDir(), "file"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	bw := bufio.NewWriter(file)
	if err := write(bw); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	up := f.upload(notify.UploadPurposeSend, nil)
	if _, err := f.blobs.Put(t.Context(), up.ObjectKey, file, -1); err != nil {
		t.Fatal(err)
	}
	var got notify.Upload
	grew := heavytest.PeakHeap(func() { got = f.ingest(up) })
	return got, grew
}

// TestIngestPeakHeap ingests sends of 250,000 rows with the heap sampled
// (make bench ingests a million, the row limit, and prints its peak; here
// a quarter keeps make test quick): an upload must stay under 150 MB
// whatever the file,
// with both passes, the duplicate check and the queueing, and with a
// workbook's table of text as full as it may be (a unique name a row).
// The heap grows to about twice what is live before the collector runs.
func TestIngestPeakHeap(t *testing.T) {
	heavytest.Skip(t)
	const rows = 250_000
	tests := []struct {
		name  string
		write func(io.Writer) error
		bound uint64
	}{
		{"csv", func(w io.Writer) error {
			io.WriteString(w, "phone,name,offer\n")
			for i := range rows {
				fmt.Fprintf(w, "+346%08d,Nombre Apellido %d,%d%%\n", i, i, i%50)
			}
			return nil
		}, 100 << 20},
		{"xlsx", func(w io.Writer) error {
			zw := zip.NewWriter(w)
			pw, err := zw.Create("xl/workbook.xml")
			if err != nil {
				return err
			}
			io.WriteString(pw, `<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`)
			if pw, err = zw.Create("xl/sharedStrings.xml"); err != nil {
				return err
			}
			io.WriteString(pw, `<sst><si><t>phone</t></si><si><t>name</t></si><si><t>offer</t></si><si><t>10%</t></si>`)
			for i := range rows {
				fmt.Fprintf(pw, "<si><t>Nombre Apellido Largo %d</t></si>", i)
			}
			io.WriteString(pw, `</sst>`)
			if pw, err = zw.Create("xl/worksheets/sheet1.xml"); err != nil {
				return err
			}
			io.WriteString(pw, `<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>`)
			for i := range rows {
				fmt.Fprintf(pw, `<row r="%[1]d"><c r="A%[1]d"><v>%[2]d</v></c><c r="B%[1]d" t="s"><v>%[3]d</v></c><c r="C%[1]d" t="s"><v>3</v></c></row>`, i+2, 34_610_000_000+i, i+4)
			}
			io.WriteString(pw, `</sheetData></worksheet>`)
			return zw.Close()
		}, 140 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, grew := ingestPeak(t, tt.write)
			t.Logf("ingested %d rows; heap grew by %.1f MiB", got.Rows.Valid, float64(grew)/(1<<20))
			if got.Status != notify.UploadQueued || got.Rows.Valid != rows {
				t.Fatalf("upload = %+v, want %d valid rows queued", got, rows)
			}
			if grew > tt.bound {
				t.Errorf("heap grew by %.1f MiB, want at most %d MiB", float64(grew)/(1<<20), tt.bound>>20)
			}
		})
	}
}

// TestFirstRows holds firstRows to a map of the values themselves, over
// values that fill shards unevenly and make them grow, and a reset.
func TestFirstRows(t *testing.T) {
	m := newFirstRows()
	for pass := range 2 {
		want := map[string]int{}
		for i := range 300_000 {
			v := fmt.Sprintf("+346%08d", (i*7919)%200_000) // every value twice or more
			row := i + 2
			first, dup := m.add(v, row)
			if w, ok := want[v]; ok != dup || ok && first != w {
				t.Fatalf("pass %d: add(%q, %d) = %d, %v; want %d, %v", pass, v, row, first, dup, w, ok)
			}
			if !dup {
				want[v] = row
			}
		}
		m.reset()
	}
}
