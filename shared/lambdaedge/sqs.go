package lambdaedge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// BatchResponse is the answer to an SQS event whose records were handled
// with the errors errs (errs[i] is ev.Records[i]'s): every record whose
// error is not nil is a batch item failure, and comes back after its
// visibility timeout, while the others are deleted. The event source
// mapping must have ReportBatchItemFailures, so that one bad record never
// makes the whole batch run again. The list is empty, not null, when every
// record succeeded.
func BatchResponse(ev events.SQSEvent, errs []error) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, err := range errs {
		if err != nil && i < len(ev.Records) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp
}

// EachRecord hands the body of each record to handle, one after the
// other, and reports the records it fails as batch item failures
// (BatchResponse); each failure is logged with its message id as "<what>
// failed; it comes back", as notify.Consume does locally.
func EachRecord(ctx context.Context, ev events.SQSEvent, log *slog.Logger, what string, handle func(ctx context.Context, body []byte) error) events.SQSEventResponse {
	errs := make([]error, len(ev.Records))
	for i, r := range ev.Records {
		if errs[i] = handle(ctx, []byte(r.Body)); errs[i] != nil && log != nil {
			log.Warn(what+" failed; it comes back", "messageId", r.MessageId, "err", errs[i].Error())
		}
	}
	return BatchResponse(ev, errs)
}

// ReceiveCount is SQS's ApproximateReceiveCount of r: how many times the
// queue has handed the message out, this time included; 0 when missing.
func ReceiveCount(r events.SQSMessage) int {
	n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
	return n
}

// SentAt reads SQS's SentTimestamp attribute of r (milliseconds since the
// epoch): when the queue accepted the message. Zero when it is missing or
// malformed.
func SentAt(r events.SQSMessage) time.Time {
	ms, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// NotificationsFromQueue handles an SQS batch whose messages are SNS
// notifications: a queue subscribed to a topic without raw message
// delivery, each body the notification's JSON as SNS signs it. Each one
// goes to apply (the same as an SNS event's record); one apply fails, or
// whose body is no notification, is a batch item failure, so it comes
// back and, past the queue's maxReceiveCount, waits in its dead-letter
// queue: nothing is dropped. The queue's policy lets only the stack's
// topics send to it, so the signature is not checked again here.
func NotificationsFromQueue(apply func(context.Context, events.SNSEntity) error, log *slog.Logger) func(context.Context, events.SQSEvent) events.SQSEventResponse {
	return func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
		return EachRecord(ctx, ev, log, "SNS notification from the queue", func(ctx context.Context, body []byte) error {
			var n events.SNSEntity
			if err := json.Unmarshal(body, &n); err != nil {
				return fmt.Errorf("a message that is not an SNS notification: %w", err)
			}
			if n.Type != "Notification" || n.TopicArn == "" || n.MessageID == "" {
				return fmt.Errorf("a message that is not an SNS notification (Type %q, TopicArn %q)", n.Type, n.TopicArn)
			}
			return apply(ctx, n)
		})
	}
}
