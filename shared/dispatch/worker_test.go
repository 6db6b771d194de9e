package dispatch

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// slowSMS takes longer than the queue's visibility timeout to send.
type slowSMS struct {
	*recorder
	delay time.Duration
}

func (s slowSMS) SendSMS(ctx context.Context, m channel.SMSMessage) (channel.Receipt, error) {
	time.Sleep(s.delay)
	return s.recorder.SendSMS(ctx, m)
}

// TestWorkerKeepsSlowBatchesHidden runs two workers on a queue whose
// visibility timeout is shorter than one send: the worker handling the
// message keeps it hidden, so the other never gets it and nobody is sent
// the message twice.
func TestWorkerKeepsSlowBatchesHidden(t *testing.T) {
	f := newFixture(t)
	q, err := boltqueue.Open(filepath.Join(t.TempDir(), "q.db"), boltqueue.Options{Visibility: time.Second, MaxReceives: 5, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	n := f.notification("N9", notify.ChannelSMS, notify.Template{Body: "Hi"}, 1)
	if err := q.Send(context.Background(), [][]byte{message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"}).Body}); err != nil {
		t.Fatal(err)
	}
	slow := slowSMS{recorder: f.rec, delay: 2500 * time.Millisecond}
	d := New(f.store, Senders{SMS: slow}, Options{Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			(&Worker{Queue: q, Dispatcher: d, Wait: 100 * time.Millisecond, Visibility: time.Second}).Run(ctx)
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, st := f.counts(n.ID); st == notify.StatusCompleted {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // long enough for a wrongly visible message to be taken again
	cancel()
	wg.Wait()
	if got := f.rec.sent["addr#+34600000001"]; got != 1 {
		t.Errorf("sent %d times, want 1", got)
	}
	if _, st := f.counts(n.ID); st != notify.StatusCompleted {
		t.Errorf("status %s, want completed", st)
	}
	f.settled(n.ID)
	stats, err := q.Stats()
	if err != nil || stats.Visible+stats.InFlight+stats.Dead != 0 {
		t.Errorf("queue after the send = %+v, %v; want empty", stats, err)
	}
}
