package httpapi

import (
	"context"
	"encoding/hex"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/usertoken"
)

// TestSDKToken: a send key mints a token for one of its workspace's users
// that the SDK's check accepts with the workspace's signing key (which an
// admin key reads), for the time asked; the token names that user and
// workspace only, and is no API key.
func TestSDKToken(t *testing.T) {
	e := newEnv(t)
	send := e.key("ws1", "sender", notify.ScopeSend)
	e.must(200, "PUT", "/v1/users/u1", e.admin, map[string]any{"name": "Ana"})
	e.must(200, "PUT", "/v1/users/u1", e.other, map[string]any{"name": "Other Ana"})

	before := time.Now().UTC().Truncate(time.Second)
	r := e.must(201, "POST", "/v1/users/u1/sdk-token", send, map[string]any{"ttlSeconds": 600})
	token, _ := r.body["token"].(string)
	expires, err := time.Parse(time.RFC3339, r.body["expiresAt"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if r.body["clientId"] != "ws1" {
		t.Errorf("clientId = %v, want ws1", r.body["clientId"])
	}
	if d := expires.Sub(before); d < 600*time.Second || d > 602*time.Second {
		t.Errorf("expiresAt = %s, %s after the request; want 600 s", expires, d)
	}
	keyHex := e.must(200, "GET", "/v1/sdk/signing-key", e.admin, nil).body["key"].(string)
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != 32 {
		t.Fatalf("signing key %q: %v, want 32 bytes of hex", keyHex, err)
	}
	keyOf := func(ws string) []byte {
		if ws != "ws1" {
			t.Errorf("the token names workspace %s, want ws1", ws)
		}
		return key
	}
	c, err := usertoken.Verify(token, keyOf, time.Now())
	if err != nil {
		t.Fatalf("the minted token does not verify with the signing key: %v", err)
	}
	if d := cmp.Diff(usertoken.Claims{WorkspaceID: "ws1", UserID: "u1", Expires: expires}, c); d != "" {
		t.Errorf("the token's claims (-want +got):\n%s", d)
	}
	// Another workspace's key is another key, and its token another user's.
	otherKey := e.must(200, "GET", "/v1/sdk/signing-key", e.other, nil).body["key"].(string)
	if otherKey == keyHex {
		t.Error("two workspaces have the same signing key")
	}
	otherToken := e.must(201, "POST", "/v1/users/u1/sdk-token", e.other, nil).body["token"].(string)
	if _, err := usertoken.Verify(otherToken, func(string) []byte { return key }, time.Now()); err == nil {
		t.Error("ws2's token verifies with ws1's key")
	}

	// Without a ttl: an hour.
	r = e.must(201, "POST", "/v1/users/u1/sdk-token", send, nil)
	if exp, _ := time.Parse(time.RFC3339, r.body["expiresAt"].(string)); exp.Sub(before) < time.Hour || exp.Sub(before) > time.Hour+2*time.Second {
		t.Errorf("default expiresAt = %s, want an hour from now", exp)
	}
	for _, ttl := range []int{59, 86401, 0, -1} {
		if r := e.do("POST", "/v1/users/u1/sdk-token", send, map[string]any{"ttlSeconds": ttl}); r.status != 422 || r.errField() != "ttlSeconds" {
			t.Errorf("ttlSeconds %d = %d %s, want 422 on ttlSeconds", ttl, r.status, r.raw)
		}
	}
	if r := e.do("POST", "/v1/users/nobody/sdk-token", send, nil); r.status != 404 {
		t.Errorf("a token for an unknown user = %d %s, want 404", r.status, r.raw)
	}
	// A user token is no API key, on any /v1 route.
	for _, path := range []string{"/v1/users/u1", "/v1/users/u1/preferences", "/v1/sdk/settings"} {
		if r := e.do("GET", path, token, nil); r.status != 401 || r.errCode() != "unauthorized" {
			t.Errorf("GET %s with a user token = %d %s, want 401", path, r.status, r.raw)
		}
	}
}

// TestSDKTokenNeedsTheSecret: without Herald's secret there are no keys
// to sign with, and the routes say what to set.
func TestSDKTokenNeedsTheSecret(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/u1", e.admin, map[string]any{"name": "Ana"})
	srv := httptest.NewServer(testServer(e.store, e.queue, deps{}, Options{}))
	defer srv.Close()
	e.srv = srv
	for _, rt := range []struct{ method, path string }{{"POST", "/v1/users/u1/sdk-token"}, {"GET", "/v1/sdk/signing-key"}} {
		if r := e.do(rt.method, rt.path, e.admin, nil); r.status != 503 || r.errCode() != "not_configured" {
			t.Errorf("%s %s without the secret = %d %s, want 503 not_configured", rt.method, rt.path, r.status, r.raw)
		}
	}
}

// TestSDKSettings: the allowed origins are stored normalised, are the
// workspace's own, replace the list whole and leave the console's
// destinations as they were.
func TestSDKSettings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.must(200, "GET", "/v1/sdk/settings", e.admin, nil)
	if d := cmp.Diff(map[string]any{"clientId": "ws1", "allowedOrigins": []any{}}, r.body); d != "" {
		t.Errorf("settings before any save (-want +got):\n%s", d)
	}
	dests := []notify.Destination{{Route: "bills", Label: "Bills"}}
	if err := e.store.PutConsoleSettings(ctx, notify.ConsoleSettings{WorkspaceID: "ws1", Destinations: dests}); err != nil {
		t.Fatal(err)
	}
	r = e.must(200, "PUT", "/v1/sdk/settings", e.admin, map[string]any{"allowedOrigins": []string{"HTTPS://Shop.Example/", "https://shop.example:443", "http://localhost:3000"}})
	want := []any{"https://shop.example", "http://localhost:3000"}
	if d := cmp.Diff(want, r.body["allowedOrigins"]); d != "" {
		t.Errorf("PUT answer's origins (-want +got):\n%s", d)
	}
	read := e.key("ws1", "reader", notify.ScopeRead)
	r = e.must(200, "GET", "/v1/sdk/settings", read, nil)
	if d := cmp.Diff(want, r.body["allowedOrigins"]); d != "" || r.body["updatedAt"] == nil {
		t.Errorf("GET after PUT = %s; origins (-want +got):\n%s", r.raw, d)
	}
	cs, err := e.store.GetConsoleSettings(ctx, "ws1")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(dests, cs.Destinations); d != "" {
		t.Errorf("destinations after PUT /v1/sdk/settings (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"https://shop.example", "http://localhost:3000"}, cs.SDKOrigins); d != "" {
		t.Errorf("stored origins (-want +got):\n%s", d)
	}
	// Another workspace has none.
	if r := e.must(200, "GET", "/v1/sdk/settings", e.other, nil); r.body["clientId"] != "ws2" || len(r.body["allowedOrigins"].([]any)) != 0 {
		t.Errorf("ws2's settings = %s, want its own, empty", r.raw)
	}
	// A bad origin changes nothing and is named.
	if r := e.do("PUT", "/v1/sdk/settings", e.admin, map[string]any{"allowedOrigins": []string{"https://ok.example", "https://shop.example/app"}}); r.status != 422 || r.errField() != "allowedOrigins[1]" {
		t.Errorf("a path in an origin = %d %s, want 422 on allowedOrigins[1]", r.status, r.raw)
	}
	if r := e.do("PUT", "/v1/sdk/settings", e.admin, map[string]any{}); r.status != 422 || r.errField() != "allowedOrigins" {
		t.Errorf("no allowedOrigins = %d %s, want 422 on allowedOrigins", r.status, r.raw)
	}
	if r := e.must(200, "GET", "/v1/sdk/settings", e.admin, nil); cmp.Diff(want, r.body["allowedOrigins"]) != "" {
		t.Errorf("refused PUTs changed the origins: %s", r.raw)
	}
	// [] allows none again.
	e.must(200, "PUT", "/v1/sdk/settings", e.admin, map[string]any{"allowedOrigins": []string{}})
	if cs, _ := e.store.GetConsoleSettings(ctx, "ws1"); cs.SDKOrigins != nil || cmp.Diff(dests, cs.Destinations) != "" {
		t.Errorf("after PUT [] the settings are %+v, want no origins and the destinations", cs)
	}
}
