package storetest

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/heraldhq/herald/shared/notify"
)

// inboxID makes a message id: a ULID of its CreatedAt, as the in-app
// sender makes them. Each from a fresh generator, since one generator
// never goes back in time and the suite's messages arrive in any order.
func inboxID(created time.Time) string { return new(notify.IDs).New(created) }

// inboxMessage is a message of notification nid for ws/user that arrived
// at created, with every field set.
func inboxMessage(ws, user, nid string, created time.Time) notify.InboxMessage {
	return notify.InboxMessage{
		WorkspaceID:    ws,
		UserID:         user,
		ID:             inboxID(created),
		NotificationID: nid,
		Title:          "Tu factura «" + nid + "»",
		Body:           "Hola Ana, ya está tu factura de 42 €",
		Route:          "bills/" + nid + "?tab=últimas",
		Category:       "bills",
		Icon:           "https://cdn.example/icon.png",
		Image:          "https://cdn.example/bill.png",
		Buttons:        []notify.Button{{ID: "pay", Label: "Pagar", Route: "pay"}, {ID: "later", Label: "Luego"}},
		CreatedAt:      created,
	}
}

func putInbox(t *testing.T, s notify.Store, m notify.InboxMessage) notify.InboxMessage {
	t.Helper()
	got, created, err := s.PutInbox(t.Context(), m)
	must(t, "PutInbox "+m.NotificationID, err)
	if !created {
		t.Fatalf("PutInbox %s: created = false, want true", m.NotificationID)
	}
	return got
}

func listInbox(t *testing.T, s notify.Store, ws, user string, status notify.InboxStatus, limit int) []notify.InboxMessage {
	t.Helper()
	all, _ := collect(t, fmt.Sprintf("ListInbox(%s, %s, %s)", ws, user, status), limit, func(p notify.Page) ([]notify.InboxMessage, string, error) {
		return s.ListInbox(t.Context(), ws, user, status, p)
	})
	return all
}

func inboxState(t *testing.T, s notify.Store, ws, user string) notify.InboxState {
	t.Helper()
	st, err := s.InboxState(t.Context(), ws, user)
	must(t, "InboxState "+ws+"/"+user, err)
	return st
}

