package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// userRecord keeps the fields notify.User hides from JSON.
type userRecord struct {
	notify.User
	SealKey []byte `json:"sealKey,omitempty"`
	Version int64  `json:"version"`
}

func newUserRecord(u notify.User) userRecord {
	return userRecord{User: u, SealKey: u.SealKey, Version: u.Version}
}

func (r userRecord) user(workspaceID string) notify.User {
	u := r.User
	u.WorkspaceID, u.SealKey, u.Version = workspaceID, r.SealKey, r.Version
	return u
}

func getUser(b *bolt.Bucket, workspaceID, id string) (notify.User, bool, error) {
	var r userRecord
	ok, err := getJSON(b, key(workspaceID, id), &r)
	if err != nil || !ok {
		return notify.User{}, false, err
	}
	return r.user(workspaceID), true, nil
}

// putUser stores u and keeps the phone index in step: oldPhone is the
// phone stored before ("" for a new user).
func putUser(tx *bolt.Tx, oldPhone string, u notify.User) error {
	if err := syncPhone(tx, u.WorkspaceID, u.ID, oldPhone, u.Phone); err != nil {
		return err
	}
	return putJSON(bucket(tx, bucketUsers), key(u.WorkspaceID, u.ID), newUserRecord(u))
}

// syncPhone moves a user's entry in the phone index (phone, ws, id).
func syncPhone(tx *bolt.Tx, workspaceID, id, oldPhone, newPhone string) error {
	if oldPhone == newPhone {
		return nil
	}
	phones := bucket(tx, bucketPhones)
	if oldPhone != "" {
		if err := phones.Delete(key(oldPhone, workspaceID, id)); err != nil {
			return err
		}
	}
	if newPhone != "" {
		return phones.Put(key(newPhone, workspaceID, id), []byte{})
	}
	return nil
}

// FindUsersByPhone implements notify.Store from the phone index.
func (s *Store) FindUsersByPhone(ctx context.Context, phone string) ([]notify.UserRef, error) {
	var refs []notify.UserRef
	err := s.db.View(func(tx *bolt.Tx) error {
		pre := prefix(phone)
		c := bucket(tx, bucketPhones).Cursor()
		for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c.Next() {
			ws, id, ok := bytes.Cut(k[len(pre):], []byte{sep})
			if ok {
				refs = append(refs, notify.UserRef{WorkspaceID: string(ws), ID: string(id)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find users by phone: %w", err)
	}
	return refs, nil
}

// PutUser implements notify.Store.
func (s *Store) PutUser(ctx context.Context, u notify.User) (notify.User, error) {
	var out notify.User
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketUsers)
		old, ok, err := getUser(b, u.WorkspaceID, u.ID)
		if err != nil {
			return err
		}
		oldPhone := old.Phone
		if !ok {
			oldPhone = ""
			out = u
			if out.PushPermission == "" {
				out.PushPermission = notify.PermissionAsk
			}
			out.Version = 1
		} else {
			out = old
			out.Name, out.Email, out.Phone = u.Name, u.Email, u.Phone
			out.Status, out.Type = u.Status, u.Type
			out.Language, out.Timezone = u.Language, u.Timezone
			out.Attributes, out.Tags = u.Attributes, u.Tags
			out.UpdatedAt = u.UpdatedAt
			out.Version = old.Version + 1
		}
		return putUser(tx, oldPhone, out)
	})
	if err != nil {
		return notify.User{}, fmt.Errorf("put user %s: %w", u.ID, err)
	}
	return out, nil
}

// GetUser implements notify.Store.
func (s *Store) GetUser(ctx context.Context, workspaceID, id string) (notify.User, error) {
	var u notify.User
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		u, ok, err = getUser(bucket(tx, bucketUsers), workspaceID, id)
		if err == nil && !ok {
			err = notify.NotFound("user", id)
		}
		return err
	})
	if err != nil {
		return notify.User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// GetUsers implements notify.Store in one read transaction.
func (s *Store) GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]notify.User, error) {
	users := make(map[string]notify.User, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketUsers)
		for _, id := range ids {
			u, ok, err := getUser(b, workspaceID, id)
			if err != nil {
				return fmt.Errorf("user %s: %w", id, err)
			}
			if ok {
				users[id] = u
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	return users, nil
}

// UpdateUser implements notify.Store. bbolt has one writer at a time, so fn
// runs once, inside the write transaction: it must not call the Store.
// An error from fn is returned as it is.
func (s *Store) UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error) {
	var out notify.User
	var fnErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketUsers)
		u, ok, err := getUser(b, workspaceID, id)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("user", id)
		}
		version, oldPhone := u.Version, u.Phone
		if fnErr = fn(&u); fnErr != nil {
			return fnErr
		}
		u.WorkspaceID, u.ID, u.Version = workspaceID, id, version+1
		out = u
		return putUser(tx, oldPhone, u)
	})
	if fnErr != nil {
		return notify.User{}, fnErr
	}
	if err != nil {
		return notify.User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return out, nil
}

// DeleteUser implements notify.Store. The record holds everything personal,
// SealKey included, so deleting it is the erasure.
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketUsers)
		u, ok, err := getUser(b, workspaceID, id)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("user", id)
		}
		if err := syncPhone(tx, workspaceID, id, u.Phone, ""); err != nil {
			return err
		}
		if err := deleteInbox(tx, workspaceID, id); err != nil {
			return err
		}
		return b.Delete(key(workspaceID, id))
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// ListUsers implements notify.Store, in id order. It reads the workspace's
// users and filters them, which is fine at local sizes.
func (s *Store) ListUsers(ctx context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	if p.Segments > 1 && p.Limit > pg.limit {
		pg.limit = min(p.Limit, notify.MaxSegmentPageSize)
	}
	var users []notify.User
	raw := newRawFilter(f)
	err = s.db.View(func(tx *bolt.Tx) error {
		for k, v := range entries(bucket(tx, bucketUsers), prefix(workspaceID), after, false) {
			if !inSegment(string(k), p) {
				continue // another segment's, told by the key alone
			}
			if !raw.mayMatch(v) {
				continue // cannot match, told by the record's bytes
			}
			var r userRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("user %s: %w", k, err)
			}
			u := r.user(workspaceID)
			if !f.Matches(u) {
				continue
			}
			if !pg.take(k) {
				break
			}
			users = append(users, u)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list users of %s: %w", workspaceID, err)
	}
	return users, pg.next(), nil
}

// inSegment reports whether the user id falls in p's segment.
func inSegment(id string, p notify.Page) bool {
	if p.Segments <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32()%uint32(p.Segments)) == p.Segment
}
