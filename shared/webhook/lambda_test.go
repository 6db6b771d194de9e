package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/sns"
)

// TestLambdaRoutesByShape: the callbacks function takes API Gateway HTTP
// events and CloudWatch Logs events through one handler.
func TestLambdaRoutesByShape(t *testing.T) {
	store := seedSMS(t)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &WhatsApp{AppSecret: secret, VerifyToken: "vt", Store: nil, Log: slog.New(slog.DiscardHandler)})
	l := NewLambda(LambdaConfig{HTTP: mux, SMSLogs: &SMS{Store: store, Log: slog.New(slog.DiscardHandler)}})

	httpEvent, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/webhooks/whatsapp", RawQueryString: "hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444",
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/webhooks/whatsapp"}},
	})
	out, err := l.Invoke(context.Background(), httpEvent)
	if err != nil {
		t.Fatal(err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil || res.StatusCode != 200 || res.Body != "1158201444" {
		t.Errorf("handshake through Invoke = %+v, %v; want 200 echoing the challenge", res, err)
	}

	logs, _ := json.Marshal(logsEvent(t, smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier")))
	if _, err := l.Invoke(context.Background(), logs); err != nil {
		t.Fatal(err)
	}
	if got := smsSnapshot(t, store)["delivery "+smsAna]; got != "delivered/" {
		t.Errorf("after a logs event through Invoke, ana's SMS = %s, want delivered", got)
	}
	if _, err := l.Invoke(context.Background(), []byte("not json")); err == nil {
		t.Error("Invoke(not json) = nil error")
	}
	if _, err := NewLambda(LambdaConfig{HTTP: mux}).Invoke(context.Background(), logs); err == nil {
		t.Error("a logs event without SMS configured = nil error, want one (the event would be lost silently)")
	}
}

// TestSampleSMSStatusEvent runs events/callbacks-sms-status.json through
// the callbacks function's handler, as make invoke does.
func TestSampleSMSStatusEvent(t *testing.T) {
	payload, err := os.ReadFile("../../events/callbacks-sms-status.json")
	if err != nil {
		t.Fatal(err)
	}
	store := seedSMS(t) // ana's SMS went out as 34d9b400-…, the sample's message id
	l := NewLambda(LambdaConfig{HTTP: http.NewServeMux(), SMSLogs: &SMS{Store: store, Log: slog.New(slog.DiscardHandler)}})
	if _, err := lambda.NewHandler(l).Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	if got := smsSnapshot(t, store)["delivery "+smsAna]; got != "delivered/" {
		t.Errorf("after the sample event, ana's SMS = %s, want delivered", got)
	}
}

// The sample SNS event's topic, as CloudFormation names the stack's
// SesEventsTopic, and its email.
const (
	sampleSESTopic = "arn:aws:sns:us-east-1:123456789012:herald-SesEventsTopic-Q1w2E3r4T5y6"
	sampleWS       = "ws_example"
	sampleNotif    = "01M7YWX24G4TFF59TDWH9EDD1R"
	sampleUser     = "u1"
	sampleTo       = "ana@example.com"
)

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

// snsRecordOf is the first record's Sns object of a decoded SNS event.
func snsRecordOf(ev map[string]any) map[string]any {
	return ev["Records"].([]any)[0].(map[string]any)["Sns"].(map[string]any)
}

// TestSampleSESBounceEvent runs events/callbacks-ses-bounce.json, SNS
// delivering an SES bounce to the function itself, through the handler:
// it must be applied as /webhooks/ses would, not answered as an HTTP
// request to no route (a 404 Lambda counts as a success: the bounce would
// be lost and Herald would keep mailing the address).
func TestSampleSESBounceEvent(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	sent := time.Date(2026, 11, 21, 9, 58, 0, 0, time.UTC)
	n := notify.Notification{WorkspaceID: sampleWS, ID: sampleNotif, Channel: notify.ChannelEmail, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: 1, Sent: 1}, CreatedAt: sent, Content: notify.Template{Body: "x"}}
	seedNotification(t, store, n, []notify.Delivery{{WorkspaceID: sampleWS, NotificationID: sampleNotif, Key: sampleUser, UserID: sampleUser,
		Channel: notify.ChannelEmail, Status: notify.DeliverySent, CreatedAt: sent, UpdatedAt: sent}})
	if _, err := store.PutUser(ctx, notify.User{WorkspaceID: sampleWS, ID: sampleUser, Email: sampleTo, CreatedAt: sent, UpdatedAt: sent}); err != nil {
		t.Fatal(err)
	}
	ses := &SES{Store: store, Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{TopicARNs: []string{sampleSESTopic}}}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/ses", ses)
	h := lambda.NewHandler(NewLambda(LambdaConfig{HTTP: mux, SNS: []SNSReceiver{ses}}))
	for range 2 { // SNS may deliver twice
		if out, err := h.Invoke(ctx, readEvent(t, "callbacks-ses-bounce.json", nil)); err != nil || string(out) != "null" {
			t.Fatalf("Invoke(sample SES bounce) = %s, %v; want null, nil", out, err)
		}
	}
	ds, err := store.GetDeliveries(ctx, sampleWS, sampleNotif, []string{sampleUser})
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[sampleUser]; d.Status != notify.DeliveryFailed || d.Reason != reasonBounce {
		t.Errorf("after the sample bounce, the delivery is %s/%s, want %s/%s", d.Status, d.Reason, notify.DeliveryFailed, reasonBounce)
	}
	u, err := store.GetUser(ctx, sampleWS, sampleUser)
	if err != nil {
		t.Fatal(err)
	}
	if on, set := u.Preferences.Channels[notify.ChannelEmail]; !set || on {
		t.Errorf("after the sample bounce, %s's email preference is %v (set %v), want off", sampleUser, on, set)
	}
}

// TestLambdaSNSRecords: SNS notifications go to the endpoint of their
// topic (SES, push, SMS status); what no endpoint takes, and what fails,
// is an invocation error, so that Lambda retries it and then keeps it on
// the function's dead-letter queue, with a log line saying why.
func TestLambdaSNSRecords(t *testing.T) {
	const (
		pushTopic = "arn:aws:sns:us-east-1:123456789012:herald-PushEventsTopic-A1b2C3d4E5f6"
		smsTopic  = "arn:aws:sns:us-east-1:123456789012:herald-SmsStatusTopic-Z9y8X7w6V5u4"
		otherARN  = "arn:aws:sns:us-east-1:999999999999:someone-elses-topic"
	)
	owner := sns.EndpointOwner{WorkspaceID: wsID, UserID: "ana", DeviceID: "dev-dead"}
	tests := []struct {
		name    string
		edit    func(map[string]any)
		sesDown bool
		wantErr string // in the error and the log; "" for success
		check   func(t *testing.T, e *snsEnv)
	}{
		{name: "a push event removes the dead device", edit: func(ev map[string]any) {
			s := snsRecordOf(ev)
			s["TopicArn"], s["Message"] = pushTopic, pushEventJSON(t, "DeliveryFailure", deadEndpoint, "InvalidPlatformToken")
		}, check: func(t *testing.T, e *snsEnv) {
			if diff := cmp.Diff([]string{"dev-ok"}, deviceIDs(t, e.devices)); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
		}},
		{name: "an SMS status record moves the SMS", edit: func(ev map[string]any) {
			s := snsRecordOf(ev)
			s["TopicArn"], s["Message"] = smsTopic, smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier")
		}, check: func(t *testing.T, e *snsEnv) {
			if got := smsSnapshot(t, e.sms)["delivery "+smsAna]; got != "delivered/" {
				t.Errorf("ana's SMS = %s, want delivered", got)
			}
		}},
		{name: "another topic is refused", edit: func(ev map[string]any) { snsRecordOf(ev)["TopicArn"] = otherARN },
			wantErr: "no endpoint takes this topic"},
		{name: "a topic of an endpoint with no topics configured is refused", edit: func(ev map[string]any) { snsRecordOf(ev)["TopicArn"] = "" },
			wantErr: "no endpoint takes this topic"},
		{name: "a store failure is retried", sesDown: true, wantErr: "store down"},
		{name: "records of another source are refused", edit: func(ev map[string]any) {
			ev["Records"].([]any)[0].(map[string]any)["EventSource"] = "aws:sqs"
		}, wantErr: "not aws:sns"},
		{name: "an S3 event is refused", edit: func(ev map[string]any) {
			ev["Records"] = []any{map[string]any{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}}
		}, wantErr: "not aws:sns"},
		{name: "no records is refused", edit: func(ev map[string]any) { ev["Records"] = []any{} }, wantErr: "not an API Gateway"},
		{name: "a subscription confirmation is refused", edit: func(ev map[string]any) { snsRecordOf(ev)["Type"] = "SubscriptionConfirmation" },
			wantErr: "not Notification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSNSEnv(t, owner, tt.sesDown, pushTopic, smsTopic)
			_, err := lambda.NewHandler(e.lambda).Invoke(context.Background(), readEvent(t, "callbacks-ses-bounce.json", tt.edit))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Invoke = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Invoke = %v, want an error with %q", err, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(e.logs.String(), `"level":"ERROR"`):
				t.Errorf("refused invocation logged %q, want an ERROR line", e.logs.String())
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// snsEnv is a callbacks handler with an endpoint per topic kind.
type snsEnv struct {
	lambda       *Lambda
	devices, sms *boltstore.Store
	logs         *bytes.Buffer
}

func newSNSEnv(t *testing.T, owner sns.EndpointOwner, sesDown bool, pushTopic, smsTopic string) *snsEnv {
	t.Helper()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	devices, smsStore := seedDevices(t), seedSMS(t)
	var sesStore SESStore = seed(t)
	if sesDown {
		sesStore = failingStore{}
	}
	eps := &fakeEndpoints{owners: map[string]sns.EndpointOwner{deadEndpoint: owner}, tokens: map[string]string{deadEndpoint: "tok-dead"}}
	ses := &SES{Store: sesStore, Log: log, SNSOptions: SNSOptions{TopicARNs: []string{sampleSESTopic}}}
	push := &Push{Store: devices, Endpoints: eps, Log: log, SNSOptions: SNSOptions{TopicARNs: []string{pushTopic}}}
	smsH := &SMS{Store: smsStore, Log: log, SNSOptions: SNSOptions{TopicARNs: []string{smsTopic}}}
	unconfigured := &SMS{Store: smsStore, Log: log} // takes no topic, not even ""
	l := NewLambda(LambdaConfig{HTTP: http.NewServeMux(), SNS: []SNSReceiver{unconfigured, ses, push, smsH}, Log: log})
	return &snsEnv{lambda: l, devices: devices, sms: smsStore, logs: logs}
}

// TestLambdaHTTPRefusals: what API Gateway passes on but no handler can
// take answers as the webhooks answer errors, never as a failed
// invocation (the gateway would answer 500, and the provider retry a
// request that can never work), and never as a redirect. An invocation
// of no known shape is an error, not a 404 answer that Lambda would count
// as a success.
func TestLambdaHTTPRefusals(t *testing.T) {
	store := openStore(t)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &WhatsApp{AppSecret: "example-app-secret", Store: store, Log: slog.New(slog.DiscardHandler)})
	h := lambda.NewHandler(NewLambda(LambdaConfig{HTTP: mux}))
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
