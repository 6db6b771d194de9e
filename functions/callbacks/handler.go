package main

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/lambdaedge"
	"github.com/heraldhq/herald/shared/webhook"
)

// smsLogs is what the handler needs of *webhook.SMS.
type smsLogs interface {
	ApplyLogs(ctx context.Context, group string, records []string) error
}

// snsRouter is what the handler needs of *webhook.SNSRouter.
type snsRouter interface {
	Apply(ctx context.Context, n webhook.Notification) error
}

// flusher writes out the figures kept for an invocation (the EMF writer).
type flusher interface {
	Flush()
}

// callbacks is what the callbacks function's handler serves.
type callbacks struct {
	// HTTP serves the API Gateway requests (HTTP API payload 2.0): the
	// webhooks and the unsubscribe links.
	HTTP http.Handler
	// SMSLogs applies the CloudWatch Logs subscription events that carry
	// SNS's SMS delivery status; nil when SMS status is not configured.
	SMSLogs smsLogs
	// SNS applies the SNS notifications delivered to the function itself
	// (an SNS subscription with the lambda protocol, or a notification
	// replayed from a dead-letter queue); nil takes none.
	SNS snsRouter
	// Log takes the invocations the function cannot use.
	Log *slog.Logger
	// Metrics, the figures the endpoints count, is flushed at the end of
	// each invocation, before the handler returns and Lambda may freeze
	// the process; nil flushes nothing.
	Metrics flusher
}

// handler is the callbacks function's handler. The function is invoked
// four ways: by API Gateway for the webhook routes, by CloudWatch Logs
// subscriptions carrying SNS's SMS delivery-status records, by SNS with
// the notifications of the topics its endpoints take, and by SQS with
// batches of those notifications (SES's events). It implements
// lambda.Handler.
type handler struct {
	sources lambdaedge.Sources
	metrics flusher
}

// newHandler returns the handler of c. The webhooks' clients are providers
// that do not follow redirects, so a path that is not clean answers 404,
// and what cannot be read answers in the webhooks' error shape
// (http.Error's).
func newHandler(c callbacks) handler {
	s := lambdaedge.Sources{HTTP: lambdaedge.HTTP{Handler: c.HTTP, CleanPathsOnly: true}.Serve, Log: c.Log}
	if c.SMSLogs != nil {
		s.Logs = c.SMSLogs.ApplyLogs
	}
	router := c.SNS
	if router == nil {
		router = webhook.NewSNSRouter(c.Log)
	}
	s.SNS = func(ctx context.Context, e events.SNSEntity) error {
		return router.Apply(ctx, webhook.Notification{Type: e.Type, MessageID: e.MessageID, TopicArn: e.TopicArn, Subject: e.Subject,
			Message: e.Message, Timestamp: e.Timestamp})
	}
	// SES's events come through a queue subscribed to their topic, ten to
	// an invocation (template.yaml's SesEventsQueue): the same notifications.
	s.SQS = lambdaedge.NotificationsFromQueue(s.SNS, c.Log)
	return handler{sources: s, metrics: c.Metrics}
}

// Invoke routes one invocation by its shape (lambdaedge.Sources).
func (h handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if h.metrics != nil {
		defer h.metrics.Flush()
	}
	return h.sources.Invoke(ctx, payload)
}
