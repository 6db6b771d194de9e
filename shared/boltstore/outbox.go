package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// OutboxEntry is one message a channel "delivered" in local mode, where no
// provider is configured: what would have gone out, to which address.
type OutboxEntry struct {
	// ID is a ULID, so entries list newest first by id; PutOutbox makes one
	// from CreatedAt when it is empty.
	ID             string `json:"id"`
	WorkspaceID    string `json:"-"`
	NotificationID string `json:"notificationId"`
	// RecipientKey is the delivery's key (notify.Delivery.Key); with the
	// notification and channel it makes an entry unique.
	RecipientKey string            `json:"-"`
	UserID       string            `json:"userId,omitempty"`
	Channel      notify.Channel    `json:"channel"`
	Address      string            `json:"address,omitempty"`
	Title        string            `json:"title,omitempty"`
	Body         string            `json:"body"`
	Route        string            `json:"route,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	// ProviderMessageID is what the delivery records as the provider's id.
	ProviderMessageID string `json:"providerMessageId,omitempty"`
	// Attempts counts the times this message was handed to the outbox: more
	// than 1 means a real provider would have sent it more than once.
	Attempts  int       `json:"attempts"`
	CreatedAt time.Time `json:"createdAt"`
}

// outboxRecord keeps the recipient key OutboxEntry hides from JSON.
type outboxRecord struct {
	OutboxEntry
	RecipientKey string `json:"recipientKey"`
}

// PutOutbox stores e unless an entry for the same workspace, notification,
// recipient key and channel exists, so a redelivered queue message does not
// show twice; a repeat only increases the stored entry's Attempts. Every
// local delivery calls it, so concurrent calls share one transaction. Empty
// ID and CreatedAt are filled from the store's clock.
func (s *Store) PutOutbox(ctx context.Context, e OutboxEntry) error {
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
func (s *Store) ListOutbox(ctx context.Context, workspaceID string, channel notify.Channel, address string, p notify.Page) ([]OutboxEntry, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	var list []OutboxEntry
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
