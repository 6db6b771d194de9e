package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Notification is an SNS notification handed to Herald directly rather
// than posted to an HTTPS endpoint: SNS delivering to the callbacks
// function itself (a subscription with the lambda protocol), or a
// notification replayed from a dead-letter queue. The function's edge
// decodes it from the event.
type Notification struct {
	Type      string // "Notification" is the only type taken
	MessageID string
	TopicArn  string
	Subject   string // "" when the notification has none
	Message   string
	Timestamp time.Time
}

// SNSReceiver is an SNS endpoint (*SES, *Push, *SMS) that can also take
// its topics' notifications directly (SNSRouter).
type SNSReceiver interface {
	snsReceiver() snsReceiver
}

// snsReceiver is an SNS endpoint as SNSRouter routes to it.
type snsReceiver struct {
	name   string
	topics []string
	apply  func(ctx context.Context, m *snsMessage) error
}

func (h *SES) snsReceiver() snsReceiver {
	return snsReceiver{name: "ses", topics: h.TopicARNs, apply: h.apply}
}

func (h *Push) snsReceiver() snsReceiver {
	return snsReceiver{name: "push", topics: h.TopicARNs, apply: h.apply}
}

func (h *SMS) snsReceiver() snsReceiver {
	return snsReceiver{name: "sms", topics: h.TopicARNs, apply: h.applySNS}
}

// SNSRouter applies the notifications handed to Herald directly, each by
// the endpoint whose SNSOptions.TopicARNs name its topic (an endpoint
// without TopicARNs takes none), as that endpoint's HTTPS route would.
//
// No signature is checked: only principals the callbacks function's
// resource policy names (the SNS topics subscribed to it, the account's
// operators) can invoke it, and SNS keeps retrying a Lambda delivery for
// days, so the one-hour age limit of the HTTPS endpoints does not apply
// either.
type SNSRouter struct {
	receivers []snsReceiver
	log       *slog.Logger
}

// NewSNSRouter returns the router to receivers; the first that takes a
// topic gets its notifications. log takes the notifications it refuses.
func NewSNSRouter(log *slog.Logger, receivers ...SNSReceiver) *SNSRouter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &SNSRouter{log: log}
	for _, rc := range receivers {
		r.receivers = append(r.receivers, rc.snsReceiver())
	}
	return r
}

// Apply applies n by the endpoint of its topic. SNS invokes the function
// asynchronously, so an error is retried by Lambda and then kept on the
// function's dead-letter queue; every apply is idempotent. A notification
// of a topic no endpoint takes, or that is not a notification at all, is
// such an error too: acknowledging it would lose it.
func (r *SNSRouter) Apply(ctx context.Context, n Notification) error {
	if n.Type != snsNotification {
		r.log.Error("sns record that is not a notification", "type", n.Type, "messageId", n.MessageID, "topicArn", n.TopicArn)
		return fmt.Errorf("sns record %s of type %q, not %s", n.MessageID, n.Type, snsNotification)
	}
	rc, ok := r.receiver(n.TopicArn)
	if !ok {
		r.log.Error("sns notification of a topic no endpoint takes", "messageId", n.MessageID, "topicArn", n.TopicArn)
		return fmt.Errorf("sns notification %s of topic %s: no endpoint takes this topic", n.MessageID, n.TopicArn)
	}
	m := &snsMessage{Type: n.Type, MessageID: n.MessageID, TopicArn: n.TopicArn, Message: n.Message,
		Timestamp: n.Timestamp.UTC().Format(time.RFC3339Nano)}
	if n.Subject != "" {
		m.Subject = &n.Subject
	}
	if err := rc.apply(ctx, m); err != nil {
		r.log.Error(rc.name+" notification", "messageId", n.MessageID, "err", err.Error())
		return fmt.Errorf("%s notification %s: %w", rc.name, n.MessageID, err)
	}
	return nil
}

// receiver is the first endpoint that takes topic.
func (r *SNSRouter) receiver(topic string) (snsReceiver, bool) {
	for _, rc := range r.receivers {
		if topic != "" && slices.Contains(rc.topics, topic) {
			return rc, true
		}
	}
	return snsReceiver{}, false
}
