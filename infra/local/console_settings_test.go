package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/webpush"
)

// apiWith calls the API with key (not the admin key s.must uses) and
// returns the status and the decoded answer.
func (s *localServer) apiWith(key, method, path string, body string) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// An admin's Settings: a key made in the console works against the API
// with its scopes and stops when revoked; the last admin key stays; the
// channels say which write to the local outbox and what to set; AI
// categories are edited; destinations are edited and offered in the send
// form.
func TestConsoleSettings(t *testing.T) {
	vapidPub, vapidPriv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_UNDO": "0s",
		"HERALD_VAPID_PUBLIC_KEY": vapidPub, "HERALD_VAPID_PRIVATE_KEY": vapidPriv, "HERALD_VAPID_SUBJECT": "mailto:push-ops@example.com"})
	s.users(map[string]any{"id": "u1", "name": "Ana", "email": "ana@example.com"})
	s.must(201, "POST", "/v1/users/u1/devices", map[string]any{"kind": "fcm", "token": "tok-u1"})
	s.must(200, "PUT", "/v1/users/u1/push-permission", map[string]any{"status": "allowed"})
	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("Settings")
	b.WaitText("The places in your app a push may open", 0)
	screen(t, b, "console-settings")

	// API keys: made with send and read, shown once with its Copy button.
	b.ClickLink("API keys")
	b.FillLabel("Name", "e2e server")
	b.Check("send")
	b.Check("read")
	b.ClickButton("Create API key")
	b.WaitText("Copy it now: it is shown only this once", 0)
	var copyShown bool
	b.Eval(`(() => { const c = document.querySelector("button.copy-button"); return !!c && !c.hidden && c.offsetWidth > 0; })()`, &copyShown)
	if !copyShown {
		t.Error("the key's Copy button is not shown")
	}
	key := b.Value("New API key")
	if !strings.HasPrefix(key, "hk_") {
		t.Fatalf("the new key is %q", key)
	}
	b.ClickButton("Copy")
	var said string
	b.Eval(`new Promise((ok) => setTimeout(() => ok(document.querySelector(".copy-status").textContent), 300))`, &said)
	if said != "Copied to the clipboard." && !strings.HasPrefix(said, "Selected: press Ctrl+C") {
		t.Errorf("after Copy the page says %q", said)
	}
	screen(t, b, "console-settings-key-created")

	// The key works against /v1 with its scopes, and only them.
	if status, got := s.apiWith(key, "GET", "/v1/users/u1", ""); status != 200 || got["name"] != "Ana" {
		t.Errorf("GET /v1/users/u1 with the console's key = %d %v", status, got)
	}
	if status, _ := s.apiWith(key, "POST", "/v1/keys", `{"name": "more", "scopes": ["admin"]}`); status != 403 {
		t.Errorf("POST /v1/keys with a send+read key = %d, want 403", status)
	}
	b.ClickLink("API keys")
	b.WaitText("e2e server", 0)
	if strings.Contains(b.Text(), key) {
		t.Fatal("the key's secret is shown again")
	}
	var lastUsed string
	b.Eval(`[...document.querySelectorAll("tr")].find(r => r.textContent.includes("e2e server")).querySelector('[data-label="Last used"]').textContent`, &lastUsed)
	if lastUsed == "Never" || lastUsed == "" {
		t.Errorf("the key's Last used after a request = %q", lastUsed)
	}
	keys := s.must(200, "GET", "/v1/keys", nil)["items"].([]any)
	for _, k := range keys {
		if k := k.(map[string]any); k["name"] == "e2e server" && k["lastUsedAt"] == nil {
			t.Errorf("GET /v1/keys has no lastUsedAt for the used key: %v", k)
		}
	}
	screen(t, b, "console-settings-keys")

	// Revoked, after a confirmation, it stops working.
	b.ClickLink("Revoke e2e server")
	b.WaitText("Every request with it is refused at once", 0)
	screen(t, b, "console-settings-key-revoke")
	b.ClickButton("Revoke key")
	b.WaitText("API key revoked", 0)
	if status, _ := s.apiWith(key, "GET", "/v1/users/u1", ""); status != 401 {
		t.Errorf("GET /v1/users/u1 with the revoked key = %d, want 401", status)
	}
	// The workspace's only admin key stays, with the service's words.
	b.ClickLink("Revoke admin (HERALD_API_KEY)")
	b.ClickButton("Revoke key")
	b.WaitText("last admin key: create another admin key before revoking it", 0)
	screen(t, b, "console-settings-key-last-admin")
	s.must(200, "GET", "/v1/health", nil)

	// Channels: what delivers each, which write to the local outbox, what to set.
	b.ClickLink("Channels")
	b.WaitText("4 of 6 channels reach nobody yet", 0)
	text := b.Text()
	for _, want := range []string{"Mobile push → local outbox", "SMS → local outbox", "Email → local outbox", "WhatsApp → local outbox",
		"Delivered by Web Push (VAPID)", "Delivered by Herald's inbox", "mailto:push-ops@example.com", "HERALD_SES_FROM", "HERALD_SNS_ENABLED", "HERALD_SNS_FCM_APPLICATION_ARN", "HERALD_WHATSAPP_PHONE_NUMBER_ID"} {
		if !strings.Contains(text, want) {
			t.Errorf("the channels page lacks %q", want)
		}
	}
	if strings.Contains(text, vapidPriv) {
		t.Error("the channels page shows the VAPID private key")
	}
	screen(t, b, "console-settings-channels")

	// AI: the tones, and a category of the workspace's own.
	b.ClickLink("AI")
	b.WaitText("Fun fact", 0)
	b.WaitText("20 requests a minute", 0)
	b.FillLabel("Category 6 id", "tariffs")
	b.FillLabel("Category 6 name", "Tariffs")
	b.FillLabel("Category 6 description", "Prices by the hour and the cheapest hours to use energy.")
	b.FillLabel("Brand", "Luz Clara, a small energy company.")
	b.ClickButton("Save AI settings")
	b.WaitText("AI settings saved", 0)
	screen(t, b, "console-settings-ai")
	opts := s.must(200, "GET", "/v1/compose/options", nil)
	var ids []string
	for _, c := range opts["categories"].([]any) {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	if got := strings.Join(ids, ","); got != "self_consumption,energy_savings,cross_selling,switching,energy_communities,tariffs" || opts["brand"] != "Luz Clara, a small energy company." {
		t.Errorf("compose options after saving = %s, brand %v", got, opts["brand"])
	}

	// Destinations: edited here, offered in the send form.
	b.ClickLink("Destinations")
	b.FillLabel("Destination 2 label", "My bills")
	b.FillLabel("Destination 2 route", "bills")
	b.ClickButton("Save destinations")
	b.WaitText("Destinations saved", 0)
	screen(t, b, "console-settings-destinations")
	b.Visit(s.base + "/send?user=u1")
	b.Select("Channel", "Mobile push")
	b.FillLabel("Title", "Tu factura")
	b.FillLabel("Message", "Ya está disponible.")
	b.Select("Destination", "My bills")
	b.ClickButton("Send notification")
	b.WaitText("This notification goes to Ana", 0)
	b.ClickButton("Send notification")
	m := historyID.FindStringSubmatch(b.URL())
	if m == nil {
		b.WaitText("Sent", 0)
		m = historyID.FindStringSubmatch(b.URL())
	}
	if m == nil {
		t.Fatalf("after sending: %s\n%s", b.URL(), b.Text())
	}
	if n := s.must(200, "GET", "/v1/notifications/"+m[1], nil); n["route"] != "bills" {
		t.Errorf("the send's route = %v, want bills", n["route"])
	}

	// Browser SDK: the allowed origins (a bad line named with its text),
	// the snippet, and the signing key shown on request.
	b.Visit(s.base + "/settings/sdk")
	b.FillLabel("Origins", "https://Shop.example/\nftp://files.example")
	b.ClickButton("Save origins")
	b.WaitText("Line 2 (ftp://files.example)", 0)
	b.FillLabel("Origins", "https://Shop.example/\nhttps://help.shop.example:8443")
	b.ClickButton("Save origins")
	b.WaitText("Allowed origins saved", 0)
	if got := s.must(200, "GET", "/v1/sdk/settings", nil)["allowedOrigins"]; fmt.Sprint(got) != "[https://shop.example https://help.shop.example:8443]" {
		t.Errorf("the SDK's origins after saving = %v", got)
	}
	cors := func(origin string) int {
		req, _ := http.NewRequest("GET", s.base+"/sdk/v1/config", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("X-Herald-Client", "ws_local")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if ok, other := cors("https://shop.example"), cors("https://evil.example"); ok != 200 || other != 403 {
		t.Errorf("the SDK answers the saved origin %d and another %d, want 200 and 403", ok, other)
	}
	b.WaitText(`clientId: "ws_local"`, 0)
	b.ClickButton("Show the signing key")
	signingKey := s.must(200, "GET", "/v1/sdk/signing-key", nil)["key"]
	if got := b.Value("Signing key"); got != signingKey || got == "" {
		t.Errorf("the console's signing key %q, the API's %v", got, signingKey)
	}
	screen(t, b, "console-settings-sdk")

	b.Visit(s.base + "/settings/audit")
	for _, want := range []string{"key.create", "key.revoke", "compose.options", "console.destinations", "console.sdk.origins", "console.sdk.signing-key"} {
		b.WaitText(want, 0)
	}
}
