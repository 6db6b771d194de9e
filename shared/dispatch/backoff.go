package dispatch

import (
	"math/rand/v2"
	"time"
)

// Retry backoff through the queue: a failed message comes back after a
// random wait up to min(backoffCap, backoffBase × 2^(receives−1)) — "full
// jitter", so that messages failing together (a provider outage) do not
// all come back together.
const (
	backoffBase = 2 * time.Second
	backoffCap  = 5 * time.Minute
)

// Backoff is how long a message received receiveCount times (1 the first
// time) waits before it is tried again. rnd returns a number in [0, 1).
func Backoff(receiveCount int, rnd func() float64) time.Duration {
	if receiveCount < 1 {
		receiveCount = 1
	}
	ceiling := backoffCap
	if receiveCount <= 20 {
		ceiling = min(backoffCap, backoffBase<<(receiveCount-1))
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	// At least a second: SQS counts visibility in whole seconds, and an
	// immediate retry of what just failed rarely helps.
	return max(time.Second, time.Duration(rnd()*float64(ceiling)))
}
