package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSDKOnTheLocalServer: the local server serves the browser SDK's
// routes beside the API: pages of this machine may use them until the
// workspace lists its origins, a token the API mints acts as its user, and
// a change of origins counts at once.
func TestSDKOnTheLocalServer(t *testing.T) {
	s := startLocal(t, t.TempDir(), nil)
	settings := s.must(200, "GET", "/v1/sdk/settings", nil)
	client, _ := settings["clientId"].(string)
	if client != WorkspaceID {
		t.Fatalf("clientId = %v, want the local workspace %s", settings["clientId"], WorkspaceID)
	}
	s.must(200, "PUT", "/v1/users/c-1001", map[string]any{"name": "Ana"})
	token, _ := s.must(201, "POST", "/v1/users/c-1001/sdk-token", map[string]any{"ttlSeconds": 600})["token"].(string)
	page := func(method, path, origin string, body string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
		req.Header.Set("Origin", origin)
		req.Header.Set("X-Herald-Client", client)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, m, resp.Header
	}
	demo := "http://localhost:5173"
	if status, _, h := page("GET", "/sdk/v1/config", demo, ""); status != 200 || h.Get("Access-Control-Allow-Origin") != demo {
		t.Errorf("config from the demo page = %d %v, want 200 with CORS", status, h)
	}
	if status, _, _ := page("GET", "/sdk/v1/config", "https://shop.example", ""); status != 403 {
		t.Errorf("config from a site before it is listed = %d, want 403", status)
	}
	if status, body, _ := page("POST", "/sdk/v1/me/presence", demo, `{"active": true, "ttlSeconds": 60}`); status != 200 || body["active"] != true {
		t.Errorf("presence = %d %v", status, body)
	}
	if u := s.must(200, "GET", "/v1/users/c-1001", nil); u["presenceUntil"] == nil {
		t.Errorf("the user after the page's heartbeat = %v, want present", u)
	}
	s.must(200, "PUT", "/v1/sdk/settings", map[string]any{"allowedOrigins": []string{"https://shop.example"}})
	if status, _, _ := page("GET", "/sdk/v1/me/preferences", "https://shop.example", ""); status != 200 {
		t.Errorf("preferences from the listed site = %d, want 200", status)
	}
	if status, _, _ := page("GET", "/sdk/v1/me/preferences", demo, ""); status != 403 {
		t.Errorf("preferences from the demo page once the workspace lists its own = %d, want 403", status)
	}
}
