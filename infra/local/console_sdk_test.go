package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/infra/browsertest"
	"github.com/heraldhq/herald/shared/usertoken"
	"github.com/heraldhq/herald/shared/webpush"
)

// Issue 17's journeys (CONSOLE.md 8 and 12, and the browser half of 10) on
// make run's demo site, which uses the SDK as a customer's page does: the
// push permission reported from the browser, the soft prompt before the
// browser's own, a subscription registered as the user's device (only the
// browser's subscribe call is stubbed: no push service is reachable
// offline), the in-app inbox filling from a send through the API and
// marked read, and presence holding an email back while the page is open.
func TestSDKDemo(t *testing.T) {
	pub, priv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	pushSvc := newFakePushService(t, pub)
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_UNDO": "0s", "HERALD_VAPID_PUBLIC_KEY": pub, "HERALD_VAPID_PRIVATE_KEY": priv,
		"HERALD_VAPID_SUBJECT": "mailto:ops@herald.local", "HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS": "1"})
	s.users(map[string]any{"id": "ana", "name": "Ana", "email": "ana@example.com"})

	b := browsertest.Start(t)
	b.SetTimeout(10 * time.Second)
	permission := func(setting cdpbrowser.PermissionSetting) {
		t.Helper()
		if _, err := chromedp.CallBrowser(b.Context(), cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: setting, Origin: s.base,
			BrowserContextID: chromedp.FromContext(b.Context()).BrowserContextID}); err != nil {
			t.Fatal(err)
		}
	}
	user := func() map[string]any { return s.must(200, "GET", "/v1/users/ana", nil) }

	b.Visit(s.base + "/demo/")
	b.FillLabel("User id", "ana")
	b.ClickButton("Sign in as this user")
	b.WaitText("Signed in as ana", 0)
	screen(t, b, "sdk-demo-signed-in")
	if got := user()["pushPermission"]; got != "ask" {
		t.Errorf("push permission after the SDK started = %v, want ask", got)
	}

	// The soft prompt first; "Not now" is remembered and not asked again.
	b.ClickButton("Enable notifications")
	b.WaitText("Get notified about your account?", 0)
	screen(t, b, "sdk-demo-soft-prompt")
	b.ClickButton("Not now")
	var later string
	b.Eval(`localStorage.getItem("herald:ws_local:later") ?? ""`, &later)
	if later == "" {
		t.Error(`"Not now" was not remembered`)
	}
	b.ClickButton("Enable notifications")
	time.Sleep(600 * time.Millisecond)
	if strings.Contains(b.Text(), "Get notified about your account?") {
		t.Error(`the soft prompt came back right after "Not now"`)
	}

	// Allowed: the browser grants, the page subscribes (the push service's
	// subscribe stubbed with a real key pair) and the device is registered.
	var sub map[string]any
	if err := json.Unmarshal([]byte(pushSvc.subscribe(t, "demo-browser")), &sub); err != nil {
		t.Fatal(err)
	}
	subJSON, _ := json.Marshal(sub["subscription"])
	b.Eval(`(() => { const s = `+string(subJSON)+`;
		PushManager.prototype.getSubscription = async () => null;
		PushManager.prototype.subscribe = async () => ({ endpoint: s.endpoint, toJSON: () => s, unsubscribe: async () => true });
		localStorage.removeItem("herald:ws_local:later"); return true })()`, nil)
	permission(cdpbrowser.PermissionSettingGranted)
	b.ClickButton("Enable notifications")
	b.WaitText("Allowed", 0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		u := user()
		devices, _ := u["devices"].([]any)
		if u["pushPermission"] == "allowed" && len(devices) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after allowing: %v", u)
		}
		time.Sleep(100 * time.Millisecond)
	}
	screen(t, b, "sdk-demo-allowed")

	// The in-app inbox: a message sent through the API appears within
	// seconds, with the unread count, and is marked read from the page.
	s.must(202, "POST", "/v1/notifications", map[string]any{"channel": "inapp", "audience": map[string]any{"userIds": []string{"ana"}},
		"content": map[string]any{"title": "Tu factura", "body": "Ya puedes verla en la app"}})
	start := time.Now()
	var badge string
	for badge != "1" {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the bell shows %q after 5 s, want 1 unread", badge)
		}
		time.Sleep(100 * time.Millisecond)
		b.Eval(`document.querySelector(".herald-badge")?.textContent ?? ""`, &badge)
	}
	t.Logf("the message reached the page's bell in %v", time.Since(start).Round(10*time.Millisecond))
	b.Eval(`document.querySelector(".herald-bell").click(), true`, nil)
	b.WaitText("Tu factura", 0)
	screen(t, b, "sdk-demo-inbox")
	b.ClickButton("Mark read")
	b.WaitText("Mark unread", 0)
	inbox := s.must(200, "GET", "/v1/users/ana/inbox", nil)
	items, _ := inbox["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["readAt"] == nil {
		t.Errorf("the inbox after Mark read: %v", inbox)
	}

	// Presence: while the page is open an email holds back; once it is
	// gone, the next one goes.
	if p := user()["presenceUntil"]; p == nil {
		t.Fatalf("the open page did not make Ana present: %v", user())
	}
	email := map[string]any{"channel": "email", "audience": map[string]any{"userIds": []string{"ana"}}, "content": map[string]any{"title": "Hola", "body": "Un correo"}}
	held := s.must(202, "POST", "/v1/notifications", email)["id"].(string)
	n := s.waitStatus(held, "completed")
	if c := n["counts"].(map[string]any); c["skipped"] != 1.0 {
		t.Errorf("an email while the page is open: %v, want skipped (active in the app)", c)
	}
	b.Visit("about:blank") // the page goes away: pagehide ends presence
	deadline = time.Now().Add(10 * time.Second)
	for user()["presenceUntil"] != nil {
		if time.Now().After(deadline) {
			t.Fatalf("presence did not end when the page went away: %v", user())
		}
		time.Sleep(100 * time.Millisecond)
	}
	sent := s.must(202, "POST", "/v1/notifications", email)["id"].(string)
	n = s.waitStatus(sent, "completed")
	if c := n["counts"].(map[string]any); c["skipped"] == 1.0 {
		t.Errorf("an email after the page closed was still held back: %v", c)
	}
}

