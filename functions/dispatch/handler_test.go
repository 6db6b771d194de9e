package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/dispatch/dispatchtest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
	"github.com/heraldhq/herald/shared/wiring"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// smsRecorder is an SMS sender that counts sends per recipient.
type smsRecorder struct {
	mu   sync.Mutex
	sent map[string]int
}

func (r *smsRecorder) SendSMS(_ context.Context, m channel.SMSMessage) (channel.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent[m.RecipientKey]++
	return channel.Receipt{ProviderMessageID: "pm-" + m.RecipientKey}, nil
}

func openStore(t *testing.T) *boltstore.Store {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// readSample reads a sample event of events/ and decodes it too.
func readSample(t *testing.T, name string) ([]byte, events.SQSEvent) {
	t.Helper()
	payload, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	return payload, ev
}

func invoke(t *testing.T, h lambda.Handler, payload []byte) []events.SQSBatchItemFailure {
	t.Helper()
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp.BatchItemFailures
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedSample makes a store with what the sample's messages need: their
// four users (with phones) and their SMS notification, queued. It returns
// the first message.
func seedSample(t *testing.T, ev events.SQSEvent) (*boltstore.Store, notify.DispatchMessage) {
	t.Helper()
	var first notify.DispatchMessage
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &first); err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	ctx := context.Background()
	for _, id := range []string{"u1", "u2", "u3", "u4"} {
		if _, err := store.PutUser(ctx, notify.User{WorkspaceID: first.WorkspaceID, ID: id, Name: id, Phone: "+3460000000" + id[1:], SealKey: seal.NewKey(), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	n := notify.Notification{WorkspaceID: first.WorkspaceID, ID: first.NotificationID, Channel: notify.ChannelSMS, Status: notify.StatusQueued,
		Counts: notify.Counts{Total: 4, Queued: 4}, Content: notify.Template{Channel: notify.ChannelSMS, Body: "Hi {{name}}"}, CreatedAt: now}
	if err := store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	return store, first
}

// TestSampleEventTwice runs the sample SQS event of events/ through the
// handler twice, with the same JSON round trip as the runtime: the second
// run sends nothing and changes no count.
func TestSampleEventTwice(t *testing.T) {
	payload, ev := readSample(t, "dispatch-batch.json")
	store, first := seedSample(t, ev)
	ctx := context.Background()
	rec := &smsRecorder{sent: map[string]int{}}
	d := dispatch.New(store, dispatch.Senders{SMS: rec}, dispatch.Options{Now: func() time.Time { return now }, Concurrency: 4,
		Log: slog.New(slog.DiscardHandler), NotFoundWait: time.Millisecond})
	h := lambda.NewHandler(newHandler(d))
	for round := 0; round < 2; round++ {
		if failures := invoke(t, h, payload); len(failures) != 0 {
			t.Errorf("round %d: batch item failures %v", round, failures)
		}
	}
	if diff := cmp.Diff(map[string]int{"u1": 1, "u2": 1, "u3": 1, "u4": 1}, rec.sent); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	got, err := store.GetNotification(ctx, first.WorkspaceID, first.NotificationID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(notify.Counts{Total: 4, Sent: 4}, got.Counts); diff != "" || got.Status != notify.StatusCompleted {
		t.Errorf("counts (-want +got):\n%s status %s", diff, got.Status)
	}
	if err := dispatchtest.Settled(ctx, store, first.WorkspaceID, first.NotificationID); err != nil {
		t.Error(err)
	}

	// A record for a notification that does not exist is reported alone.
	ev.Records[1].Body = `{"w":"ws_example","n":"NOPE","c":"NOPE:0","r":[{"u":"u1"}]}`
	want := []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[1].MessageId}}
	if diff := cmp.Diff(want, invoke(t, h, mustMarshal(t, ev))); diff != "" {
		t.Errorf("batch item failures (-want +got):\n%s", diff)
	}
}

// TestDeadLetterSampleSettled: the records of the dead-letter queue's
// sample, whose eventSourceARN is the function's HERALD_DISPATCH_DLQ_ARN,
// are settled, not sent: their recipients fail, and the notification
// completes.
func TestDeadLetterSampleSettled(t *testing.T) {
	payload, ev := readSample(t, "dispatch-deadletter.json")
	var first notify.DispatchMessage
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &first); err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	ctx := context.Background()
	n := notify.Notification{WorkspaceID: first.WorkspaceID, ID: first.NotificationID, Channel: notify.ChannelSMS, Status: notify.StatusSending,
		Counts: notify.Counts{Total: 3, Queued: 3}, Content: notify.Template{Channel: notify.ChannelSMS, Body: "Hi"}, CreatedAt: now}
	if err := store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	rec := &smsRecorder{sent: map[string]int{}}
	d := dispatch.New(store, dispatch.Senders{SMS: rec}, dispatch.Options{Now: func() time.Time { return now }, NotFoundWait: time.Millisecond,
		MaxReceives: 5, DeadLetterARN: ev.Records[0].EventSourceARN, Log: slog.New(slog.DiscardHandler)})
	if failures := invoke(t, lambda.NewHandler(newHandler(d)), payload); len(failures) != 0 {
		t.Fatalf("batch item failures %v, want none", failures)
	}
	if len(rec.sent) != 0 {
		t.Errorf("settling the dead-letter queue sent %v", rec.sent)
	}
	if err := dispatchtest.Settled(ctx, store, n.WorkspaceID, n.ID); err != nil {
		t.Error(err)
	}
	got, err := store.GetNotification(ctx, n.WorkspaceID, n.ID)
	if err != nil || got.Counts.Failed != 3 {
		t.Errorf("counts = %+v, %v; want the 3 recipients failed", got.Counts, err)
	}
}

// batchRecorder keeps the batch it is given and fails the messages whose
// body is "fail".
type batchRecorder struct {
	got []dispatch.Received
}

func (b *batchRecorder) HandleSQS(_ context.Context, batch []dispatch.Received) []error {
	b.got = batch
	errs := make([]error, len(batch))
	for i, r := range batch {
		if string(r.Body) == "fail" {
			errs[i] = errors.New("transient")
		}
	}
	return errs
}

// TestRecordsDecoded: each record reaches the dispatcher with its id,
// body, receipt, queue, receive count and sent time, and each failure is
// reported by its message id.
func TestRecordsDecoded(t *testing.T) {
	_, ev := readSample(t, "dispatch-batch.json")
	ev.Records[0].Body = "fail"
	b := &batchRecorder{}
	resp, err := newHandler(b)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []dispatch.Received{
		{Message: dispatch.Message{ID: ev.Records[0].MessageId, Body: []byte("fail"), ReceiveCount: 1, SentAt: time.UnixMilli(1795259533668)},
			Receipt: ev.Records[0].ReceiptHandle, Queue: "arn:aws:sqs:us-east-1:123456789012:herald-dispatch"},
		{Message: dispatch.Message{ID: ev.Records[1].MessageId, Body: []byte(ev.Records[1].Body), ReceiveCount: 2, SentAt: time.UnixMilli(1795259533674)},
			Receipt: ev.Records[1].ReceiptHandle, Queue: "arn:aws:sqs:us-east-1:123456789012:herald-dispatch"},
	}
	if diff := cmp.Diff(want, b.got); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}, resp.BatchItemFailures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
}

// TestLaterDispatcher: the function's dispatcher, made on the first batch
// (wiring.Lazy): a batch it cannot be made for (the secrets' read failed)
// fails whole, so every message comes back, and the next batch makes it
// and is delivered.
func TestLaterDispatcher(t *testing.T) {
	payload, ev := readSample(t, "dispatch-batch.json")
	store, _ := seedSample(t, ev)
	rec := &smsRecorder{sent: map[string]int{}}
	builds := 0
	l := later{log: slog.New(slog.DiscardHandler), dispatcher: wiring.Lazy(func(context.Context) (*dispatch.Dispatcher, error) {
		builds++
		if builds == 1 {
			return nil, errors.New("read secrets: throttled")
		}
		return dispatch.New(store, dispatch.Senders{SMS: rec}, dispatch.Options{Now: func() time.Time { return now }, Concurrency: 4,
			Log: slog.New(slog.DiscardHandler), NotFoundWait: time.Millisecond}), nil
	})}
	h := lambda.NewHandler(newHandler(l))
	var all []events.SQSBatchItemFailure
	for _, r := range ev.Records {
		all = append(all, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
	}
	if diff := cmp.Diff(all, invoke(t, h, payload)); diff != "" {
		t.Errorf("batch item failures without a dispatcher (-want +got):\n%s", diff)
	}
	if len(rec.sent) != 0 {
		t.Errorf("sent %v without a dispatcher", rec.sent)
	}
	for round := 0; round < 2; round++ {
		if failures := invoke(t, h, payload); len(failures) != 0 {
			t.Errorf("round %d: batch item failures %v", round, failures)
		}
	}
	if diff := cmp.Diff(map[string]int{"u1": 1, "u2": 1, "u3": 1, "u4": 1}, rec.sent); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	if builds != 2 {
		t.Errorf("dispatcher made %d times, want 2 (the failed one, then one kept)", builds)
	}
}
