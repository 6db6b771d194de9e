package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/lambdaedge"
)

// stepper is what the handler needs of *audience.Walker.
type stepper interface {
	HandleMessage(ctx context.Context, body []byte) error
}

// newHandler is the audience function's handler: SQS batches of the
// audience queue, each record one step of one segment's walk. A step that
// fails is reported as a batch item failure and comes back after the
// queue's visibility timeout; the others are deleted.
func newHandler(w stepper, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return lambdaedge.EachRecord(ctx, ev, log, "audience step", w.HandleMessage), nil
	}
}
