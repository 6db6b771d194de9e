package httpapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// inboxMessages delivers n in-app messages to user of ws1 (notifications
// N0…, each with its delivery delivered), oldest first, and returns their
// ids newest first.
func inboxMessages(e *env, user string, n int) []string {
	e.t.Helper()
	ctx := e.t.Context()
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	var ids []string
	for i := range n {
		at := base.Add(time.Duration(i) * time.Minute)
		nid := (&notify.IDs{}).New(at)
		if err := e.store.CreateNotification(ctx, notify.Notification{WorkspaceID: "ws1", ID: nid, Channel: notify.ChannelInApp, Source: notify.SourceSingle,
			Body: "b", Status: notify.StatusCompleted, Counts: notify.Counts{Total: 1, Delivered: 1}, CreatedAt: at, UpdatedAt: at}); err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.store.RecordDeliveries(ctx, []notify.Delivery{{WorkspaceID: "ws1", NotificationID: nid, Key: user, UserID: user,
			Channel: notify.ChannelInApp, Status: notify.DeliveryDelivered, CreatedAt: at, UpdatedAt: at}}); err != nil {
			e.t.Fatal(err)
		}
		m, _, err := e.store.PutInbox(ctx, notify.InboxMessage{WorkspaceID: "ws1", UserID: user, ID: (&notify.IDs{}).New(at), NotificationID: nid,
			Title: fmt.Sprintf("Factura %d de Ana", i), Body: "Tu factura", Route: "bills", CreatedAt: at})
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append([]string{m.ID}, ids...)
	}
	return ids
}

func itemIDs(r response) []string {
	var out []string
	for _, it := range r.body["items"].([]any) {
		out = append(out, it.(map[string]any)["id"].(string))
	}
	return out
}

func TestInboxRoutes(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/ana", e.admin, map[string]any{"name": "Ana"})
	reader := e.key("ws1", "reader", notify.ScopeRead)
	sender := e.key("ws1", "sender", notify.ScopeSend)

	empty := e.must(200, "GET", "/v1/users/ana/inbox", reader, nil)
	if empty.raw != `{"items":[],"unread":0}`+"\n" || empty.header.Get("ETag") == "" {
		t.Errorf("empty inbox = %s (ETag %q)", empty.raw, empty.header.Get("ETag"))
	}
	ids := inboxMessages(e, "ana", 3)

	r := e.must(200, "GET", "/v1/users/ana/inbox?limit=2", reader, nil)
	if got := itemIDs(r); fmt.Sprint(got) != fmt.Sprint(ids[:2]) || r.body["unread"] != 3.0 || r.body["nextCursor"] == nil {
		t.Errorf("first page = %s, want %v, unread 3 and a cursor", r.raw, ids[:2])
	}
	first := r.body["items"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "notificationId", "title", "body", "route", "category", "icon", "image", "buttons", "createdAt", "readAt", "seenAt", "archivedAt"} {
		if _, ok := first[k]; !ok {
			t.Errorf("message lacks %q: %v", k, first)
		}
	}
	next := e.must(200, "GET", "/v1/users/ana/inbox?limit=2&cursor="+r.body["nextCursor"].(string), reader, nil)
	if got := itemIDs(next); fmt.Sprint(got) != fmt.Sprint(ids[2:]) {
		t.Errorf("second page = %v, want %v", got, ids[2:])
	}

	// Polling: the same ETag is 304, with no body, until something changes.
	etag := r.header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) {
		t.Errorf("ETag %q, want a weak one", etag)
	}
	if nm := e.must(304, "GET", "/v1/users/ana/inbox", reader, nil, "If-None-Match", etag); nm.raw != "" || nm.header.Get("ETag") != etag {
		t.Errorf("304 = %q with ETag %q", nm.raw, nm.header.Get("ETag"))
	}
	e.must(200, "GET", "/v1/users/ana/inbox", reader, nil, "If-None-Match", empty.header.Get("ETag"))

	// Read: the message and its delivery; a send key gets the states only.
	m := e.must(200, "POST", "/v1/users/ana/inbox/"+ids[0], sender, map[string]any{"read": true})
	if m.body["readAt"] == nil || m.body["seenAt"] == nil || m.body["archivedAt"] != nil || strings.Contains(m.raw, "Ana") || m.body["title"] != nil {
		t.Errorf("read with a send key = %s, want the states without the text", m.raw)
	}
	n := e.must(200, "GET", "/v1/notifications/"+m.body["notificationId"].(string), reader, nil)
	if c := n.body["counts"].(map[string]any); c["read"] != 1.0 || c["delivered"] != 0.0 {
		t.Errorf("notification counts after the read = %v, want it read", c)
	}
	after := e.must(200, "GET", "/v1/users/ana/inbox?status=unread", reader, nil, "If-None-Match", etag)
	if got := itemIDs(after); fmt.Sprint(got) != fmt.Sprint(ids[1:]) || after.body["unread"] != 2.0 || after.header.Get("ETag") == etag {
		t.Errorf("unread after a read = %s (ETag %s), want %v", after.raw, after.header.Get("ETag"), ids[1:])
	}
	full := e.must(200, "POST", "/v1/users/ana/inbox/"+ids[1], e.admin, map[string]any{"archived": true})
	if full.body["title"] != "Factura 1 de Ana" || full.body["archivedAt"] == nil {
		t.Errorf("archive with an admin key = %s, want the whole message", full.raw)
	}
	if got := itemIDs(e.must(200, "GET", "/v1/users/ana/inbox?status=archived", reader, nil)); fmt.Sprint(got) != fmt.Sprint(ids[1:2]) {
		t.Errorf("archived = %v, want %v", got, ids[1:2])
	}

	for _, tc := range []struct {
		name, method, path, key string
		body                    any
		status                  int
		code                    string
	}{
		{"list with a send key", "GET", "/v1/users/ana/inbox", sender, nil, 403, "forbidden"},
		{"change with a read key", "POST", "/v1/users/ana/inbox/" + ids[0], reader, map[string]any{"read": true}, 403, "forbidden"},
		{"another workspace's user", "GET", "/v1/users/ana/inbox", e.other, nil, 404, "not_found"},
		{"another workspace's message", "POST", "/v1/users/ana/inbox/" + ids[0], e.other, map[string]any{"read": true}, 404, "not_found"},
		{"another user's message", "POST", "/v1/users/bea/inbox/" + ids[0], e.admin, map[string]any{"read": true}, 404, "not_found"},
		{"unknown user", "GET", "/v1/users/nobody/inbox", reader, nil, 404, "not_found"},
		{"unknown message", "POST", "/v1/users/ana/inbox/01JD0000000000000000000000", e.admin, map[string]any{"read": true}, 404, "not_found"},
		{"bad status", "GET", "/v1/users/ana/inbox?status=new", reader, nil, 422, "validation_failed"},
		{"nothing to change", "POST", "/v1/users/ana/inbox/" + ids[0], e.admin, map[string]any{}, 422, "validation_failed"},
		{"unknown field", "POST", "/v1/users/ana/inbox/" + ids[0], e.admin, map[string]any{"starred": true}, 422, "validation_failed"},
	} {
		if r := e.do(tc.method, tc.path, tc.key, tc.body); r.status != tc.status || r.errCode() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.raw, tc.status, tc.code)
		}
	}
}

