package lambdaedge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Sources is the handler of a function invoked by several event sources:
// it tells an invocation's source by its shape and hands it, decoded, to
// that source's handler. A CloudWatch Logs event is an object with the
// single key "awslogs"; SNS and SQS events are a list of Records whose
// eventSource says which; an API Gateway HTTP API event carries version
// "2.0" and the request's method. It implements lambda.Handler.
//
// An invocation of a shape no handler takes is an error rather than an
// answer, logged, so that an event sent to the function by mistake is
// retried and kept (the function's dead-letter queue, its errors alarm)
// instead of being acknowledged and lost.
type Sources struct {
	// HTTP serves API Gateway HTTP API requests (HTTP.Serve).
	HTTP func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	// Logs applies the log events of a CloudWatch Logs subscription: the
	// messages of log group group. A subscription invokes asynchronously,
	// so an error is retried by Lambda. A payload that cannot be decoded
	// is logged and dropped (retrying cannot help), and CloudWatch Logs'
	// CONTROL_MESSAGE (checking that the destination is reachable) is
	// acknowledged without a call.
	Logs func(ctx context.Context, group string, messages []string) error
	// SNS applies the notifications of an SNS event, in order; the first
	// error stops the invocation and is returned, so that Lambda retries
	// the event and then keeps it (every apply must be idempotent). A
	// record of another source in the event is such an error too.
	SNS func(ctx context.Context, n events.SNSEntity) error
	// SQS handles an SQS batch and reports its failed records
	// (BatchResponse).
	SQS func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse
	// Other takes any other JSON invocation (an EventBridge Scheduler
	// target input, say); its result is the invocation's answer.
	Other func(ctx context.Context, payload []byte) (any, error)
	// Log takes the invocations the function cannot use; nil logs nothing.
	Log *slog.Logger
}

// errUnknownInvocation is the error of an invocation of no shape the
// function takes.
var errUnknownInvocation = errors.New("invocation of no shape this function takes")

// Invoke routes one invocation by its shape.
func (s Sources) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var probe struct {
		AWSLogs *events.CloudwatchLogsRawData `json:"awslogs"`
		Records []struct {
			EventSource string `json:"eventSource"` // SNS spells it EventSource; decoding ignores case
		} `json:"Records"`
		Version        string `json:"version"`
		RequestContext *struct {
			HTTP struct {
				Method string `json:"method"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		s.log().Error("invocation that is not a JSON object")
		return nil, fmt.Errorf("invocation is not a JSON object: %w", err)
	}
	switch {
	case probe.AWSLogs != nil && s.Logs != nil:
		return null, s.logs(ctx, *probe.AWSLogs)
	case len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sns" && s.SNS != nil:
		var ev events.SNSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			s.log().Error("records that are not an SNS event", "err", err.Error())
			return nil, fmt.Errorf("records that are not an SNS event: %w", err)
		}
		return null, s.sns(ctx, ev)
	case len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs" && s.SQS != nil:
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			s.log().Error("records that are not an SQS event", "err", err.Error())
			return nil, fmt.Errorf("records that are not an SQS event: %w", err)
		}
		return encode(s.SQS(ctx, ev))
	case probe.Version == "2.0" && probe.RequestContext != nil && probe.RequestContext.HTTP.Method != "" && s.HTTP != nil:
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("http event: %w", err)
		}
		res, err := s.HTTP(ctx, ev)
		if err != nil {
			return nil, err
		}
		return encode(res)
	case s.Other != nil:
		out, err := s.Other(ctx, payload)
		if err != nil {
			return nil, err
		}
		return encode(out)
	case len(probe.Records) > 0 && (s.SNS != nil || s.SQS != nil):
		s.log().Error("records of another event source", "eventSource", probe.Records[0].EventSource)
		return nil, fmt.Errorf("%w: records of %q, not %s", errUnknownInvocation, probe.Records[0].EventSource, s.recordSources())
	}
	s.log().Error("invocation of an unknown shape", "version", probe.Version)
	return nil, fmt.Errorf("%w: not %s", errUnknownInvocation, s.shapes())
}

// null is the answer of an invocation that has none (a logs or SNS event).
var null = []byte("null")

// logs decodes a CloudWatch Logs subscription event for Logs.
func (s Sources) logs(ctx context.Context, raw events.CloudwatchLogsRawData) error {
	data, err := raw.Parse()
	if err != nil {
		s.log().Warn("logs event that cannot be decoded: dropped", "err", err.Error())
		return nil
	}
	if data.MessageType == "CONTROL_MESSAGE" {
		return nil
	}
	messages := make([]string, len(data.LogEvents))
	for i, le := range data.LogEvents {
		messages[i] = le.Message
	}
	return s.Logs(ctx, data.LogGroup, messages)
}

// sns hands the event's notifications to SNS, in order.
func (s Sources) sns(ctx context.Context, ev events.SNSEvent) error {
	for _, rec := range ev.Records {
		if rec.EventSource != "aws:sns" {
			s.log().Error("a record of another event source among SNS records", "eventSource", rec.EventSource)
			return fmt.Errorf("a record of %q, not aws:sns", rec.EventSource)
		}
		if err := s.SNS(ctx, rec.SNS); err != nil {
			return err
		}
	}
	return nil
}

// shapes names the invocations the function takes, for its errors.
func (s Sources) shapes() string {
	var names []string
	for _, n := range []struct {
		set  bool
		name string
	}{
		{s.HTTP != nil, "an API Gateway HTTP API (payload 2.0)"},
		{s.Logs != nil, "CloudWatch Logs"},
		{s.SNS != nil, "SNS"},
		{s.SQS != nil, "SQS"},
	} {
		if n.set {
			names = append(names, n.name)
		}
	}
	switch len(names) {
	case 0:
		return "an event this function takes"
	case 1:
		return names[0] + " event"
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + " event"
}

// recordSources names the eventSource values the function takes.
func (s Sources) recordSources() string {
	var names []string
	if s.SNS != nil {
		names = append(names, "aws:sns")
	}
	if s.SQS != nil {
		names = append(names, "aws:sqs")
	}
	return strings.Join(names, " or ")
}

func (s Sources) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// encode writes v as the Lambda runtime writes a handler's result: JSON
// without HTML escaping.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode the answer: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
