package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
	"github.com/heraldhq/herald/shared/whatsapp"
)

const secret = "app-secret"

// replySecret keys quick-reply payloads, as HERALD_UNSUBSCRIBE_SECRET does.
var replySecret = []byte("reply-secret")

func sign(body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// metaBody is a WhatsApp Cloud API webhook body, as Meta sends it, with
// one change whose value holds value's fields.
func metaBody(t testing.TB, value map[string]any) string {
	t.Helper()
	value["messaging_product"] = "whatsapp"
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry":  []any{map[string]any{"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": value}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// statusBody is a WhatsApp Cloud API status callback, as Meta sends it.
func statusBody(t testing.TB, statuses ...map[string]any) string {
	t.Helper()
	return metaBody(t, map[string]any{
		"metadata": map[string]any{"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
		"statuses": statuses,
	})
}

// postMeta POSTs a callback body to url, signed with signature (none when
// ""), and returns the status.
func postMeta(t *testing.T, url, body, signature string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func status(key, s string, ts int64, errCode int) map[string]any {
	st := map[string]any{
		"id": "wamid.HBgL" + key, "status": s, "timestamp": fmt.Sprint(ts), "recipient_id": "34600000001",
		"biz_opaque_callback_data": whatsapp.CallbackData(channel.Envelope{WorkspaceID: "ws1", NotificationID: "NW", RecipientKey: key}),
	}
	if errCode != 0 {
		st["errors"] = []any{map[string]any{"code": errCode, "title": "Message undeliverable"}}
	}
	return st
}

func TestWhatsAppCallbacks(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	n := notify.Notification{WorkspaceID: "ws1", ID: "NW", Channel: notify.ChannelWhatsApp, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: 3, Sent: 3}, CreatedAt: now, Content: notify.Template{Body: "x"}}
	var ds []notify.Delivery
	for _, k := range []string{"u1", "u2", "u3"} {
		ds = append(ds, notify.Delivery{WorkspaceID: "ws1", NotificationID: "NW", Key: k, UserID: k, Channel: notify.ChannelWhatsApp, Status: notify.DeliverySent, CreatedAt: now, UpdatedAt: now})
	}
	seedNotification(t, store, n, ds)
	srv := httptest.NewServer(&WhatsApp{AppSecret: secret, VerifyToken: "verify-me", Store: store, Log: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	ts := now.Unix() + 60

	// Bad or missing signatures are refused and record nothing.
	forged := statusBody(t, status("u1", "read", ts, 0))
	for _, sig := range []string{"", "sha256=00", sign(forged + " ")} {
		if got := postMeta(t, srv.URL, forged, sig); got != 401 {
			t.Errorf("POST with signature %q = %d, want 401", sig, got)
		}
	}
	// read arrives before delivered; a duplicate; a failure; a status of
	// a message Herald did not send.
	other := status("u1", "delivered", ts, 0)
	other["biz_opaque_callback_data"] = ""
	for _, body := range []string{
		statusBody(t, status("u1", "read", ts+2, 0), status("u2", "delivered", ts, 0)),
		statusBody(t, status("u1", "delivered", ts+1, 0), status("u2", "delivered", ts, 0), other),
		statusBody(t, status("u3", "failed", ts, 131026)),
	} {
		if got := postMeta(t, srv.URL, body, sign(body)); got != 200 {
			t.Fatalf("POST = %d, want 200", got)
		}
	}
	got, err := store.GetDeliveries(ctx, "ws1", "NW", []string{"u1", "u2", "u3"})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for k, d := range got {
		states[k] = string(d.Status) + "/" + d.Reason
	}
	if diff := cmp.Diff(map[string]string{"u1": "read/", "u2": "delivered/", "u3": "failed/whatsapp_131026"}, states); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	nt, err := store.GetNotification(ctx, "ws1", "NW")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(notify.Counts{Total: 3, Delivered: 1, Read: 1, Failed: 1}, nt.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}

	// The handshake.
	for _, tt := range []struct {
		query string
		code  int
		body  string
	}{
		{"hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 200, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", 403, ""},
	} {
		res, err := http.Get(srv.URL + "?" + tt.query)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.code || (tt.body != "" && string(b) != tt.body) {
			t.Errorf("GET ?%s = %d %q, want %d %q", tt.query, res.StatusCode, b, tt.code, tt.body)
		}
	}
}

// TestWhatsAppInboundOpensTheWindow: a user's own message opens their
// 24-hour window in every workspace that has their phone; an older one
// changes nothing.
func TestWhatsAppInboundOpensTheWindow(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, ws := range []string{"ws1", "ws2"} {
		if _, err := store.PutUser(ctx, notify.User{WorkspaceID: ws, ID: "ana", Phone: "+34600000001", PushPermission: notify.PermissionAsk, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(&WhatsApp{AppSecret: secret, Store: store, Log: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	for _, ts := range []int64{now.Unix(), now.Unix() - 3600} {
		body := metaBody(t, map[string]any{
			"contacts": []any{map[string]any{"profile": map[string]any{"name": "Ana"}, "wa_id": "34600000001"}},
			"messages": []any{map[string]any{"from": "34600000001", "id": "wamid.IN", "timestamp": fmt.Sprint(ts), "type": "text", "text": map[string]any{"body": "hola"}}},
		})
		if code := postMeta(t, srv.URL, body, sign(body)); code != 200 {
			t.Fatalf("inbound message = %d", code)
		}
	}
	for _, ws := range []string{"ws1", "ws2"} {
		u, err := store.GetUser(ctx, ws, "ana")
		if err != nil {
			t.Fatal(err)
		}
		if u.WhatsAppLastInbound == nil || !u.WhatsAppLastInbound.Equal(now) {
			t.Errorf("%s: last inbound = %v, want %v (the later message)", ws, u.WhatsAppLastInbound, now)
		}
	}
}

// TestWhatsAppQuickReplies: pressing a template's quick-reply button marks
// the delivery read and records the answer on it and on the user; a later
// press wins, an older one arriving late and a duplicate change nothing,
// and a payload that is not Herald's only opens the window.
func TestWhatsAppQuickReplies(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	n := notify.Notification{WorkspaceID: "ws1", ID: "NQ", Channel: notify.ChannelWhatsApp, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: 2, Delivered: 2}, CreatedAt: now, Content: notify.Template{Body: "x"}}
	var ds []notify.Delivery
	for _, k := range []string{"ana", "addr#+34600000009"} {
		ds = append(ds, notify.Delivery{WorkspaceID: "ws1", NotificationID: "NQ", Key: k, Channel: notify.ChannelWhatsApp, Status: notify.DeliveryDelivered, CreatedAt: now, UpdatedAt: now})
	}
	seedNotification(t, store, n, ds)
	if _, err := store.PutUser(ctx, notify.User{WorkspaceID: "ws1", ID: "ana", Phone: "+34600000001", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&WhatsApp{AppSecret: secret, ReplySecret: replySecret, Store: store, Log: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	press := func(from, key, button string, at time.Time, interactive bool) {
		t.Helper()
		// Signed for the phone that presses: the message went there.
		payload := whatsapp.ButtonPayload(replySecret, channel.Envelope{WorkspaceID: "ws1", NotificationID: "NQ", RecipientKey: key}, "+"+from, button)
		m := map[string]any{"from": from, "id": "wamid.IN" + button, "timestamp": fmt.Sprint(at.Unix()),
			"context": map[string]any{"from": "15550783881", "id": "wamid.OUT"}}
		if interactive {
			m["type"] = "interactive"
			m["interactive"] = map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": payload, "title": button}}
		} else {
			m["type"] = "button"
			m["button"] = map[string]any{"payload": payload, "text": strings.ToUpper(button[:1]) + button[1:]}
		}
		body := metaBody(t, map[string]any{"messages": []any{m}})
		if code := postMeta(t, srv.URL, body, sign(body)); code != 200 {
			t.Fatalf("quick reply = %d", code)
		}
	}
	t1, t2 := now.Add(time.Minute), now.Add(2*time.Minute)
	press("34600000001", "ana", "accept", t1, false)
	press("34600000001", "ana", "decline", t2, true) // changed their mind
	press("34600000001", "ana", "accept", t1, false) // the first press again, late
	press("34600000009", "addr#+34600000009", "accept", t1, false)
	press("34600000001", "nobody", "accept", t2, false) // no such delivery

	got, err := store.GetDeliveries(ctx, "ws1", "NQ", []string{"ana", "addr#+34600000009"})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"ana": "read/decline", "addr#+34600000009": "read/accept"} {
		if g := string(got[key].Status) + "/" + got[key].Answer; g != want {
			t.Errorf("delivery %s = %s, want %s", key, g, want)
		}
	}
	u, err := store.GetUser(ctx, "ws1", "ana")
	if err != nil {
		t.Fatal(err)
	}
	want := &notify.Answer{NotificationID: "NQ", Answer: "decline", At: t2}
	if diff := cmp.Diff(want, u.LastAnswer); diff != "" {
		t.Errorf("user's last answer (-want +got):\n%s", diff)
	}
	if u.WhatsAppLastInbound == nil || !u.WhatsAppLastInbound.Equal(t2) {
		t.Errorf("a press opens the window too: last inbound = %v, want %v", u.WhatsAppLastInbound, t2)
	}
	nt, err := store.GetNotification(ctx, "ws1", "NQ")
	if err != nil {
		t.Fatal(err)
	}
	if nt.Counts != (notify.Counts{Total: 2, Read: 2}) {
		t.Errorf("counts = %+v, want 2 read", nt.Counts)
	}
}

// TestWhatsAppQuickReplyBinding: a press counts only from the phone its
// delivery was sent to, with the payload Herald made. A payload for Bea's
// delivery pressed (or forged) from Ana's phone, one signed with another
// secret, one whose button was changed: each is ignored with 200, so that
// Meta does not send it again. Unsigned payloads (sent before payloads
// were signed) count only from the delivery's recorded phone and for one
// of the notification's buttons.
func TestWhatsAppQuickReplyBinding(t *testing.T) {
	store := openStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	phones := map[string]string{"ana": "+34600000001", "bea": "+34600000002"}
	keys := map[string][]byte{}
	for id, phone := range phones {
		u, err := store.PutUser(ctx, notify.User{WorkspaceID: "ws1", ID: id, Phone: phone, SealKey: seal.NewKey(), CreatedAt: now, UpdatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = u.SealKey
	}
	n := notify.Notification{WorkspaceID: "ws1", ID: "NB", Channel: notify.ChannelWhatsApp, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: 3, Delivered: 3}, CreatedAt: now,
		Content: notify.Template{Body: "x", WhatsApp: &notify.WhatsAppTemplate{Name: "rsvp", Language: "es", Buttons: []notify.Button{{ID: "accept", Label: "Sí"}, {ID: "decline", Label: "No"}}}}}
	var ds []notify.Delivery
	for _, id := range []string{"ana", "bea"} {
		addr, err := seal.Seal(keys[id], phones[id])
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, notify.Delivery{WorkspaceID: "ws1", NotificationID: "NB", Key: id, UserID: id, Address: addr, Channel: notify.ChannelWhatsApp, Status: notify.DeliveryDelivered, CreatedAt: now, UpdatedAt: now})
	}
	ds = append(ds, notify.Delivery{WorkspaceID: "ws1", NotificationID: "NB", Key: "addr#+34600000009", Address: "+34600000009", Channel: notify.ChannelWhatsApp, Status: notify.DeliveryDelivered, CreatedAt: now, UpdatedAt: now})
	seedNotification(t, store, n, ds)
	srv := httptest.NewServer(&WhatsApp{AppSecret: secret, ReplySecret: replySecret, Store: store, Log: slog.New(slog.DiscardHandler)})
	defer srv.Close()

	env := func(key string) channel.Envelope {
		return channel.Envelope{WorkspaceID: "ws1", NotificationID: "NB", RecipientKey: key}
	}
	unsigned := func(key, button string) string { return whatsapp.ButtonPayload(nil, env(key), "", button) }
	signedFor := func(key, phone, button string) string {
		return whatsapp.ButtonPayload(replySecret, env(key), phone, button)
	}
	at := now.Add(time.Minute)
	for _, tt := range []struct {
		name, from, payload string
	}{
		{"Bea's payload pressed from Ana's phone", "34600000001", signedFor("bea", phones["bea"], "accept")},
		{"signed with another secret", "34600000002", whatsapp.ButtonPayload([]byte("not-ours"), env("bea"), phones["bea"], "accept")},
		{"button changed after signing", "34600000002", strings.Replace(signedFor("bea", phones["bea"], "accept"), `"b":"accept"`, `"b":"<script>"`, 1)},
		{"raw-address delivery from another phone", "34600000001", signedFor("addr#+34600000009", "+34600000009", "accept")},
		{"unsigned, from another phone", "34600000001", unsigned("bea", "accept")},
		{"unsigned, a button the notification lacks", "34600000002", unsigned("bea", "<script>")},
		{"unsigned raw address, from another phone", "34600000001", unsigned("addr#+34600000009", "accept")},
	} {
		m := map[string]any{"from": tt.from, "id": "wamid.IN", "timestamp": fmt.Sprint(at.Unix()), "type": "button",
			"button": map[string]any{"payload": tt.payload, "text": "Sí"}}
		body := metaBody(t, map[string]any{"messages": []any{m}})
		if code := postMeta(t, srv.URL, body, sign(body)); code != 200 {
			t.Errorf("%s: callback = %d, want 200 (ignored, not retried)", tt.name, code)
		}
	}
	got, err := store.GetDeliveries(ctx, "ws1", "NB", []string{"ana", "bea", "addr#+34600000009"})
	if err != nil {
		t.Fatal(err)
	}
	for key, d := range got {
		if d.Status != notify.DeliveryDelivered || d.Answer != "" {
			t.Errorf("delivery %s after refused presses = %s/%q, want delivered with no answer", key, d.Status, d.Answer)
		}
	}
	for _, id := range []string{"ana", "bea"} {
		if u, err := store.GetUser(ctx, "ws1", id); err != nil || u.LastAnswer != nil {
			t.Errorf("user %s last answer = %+v, %v; want none", id, u.LastAnswer, err)
		}
	}

	// The genuine presses: signed from the right phone, and unsigned ones
	// from the recorded phone naming a real button.
	for _, tt := range []struct{ from, payload string }{
		{"34600000002", signedFor("bea", phones["bea"], "decline")},
		{"34600000001", unsigned("ana", "accept")},
		{"34600000009", unsigned("addr#+34600000009", "decline")},
	} {
		m := map[string]any{"from": tt.from, "id": "wamid.IN", "timestamp": fmt.Sprint(at.Unix()), "type": "button",
			"button": map[string]any{"payload": tt.payload, "text": "x"}}
		body := metaBody(t, map[string]any{"messages": []any{m}})
		if code := postMeta(t, srv.URL, body, sign(body)); code != 200 {
			t.Fatalf("genuine press = %d, want 200", code)
		}
	}
	got, err = store.GetDeliveries(ctx, "ws1", "NB", []string{"ana", "bea", "addr#+34600000009"})
	if err != nil {
		t.Fatal(err)
	}
	answers := map[string]string{}
	for key, d := range got {
		answers[key] = string(d.Status) + "/" + d.Answer
	}
	if diff := cmp.Diff(map[string]string{"ana": "read/accept", "bea": "read/decline", "addr#+34600000009": "read/decline"}, answers); diff != "" {
		t.Errorf("deliveries after genuine presses (-want +got):\n%s", diff)
	}

	// Callbacks without the reply secret cannot tell a signed payload
	// from a forged one: they ignore it.
	unkeyed := httptest.NewServer(&WhatsApp{AppSecret: secret, Store: store, Log: slog.New(slog.DiscardHandler)})
	defer unkeyed.Close()
	m := map[string]any{"from": "34600000002", "id": "wamid.IN2", "timestamp": fmt.Sprint(at.Add(time.Minute).Unix()), "type": "button",
		"button": map[string]any{"payload": signedFor("bea", phones["bea"], "accept"), "text": "x"}}
	body := metaBody(t, map[string]any{"messages": []any{m}})
	if code := postMeta(t, unkeyed.URL, body, sign(body)); code != 200 {
		t.Fatalf("press to callbacks without a reply secret = %d, want 200", code)
	}
	if ds, err := store.GetDeliveries(ctx, "ws1", "NB", []string{"bea"}); err != nil || ds["bea"].Answer != "decline" {
		t.Errorf("Bea's answer after a press the callbacks cannot verify = %q, %v; want decline kept", ds["bea"].Answer, err)
	}
}
