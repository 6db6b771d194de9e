package sdkapi

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// subscriptionOf is a browser's PushSubscription.toJSON() for endpoint.
func subscriptionOf(endpoint string) map[string]any {
	return map[string]any{"endpoint": endpoint, "expirationTime": nil,
		"keys": map[string]string{"p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM", "auth": "tBHItJI5svbpez7KI4CCXg"}}
}

// TestRoutesActOnTheTokenUserOnly: every /me route changes the token's
// user, and another user of the same workspace stays as they were,
// whatever ids the request names.
func TestRoutesActOnTheTokenUserOnly(t *testing.T) {
	e := newEnv(t, Options{})
	u1, u2 := e.as("u1"), e.as("u2")
	// u2's own device, which u1 may not remove.
	r := u2("POST", "/sdk/v1/me/devices", map[string]any{"kind": "webpush", "subscription": subscriptionOf("https://fcm.googleapis.com/fcm/send/u2-browser")})
	if r.status != 201 {
		t.Fatalf("u2's device = %d %s", r.status, r.raw)
	}
	u2Device := r.body["id"].(string)
	before := e.user("ws1", "u2")

	if r := u1("PUT", "/sdk/v1/me/push-permission", map[string]any{"status": "allowed"}); r.status != 200 || r.body["status"] != "allowed" {
		t.Errorf("push permission = %d %s, want 200 allowed", r.status, r.raw)
	}
	if r := u1("PUT", "/sdk/v1/me/push-permission", map[string]any{"status": "maybe"}); r.status != 422 {
		t.Errorf("push permission maybe = %d, want 422", r.status)
	}
	r = u1("POST", "/sdk/v1/me/devices", map[string]any{"kind": "webpush", "subscription": subscriptionOf("https://fcm.googleapis.com/fcm/send/u1-browser")})
	if r.status != 201 || r.body["kind"] != "webpush" || r.body["endpoint"] != nil {
		t.Fatalf("u1's device = %d %s, want 201 webpush without the SNS endpoint", r.status, r.raw)
	}
	u1Device := r.body["id"].(string)
	for _, bad := range []map[string]any{
		{"kind": "fcm", "token": "a-phone"},
		{"kind": "webpush"},
		{"kind": "webpush", "subscription": subscriptionOf("http://127.0.0.1:9/push")},
	} {
		if r := u1("POST", "/sdk/v1/me/devices", bad); r.status != 422 {
			t.Errorf("device %v = %d %s, want 422", bad, r.status, r.raw)
		}
	}
	if r := u1("DELETE", "/sdk/v1/me/devices/"+u2Device, nil); r.status != 404 {
		t.Errorf("u1 removing u2's device = %d %s, want 404", r.status, r.raw)
	}
	prefs := map[string]any{"channels": map[string]bool{"sms": false}, "categories": map[string]bool{"offers": false}, "quietHours": map[string]string{"start": "22:00", "end": "08:00"}}
	if r := u1("PUT", "/sdk/v1/me/preferences", prefs); r.status != 200 {
		t.Errorf("PUT preferences = %d %s", r.status, r.raw)
	}
	r = u1("GET", "/sdk/v1/me/preferences", nil)
	if d := cmp.Diff(map[string]any{"channels": map[string]any{"sms": false}, "categories": map[string]any{"offers": false}, "quietHours": map[string]any{"start": "22:00", "end": "08:00"}}, r.body); d != "" {
		t.Errorf("GET preferences (-want +got):\n%s", d)
	}
	if r := u2("GET", "/sdk/v1/me/preferences", nil); r.status != 200 || r.raw != "{}\n" {
		t.Errorf("u2's preferences = %s, want none", r.raw)
	}
	if r := u1("POST", "/sdk/v1/me/presence", map[string]any{"active": true, "ttlSeconds": 60}); r.status != 200 || r.body["active"] != true {
		t.Errorf("presence = %d %s", r.status, r.raw)
	}

	got := e.user("ws1", "u1")
	if got.PushPermission != notify.PermissionAllowed || len(got.Devices) != 1 || got.Devices[0].ID != u1Device ||
		got.Preferences.Channels[notify.ChannelSMS] || got.PresenceUntil == nil {
		t.Errorf("u1 after its requests: %+v", got)
	}
	if d := cmp.Diff(before, e.user("ws1", "u2")); d != "" {
		t.Errorf("u2 changed by u1's requests (-before +after):\n%s", d)
	}
	if u := e.user("ws2", "u1"); u.PushPermission != notify.PermissionAsk || u.PresenceUntil != nil {
		t.Errorf("ws2's u1 changed by ws1's u1: %+v", u)
	}
	// Signing out removes the browser's device.
	if r := u1("DELETE", "/sdk/v1/me/devices/"+u1Device, nil); r.status != 204 {
		t.Errorf("remove own device = %d %s", r.status, r.raw)
	}
	if n := len(e.user("ws1", "u1").Devices); n != 0 {
		t.Errorf("u1 has %d devices after removing its one", n)
	}
}

