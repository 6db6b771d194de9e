package dispatch

import (
	"context"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
)

// HandleSQS processes an SQS batch and reports the records to retry as
// batch item failures (the event source has ReportBatchItemFailures), so one
// bad record never makes the whole batch run again. With Options.Retry, a
// failed record is first given a backoff (Backoff) as its visibility
// timeout, instead of the queue's, so retries spread out and grow.
func (d *Dispatcher) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	msgs := make([]Message, len(ev.Records))
	for i, r := range ev.Records {
		msgs[i] = Message{ID: r.MessageId, Body: []byte(r.Body)}
	}
	errs := d.Handle(ctx, msgs)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, err := range errs {
		if err != nil {
			rec := ev.Records[i]
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			if d.retry != nil && rec.ReceiptHandle != "" {
				count, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
				if verr := d.retry.ChangeVisibility(ctx, rec.ReceiptHandle, Backoff(count, nil)); verr != nil {
					d.log.Warn("backoff of a failed record", "messageId", rec.MessageId, "err", verr.Error())
				}
			}
		}
	}
	if n := len(resp.BatchItemFailures); n > 0 {
		d.log.Warn("batch item failures", "failed", n, "records", len(ev.Records))
	}
	return resp, nil
}
