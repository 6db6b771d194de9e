package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/infra/browsertest"
	"github.com/heraldhq/herald/shared/webpush"
)

// sdkSite is make run with Web Push configured against the fake push
// service, and Chromium on the demo site with notifications allowed.
type sdkSite struct {
	*localServer
	b    *browsertest.Browser
	push *fakePushService
}

func newSDKSite(t *testing.T) *sdkSite {
	t.Helper()
	pub, priv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	site := &sdkSite{push: newFakePushService(t, pub)}
	trustTLSServer(t, site.push.srv)
	site.localServer = consoleServer(t, map[string]string{"HERALD_VAPID_PUBLIC_KEY": pub, "HERALD_VAPID_PRIVATE_KEY": priv,
		"HERALD_VAPID_SUBJECT": "mailto:ops@herald.local", "HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS": "1"})
	site.b = browsertest.Start(t)
	site.b.SetTimeout(10 * time.Second)
	if _, err := chromedp.CallBrowser(site.b.Context(), cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: site.base,
		BrowserContextID: chromedp.FromContext(site.b.Context()).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	return site
}

// signIn opens the demo in tab b as user; stub (stubSubscribe's) runs
// first, since the SDK subscribes at start when push is allowed.
func (site *sdkSite) signIn(t *testing.T, b *browsertest.Browser, user, stub string) {
	t.Helper()
	b.Visit(site.base + "/demo/")
	b.Eval(stub, nil)
	b.FillLabel("User id", user)
	b.ClickButton("Sign in as this user")
	b.WaitText("Signed in as "+user, 0)
}

// stubSubscribe makes the browser's PushManager.subscribe (in the page, or
// in the service worker when js runs there) answer a subscription of the
// fake push service: the only thing stubbed, since no push service is
// reachable offline. It returns the subscription's endpoint.
func (site *sdkSite) stubSubscribe(t *testing.T, token string) (endpoint, js string) {
	t.Helper()
	var sub map[string]any
	if err := json.Unmarshal([]byte(site.push.subscribe(t, token)), &sub); err != nil {
		t.Fatal(err)
	}
	subJSON, _ := json.Marshal(sub["subscription"])
	js = `(() => { const s = ` + string(subJSON) + `;
		PushManager.prototype.getSubscription = async () => null;
		PushManager.prototype.subscribe = async () => ({ endpoint: s.endpoint, toJSON: () => s, unsubscribe: async () => true });
		return true })()`
	return sub["subscription"].(map[string]any)["endpoint"].(string), js
}

// waitUser polls the user through the API until ok.
func (site *sdkSite) waitUser(t *testing.T, id, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	return site.waitFor(what, func() map[string]any { return site.must(200, "GET", "/v1/users/"+id, nil) }, ok)
}

func deviceEndpoints(u map[string]any) []string {
	var out []string
	for _, d := range asSlice(u["devices"]) {
		sub, _ := d.(map[string]any)["subscription"].(map[string]any)
		e, _ := sub["endpoint"].(string)
		out = append(out, e)
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// worker attaches to the demo's service worker and returns a context that
// runs DevTools commands in it.
func (site *sdkSite) worker(t *testing.T) context.Context {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		targets, err := chromedp.Targets(site.b.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range targets {
			if ti.Type == "service_worker" && strings.HasPrefix(ti.URL, site.base+"/demo/herald-sw.js") {
				ctx, cancel := chromedp.NewContext(site.b.Context(), chromedp.WithTargetID(ti.TargetID), chromedp.WithDetachOnCancel())
				t.Cleanup(cancel)
				return ctx
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no service worker of the demo among the browser's targets: %v", targets)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSDKServiceWorkerPush: a web push sent through the API reaches the
// push service encrypted to the browser's subscription; the fake push
// service decrypts it with the subscription's private key, as the browser
// would, and DevTools delivers it to the service worker
// (ServiceWorker.deliverPushMessage). The worker shows the notification
// with title, body, icon, image and buttons and reports it displayed; a
// press on a button reports the click and the answer. DevTools has no
// command to click a notification: the test dispatches notificationclick
// in the worker with the notification the worker showed.
func TestSDKServiceWorkerPush(t *testing.T) {
	site := newSDKSite(t)
	s, b := site.localServer, site.b
	s.users(map[string]any{"id": "ana", "name": "Ana"})

	var mu sync.Mutex
	var regID serviceworker.RegistrationID
	if err := chromedp.Listen(b.Context(), func(ev any) {
		if e, ok := ev.(*serviceworker.EventWorkerRegistrationUpdated); ok {
			for _, r := range e.Registrations {
				if r.ScopeURL == s.base+"/demo/" && !r.IsDeleted {
					mu.Lock()
					regID = r.RegistrationID
					mu.Unlock()
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Context(), serviceworker.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}

	_, stub := site.stubSubscribe(t, "ana-browser")
	site.signIn(t, b, "ana", stub)
	b.WaitText("Allowed", 0)
	site.waitUser(t, "ana", "the subscription registered", func(u map[string]any) bool { return len(deviceEndpoints(u)) == 1 })
	// Ana leaves the page (an open page holds pushes back: she is active in
	// the app) and comes back signed out, to see what the worker shows.
	b.Visit("about:blank")
	site.waitUser(t, "ana", "presence ended", func(u map[string]any) bool { return u["presenceUntil"] == nil })
	b.Visit(s.base + "/demo/")

	nid := s.must(202, "POST", "/v1/notifications", map[string]any{"channel": "webpush", "audience": map[string]any{"userIds": []string{"ana"}},
		"content": map[string]any{"title": "Tu factura", "body": "Hola {{name}}, ya está lista", "route": "billing",
			"push": map[string]any{"icon": s.base + "/demo/icon.png", "image": s.base + "/demo/factura.png",
				"buttons": []map[string]any{{"id": "pay", "label": "Pagar", "route": "billing/pay"}, {"id": "later", "label": "Más tarde"}}}}})["id"].(string)
	s.waitStatus(nid, "completed")
	pushes := site.push.pushes()
	if len(pushes) != 1 || pushes[0].Payload == nil {
		t.Fatalf("the push service got %d pushes (%+v), want one that decrypts", len(pushes), pushes)
	}
	payload, _ := json.Marshal(pushes[0].Payload)

	mu.Lock()
	id := regID
	mu.Unlock()
	if id == "" {
		t.Fatal("DevTools reported no registration of the demo's service worker")
	}
	if _, err := chromedp.Call(b.Context(), serviceworker.DeliverPushMessage,
		serviceworker.DeliverPushMessageParams{Origin: s.base, RegistrationID: id, Data: string(payload)}); err != nil {
		t.Fatal(err)
	}

	type shown struct {
		Title, Body, Icon, Image, Tag string
		Actions                       []string
	}
	var got []shown
	deadline := time.Now().Add(10 * time.Second)
	for len(got) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the service worker showed no notification")
		}
		time.Sleep(100 * time.Millisecond)
		b.Eval(`(async () => (await (await navigator.serviceWorker.getRegistration("/demo/")).getNotifications())
			.map((n) => ({ title: n.title, body: n.body, icon: n.icon, image: n.image, tag: n.tag, actions: n.actions.map((a) => a.title) })))()`, &got)
	}
	want := shown{Title: "Tu factura", Body: "Hola Ana, ya está lista", Icon: s.base + "/demo/icon.png", Image: s.base + "/demo/factura.png",
		Tag: nid, Actions: []string{"Pagar", "Más tarde"}}
	if len(got) != 1 || got[0].Title != want.Title || got[0].Body != want.Body || got[0].Icon != want.Icon || got[0].Image != want.Image ||
		got[0].Tag != want.Tag || strings.Join(got[0].Actions, "|") != strings.Join(want.Actions, "|") {
		t.Errorf("the notification shown = %+v, want %+v", got, want)
	}
	delivery := func() map[string]any {
		items := asSlice(s.must(200, "GET", "/v1/notifications/"+nid+"/deliveries", nil)["items"])
		if len(items) != 1 {
			t.Fatalf("deliveries of the push: %v", items)
		}
		return items[0].(map[string]any)
	}
	waitDelivery := func(what string, ok func(map[string]any) bool) map[string]any {
		t.Helper()
		return s.waitFor(what, delivery, ok)
	}
	waitDelivery("displayed reported", func(d map[string]any) bool { return d["status"] == "delivered" })

	// A press on "Pagar": the worker reports the click with its button.
	sw := site.worker(t)
	if _, err := chromedp.Run(sw, chromedp.Evaluate[any](`(async () => {
		const [n] = await self.registration.getNotifications();
		self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n, action: "pay" }));
		return true })()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	d := waitDelivery("the click reported", func(d map[string]any) bool { return d["status"] == "read" })
	if d["answer"] != "pay" {
		t.Errorf("the delivery after a press on Pagar: %v, want answer pay", d)
	}
	screen(t, b, "sdk-demo-push-shown")
}

// TestSDKSubscriptionChange: when the push service replaces the
// subscription (pushsubscriptionchange), the service worker subscribes
// again, registers the new subscription as the user's device, and the
// page removes the old one: the user keeps exactly one device, the new.
func TestSDKSubscriptionChange(t *testing.T) {
	site := newSDKSite(t)
	s, b := site.localServer, site.b
	s.users(map[string]any{"id": "bea", "name": "Bea"})
	first, stub := site.stubSubscribe(t, "bea-first")
	site.signIn(t, b, "bea", stub)
	site.waitUser(t, "bea", "the first subscription registered", func(u map[string]any) bool {
		e := deviceEndpoints(u)
		return len(e) == 1 && e[0] == first
	})

	second, stub := site.stubSubscribe(t, "bea-second")
	sw := site.worker(t)
	// Chromium never fires pushsubscriptionchange itself; the test fires
	// it in the worker, with the worker's subscribe stubbed as the page's.
	if _, err := chromedp.Run(sw, chromedp.Evaluate[any](stub+`, self.dispatchEvent(new ExtendableEvent("pushsubscriptionchange")), true`)); err != nil {
		t.Fatal(err)
	}
	site.waitUser(t, "bea", "the new subscription in place of the old", func(u map[string]any) bool {
		e := deviceEndpoints(u)
		return len(e) == 1 && e[0] == second
	})
}

// TestSDKPresenceAcrossTabs: the person is active in the app while any of
// their tabs is open; closing one of two keeps them present (an email is
// still held back), closing the last ends it.
func TestSDKPresenceAcrossTabs(t *testing.T) {
	site := newSDKSite(t)
	s, b := site.localServer, site.b
	s.users(map[string]any{"id": "cai", "name": "Cai", "email": "cai@example.com"})
	_, stub := site.stubSubscribe(t, "cai-browser")
	site.signIn(t, b, "cai", stub)
	other := b.NewTab()
	site.signIn(t, other, "cai", stub)
	present := func(u map[string]any) bool { return u["presenceUntil"] != nil }
	before := site.waitUser(t, "cai", "present with two tabs", present)["presenceUntil"]
	// The person comes back to the first tab: it beats last, so its until
	// is Herald's, and its going away alone must not end the presence.
	time.Sleep(1100 * time.Millisecond) // untils are kept to the millisecond; make this one later
	b.Eval(`document.dispatchEvent(new Event("visibilitychange")), true`, nil)
	after := site.waitUser(t, "cai", "the first tab beat last", func(u map[string]any) bool { return u["presenceUntil"] != before })["presenceUntil"]
	// and the tab has its answer (a tab closed with a beat in flight
	// leaves presence to its timeout).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var stored bool
		b.Eval(`Date.parse(localStorage.getItem("herald:ws_local:until")) === Date.parse(`+strconv.Quote(after.(string))+`)`, &stored)
		if stored {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first tab did not keep its until %v", after)
		}
	}

	b.Visit("about:blank") // the first tab goes away
	time.Sleep(time.Second)
	site.waitUser(t, "cai", "still present with one tab left", present)
	email := map[string]any{"channel": "email", "audience": map[string]any{"userIds": []string{"cai"}}, "content": map[string]any{"title": "Hola", "body": "Un correo"}}
	n := s.waitStatus(s.must(202, "POST", "/v1/notifications", email)["id"].(string), "completed")
	if c := n["counts"].(map[string]any); c["skipped"] != 1.0 {
		t.Errorf("an email while the second tab is open: %v, want skipped (active in the app)", c)
	}

	other.Close()
	site.waitUser(t, "cai", "presence ended with the last tab", func(u map[string]any) bool { return u["presenceUntil"] == nil })
}
