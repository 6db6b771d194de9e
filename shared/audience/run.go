package audience

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/notify"
)

// HandleSQS is the audience function's handler: each record is one step.
// A step that fails is reported in BatchItemFailures and comes back after
// the queue's visibility timeout (the audience queue's redrive policy
// dead-letters it after a few tries); a record that is not a step is
// dropped with a log line, since retrying cannot help.
func (w *Walker) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, r := range ev.Records {
		if err := w.handleBody(ctx, []byte(r.Body)); err != nil {
			w.log().Warn("audience step failed", "messageId", r.MessageId, "err", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

func (w *Walker) handleBody(ctx context.Context, body []byte) error {
	var j Job
	if err := json.Unmarshal(body, &j); err != nil || j.WorkspaceID == "" || j.NotificationID == "" || j.Segments <= 0 {
		w.log().Error("audience queue message that is not a step: dropped")
		return nil
	}
	return w.Handle(ctx, j)
}

// Run takes steps from queue until ctx ends, as the local mode's audience
// worker: each step is deleted once handled, and a failed one comes back
// after the queue's visibility timeout.
func (w *Walker) Run(ctx context.Context, queue notify.Queue) {
	// One at a time: the segments run on parallel workers.
	notify.Consume(ctx, queue, 1, "audience step", w.log(), w.handleBody)
}
