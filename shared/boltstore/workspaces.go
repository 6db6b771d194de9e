package boltstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// apiKeyRecord keeps the fields notify.APIKey hides from JSON.
type apiKeyRecord struct {
	notify.APIKey
	WorkspaceID string `json:"workspaceId"`
	Hash        string `json:"hash"`
}

func (r apiKeyRecord) key() notify.APIKey {
	k := r.APIKey
	k.WorkspaceID, k.Hash = r.WorkspaceID, r.Hash
	return k
}

// CreateWorkspace implements notify.Store.
func (s *Store) CreateWorkspace(ctx context.Context, w notify.Workspace) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketWorkspaces)
		k := key(w.ID)
		if b.Get(k) != nil {
			return notify.Errorf(notify.CodeConflict, "workspace %q exists", w.ID)
		}
		return putJSON(b, k, w)
	})
	if err != nil {
		return fmt.Errorf("create workspace %s: %w", w.ID, err)
	}
	return nil
}

// GetWorkspace implements notify.Store.
func (s *Store) GetWorkspace(ctx context.Context, id string) (notify.Workspace, error) {
	var w notify.Workspace
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(bucket(tx, bucketWorkspaces), key(id), &w)
		if err == nil && !ok {
			err = notify.NotFound("workspace", id)
		}
		return err
	})
	if err != nil {
		return notify.Workspace{}, fmt.Errorf("get workspace %s: %w", id, err)
	}
	return w, nil
}

// CreateAPIKey implements notify.Store. A second key with the same hash is a
// conflict too, so a hash always finds exactly one key.
func (s *Store) CreateAPIKey(ctx context.Context, k notify.APIKey) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, hashes := bucket(tx, bucketAPIKeys), bucket(tx, bucketAPIKeyHashes)
		kk := key(k.WorkspaceID, k.ID)
		if b.Get(kk) != nil {
			return notify.Errorf(notify.CodeConflict, "api key %q exists", k.ID)
		}
		if hashes.Get([]byte(k.Hash)) != nil {
			return notify.Errorf(notify.CodeConflict, "an api key with this secret exists")
		}
		if err := hashes.Put([]byte(k.Hash), kk); err != nil {
			return err
		}
		return putJSON(b, kk, apiKeyRecord{APIKey: k, WorkspaceID: k.WorkspaceID, Hash: k.Hash})
	})
	if err != nil {
		return fmt.Errorf("create api key %s: %w", k.ID, err)
	}
	return nil
}

// GetAPIKeyByHash implements notify.Store.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (notify.APIKey, error) {
	var r apiKeyRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		kk := bucket(tx, bucketAPIKeyHashes).Get([]byte(hash))
		if kk == nil {
			return notify.Errorf(notify.CodeNotFound, "api key not found")
		}
		ok, err := getJSON(bucket(tx, bucketAPIKeys), kk, &r)
		if err == nil && !ok {
			err = notify.Errorf(notify.CodeNotFound, "api key not found")
		}
		return err
	})
	if err != nil {
		return notify.APIKey{}, fmt.Errorf("get api key by hash: %w", err)
	}
	return r.key(), nil
}

// ListAPIKeys implements notify.Store.
func (s *Store) ListAPIKeys(ctx context.Context, workspaceID string) ([]notify.APIKey, error) {
	var keys []notify.APIKey
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, v := range entries(bucket(tx, bucketAPIKeys), prefix(workspaceID), "", false) {
			var r apiKeyRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			keys = append(keys, r.key())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list api keys of %s: %w", workspaceID, err)
	}
	slices.SortStableFunc(keys, func(a, b notify.APIKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return keys, nil
}

// RevokeAPIKey implements notify.Store.
func (s *Store) RevokeAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketAPIKeys)
		kk := key(workspaceID, id)
		var r apiKeyRecord
		ok, err := getJSON(b, kk, &r)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("api key", id)
		}
		r.RevokedAt = &at
		return putJSON(b, kk, r)
	})
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	return nil
}

// TouchAPIKey implements notify.Store.
func (s *Store) TouchAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketAPIKeys)
		kk := key(workspaceID, id)
		var r apiKeyRecord
		ok, err := getJSON(b, kk, &r)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("api key", id)
		}
		r.LastUsedAt = &at
		return putJSON(b, kk, r)
	})
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}
