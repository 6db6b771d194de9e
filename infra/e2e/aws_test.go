package e2e

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/lambdaedge"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
)

// counter is an email sender that counts sends per recipient.
type counter struct {
	mu   sync.Mutex
	sent map[string]int
	text map[string]string
}

func (c *counter) SendEmail(_ context.Context, m channel.EmailMessage) (channel.Receipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[m.RecipientKey]++
	c.text[m.RecipientKey] = m.To + "|" + m.Subject + "|" + m.Text
	return channel.Receipt{ProviderMessageID: "ses-" + m.RecipientKey}, nil
}

type api struct {
	t       *testing.T
	h       lambda.Handler
	request events.APIGatewayV2HTTPRequest
}

// call sends one HTTP API event through the api Lambda handler, with the
// authorizer's context of an admin key of workspace acme.
func (a *api) call(method, path string, body any, want int, out any) {
	a.t.Helper()
	ev := a.request
	ev.Headers = map[string]string{"content-type": "application/json"}
	u, _ := url.Parse(path)
	ev.RawPath, ev.RawQueryString = u.Path, u.RawQuery
	ev.RouteKey = "ANY /v1/{proxy+}"
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = method, u.Path
	ev.Body = ""
	if body != nil {
		b, _ := json.Marshal(body)
		ev.Body = string(b)
	}
	payload, _ := json.Marshal(ev)
	out0, err := a.h.Invoke(context.Background(), payload)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out0, &res); err != nil {
		a.t.Fatal(err)
	}
	if res.StatusCode != want {
		a.t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, res.Body)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(res.Body), out); err != nil {
			a.t.Fatal(err)
		}
	}
}