// An in-app send goes to users, not addresses; the dry run counts it with
// the preferences (a category turned off is no_consent) and nothing else:
// a user with no address nor device is reached.
func TestInAppSendAndDryRun(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/v1/users/ana", e.admin, map[string]any{"name": "Ana"})
	e.must(200, "PUT", "/v1/users/bea", e.admin, map[string]any{"name": "Bea"})
	e.must(200, "PUT", "/v1/users/bea/preferences", e.admin, map[string]any{"categories": map[string]bool{"bills": false}})
	send := map[string]any{"channel": "inapp", "category": "bills", "content": map[string]any{"title": "Factura", "body": "Hola {{name}}", "route": "bills",
		"push": map[string]any{"image": "https://cdn.example/b.png", "buttons": []map[string]string{{"id": "pay", "label": "Pagar"}}}},
		"audience": map[string]any{"userIds": []string{"ana", "bea", "nobody"}}}
	r := e.must(200, "POST", "/v1/notifications:dryRun", e.admin, send)
	sk := r.body["skipped"].(map[string]any)
	if r.body["recipients"] != 1.0 || sk["no_consent"] != 1.0 || sk["unknown_user"] != 1.0 {
		t.Errorf("dry run = %s, want 1 recipient, no_consent 1, unknown_user 1", r.raw)
	}
	e.must(202, "POST", "/v1/notifications", e.admin, send)
	toAddresses := map[string]any{"channel": "inapp", "content": map[string]any{"body": "Hola"}, "audience": map[string]any{"addresses": []string{"+34600000000"}}}
	if r := e.do("POST", "/v1/notifications", e.admin, toAddresses); r.status != 422 || !strings.Contains(r.raw, "inboxes") {
		t.Errorf("inapp to addresses = %d %s, want 422 naming the inboxes", r.status, r.raw)
	}
	tpl := e.must(201, "POST", "/v1/templates", e.admin, map[string]any{"name": "In-app", "channel": "inapp", "body": "Hola {{name}}", "push": map[string]any{"icon": "https://cdn.example/i.png"}})
	if tpl.body["channel"] != "inapp" {
		t.Errorf("inapp template = %s", tpl.raw)
	}
	if r := e.do("POST", "/v1/templates", e.admin, map[string]any{"name": "x", "channel": "inapp", "body": " "}); r.status != 422 {
		t.Errorf("inapp template without a body = %d %s, want 422", r.status, r.raw)
	}
}
