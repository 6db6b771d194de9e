package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/webhook"
)

// What the sample events name: the workspace, notification and user of
// the SES bounce and the WhatsApp status, the SES event topic, and the
// SNS MessageId of the SMS the logs event reports.
const (
	sampleWS       = "ws_example"
	sampleNotif    = "01M7YWX24G4TFF59TDWH9EDD1R"
	sampleUser     = "u1"
	sampleTo       = "ana@example.com"
	sampleSESTopic = "arn:aws:sns:us-east-1:123456789012:herald-SesEventsTopic-Q1w2E3r4T5y6"
	sampleSMSID    = "34d9b400-c6dd-5444-820d-fbeb0f1f54cf"
	samplePhone    = "+34600000001"
)

var sent = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *boltstore.Store {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// seedDelivery stores the sample notification on channel ch, sent to the
// sample user (tracked by SNS's message id messageID for an SMS), and the
// user with address addr.
func seedDelivery(t *testing.T, store *boltstore.Store, ch notify.Channel, messageID, addr string) {
	t.Helper()
	ctx := context.Background()
	n := notify.Notification{WorkspaceID: sampleWS, ID: sampleNotif, Channel: ch, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: 1, Sent: 1}, CreatedAt: sent, Content: notify.Template{Body: "x"}}
	if err := store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	d := notify.Delivery{WorkspaceID: sampleWS, NotificationID: sampleNotif, Key: sampleUser, UserID: sampleUser, Channel: ch,
		Status: notify.DeliverySent, ProviderMessageID: messageID, CreatedAt: sent, UpdatedAt: sent}
	if _, err := store.RecordDeliveries(ctx, []notify.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	u := notify.User{WorkspaceID: sampleWS, ID: sampleUser, CreatedAt: sent, UpdatedAt: sent}
	if ch == notify.ChannelEmail {
		u.Email = addr
	} else {
		u.Phone = addr
	}
	if _, err := store.PutUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// delivery is the sample delivery as "status/reason".
func delivery(t *testing.T, store *boltstore.Store) string {
	t.Helper()
	ds, err := store.GetDeliveries(context.Background(), sampleWS, sampleNotif, []string{sampleUser})
	if err != nil {
		t.Fatal(err)
	}
	return string(ds[sampleUser].Status) + "/" + ds[sampleUser].Reason
}

// readEvent reads a sample event of events/, edited by edit when not nil
// (as a generic JSON tree, so no field is lost on the way).
func readEvent(t *testing.T, name string, edit func(map[string]any)) []byte {
	t.Helper()
	payload, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if edit == nil {
		return payload
	}
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	edit(ev)
	if payload, err = json.Marshal(ev); err != nil {
		t.Fatal(err)
	}
	return payload
}

// smsStatus is an SNS SMS delivery-status record of the sample SMS.
func smsStatus(status string) string {
	return `{"notification":{"messageId":"` + sampleSMSID + `","timestamp":"2026-11-21 09:40:34.558"},` +
		`"delivery":{"destination":"` + samplePhone + `","providerResponse":"Message has been accepted by phone carrier"},"status":"` + status + `"}`
}

// logsEvent is a CloudWatch Logs subscription event carrying the records,
// gzipped and base64-encoded as CloudWatch Logs sends it.
func logsEvent(t *testing.T, records ...string) []byte {
	t.Helper()
	data := events.CloudwatchLogsData{Owner: "123456789012", LogGroup: "sns/eu-west-1/123456789012/DirectPublishToPhoneNumber",
		LogStream: "a1b2c3", MessageType: "DATA_MESSAGE", SubscriptionFilters: []string{"herald-sms-status"}}
	for i, r := range records {
		data.LogEvents = append(data.LogEvents, events.CloudwatchLogsLogEvent{ID: string(rune('0' + i)), Timestamp: sent.UnixMilli(), Message: r})
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

// TestRoutesByShape: the callbacks function takes API Gateway HTTP events
// and CloudWatch Logs events through one handler.
func TestRoutesByShape(t *testing.T) {
	store := openStore(t)
	seedDelivery(t, store, notify.ChannelSMS, sampleSMSID, samplePhone)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: "app-secret", VerifyToken: "vt", Log: slog.New(slog.DiscardHandler)})
	h := newHandler(callbacks{HTTP: mux, SMSLogs: &webhook.SMS{Store: store, Log: slog.New(slog.DiscardHandler)}})

	httpEvent, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/webhooks/whatsapp", RawQueryString: "hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/webhooks/whatsapp"}},
	})
	out, err := h.Invoke(context.Background(), httpEvent)
	if err != nil {
		t.Fatal(err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil || res.StatusCode != 200 || res.Body != "1158201444" {
		t.Errorf("handshake through Invoke = %+v, %v; want 200 echoing the challenge", res, err)
	}

	logs := logsEvent(t, smsStatus("SUCCESS"))
	if _, err := h.Invoke(context.Background(), logs); err != nil {
		t.Fatal(err)
	}
	if got := delivery(t, store); got != "delivered/" {
		t.Errorf("after a logs event through Invoke, the SMS = %s, want delivered", got)
	}
	if _, err := h.Invoke(context.Background(), []byte("not json")); err == nil {
		t.Error("Invoke(not json) = nil error")
	}
	if _, err := newHandler(callbacks{HTTP: mux}).Invoke(context.Background(), logs); err == nil {
		t.Error("a logs event without SMS configured = nil error, want one (the event would be lost silently)")
	}
}

// TestSampleSMSStatusEvent runs events/callbacks-sms-status.json through
// the handler, as make invoke does.
func TestSampleSMSStatusEvent(t *testing.T) {
	store := openStore(t)
	seedDelivery(t, store, notify.ChannelSMS, sampleSMSID, samplePhone) // the sample's message id
	h := newHandler(callbacks{HTTP: http.NewServeMux(), SMSLogs: &webhook.SMS{Store: store, Log: slog.New(slog.DiscardHandler)}})
	if _, err := lambda.NewHandler(h).Invoke(context.Background(), readEvent(t, "callbacks-sms-status.json", nil)); err != nil {
		t.Fatal(err)
	}
	if got := delivery(t, store); got != "delivered/" {
		t.Errorf("after the sample event, the SMS = %s, want delivered", got)
	}
}

// TestSampleSESBounceEvent runs events/callbacks-ses-bounce.json, SNS
// delivering an SES bounce to the function itself, through the handler:
// it must be applied as /webhooks/ses would, not answered as an HTTP
// request to no route (a 404 Lambda counts as a success: the bounce would
// be lost and Herald would keep mailing the address).
func TestSampleSESBounceEvent(t *testing.T) {
	store := openStore(t)
	seedDelivery(t, store, notify.ChannelEmail, "", sampleTo)
	ses := &webhook.SES{Store: store, Log: slog.New(slog.DiscardHandler), SNSOptions: webhook.SNSOptions{TopicARNs: []string{sampleSESTopic}}}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/ses", ses)
	h := lambda.NewHandler(newHandler(callbacks{HTTP: mux, SNS: webhook.NewSNSRouter(nil, ses)}))
	for range 2 { // SNS may deliver twice
		if out, err := h.Invoke(context.Background(), readEvent(t, "callbacks-ses-bounce.json", nil)); err != nil || string(out) != "null" {
			t.Fatalf("Invoke(sample SES bounce) = %s, %v; want null, nil", out, err)
		}
	}
	if got := delivery(t, store); got != "failed/bounce" {
		t.Errorf("after the sample bounce, the delivery is %s, want failed/bounce", got)
	}
	u, err := store.GetUser(context.Background(), sampleWS, sampleUser)
	if err != nil {
		t.Fatal(err)
	}
	if on, set := u.Preferences.Channels[notify.ChannelEmail]; !set || on {
		t.Errorf("after the sample bounce, %s's email preference is %v (set %v), want off", sampleUser, on, set)
	}
}

// TestSampleSESQueueEvent runs events/callbacks-ses-queue.json, the same
// bounce through SesEventsQueue, through the handler: applied as the
// direct one is, the batch answered with no failure; a record the router
// cannot apply is a batch item failure (it comes back, then waits in the
// dead-letter queue), not a lost event.
func TestSampleSESQueueEvent(t *testing.T) {
	store := openStore(t)
	seedDelivery(t, store, notify.ChannelEmail, "", sampleTo)
	ses := &webhook.SES{Store: store, Log: slog.New(slog.DiscardHandler), SNSOptions: webhook.SNSOptions{TopicARNs: []string{sampleSESTopic}}}
	h := lambda.NewHandler(newHandler(callbacks{HTTP: http.NewServeMux(), SNS: webhook.NewSNSRouter(nil, ses)}))
	for range 2 { // SQS may deliver twice
		out, err := h.Invoke(context.Background(), readEvent(t, "callbacks-ses-queue.json", nil))
		if err != nil || string(out) != `{"batchItemFailures":[]}` {
			t.Fatalf("Invoke(sample SES queue batch) = %s, %v; want no batch item failures", out, err)
		}
	}
	if got := delivery(t, store); got != "failed/bounce" {
		t.Errorf("after the queued bounce, the delivery is %s, want failed/bounce", got)
	}
	// A topic the function does not take: the record fails and comes back.
	other := strings.ReplaceAll(string(readEvent(t, "callbacks-ses-queue.json", nil)), "herald-SesEventsTopic-", "herald-OtherTopic-")
	out, err := h.Invoke(context.Background(), []byte(other))
	if err != nil || !strings.Contains(string(out), `"itemIdentifier":"5c1d9e0a-7f3b-4d62-9a81-2b6c4e8f0d13"`) {
		t.Errorf("Invoke(a notification of another topic) = %s, %v; want its record failed", out, err)
	}
}

// snsRecordOf is the first record's Sns object of a decoded SNS event.
func snsRecordOf(ev map[string]any) map[string]any {
	return ev["Records"].([]any)[0].(map[string]any)["Sns"].(map[string]any)
}

// sampleNotification is the notification of events/callbacks-ses-bounce.json
// as the router should get it, with subject.
func sampleNotification(t *testing.T, subject string) webhook.Notification {
	t.Helper()
	var ev events.SNSEvent
	if err := json.Unmarshal(readEvent(t, "callbacks-ses-bounce.json", nil), &ev); err != nil {
		t.Fatal(err)
	}
	e := ev.Records[0].SNS
	return webhook.Notification{Type: e.Type, MessageID: e.MessageID, TopicArn: e.TopicArn, Subject: subject, Message: e.Message, Timestamp: e.Timestamp}
}

// TestSNSRecords: SNS records reach the router as notifications, and
// records that are not SNS's, or none, are an invocation error (logged),
// so that Lambda retries them and then keeps them on the function's
// dead-letter queue. (webhook's TestSNSRouter routes by topic.)
func TestSNSRecords(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(map[string]any)
		wantErr string // in the error; "" for success
		want    []webhook.Notification
	}{
		{name: "the sample", want: []webhook.Notification{sampleNotification(t, "")}},
		{name: "the subject is passed on", edit: func(ev map[string]any) { snsRecordOf(ev)["Subject"] = "Amazon SES Email Event Notification" },
			want: []webhook.Notification{sampleNotification(t, "Amazon SES Email Event Notification")}},
		{name: "records of another source are refused", edit: func(ev map[string]any) {
			ev["Records"].([]any)[0].(map[string]any)["EventSource"] = "aws:kinesis"
		}, wantErr: "not aws:sns"},
		{name: "an S3 event is refused", edit: func(ev map[string]any) {
			ev["Records"] = []any{map[string]any{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}}
		}, wantErr: "not aws:sns"},
		{name: "no records is refused", edit: func(ev map[string]any) { ev["Records"] = []any{} }, wantErr: "not an API Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			r := &routerRecorder{}
			h := newHandler(callbacks{HTTP: http.NewServeMux(), SNS: r, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
			_, err := lambda.NewHandler(h).Invoke(context.Background(), readEvent(t, "callbacks-ses-bounce.json", tt.edit))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Invoke = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Invoke = %v, want an error with %q", err, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(logs.String(), `"level":"ERROR"`):
				t.Errorf("refused invocation logged %q, want an ERROR line", logs.String())
			}
			if diff := cmp.Diff(tt.want, r.got); diff != "" {
				t.Errorf("notifications routed (-want +got):\n%s", diff)
			}
		})
	}
}

// routerRecorder keeps the notifications it is given.
type routerRecorder struct{ got []webhook.Notification }

func (r *routerRecorder) Apply(_ context.Context, n webhook.Notification) error {
	r.got = append(r.got, n)
	return nil
}

// TestHTTPRefusals: what API Gateway passes on but no handler can take
// answers as the webhooks answer errors, never as a failed invocation
// (the gateway would answer 500, and the provider retry a request that
// can never work), and never as a redirect. An invocation of no known
// shape is an error, not a 404 answer that Lambda would count as a
// success.
func TestHTTPRefusals(t *testing.T) {
	store := openStore(t)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: "example-app-secret", Store: store, Log: slog.New(slog.DiscardHandler)})
	h := lambda.NewHandler(newHandler(callbacks{HTTP: mux}))
	tests := []struct {
		name       string
		edit       func(map[string]any)
		wantStatus int
		wantBody   string
	}{
		{"body marked base64 that is not", func(ev map[string]any) { ev["isBase64Encoded"] = true }, 400, "not valid base64"},
		{"body marked base64, cut short", func(ev map[string]any) { ev["isBase64Encoded"], ev["body"] = true, "eyJvYmplY3QiOi" }, 400, "not valid base64"},
		{"double slash", func(ev map[string]any) { ev["rawPath"] = "//webhooks/whatsapp" }, 404, "not found"},
		{"dot segment", func(ev map[string]any) { ev["rawPath"] = "/webhooks/./whatsapp" }, 404, "not found"},
		{"dot-dot segment", func(ev map[string]any) { ev["rawPath"] = "/x/../webhooks/whatsapp" }, 404, "not found"},
		{"a path that does not parse", func(ev map[string]any) { ev["rawPath"] = "/webhooks/%zz" }, 400, "cannot be read"},
		// The body is the sample's, but base64: it reaches the handler,
		// whose signature check is over the decoded bytes.
		{"body in base64", func(ev map[string]any) {
			ev["isBase64Encoded"] = true
			ev["body"] = base64.StdEncoding.EncodeToString([]byte(ev["body"].(string)))
		}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := h.Invoke(context.Background(), readEvent(t, "callbacks-whatsapp-status.json", tt.edit))
			if err != nil {
				t.Fatalf("Invoke = %v, want an answer", err)
			}
			var res events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus || !strings.Contains(res.Body, tt.wantBody) {
				t.Errorf("answer = %d %q, want %d with %q", res.StatusCode, res.Body, tt.wantStatus, tt.wantBody)
			}
			if loc := res.Headers["Location"]; loc != "" {
				t.Errorf("answer redirects to %q", loc)
			}
		})
	}
	for _, payload := range []string{`{}`, `[]`, `"x"`, `{"version":"1.0","httpMethod":"POST","path":"/webhooks/whatsapp"}`, `{"version":"2.0"}`} {
		if out, err := h.Invoke(context.Background(), []byte(payload)); err == nil {
			t.Errorf("Invoke(%s) = %s, nil; want an error", payload, out)
		}
	}
}

