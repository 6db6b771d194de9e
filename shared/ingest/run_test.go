package ingest

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/notify"
)

// slowBlobs counts the runs that look at a file and takes longer to open
// it than the ingest queue's visibility timeout.
type slowBlobs struct {
	*blobfs.Store
	delay time.Duration
	stats atomic.Int32
}

func (b *slowBlobs) Stat(ctx context.Context, key string) (notify.BlobInfo, error) {
	b.stats.Add(1)
	return b.Store.Stat(ctx, key)
}

func (b *slowBlobs) Open(ctx context.Context, key string) (io.ReadCloser, notify.BlobInfo, error) {
	time.Sleep(b.delay)
	return b.Store.Open(ctx, key)
}

// TestLongIngestIsNotRunTwiceAtOnce: the local mode runs two ingest
// workers on a queue whose message is hidden for a visibility timeout; an
// upload that takes longer than that to ingest keeps its message hidden,
// so the second worker never starts the same upload alongside the first.
func TestLongIngestIsNotRunTwiceAtOnce(t *testing.T) {
	f := newFixture(t)
	blobs := &slowBlobs{Store: f.blobs, delay: 2 * time.Second} // against a 1 s visibility
	f.g.Blobs = blobs
	f.g.Now = time.Now
	up := f.upload(notify.UploadPurposeSend, []byte("phone,name,offer\n+34600000001,Ana,10%\n+34600000002,Luis,20%\n"))
	q, err := boltqueue.Open(filepath.Join(t.TempDir(), "ingest.db"), boltqueue.Options{Visibility: time.Second, MaxReceives: 5, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	body, _ := json.Marshal(Event{Key: up.ObjectKey})
	if err := q.Send(t.Context(), [][]byte{body}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { f.g.Run(ctx, q) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if s, err := q.Stats(); err == nil && s.Visible+s.InFlight+s.Dead == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // long enough for a wrongly visible message to be taken again
	cancel()
	wg.Wait()
	if got := blobs.stats.Load(); got != 1 {
		t.Errorf("the upload was ingested %d times, want once", got)
	}
	got, err := f.store.GetUpload(t.Context(), ws, up.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != notify.UploadQueued || got.Rows.Valid != 2 {
		t.Errorf("upload = %s with %+v, want queued with 2 valid rows", got.Status, got.Rows)
	}
	if n := len(f.queue.recipients(t)); n != 2 {
		t.Errorf("%d recipients queued, want 2", n)
	}
}
