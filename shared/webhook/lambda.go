package webhook

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// LambdaConfig is what the callbacks function's handler serves.
type LambdaConfig struct {
	// HTTP serves the API Gateway requests (HTTP API payload 2.0).
	HTTP http.Handler
	// SMSLogs applies the CloudWatch Logs subscription events that carry
	// SNS's SMS delivery status; nil when SMS status is not configured.
	SMSLogs *SMS
	// SNS are the endpoints (*SES, *Push, *SMS) that take SNS
	// notifications delivered to the function itself (an SNS subscription
	// with the lambda protocol, or a notification replayed from a
	// dead-letter queue), each for the topics its SNSOptions.TopicARNs
	// name. An endpoint without TopicARNs takes none.
	SNS []SNSReceiver
	// Log takes the invocations the function cannot use.
	Log *slog.Logger
	// Metrics, the figures the endpoints count (their Metrics), is flushed
	// at the end of each invocation, before the handler returns and
	// Lambda may freeze the process; nil flushes nothing.
	Metrics Flusher
}

// Lambda is the callbacks function's handler. The function is invoked
// three ways: by API Gateway for the webhook routes, by CloudWatch Logs
// subscriptions carrying SNS's SMS delivery-status records, and by SNS
// with notifications of the topics LambdaConfig.SNS take. It implements
// lambda.Handler.
type Lambda struct {
	http    http.Handler
	sms     *SMS
	sns     []snsReceiver
	log     *slog.Logger
	metrics Flusher
}

