package dispatch

import (
	"context"
)

// Received is a dispatch message as an SQS event source hands it to the
// dispatch function: the message, and what the queue says of this
// receive. The function's edge decodes it from the event.
type Received struct {
	Message
	// Receipt is the receive's receipt handle: a failed message's
	// visibility becomes its backoff (Options.Retry). Empty leaves the
	// message to the queue's visibility timeout.
	Receipt string
	// Queue is the ARN of the queue the message came from: the messages
	// of Options.DeadLetterARN are settled, the others handled.
	Queue string
}

// HandleSQS processes a batch of received messages and returns the error
// of each (errs[i] is batch[i]'s): the messages to retry, which the
// function reports as batch item failures (the event source has
// ReportBatchItemFailures), so one bad message never makes the whole batch
// run again. With Options.Retry, a failed message is first given a
// backoff (Backoff) as its visibility timeout, instead of the queue's, so
// retries spread out and grow.
//
// The dispatch function consumes its dead-letter queue too: messages from
// Options.DeadLetterARN are settled (Settle), the others handled (Handle,
// which settles a message on its last receive, read from its
// ReceiveCount).
//
// The batch's figures are flushed (Options.Metrics) before it returns:
// the EMF writer aggregates a batch into a few log lines, written while
// the invocation still runs.
func (d *Dispatcher) HandleSQS(ctx context.Context, batch []Received) []error {
	defer d.metrics.Flush()
	var live, dead []int
	for i, r := range batch {
		if d.deadLettered(r) {
			dead = append(dead, i)
		} else {
			live = append(live, i)
		}
	}
	errs := make([]error, len(batch))
	for _, part := range []struct {
		idx []int
		run func(context.Context, []Message) []error
	}{{live, d.Handle}, {dead, d.Settle}} {
		if len(part.idx) == 0 {
			continue
		}
		in := make([]Message, len(part.idx))
		for j, i := range part.idx {
			in[j] = batch[i].Message
		}
		for j, err := range part.run(ctx, in) {
			errs[part.idx[j]] = err
		}
	}
	var failed int
	for i, err := range errs {
		if err == nil {
			continue
		}
		failed++
		r := batch[i]
		switch {
		case d.deadLettered(r):
			// Settling failed (the store, most likely): it comes back after
			// the dead-letter queue's visibility timeout. Options.Retry is
			// the dispatch queue, which cannot change this receipt.
			d.log.Error("settling a dead-lettered dispatch message failed; it comes back", "messageId", r.ID, "err", err.Error())
			continue
		case d.maxReceives > 0 && r.ReceiveCount >= d.maxReceives:
			d.log.Error("dispatch message failed on its last receive; it goes to the dead-letter queue", "messageId", r.ID,
				"receives", r.ReceiveCount, "err", err.Error())
		}
		if d.retry != nil && r.Receipt != "" {
			if verr := d.retry.ChangeVisibility(ctx, r.Receipt, Backoff(r.ReceiveCount, nil)); verr != nil {
				d.log.Warn("backoff of a failed record", "messageId", r.ID, "err", verr.Error())
			}
		}
	}
	if failed > 0 {
		d.log.Warn("batch item failures", "failed", failed, "records", len(batch))
	}
	return errs
}

// deadLettered reports whether r came from the dispatch dead-letter queue.
func (d *Dispatcher) deadLettered(r Received) bool {
	return d.deadLetter != "" && r.Queue == d.deadLetter
}
