package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// writeSendFile writes a send's spreadsheet of rows rows to path, a row at
// a time (constant memory): phone (valid, distinct E.164 Spanish mobiles,
// which the writer keeps as plain numbers), name and offer, the variables
// of the template ingestEnv saves.
func writeSendFile(path string, f spreadsheet.Format, rows int) (int64, error) {
	file, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	bw := bufio.NewWriterSize(file, 256<<10)
	w, err := spreadsheet.NewWriter(bw, f)
	if err != nil {
		return 0, err
	}
	if err := w.Write([]string{"phone", "name", "offer"}); err != nil {
		return 0, err
	}
	cells := make([]string, 3)
	for i := range rows {
		cells[0] = fmt.Sprintf("+346%08d", i)
		cells[1] = "User " + strconv.Itoa(i)
		cells[2] = strconv.Itoa(5+i%50) + "%"
		if err := w.Write(cells); err != nil {
			return 0, err
		}
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	st, err := file.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), file.Close()
}

// ingestEnv is the local mode's ingestion: bbolt store and dispatch queue
// (no fsync, as the local default), blobs on disk, and the SMS template
// of the uploads.
type ingestEnv struct {
	store *boltstore.Store
	blobs *blobfs.Store
	queue *boltqueue.Queue
	g     *ingest.Ingester
	ids   *notify.IDs
}

const (
	ingestWS  = "ws_bench"
	ingestTpl = "tpl_offer"
)

func newIngestEnv(ctx context.Context, dir string) (*ingestEnv, func(), error) {
	store, err := boltstore.Open(filepath.Join(dir, "herald.db"), boltstore.WithNoSync())
	if err != nil {
		return nil, nil, err
	}
	queue, err := boltqueue.Open(filepath.Join(dir, "queue.db"), boltqueue.Options{NoSync: true})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	closeAll := func() { queue.Close(); store.Close() }
	blobs, err := blobfs.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	tpl := notify.Template{WorkspaceID: ingestWS, ID: ingestTpl, Name: "Offer", Channel: notify.ChannelSMS,
		Body: "Hola {{name}}, tienes un {{offer}} de descuento", Variables: []string{"name", "offer"}, Version: 1,
		CreatedAt: now, UpdatedAt: now}
	if err := store.SaveTemplate(ctx, tpl); err != nil {
		closeAll()
		return nil, nil, err
	}
	ids := &notify.IDs{}
	e := &ingestEnv{store: store, blobs: blobs, queue: queue, ids: ids,
		g: &ingest.Ingester{Store: store, Blobs: blobs, Dispatch: queue, IDs: ids,
			Config: ingest.Config{DefaultRegion: "ES", TempDir: dir}}}
	return e, closeAll, nil
}

// upload creates a send upload and stores the file at path as its object,
// streaming it from disk, as the upload URL's PUT would.
func (e *ingestEnv) upload(ctx context.Context, path string) (notify.Upload, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	id := e.ids.New(now)
	up := notify.Upload{WorkspaceID: ingestWS, ID: id, Purpose: notify.UploadPurposeSend, TemplateID: ingestTpl,
		Channel: notify.ChannelSMS, Filename: filepath.Base(path), Status: notify.UploadWaiting,
		ObjectKey: ingest.ObjectKey(ingestWS, id), CreatedBy: "bench", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.store.CreateUpload(ctx, up); err != nil {
		return up, err
	}
	f, err := os.Open(path)
	if err != nil {
		return up, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return up, err
	}
	if _, err := e.blobs.Put(ctx, up.ObjectKey, f, st.Size()); err != nil {
		return up, err
	}
	return up, nil
}

// ingest runs Ingest on up's object and checks the outcome: every row
// valid and queued, rows/100 dispatch messages in the queue.
func (e *ingestEnv) ingest(ctx context.Context, up notify.Upload, rows int) (time.Duration, error) {
	before, err := e.queue.Stats()
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if err := e.g.Ingest(ctx, up.ObjectKey); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	got, err := e.store.GetUpload(ctx, ingestWS, up.ID)
	if err != nil {
		return d, err
	}
	if got.Status != notify.UploadQueued || got.Rows.Valid != rows || got.Rows.Invalid != 0 {
		return d, fmt.Errorf("upload is %s with rows %+v, errors %+v; want queued with %d valid rows", got.Status, got.Rows, got.Errors[:min(len(got.Errors), 3)], rows)
	}
	after, err := e.queue.Stats()
	if err != nil {
		return d, err
	}
	want := (rows + notify.RecipientsPerMessage - 1) / notify.RecipientsPerMessage
	if n := after.Visible - before.Visible; n != want {
		return d, fmt.Errorf("%d dispatch messages queued, want %d", n, want)
	}
	return d, nil
}

// benchIngest ingests a CSV and an XLSX send of rows rows each, in
// process, on the local adapters.
func benchIngest(ctx context.Context, rows int) error {
	dir, err := os.MkdirTemp("", "herald-bench-ingest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env, closeEnv, err := newIngestEnv(ctx, dir)
	if err != nil {
		return err
	}
	defer closeEnv()
	for _, tt := range []struct {
		format spreadsheet.Format
		target time.Duration
	}{
		{spreadsheet.CSV, 5 * time.Second},
		{spreadsheet.XLSX, 15 * time.Second},
	} {
		path := filepath.Join(dir, "list."+string(tt.format))
		size, err := writeSendFile(path, tt.format, rows)
		if err != nil {
			return fmt.Errorf("write %s: %w", tt.format, err)
		}
		up, err := env.upload(ctx, path)
		if err != nil {
			return err
		}
		cpu0 := cpuTime()
		d, err := env.ingest(ctx, up, rows)
		if err != nil {
			return fmt.Errorf("ingest %s: %w", tt.format, err)
		}
		fmt.Printf("%s of %d rows (%.1f MB): validated and queued (%d dispatch messages) in %.2f s (target ≤ %.0f s): %.0f rows/s; process CPU %.2f s\n",
			strings.ToUpper(string(tt.format)), rows, float64(size)/1e6, rows/notify.RecipientsPerMessage, d.Seconds(), tt.target.Seconds(),
			float64(rows)/d.Seconds(), (cpuTime() - cpu0).Seconds())
	}
	return nil
}

// benchIngest1M runs the 1,000,000-row ingestion in a process of its own
// (this program again, with -child ingest1m), so that what earlier parts
// allocated does not count in its peak memory.
func benchIngest1M(ctx context.Context, rows int) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, exe, "-child", "ingest1m", "-ingest1m-rows", strconv.Itoa(rows))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ingest1m process: %w", err)
	}
	return nil
}

