package dispatch

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var errWouldWait = errors.New("would wait")

// blocked reports whether a send would have to wait: the limiter's clock
// is fake, so a wait would never end.
func blocked(l *limiter) bool {
	return errors.Is(l.Wait(context.Background()), errWouldWait)
}

func TestLimiter(t *testing.T) {
	clock := &fakeClock{t: now}
	l := newLimiter(2, clock.now) // 2 a second, a burst of 2
	l.sleep = func(context.Context, time.Duration) error { return errWouldWait }
	for i := 0; i < 2; i++ {
		if blocked(l) {
			t.Fatalf("send %d of the burst was held", i+1)
		}
	}
	if !blocked(l) {
		t.Errorf("a third send within the same second went through")
	}
	clock.add(500 * time.Millisecond)
	if blocked(l) {
		t.Errorf("a send half a second later (2/s) was held")
	}
	l.Pause(time.Minute)
	clock.add(30 * time.Second)
	if !blocked(l) {
		t.Errorf("a send during a provider's pause went through")
	}
	clock.add(31 * time.Second)
	if blocked(l) {
		t.Errorf("a send after the pause was held")
	}
}

// throttled is a WhatsApp sender that answers 429 with a hint; afterFirst
// runs when it first answers.
type throttled struct {
	calls      int
	afterFirst func()
}

var errThrottled = errors.New("429: retry after 1h")

func (s *throttled) SendWhatsApp(context.Context, channel.WhatsAppMessage) (channel.Receipt, error) {
	s.calls++
	if s.calls == 1 {
		s.afterFirst()
	}
	return channel.Receipt{}, errThrottled
}

func TestRetryAfterPausesTheChannel(t *testing.T) {
	f := newFixture(t)
	n := f.notification("NT", notify.ChannelWhatsApp, notify.Template{Body: "x", WhatsApp: &notify.WhatsAppTemplate{Name: "t", Language: "es", Category: "utility"}}, 2)
	// No deadline (sends stop one before it); the run is cut a moment
	// after the first answer instead.
	ctx, cancel := context.WithCancel(context.Background())
	s := &throttled{afterFirst: func() { time.AfterFunc(300*time.Millisecond, cancel) }}
	hint := func(err error) (time.Duration, bool) { return time.Hour, errors.Is(err, errThrottled) }
	d := New(f.store, Senders{WhatsApp: s}, Options{Now: func() time.Time { return now }, Concurrency: 1,
		RetryHints: map[notify.Channel]func(error) (time.Duration, bool){notify.ChannelWhatsApp: hint}})
	errs := d.Handle(ctx, []Message{message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"}, notify.Recipient{Address: "+34600000002"})})
	if errs[0] == nil {
		t.Fatalf("Handle = nil, want the message retried later")
	}
	if s.calls != 1 {
		t.Errorf("provider called %d times, want 1: the second send must wait out the pause", s.calls)
	}
}