func messageIDs(ms []notify.InboxMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// testInboxPutList: a message comes back as it was put, newest first, in
// its user's inbox alone; a second message of the same notification is
// not kept; the state counts and versions every write.
func testInboxPutList(t *testing.T, s notify.Store) {
	ctx := t.Context()
	empty := inboxState(t, s, wsA, "cust-1")
	if d := diff(notify.InboxState{}, empty); d != "" {
		t.Errorf("InboxState of an inbox never written mismatch (-want +got):\n%s", d)
	}
	if got := listInbox(t, s, wsA, "cust-1", notify.InboxAll, 10); len(got) != 0 {
		t.Errorf("ListInbox of an empty inbox = %v, want none", messageIDs(got))
	}

	base := now().Add(-time.Hour)
	first := putInbox(t, s, inboxMessage(wsA, "cust-1", "n1", base))
	if d := diff(inboxMessage(wsA, "cust-1", "n1", base), first, ignoreID); d != "" {
		t.Errorf("PutInbox mismatch (-want +got):\n%s", d)
	}
	st1 := inboxState(t, s, wsA, "cust-1")
	if st1.Unread != 1 || st1.Latest != first.ID || st1.Version <= 0 {
		t.Errorf("InboxState after one put = %+v, want 1 unread, latest %s, a version", st1, first.ID)
	}
	second := putInbox(t, s, inboxMessage(wsA, "cust-1", "n2", base.Add(time.Minute)))
	third := inboxMessage(wsA, "cust-1", "n3", base.Add(2*time.Minute))
	third.Title, third.Route, third.Category, third.Icon, third.Image, third.Buttons = "", "", "", "", "", nil
	third = putInbox(t, s, third)
	// Other users' inboxes, one of them the same user id in another workspace.
	putInbox(t, s, inboxMessage(wsA, "cust-2", "n1", base))
	putInbox(t, s, inboxMessage(wsB, "cust-1", "n9", base.Add(3*time.Minute)))

	want := []notify.InboxMessage{third, second, first}
	if d := diff(want, listInbox(t, s, wsA, "cust-1", notify.InboxAll, 10)); d != "" {
		t.Errorf("ListInbox(all) mismatch (-want +got):\n%s", d)
	}
	if d := diff(want, listInbox(t, s, wsA, "cust-1", notify.InboxUnread, 2)); d != "" {
		t.Errorf("ListInbox(unread) in pages of 2 mismatch (-want +got):\n%s", d)
	}

	// A retried delivery: the same notification again, with a new id.
	again := inboxMessage(wsA, "cust-1", "n2", base.Add(5*time.Minute))
	got, created, err := s.PutInbox(ctx, again)
	must(t, "PutInbox of a notification kept already", err)
	if created {
		t.Errorf("PutInbox of a notification kept already: created = true, want false")
	}
	if d := diff(second, got); d != "" {
		t.Errorf("PutInbox of a notification kept already returned (-want the stored one +got):\n%s", d)
	}
	if d := diff(want, listInbox(t, s, wsA, "cust-1", notify.InboxAll, 10)); d != "" {
		t.Errorf("ListInbox after a repeated put mismatch (-want +got):\n%s", d)
	}

	st := inboxState(t, s, wsA, "cust-1")
	if st.Unread != 3 || st.Latest != third.ID || st.Version <= st1.Version || st.UpdatedAt.IsZero() {
		t.Errorf("InboxState after three puts = %+v, want 3 unread, latest %s, a version over %d", st, third.ID, st1.Version)
	}
	if other := inboxState(t, s, wsB, "cust-1"); other.Unread != 1 {
		t.Errorf("InboxState of %s/cust-1 = %+v, want 1 unread of its own", wsB, other)
	}
	if got := listInbox(t, s, wsB, "cust-1", notify.InboxAll, 10); len(got) != 1 || got[0].NotificationID != "n9" {
		t.Errorf("ListInbox of %s/cust-1 = %v, want only its n9", wsB, got)
	}
	if got := listInbox(t, s, wsA, "cust-2", notify.InboxAll, 10); len(got) != 1 || got[0].UserID != "cust-2" || got[0].WorkspaceID != wsA {
		t.Errorf("ListInbox of cust-2 = %+v, want its one message", got)
	}
	_, _, err = s.ListInbox(ctx, wsA, "cust-1", notify.InboxAll, notify.Page{Cursor: "%%% not a cursor"})
	if err == nil {
		t.Errorf("ListInbox with a garbled cursor: no error")
	}
}

// ignoreID leaves out the id the suite made, when comparing a message
// with one built again.
var ignoreID = cmpopts.IgnoreFields(notify.InboxMessage{}, "ID")

// testInboxUpdate: read, seen and archived are set (at the change's time,
// kept when set already) and cleared; each write moves the version and
// the unread count; a message of another user or workspace is not_found.
func testInboxUpdate(t *testing.T, s notify.Store) {
	ctx := t.Context()
	base := now().Add(-time.Hour)
	m := putInbox(t, s, inboxMessage(wsA, "cust-1", "n1", base))
	other := putInbox(t, s, inboxMessage(wsA, "cust-1", "n2", base.Add(time.Minute)))
	v0 := inboxState(t, s, wsA, "cust-1").Version
	yes, no := ptr(true), ptr(false)
	t1, t2 := now(), now().Add(time.Minute)

	update := func(what string, c notify.InboxChange) notify.InboxMessage {
		t.Helper()
		got, err := s.UpdateInbox(ctx, wsA, "cust-1", m.ID, c)
		must(t, "UpdateInbox "+what, err)
		stored := listInbox(t, s, wsA, "cust-1", notify.InboxAll, 10)
		stored = append(stored, listInbox(t, s, wsA, "cust-1", notify.InboxArchived, 10)...)
		for _, sm := range stored {
			if sm.ID == m.ID {
				if d := diff(got, sm); d != "" {
					t.Errorf("UpdateInbox %s: the list shows (-returned +listed):\n%s", what, d)
				}
			}
		}
		return got
	}
	wantState := func(what string, unread int, above int64) int64 {
		t.Helper()
		st := inboxState(t, s, wsA, "cust-1")
		if st.Unread != unread || st.Version <= above || st.Latest != other.ID {
			t.Errorf("InboxState after %s = %+v, want %d unread, a version over %d, latest %s", what, st, unread, above, other.ID)
		}
		return st.Version
	}

	got := update("seen", notify.InboxChange{Seen: yes, At: t1})
	want := m
	want.SeenAt = ptr(t1)
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateInbox(seen) mismatch (-want +got):\n%s", d)
	}
	v1 := wantState("seen", 2, v0)

	got = update("read", notify.InboxChange{Read: yes, At: t2})
	want.ReadAt = ptr(t2) // seen stays at t1
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateInbox(read) mismatch (-want +got):\n%s", d)
	}
	v2 := wantState("read", 1, v1)
	if got := listInbox(t, s, wsA, "cust-1", notify.InboxUnread, 10); len(got) != 1 || got[0].ID != other.ID {
		t.Errorf("ListInbox(unread) after read = %v, want only %s", messageIDs(got), other.ID)
	}

	got = update("read again", notify.InboxChange{Read: yes, At: t2.Add(time.Hour)})
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateInbox(read again) changed the read time (-want +got):\n%s", d)
	}
	got = update("unread", notify.InboxChange{Read: no, At: t2})
	want.ReadAt = nil
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateInbox(unread) mismatch (-want +got):\n%s", d)
	}
	v3 := wantState("unread", 2, v2)

	got = update("archived", notify.InboxChange{Archived: yes, At: t2})
	want.ArchivedAt = ptr(t2)
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateInbox(archived) mismatch (-want +got):\n%s", d)
	}
	v4 := wantState("archived", 1, v3)
	if got := listInbox(t, s, wsA, "cust-1", notify.InboxAll, 10); len(got) != 1 || got[0].ID != other.ID {
		t.Errorf("ListInbox(all) after archive = %v, want only %s", messageIDs(got), other.ID)
	}
	if got := listInbox(t, s, wsA, "cust-1", notify.InboxArchived, 10); len(got) != 1 || got[0].ID != m.ID {
		t.Errorf("ListInbox(archived) = %v, want only %s", messageIDs(got), m.ID)
	}

	got = update("read while archived, then unarchived", notify.InboxChange{Read: yes, Archived: no, At: t1})
	want.ArchivedAt, want.ReadAt = nil, ptr(t1)
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateInbox(read, unarchived) mismatch (-want +got):\n%s", d)
	}
	wantState("read and unarchived", 1, v4)

	for _, tc := range []struct{ ws, user, id string }{
		{wsA, "cust-1", inboxID(base)},
		{wsA, "cust-2", m.ID},
		{wsB, "cust-1", m.ID},
	} {
		_, err := s.UpdateInbox(ctx, tc.ws, tc.user, tc.id, notify.InboxChange{Read: yes, At: t1})
		wantCode(t, fmt.Sprintf("UpdateInbox(%s, %s, %s)", tc.ws, tc.user, tc.id), err, notify.CodeNotFound)
	}
}

