package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/lambdaedge"
)

// dispatcher is what the handler needs of *dispatch.Dispatcher.
type dispatcher interface {
	HandleSQS(ctx context.Context, batch []dispatch.Received) []error
}

// newHandler is the dispatch function's handler: SQS batches of the
// dispatch queue and of its dead-letter queue (a second event source),
// handed to d as received messages; the ones d fails are reported as
// batch item failures, so only they come back.
func newHandler(d dispatcher) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		batch := make([]dispatch.Received, len(ev.Records))
		for i, r := range ev.Records {
			batch[i] = dispatch.Received{
				Message: dispatch.Message{ID: r.MessageId, Body: []byte(r.Body), ReceiveCount: lambdaedge.ReceiveCount(r), SentAt: lambdaedge.SentAt(r)},
				Receipt: r.ReceiptHandle,
				Queue:   r.EventSourceARN,
			}
		}
		return lambdaedge.BatchResponse(ev, d.HandleSQS(ctx, batch)), nil
	}
}

// later is a dispatcher made on the first batch rather than at start: it
// needs the secrets, read from SSM Parameter Store, and the senders made
// with them, which no cold start should wait for before it has a batch. A
// batch it cannot be made for fails whole, logged, and comes back; the
// next batch tries again.
type later struct {
	dispatcher func(context.Context) (*dispatch.Dispatcher, error)
	log        *slog.Logger
}

func (l later) HandleSQS(ctx context.Context, batch []dispatch.Received) []error {
	d, err := l.dispatcher(ctx)
	if err != nil {
		l.log.Error("dispatch: cannot start", "err", err.Error())
		errs := make([]error, len(batch))
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	return d.HandleSQS(ctx, batch)
}
