package dispatch

import (
	"time"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// noMetrics records nothing: a Dispatcher without Options.Metrics.
type noMetrics struct{}

func (noMetrics) Delivery(notify.Channel, metrics.Outcome, string) {}
func (noMetrics) ProviderCall(notify.Channel, time.Duration)       {}
func (noMetrics) QueueAge(notify.Channel, time.Duration)           {}
func (noMetrics) Flush()                                           {}

// dispatchOutcome is what a recorded delivery counts as: a message the
// provider reported delivered at once (the local outbox) was sent, as far
// as dispatch's figures go; delivery is the callbacks' to count.
func dispatchOutcome(s notify.DeliveryStatus) metrics.Outcome {
	switch s {
	case notify.DeliveryFailed:
		return metrics.Failed
	case notify.DeliverySkipped:
		return metrics.Skipped
	}
	return metrics.Sent
}

// queueAge is how long it waited in the queue before its sends started
// at now: from when the queue accepted it or, for recipients put back
// until the end of their quiet hours, from that end (the wait was the
// point). ok is false when the time it was sent is unknown, and for a
// dead-lettered message being settled, whose age says nothing about
// sending. A message taken before its time (SQS caps a delay at 15
// minutes) or a clock behind the queue's counts as no wait.
func queueAge(it item, now time.Time) (time.Duration, bool) {
	if it.mode == modeSettle || it.sentAt.IsZero() {
		return 0, false
	}
	from := it.sentAt
	if until, ok := deferredUntil(it.msg.Chunk); ok && until.After(from) {
		from = until
	}
	return max(now.Sub(from), 0), true
}
