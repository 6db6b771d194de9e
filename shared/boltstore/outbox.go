package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// outboxRecord keeps the recipient key notify.OutboxEntry hides from JSON.
type outboxRecord struct {
	notify.OutboxEntry
	RecipientKey string `json:"recipientKey"`
}

// PutOutbox stores e unless an entry for the same workspace, notification,
// recipient key and channel exists, so a redelivered queue message does not
// show twice; a repeat only increases the stored entry's Attempts. Every
// local delivery calls it, so concurrent calls share one transaction. Empty
// ID and CreatedAt are filled from the store's clock.
func (s *Store) PutOutbox(ctx context.Context, e notify.OutboxEntry) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.clock()
	}
	if e.ID == "" {
		e.ID = s.ids.New(e.CreatedAt)
	}
	dedupe := key(e.WorkspaceID, e.NotificationID, e.RecipientKey, string(e.Channel))
	e.Attempts = 1
	err := s.group.write(func(tx *bolt.Tx) error {
		seen := bucket(tx, bucketOutboxKeys)
		outbox := bucket(tx, bucketOutbox)
		if id := seen.Get(dedupe); id != nil {
			k := key(e.WorkspaceID, string(id))
			var r outboxRecord
			if ok, err := getJSON(outbox, k, &r); err != nil || !ok {
				return err
			}
			r.Attempts++
			return putJSON(outbox, k, r)
		}
		if err := seen.Put(dedupe, []byte(e.ID)); err != nil {
			return err
		}
		return putJSON(outbox, key(e.WorkspaceID, e.ID), outboxRecord{OutboxEntry: e, RecipientKey: e.RecipientKey})
	})
	if err != nil {
		return fmt.Errorf("put outbox entry of %s: %w", e.NotificationID, err)
	}
	return nil
}

// ListOutbox lists a workspace's outbox newest first, optionally only one
// channel's and only one address's (empty matches all).
func (s *Store) ListOutbox(ctx context.Context, workspaceID string, channel notify.Channel, address string, p notify.Page) ([]notify.OutboxEntry, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	var list []notify.OutboxEntry
	err = s.db.View(func(tx *bolt.Tx) error {
		for id, v := range entries(bucket(tx, bucketOutbox), prefix(workspaceID), after, true) {
			var r outboxRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("outbox entry %s: %w", id, err)
			}
			if (channel != "" && r.Channel != channel) || (address != "" && r.Address != address) {
				continue
			}
			if !pg.take(id) {
				break
			}
			e := r.OutboxEntry
			e.WorkspaceID, e.RecipientKey = workspaceID, r.RecipientKey
			list = append(list, e)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list outbox of %s: %w", workspaceID, err)
	}
	return list, pg.next(), nil
}
