package webhook

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// BenchmarkWhatsAppCallbacks measures signed WhatsApp status callbacks
// handled per second on the embedded store: each moves one delivery
// forward (sent → delivered), with its signature checked. b.N callbacks.
func BenchmarkWhatsAppCallbacks(b *testing.B) {
	store := openStore(b)
	now := time.Now().UTC().Truncate(time.Millisecond)
	n := notify.Notification{WorkspaceID: "ws1", ID: "NW", Channel: notify.ChannelWhatsApp, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: int64(b.N), Sent: int64(b.N)}, CreatedAt: now, Content: notify.Template{Body: "x"}}
	bodies := make([]string, b.N)
	var ds []notify.Delivery
	for i := range b.N {
		key := fmt.Sprintf("u%07d", i)
		ds = append(ds, notify.Delivery{WorkspaceID: "ws1", NotificationID: "NW", Key: key, UserID: key, Channel: notify.ChannelWhatsApp, Status: notify.DeliverySent, CreatedAt: now, UpdatedAt: now})
		bodies[i] = statusBody(b, status(key, "delivered", now.Unix(), 0))
	}
	seedNotification(b, store, n, ds)
	h := &WhatsApp{AppSecret: secret, Store: store, Log: slog.New(slog.DiscardHandler)}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			body := bodies[i%len(bodies)]
			i += 7
			req := httptest.NewRequest("POST", "/webhooks/whatsapp", strings.NewReader(body))
			req.Header.Set("X-Hub-Signature-256", sign(body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("callback = %d", w.Code)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
}
