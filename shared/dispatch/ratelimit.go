package dispatch

import (
	"context"
	"sync"
	"time"
)

// limiter spaces a channel's sends to a rate (a token bucket with a burst
// of one second's worth) and can be paused when the provider asks for a
// break (429 and Retry-After).
type limiter struct {
	mu       sync.Mutex
	interval time.Duration // between two sends
	burst    int
	tokens   float64
	last     time.Time
	paused   time.Time // no send before this
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

func newLimiter(perSecond float64, now func() time.Time) *limiter {
	burst := max(1, int(perSecond))
	return &limiter{interval: time.Duration(float64(time.Second) / perSecond), burst: burst, tokens: float64(burst), now: now, sleep: sleepCtx}
}

// Wait blocks until a send may go, or ctx is done.
func (l *limiter) Wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		now := l.now()
		if now.Before(l.paused) {
			wait := l.paused.Sub(now)
			l.mu.Unlock()
			if err := l.sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		if !l.last.IsZero() {
			l.tokens = min(float64(l.burst), l.tokens+float64(now.Sub(l.last))/float64(l.interval))
		}
		l.last = now
		if l.tokens >= 1 {
			l.tokens--
			l.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 - l.tokens) * float64(l.interval))
		l.mu.Unlock()
		if err := l.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Pause stops sends for d from now (a longer pause already set stays).
func (l *limiter) Pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.paused) {
		l.paused = until
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