// TestPresenceAcrossTabs: two tabs of one user beat; the one that goes
// away first leaves the user present, the last one ends the presence.
func TestPresenceAcrossTabs(t *testing.T) {
	e := newEnv(t, Options{})
	tabA, tabB := e.as("u1"), e.as("u1")
	a := tabA("POST", "/sdk/v1/me/presence", map[string]any{"active": true, "ttlSeconds": 60})
	e.clock.Add(15 * time.Second)
	b := tabB("POST", "/sdk/v1/me/presence", map[string]any{"active": true, "ttlSeconds": 60})
	e.clock.Add(5 * time.Second)
	r := tabA("POST", "/sdk/v1/me/presence", map[string]any{"active": false, "until": a.body["until"]})
	if r.status != 200 || r.body["active"] != true || r.body["until"] != b.body["until"] {
		t.Errorf("tab A going away while B beats = %d %s, want still present until B's %v", r.status, r.raw, b.body["until"])
	}
	if u := e.user("ws1", "u1"); u.PresenceUntil == nil || !u.PresenceUntil.After(e.clock.Now()) {
		t.Errorf("presence after tab A went away = %v, want present", u.PresenceUntil)
	}
	r = tabB("POST", "/sdk/v1/me/presence", map[string]any{"active": false, "until": b.body["until"]})
	if r.status != 200 || r.body["active"] != false {
		t.Errorf("tab B, the last, going away = %d %s, want absent", r.status, r.raw)
	}
	if u := e.user("ws1", "u1"); u.PresenceUntil != nil {
		t.Errorf("presence after the last tab went away = %v, want none", u.PresenceUntil)
	}
	for _, bad := range []map[string]any{
		{"ttlSeconds": 60},
		{"active": true, "ttlSeconds": 29},
		{"active": true, "ttlSeconds": 601},
		{"active": true, "until": a.body["until"]},
	} {
		if r := tabA("POST", "/sdk/v1/me/presence", bad); r.status != 422 {
			t.Errorf("presence %v = %d %s, want 422", bad, r.status, r.raw)
		}
	}
}