// TestWhatsAppSampleEvent runs events/callbacks-whatsapp-status.json
// (signed with "example-app-secret") through the handler and the
// WhatsApp webhook, as the callbacks function does.
func TestWhatsAppSampleEvent(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	seedDelivery(t, store, notify.ChannelWhatsApp, "", samplePhone)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: "example-app-secret", Store: store, Log: slog.New(slog.DiscardHandler)})
	out, err := lambda.NewHandler(newHandler(callbacks{HTTP: mux})).Invoke(ctx, readEvent(t, "callbacks-whatsapp-status.json", nil))
	if err != nil {
		t.Fatal(err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil || res.StatusCode != 200 {
		t.Fatalf("sample callback = %d %s, %v", res.StatusCode, res.Body, err)
	}
	got, err := store.GetNotification(ctx, sampleWS, sampleNotif)
	if err != nil || got.Counts != (notify.Counts{Total: 1, Delivered: 1}) {
		t.Errorf("counts after the sample callback = %+v, %v; want 1 delivered", got.Counts, err)
	}
}

// tally is the endpoints' Metrics and the handler's flusher: it keeps
// what it is told.
type tally struct {
	counts  map[string]int
	flushes int
}

func (t *tally) Callback(ch notify.Channel, o metrics.Outcome, reason string) {
	t.counts[string(ch)+" "+string(o)+" "+reason]++
}

func (t *tally) Flush() { t.flushes++ }

// TestFlushesEachInvocation: the callbacks function's figures are flushed
// at the end of every invocation, served or refused.
func TestFlushesEachInvocation(t *testing.T) {
	store := openStore(t)
	seedDelivery(t, store, notify.ChannelSMS, sampleSMSID, samplePhone)
	m := &tally{counts: map[string]int{}}
	h := newHandler(callbacks{HTTP: http.NewServeMux(), SMSLogs: &webhook.SMS{Store: store, Log: slog.New(slog.DiscardHandler), Metrics: m}, Metrics: m})
	if _, err := h.Invoke(context.Background(), logsEvent(t, smsStatus("SUCCESS"))); err != nil {
		t.Fatal(err)
	}
	if m.flushes != 1 || m.counts["sms delivered "] != 1 {
		t.Errorf("after a logs event: flushes %d, counts %v; want 1 flush of one delivery", m.flushes, m.counts)
	}
	if _, err := h.Invoke(context.Background(), []byte("not json")); err == nil {
		t.Fatal("Invoke(not json) = nil error")
	}
	if m.flushes != 2 {
		t.Errorf("flushes after a refused invocation = %d, want 2", m.flushes)
	}
}
