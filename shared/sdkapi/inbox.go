package sdkapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/inbox"
	"github.com/heraldhq/herald/shared/notify"
)

// The in-app inbox of the token's user, for the customer's page: list it
// (with a weak ETag, so that a page polling every few seconds mostly gets
// 304 after one small read), change a message, mark everything read. The
// rules are package inbox's, the same the API's inbox routes apply.
// DESIGN.md says why pages poll rather than hold a WebSocket.

// inboxRoutes registers the in-app inbox routes.
func (s *Server) inboxRoutes(route routeFunc) {
	route("GET /sdk/v1/me/inbox", s.asUser(s.listInbox))
	route("POST /sdk/v1/me/inbox/{messageId}", s.asUser(s.changeInboxMessage))
	route("POST /sdk/v1/me/inbox:markAllRead", s.asUser(s.markInboxRead))
}

// Page sizes of the inbox list: a page is what a drop-down shows.
const (
	defaultInboxLimit = 20
	maxInboxLimit     = 100
)

// inboxPage is the answer of GET /sdk/v1/me/inbox.
type inboxPage struct {
	Items  []notify.InboxMessage `json:"items"`
	Next   string                `json:"next,omitempty"`
	Unread int                   `json:"unread"`
}

// listInbox answers ?status=unread|all|archived&after=<cursor>&limit= with
// a page of the user's inbox and its ETag, or 304 when If-None-Match
// names the ETag the inbox has now.
func (s *Server) listInbox(w http.ResponseWriter, r *http.Request, ws, user string) error {
	v := r.URL.Query()
	q := inbox.Query{Status: v.Get("status"), Page: notify.Page{Limit: defaultInboxLimit, Cursor: v.Get("after")}}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxInboxLimit {
			return notify.Invalid(notify.FieldError{Field: "limit", Problem: fmt.Sprintf("must be an integer from 1 to %d", maxInboxLimit)})
		}
		q.Page.Limit = n
	}
	if len(q.Page.Cursor) > 4096 {
		return notify.Invalid(notify.FieldError{Field: "after", Problem: "not a cursor this API returned"})
	}
	// Every answer is revalidated: a page must not show a cached list.
	w.Header().Set("Cache-Control", "private, no-cache")
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
	p, err := s.inbox.List(r.Context(), ws, user, q)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", p.ETag)
	httpapi.WriteJSON(w, http.StatusOK, inboxPage{Items: p.Items, Next: p.Next, Unread: p.Unread})
	return nil
}

// changeInboxMessage sets or clears a message's read, seen and archived
// states ({"read": true}) and answers the message.
func (s *Server) changeInboxMessage(w http.ResponseWriter, r *http.Request, ws, user string) error {
	var in inbox.Change
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return err
	}
	m, err := s.inbox.Update(r.Context(), ws, user, r.PathValue("messageId"), in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, m)
	return nil
}

// markInboxRead marks every unread message of the user read.
func (s *Server) markInboxRead(w http.ResponseWriter, r *http.Request, ws, user string) error {
	if err := s.inbox.MarkAllRead(r.Context(), ws, user); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userHandler is a route that acts as one user of one workspace, already
// authenticated by the user token.
type userHandler func(w http.ResponseWriter, r *http.Request, ws, user string) error

// asUser adapts a userHandler to a route: the user is the token's, which
// ServeHTTP checked before any /sdk/v1/me route runs.
func (s *Server) asUser(h userHandler) http.Handler {
	return s.me(func(w http.ResponseWriter, r *http.Request, p principal) error {
		return h(w, r, p.WorkspaceID, p.UserID)
	})
}
