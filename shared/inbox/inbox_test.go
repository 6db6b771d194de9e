package inbox

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t     *testing.T
	store *boltstore.Store
	svc   *Service
	ids   notify.IDs
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync(), boltstore.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &fixture{t: t, store: s, svc: &Service{Store: s, Now: func() time.Time { return now }}}
	for _, u := range []notify.User{{WorkspaceID: "ws1", ID: "u1"}, {WorkspaceID: "ws1", ID: "u2"}, {WorkspaceID: "ws2", ID: "other"}} {
		u.CreatedAt, u.UpdatedAt = now, now
		if _, err := s.PutUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// delivered is notification nid sent in-app to u1: its delivery recorded
// delivered, and its message in u1's inbox.
func (f *fixture) delivered(nid string, at time.Time) notify.InboxMessage {
	f.t.Helper()
	ctx := context.Background()
	n := notify.Notification{WorkspaceID: "ws1", ID: nid, Channel: notify.ChannelInApp, Source: notify.SourceSingle, Body: "b",
		Status: notify.StatusCompleted, Counts: notify.Counts{Total: 1, Delivered: 1}, CreatedAt: at, UpdatedAt: at}
	if err := f.store.CreateNotification(ctx, n); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.RecordDeliveries(ctx, []notify.Delivery{{WorkspaceID: "ws1", NotificationID: nid, Key: "u1", UserID: "u1",
		Channel: notify.ChannelInApp, Status: notify.DeliveryDelivered, CreatedAt: at, UpdatedAt: at}}); err != nil {
		f.t.Fatal(err)
	}
	m, _, err := f.store.PutInbox(ctx, notify.InboxMessage{WorkspaceID: "ws1", UserID: "u1", ID: f.ids.New(at), NotificationID: nid,
		Title: "T " + nid, Body: "B " + nid, CreatedAt: at})
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) delivery(nid string) (notify.DeliveryStatus, notify.Counts) {
	f.t.Helper()
	ds, err := f.store.GetDeliveries(context.Background(), "ws1", nid, []string{"u1"})
	if err != nil {
		f.t.Fatal(err)
	}
	n, err := f.store.GetNotification(context.Background(), "ws1", nid)
	if err != nil {
		f.t.Fatal(err)
	}
	return ds["u1"].Status, n.Counts
}

func TestListAndState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct{ ws, user string }{{"ws1", "ghost"}, {"ws2", "u1"}, {"ws1", "other"}} {
		if _, err := f.svc.List(ctx, tc.ws, tc.user, Query{}); !notify.IsCode(err, notify.CodeNotFound) {
			t.Errorf("List(%s, %s) = %v, want not_found", tc.ws, tc.user, err)
		}
	}
	empty, err := f.svc.List(ctx, "ws1", "u2", Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(empty.Items) != 0 || empty.Items == nil || empty.Unread != 0 || empty.ETag == "" {
		t.Errorf("List of an empty inbox = %+v, want no items (a list), no unread, an ETag", empty)
	}

	m1 := f.delivered("N1", now.Add(-2*time.Minute))
	m2 := f.delivered("N2", now.Add(-time.Minute))
	p, err := f.svc.List(ctx, "ws1", "u1", Query{Status: "unread", Page: notify.Page{Limit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := View(m2)
	if d := cmp.Diff([]notify.InboxMessage{want}, p.Items); d != "" || p.Unread != 2 || p.Next == "" {
		t.Errorf("List(unread, limit 1) = unread %d, next %q, items (-want +got):\n%s", p.Unread, p.Next, d)
	}
	if p.ETag == empty.ETag {
		t.Errorf("ETag %s of a written inbox is that of an empty one", p.ETag)
	}
	_, etag, err := f.svc.State(ctx, "ws1", "u1")
	if err != nil || etag != p.ETag {
		t.Errorf("State = %q, %v; want the list's ETag %q while nothing changed", etag, err, p.ETag)
	}
	if _, err := f.svc.List(ctx, "ws1", "u1", Query{Status: "new"}); !notify.IsCode(err, notify.CodeValidation) {
		t.Errorf("List(status new) = %v, want validation_failed", err)
	}

	if _, err := f.svc.Update(ctx, "ws1", "u1", m1.ID, Change{Seen: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	_, seen, _ := f.svc.State(ctx, "ws1", "u1")
	if seen == etag {
		t.Errorf("ETag %s did not change when a message was seen", seen)
	}
	if !ETagMatches(seen, seen) || !ETagMatches(`"x", `+seen, seen) || ETagMatches(etag, seen) || !ETagMatches("*", seen) || ETagMatches("", seen) {
		t.Errorf("ETagMatches disagrees with If-None-Match")
	}
	// The day's turn may expire messages: the ETag changes with it.
	later := &Service{Store: f.store, Now: func() time.Time { return now.Add(24 * time.Hour) }}
	if _, tomorrow, _ := later.State(ctx, "ws1", "u1"); tomorrow == seen {
		t.Errorf("ETag %s is the same the next day", seen)
	}
}

func ptr[T any](v T) *T { return &v }

// Reading a message moves its delivery to read; seeing or archiving it
// does not.
func TestUpdateMovesDelivery(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	m := f.delivered("N1", now.Add(-time.Minute))

	got, err := f.svc.Update(ctx, "ws1", "u1", m.ID, Change{Seen: ptr(true), Archived: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.SeenAt == nil || got.ArchivedAt == nil || got.ReadAt != nil || got.Buttons == nil {
		t.Errorf("Update(seen, archived) = %+v", got)
	}
	if st, _ := f.delivery("N1"); st != notify.DeliveryDelivered {
		t.Errorf("delivery after seen = %s, want delivered", st)
	}
	got, err = f.svc.Update(ctx, "ws1", "u1", m.ID, Change{Read: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.ReadAt == nil || !got.ReadAt.Equal(now) {
		t.Errorf("Update(read).ReadAt = %v, want %v", got.ReadAt, now)
	}
	st, c := f.delivery("N1")
	if st != notify.DeliveryRead || c != (notify.Counts{Total: 1, Read: 1}) {
		t.Errorf("delivery after read = %s with counts %+v, want read, counted read", st, c)
	}
	// Read again: nothing moves twice.
	if _, err := f.svc.Update(ctx, "ws1", "u1", m.ID, Change{Read: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, c := f.delivery("N1"); c != (notify.Counts{Total: 1, Read: 1}) {
		t.Errorf("counts after a second read = %+v", c)
	}

	for _, tc := range []struct {
		name, ws, user, id string
		c                  Change
		code               string
	}{
		{"nothing to change", "ws1", "u1", m.ID, Change{}, notify.CodeValidation},
		{"not an id", "ws1", "u1", "../x", Change{Read: ptr(true)}, notify.CodeNotFound},
		{"another user's", "ws1", "u2", m.ID, Change{Read: ptr(true)}, notify.CodeNotFound},
		{"another workspace's", "ws2", "u1", m.ID, Change{Read: ptr(true)}, notify.CodeNotFound},
	} {
		if _, err := f.svc.Update(ctx, tc.ws, tc.user, tc.id, tc.c); !notify.IsCode(err, tc.code) {
			t.Errorf("Update %s = %v, want %s", tc.name, err, tc.code)
		}
	}
}

func TestMarkAllRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.delivered("N1", now.Add(-2*time.Minute))
	f.delivered("N2", now.Add(-time.Minute))
	if err := f.svc.MarkAllRead(ctx, "ws1", "u1"); err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.List(ctx, "ws1", "u1", Query{Status: "unread"})
	if err != nil || len(p.Items) != 0 || p.Unread != 0 {
		t.Errorf("List(unread) after MarkAllRead = %+v, %v; want nothing unread", p, err)
	}
	for _, nid := range []string{"N1", "N2"} {
		if st, _ := f.delivery(nid); st != notify.DeliveryRead {
			t.Errorf("delivery of %s after MarkAllRead = %s, want read", nid, st)
		}
	}
	if err := f.svc.MarkAllRead(ctx, "ws2", "u1"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("MarkAllRead of another workspace's user = %v, want not_found", err)
	}
}