// testInboxStatusPaging: each list holds exactly its messages, newest
// first, across pages whatever their size.
func testInboxStatusPaging(t *testing.T, s notify.Store) {
	ctx := t.Context()
	base := now().Add(-2 * time.Hour)
	var all []notify.InboxMessage
	for i := range 23 {
		m := putInbox(t, s, inboxMessage(wsA, "cust-1", fmt.Sprintf("n%02d", i), base.Add(time.Duration(i)*time.Minute)))
		var c notify.InboxChange
		switch {
		case i%5 == 0:
			c = notify.InboxChange{Archived: ptr(true), At: base}
		case i%3 == 0:
			c = notify.InboxChange{Read: ptr(true), At: base}
		}
		if c.Archived != nil || c.Read != nil {
			var err error
			m, err = s.UpdateInbox(ctx, wsA, "cust-1", m.ID, c)
			must(t, "UpdateInbox", err)
		}
		all = append(all, m)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID > all[j].ID })
	for _, status := range []notify.InboxStatus{notify.InboxAll, notify.InboxUnread, notify.InboxArchived} {
		var want []notify.InboxMessage
		for _, m := range all {
			if status.Matches(m) {
				want = append(want, m)
			}
		}
		for _, limit := range []int{1, 4, 50} {
			if d := diff(want, listInbox(t, s, wsA, "cust-1", status, limit)); d != "" {
				t.Errorf("ListInbox(%s) in pages of %d mismatch (-want +got):\n%s", status, limit, d)
			}
		}
	}
	if st := inboxState(t, s, wsA, "cust-1"); st.Unread != 12 {
		t.Errorf("InboxState.Unread = %d, want 12 (23 less 5 archived, 6 read)", st.Unread)
	}
}

