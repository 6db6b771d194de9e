package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/notify"
)

// TestConsumeKeepsLongWorkHidden runs two consumers on a queue whose
// visibility timeout is shorter than one message's work, with a receive
// of several messages done one after the other: each message is handled
// once, neither taken again while it is worked on nor while it waits its
// turn behind the others of its receive.
func TestConsumeKeepsLongWorkHidden(t *testing.T) {
	q, err := boltqueue.Open(filepath.Join(t.TempDir(), "q.db"), boltqueue.Options{Visibility: time.Second, MaxReceives: 5, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	const messages = 3
	var bodies [][]byte
	for i := range messages {
		bodies = append(bodies, fmt.Appendf(nil, "upload-%d", i))
	}
	if err := q.Send(t.Context(), bodies); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	handled := map[string]int{}
	handle := func(ctx context.Context, body []byte) error {
		mu.Lock()
		handled[string(body)]++
		mu.Unlock()
		time.Sleep(1300 * time.Millisecond) // longer than the visibility timeout
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { notify.Consume(ctx, q, messages, "test work", slog.New(slog.DiscardHandler), handle) })
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
	want := map[string]int{"upload-0": 1, "upload-1": 1, "upload-2": 1}
	if diff := cmp.Diff(want, handled); diff != "" {
		t.Errorf("times each message was handled (-want +got):\n%s", diff)
	}
	if s, err := q.Stats(); err != nil || s != (boltqueue.Stats{}) {
		t.Errorf("queue after the work = %+v, %v; want empty", s, err)
	}
}
