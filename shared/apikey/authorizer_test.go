package apikey

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

	"github.com/heraldhq/herald/shared/notify"
)

type failingKeys struct{}

func (failingKeys) GetAPIKeyByHash(context.Context, string) (notify.APIKey, error) {
	return notify.APIKey{}, errors.New("throttled")
}

// TestAuthorizerSampleEvent runs events/authorizer-request.json through the
// authorizer as the Lambda runtime would.
func TestAuthorizerSampleEvent(t *testing.T) {
	payload, err := os.ReadFile("../../events/authorizer-request.json")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	keys := keyMap{Hash("hk_example"): {ID: "key_example", WorkspaceID: "ws_example", Name: "backend", Scopes: []notify.Scope{notify.ScopeSend, notify.ScopeRead}}}
	out, err := lambda.NewHandler((&Authorizer{Keys: keys, Log: log}).Handle).Invoke(context.Background(), payload)
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
	out, err = lambda.NewHandler((&Authorizer{Keys: keyMap{}, Log: log}).Handle).Invoke(context.Background(), payload)
	if err != nil || string(out) != `{"isAuthorized":true,"context":{"verified":"false"}}` {
		t.Errorf("unknown key = %s, %v; want passed on unverified", out, err)
	}
	if _, err := lambda.NewHandler((&Authorizer{Keys: failingKeys{}, Log: log}).Handle).Invoke(context.Background(), payload); err == nil {
		t.Errorf("store error = nil, want an error (so the gateway does not cache a deny)")
	}
}