// TestSendPathOnAWSAdapters runs the send path through the api and
// dispatch Lambda handlers on DynamoDB Local and the SQS emulator: users,
// a list send, the SQS batch delivered twice (as a redelivery would), and
// the history, counts and deliveries read back through the API.
func TestSendPathOnAWSAdapters(t *testing.T) {
	ddbURL, sqsURL := os.Getenv("HERALD_TEST_DYNAMODB_ENDPOINT"), os.Getenv("HERALD_TEST_SQS_ENDPOINT")
	if ddbURL == "" || sqsURL == "" {
		t.Skip("HERALD_TEST_DYNAMODB_ENDPOINT and HERALD_TEST_SQS_ENDPOINT are not set: start infra/dynamodb-local.sh and infra/sqs-emulator.sh, or run make test")
	}
	ctx := context.Background()
	env, closeEnv, err := harness.NewAWS(ctx, ddbURL, sqsURL, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer closeEnv()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := env.Store.CreateWorkspace(ctx, notify.Workspace{ID: "acme", Name: "Acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}

	sample, err := os.ReadFile("../../events/api-send-notification.json")
	if err != nil {
		t.Fatal(err)
	}
	// The api function's handler (functions/api/handler.go).
	apiHandler := lambdaedge.HTTP{Handler: wiringapi.API(&wiringapi.Set{Graph: wiring.New(config.Config{}, wiring.Ports{Store: env.Store, Dispatch: env.Queue}, nil)}), Refuse: httpapi.Refuse, WithPrincipal: httpapi.WithPrincipal}
	a := &api{t: t, h: lambda.NewHandler(apiHandler.Serve)}
	if err := json.Unmarshal(sample, &a.request); err != nil {
		t.Fatal(err)
	}
	a.request.RequestContext.Authorizer.Lambda = map[string]any{"workspaceId": "acme", "keyId": "key_admin", "keyName": "admin", "scopes": "admin", "verified": "true"}

	for _, u := range []struct{ id, name, lang string }{{"c1", "Ana", "es"}, {"c2", "Piotr", "pl"}, {"c3", "Jo", "en"}} {
		a.call("PUT", "/v1/users/"+u.id, map[string]any{"name": u.name, "email": u.id + "@example.com", "language": u.lang}, 200, nil)
	}
	var tpl struct{ ID string }
	a.call("POST", "/v1/templates", map[string]any{"name": "Bill", "channel": "email", "title": "Your bill, {{name}}", "body": "Hi {{name}}, it is {{amount}}",
		"variations": map[string]any{"es": map[string]string{"title": "Tu factura, {{name}}", "body": "Hola {{name}}, son {{amount}}"}}}, 201, &tpl)
	var sent struct {
		ID         string
		Recipients int
	}
	a.call("POST", "/v1/notifications", map[string]any{"channel": "email", "templateId": tpl.ID, "variables": map[string]string{"amount": "42 €"},
		"audience": map[string]any{"userIds": []string{"c1", "c2", "c3", "ghost"}}}, 202, &sent)
	if sent.Recipients != 4 {
		t.Fatalf("recipients = %d, want 4", sent.Recipients)
	}

	// What the SQS event source would hand the dispatch function.
	res, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(env.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 {
		t.Fatalf("received %d messages, want 1 (4 recipients packed in one)", len(res.Messages))
	}
	var ev events.SQSEvent
	for _, m := range res.Messages {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle, Body: *m.Body,
			Attributes: m.Attributes, EventSource: "aws:sqs", AWSRegion: "us-east-1"})
	}
	payload, _ := json.Marshal(ev)
	c := &counter{sent: map[string]int{}, text: map[string]string{}}
	sb := channel.NewSandbox(slog.New(slog.DiscardHandler))
	d := dispatch.New(env.Store, dispatch.Senders{Push: sb, WebPush: sb, SMS: sb, Email: c, WhatsApp: sb}, dispatch.Options{})
	// The dispatch function's handler (functions/dispatch/handler.go).
	h := lambda.NewHandler(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		batch := make([]dispatch.Received, len(ev.Records))
		for i, r := range ev.Records {
			batch[i] = dispatch.Received{Message: dispatch.Message{ID: r.MessageId, Body: []byte(r.Body), ReceiveCount: lambdaedge.ReceiveCount(r), SentAt: lambdaedge.SentAt(r)},
				Receipt: r.ReceiptHandle, Queue: r.EventSourceARN}
		}
		return lambdaedge.BatchResponse(ev, d.HandleSQS(ctx, batch)), nil
	})
	for round := 0; round < 2; round++ {
		out, err := h.Invoke(ctx, payload)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != `{"batchItemFailures":[]}` {
			t.Errorf("round %d: %s, want no failures", round, out)
		}
	}
	if diff := cmp.Diff(map[string]int{"c1": 1, "c2": 1, "c3": 1}, c.sent); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	if got := c.text["c1"]; got != "c1@example.com|Tu factura, Ana|Hola Ana, son 42 €" {
		t.Errorf("c1 got %q, want the Spanish variation rendered", got)
	}

	var n struct {
		Status string
		Title  string
		Counts notify.Counts
	}
	a.call("GET", "/v1/notifications/"+sent.ID, nil, 200, &n)
	if n.Status != "completed" || n.Title != "Your bill, {{name}}" || n.Counts != (notify.Counts{Total: 4, Sent: 3, Skipped: 1}) {
		t.Errorf("notification = %+v, want completed, unrendered title, 3 sent and 1 skipped", n)
	}
	var list struct {
		Items []struct {
			UserID, Address, Status, Reason, ProviderMessageID string
		}
	}
	a.call("GET", "/v1/notifications/"+sent.ID+"/deliveries", nil, 200, &list)
	got := map[string]string{}
	for _, dl := range list.Items {
		got[dl.UserID] = strings.Join([]string{dl.Address, dl.Status, dl.Reason, dl.ProviderMessageID}, "|")
	}
	want := map[string]string{"c1": "c1@example.com|sent||ses-c1", "c2": "c2@example.com|sent||ses-c2", "c3": "c3@example.com|sent||ses-c3", "ghost": "ghost|skipped|unknown_user|"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	var history struct{ Items []struct{ ID string } }
	a.call("GET", "/v1/notifications?q=BILL&channel=email&status=completed", nil, 200, &history)
	if len(history.Items) != 1 || history.Items[0].ID != sent.ID {
		t.Errorf("history search = %+v, want the send", history.Items)
	}
	// Erasing a user erases the address kept on their delivery.
	a.call("DELETE", "/v1/users/c2", nil, 204, nil)
	a.call("GET", "/v1/notifications/"+sent.ID+"/deliveries?status=sent", nil, 200, &list)
	for _, dl := range list.Items {
		if dl.UserID == "c2" && dl.Address != "c2" {
			t.Errorf("deleted user's delivery address = %q, want only the id", dl.Address)
		}
	}
}