// TestSDKRefusesOtherOrigins: the SDK's routes answer the workspace's
// allowed origins only (locally, this machine's pages), and a token only
// for its workspace.
func TestSDKRefusesOtherOrigins(t *testing.T) {
	s := consoleServer(t, nil)
	s.users(map[string]any{"id": "ana", "name": "Ana"})
	tok := s.must(201, "POST", "/v1/users/ana/sdk-token", map[string]any{"ttlSeconds": 600})["token"].(string)
	call := func(origin, client, token string) int {
		req, _ := http.NewRequest("GET", s.base+"/sdk/v1/me/inbox", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		req.Header.Set("X-Herald-Client", client)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := call(s.base, "ws_local", tok); got != 200 {
		t.Errorf("this machine's page: %d, want 200", got)
	}
	// A token past its expiry, made with the workspace's signing key as a
	// backend may (the HMAC of API.md).
	key, err := hex.DecodeString(s.must(200, "GET", "/v1/sdk/signing-key", nil)["key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	expired := usertoken.Mint(key, usertoken.Claims{WorkspaceID: "ws_local", UserID: "ana", Expires: time.Now().Add(-time.Minute)})
	fresh := usertoken.Mint(key, usertoken.Claims{WorkspaceID: "ws_local", UserID: "ana", Expires: time.Now().Add(time.Minute)})
	if got := call(s.base, "ws_local", fresh); got != 200 {
		t.Errorf("a token made with the signing key: %d, want 200", got)
	}
	for name, got := range map[string]int{
		"another site":          call("https://evil.example", "ws_local", tok),
		"no Origin":             call("", "ws_local", tok),
		"a token of no one":     call(s.base, "ws_local", tok+"x"),
		"another workspace's":   call(s.base, "ws_other", tok),
		"an API key as a token": call(s.base, "ws_local", sheetKey),
		"an expired token":      call(s.base, "ws_local", expired),
	} {
		if got != 401 && got != 403 {
			t.Errorf("%s: %d, want 401 or 403", name, got)
		}
	}
}

// TestSDKBlockedAndSignOut: a browser that blocks notifications is
// reported blocked; signing out removes the page's device.
func TestSDKBlockedAndSignOut(t *testing.T) {
	pub, priv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	pushSvc := newFakePushService(t, pub)
	s := consoleServer(t, map[string]string{"HERALD_VAPID_PUBLIC_KEY": pub, "HERALD_VAPID_PRIVATE_KEY": priv,
		"HERALD_VAPID_SUBJECT": "mailto:ops@herald.local", "HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS": "1"})
	b := browsertest.Start(t)
	b.SetTimeout(10 * time.Second)
	setting := func(v cdpbrowser.PermissionSetting) {
		t.Helper()
		if _, err := chromedp.CallBrowser(b.Context(), cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: v, Origin: s.base,
			BrowserContextID: chromedp.FromContext(b.Context()).BrowserContextID}); err != nil {
			t.Fatal(err)
		}
	}
	waitUser := func(what string, ok func(map[string]any) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			u := s.must(200, "GET", "/v1/users/bea", nil)
			if ok(u) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %v", what, u)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	setting(cdpbrowser.PermissionSettingDenied)
	b.Visit(s.base + "/demo/")
	b.FillLabel("User id", "bea")
	b.ClickButton("Sign in as this user")
	b.WaitText("Blocked", 0)
	waitUser("blocked reported", func(u map[string]any) bool { return u["pushPermission"] == "blocked" })
	screen(t, b, "sdk-demo-blocked")

	// Allowed later (the person changed it in the browser's settings): a
	// page subscribes, and signing out removes that device.
	var sub map[string]any
	if err := json.Unmarshal([]byte(pushSvc.subscribe(t, "bea-browser")), &sub); err != nil {
		t.Fatal(err)
	}
	subJSON, _ := json.Marshal(sub["subscription"])
	b.Eval(`(() => { const s = `+string(subJSON)+`;
		PushManager.prototype.getSubscription = async () => null;
		PushManager.prototype.subscribe = async () => ({ endpoint: s.endpoint, toJSON: () => s, unsubscribe: async () => true }); return true })()`, nil)
	setting(cdpbrowser.PermissionSettingGranted)
	b.ClickButton("Enable notifications")
	waitUser("allowed with a device", func(u map[string]any) bool {
		d, _ := u["devices"].([]any)
		return u["pushPermission"] == "allowed" && len(d) == 1
	})
	b.ClickButton("Sign out")
	waitUser("the device removed at sign-out", func(u map[string]any) bool {
		d, _ := u["devices"].([]any)
		return len(d) == 0
	})
}
