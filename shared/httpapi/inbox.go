package httpapi

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/shared/inbox"
	"github.com/heraldhq/herald/shared/notify"
)

// The users' in-app inboxes, for the customer's backend (the browser reads
// the same through the SDK's routes): the rules live in s.inbox.

// inboxBody is a page of an inbox: the API's list shape, with the unread
// count of the whole inbox.
type inboxBody struct {
	Items      []notify.InboxMessage `json:"items"`
	NextCursor string                `json:"nextCursor,omitempty"`
	Unread     int                   `json:"unread"`
}

// getInbox lists a user's messages newest first (?status=unread|all|
// archived, cursor, limit) with a weak ETag of the inbox: If-None-Match
// with it answers 304 while nothing changed, after one read.
func (s *Server) getInbox(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := inbox.Query{Status: r.URL.Query().Get("status"), Page: p}
	if q.Status != "" && !notify.InboxStatus(q.Status).Valid() {
		return notify.Invalid(notify.FieldError{Field: "status", Problem: "must be unread, all or archived"})
	}
	ws, user := k.WorkspaceID, r.PathValue("id")
	if match := r.Header.Get("If-None-Match"); match != "" {
		_, etag, err := s.inbox.State(r.Context(), ws, user)
		if err != nil {
			return err
		}
		if inbox.ETagMatches(match, etag) {
			w.Header().Set("ETag", etag)
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	pg, err := s.inbox.List(r.Context(), ws, user, q)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", pg.ETag)
	writeJSON(w, http.StatusOK, inboxBody{Items: pg.Items, NextCursor: pg.Next, Unread: pg.Unread})
	return nil
}

// postInboxMessage sets a message's read, seen and archived states.
func (s *Server) postInboxMessage(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in inbox.Change
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := s.inbox.Update(r.Context(), k.WorkspaceID, r.PathValue("id"), r.PathValue("messageId"), in)
	if err != nil {
		return err
	}
	if !reads(k) {
		// The text is read data (it holds the user's variables): the
		// states only.
		writeJSON(w, http.StatusOK, inboxReceipt{ID: m.ID, NotificationID: m.NotificationID, ReadAt: m.ReadAt, SeenAt: m.SeenAt, ArchivedAt: m.ArchivedAt})
		return nil
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// inboxReceipt is a message's change as a key without the read scope
// sees it: which message, and its states now.
type inboxReceipt struct {
	ID             string     `json:"id"`
	NotificationID string     `json:"notificationId"`
	ReadAt         *time.Time `json:"readAt"`
	SeenAt         *time.Time `json:"seenAt"`
	ArchivedAt     *time.Time `json:"archivedAt"`
}
