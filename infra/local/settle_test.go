package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/dispatch/dispatchtest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/webpush"
)

// settledOverAPI reads notification nid and all of its deliveries through
// the API and checks the invariant of a finished send: its counts are its
// deliveries by status, nothing is queued and its status is final.
func settledOverAPI(t *testing.T, s *composeServer, nid string) (notify.Notification, []notify.Delivery) {
	t.Helper()
	n, ds := readOverAPI(t, s, nid)
	if err := dispatchtest.CheckSettled(n, ds); err != nil {
		t.Error(err)
	}
	return n, ds
}

// readOverAPI reads notification nid and all of its deliveries.
func readOverAPI(t *testing.T, s *composeServer, nid string) (notify.Notification, []notify.Delivery) {
	t.Helper()
	var n notify.Notification
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+sheetKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if err := json.NewDecoder(res.Body).Decode(out); err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d, %v", path, res.StatusCode, err)
		}
	}
	get("/v1/notifications/"+nid, &n)
	var all []notify.Delivery
	for cursor := ""; ; {
		var page struct {
			Items      []notify.Delivery `json:"items"`
			NextCursor string            `json:"nextCursor"`
		}
		get("/v1/notifications/"+nid+"/deliveries?limit=500&cursor="+cursor, &page)
		all = append(all, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return n, all
		}
	}
}

// closedAddr is a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// webPushServer runs Herald with Web Push through a fake push service and
// three users allowed push: ana and luis subscribed with the push service,
// dead with a subscription whose endpoint refuses connections.
func webPushServer(t *testing.T) (*localServer, *fakePushService) {
	t.Helper()
	vapidPub, vapidPriv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	pushSvc := newFakePushService(t, vapidPub)
	trustTLSServer(t, pushSvc.srv)
	s := startLocal(t, t.TempDir(), map[string]string{
		"HERALD_VAPID_PUBLIC_KEY": vapidPub, "HERALD_VAPID_PRIVATE_KEY": vapidPriv, "HERALD_VAPID_SUBJECT": "mailto:push-ops@example.com",
		"HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS": "1",
	})
	dead := strings.Replace(pushSvc.subscribe(t, "dead-browser"), pushSvc.srv.URL, "https://"+closedAddr(t), 1)
	for id, sub := range map[string]string{"ana": pushSvc.subscribe(t, "anas-browser"), "dead": dead, "luis": pushSvc.subscribe(t, "luis-browser")} {
		s.must(200, "PUT", "/v1/users/"+id, map[string]any{"name": id})
		s.must(201, "POST", "/v1/users/"+id+"/devices", json.RawMessage(sub))
		s.must(200, "PUT", "/v1/users/"+id+"/push-permission", map[string]any{"status": "allowed"})
	}
	return s, pushSvc
}

// TestUnreachableWebPushDoesNotHoldUpItsChunk: one Web Push subscription
// on a closed port, in the same dispatch message as good ones. The good
// ones are pushed once; the bad one is retried a bounded number of times
// and then fails with its reason; the counts add up and the notification
// completes (before, the whole message went to the dead-letter queue and
// the notification stayed "sending" for good).
func TestUnreachableWebPushDoesNotHoldUpItsChunk(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s, pushSvc := webPushServer(t)
	nid := s.must(202, "POST", "/v1/notifications", map[string]any{"channel": "webpush",
		"content": map[string]any{"title": "Nueva oferta", "body": "Hola {{name}}"}, "audience": map[string]any{"userIds": []string{"ana", "dead", "luis"}}})["id"].(string)
	s.waitFor("the send to complete", func() map[string]any {
		return s.must(200, "GET", "/v1/notifications/"+nid, nil)
	}, func(n map[string]any) bool { return n["status"] == "completed" })

	_, ds := settledOverAPI(t, s.composeServer, nid)
	got := map[string]string{}
	for _, d := range ds {
		got[d.UserID] = string(d.Status) + "/" + d.Reason
	}
	want := map[string]string{"ana": "sent/", "dead": "failed/" + webpush.ReasonUnreachable, "luis": "sent/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	pushed := map[string]int{}
	for _, p := range pushSvc.pushes() {
		pushed[p.Token]++
	}
	if diff := cmp.Diff(map[string]int{"anas-browser": 1, "luis-browser": 1}, pushed); diff != "" {
		t.Errorf("pushes per browser (-want +got):\n%s", diff)
	}
}

// TestCancelWhileAChunkIsStuck: cancelling a send whose message keeps
// failing on one recipient ends it for good: the stuck recipient is
// skipped as cancelled on the next try, nothing stays queued and the
// status stays cancelled.
func TestCancelWhileAChunkIsStuck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s, _ := webPushServer(t)
	nid := s.must(202, "POST", "/v1/notifications", map[string]any{"channel": "webpush",
		"content": map[string]any{"title": "Nueva oferta", "body": "Hola {{name}}"}, "audience": map[string]any{"userIds": []string{"ana", "dead"}}})["id"].(string)
	// Ana is sent at once; the dead endpoint keeps the message coming back.
	s.waitFor("ana's push", func() map[string]any {
		return s.must(200, "GET", "/v1/notifications/"+nid+"/deliveries", nil)
	}, func(page map[string]any) bool { return len(page["items"].([]any)) == 1 })
	s.must(200, "POST", "/v1/notifications/"+nid+"/cancel", nil)
	got := s.waitFor("nothing left queued", func() map[string]any {
		return s.must(200, "GET", "/v1/notifications/"+nid, nil)
	}, func(n map[string]any) bool { return n["counts"].(map[string]any)["queued"] == 0.0 })
	if got["status"] != "cancelled" {
		t.Errorf("status %v, want cancelled", got["status"])
	}
	_, ds := settledOverAPI(t, s.composeServer, nid)
	for _, d := range ds {
		if d.UserID == "dead" && (d.Status != notify.DeliverySkipped && d.Status != notify.DeliveryFailed) {
			t.Errorf("the stuck recipient ended %s %q, want skipped (cancelled) or failed", d.Status, d.Reason)
		}
	}
}

