package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/search"
	bolt "go.etcd.io/bbolt"
)

// notificationRecord keeps the content notify.Notification hides from JSON.
type notificationRecord struct {
	notify.Notification
	Content templateRecord `json:"content"`
}

func (r notificationRecord) notification(workspaceID string) notify.Notification {
	n := r.Notification
	n.WorkspaceID, n.Content = workspaceID, r.Content.template()
	return n
}

func getNotification(b *bolt.Bucket, workspaceID, id string) (notify.Notification, error) {
	var r notificationRecord
	ok, err := getJSON(b, key(workspaceID, id), &r)
	if err != nil {
		return notify.Notification{}, err
	}
	if !ok {
		return notify.Notification{}, notify.NotFound("notification", id)
	}
	return r.notification(workspaceID), nil
}

func putNotification(b *bolt.Bucket, n notify.Notification) error {
	return putJSON(b, key(n.WorkspaceID, n.ID), notificationRecord{Notification: n, Content: newTemplateRecord(n.Content)})
}

// CreateNotification implements notify.Store. The terms of the title and body
// go to the index as keys (workspace, term, id), so a term's postings are a
// prefix of the bucket, in id (that is time) order.
func (s *Store) CreateNotification(ctx context.Context, n notify.Notification) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketNotifications)
		if b.Get(key(n.WorkspaceID, n.ID)) != nil {
			return notify.Errorf(notify.CodeConflict, "notification %q exists", n.ID)
		}
		if err := putNotification(b, n); err != nil {
			return err
		}
		terms := bucket(tx, bucketTerms)
		for _, term := range search.Terms(n.Title, n.Body) {
			if err := terms.Put(key(n.WorkspaceID, term, n.ID), []byte{}); err != nil {
				return fmt.Errorf("index %q: %w", term, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create notification %s: %w", n.ID, err)
	}
	return nil
}

// GetNotification implements notify.Store.
func (s *Store) GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error) {
	var n notify.Notification
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = getNotification(bucket(tx, bucketNotifications), workspaceID, id)
		return err
	})
	if err != nil {
		return notify.Notification{}, fmt.Errorf("get notification %s: %w", id, err)
	}
	return n, nil
}

// ListNotifications implements notify.Store. With words to search it walks
// the postings of the longest word (likely the rarest), newest first, checks
// the other words by key and only then reads the notification to apply the
// filters; without words it walks the workspace's history newest first.
func (s *Store) ListNotifications(ctx context.Context, workspaceID string, q notify.NotificationQuery, p notify.Page) ([]notify.Notification, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	terms := search.Terms(q.Q)
	slices.SortStableFunc(terms, func(a, b string) int { return len(b) - len(a) })
	var list []notify.Notification
	err = s.db.View(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketNotifications)
		accept := func(id []byte, n notify.Notification) bool {
			if !matchNotification(n, q) {
				return true
			}
			if !pg.take(id) {
				return false
			}
			list = append(list, n)
			return true
		}
		if len(terms) == 0 {
			for id, v := range entries(b, prefix(workspaceID), after, true) {
				var r notificationRecord
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("notification %s: %w", id, err)
				}
				if !accept(id, r.notification(workspaceID)) {
					break
				}
			}
			return nil
		}
		index := bucket(tx, bucketTerms)
	postings:
		for id := range entries(index, prefix(workspaceID, terms[0]), after, true) {
			for _, t := range terms[1:] {
				if index.Get(key(workspaceID, t, string(id))) == nil {
					continue postings
				}
			}
			n, err := getNotification(b, workspaceID, string(id))
			if err != nil {
				return err
			}
			if !accept(id, n) {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list notifications of %s: %w", workspaceID, err)
	}
	return list, pg.next(), nil
}

// matchNotification applies the filters of q (not its words).
func matchNotification(n notify.Notification, q notify.NotificationQuery) bool {
	switch {
	case q.Channel != "" && n.Channel != q.Channel,
		q.RecipientType != "" && n.RecipientType != q.RecipientType,
		q.Source != "" && n.Source != q.Source,
		q.Origin != "" && n.Origin != q.Origin,
		q.Status != "" && n.Status != q.Status,
		!q.From.IsZero() && n.CreatedAt.Before(q.From),
		!q.To.IsZero() && !n.CreatedAt.Before(q.To):
		return false
	}
	return true
}

// SetNotificationStatus implements notify.Store; it stamps UpdatedAt.
func (s *Store) SetNotificationStatus(ctx context.Context, workspaceID, id string, to notify.Status, from ...notify.Status) (notify.Notification, error) {
	var n notify.Notification
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketNotifications)
		var err error
		if n, err = getNotification(b, workspaceID, id); err != nil {
			return err
		}
		if len(from) > 0 && !slices.Contains(from, n.Status) {
			return notify.Errorf(notify.CodeConflict, "notification %q is %s, not %v", id, n.Status, from)
		}
		n.Status, n.UpdatedAt = to, s.clock()
		return putNotification(b, n)
	})
	if err != nil {
		return notify.Notification{}, fmt.Errorf("set notification %s status %s: %w", id, to, err)
	}
	return n, nil
}

// AddNotificationCounts implements notify.Store; it stamps UpdatedAt. Every
// dispatch batch calls it, so concurrent calls share one transaction.
func (s *Store) AddNotificationCounts(ctx context.Context, workspaceID, id string, delta notify.Counts) (notify.Notification, error) {
	var n notify.Notification
	err := s.group.write(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketNotifications)
		var err error
		if n, err = getNotification(b, workspaceID, id); err != nil {
			return err
		}
		n.Counts, n.UpdatedAt = n.Counts.Add(delta), s.clock()
		return putNotification(b, n)
	})
	if err != nil {
		return notify.Notification{}, fmt.Errorf("add notification %s counts: %w", id, err)
	}
	return n, nil
}

// ApplyCounts implements notify.Store: the parts whose markers are new are
// added, all in one transaction with their markers.
func (s *Store) ApplyCounts(ctx context.Context, workspaceID, id string, parts []notify.CountPart) (notify.Notification, error) {
	var n notify.Notification
	err := s.group.write(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketNotifications)
		var err error
		if n, err = getNotification(b, workspaceID, id); err != nil {
			return err
		}
		marks := bucket(tx, bucketCountMarks)
		changed := false
		for _, p := range parts {
			k := key(workspaceID, id, p.Marker)
			if marks.Get(k) != nil {
				continue
			}
			if err := marks.Put(k, []byte{}); err != nil {
				return err
			}
			n.Counts, changed = n.Counts.Add(p.Delta), true
		}
		if !changed {
			return nil
		}
		n.UpdatedAt = s.clock()
		return putNotification(b, n)
	})
	if err != nil {
		return notify.Notification{}, fmt.Errorf("apply notification %s counts: %w", id, err)
	}
	return n, nil
}
