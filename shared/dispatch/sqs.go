package dispatch

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// HandleSQS processes an SQS batch and reports the records to retry as
// batch item failures (the event source has ReportBatchItemFailures), so one
// bad record never makes the whole batch run again.
func (d *Dispatcher) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	msgs := make([]Message, len(ev.Records))
	for i, r := range ev.Records {
		msgs[i] = Message{ID: r.MessageId, Body: []byte(r.Body)}
	}
	errs := d.Handle(ctx, msgs)
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, err := range errs {
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	if n := len(resp.BatchItemFailures); n > 0 {
		d.log.Warn("batch item failures", "failed", n, "records", len(ev.Records))
	}
	return resp, nil
}