// ingest1MChild is the process benchIngest1M starts: it writes a CSV of
// rows rows to disk (a row at a time), stores it as an upload's object
// (streamed), then resets the kernel's peak RSS counter and ingests it,
// sampling the Go heap every 10 ms.
func ingest1MChild(ctx context.Context, rows int) error {
	dir, err := os.MkdirTemp("", "herald-bench-ingest1m-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env, closeEnv, err := newIngestEnv(ctx, dir)
	if err != nil {
		return err
	}
	defer closeEnv()
	path := filepath.Join(dir, "list.csv")
	size, err := writeSendFile(path, spreadsheet.CSV, rows)
	if err != nil {
		return err
	}
	up, err := env.upload(ctx, path)
	if err != nil {
		return err
	}
	// The file lives on disk (and in the page cache), never in this
	// process's memory; the peak is measured from here.
	runtime.GC()
	debug.FreeOSMemory()
	base, _ := procStatus("VmRSS")
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	s := startMemSampler(10 * time.Millisecond)
	d, err := env.ingest(ctx, up, rows)
	peak := s.stop()
	if err != nil {
		return err
	}
	hwm, err := procStatus("VmHWM")
	if err != nil {
		return err
	}
	fmt.Printf("CSV of %d rows (%.1f MB, written to disk first and streamed into the blob store): validated and queued (%d dispatch messages) in %.2f s: %.0f rows/s\n",
		rows, float64(size)/1e6, rows/notify.RecipientsPerMessage, d.Seconds(), float64(rows)/d.Seconds())
	fmt.Printf("peak RSS of the process during the ingest: %.0f MB (target ≤ 200 MB)\n", float64(hwm)/1e6)
	if reset != nil {
		fmt.Println("  note: the peak RSS counter could not be reset, so it also covers writing and storing the file:", reset)
	}
	fmt.Printf("  (VmHWM read after the run: the whole process, Go runtime included, %.0f MB resident before the ingest;\n", float64(base)/1e6)
	fmt.Printf("   sampled every 10 ms: anonymous memory ≤ %.0f MB, file-backed (bbolt's mapped store and queue) ≤ %.0f MB)\n",
		float64(peak.rssAnon)/1e6, float64(peak.rssFile)/1e6)
	fmt.Printf("Go heap peak: %.0f MB of objects (runtime/metrics, sampled every 10 ms; GOGC %s), %.0f MB of memory mapped by the Go runtime\n",
		float64(peak.heap)/1e6, gogc(), float64(peak.goTotal)/1e6)
	return nil
}

func gogc() string {
	if v := os.Getenv("GOGC"); v != "" {
		return v
	}
	return "100"
}

// memPeak is the largest value each sample took.
type memPeak struct {
	heap, goTotal, rssAnon, rssFile uint64
}

type memSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak memPeak
}

// startMemSampler samples the Go heap (runtime/metrics) and the process's
// resident memory (/proc/self/status) every interval until stop.
func startMemSampler(interval time.Duration) *memSampler {
	s := &memSampler{done: make(chan struct{})}
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	take := func() {
		metrics.Read(samples)
		s.peak.heap = max(s.peak.heap, samples[0].Value.Uint64())
		s.peak.goTotal = max(s.peak.goTotal, samples[1].Value.Uint64()-samples[2].Value.Uint64())
		if v, err := procStatus("RssAnon"); err == nil {
			s.peak.rssAnon = max(s.peak.rssAnon, uint64(v))
		}
		if v, err := procStatus("RssFile"); err == nil {
			s.peak.rssFile = max(s.peak.rssFile, uint64(v))
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			take()
			select {
			case <-s.done:
				take()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *memSampler) stop() memPeak {
	close(s.done)
	s.wg.Wait()
	return s.peak
}

// procStatus reads a field of /proc/self/status in bytes (the file says
// kB).
func procStatus(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New(field + " not found in /proc/self/status")
}
