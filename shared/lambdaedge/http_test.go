package lambdaedge

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

type principalKey struct{}

// echo answers 200 with what it was given: the method, the path, the body,
// the X-Request-Id header and the principal in the context.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	k, _ := r.Context().Value(principalKey{}).(notify.APIKey)
	io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(body)+" id="+r.Header.Get("X-Request-Id")+" key="+k.WorkspaceID+"/"+k.ID)
})

func request(edit func(*events.APIGatewayV2HTTPRequest)) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/webhooks/x", Body: "hello",
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "gw-1",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/x"}},
	}
	if edit != nil {
		edit(&ev)
	}
	return ev
}

// TestHTTPRefusals: what no request can be made of answers 400, and with
// CleanPathsOnly an unclean path 404, in the plain shape by default and
// in Refuse's when set, always with the gateway's request id and never as
// a failed invocation or a redirect.
func TestHTTPRefusals(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*events.APIGatewayV2HTTPRequest)
		wantStatus int
		wantBody   string
	}{
		{"body marked base64 that is not", func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded = true }, 400, "not valid base64"},
		{"base64 cut short", func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded, ev.Body = true, "eyJvYmplY3QiOi" }, 400, "not valid base64"},
		{"a path that does not parse", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/webhooks/%zz" }, 400, "cannot be read"},
		{"double slash", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "//webhooks/x" }, 404, "not found"},
		{"dot segment", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/webhooks/./x" }, 404, "not found"},
		{"dot-dot segment", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/x/../webhooks/x" }, 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := request(tt.edit)
			res, err := HTTP{Handler: echo, CleanPathsOnly: true}.Serve(context.Background(), ev)
			if err != nil {
				t.Fatalf("Serve = %v, want an answer", err)
			}
			if res.StatusCode != tt.wantStatus || !strings.Contains(res.Body, tt.wantBody) {
				t.Errorf("answer = %d %q, want %d with %q", res.StatusCode, res.Body, tt.wantStatus, tt.wantBody)
			}
			if got := res.Headers["Content-Type"]; got != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q, want http.Error's", got)
			}
			if res.Headers["X-Request-Id"] != "gw-1" || res.Headers["Location"] != "" {
				t.Errorf("headers = %v, want X-Request-Id gw-1 and no Location", res.Headers)
			}

			var got []string
			refuse := func(w http.ResponseWriter, status int, message string) {
				got = append(got, message)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				io.WriteString(w, `{"error":{}}`)
			}
			res, err = HTTP{Handler: echo, CleanPathsOnly: true, Refuse: refuse}.Serve(context.Background(), ev)
			if err != nil || res.StatusCode != tt.wantStatus || res.Body != `{"error":{}}` || len(got) != 1 || !strings.Contains(got[0], tt.wantBody) {
				t.Errorf("with Refuse: %d %q %v (Refuse given %q), want %d in Refuse's shape", res.StatusCode, res.Body, err, got, tt.wantStatus)
			}
		})
	}

	// Without CleanPathsOnly the handler answers unclean paths itself.
	res, err := HTTP{Handler: echo}.Serve(context.Background(), request(func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "//webhooks/x" }))
	if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Body, "POST //webhooks/x ") {
		t.Errorf("unclean path without CleanPathsOnly = %d %q, %v; want it passed on", res.StatusCode, res.Body, err)
	}
}

