package dispatch

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// HandleSQS processes an SQS batch and reports the records to retry as
// batch item failures (the event source has ReportBatchItemFailures), so one
// bad record never makes the whole batch run again. With Options.Retry, a
// failed record is first given a backoff (Backoff) as its visibility
// timeout, instead of the queue's, so retries spread out and grow.
//
// The dispatch function consumes its dead-letter queue too: records whose
// eventSourceARN is Options.DeadLetterARN are settled (Settle), the others
// handled (Handle, which settles a record on its last receive, read from
// its ApproximateReceiveCount).
//
// The invocation's figures are flushed (Options.Metrics) before it
// returns: the EMF writer aggregates a batch into a few log lines.
func (d *Dispatcher) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	defer d.metrics.Flush()
	var live, dead []int
	msgs := make([]Message, len(ev.Records))
	for i, r := range ev.Records {
		count, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		msgs[i] = Message{ID: r.MessageId, Body: []byte(r.Body), ReceiveCount: count, SentAt: sentTimestamp(r.Attributes["SentTimestamp"])}
		if d.deadLetter != "" && r.EventSourceARN == d.deadLetter {
			dead = append(dead, i)
		} else {
			live = append(live, i)
		}
	}
	errs := make([]error, len(msgs))
	for _, part := range []struct {
		idx []int
		run func(context.Context, []Message) []error
	}{{live, d.Handle}, {dead, d.Settle}} {
		if len(part.idx) == 0 {
			continue
		}
		in := make([]Message, len(part.idx))
		for j, i := range part.idx {
			in[j] = msgs[i]
		}
		for j, err := range part.run(ctx, in) {
			errs[part.idx[j]] = err
		}
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, err := range errs {
		if err == nil {
			continue
		}
		rec := ev.Records[i]
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		switch {
		case d.deadLetter != "" && rec.EventSourceARN == d.deadLetter:
			// Settling failed (the store, most likely): it comes back after
			// the dead-letter queue's visibility timeout. Options.Retry is
			// the dispatch queue, which cannot change this receipt.
			d.log.Error("settling a dead-lettered dispatch message failed; it comes back", "messageId", rec.MessageId, "err", err.Error())
			continue
		case d.maxReceives > 0 && msgs[i].ReceiveCount >= d.maxReceives:
			d.log.Error("dispatch message failed on its last receive; it goes to the dead-letter queue", "messageId", rec.MessageId,
				"receives", msgs[i].ReceiveCount, "err", err.Error())
		}
		if d.retry != nil && rec.ReceiptHandle != "" {
			if verr := d.retry.ChangeVisibility(ctx, rec.ReceiptHandle, Backoff(msgs[i].ReceiveCount, nil)); verr != nil {
				d.log.Warn("backoff of a failed record", "messageId", rec.MessageId, "err", verr.Error())
			}
		}
	}
	if n := len(resp.BatchItemFailures); n > 0 {
		d.log.Warn("batch item failures", "failed", n, "records", len(ev.Records))
	}
	return resp, nil
}

// sentTimestamp reads SQS's SentTimestamp attribute (milliseconds since
// the epoch); zero when it is missing or malformed.
func sentTimestamp(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