// TestDeadLettersAreSettledOnStart: a data dir whose dispatch message
// reached the dead-letter queue (its last receive crashed, or an earlier
// Herald dead-lettered it and left its notification "sending") has it
// settled when Herald starts: nothing is sent, its recipients fail with
// dispatch_failed, the counts add up and the notification completes.
func TestDeadLettersAreSettledOnStart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	data := t.TempDir()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	store, err := boltstore.Open(filepath.Join(data, "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: WorkspaceID, Name: "Local", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	n := notify.Notification{WorkspaceID: WorkspaceID, ID: "01STUCK0000000000000000000", Channel: notify.ChannelSMS, Source: notify.SourceList,
		Body: "Hola", Route: "home", Status: notify.StatusSending, Counts: notify.Counts{Total: 2, Queued: 2},
		Content: notify.Template{Channel: notify.ChannelSMS, Body: "Hola"}, CreatedAt: now, UpdatedAt: now}
	if err := store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	store.Close()
	q, err := boltqueue.Open(filepath.Join(data, "queue.db"), boltqueue.Options{Visibility: time.Second, MaxReceives: 1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(notify.DispatchMessage{WorkspaceID: WorkspaceID, NotificationID: n.ID, Chunk: n.ID + ":0",
		Recipients: []notify.Recipient{{Address: "+34600000001"}, {Address: "+34600000002"}}})
	if err := q.Send(ctx, [][]byte{body}); err != nil {
		t.Fatal(err)
	}
	// Received once and never deleted (a crash): the next receive moves it
	// to the dead-letter queue.
	msgs, err := q.Receive(ctx, 1, time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive = %v, %v", msgs, err)
	}
	if err := q.ChangeVisibility(ctx, msgs[0].Receipt, 0); err != nil {
		t.Fatal(err)
	}
	if again, err := q.Receive(ctx, 1, 0); err != nil || len(again) != 0 {
		t.Fatalf("second receive = %v, %v; want the message dead-lettered", again, err)
	}
	if st, err := q.Stats(); err != nil || st.Dead != 1 {
		t.Fatalf("queue = %+v, %v; want one dead letter", st, err)
	}
	q.Close()

	s := startLocal(t, data, nil)
	s.waitFor("the dead letter to be settled", func() map[string]any {
		return s.must(200, "GET", "/v1/notifications/"+n.ID, nil)
	}, func(n map[string]any) bool { return n["status"] == "completed" })
	_, ds := settledOverAPI(t, s.composeServer, n.ID)
	for _, d := range ds {
		if d.Status != notify.DeliveryFailed || d.Reason != "dispatch_failed" {
			t.Errorf("delivery %s = %s %q, want failed dispatch_failed", d.Address, d.Status, d.Reason)
		}
	}
	if items := s.must(200, "GET", "/v1/outbox?channel=sms", nil)["items"].([]any); len(items) != 0 {
		t.Errorf("settling sent %d SMS, want none", len(items))
	}
}
