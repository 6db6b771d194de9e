package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// The users' in-app inboxes. A user's messages are one key range (ws,
// user), ids (ULIDs) in arrival order, so a list is a reverse seek that
// stops at the first expired message, and the unread count is a walk of
// that user's messages alone (a few hundred at most: 90 days' worth).
const (
	bucketInbox      = "inbox"      // ws, user, message id → JSON notify.InboxMessage
	bucketInboxNotes = "inboxnotes" // ws, user, notification id → message id: one message per notification
	bucketInboxState = "inboxstate" // ws, user → JSON inboxRecord
)

// inboxRecord is what the state of an inbox keeps beside its messages:
// the version every write moves, and the newest message.
type inboxRecord struct {
	Version   int64     `json:"version"`
	Latest    string    `json:"latest,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// bumpInbox moves the inbox's version on, at now, and notes latest (the
// message put last) when it is given.
func bumpInbox(tx *bolt.Tx, ws, user, latest string, now time.Time) error {
	b := bucket(tx, bucketInboxState)
	k := key(ws, user)
	var r inboxRecord
	if _, err := getJSON(b, k, &r); err != nil {
		return err
	}
	r.Version++
	r.UpdatedAt = now
	if latest != "" {
		r.Latest = latest
	}
	return putJSON(b, k, r)
}

// PutInbox implements notify.Inbox. Every in-app delivery calls it, so
// concurrent calls share one transaction.
func (s *Store) PutInbox(ctx context.Context, m notify.InboxMessage) (notify.InboxMessage, bool, error) {
	var stored notify.InboxMessage
	var created bool
	now := s.clock()
	err := s.group.write(func(tx *bolt.Tx) error {
		stored, created = m, false
		notes, msgs := bucket(tx, bucketInboxNotes), bucket(tx, bucketInbox)
		note := key(m.WorkspaceID, m.UserID, m.NotificationID)
		if id := notes.Get(note); id != nil {
			ok, err := getJSON(msgs, key(m.WorkspaceID, m.UserID, string(id)), &stored)
			if err != nil {
				return err
			}
			if ok {
				stored.WorkspaceID, stored.UserID = m.WorkspaceID, m.UserID
				return nil
			}
		}
		if err := notes.Put(note, []byte(m.ID)); err != nil {
			return err
		}
		if err := putJSON(msgs, key(m.WorkspaceID, m.UserID, m.ID), m); err != nil {
			return err
		}
		created = true
		return bumpInbox(tx, m.WorkspaceID, m.UserID, m.ID, now)
	})
	if err != nil {
		return notify.InboxMessage{}, false, fmt.Errorf("put inbox message of %s: %w", m.NotificationID, err)
	}
	return stored, created, nil
}

// inboxMessages yields the user's messages that have not expired at now,
// newest first, after the id after ("" from the newest).
func inboxMessages(tx *bolt.Tx, ws, user, after string, now time.Time) func(yield func(notify.InboxMessage, error) bool) {
	horizon := notify.InboxHorizon(now)
	return func(yield func(notify.InboxMessage, error) bool) {
		for id, v := range entries(bucket(tx, bucketInbox), prefix(ws, user), after, true) {
			var m notify.InboxMessage
			if err := json.Unmarshal(v, &m); err != nil {
				yield(m, fmt.Errorf("inbox message %s: %w", id, err))
				return
			}
			if m.CreatedAt.Before(horizon) {
				return // older ones have expired too
			}
			m.WorkspaceID, m.UserID = ws, user
			if !yield(m, nil) {
				return
			}
		}
	}
}

// ListInbox implements notify.Inbox.
func (s *Store) ListInbox(ctx context.Context, workspaceID, userID string, status notify.InboxStatus, p notify.Page) ([]notify.InboxMessage, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	var list []notify.InboxMessage
	now := s.clock()
	err = s.db.View(func(tx *bolt.Tx) error {
		for m, err := range inboxMessages(tx, workspaceID, userID, after, now) {
			if err != nil {
				return err
			}
			if !status.Matches(m) {
				continue
			}
			if !pg.take([]byte(m.ID)) {
				break
			}
			list = append(list, m)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list inbox of %s: %w", userID, err)
	}
	return list, pg.next(), nil
}

// InboxState implements notify.Inbox, counting the unread messages.
func (s *Store) InboxState(ctx context.Context, workspaceID, userID string) (notify.InboxState, error) {
	var st notify.InboxState
	now := s.clock()
	err := s.db.View(func(tx *bolt.Tx) error {
		var r inboxRecord
		if _, err := getJSON(bucket(tx, bucketInboxState), key(workspaceID, userID), &r); err != nil {
			return err
		}
		st = notify.InboxState{Version: r.Version, Latest: r.Latest, UpdatedAt: r.UpdatedAt}
		for m, err := range inboxMessages(tx, workspaceID, userID, "", now) {
			if err != nil {
				return err
			}
			if m.Unread() {
				st.Unread++
			}
		}
		return nil
	})
	if err != nil {
		return notify.InboxState{}, fmt.Errorf("inbox state of %s: %w", userID, err)
	}
	return st, nil
}

// UpdateInbox implements notify.Inbox.
func (s *Store) UpdateInbox(ctx context.Context, workspaceID, userID, id string, c notify.InboxChange) (notify.InboxMessage, error) {
	var m notify.InboxMessage
	now := s.clock()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketInbox)
		k := key(workspaceID, userID, id)
		ok, err := getJSON(b, k, &m)
		if err != nil {
			return err
		}
		if !ok || m.CreatedAt.Before(notify.InboxHorizon(now)) {
			return notify.NotFound("inbox message", id)
		}
		m = c.Apply(m)
		m.WorkspaceID, m.UserID = workspaceID, userID
		if err := putJSON(b, k, m); err != nil {
			return err
		}
		return bumpInbox(tx, workspaceID, userID, "", now)
	})
	if err != nil {
		return notify.InboxMessage{}, fmt.Errorf("update inbox message %s: %w", id, err)
	}
	return m, nil
}

// MarkInboxRead implements notify.Inbox, in one transaction.
func (s *Store) MarkInboxRead(ctx context.Context, workspaceID, userID string, at time.Time) ([]notify.InboxMessage, error) {
	var marked []notify.InboxMessage
	now := s.clock()
	yes := true
	read := notify.InboxChange{Read: &yes, At: at}
	err := s.db.Update(func(tx *bolt.Tx) error {
		marked = nil
		for m, err := range inboxMessages(tx, workspaceID, userID, "", now) {
			if err != nil {
				return err
			}
			if m.Unread() {
				marked = append(marked, read.Apply(m))
			}
		}
		if len(marked) == 0 {
			return nil
		}
		b := bucket(tx, bucketInbox)
		for _, m := range marked {
			if err := putJSON(b, key(workspaceID, userID, m.ID), m); err != nil {
				return err
			}
		}
		return bumpInbox(tx, workspaceID, userID, "", now)
	})
	if err != nil {
		return nil, fmt.Errorf("mark inbox of %s read: %w", userID, err)
	}
	return marked, nil
}

// deleteInbox erases a user's inbox (with the user: DeleteUser).
func deleteInbox(tx *bolt.Tx, ws, user string) error {
	for _, name := range []string{bucketInbox, bucketInboxNotes} {
		c := bucket(tx, name).Cursor()
		pre := prefix(ws, user)
		for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c.Seek(pre) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return bucket(tx, bucketInboxState).Delete(key(ws, user))
}
