package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// A delivery's value is its status, sep, then its JSON, so listing by status
// skips the others without decoding them.
func encodeDelivery(d notify.Delivery) ([]byte, error) {
	v := make([]byte, 0, 320+len(d.Address))
	v = append(v, d.Status...)
	v = append(v, sep)
	return appendDeliveryRecord(v, d)
}

func decodeDelivery(v []byte, workspaceID, notificationID, key string) (notify.Delivery, error) {
	_, data, ok := bytes.Cut(v, []byte{sep})
	if !ok {
		return notify.Delivery{}, errors.New("delivery value without status")
	}
	var r deliveryRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return notify.Delivery{}, err
	}
	d := r.Delivery
	d.WorkspaceID, d.NotificationID, d.Key, d.Chunk = workspaceID, notificationID, key, r.Chunk
	return d, nil
}

// deliveryRecord adds the fields the API never shows.
type deliveryRecord struct {
	notify.Delivery
	Chunk string `json:"chunk,omitempty"`
}

// RecordDeliveries implements notify.Store in one transaction, shared with
// concurrent calls.
func (s *Store) RecordDeliveries(ctx context.Context, ds []notify.Delivery) ([]bool, error) {
	created := make([]bool, len(ds))
	if len(ds) == 0 {
		return created, nil
	}
	err := s.group.write(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketDeliveries)
		for i, d := range ds {
			created[i] = false // a group commit may run this again
			k := key(d.WorkspaceID, d.NotificationID, d.Key)
			if b.Get(k) != nil {
				continue
			}
			v, err := encodeDelivery(d)
			if err != nil {
				return fmt.Errorf("delivery %s: %w", d.Key, err)
			}
			if err := b.Put(k, v); err != nil {
				return fmt.Errorf("delivery %s: %w", d.Key, err)
			}
			if notify.TrackedByMessageID(d.Channel) && d.ProviderMessageID != "" {
				ref := appendDeliveryRef(nil, notify.DeliveryRef{WorkspaceID: d.WorkspaceID, NotificationID: d.NotificationID, Key: d.Key})
				if err := bucket(tx, bucketMessageIDs).Put(key(string(d.Channel), d.ProviderMessageID), ref); err != nil {
					return fmt.Errorf("message id of delivery %s: %w", d.Key, err)
				}
			}
			created[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record deliveries of %s: %w", ds[0].NotificationID, err)
	}
	return created, nil
}

// GetDeliveries implements notify.Store in one read transaction.
func (s *Store) GetDeliveries(ctx context.Context, workspaceID, notificationID string, keys []string) (map[string]notify.Delivery, error) {
	found := make(map[string]notify.Delivery, len(keys))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketDeliveries)
		for _, k := range keys {
			v := b.Get(key(workspaceID, notificationID, k))
			if v == nil {
				continue
			}
			d, err := decodeDelivery(v, workspaceID, notificationID, k)
			if err != nil {
				return fmt.Errorf("delivery %s: %w", k, err)
			}
			found[k] = d
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get deliveries of %s: %w", notificationID, err)
	}
	return found, nil
}

