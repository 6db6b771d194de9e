package lambdaedge

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

// calls records what each handler of a Sources was given.
type calls struct {
	got     []string
	failSNS error
}

func (c *calls) sources(log *slog.Logger) Sources {
	return Sources{
		HTTP: func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			c.got = append(c.got, "http "+ev.RawPath)
			return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
		},
		Logs: func(_ context.Context, group string, messages []string) error {
			c.got = append(c.got, "logs "+group+" "+strings.Join(messages, "|"))
			return nil
		},
		SNS: func(_ context.Context, n events.SNSEntity) error {
			c.got = append(c.got, "sns "+n.MessageID)
			return c.failSNS
		},
		Log: log,
	}
}

// logsPayload is a CloudWatch Logs subscription event of messages,
// gzipped and base64-encoded as CloudWatch Logs sends it.
func logsPayload(t *testing.T, messageType string, messages ...string) []byte {
	t.Helper()
	data := events.CloudwatchLogsData{Owner: "123456789012", LogGroup: "group-1", LogStream: "s", MessageType: messageType}
	for _, m := range messages {
		data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{ID: m, Message: m})
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(events.CloudwatchLogsEvent{AWSLogs: events.CloudwatchLogsRawData{Data: base64.StdEncoding.EncodeToString(buf.Bytes())}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func snsPayload(t *testing.T, sources ...string) []byte {
	t.Helper()
	var ev events.SNSEvent
	for i, s := range sources {
		ev.Records = append(ev.Records, events.SNSEventRecord{EventSource: s, SNS: events.SNSEntity{MessageID: "n" + string(rune('1'+i)), Type: "Notification"}})
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSourcesRoute: each shape reaches its handler, decoded; what no
// handler takes is an error, logged, never an answer.
func TestSourcesRoute(t *testing.T) {
	httpEvent, _ := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/webhooks/x",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/webhooks/x"}}})
	sqsPayload, _ := json.Marshal(sqsEvent("a"))
	tests := []struct {
		name      string
		payload   []byte
		failSNS   error
		wantOut   string
		wantCalls []string
		wantErr   string // "" for success
	}{
		{"http", httpEvent, nil, `{"statusCode":204,"headers":null,"multiValueHeaders":null,"body":"","cookies":null}`, []string{"http /webhooks/x"}, ""},
		{"logs", logsPayload(t, "DATA_MESSAGE", "r1", "r2"), nil, "null", []string{"logs group-1 r1|r2"}, ""},
		{"logs control message", logsPayload(t, "CONTROL_MESSAGE", "CWL CONTROL MESSAGE"), nil, "null", nil, ""},
		{"logs that cannot be decoded are dropped", []byte(`{"awslogs":{"data":"not base64!"}}`), nil, "null", nil, ""},
		{"sns", snsPayload(t, "aws:sns", "aws:sns"), nil, "null", []string{"sns n1", "sns n2"}, ""},
		{"sns stops at the first failure", snsPayload(t, "aws:sns", "aws:sns"), errors.New("store down"), "", []string{"sns n1"}, "store down"},
		{"sns with a record of another source", snsPayload(t, "aws:sns", "aws:sqs"), nil, "", []string{"sns n1"}, `"aws:sqs", not aws:sns`},
		{"sqs records", sqsPayload, nil, "", nil, `records of "aws:sqs", not aws:sns`},
		{"s3 records", []byte(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put"}]}`), nil, "", nil, `records of "aws:s3", not aws:sns`},
		{"no records", []byte(`{"Records":[]}`), nil, "", nil, "not an API Gateway HTTP API (payload 2.0), CloudWatch Logs or SNS event"},
		{"empty object", []byte(`{}`), nil, "", nil, "not an API Gateway"},
		{"REST API event", []byte(`{"version":"1.0","httpMethod":"POST","path":"/webhooks/x"}`), nil, "", nil, "not an API Gateway"},
		{"version alone", []byte(`{"version":"2.0"}`), nil, "", nil, "not an API Gateway"},
		{"array", []byte(`[]`), nil, "", nil, "not a JSON object"},
		{"string", []byte(`"x"`), nil, "", nil, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			c := &calls{failSNS: tt.failSNS}
			out, err := lambda.NewHandler(c.sources(slog.New(slog.NewJSONHandler(&logs, nil)))).Invoke(context.Background(), tt.payload)
			switch {
			case tt.wantErr == "" && (err != nil || string(out) != tt.wantOut):
				t.Errorf("Invoke = %s, %v; want %s", out, err, tt.wantOut)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Invoke = %s, %v; want an error with %q", out, err, tt.wantErr)
			case tt.wantErr != "" && tt.failSNS == nil && !strings.Contains(logs.String(), `"level":"ERROR"`):
				t.Errorf("refused invocation logged %q, want an ERROR line", logs.String())
			}
			if diff := cmp.Diff(tt.wantCalls, c.got); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSourcesUnset: a shape whose handler is not set is refused; Other
// takes what no handler does, SQS batches go to SQS.
func TestSourcesUnset(t *testing.T) {
	logs := logsPayload(t, "DATA_MESSAGE", "r1")
	if _, err := (Sources{}).Invoke(context.Background(), logs); err == nil || !strings.Contains(err.Error(), "not an event this function takes") {
		t.Errorf("logs event with no handlers = %v, want refused", err)
	}
	var got []string
	s := Sources{
		SQS: func(_ context.Context, ev events.SQSEvent) events.SQSEventResponse {
			got = append(got, "sqs "+ev.Records[0].Body)
			return BatchResponse(ev, []error{errors.New("again")})
		},
		Other: func(_ context.Context, payload []byte) (any, error) {
			got = append(got, "other "+string(payload))
			return map[string]string{"status": "<ok>"}, nil
		},
	}
	sqsPayload, _ := json.Marshal(sqsEvent("a"))
	for _, tt := range []struct {
		payload, want string
	}{
		{string(sqsPayload), `{"batchItemFailures":[{"itemIdentifier":"m1"}]}`},
		{`{"campaignId":"c1"}`, `{"status":"<ok>"}`},
		{string(logs), `{"status":"<ok>"}`},
		{string(snsPayload(t, "aws:sns")), `{"status":"<ok>"}`},
	} {
		out, err := s.Invoke(context.Background(), []byte(tt.payload))
		if err != nil || string(out) != tt.want {
			t.Errorf("Invoke(%.40s…) = %s, %v; want %s", tt.payload, out, err, tt.want)
		}
	}
	if len(got) != 4 || !strings.HasPrefix(got[0], "sqs a") || !strings.HasPrefix(got[1], "other ") {
		t.Errorf("calls = %q, want sqs then others", got)
	}
}

// TestSourcesSampleLogsEvent decodes the callbacks function's sample
// CloudWatch Logs event: SNS's SMS delivery-status log group, one record.
func TestSourcesSampleLogsEvent(t *testing.T) {
	payload, err := os.ReadFile("../../events/callbacks-sms-status.json")
	if err != nil {
		t.Fatal(err)
	}
	var group string
	var messages []string
	s := Sources{Logs: func(_ context.Context, g string, ms []string) error { group, messages = g, ms; return nil }}
	if _, err := s.Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(group, "sns/") || !strings.HasSuffix(group, "/DirectPublishToPhoneNumber") || len(messages) != 1 || !strings.Contains(messages[0], `"status":"SUCCESS"`) {
		t.Errorf("logs = %q %q, want SNS's SMS log group and its one record", group, messages)
	}
}
