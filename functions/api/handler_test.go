package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/console"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/sdkapi"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/template"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
)

// fakeQueue keeps what the API enqueues.
type fakeQueue struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (q *fakeQueue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bodies = append(q.bodies, bodies...)
	return nil
}

func (q *fakeQueue) messages(t *testing.T) []notify.DispatchMessage {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]notify.DispatchMessage, len(q.bodies))
	for i, b := range q.bodies {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatalf("queued body %d: %v", i, err)
		}
	}
	return out
}

// newAPI is the api function's handler over an empty store with workspace
// ws_example (the sample events'), and the queue it sends to.
func newAPI(t *testing.T) (lambda.Handler, *fakeQueue) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ws := notify.Workspace{ID: "ws_example", Name: "ws_example", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if err := store.CreateWorkspace(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	q := &fakeQueue{}
	return lambda.NewHandler(newHandler(httpapi.New(apiServices(store, q), httpapi.Options{})).Serve), q
}

func invokeSample(t *testing.T, h lambda.Handler, file string, edit func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, err := os.ReadFile("../../events/" + file)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Fatal(err)
		}
		edit(&ev)
		if payload, err = json.Marshal(ev); err != nil {
			t.Fatal(err)
		}
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// TestSampleEvents runs the API's sample events through the handler with
// the same JSON round trip as the runtime.
func TestSampleEvents(t *testing.T) {
	h, q := newAPI(t)

	if res := invokeSample(t, h, "api-health.json", nil); res.StatusCode != 200 || res.Body != "{\"status\":\"ok\"}\n" {
		t.Errorf("health = %d %q", res.StatusCode, res.Body)
	}
	// The authorizer's context is the principal: workspace and scopes.
	res := invokeSample(t, h, "api-send-notification.json", nil)
	if res.StatusCode != 202 {
		t.Fatalf("send = %d %s", res.StatusCode, res.Body)
	}
	msgs := q.messages(t)
	if len(msgs) != 1 || msgs[0].WorkspaceID != "ws_example" || len(msgs[0].Recipients) != 2 {
		t.Errorf("enqueued %+v, want one message of ws_example with 2 recipients", msgs)
	}
	// Without an authorizer context the key is checked: the sample's key is
	// not a real one.
	res = invokeSample(t, h, "api-send-notification.json", func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.Authorizer = nil })
	if res.StatusCode != 401 {
		t.Errorf("send without authorizer context = %d, want 401", res.StatusCode)
	}
	// An unverified key passed on by the authorizer is checked: 401 in the
	// API's error shape.
	res = invokeSample(t, h, "api-send-notification.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RequestContext.Authorizer.Lambda = map[string]any{"verified": "false"}
	})
	if res.StatusCode != 401 || !strings.Contains(res.Body, `"code":"unauthorized"`) {
		t.Errorf("unverified key = %d %s, want 401 unauthorized", res.StatusCode, res.Body)
	}
	// A read-only principal may not send.
	res = invokeSample(t, h, "api-send-notification.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RequestContext.Authorizer.Lambda["scopes"] = "read"
		ev.Headers["idempotency-key"] = "another"
	})
	if res.StatusCode != 403 {
		t.Errorf("send with read scope = %d, want 403", res.StatusCode)
	}
}

