package dispatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// countingStore counts RecordDeliveries calls and the deliveries they
// carry, and can hold them until released.
type countingStore struct {
	*boltstore.Store
	calls, recorded atomic.Int64
	hold            chan struct{} // when not nil, each call waits for it to close
	holding         chan struct{} // closed when the first call waits
	once            sync.Once
}

func (s *countingStore) RecordDeliveries(ctx context.Context, ds []notify.Delivery) ([]bool, error) {
	if s.hold != nil {
		s.once.Do(func() { close(s.holding) })
		<-s.hold
	}
	s.calls.Add(1)
	s.recorded.Add(int64(len(ds)))
	return s.Store.RecordDeliveries(ctx, ds)
}

// countingEmail counts the emails sent, each taking took, as a
// provider's answer takes a while.
type countingEmail struct {
	sent atomic.Int64
	took time.Duration
}

func (c *countingEmail) SendEmail(_ context.Context, m channel.EmailMessage) (channel.Receipt, error) {
	time.Sleep(c.took)
	c.sent.Add(1)
	return channel.Receipt{ProviderMessageID: "m-" + m.RecipientKey}, nil
}

func emailUsers(t *testing.T, f *fixture, n int) []notify.Recipient {
	t.Helper()
	var rs []notify.Recipient
	for i := range n {
		id := fmt.Sprintf("u%04d", i)
		f.user(notify.User{ID: id, Name: id, Email: id + "@example.com"})
		rs = append(rs, notify.Recipient{UserID: id})
	}
	return rs
}

// TestDeliveriesAreRecordedInBatches: the deliveries of a message are
// written a batch per store call, not one call each, and every one is
// recorded once with its send's outcome.
func TestDeliveriesAreRecordedInBatches(t *testing.T) {
	f := newFixture(t)
	rs := emailUsers(t, f, 100)
	f.notification("NB", notify.ChannelEmail, notify.Template{Title: "Hi", Body: "Hello {{name}}"}, len(rs))
	store := &countingStore{Store: f.store}
	mail := &countingEmail{took: 2 * time.Millisecond}
	d := New(store, Senders{Email: mail}, Options{Now: func() time.Time { return now }, Concurrency: 32, NotFoundWait: time.Millisecond})
	if errs := d.Handle(context.Background(), []Message{message(t, "NB", 0, rs...)}); errs[0] != nil {
		t.Fatalf("Handle: %v", errs[0])
	}
	if got := mail.sent.Load(); got != 100 {
		t.Errorf("sent %d emails, want 100", got)
	}
	if got := store.recorded.Load(); got != 100 {
		t.Errorf("recorded %d deliveries, want 100", got)
	}
	if calls := store.calls.Load(); calls > 100/2 {
		t.Errorf("RecordDeliveries called %d times for 100 deliveries, want batches (at most 50 calls)", calls)
	}
	ds := f.deliveries("NB")
	for _, r := range rs {
		if dl := ds[r.UserID]; dl.Status != notify.DeliverySent || dl.ProviderMessageID != "m-"+r.UserID {
			t.Errorf("delivery of %s = %s %q, want sent with its message id", r.UserID, dl.Status, dl.ProviderMessageID)
		}
	}
	if c, st := f.counts("NB"); c.Sent != 100 || c.Queued != 0 || st != notify.StatusCompleted {
		t.Errorf("counts %+v, status %s; want 100 sent, completed", c, st)
	}
}

// TestUnrecordedSendsNeverExceedTheConcurrency: a send keeps its slot
// until its delivery is recorded, so while the store does not record,
// no more than Concurrency recipients are sent (what a crash could make
// send twice).
func TestUnrecordedSendsNeverExceedTheConcurrency(t *testing.T) {
	f := newFixture(t)
	rs := emailUsers(t, f, 100)
	f.notification("NC", notify.ChannelEmail, notify.Template{Title: "Hi", Body: "Hello {{name}}"}, len(rs))
	store := &countingStore{Store: f.store, hold: make(chan struct{}), holding: make(chan struct{})}
	mail := &countingEmail{}
	const concurrency = 8
	d := New(store, Senders{Email: mail}, Options{Now: func() time.Time { return now }, Concurrency: concurrency, NotFoundWait: time.Millisecond})
	done := make(chan []error)
	go func() { done <- d.Handle(context.Background(), []Message{message(t, "NC", 0, rs...)}) }()
	<-store.holding
	// Give the other slots time to send what they would.
	time.Sleep(50 * time.Millisecond)
	if got := mail.sent.Load(); got > concurrency {
		t.Errorf("%d emails sent while none was recorded, want at most %d", got, concurrency)
	}
	close(store.hold)
	if errs := <-done; errs[0] != nil {
		t.Fatalf("Handle: %v", errs[0])
	}
	if got := store.recorded.Load(); got != 100 {
		t.Errorf("recorded %d deliveries, want 100", got)
	}
}

// TestBatchIsDue: a batch is written when a quarter of the jobs in flight
// wait for it, when all of them do, or when it is full.
func TestBatchIsDue(t *testing.T) {
	tests := []struct {
		pending, inFlight int
		want              bool
	}{
		{0, 0, false},
		{1, 32, false},
		{7, 32, false},
		{8, 32, true},
		{1, 1, true},
		{2, 3, true},
		{3, 3, true},
		{maxRecordBatch, 1024, true},
		{maxRecordBatch - 1, 1024, false},
	}
	for _, tt := range tests {
		b := &batcher{inFlight: tt.inFlight, pending: make([]pendingRecord, tt.pending)}
		got := b.take() != nil
		if got != tt.want {
			t.Errorf("%d pending of %d in flight: due = %t, want %t", tt.pending, tt.inFlight, got, tt.want)
		}
		if got && (len(b.pending) != 0 || b.inFlight != tt.inFlight-tt.pending) {
			t.Errorf("%d pending of %d in flight: after take %d pending, %d in flight; want 0, %d", tt.pending, tt.inFlight, len(b.pending), b.inFlight, tt.inFlight-tt.pending)
		}
	}
}