// NewLambda returns the handler of the callbacks function.
func NewLambda(c LambdaConfig) *Lambda {
	l := &Lambda{http: c.HTTP, sms: c.SMSLogs, log: c.Log, metrics: c.Metrics}
	if l.http == nil {
		l.http = http.NotFoundHandler()
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range c.SNS {
		l.sns = append(l.sns, r.snsReceiver())
	}
	return l
}

// errUnknownInvocation is the error of an invocation of no shape the
// function takes. It is an error rather than an answer so that an event
// sent here by mistake is retried and kept (the function's dead-letter
// queue, its errors alarm) instead of being acknowledged and lost.
var errUnknownInvocation = errors.New("callbacks: not an API Gateway HTTP API (payload 2.0), CloudWatch Logs or SNS event")

// Invoke routes one invocation by its shape: CloudWatch Logs events are an
// object with the single key "awslogs", SNS events a list of Records from
// aws:sns, and API Gateway HTTP API events carry version "2.0" and the
// request's method.
func (l *Lambda) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if l.metrics != nil {
		defer l.metrics.Flush()
	}
	var probe struct {
		AWSLogs        json.RawMessage `json:"awslogs"`
		Records        json.RawMessage `json:"Records"`
		Version        string          `json:"version"`
		RequestContext *struct {
			HTTP struct {
				Method string `json:"method"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		l.log.Error("callbacks invocation that is not a JSON object")
		return nil, fmt.Errorf("callbacks: invocation is not a JSON object: %w", err)
	}
	switch {
	case probe.AWSLogs != nil:
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("callbacks: logs event: %w", err)
		}
		if l.sms == nil {
			l.log.Error("callbacks: a logs event, but SMS status is not configured")
			return nil, fmt.Errorf("callbacks: a logs event, but SMS status is not configured")
		}
		return []byte("null"), l.sms.HandleLogs(ctx, ev)
	case probe.Records != nil:
		var ev events.SNSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			l.log.Error("callbacks: records that are not an SNS event", "err", err.Error())
			return nil, fmt.Errorf("callbacks: records that are not an SNS event: %w", err)
		}
		return []byte("null"), l.handleSNS(ctx, ev)
	case probe.Version == "2.0" && probe.RequestContext != nil && probe.RequestContext.HTTP.Method != "":
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, fmt.Errorf("callbacks: http event: %w", err)
		}
		res, err := l.serveHTTP(ctx, req)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res)
	}
	l.log.Error("callbacks invocation of an unknown shape", "version", probe.Version)
	return nil, errUnknownInvocation
}

// serveHTTP serves one API Gateway request. A request the gateway passes
// on but no http.Request can be made of (a body marked base64 that is
// not, a path that does not parse) is the client's: it answers 400 rather
// than failing the invocation, which the gateway would turn into a 500.
// A path with empty, "." or ".." segments answers 404: a ServeMux would
// redirect it to its cleaned form, and the routes' clients are providers
// that do not follow redirects.
func (l *Lambda) serveHTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if req.IsBase64Encoded {
		body, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return plainAnswer(http.StatusBadRequest, "the request body is marked base64 but is not valid base64"), nil
		}
		req.Body, req.IsBase64Encoded = string(body), false
	}
	var ra core.RequestAccessorV2
	r, err := ra.EventToRequestWithContext(ctx, req)
	if err != nil {
		return plainAnswer(http.StatusBadRequest, "the request cannot be read"), nil
	}
	if !cleanPath(r.URL.Path) {
		return plainAnswer(http.StatusNotFound, "404 page not found"), nil
	}
	w := core.NewProxyResponseWriterV2()
	l.http.ServeHTTP(w, r)
	return w.GetProxyResponse()
}

// plainAnswer is an answer in the webhooks' error shape (http.Error's).
func plainAnswer(status int, text string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"},
		Body:       text + "\n",
	}
}

// cleanPath reports whether p is already in the form a ServeMux cleans
// paths to (no empty, "." or ".." segments; a trailing slash kept).
func cleanPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// SNSReceiver is an SNS endpoint (*SES, *Push, *SMS) that can also take
// the notifications SNS delivers to the callbacks function itself.
type SNSReceiver interface {
	snsReceiver() snsReceiver
}

// snsReceiver is an SNS endpoint as the Lambda handler routes to it.
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

// handleSNS applies the notifications of an SNS event, each by the
// endpoint of its topic. SNS invokes the function asynchronously, so an
// error is retried by Lambda and then kept on the function's dead-letter
// queue; every apply is idempotent, so records applied before a failed
// one may be applied again. A record of a topic no endpoint takes, or of
// another event source, is such an error too: acknowledging it would lose
// it.
//
// No signature is checked: only principals the function's resource policy
// names (the SNS topics subscribed to it, the account's operators) can
// invoke it, and SNS keeps retrying a Lambda delivery for days, so the
// one-hour age limit of the HTTPS endpoints does not apply either.
func (l *Lambda) handleSNS(ctx context.Context, ev events.SNSEvent) error {
	if len(ev.Records) == 0 {
		l.log.Error("callbacks: an event with no records")
		return errUnknownInvocation
	}
	for _, rec := range ev.Records {
		e := rec.SNS
		if rec.EventSource != "aws:sns" {
			l.log.Error("callbacks: records of another event source", "eventSource", rec.EventSource)
			return fmt.Errorf("callbacks: a record of %q, not aws:sns", rec.EventSource)
		}
		if e.Type != snsNotification {
			l.log.Error("callbacks: sns record that is not a notification", "type", e.Type, "messageId", e.MessageID, "topicArn", e.TopicArn)
			return fmt.Errorf("callbacks: sns record %s of type %q, not %s", e.MessageID, e.Type, snsNotification)
		}
		r, ok := l.receiver(e.TopicArn)
		if !ok {
			l.log.Error("callbacks: sns notification of a topic no endpoint takes", "messageId", e.MessageID, "topicArn", e.TopicArn)
			return fmt.Errorf("callbacks: sns notification %s of topic %s: no endpoint takes this topic", e.MessageID, e.TopicArn)
		}
		m := &snsMessage{Type: e.Type, MessageID: e.MessageID, TopicArn: e.TopicArn, Message: e.Message,
			Timestamp: e.Timestamp.UTC().Format(time.RFC3339Nano)}
		if e.Subject != "" {
			m.Subject = &e.Subject
		}
		if err := r.apply(ctx, m); err != nil {
			l.log.Error(r.name+" notification", "messageId", e.MessageID, "err", err.Error())
			return fmt.Errorf("callbacks: %s notification %s: %w", r.name, e.MessageID, err)
		}
	}
	return nil
}

// receiver is the first endpoint that takes topic.
func (l *Lambda) receiver(topic string) (snsReceiver, bool) {
	for _, r := range l.sns {
		if topic != "" && slices.Contains(r.topics, topic) {
			return r, true
		}
	}
	return snsReceiver{}, false
}
