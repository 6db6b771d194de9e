package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// uploadRecord keeps the fields notify.Upload hides from JSON.
type uploadRecord struct {
	notify.Upload
	ObjectKey string        `json:"objectKey,omitempty"`
	ETag      string        `json:"etag,omitempty"`
	Version   int64         `json:"version"`
	Origin    notify.Origin `json:"origin,omitempty"`
}

func newUploadRecord(u notify.Upload) uploadRecord {
	return uploadRecord{Upload: u, ObjectKey: u.ObjectKey, ETag: u.ETag, Version: u.Version, Origin: u.Origin}
}

func (r uploadRecord) upload(workspaceID string) notify.Upload {
	u := r.Upload
	u.WorkspaceID, u.ObjectKey, u.ETag, u.Version, u.Origin = workspaceID, r.ObjectKey, r.ETag, r.Version, r.Origin
	return u
}

func getUpload(b *bolt.Bucket, workspaceID, id string) (notify.Upload, error) {
	var r uploadRecord
	ok, err := getJSON(b, key(workspaceID, id), &r)
	if err != nil {
		return notify.Upload{}, err
	}
	if !ok {
		return notify.Upload{}, notify.NotFound("upload", id)
	}
	return r.upload(workspaceID), nil
}

// CreateUpload implements notify.Store; the upload is stored at Version 1,
// its first write.
func (s *Store) CreateUpload(ctx context.Context, u notify.Upload) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketUploads)
		k := key(u.WorkspaceID, u.ID)
		if b.Get(k) != nil {
			return notify.Errorf(notify.CodeConflict, "upload %q exists", u.ID)
		}
		u.Version = 1
		return putJSON(b, k, newUploadRecord(u))
	})
	if err != nil {
		return fmt.Errorf("create upload %s: %w", u.ID, err)
	}
	return nil
}

// GetUpload implements notify.Store.
func (s *Store) GetUpload(ctx context.Context, workspaceID, id string) (notify.Upload, error) {
	var u notify.Upload
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		u, err = getUpload(bucket(tx, bucketUploads), workspaceID, id)
		return err
	})
	if err != nil {
		return notify.Upload{}, fmt.Errorf("get upload %s: %w", id, err)
	}
	return u, nil
}

// UpdateUpload implements notify.Store. bbolt has one writer at a time, so
// fn runs once, inside the write transaction: it must not call the Store.
// An error from fn is returned as it is and nothing is written.
func (s *Store) UpdateUpload(ctx context.Context, workspaceID, id string, fn func(*notify.Upload) error) (notify.Upload, error) {
	var out notify.Upload
	var fnErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketUploads)
		u, err := getUpload(b, workspaceID, id)
		if err != nil {
			return err
		}
		version := u.Version
		if fnErr = fn(&u); fnErr != nil {
			return fnErr
		}
		u.WorkspaceID, u.ID, u.Version = workspaceID, id, version+1
		out = u
		return putJSON(b, key(workspaceID, id), newUploadRecord(u))
	})
	if fnErr != nil {
		return notify.Upload{}, fnErr
	}
	if err != nil {
		return notify.Upload{}, fmt.Errorf("update upload %s: %w", id, err)
	}
	return out, nil
}

// ListUploads implements notify.Store: upload ids are ULIDs, so walking the
// workspace's keys backwards is newest first.
func (s *Store) ListUploads(ctx context.Context, workspaceID string, p notify.Page) ([]notify.Upload, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	var uploads []notify.Upload
	err = s.db.View(func(tx *bolt.Tx) error {
		for id, v := range entries(bucket(tx, bucketUploads), prefix(workspaceID), after, true) {
			var r uploadRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("upload %s: %w", id, err)
			}
			if !pg.take(id) {
				break
			}
			uploads = append(uploads, r.upload(workspaceID))
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list uploads of %s: %w", workspaceID, err)
	}
	return uploads, pg.next(), nil
}
