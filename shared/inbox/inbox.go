// Package inbox holds the rules of the users' in-app inboxes, which two
// edges serve: the API, for the customer's backend (GET and POST
// /v1/users/{id}/inbox…), and the SDK's routes, for the user's own browser
// (/sdk/v1/me/inbox…). Both list, count and change messages here, so that
// a message read in one is read in the other, and reading a message moves
// its delivery to read as a push that was opened does.
//
// Polling is meant to be cheap: State reads one small item (the inbox's
// state) and its ETag answers a client that has seen it with 304.
package inbox

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// Store is what the Service needs of the store; notify.Store is one.
type Store interface {
	GetUser(ctx context.Context, workspaceID, id string) (notify.User, error)
	ListInbox(ctx context.Context, workspaceID, userID string, status notify.InboxStatus, p notify.Page) ([]notify.InboxMessage, string, error)
	InboxState(ctx context.Context, workspaceID, userID string) (notify.InboxState, error)
	UpdateInbox(ctx context.Context, workspaceID, userID, id string, c notify.InboxChange) (notify.InboxMessage, error)
	MarkInboxRead(ctx context.Context, workspaceID, userID string, at time.Time) ([]notify.InboxMessage, error)
	UpdateDeliveryStatus(ctx context.Context, u notify.DeliveryUpdate) (bool, error)
}

// Service applies the inbox's rules. Its errors are *notify.Error values
// with the API's codes and field names.
type Service struct {
	Store Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log tells of deliveries a read could not move; nil logs nothing.
	Log *slog.Logger
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC().Truncate(time.Millisecond)
	}
	return s.Now().UTC().Truncate(time.Millisecond)
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Query asks for one page of a user's inbox.
type Query struct {
	// Status is unread, all (every message not archived) or archived;
	// empty is all.
	Status string
	Page   notify.Page
}

// Page is one page of a user's inbox, with what the whole inbox counts.
type Page struct {
	Items []notify.InboxMessage
	// Next is the cursor of the next page, "" on the last.
	Next string
	// Unread counts the inbox's unread messages, whatever the page.
	Unread int
	// ETag is the inbox's weak ETag as it was read before the page.
	ETag string
}

// State sums a user's inbox up and gives its ETag, for a client that
// polls: one read of the inbox's state, and a second (the user) only for
// an inbox never written, so that a user who does not exist, here or in
// this workspace, is not_found rather than an empty inbox. (Deleting a
// user deletes their inbox, so a written inbox is an existing user's.)
func (s *Service) State(ctx context.Context, ws, user string) (notify.InboxState, string, error) {
	st, err := s.Store.InboxState(ctx, ws, user)
	if err != nil {
		return notify.InboxState{}, "", err
	}
	if st.Version == 0 {
		if _, err := s.Store.GetUser(ctx, ws, user); err != nil {
			return notify.InboxState{}, "", err
		}
	}
	return st, st.ETag(s.now()), nil
}

// List reads one page of the user's inbox, newest first.
func (s *Service) List(ctx context.Context, ws, user string, q Query) (Page, error) {
	status := notify.InboxStatus(q.Status)
	if status == "" {
		status = notify.InboxAll
	}
	if !status.Valid() {
		return Page{}, notify.Invalid(notify.FieldError{Field: "status", Problem: "must be unread, all or archived"})
	}
	st, etag, err := s.State(ctx, ws, user)
	if err != nil {
		return Page{}, err
	}
	items, next, err := s.Store.ListInbox(ctx, ws, user, status, q.Page)
	if err != nil {
		return Page{}, err
	}
	for i := range items {
		items[i] = View(items[i])
	}
	if items == nil {
		items = []notify.InboxMessage{}
	}
	return Page{Items: items, Next: next, Unread: st.Unread, ETag: etag}, nil
}

// Change is what a caller sets of a message: each of read, seen and
// archived, when given.
type Change struct {
	Read     *bool `json:"read"`
	Seen     *bool `json:"seen"`
	Archived *bool `json:"archived"`
}

// messageID is the form of every message id (a ULID): any other is no
// message's, and never reaches the store.
var messageID = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)

// Update makes c on one of the user's messages and returns it. A message
// that becomes read moves its delivery to read (the person opened it),
// as an opened push does.
func (s *Service) Update(ctx context.Context, ws, user, id string, c Change) (notify.InboxMessage, error) {
	if c.Read == nil && c.Seen == nil && c.Archived == nil {
		return notify.InboxMessage{}, notify.Invalid(notify.FieldError{Field: "read", Problem: "give at least one of read, seen and archived"})
	}
	if !messageID.MatchString(id) {
		return notify.InboxMessage{}, notify.NotFound("inbox message", id)
	}
	at := s.now()
	m, err := s.Store.UpdateInbox(ctx, ws, user, id, notify.InboxChange{Read: c.Read, Seen: c.Seen, Archived: c.Archived, At: at})
	if err != nil {
		return notify.InboxMessage{}, err
	}
	if c.Read != nil && *c.Read {
		s.opened(ctx, m, at)
	}
	return View(m), nil
}

// MarkAllRead marks every unread message of the user read, and their
// deliveries read.
func (s *Service) MarkAllRead(ctx context.Context, ws, user string) error {
	if _, _, err := s.State(ctx, ws, user); err != nil {
		return err
	}
	at := s.now()
	marked, err := s.Store.MarkInboxRead(ctx, ws, user, at)
	for _, m := range marked {
		s.opened(ctx, m, at)
	}
	return err
}

// opened moves the delivery of m's notification to read. The delivery
// only moves forward (a second read changes nothing); one that cannot be
// moved is logged: the inbox's own state is what the person sees.
func (s *Service) opened(ctx context.Context, m notify.InboxMessage, at time.Time) {
	_, err := s.Store.UpdateDeliveryStatus(ctx, notify.DeliveryUpdate{WorkspaceID: m.WorkspaceID, NotificationID: m.NotificationID,
		Key: m.UserID, Status: notify.DeliveryRead, At: at})
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		s.log().Warn("move an in-app delivery to read", "workspaceId", m.WorkspaceID, "notificationId", m.NotificationID, "err", err.Error())
	}
}

// View is m as the API and the SDK show it: buttons always a list.
func View(m notify.InboxMessage) notify.InboxMessage {
	if m.Buttons == nil {
		m.Buttons = []notify.Button{}
	}
	return m
}

// ETagMatches reports whether an If-None-Match header names etag (or is
// "*"): the client has this state of the inbox, and a 304 answers it.
// Weak comparison, as If-None-Match asks.
func ETagMatches(ifNoneMatch, etag string) bool {
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}
