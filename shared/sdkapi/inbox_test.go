package sdkapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/inbox"
	"github.com/heraldhq/herald/shared/notify"
)

// inboxFixture is an SDK server over a store with users ana and bea of ws1
// (ana with three messages) and ana of ws2.
type inboxFixture struct {
	t     *testing.T
	store *boltstore.Store
	srv   *Server
	ids   []string // ana's messages, newest first
}

func newInboxFixture(t *testing.T) *inboxFixture {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, u := range []notify.User{{WorkspaceID: "ws1", ID: "ana"}, {WorkspaceID: "ws1", ID: "bea"}, {WorkspaceID: "ws2", ID: "ana"}} {
		u.CreatedAt, u.UpdatedAt = now, now
		if _, err := s.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	f := &inboxFixture{t: t, store: s, srv: New(Services{Inbox: &inbox.Service{Store: s}}, Options{})}
	for i := range 3 {
		at := now.Add(time.Duration(i-10) * time.Minute)
		m, _, err := s.PutInbox(ctx, notify.InboxMessage{WorkspaceID: "ws1", UserID: "ana", ID: (&notify.IDs{}).New(at), NotificationID: "N" + string(rune('0'+i)),
			Title: "Hola", Body: "Mensaje " + string(rune('0'+i)), Route: "bills", CreatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		f.ids = append([]string{m.ID}, f.ids...)
	}
	return f
}

// call runs h as user of ws on a request to target, with the headers
// given in pairs, and returns the answer.
func (f *inboxFixture) call(h userHandler, ws, user, method, target, body string, headers ...string) (*httptest.ResponseRecorder, error) {
	f.t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	if _, id, ok := strings.Cut(target, "/inbox/"); ok {
		r.SetPathValue("messageId", id)
	}
	w := httptest.NewRecorder()
	return w, h(w, r, ws, user)
}

func decodePage(t *testing.T, w *httptest.ResponseRecorder) inboxPage {
	t.Helper()
	var p inboxPage
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	return p
}

func pageIDs(p inboxPage) []string {
	var out []string
	for _, m := range p.Items {
		out = append(out, m.ID)
	}
	return out
}

func TestInboxListAndPolling(t *testing.T) {
	f := newInboxFixture(t)
	w, err := f.call(f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox?limit=2", "")
	if err != nil || w.Code != 200 {
		t.Fatalf("list = %d, %v", w.Code, err)
	}
	p := decodePage(t, w)
	if d := cmp.Diff(f.ids[:2], pageIDs(p)); d != "" || p.Unread != 3 || p.Next == "" {
		t.Errorf("first page: unread %d, next %q, ids (-want +got):\n%s", p.Unread, p.Next, d)
	}
	for _, k := range []string{`"notificationId"`, `"readAt":null`, `"seenAt":null`, `"archivedAt":null`, `"buttons":[]`, `"next"`, `"unread":3`} {
		if !strings.Contains(w.Body.String(), k) {
			t.Errorf("answer %s lacks %s", w.Body.String(), k)
		}
	}
	etag := w.Header().Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || w.Header().Get("Cache-Control") != "private, no-cache" {
		t.Errorf("headers %v, want a weak ETag and no-cache", w.Header())
	}
	w, err = f.call(f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox?limit=2&after="+p.Next, "")
	if got := pageIDs(decodePage(t, w)); err != nil || !cmp.Equal(got, f.ids[2:]) {
		t.Errorf("second page = %v, %v; want %v", got, err, f.ids[2:])
	}

	// Polling: the same ETag is 304 with no body, until a change.
	w, err = f.call(f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox", "", "If-None-Match", etag)
	if err != nil || w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
		t.Errorf("poll with the ETag = %d %q (ETag %q), %v; want 304 with no body", w.Code, w.Body.String(), w.Header().Get("ETag"), err)
	}
	w, err = f.call(f.srv.changeInboxMessage, "ws1", "ana", "POST", "/sdk/v1/me/inbox/"+f.ids[0], `{"read": true}`)
	if err != nil || w.Code != 200 {
		t.Fatalf("read = %d %s, %v", w.Code, w.Body.String(), err)
	}
	var m notify.InboxMessage
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.ID != f.ids[0] || m.ReadAt == nil || m.SeenAt == nil || m.Body != "Mensaje 2" {
		t.Errorf("read answered %s", w.Body.String())
	}
	w, err = f.call(f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox?status=unread", "", "If-None-Match", etag)
	p = decodePage(t, w)
	if err != nil || w.Code != 200 || w.Header().Get("ETag") == etag || p.Unread != 2 || !cmp.Equal(pageIDs(p), f.ids[1:]) {
		t.Errorf("poll after a read = %d %s (ETag %s), %v; want the new list of 2 unread", w.Code, w.Body.String(), w.Header().Get("ETag"), err)
	}

	// Archive, then mark everything read.
	if _, err := f.call(f.srv.changeInboxMessage, "ws1", "ana", "POST", "/sdk/v1/me/inbox/"+f.ids[1], `{"archived": true}`); err != nil {
		t.Fatal(err)
	}
	w, _ = f.call(f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox?status=archived", "")
	if got := pageIDs(decodePage(t, w)); !cmp.Equal(got, f.ids[1:2]) {
		t.Errorf("archived = %v, want %v", got, f.ids[1:2])
	}
	w, err = f.call(f.srv.markInboxRead, "ws1", "ana", "POST", "/sdk/v1/me/inbox:markAllRead", "")
	if err != nil || w.Code != http.StatusNoContent {
		t.Errorf("mark all read = %d, %v", w.Code, err)
	}
	w, _ = f.call(f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox", "")
	if p := decodePage(t, w); p.Unread != 0 || len(p.Items) != 2 {
		t.Errorf("after mark all read: %s, want 2 messages (one archived), none unread", w.Body.String())
	}
}

// The token's user alone: another user's message, another workspace's
// user, a user who does not exist are not found.
func TestInboxOneUser(t *testing.T) {
	f := newInboxFixture(t)
	tests := []struct {
		name         string
		h            userHandler
		ws, user     string
		method, path string
		body         string
		code         string
	}{
		{"another user's message", f.srv.changeInboxMessage, "ws1", "bea", "POST", "/sdk/v1/me/inbox/" + f.ids[0], `{"read": true}`, notify.CodeNotFound},
		{"the same user id in another workspace", f.srv.changeInboxMessage, "ws2", "ana", "POST", "/sdk/v1/me/inbox/" + f.ids[0], `{"read": true}`, notify.CodeNotFound},
		{"a user who does not exist", f.srv.listInbox, "ws1", "ghost", "GET", "/sdk/v1/me/inbox", "", notify.CodeNotFound},
		{"mark all read of a user who does not exist", f.srv.markInboxRead, "ws1", "ghost", "POST", "/sdk/v1/me/inbox:markAllRead", "", notify.CodeNotFound},
		{"an unknown status", f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox?status=starred", "", notify.CodeValidation},
		{"a limit too large", f.srv.listInbox, "ws1", "ana", "GET", "/sdk/v1/me/inbox?limit=1000", "", notify.CodeValidation},
		{"nothing to change", f.srv.changeInboxMessage, "ws1", "ana", "POST", "/sdk/v1/me/inbox/" + f.ids[0], `{}`, notify.CodeValidation},
		{"an unknown field", f.srv.changeInboxMessage, "ws1", "ana", "POST", "/sdk/v1/me/inbox/" + f.ids[0], `{"starred": true}`, notify.CodeValidation},
		{"malformed JSON", f.srv.changeInboxMessage, "ws1", "ana", "POST", "/sdk/v1/me/inbox/" + f.ids[0], `{"read": `, notify.CodeBadRequest},
	}
	for _, tt := range tests {
		if _, err := f.call(tt.h, tt.ws, tt.user, tt.method, tt.path, tt.body); !notify.IsCode(err, tt.code) {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	w, _ := f.call(f.srv.listInbox, "ws1", "bea", "GET", "/sdk/v1/me/inbox", "")
	if p := decodePage(t, w); len(p.Items) != 0 || p.Unread != 0 {
		t.Errorf("bea's inbox = %s, want empty", w.Body.String())
	}
}

// The routes are registered, each to its handler, and none serves a
// request that names no user: it is refused (401 without a user; 403 once
// the identity part's gate refuses a request without an Origin first).
func TestInboxRoutesNeedAUser(t *testing.T) {
	f := newInboxFixture(t)
	for _, tc := range []struct{ method, path, pattern string }{
		{"GET", "/sdk/v1/me/inbox", "GET /sdk/v1/me/inbox"},
		{"POST", "/sdk/v1/me/inbox/" + f.ids[0], "POST /sdk/v1/me/inbox/{messageId}"},
		{"POST", "/sdk/v1/me/inbox:markAllRead", "POST /sdk/v1/me/inbox:markAllRead"},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"read": true}`))
		if _, pattern := f.srv.mux.Handler(r); pattern != tc.pattern {
			t.Errorf("%s %s is served by %q, want %q", tc.method, tc.path, pattern, tc.pattern)
		}
		w := httptest.NewRecorder()
		f.srv.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
			t.Errorf("%s %s without a user = %d %s, want it refused", tc.method, tc.path, w.Code, w.Body.String())
		}
	}
	// Nothing changed.
	st, err := f.store.InboxState(context.Background(), "ws1", "ana")
	if err != nil || st.Unread != 3 {
		t.Errorf("InboxState = %+v, %v; want the 3 unread untouched", st, err)
	}
}
