package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// TestLambdaRoutesByShape: the callbacks function takes API Gateway HTTP
// events and CloudWatch Logs events through one handler.
func TestLambdaRoutesByShape(t *testing.T) {
	store := seedSMS(t)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &WhatsApp{AppSecret: secret, VerifyToken: "vt", Store: nil, Log: slog.New(slog.DiscardHandler)})
	l := NewLambda(mux, &SMS{Store: store, Log: slog.New(slog.DiscardHandler)})

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
	if _, err := NewLambda(mux, nil).Invoke(context.Background(), logs); err == nil {
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
	l := NewLambda(http.NewServeMux(), &SMS{Store: store, Log: slog.New(slog.DiscardHandler)})
	if _, err := lambda.NewHandler(l).Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	if got := smsSnapshot(t, store)["delivery "+smsAna]; got != "delivered/" {
		t.Errorf("after the sample event, ana's SMS = %s, want delivered", got)
	}
}