// ListDeliveries implements notify.Store, in recipient key order. A
// notification nobody was sent to, or that does not exist, lists nothing.
func (s *Store) ListDeliveries(ctx context.Context, workspaceID, notificationID string, status notify.DeliveryStatus, p notify.Page) ([]notify.Delivery, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	want := append([]byte(status), sep)
	var list []notify.Delivery
	err = s.db.View(func(tx *bolt.Tx) error {
		for k, v := range entries(bucket(tx, bucketDeliveries), prefix(workspaceID, notificationID), after, false) {
			if status != "" && !bytes.HasPrefix(v, want) {
				continue
			}
			if !pg.take(k) {
				break
			}
			d, err := decodeDelivery(v, workspaceID, notificationID, string(k))
			if err != nil {
				return fmt.Errorf("delivery %s: %w", k, err)
			}
			list = append(list, d)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries of %s: %w", notificationID, err)
	}
	return list, pg.next(), nil
}

// UpdateDeliveryStatus implements notify.Store: the delivery and the
// notification's counts change in one transaction.
func (s *Store) UpdateDeliveryStatus(ctx context.Context, u notify.DeliveryUpdate) (bool, error) {
	ref := notify.DeliveryRef{WorkspaceID: u.WorkspaceID, NotificationID: u.NotificationID, Key: u.Key}
	changed, err := s.changeDelivery(ref, func(tx *bolt.Tx, d *notify.Delivery) (bool, error) {
		if u.Status.Rank() <= d.Status.Rank() {
			return false, nil
		}
		nb := bucket(tx, bucketNotifications)
		n, err := getNotification(nb, u.WorkspaceID, u.NotificationID)
		if err != nil {
			return false, err
		}
		n.Counts = n.Counts.Sub(d.Status.Counts()).Add(u.Status.Counts())
		n.UpdatedAt = s.clock()
		if err := putNotification(nb, n); err != nil {
			return false, err
		}
		d.Status, d.UpdatedAt = u.Status, u.At
		if u.Reason != "" {
			d.Reason = u.Reason
		}
		return true, nil
	})
	if err != nil {
		return false, fmt.Errorf("update delivery %s of %s: %w", u.Key, u.NotificationID, err)
	}
	return changed, nil
}

// changeDelivery applies fn to the stored delivery ref in a group-committed
// transaction and stores it when fn reports a change; a missing delivery
// is not_found.
func (s *Store) changeDelivery(ref notify.DeliveryRef, fn func(tx *bolt.Tx, d *notify.Delivery) (bool, error)) (bool, error) {
	changed := false
	err := s.group.write(func(tx *bolt.Tx) error {
		changed = false // a group commit may run this again
		b := bucket(tx, bucketDeliveries)
		k := key(ref.WorkspaceID, ref.NotificationID, ref.Key)
		v := b.Get(k)
		if v == nil {
			return notify.NotFound("delivery", ref.Key)
		}
		d, err := decodeDelivery(v, ref.WorkspaceID, ref.NotificationID, ref.Key)
		if err != nil {
			return err
		}
		if changed, err = fn(tx, &d); err != nil || !changed {
			return err
		}
		nv, err := encodeDelivery(d)
		if err != nil {
			return err
		}
		return b.Put(k, nv)
	})
	return changed, err
}

// FindDeliveryByMessageID implements notify.Store.
func (s *Store) FindDeliveryByMessageID(ctx context.Context, ch notify.Channel, messageID string) (notify.DeliveryRef, error) {
	var ref notify.DeliveryRef
	err := s.db.View(func(tx *bolt.Tx) error {
		v := bucket(tx, bucketMessageIDs).Get(key(string(ch), messageID))
		if v == nil || messageID == "" {
			return notify.NotFound("message", messageID)
		}
		return json.Unmarshal(v, &ref)
	})
	if err != nil {
		return notify.DeliveryRef{}, fmt.Errorf("find delivery of %s message: %w", ch, err)
	}
	return ref, nil
}

// RecordAnswer implements notify.Store.
func (s *Store) RecordAnswer(ctx context.Context, a notify.DeliveryAnswer) (bool, error) {
	changed, err := s.changeDelivery(a.DeliveryRef, func(_ *bolt.Tx, d *notify.Delivery) (bool, error) {
		if d.AnsweredAt != nil && !a.At.After(*d.AnsweredAt) {
			return false, nil
		}
		at := a.At.UTC()
		d.Answer, d.AnsweredAt = a.Answer, &at
		return true, nil
	})
	if err != nil {
		return false, fmt.Errorf("record answer on delivery %s of %s: %w", a.Key, a.NotificationID, err)
	}
	return changed, nil
}