// TestEvents: the service worker's reports move the user's delivery
// forward (displayed → delivered, clicked → read) and record a pressed
// button as the answer, on the delivery and the user; nobody else's.
func TestEvents(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	now := e.clock.Now()
	n := notify.Notification{WorkspaceID: "ws1", ID: "01JNOTIFICATION0000000000A", Channel: notify.ChannelWebPush, Status: notify.StatusSending, CreatedAt: now, UpdatedAt: now,
		Counts: notify.Counts{Total: 3, Sent: 3}, Content: notify.Template{Channel: notify.ChannelWebPush, Title: "T", Body: "B",
			Push: &notify.PushExtras{Buttons: []notify.Button{{ID: "yes", Label: "Yes"}, {ID: "no", Label: "No"}}}}}
	if err := e.store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	// Another notification sent to u2 alone.
	only2 := n
	only2.ID = "01JNOTIFICATION0000000000B"
	if err := e.store.CreateNotification(ctx, only2); err != nil {
		t.Fatal(err)
	}
	var ds []notify.Delivery
	for _, d := range []struct {
		nid, user string
		status    notify.DeliveryStatus
	}{{n.ID, "u1", notify.DeliverySent}, {n.ID, "u2", notify.DeliverySent}, {only2.ID, "u2", notify.DeliverySent}} {
		ds = append(ds, notify.Delivery{WorkspaceID: "ws1", NotificationID: d.nid, Key: d.user, UserID: d.user, Channel: notify.ChannelWebPush, Status: d.status, CreatedAt: now, UpdatedAt: now})
	}
	if _, err := e.store.RecordDeliveries(ctx, ds); err != nil {
		t.Fatal(err)
	}
	status := func(nid, user string) notify.Delivery {
		t.Helper()
		got, err := e.store.GetDeliveries(ctx, "ws1", nid, []string{user})
		if err != nil {
			t.Fatal(err)
		}
		return got[user]
	}
	u1 := e.as("u1")
	if r := u1("POST", "/sdk/v1/me/events", map[string]any{"notificationId": n.ID, "event": "displayed"}); r.status != 204 {
		t.Fatalf("displayed = %d %s", r.status, r.raw)
	}
	if got := status(n.ID, "u1").Status; got != notify.DeliveryDelivered {
		t.Errorf("u1's delivery after displayed = %s, want delivered", got)
	}
	e.clock.Add(time.Second)
	if r := u1("POST", "/sdk/v1/me/events", map[string]any{"notificationId": n.ID, "event": "clicked", "button": "yes"}); r.status != 204 {
		t.Fatalf("clicked yes = %d %s", r.status, r.raw)
	}
	d := status(n.ID, "u1")
	if d.Status != notify.DeliveryRead || d.Answer != "yes" || d.AnsweredAt == nil {
		t.Errorf("u1's delivery after clicking yes = %+v, want read with the answer yes", d)
	}
	if a := e.user("ws1", "u1").LastAnswer; a == nil || a.Answer != "yes" || a.NotificationID != n.ID {
		t.Errorf("u1's last answer = %+v, want yes to %s", a, n.ID)
	}
	if got, err := e.store.GetNotification(ctx, "ws1", n.ID); err != nil || got.Counts.Read != 1 || got.Counts.Sent != 2 {
		t.Errorf("counts after u1 read = %+v (%v), want read 1, sent 2", got.Counts, err)
	}
	// Reported again, or late: nothing moves back.
	if r := u1("POST", "/sdk/v1/me/events", map[string]any{"notificationId": n.ID, "event": "displayed"}); r.status != 204 || status(n.ID, "u1").Status != notify.DeliveryRead {
		t.Errorf("a late displayed = %d, delivery %s; want 204 and read", r.status, status(n.ID, "u1").Status)
	}

	refused := []struct {
		name string
		body map[string]any
		want int
	}{
		{"a button the notification lacks", map[string]any{"notificationId": n.ID, "event": "clicked", "button": "maybe"}, 422},
		{"a button with displayed", map[string]any{"notificationId": n.ID, "event": "displayed", "button": "yes"}, 422},
		{"an unknown event", map[string]any{"notificationId": n.ID, "event": "dismissed"}, 422},
		{"no notification", map[string]any{"event": "clicked"}, 422},
		{"a notification sent to another user", map[string]any{"notificationId": only2.ID, "event": "clicked"}, 404},
		{"an unknown notification", map[string]any{"notificationId": "01JUNKNOWN0000000000000000", "event": "clicked"}, 404},
		{"a notification id that is no id", map[string]any{"notificationId": "a#b", "event": "clicked"}, 404},
	}
	for _, tt := range refused {
		if r := u1("POST", "/sdk/v1/me/events", tt.body); r.status != tt.want {
			t.Errorf("%s = %d %s, want %d", tt.name, r.status, r.raw, tt.want)
		}
	}
	for _, key := range []struct{ nid, user string }{{n.ID, "u2"}, {only2.ID, "u2"}} {
		if d := status(key.nid, key.user); d.Status != notify.DeliverySent || d.Answer != "" {
			t.Errorf("u2's delivery of %s after u1's events = %+v, want sent, no answer", key.nid, d)
		}
	}
	if a := e.user("ws1", "u2").LastAnswer; a != nil {
		t.Errorf("u2's last answer = %+v, want none", a)
	}
	// A failed delivery stays failed.
	if _, err := e.store.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: "ws1", NotificationID: only2.ID, Key: "u2", Status: notify.DeliveryFailed, At: now}); err != nil {
		t.Fatal(err)
	}
	if r := e.as("u2")("POST", "/sdk/v1/me/events", map[string]any{"notificationId": only2.ID, "event": "clicked"}); r.status != 204 || status(only2.ID, "u2").Status != notify.DeliveryFailed {
		t.Errorf("clicked on a failed delivery = %d, delivery %s; want 204 and failed", r.status, status(only2.ID, "u2").Status)
	}
}
