package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/dispatch"
)

type handler struct {
	d   *dispatch.Dispatcher
	log *slog.Logger
}

func newHandler(d *dispatch.Dispatcher, log *slog.Logger) *handler {
	return &handler{d: d, log: log}
}

// Handle processes an SQS batch and reports the records to retry as batch
// item failures (the function's event source has ReportBatchItemFailures),
// so one bad record never makes the whole batch run again.
func (h *handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	msgs := make([]dispatch.Message, len(ev.Records))
	for i, r := range ev.Records {
		msgs[i] = dispatch.Message{ID: r.MessageId, Body: []byte(r.Body)}
	}
	errs := h.d.Handle(ctx, msgs)
	var resp events.SQSEventResponse
	for i, err := range errs {
		if err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	if n := len(resp.BatchItemFailures); n > 0 {
		h.log.Warn("batch item failures", "failed", n, "records", len(ev.Records))
	}
	return resp, nil
}