// TestBadEvents: events API Gateway passes on but no request can be made
// of answer 400 in the API's error shape, with the gateway's request id,
// instead of failing the invocation (the gateway's own 500, a Lambda
// error); a path a ServeMux would clean answers 404, not a redirect.
func TestBadEvents(t *testing.T) {
	h, q := newAPI(t)
	tests := []struct {
		name       string
		file       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		wantStatus int
		wantCode   string
	}{
		{"the sample with bad base64", "api-bad-base64.json", nil, 400, notify.CodeBadRequest},
		{"base64 with a character outside the alphabet", "api-send-notification.json", func(ev *events.APIGatewayV2HTTPRequest) {
			ev.IsBase64Encoded, ev.Body = true, "eyJ*"
		}, 400, notify.CodeBadRequest},
		{"a path that does not parse", "api-health.json", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/v1/%zz" }, 400, notify.CodeBadRequest},
		{"double slash", "api-health.json", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "//v1/health" }, 404, notify.CodeNotFound},
		{"dot segment", "api-send-notification.json", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/v1/./notifications" }, 404, notify.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invokeSample(t, h, tt.file, tt.edit)
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(res.Body), &body); err != nil || res.StatusCode != tt.wantStatus || body.Error.Code != tt.wantCode {
				t.Errorf("answer = %d %s (%v), want %d %s", res.StatusCode, res.Body, err, tt.wantStatus, tt.wantCode)
			}
			if got := res.Headers["Content-Type"]; got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if res.Headers["X-Request-Id"] == "" || res.Headers["Location"] != "" {
				t.Errorf("headers = %v, want an X-Request-Id and no Location", res.Headers)
			}
		})
	}
	if msgs := q.messages(t); len(msgs) != 0 {
		t.Errorf("enqueued %d messages from refused events", len(msgs))
	}
	// A body that is base64 indeed is decoded for the API.
	res := invokeSample(t, h, "api-send-notification.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.IsBase64Encoded, ev.Body = true, base64.StdEncoding.EncodeToString([]byte(ev.Body))
	})
	if res.StatusCode != 202 {
		t.Errorf("send with a base64 body = %d %s, want 202", res.StatusCode, res.Body)
	}
}

// apiServices are the API's services over store, sending to q, as package
// wiring/services builds them (q is only a send queue, not a notify.Queue).
func apiServices(store *boltstore.Store, q httpapi.Enqueuer) httpapi.Services {
	ids := &notify.IDs{}
	return httpapi.Services{Store: store, Sends: &send.Sender{Store: store, Dispatch: q, IDs: ids, Now: time.Now},
		Users: &profile.Service{Store: store, Now: time.Now}, Keys: &apikey.Keys{Store: store, IDs: ids, Now: time.Now},
		Templates: &template.Service{Store: store, IDs: ids, Now: time.Now}}
}

// TestConsoleSample: a browser's sign-in form through API Gateway (a
// base64 body, the gateway's cookies) reaches the console beside the API,
// and the session cookie comes back in the answer's cookies, Secure.
func TestConsoleSample(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: "ws_example", Name: "ws_example", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	ops := &operator.Service{Store: store, IDs: &notify.IDs{}, Now: time.Now}
	if _, err := ops.EnsureAdmin(ctx, "ws_example", "ana@acme.example", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	svc := apiServices(store, &fakeQueue{})
	con := console.New(console.Services{Store: store, Operators: ops, Users: svc.Users, Sends: svc.Sends}, console.Options{SecureCookies: true})
	sdk := sdkapi.New(sdkapi.Services{Users: svc.Users, Store: store}, sdkapi.Options{})
	h := lambda.NewHandler(newHandler(wiringapi.Root(httpapi.New(svc, httpapi.Options{}), sdk, con)).Serve)

	res := invokeSample(t, h, "api-console-login.json", nil)
	if res.StatusCode != 303 || res.Headers["Location"] != "/history" || len(res.Cookies) != 1 || !strings.Contains(res.Cookies[0], "Secure") {
		t.Fatalf("sign-in = %d %v cookies %q", res.StatusCode, res.Headers, res.Cookies)
	}
	session := strings.Split(res.Cookies[0], ";")[0]
	// The next page with that cookie, as the gateway passes cookies.
	res = invokeSample(t, h, "api-console-login.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RequestContext.HTTP.Method, ev.RawPath, ev.RequestContext.HTTP.Path = "GET", "/history", "/history"
		ev.Body, ev.IsBase64Encoded, ev.Cookies = "", false, []string{"theme=dark", session}
	})
	if res.StatusCode != 200 || !strings.Contains(res.Body, "<h1>History</h1>") || !strings.Contains(res.Headers["Content-Security-Policy"], "frame-ancestors 'none'") {
		t.Fatalf("history with the session = %d %v", res.StatusCode, res.Headers)
	}
	// The API beside it is untouched: /v1 without a key is the API's 401.
	res = invokeSample(t, h, "api-health.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RawPath, ev.RequestContext.HTTP.Path = "/v1/users", "/v1/users"
	})
	if res.StatusCode != 401 || !strings.Contains(res.Body, `"code":"unauthorized"`) {
		t.Fatalf("/v1/users without a key = %d %s", res.StatusCode, res.Body)
	}
}