// testInboxMarkRead: every unread message of the user becomes read and
// seen, and only those; archived ones and other users' stay as they are.
func testInboxMarkRead(t *testing.T, s notify.Store) {
	ctx := t.Context()
	base := now().Add(-time.Hour)
	at := now()
	var unread []notify.InboxMessage
	for i := range 7 {
		unread = append(unread, putInbox(t, s, inboxMessage(wsA, "cust-1", fmt.Sprintf("n%d", i), base.Add(time.Duration(i)*time.Minute))))
	}
	read, err := s.UpdateInbox(ctx, wsA, "cust-1", unread[0].ID, notify.InboxChange{Read: ptr(true), At: base})
	must(t, "UpdateInbox(read)", err)
	archived, err := s.UpdateInbox(ctx, wsA, "cust-1", unread[1].ID, notify.InboxChange{Archived: ptr(true), At: base})
	must(t, "UpdateInbox(archived)", err)
	unread = unread[2:]
	otherUser := putInbox(t, s, inboxMessage(wsA, "cust-2", "n1", base))
	otherWS := putInbox(t, s, inboxMessage(wsB, "cust-1", "n1", base))
	v0 := inboxState(t, s, wsA, "cust-1").Version

	marked, err := s.MarkInboxRead(ctx, wsA, "cust-1", at)
	must(t, "MarkInboxRead", err)
	var want []notify.InboxMessage
	for _, m := range unread {
		m.ReadAt, m.SeenAt = ptr(at), ptr(at)
		want = append(want, m)
	}
	sort.Slice(marked, func(i, j int) bool { return marked[i].ID < marked[j].ID })
	if d := diff(want, marked); d != "" {
		t.Errorf("MarkInboxRead returned (-want +got):\n%s", d)
	}
	st := inboxState(t, s, wsA, "cust-1")
	if st.Unread != 0 || st.Version <= v0 {
		t.Errorf("InboxState after MarkInboxRead = %+v, want no unread and a version over %d", st, v0)
	}
	listed := listInbox(t, s, wsA, "cust-1", notify.InboxAll, 50)
	wantList := append([]notify.InboxMessage{}, want...)
	wantList = append(wantList, read)
	sort.Slice(wantList, func(i, j int) bool { return wantList[i].ID > wantList[j].ID })
	if d := diff(wantList, listed); d != "" {
		t.Errorf("ListInbox(all) after MarkInboxRead mismatch (-want +got):\n%s", d)
	}
	if d := diff([]notify.InboxMessage{archived}, listInbox(t, s, wsA, "cust-1", notify.InboxArchived, 50)); d != "" {
		t.Errorf("MarkInboxRead changed an archived message (-want +got):\n%s", d)
	}
	if d := diff([]notify.InboxMessage{otherUser}, listInbox(t, s, wsA, "cust-2", notify.InboxUnread, 50)); d != "" {
		t.Errorf("MarkInboxRead changed another user's inbox (-want +got):\n%s", d)
	}
	if d := diff([]notify.InboxMessage{otherWS}, listInbox(t, s, wsB, "cust-1", notify.InboxUnread, 50)); d != "" {
		t.Errorf("MarkInboxRead changed another workspace's inbox (-want +got):\n%s", d)
	}

	again, err := s.MarkInboxRead(ctx, wsA, "cust-1", at.Add(time.Minute))
	must(t, "MarkInboxRead again", err)
	if len(again) != 0 {
		t.Errorf("MarkInboxRead of an inbox with nothing unread marked %v", messageIDs(again))
	}
	none, err := s.MarkInboxRead(ctx, wsA, "nobody", at)
	must(t, "MarkInboxRead of an empty inbox", err)
	if len(none) != 0 {
		t.Errorf("MarkInboxRead of an empty inbox marked %v", messageIDs(none))
	}
}

// testInboxExpiry: a message that arrived before the horizon (InboxRetention
// days before today) is neither listed, counted nor changed.
func testInboxExpiry(t *testing.T, s notify.Store) {
	ctx := t.Context()
	horizon := notify.InboxHorizon(now())
	expired := putInbox(t, s, inboxMessage(wsA, "cust-1", "old", horizon.Add(-time.Millisecond)))
	kept := putInbox(t, s, inboxMessage(wsA, "cust-1", "edge", horizon))
	fresh := putInbox(t, s, inboxMessage(wsA, "cust-1", "new", now().Add(-time.Minute)))
	if d := diff([]notify.InboxMessage{fresh, kept}, listInbox(t, s, wsA, "cust-1", notify.InboxAll, 1)); d != "" {
		t.Errorf("ListInbox with an expired message mismatch (-want +got):\n%s", d)
	}
	if st := inboxState(t, s, wsA, "cust-1"); st.Unread != 2 {
		t.Errorf("InboxState.Unread = %d, want 2: the expired message does not count", st.Unread)
	}
	_, err := s.UpdateInbox(ctx, wsA, "cust-1", expired.ID, notify.InboxChange{Archived: ptr(true), At: now()})
	wantCode(t, "UpdateInbox of an expired message", err, notify.CodeNotFound)
	marked, err := s.MarkInboxRead(ctx, wsA, "cust-1", now())
	must(t, "MarkInboxRead", err)
	if got, want := messageIDs(marked), []string{kept.ID, fresh.ID}; !sameIDs(got, want) {
		t.Errorf("MarkInboxRead marked %v, want %v (not the expired one)", got, want)
	}
}

