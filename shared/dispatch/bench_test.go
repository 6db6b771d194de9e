package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
)

// BenchmarkDispatchToOutbox measures the local mode's dispatch path: four
// workers handling batches of ten 100-recipient messages, with the embedded
// store and the outbox, as `make run` does. b.N is the number of recipients.
func BenchmarkDispatchToOutbox(b *testing.B) {
	s, err := boltstore.Open(filepath.Join(b.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const users = 10000
	for i := 0; i < users; i++ {
		id := fmt.Sprintf("u%05d", i)
		if _, err := s.PutUser(ctx, notify.User{WorkspaceID: "ws1", ID: id, Name: id, Email: id + "@example.com", SealKey: seal.NewKey(), CreatedAt: now, UpdatedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	outbox := channel.NewOutbox(s, func() time.Time { return now })
	d := New(s, Senders{Push: outbox, WebPush: outbox, SMS: outbox, Email: outbox, WhatsApp: outbox}, Options{Now: func() time.Time { return now }})
	n := notify.Notification{WorkspaceID: "ws1", ID: "NB", Channel: notify.ChannelEmail, Status: notify.StatusQueued,
		Counts: notify.Counts{Total: int64(b.N), Queued: int64(b.N)}, Content: notify.Template{Channel: notify.ChannelEmail, Title: "Hi {{name}}", Body: "Hello {{name}}"}, CreatedAt: now}
	if err := s.CreateNotification(ctx, n); err != nil {
		b.Fatal(err)
	}
	runBatches(b, d, "NB", users)
}

// runBatches dispatches b.N recipients of notification nid (users
// u00000… cycled over users ids) as four workers handling batches of ten
// 100-recipient messages, timed, and reports deliveries per second.
func runBatches(b *testing.B, d *Dispatcher, nid string, users int) {
	var batches [][]Message
	var batch []Message
	for i := 0; i < b.N; i += notify.RecipientsPerMessage {
		var rs []notify.Recipient
		for j := i; j < min(i+notify.RecipientsPerMessage, b.N); j++ {
			rs = append(rs, notify.Recipient{UserID: fmt.Sprintf("u%05d", j%users)})
		}
		batch = append(batch, Message{ID: fmt.Sprint(i), Body: mustJSON(b, notify.DispatchMessage{WorkspaceID: "ws1", NotificationID: nid, Chunk: fmt.Sprintf("%s:%d", nid, i), Recipients: rs})})
		if len(batch) == 10 {
			batches = append(batches, batch)
			batch = nil
		}
	}
	if batch != nil {
		batches = append(batches, batch)
	}
	b.ResetTimer()
	work := make(chan []Message)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for bt := range work {
				for _, err := range d.Handle(context.Background(), bt) {
					if err != nil {
						b.Error(err)
					}
				}
			}
		})
	}
	for _, bt := range batches {
		work <- bt
	}
	close(work)
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

func mustJSON(b *testing.B, v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
