package dispatch

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/dispatch/dispatchtest"
	"github.com/heraldhq/herald/shared/notify"
)

// endpointErr is a send error of the recipient's own endpoint, as
// webpush.Error is for an unreachable subscription.
type endpointErr struct{ reason string }

func (e endpointErr) Error() string           { return "post to push service: " + e.reason }
func (e endpointErr) RecipientReason() string { return e.reason }

// settled checks the invariant of a finished send: counts equal to the
// deliveries by status, nothing queued, a final status.
func (f *fixture) settled(nid string) {
	f.t.Helper()
	if err := dispatchtest.Settled(context.Background(), f.store, "ws1", nid); err != nil {
		f.t.Error(err)
	}
}

// receive is msg as handed out for the receive-th time.
func receive(msg Message, receive int) []Message {
	msg.ReceiveCount = receive
	return []Message{msg}
}

// TestUnreachableRecipientFailsAfterItsAttempts: one recipient whose Web
// Push endpoint refuses connections does not hold up the others of its
// message: they are sent at once and never again, and on its third
// receive the dead one is recorded failed with its reason, the counts are
// applied and the notification completes.
func TestUnreachableRecipientFailsAfterItsAttempts(t *testing.T) {
	f := newFixture(t)
	dev := []notify.Device{{ID: "d1", Kind: notify.DeviceWebPush, Subscription: &notify.WebPushSubscription{Endpoint: "https://push.example/x"}}}
	ids := []string{"ana", "dead", "luis"}
	var rs []notify.Recipient
	for _, id := range ids {
		f.user(notify.User{ID: id, Name: id, PushPermission: notify.PermissionAllowed, Devices: dev})
		rs = append(rs, notify.Recipient{UserID: id})
	}
	f.rec.transient["dead"] = endpointErr{"unreachable"}
	n := f.notification("NW", notify.ChannelWebPush, notify.Template{Title: "Hi", Body: "Hi {{name}}"}, len(rs))
	d := f.dispatcher(f.store)
	msg := message(t, n.ID, 0, rs...)
	for r := 1; r <= 2; r++ {
		if errs := d.Handle(context.Background(), receive(msg, r)); errs[0] == nil {
			t.Fatalf("receive %d: Handle = nil, want the unreachable recipient retried", r)
		}
	}
	if errs := d.Handle(context.Background(), receive(msg, 3)); errs[0] != nil {
		t.Fatalf("receive 3: Handle = %v, want the message done", errs[0])
	}
	if diff := cmp.Diff(map[string]int{"ana": 1, "luis": 1}, f.rec.sent); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	got := map[string]string{}
	for k, dl := range f.deliveries(n.ID) {
		got[k] = string(dl.Status) + " " + dl.Reason
	}
	if diff := cmp.Diff(map[string]string{"ana": "sent ", "dead": "failed unreachable", "luis": "sent "}, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	f.settled(n.ID)
	if c, _ := f.counts(n.ID); c != (notify.Counts{Total: 3, Sent: 2, Failed: 1}) {
		t.Errorf("counts = %+v, want 2 sent and 1 failed", c)
	}
	if !strings.Contains(f.logs.String(), "recipients failed after their attempts") {
		t.Errorf("logs = %s, want the give-up logged", f.logs)
	}
}

// TestGivenUpChannelFallsBack: a recipient given up on the primary channel
// is tried on the fallback channel, as a permanent failure would be.
func TestGivenUpChannelFallsBack(t *testing.T) {
	f := newFixture(t)
	dev := []notify.Device{{ID: "d1", Kind: notify.DeviceWebPush, Subscription: &notify.WebPushSubscription{Endpoint: "https://push.example/x"}}}
	f.user(notify.User{ID: "ana", Name: "Ana", Email: "ana@example.com", PushPermission: notify.PermissionAllowed, Devices: dev})
	n := notify.Notification{WorkspaceID: "ws1", ID: "NF", Channel: notify.ChannelWebPush, Fallback: []notify.Channel{notify.ChannelEmail},
		Status: notify.StatusQueued, Counts: notify.Counts{Total: 1, Queued: 1}, CreatedAt: now,
		Content: notify.Template{Channel: notify.ChannelWebPush, Title: "Hi", Body: "Hi {{name}}"}}
	if err := f.store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	d := New(f.store, Senders{WebPush: webPushDown{}, Email: f.rec}, Options{Now: func() time.Time { return now }, NotFoundWait: time.Millisecond})
	msg := message(t, n.ID, 0, notify.Recipient{UserID: "ana"})
	if errs := d.Handle(context.Background(), receive(msg, 1)); errs[0] == nil {
		t.Fatal("receive 1: Handle = nil, want a retry")
	}
	if errs := d.Handle(context.Background(), receive(msg, 3)); errs[0] != nil {
		t.Fatalf("receive 3: %v", errs[0])
	}
	if got := f.deliveries(n.ID)["ana"]; got.Channel != notify.ChannelEmail || got.Status != notify.DeliverySent {
		t.Errorf("delivery = %s %s %q, want sent by email", got.Channel, got.Status, got.Reason)
	}
	f.settled(n.ID)
}

// webPushDown fails every web push at the recipient's endpoint.
type webPushDown struct{}

func (webPushDown) SendWebPush(context.Context, channel.WebPushMessage) (channel.Receipt, error) {
	return channel.Receipt{}, endpointErr{"unreachable"}
}

// TestLastReceiveSettles: a provider's outage (not the recipient's fault)
// is retried while the message has receives left; on its last receive
// what still fails is recorded failed with dispatch_failed, the counts are
// applied and the notification completes, instead of the message going to
// the dead-letter queue with its counts never applied.
func TestLastReceiveSettles(t *testing.T) {
	f := newFixture(t)
	rs := []notify.Recipient{{Address: "+34600000001"}, {Address: "+34600000002"}, {Address: "+34600000003"}}
	n := f.notification("NL", notify.ChannelSMS, notify.Template{Body: "Hi"}, len(rs))
	f.rec.transient["addr#+34600000002"] = errors.New("503 from provider")
	d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }, NotFoundWait: time.Millisecond, MaxReceives: 5,
		Log: slog.New(slog.NewJSONHandler(f.logs, nil))})
	msg := message(t, n.ID, 0, rs...)
	for r := 1; r <= 4; r++ {
		if errs := d.Handle(context.Background(), receive(msg, r)); errs[0] == nil {
			t.Fatalf("receive %d: Handle = nil, want a retry while receives are left", r)
		}
	}
	if c, st := f.counts(n.ID); c.Queued != 3 || st != notify.StatusSending {
		t.Fatalf("before the last receive: %+v %s, want nothing counted yet", c, st)
	}
	if errs := d.Handle(context.Background(), receive(msg, 5)); errs[0] != nil {
		t.Fatalf("last receive: %v", errs[0])
	}
	if got := f.deliveries(n.ID)["addr#+34600000002"]; got.Status != notify.DeliveryFailed || got.Reason != ReasonDispatchFailed {
		t.Errorf("the recipient that kept failing: %s %q, want failed %s", got.Status, got.Reason, ReasonDispatchFailed)
	}
	f.settled(n.ID)
	if diff := cmp.Diff(map[string]int{"addr#+34600000001": 1, "addr#+34600000003": 1}, f.rec.sent); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	if logs := f.logs.String(); !strings.Contains(logs, "dispatch message settled on its last receive") || strings.Contains(logs, "3460000000") {
		t.Errorf("logs = %s, want the settle logged with ids only", logs)
	}
}

