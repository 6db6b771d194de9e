package dispatch

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/dispatch/dispatchtest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
)

// TestSampleEventTwice runs the sample SQS event of events/ through the
// Lambda handler twice, with the same JSON round trip as the runtime: the
// second run sends nothing and changes no count.
func TestSampleEventTwice(t *testing.T) {
	payload, err := os.ReadFile("../../events/dispatch-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	var first notify.DispatchMessage
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &first); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	ctx := context.Background()
	for _, id := range []string{"u1", "u2", "u3", "u4"} {
		if _, err := f.store.PutUser(ctx, notify.User{WorkspaceID: first.WorkspaceID, ID: id, Name: id, Phone: "+3460000000" + id[1:], SealKey: seal.NewKey(), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	n := notify.Notification{WorkspaceID: first.WorkspaceID, ID: first.NotificationID, Channel: notify.ChannelSMS, Status: notify.StatusQueued,
		Counts: notify.Counts{Total: 4, Queued: 4}, Content: notify.Template{Channel: notify.ChannelSMS, Body: "Hi {{name}}"}, CreatedAt: now}
	if err := f.store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(f.dispatcher(f.store).HandleSQS)
	for round := 0; round < 2; round++ {
		out, err := h.Invoke(ctx, payload)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var resp events.SQSEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("round %d: batch item failures %v", round, resp.BatchItemFailures)
		}
	}
	if diff := cmp.Diff(map[string]int{"u1": 1, "u2": 1, "u3": 1, "u4": 1}, f.rec.sent); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	got, err := f.store.GetNotification(ctx, n.WorkspaceID, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(notify.Counts{Total: 4, Sent: 4}, got.Counts); diff != "" || got.Status != notify.StatusCompleted {
		t.Errorf("counts (-want +got):\n%s status %s", diff, got.Status)
	}
	if err := dispatchtest.Settled(ctx, f.store, n.WorkspaceID, n.ID); err != nil {
		t.Error(err)
	}

	// A record for a notification that does not exist is reported alone.
	ev.Records[1].Body = `{"w":"ws_example","n":"NOPE","c":"NOPE:0","r":[{"u":"u1"}]}`
	out, err := h.Invoke(ctx, mustMarshal(t, ev))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	want := []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[1].MessageId}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Errorf("batch item failures (-want +got):\n%s", diff)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		receives int
		rnd      float64
		want     time.Duration
	}{
		{1, 0.999, 1998 * time.Millisecond},
		{1, 0, time.Second}, // never below a second
		{3, 0.5, 4 * time.Second},
		{9, 0.5, 150 * time.Second}, // 2s<<8 = 512s, capped at 5 min
		{100, 1, 5 * time.Minute},
	}
	for _, tt := range tests {
		if got := Backoff(tt.receives, func() float64 { return tt.rnd }); got != tt.want {
			t.Errorf("Backoff(%d, %v) = %v, want %v", tt.receives, tt.rnd, got, tt.want)
		}
	}
}

type visibility struct {
	receipts []string
	timeouts []time.Duration
}

func (v *visibility) ChangeVisibility(_ context.Context, receipt string, timeout time.Duration) error {
	v.receipts, v.timeouts = append(v.receipts, receipt), append(v.timeouts, timeout)
	return nil
}

// TestFailedRecordsBackOff: a failed SQS record gets a jittered backoff as
// its visibility, growing with its receive count; good records are left
// alone.
func TestFailedRecordsBackOff(t *testing.T) {
	f := newFixture(t)
	n := f.notification("NB", notify.ChannelSMS, notify.Template{Body: "Hi"}, 1)
	v := &visibility{}
	d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }, Retry: v, NotFoundWait: time.Millisecond})
	good := message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"})
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "ok", ReceiptHandle: "r-ok", Body: string(good.Body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}},
		{MessageId: "bad", ReceiptHandle: "r-bad", Body: "{", Attributes: map[string]string{"ApproximateReceiveCount": "4"}},
	}}
	resp, err := d.HandleSQS(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "bad" {
		t.Errorf("failures = %v, want only bad", resp.BatchItemFailures)
	}
	if len(v.receipts) != 1 || v.receipts[0] != "r-bad" || v.timeouts[0] < time.Second || v.timeouts[0] > 16*time.Second {
		t.Errorf("visibility changes %v %v, want r-bad within [1s, 16s]", v.receipts, v.timeouts)
	}
}
