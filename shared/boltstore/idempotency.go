package boltstore

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// getIdempotency reads the record of key k; the workspace is in the bucket
// key, not in the value.
func getIdempotency(b *bolt.Bucket, workspaceID, k string) (notify.IdempotencyRecord, bool, error) {
	var rec notify.IdempotencyRecord
	ok, err := getJSON(b, key(workspaceID, k), &rec)
	rec.WorkspaceID = workspaceID
	return rec, ok, err
}

// ClaimIdempotencyKey implements notify.Store. A record is expired once the
// store's clock reaches its ExpiresAt.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec notify.IdempotencyRecord) (notify.IdempotencyRecord, bool, error) {
	stored, claimed := rec, true
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketIdempotency)
		old, ok, err := getIdempotency(b, rec.WorkspaceID, rec.Key)
		if err != nil {
			return err
		}
		if ok && s.clock().Before(old.ExpiresAt) {
			stored, claimed = old, false
			return nil
		}
		return putJSON(b, key(rec.WorkspaceID, rec.Key), rec)
	})
	if err != nil {
		return notify.IdempotencyRecord{}, false, fmt.Errorf("claim idempotency key: %w", err)
	}
	return stored, claimed, nil
}

// CompleteIdempotencyKey implements notify.Store: rec replaces the claim,
// which must still be there (not_found otherwise).
func (s *Store) CompleteIdempotencyKey(ctx context.Context, rec notify.IdempotencyRecord) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketIdempotency)
		k := key(rec.WorkspaceID, rec.Key)
		if b.Get(k) == nil {
			return notify.Errorf(notify.CodeNotFound, "idempotency key not claimed")
		}
		return putJSON(b, k, rec)
	})
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// ReleaseIdempotencyKey implements notify.Store; releasing a key that is not
// claimed does nothing.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, workspaceID, k string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return bucket(tx, bucketIdempotency).Delete(key(workspaceID, k))
	})
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}