// TestDeadlineOnTheLastReceive: when the invocation has no time left to
// send, a last receive records what is left failed rather than leaving it
// for the dead-letter queue; an earlier receive retries it.
func TestDeadlineOnTheLastReceive(t *testing.T) {
	for _, tt := range []struct {
		receive  int
		wantDone bool
	}{{1, false}, {5, true}} {
		f := newFixture(t)
		n := f.notification("ND", notify.ChannelSMS, notify.Template{Body: "Hi"}, 1)
		d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }, NotFoundWait: time.Millisecond, MaxReceives: 5})
		ctx, cancel := context.WithTimeout(context.Background(), sendMargin/2) // less than the margin sends keep
		errs := d.Handle(ctx, receive(message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"}), tt.receive))
		cancel()
		if (errs[0] == nil) != tt.wantDone {
			t.Errorf("receive %d: Handle = %v, want done %t", tt.receive, errs[0], tt.wantDone)
		}
		if len(f.rec.sent) != 0 {
			t.Errorf("receive %d: sent %v with no time left", tt.receive, f.rec.sent)
		}
		if tt.wantDone {
			f.settled(n.ID)
		}
	}
}

// TestSettleDeadLetters: a message that reached the dead-letter queue
// (its last receive crashed) is settled: nothing is sent, what no rule
// skips fails with dispatch_failed, what was recorded before stays, the
// counts add up and the notification completes. Sent again (a redrive),
// it sends nothing and changes nothing.
func TestSettleDeadLetters(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "ana", Name: "Ana", Phone: "+34600000001"})
	f.user(notify.User{ID: "optout", Name: "Eva", Phone: "+34600000002", Preferences: notify.Preferences{Channels: map[notify.Channel]bool{notify.ChannelSMS: false}}})
	rs := []notify.Recipient{{UserID: "ana"}, {UserID: "optout"}, {UserID: "gone"}, {Address: "+34600000009"}, {Address: "+34600000008"}}
	n := f.notification("NS", notify.ChannelSMS, notify.Template{Body: "Hi"}, len(rs))
	d := f.dispatcher(f.store)
	msg := message(t, n.ID, 0, rs...)
	// An earlier receive sent one recipient before the process died.
	if _, err := f.store.RecordDeliveries(context.Background(), []notify.Delivery{{WorkspaceID: "ws1", NotificationID: n.ID, Key: "addr#+34600000008",
		Channel: notify.ChannelSMS, Status: notify.DeliverySent, Chunk: "NS:0", CreatedAt: now, UpdatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if errs := d.Settle(context.Background(), receive(msg, 6)); errs[0] != nil {
		t.Fatalf("Settle: %v", errs[0])
	}
	if len(f.rec.sent) != 0 {
		t.Errorf("Settle sent %v", f.rec.sent)
	}
	got := map[string]string{}
	for k, dl := range f.deliveries(n.ID) {
		got[k] = string(dl.Status) + " " + dl.Reason
	}
	want := map[string]string{
		"ana":               "failed dispatch_failed",
		"optout":            "skipped " + notify.ReasonNoConsent,
		"gone":              "skipped " + notify.ReasonUnknownUser,
		"addr#+34600000009": "failed dispatch_failed",
		"addr#+34600000008": "sent ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	f.settled(n.ID)
	before, _ := f.counts(n.ID)
	if errs := d.Handle(context.Background(), receive(msg, 1)); errs[0] != nil {
		t.Fatalf("redriven message: %v", errs[0])
	}
	if after, _ := f.counts(n.ID); len(f.rec.sent) != 0 || after != before {
		t.Errorf("redriven message sent %v, counts %+v → %+v; want nothing", f.rec.sent, before, after)
	}
	if !strings.Contains(f.logs.String(), "dead-lettered dispatch message settled") {
		t.Errorf("logs = %s, want the settle logged", f.logs)
	}
}

// TestSettleCancelled: a cancelled notification whose chunk got stuck
// (dead-lettered) still ends with nothing queued: the chunk's recipients
// are skipped as cancelled, and the status stays cancelled.
func TestSettleCancelled(t *testing.T) {
	f := newFixture(t)
	n := f.notification("NC", notify.ChannelSMS, notify.Template{Body: "Hi"}, 2)
	f.rec.transient["addr#+34600000002"] = errors.New("provider down")
	d := f.dispatcher(f.store)
	msg := message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"}, notify.Recipient{Address: "+34600000002"})
	if errs := d.Handle(context.Background(), receive(msg, 1)); errs[0] == nil {
		t.Fatal("Handle = nil, want a retry")
	}
	if _, err := f.store.SetNotificationStatus(context.Background(), "ws1", n.ID, notify.StatusCancelled, notify.StatusSending); err != nil {
		t.Fatal(err)
	}
	if errs := d.Settle(context.Background(), receive(msg, 6)); errs[0] != nil {
		t.Fatalf("Settle: %v", errs[0])
	}
	if got := f.deliveries(n.ID)["addr#+34600000002"]; got.Status != notify.DeliverySkipped || got.Reason != notify.ReasonCancelled {
		t.Errorf("stuck recipient = %s %q, want skipped cancelled", got.Status, got.Reason)
	}
	f.settled(n.ID)
	if _, st := f.counts(n.ID); st != notify.StatusCancelled {
		t.Errorf("status %s, want cancelled", st)
	}
}

// TestSettleDropsWhatCannotBeSettled: a malformed message or one whose
// notification never got stored has nothing to count: the dead-letter
// consumer drops it with a log line instead of retrying it forever.
func TestSettleDropsWhatCannotBeSettled(t *testing.T) {
	f := newFixture(t)
	d := f.dispatcher(f.store)
	errs := d.Settle(context.Background(), []Message{{ID: "bad", Body: []byte("{")}, message(t, "NOPE", 0, notify.Recipient{Address: "+34600000001"})})
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("Settle = %v, want both dropped", errs)
	}
	logs := f.logs.String()
	if !strings.Contains(logs, "malformed dispatch message") || !strings.Contains(logs, "its notification does not exist") {
		t.Errorf("logs = %s, want both drops logged", logs)
	}
}

// sampleRecords are the records of a sample SQS event of events/, as the
// dispatch function's edge hands them over: message id, body, receive
// count and queue.
func sampleRecords(t *testing.T, name string) []Received {
	t.Helper()
	payload, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Records []struct {
			MessageID      string            `json:"messageId"`
			ReceiptHandle  string            `json:"receiptHandle"`
			Body           string            `json:"body"`
			Attributes     map[string]string `json:"attributes"`
			EventSourceARN string            `json:"eventSourceARN"`
		}
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	out := make([]Received, len(ev.Records))
	for i, r := range ev.Records {
		n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		out[i] = Received{Message: Message{ID: r.MessageID, Body: []byte(r.Body), ReceiveCount: n}, Receipt: r.ReceiptHandle, Queue: r.EventSourceARN}
	}
	return out
}

// TestHandleSQSSettlesTheDeadLetterQueue: the dispatch function also
// consumes its dead-letter queue; messages from it (by their queue's ARN)
// are settled, the others handled, and a message on its last receive is
// settled too.
func TestHandleSQSSettlesTheDeadLetterQueue(t *testing.T) {
	batch := sampleRecords(t, "dispatch-deadletter.json")
	f := newFixture(t)
	var first notify.DispatchMessage
	if err := json.Unmarshal(batch[0].Body, &first); err != nil {
		t.Fatal(err)
	}
	var total int
	for _, r := range batch {
		var m notify.DispatchMessage
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		total += len(m.Recipients)
	}
	n := notify.Notification{WorkspaceID: first.WorkspaceID, ID: first.NotificationID, Channel: notify.ChannelSMS, Status: notify.StatusSending,
		Counts: notify.Counts{Total: int64(total), Queued: int64(total)}, Content: notify.Template{Channel: notify.ChannelSMS, Body: "Hi"}, CreatedAt: now}
	if err := f.store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }, NotFoundWait: time.Millisecond, MaxReceives: 5,
		DeadLetterARN: batch[0].Queue, Log: slog.New(slog.NewJSONHandler(f.logs, nil))})
	if errs := d.HandleSQS(context.Background(), batch); errors.Join(errs...) != nil {
		t.Fatalf("HandleSQS = %v; want no failures", errs)
	}
	if len(f.rec.sent) != 0 {
		t.Errorf("settling the dead-letter queue sent %v", f.rec.sent)
	}
	if err := dispatchtest.Settled(context.Background(), f.store, n.WorkspaceID, n.ID); err != nil {
		t.Error(err)
	}

	// The same messages from the dispatch queue on their last receive are
	// sent, and what fails is settled.
	g := newFixture(t)
	n.Status = notify.StatusQueued
	if err := g.store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	g.rec.transient["addr#+34600000002"] = errors.New("503")
	main := New(g.store, Senders{SMS: g.rec}, Options{Now: func() time.Time { return now }, NotFoundWait: time.Millisecond, MaxReceives: 5,
		DeadLetterARN: batch[0].Queue})
	for i := range batch {
		batch[i].Queue = "arn:aws:sqs:eu-west-1:123456789012:herald-dispatch"
	}
	if errs := main.HandleSQS(context.Background(), batch); errors.Join(errs...) != nil {
		t.Fatalf("HandleSQS on the last receive = %v; want no failures", errs)
	}
	if len(g.rec.sent) != total-1 {
		t.Errorf("sent %d, want %d", len(g.rec.sent), total-1)
	}
	if err := dispatchtest.Settled(context.Background(), g.store, n.WorkspaceID, n.ID); err != nil {
		t.Error(err)
	}
}

