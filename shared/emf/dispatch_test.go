package emf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
)

// TestDispatchLinesCarryNoIDs runs an SQS batch through the dispatch
// handler with the Writer as its figures, as the dispatch function does,
// and checks that the lines it flushed hold the figures and none of the
// batch's ids, addresses or text.
func TestDispatchLinesCarryNoIDs(t *testing.T) {
	ctx := context.Background()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const ws, nid = "ws_secretws", "01SECRETNOTIFICATION000000"
	var secrets []string
	var rs []notify.Recipient
	for i := range 30 {
		id, email := fmt.Sprintf("user-secret-%02d", i), fmt.Sprintf("person%02d@secret.example", i)
		u := notify.User{WorkspaceID: ws, ID: id, Name: "Secretname", Email: email, SealKey: seal.NewKey(), CreatedAt: now}
		if i%5 == 0 {
			u.Preferences.Channels = map[notify.Channel]bool{notify.ChannelEmail: false} // skipped, no_consent
		}
		if _, err := store.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			if _, err := store.UpdateUser(ctx, ws, id, func(s *notify.User) error { s.Preferences = u.Preferences; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		secrets = append(secrets, id, email)
		rs = append(rs, notify.Recipient{UserID: id})
	}
	rs = append(rs, notify.Recipient{UserID: "user-secret-ghost"})
	n := notify.Notification{WorkspaceID: ws, ID: nid, Channel: notify.ChannelEmail, Status: notify.StatusQueued,
		Counts: notify.Counts{Total: int64(len(rs)), Queued: int64(len(rs))}, CreatedAt: now,
		Content: notify.Template{Channel: notify.ChannelEmail, Title: "Secret subject", Body: "Secret body for {{name}}"}}
	if err := store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, ws, nid, "Secret", "secret", "ghost")

	var buf bytes.Buffer
	w := New(&buf, Options{Stage: "prod", Now: func() time.Time { return now }})
	d := dispatch.New(store, dispatch.Senders{Email: channel.NewOutbox(store, time.Now)}, dispatch.Options{Metrics: w})
	var batch []dispatch.Received
	for i := 0; i < len(rs); i += 10 {
		body, err := json.Marshal(notify.DispatchMessage{WorkspaceID: ws, NotificationID: nid, Chunk: fmt.Sprintf("%s:%d", nid, i), Recipients: rs[i:min(i+10, len(rs))]})
		if err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("msg-secret-%d", i)
		secrets = append(secrets, id)
		batch = append(batch, dispatch.Received{Message: dispatch.Message{ID: id, Body: body, ReceiveCount: 1, SentAt: time.Now().Add(-3 * time.Second)},
			Queue: "arn:aws:sqs:us-east-1:1:dispatch"})
	}
	if errs := d.HandleSQS(ctx, batch); errors.Join(errs...) != nil {
		t.Fatalf("HandleSQS = %v", errs)
	}
	out := buf.String()
	docs := lines(t, out)
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("EMF lines carry %q:\n%s", s, out)
		}
	}
	for _, tt := range []struct {
		outcome, reason string
		want            float64
	}{{"sent", "", 24}, {"skipped", "no_consent", 6}, {"skipped", "unknown_user", 1}} {
		dims := map[string]string{DimChannel: "email", DimOutcome: tt.outcome}
		if tt.reason != "" {
			dims[DimReason] = tt.reason
		}
		if got, _ := sum(docs, MetricDeliveries, dims); got != tt.want {
			t.Errorf("Deliveries %v = %v, want %v:\n%s", dims, got, tt.want, out)
		}
	}
	if _, n := sum(docs, MetricQueueAge, map[string]string{DimChannel: "email"}); n != len(batch) {
		t.Errorf("%d queue ages, want one per message (%d)", n, len(batch))
	}
	if _, n := sum(docs, MetricProviderLatency, map[string]string{DimChannel: "email"}); n != 24 {
		t.Errorf("%d provider latencies, want one per send (24)", n)
	}
}
