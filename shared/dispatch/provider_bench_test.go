package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
	"github.com/heraldhq/herald/shared/whatsapp"
)

// BenchmarkDispatchSlowProvider measures dispatch against a provider that
// answers in 50 ms (a fake WhatsApp Cloud API): provider calls must overlap
// for the process to reach 1,000 deliveries/s. Four workers with 32 sends
// in flight each, as the local mode runs. b.N is the number of recipients.
func BenchmarkDispatchSlowProvider(b *testing.B) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.X"}]}`)
	}))
	defer fake.Close()
	wa, err := whatsapp.New(whatsapp.Config{BaseURL: fake.URL, PhoneNumberID: "1", AccessToken: "t",
		HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}})
	if err != nil {
		b.Fatal(err)
	}
	s, err := boltstore.Open(filepath.Join(b.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	users := b.N // each recipient distinct: every one is a provider call
	for i := 0; i < users; i++ {
		id := fmt.Sprintf("u%05d", i)
		if _, err := s.PutUser(ctx, notify.User{WorkspaceID: "ws1", ID: id, Name: id, Phone: fmt.Sprintf("+3460%07d", i), SealKey: seal.NewKey(), CreatedAt: now, UpdatedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	n := notify.Notification{WorkspaceID: "ws1", ID: "NS", Channel: notify.ChannelWhatsApp, Status: notify.StatusQueued,
		Counts: notify.Counts{Total: int64(b.N), Queued: int64(b.N)}, CreatedAt: now,
		Content: notify.Template{Channel: notify.ChannelWhatsApp, Body: "x", WhatsApp: &notify.WhatsAppTemplate{Name: "bill", Language: "es", Category: "utility", Parameters: []string{"name"}}}}
	if err := s.CreateNotification(ctx, n); err != nil {
		b.Fatal(err)
	}
	d := New(s, Senders{WhatsApp: wa}, Options{Now: func() time.Time { return now }, Concurrency: 32})
	var batches [][]Message
	var batch []Message
	for i := 0; i < b.N; i += notify.RecipientsPerMessage {
		var rs []notify.Recipient
		for j := i; j < min(i+notify.RecipientsPerMessage, b.N); j++ {
			rs = append(rs, notify.Recipient{UserID: fmt.Sprintf("u%05d", j%users)})
		}
		batch = append(batch, Message{ID: fmt.Sprint(i), Body: mustJSON(b, notify.DispatchMessage{WorkspaceID: "ws1", NotificationID: "NS", Chunk: fmt.Sprintf("NS:%d", i), Recipients: rs})})
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
				for _, err := range d.Handle(ctx, bt) {
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