// TestWorkersSettleTheDeadLetterQueue runs the local mode's pair of
// workers: a dispatcher that never learns it is on a message's last
// receive (as when every receive crashes) lets the message reach the
// dead-letter queue, whose worker settles it.
func TestWorkersSettleTheDeadLetterQueue(t *testing.T) {
	f := newFixture(t)
	q, err := boltqueue.Open(filepath.Join(t.TempDir(), "q.db"), boltqueue.Options{Visibility: time.Second, MaxReceives: 2, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	n := f.notification("NQ", notify.ChannelSMS, notify.Template{Body: "Hi"}, 2)
	f.rec.transient["addr#+34600000002"] = errors.New("provider down")
	if err := q.Send(context.Background(), [][]byte{message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"}, notify.Recipient{Address: "+34600000002"}).Body}); err != nil {
		t.Fatal(err)
	}
	d := f.dispatcher(f.store) // no MaxReceives
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		(&Worker{Queue: q, Dispatcher: d, Wait: 100 * time.Millisecond, Visibility: time.Second}).Run(ctx)
	})
	wg.Go(func() {
		(&Worker{Queue: q.DeadLetter(), Dispatcher: d, DeadLetter: true, Wait: 100 * time.Millisecond, Visibility: time.Second}).Run(ctx)
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, st := f.counts(n.ID); st.Final() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	f.settled(n.ID)
	if s, err := q.Stats(); err != nil || s != (boltqueue.Stats{}) {
		t.Errorf("queue after settling = %+v, %v; want empty", s, err)
	}
	if got := f.deliveries(n.ID)["addr#+34600000002"]; got.Reason != ReasonDispatchFailed {
		t.Errorf("stuck recipient = %s %q, want failed %s", got.Status, got.Reason, ReasonDispatchFailed)
	}
}
