package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestInAppThroughTheAPI runs the local server and sends on the inapp
// channel through the API: the message lands, rendered, in the inbox of
// each user who may have it (one with no address nor device; one active
// in the app, whom presence does not hold back), not in the outbox; a
// user who turned the category off is skipped with no_consent. The inbox
// answers 304 to its ETag until a read, which moves the delivery to read.
func TestInAppThroughTheAPI(t *testing.T) {
	env := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_DATA_DIR": t.TempDir(), "HERALD_LOG_LEVEL": "error",
		"HERALD_API_KEY": "local-admin-key-123"}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, io.Discard, io.Discard, ready) }()
	base := "http://" + <-ready
	defer func() { cancel(); <-done }()
	call := func(method, path, body string, want int, headers ...string) (map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer local-admin-key-123")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, raw)
		}
		var m map[string]any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, raw)
			}
		}
		return m, res.Header
	}

	call("PUT", "/v1/users/ana", `{"name": "Ana"}`, 200)
	call("PUT", "/v1/users/bea", `{"name": "Bea"}`, 200)
	call("POST", "/v1/users/bea/presence", `{"active": true, "ttlSeconds": 600}`, 200)
	call("PUT", "/v1/users/carla", `{"name": "Carla"}`, 200)
	call("PUT", "/v1/users/carla/preferences", `{"categories": {"bills": false}}`, 200)

	empty, emptyHeader := call("GET", "/v1/users/ana/inbox", "", 200)
	if empty["unread"] != 0.0 {
		t.Errorf("inbox before the send = %v", empty)
	}
	sent, _ := call("POST", "/v1/notifications", `{"channel": "inapp", "category": "bills",
		"content": {"title": "Tu factura, {{name}}", "body": "Ya tienes la factura de {{month}}", "route": "bills",
			"push": {"image": "https://cdn.example/bill.png", "buttons": [{"id": "pay", "label": "Pagar", "route": "pay"}]}},
		"variables": {"month": "noviembre"}, "audience": {"userIds": ["ana", "bea", "carla"]}}`, 202)
	nid := sent["id"].(string)

	// The local dispatch worker delivers within a moment; poll as the SDK does.
	var n map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; {
		n, _ = call("GET", "/v1/notifications/"+nid, "", 200)
		if n["status"] == "completed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c := n["counts"].(map[string]any); n["status"] != "completed" || c["delivered"] != 2.0 || c["skipped"] != 1.0 {
		t.Fatalf("notification = %v, want completed with 2 delivered, 1 skipped", n)
	}
	ds, _ := call("GET", "/v1/notifications/"+nid+"/deliveries", "", 200)
	reasons := map[string]string{}
	for _, it := range ds["items"].([]any) {
		d := it.(map[string]any)
		reasons[d["userId"].(string)] = d["status"].(string) + " " + strOf(d["reason"])
	}
	if reasons["ana"] != "delivered " || reasons["bea"] != "delivered " || reasons["carla"] != "skipped no_consent" {
		t.Errorf("deliveries = %v, want ana and bea delivered, carla skipped no_consent", reasons)
	}

	inbox, header := call("GET", "/v1/users/ana/inbox", "", 200, "If-None-Match", emptyHeader.Get("ETag"))
	items := inbox["items"].([]any)
	if len(items) != 1 || inbox["unread"] != 1.0 {
		t.Fatalf("ana's inbox = %v, want one unread message", inbox)
	}
	m := items[0].(map[string]any)
	if m["title"] != "Tu factura, Ana" || m["body"] != "Ya tienes la factura de noviembre" || m["route"] != "bills" || m["category"] != "bills" ||
		m["image"] != "https://cdn.example/bill.png" || m["notificationId"] != nid || m["readAt"] != nil {
		t.Errorf("ana's message = %v", m)
	}
	if b, _ := call("GET", "/v1/users/bea/inbox?status=unread", "", 200); len(b["items"].([]any)) != 1 {
		t.Errorf("bea's inbox (present in the app) = %v, want the message", b)
	}
	if c, _ := call("GET", "/v1/users/carla/inbox", "", 200); len(c["items"].([]any)) != 0 {
		t.Errorf("carla's inbox (bills off) = %v, want nothing", c)
	}
	if o, _ := call("GET", "/v1/outbox?channel=inapp", "", 200); len(o["items"].([]any)) != 0 {
		t.Errorf("outbox = %v, want no inapp entry: the inbox is the destination", o)
	}

	etag := header.Get("ETag")
	call("GET", "/v1/users/ana/inbox", "", 304, "If-None-Match", etag)
	read, _ := call("POST", "/v1/users/ana/inbox/"+m["id"].(string), `{"read": true}`, 200)
	if read["readAt"] == nil {
		t.Errorf("read = %v", read)
	}
	after, _ := call("GET", "/v1/users/ana/inbox", "", 200, "If-None-Match", etag)
	if after["unread"] != 0.0 {
		t.Errorf("inbox after the read = %v, want none unread", after)
	}
	n, _ = call("GET", "/v1/notifications/"+nid, "", 200)
	if c := n["counts"].(map[string]any); c["read"] != 1.0 || c["delivered"] != 1.0 {
		t.Errorf("counts after ana read = %v, want 1 read, 1 delivered", c)
	}
}

func strOf(v any) string {
	s, _ := v.(string)
	return s
}
