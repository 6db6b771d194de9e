package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
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
	runBatches(b, d, "NS", users)
}