func sameIDs(a, b []string) bool {
	a, b = append([]string{}, a...), append([]string{}, b...)
	sort.Strings(a)
	sort.Strings(b)
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// testInboxConcurrent: of concurrent puts of one notification exactly one
// stores it, and concurrent changes of different messages all count.
func testInboxConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	base := now().Add(-time.Hour)
	const n = 8
	var wg sync.WaitGroup
	created := make([]bool, n)
	stored := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m notify.InboxMessage
			m, created[i], errs[i] = s.PutInbox(ctx, inboxMessage(wsA, "cust-1", "same", base.Add(time.Duration(i)*time.Millisecond)))
			stored[i] = m.ID
		}()
	}
	wg.Wait()
	wins := 0
	for i := range n {
		must(t, "concurrent PutInbox", errs[i])
		if created[i] {
			wins++
		}
		if stored[i] != stored[0] {
			t.Errorf("concurrent PutInbox %d returned message %s, another returned %s", i, stored[i], stored[0])
		}
	}
	if wins != 1 {
		t.Errorf("concurrent PutInbox of one notification created %d messages, want 1", wins)
	}

	var ms []notify.InboxMessage
	for i := range n {
		ms = append(ms, putInbox(t, s, inboxMessage(wsA, "cust-1", fmt.Sprintf("n%d", i), base.Add(time.Duration(i)*time.Second))))
	}
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := notify.InboxChange{Read: ptr(true), At: base}
			if i%2 == 1 {
				c = notify.InboxChange{Archived: ptr(true), Seen: ptr(true), At: base}
			}
			_, errs[i] = s.UpdateInbox(ctx, wsA, "cust-1", m.ID, c)
		}()
	}
	wg.Wait()
	for i := range n {
		must(t, "concurrent UpdateInbox", errs[i])
	}
	if st := inboxState(t, s, wsA, "cust-1"); st.Unread != 1 {
		t.Errorf("InboxState.Unread after concurrent changes = %d, want 1 (the first message)", st.Unread)
	}
	if got := listInbox(t, s, wsA, "cust-1", notify.InboxArchived, 50); len(got) != n/2 {
		t.Errorf("ListInbox(archived) = %d messages, want %d", len(got), n/2)
	}
}

// testInboxDeleteUser: deleting a user erases their inbox, and only theirs.
func testInboxDeleteUser(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	putUser(t, s, newUser(wsA, "cust-1", t0))
	putUser(t, s, newUser(wsA, "cust-2", t0))
	for i := range 30 {
		putInbox(t, s, inboxMessage(wsA, "cust-1", fmt.Sprintf("n%d", i), t0.Add(-time.Duration(i)*time.Minute)))
	}
	kept := putInbox(t, s, inboxMessage(wsA, "cust-2", "n1", t0))
	must(t, "DeleteUser", s.DeleteUser(ctx, wsA, "cust-1"))
	if got := listInbox(t, s, wsA, "cust-1", notify.InboxAll, 50); len(got) != 0 {
		t.Errorf("ListInbox of a deleted user = %d messages, want none", len(got))
	}
	if st := inboxState(t, s, wsA, "cust-1"); st.Unread != 0 || st.Latest != "" {
		t.Errorf("InboxState of a deleted user = %+v, want an empty inbox", st)
	}
	if d := diff([]notify.InboxMessage{kept}, listInbox(t, s, wsA, "cust-2", notify.InboxAll, 50)); d != "" {
		t.Errorf("DeleteUser changed another user's inbox (-want +got):\n%s", d)
	}
	// The same notification may reach a user of the same id later.
	putInbox(t, s, inboxMessage(wsA, "cust-1", "n1", t0))
}