// TestSDKSample: a page's requests to the SDK's routes through API Gateway
// (no authorizer: the route has none) reach the SDK beside the API: the
// preflight, the config for an allowed origin, a user token minted by the
// API used on /sdk/v1/me, and the same token refused on /v1.
func TestSDKSample(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: "ws_example", Name: "ws_example", CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	if err := store.PutConsoleSettings(ctx, notify.ConsoleSettings{WorkspaceID: "ws_example", SDKOrigins: []string{"https://shop.example"}}); err != nil {
		t.Fatal(err)
	}
	svc := apiServices(store, &fakeQueue{})
	if _, err := svc.Users.Put(ctx, "ws_example", "c-1001", profile.Input{}); err != nil {
		t.Fatal(err)
	}
	secret := []byte("s3cret")
	api := httpapi.New(svc, httpapi.Options{Config: httpapi.Config{LinkSecret: secret}})
	sdk := sdkapi.New(sdkapi.Services{Users: svc.Users, Store: store}, sdkapi.Options{Secret: secret, VAPIDPublicKey: "BPub"})
	con := console.New(console.Services{Store: store, Users: svc.Users, Sends: svc.Sends}, console.Options{})
	h := lambda.NewHandler(newHandler(wiringapi.Root(api, sdk, con)).Serve)
	call := func(method, path string, headers map[string]string, withKey bool) events.APIGatewayV2HTTPResponse {
		return invokeSample(t, h, "api-send-notification.json", func(ev *events.APIGatewayV2HTTPRequest) {
			ev.RequestContext.HTTP.Method, ev.RawPath, ev.RequestContext.HTTP.Path, ev.Body = method, path, path, ""
			ev.RouteKey, ev.RequestContext.RouteKey = "ANY /sdk/{proxy+}", "ANY /sdk/{proxy+}"
			if !withKey {
				ev.RequestContext.Authorizer = nil
				delete(ev.Headers, "authorization")
			}
			for k, v := range headers {
				ev.Headers[k] = v
			}
		})
	}
	res := call("OPTIONS", "/sdk/v1/me/presence", map[string]string{"origin": "https://shop.example", "access-control-request-method": "POST",
		"access-control-request-headers": "authorization,content-type,x-herald-client"}, false)
	if res.StatusCode != 204 || res.Headers["Access-Control-Allow-Origin"] != "https://shop.example" || res.Headers["Access-Control-Max-Age"] != "600" {
		t.Errorf("preflight = %d %v", res.StatusCode, res.Headers)
	}
	res = call("GET", "/sdk/v1/config", map[string]string{"origin": "https://shop.example", "x-herald-client": "ws_example"}, false)
	if res.StatusCode != 200 || !strings.Contains(res.Body, `"vapidPublicKey":"BPub"`) || res.Headers["Access-Control-Allow-Origin"] != "https://shop.example" {
		t.Errorf("config = %d %v %s", res.StatusCode, res.Headers, res.Body)
	}
	res = call("GET", "/sdk/v1/config", map[string]string{"origin": "https://evil.example", "x-herald-client": "ws_example"}, false)
	if res.StatusCode != 403 || res.Headers["Access-Control-Allow-Origin"] != "" {
		t.Errorf("config from another origin = %d %v", res.StatusCode, res.Headers)
	}
	// The backend mints a token with its key (the authorizer's principal).
	res = call("POST", "/v1/users/c-1001/sdk-token", nil, true)
	var minted struct{ Token string }
	if err := json.Unmarshal([]byte(res.Body), &minted); res.StatusCode != 201 || err != nil || minted.Token == "" {
		t.Fatalf("mint = %d %s", res.StatusCode, res.Body)
	}
	page := map[string]string{"origin": "https://shop.example", "x-herald-client": "ws_example", "authorization": "Bearer " + minted.Token}
	res = call("GET", "/sdk/v1/me/preferences", page, false)
	if res.StatusCode != 200 {
		t.Errorf("preferences with the token = %d %s", res.StatusCode, res.Body)
	}
	res = call("GET", "/v1/users/c-1001", map[string]string{"authorization": "Bearer " + minted.Token}, false)
	if res.StatusCode != 401 {
		t.Errorf("the user token on /v1 = %d %s, want 401", res.StatusCode, res.Body)
	}
}