// TestHTTPPassesOn: a base64 body reaches the handler decoded, with the
// gateway's request id unless the client sent its own, and the
// authorizer's verified key as the principal when WithPrincipal is set.
func TestHTTPPassesOn(t *testing.T) {
	withPrincipal := func(ctx context.Context, k notify.APIKey) context.Context {
		return context.WithValue(ctx, principalKey{}, k)
	}
	verified := &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		Lambda: AuthorizerContext(notify.APIKey{WorkspaceID: "ws1", ID: "k1", Scopes: []notify.Scope{notify.ScopeSend}}, true)}
	tests := []struct {
		name string
		h    HTTP
		edit func(*events.APIGatewayV2HTTPRequest)
		want string
	}{
		{"plain", HTTP{Handler: echo}, nil, "POST /webhooks/x hello id=gw-1 key=/"},
		{"base64 body", HTTP{Handler: echo}, func(ev *events.APIGatewayV2HTTPRequest) {
			ev.IsBase64Encoded, ev.Body = true, base64.StdEncoding.EncodeToString([]byte("hi there"))
		}, "POST /webhooks/x hi there id=gw-1 key=/"},
		{"the client's request id", HTTP{Handler: echo}, func(ev *events.APIGatewayV2HTTPRequest) {
			ev.Headers = map[string]string{"x-request-id": "mine"}
		}, "POST /webhooks/x hello id=mine key=/"},
		{"verified key", HTTP{Handler: echo, WithPrincipal: withPrincipal}, func(ev *events.APIGatewayV2HTTPRequest) {
			ev.RequestContext.Authorizer = verified
		}, "POST /webhooks/x hello id=gw-1 key=ws1/k1"},
		{"unverified key", HTTP{Handler: echo, WithPrincipal: withPrincipal}, func(ev *events.APIGatewayV2HTTPRequest) {
			ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: AuthorizerContext(notify.APIKey{}, false)}
		}, "POST /webhooks/x hello id=gw-1 key=/"},
		{"verified key, WithPrincipal not set", HTTP{Handler: echo}, func(ev *events.APIGatewayV2HTTPRequest) {
			ev.RequestContext.Authorizer = verified
		}, "POST /webhooks/x hello id=gw-1 key=/"},
	}
	for _, tt := range tests {
		res, err := tt.h.Serve(context.Background(), request(tt.edit))
		if err != nil || res.StatusCode != 200 || res.Body != tt.want {
			t.Errorf("%s: Serve = %d %q, %v; want 200 %q", tt.name, res.StatusCode, res.Body, err, tt.want)
		}
	}
	if res, err := (HTTP{}).Serve(context.Background(), request(nil)); err != nil || res.StatusCode != 404 {
		t.Errorf("no handler: %d, %v; want 404", res.StatusCode, err)
	}
}

// TestAuthorizerContextRoundTrip: what the authorizer answers is what the
// API's edge reads back.
func TestAuthorizerContextRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		k      notify.APIKey
		ok     bool
		wantOK bool
	}{
		{"verified", notify.APIKey{WorkspaceID: "ws1", ID: "k1", Name: "backend", Scopes: []notify.Scope{notify.ScopeSend, notify.ScopeRead}}, true, true},
		{"no scopes", notify.APIKey{WorkspaceID: "ws1", ID: "k1"}, true, true},
		{"unverified", notify.APIKey{WorkspaceID: "ws1", ID: "k1"}, false, false},
		{"no workspace", notify.APIKey{ID: "k1"}, true, false},
	}
	for _, tt := range tests {
		rc := events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: AuthorizerContext(tt.k, tt.ok)}}
		got, ok := principalOf(rc)
		if ok != tt.wantOK {
			t.Errorf("%s: principalOf ok = %v, want %v", tt.name, ok, tt.wantOK)
			continue
		}
		if ok {
			if diff := cmp.Diff(tt.k, got); diff != "" {
				t.Errorf("%s: principalOf (-want +got):\n%s", tt.name, diff)
			}
		}
	}
	if _, ok := principalOf(events.APIGatewayV2HTTPRequestContext{}); ok {
		t.Error("principalOf(no authorizer) = ok, want not")
	}
	// A context naming a key but not marked verified (whoever wrote it) is
	// no principal: the API checks that request's key itself.
	for _, v := range []any{"false", "", true, nil} {
		lambda := map[string]any{"workspaceId": "ws1", "keyId": "k1", "scopes": "admin", "verified": v}
		if k, ok := principalOf(events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: lambda}}); ok {
			t.Errorf("principalOf(ids with verified %#v) = %v, ok; want not", v, k)
		}
	}
	if got := AuthorizerContext(notify.APIKey{WorkspaceID: "ws1"}, false); !cmp.Equal(got, map[string]any{"verified": "false"}) {
		t.Errorf("unverified context = %v, want verified false alone", got)
	}
}
