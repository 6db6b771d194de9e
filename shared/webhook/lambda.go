package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Lambda is the callbacks function's handler. The function is invoked two
// ways: by API Gateway for the webhook routes (HTTP API payload 2.0,
// served by an http.Handler), and by CloudWatch Logs subscriptions carrying SNS's SMS
// delivery-status records (SMS.HandleLogs). It implements lambda.Handler.
type Lambda struct {
	proxy *httpadapter.HandlerAdapterV2
	sms   *SMS
}

// NewLambda returns the handler of the callbacks function: h serves the
// API Gateway requests, sms (nil when SMS status is not configured) the
// logs events.
func NewLambda(h http.Handler, sms *SMS) *Lambda {
	return &Lambda{proxy: httpadapter.NewV2(h), sms: sms}
}

// Invoke routes one invocation by its shape: CloudWatch Logs events are an
// object with the single key "awslogs".
func (l *Lambda) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var probe struct {
		AWSLogs *json.RawMessage `json:"awslogs"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return nil, fmt.Errorf("callbacks: invocation is not JSON: %w", err)
	}
	if probe.AWSLogs != nil {
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("callbacks: logs event: %w", err)
		}
		if l.sms == nil {
			return nil, fmt.Errorf("callbacks: a logs event, but SMS status is not configured")
		}
		return []byte("null"), l.sms.HandleLogs(ctx, ev)
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, fmt.Errorf("callbacks: http event: %w", err)
	}
	res, err := l.proxy.ProxyWithContext(ctx, req)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}
