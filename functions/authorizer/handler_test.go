package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/notify"
)

// keyMap is an apikey.Getter of keys by hash.
type keyMap map[string]notify.APIKey

func (m keyMap) GetAPIKeyByHash(_ context.Context, hash string) (notify.APIKey, error) {
	k, ok := m[hash]
	if !ok {
		return notify.APIKey{}, notify.NotFound("api key", "")
	}
	return k, nil
}

type failingKeys struct{}

func (failingKeys) GetAPIKeyByHash(context.Context, string) (notify.APIKey, error) {
	return notify.APIKey{}, errors.New("throttled")
}

// TestAuthorizerSampleEvent runs events/authorizer-request.json through the
// handler as the Lambda runtime would.
func TestAuthorizerSampleEvent(t *testing.T) {
	payload, err := os.ReadFile("../../events/authorizer-request.json")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	keys := keyMap{apikey.Hash("hk_example"): {ID: "key_example", WorkspaceID: "ws_example", Name: "backend", Scopes: []notify.Scope{notify.ScopeSend, notify.ScopeRead}}}
	out, err := lambda.NewHandler(newHandler(&apikey.Authorizer{Keys: keys, Log: log})).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var got events.APIGatewayV2CustomAuthorizerSimpleResponse
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{
		"workspaceId": "ws_example", "keyId": "key_example", "keyName": "backend", "scopes": "send,read", "verified": "true"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authorizer answer (-want +got):\n%s", diff)
	}

	// An unknown key goes on to the API unverified, which answers 401 in
	// its own error shape.
	out, err = lambda.NewHandler(newHandler(&apikey.Authorizer{Keys: keyMap{}, Log: log})).Invoke(context.Background(), payload)
	if err != nil || string(out) != `{"isAuthorized":true,"context":{"verified":"false"}}` {
		t.Errorf("unknown key = %s, %v; want passed on unverified", out, err)
	}
	if _, err := lambda.NewHandler(newHandler(&apikey.Authorizer{Keys: failingKeys{}, Log: log})).Invoke(context.Background(), payload); err == nil {
		t.Errorf("store error = nil, want an error (so the gateway does not cache a deny)")
	}
}

// header records the header and request id it is asked about.
type header struct{ got, requestID string }

func (h *header) Authorize(_ context.Context, hdr, requestID string) (notify.APIKey, bool, error) {
	h.got, h.requestID = hdr, requestID
	return notify.APIKey{}, false, nil
}

// TestAuthorizerHeader: the key is read from the authorization header, or
// else from the identity source (the same header, as the template names
// it), with the gateway's request id.
func TestAuthorizerHeader(t *testing.T) {
	tests := []struct {
		name string
		ev   events.APIGatewayV2CustomAuthorizerV2Request
		want string
	}{
		{"header", events.APIGatewayV2CustomAuthorizerV2Request{Headers: map[string]string{"authorization": "Bearer a"}, IdentitySource: []string{"Bearer b"}}, "Bearer a"},
		{"identity source", events.APIGatewayV2CustomAuthorizerV2Request{IdentitySource: []string{"Bearer b"}}, "Bearer b"},
		{"none", events.APIGatewayV2CustomAuthorizerV2Request{}, ""},
	}
	for _, tt := range tests {
		h := &header{}
		tt.ev.RequestContext.RequestID = "gw-1"
		if _, err := newHandler(h)(context.Background(), tt.ev); err != nil || h.got != tt.want || h.requestID != "gw-1" {
			t.Errorf("%s: Authorize got %q (request %q), %v; want %q", tt.name, h.got, h.requestID, err, tt.want)
		}
	}
}
