package dispatch

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

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

// TestFailedRecordsBackOff: a failed SQS message gets a jittered backoff as
// its visibility, growing with its receive count; good records are left
// alone.
func TestFailedRecordsBackOff(t *testing.T) {
	f := newFixture(t)
	n := f.notification("NB", notify.ChannelSMS, notify.Template{Body: "Hi"}, 1)
	v := &visibility{}
	d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }, Retry: v, NotFoundWait: time.Millisecond})
	good := message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"})
	batch := []Received{
		{Message: Message{ID: "ok", Body: good.Body, ReceiveCount: 1}, Receipt: "r-ok"},
		{Message: Message{ID: "bad", Body: []byte("{"), ReceiveCount: 4}, Receipt: "r-bad"},
	}
	errs := d.HandleSQS(context.Background(), batch)
	if len(errs) != 2 || errs[0] != nil || errs[1] == nil {
		t.Errorf("errors = %v, want only bad's", errs)
	}
	if len(v.receipts) != 1 || v.receipts[0] != "r-bad" || v.timeouts[0] < time.Second || v.timeouts[0] > 16*time.Second {
		t.Errorf("visibility changes %v %v, want r-bad within [1s, 16s]", v.receipts, v.timeouts)
	}
}
