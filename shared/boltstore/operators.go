package boltstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// Buckets of the console's operators; allBuckets creates them. Sessions and
// links are found by their hash alone (a cookie or a link names no
// workspace), so their keys carry none; the session index, by workspace and
// operator, is what ends all of one operator's sessions.
const (
	bucketOperators        = "operators"        // ws, id
	bucketOperatorEmails   = "operatoremails"   // lower-case email → key(ws, id)
	bucketSessions         = "sessions"         // session id
	bucketOperatorSessions = "operatorsessions" // ws, operator id, session id → empty
	bucketOperatorTokens   = "operatortokens"   // token hash
	bucketAudit            = "audit"            // ws, id (a ULID)
)

// operatorRecord keeps the fields notify.Operator hides from JSON; the
// workspace is in the key.
type operatorRecord struct {
	notify.Operator
	PasswordHash string `json:"passwordHash,omitempty"`
}

func (r operatorRecord) operator(workspaceID string) notify.Operator {
	o := r.Operator
	o.WorkspaceID, o.PasswordHash = workspaceID, r.PasswordHash
	return o
}

func getOperator(b *bolt.Bucket, workspaceID, id string) (notify.Operator, bool, error) {
	var r operatorRecord
	ok, err := getJSON(b, key(workspaceID, id), &r)
	if err != nil || !ok {
		return notify.Operator{}, false, err
	}
	return r.operator(workspaceID), true, nil
}

// CreateOperator implements notify.Store: the operator and the claim on its
// email are written in one transaction.
func (s *Store) CreateOperator(ctx context.Context, o notify.Operator) error {
	o.Email = strings.ToLower(o.Email)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, emails := bucket(tx, bucketOperators), bucket(tx, bucketOperatorEmails)
		k := key(o.WorkspaceID, o.ID)
		if b.Get(k) != nil {
			return notify.Errorf(notify.CodeConflict, "operator %q exists", o.ID)
		}
		if emails.Get([]byte(o.Email)) != nil {
			return notify.Errorf(notify.CodeConflict, "an operator with this email exists")
		}
		if err := emails.Put([]byte(o.Email), k); err != nil {
			return err
		}
		return putJSON(b, k, operatorRecord{Operator: o, PasswordHash: o.PasswordHash})
	})
	if err != nil {
		return fmt.Errorf("create operator %s: %w", o.ID, err)
	}
	return nil
}

// GetOperator implements notify.Store.
func (s *Store) GetOperator(ctx context.Context, workspaceID, id string) (notify.Operator, error) {
	var o notify.Operator
	err := s.db.View(func(tx *bolt.Tx) error {
		var ok bool
		var err error
		o, ok, err = getOperator(bucket(tx, bucketOperators), workspaceID, id)
		if err == nil && !ok {
			err = notify.NotFound("operator", id)
		}
		return err
	})
	if err != nil {
		return notify.Operator{}, fmt.Errorf("get operator %s: %w", id, err)
	}
	return o, nil
}

// GetOperatorByEmail implements notify.Store: the email index names the
// operator's key.
func (s *Store) GetOperatorByEmail(ctx context.Context, email string) (notify.Operator, error) {
	var o notify.Operator
	err := s.db.View(func(tx *bolt.Tx) error {
		k := bucket(tx, bucketOperatorEmails).Get([]byte(strings.ToLower(email)))
		if k == nil {
			return notify.Errorf(notify.CodeNotFound, "operator not found")
		}
		var r operatorRecord
		ok, err := getJSON(bucket(tx, bucketOperators), k, &r)
		if err == nil && !ok {
			err = notify.Errorf(notify.CodeNotFound, "operator not found")
		}
		workspaceID, _, _ := strings.Cut(string(k), string(rune(sep)))
		o = r.operator(workspaceID)
		return err
	})
	if err != nil {
		return notify.Operator{}, fmt.Errorf("get operator by email: %w", err)
	}
	return o, nil
}

// ListOperators implements notify.Store: a workspace has few operators, so
// they are sorted in memory.
func (s *Store) ListOperators(ctx context.Context, workspaceID string) ([]notify.Operator, error) {
	var ops []notify.Operator
	err := s.db.View(func(tx *bolt.Tx) error {
		for id, v := range entries(bucket(tx, bucketOperators), prefix(workspaceID), "", false) {
			var r operatorRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("operator %s: %w", id, err)
			}
			ops = append(ops, r.operator(workspaceID))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list operators of %s: %w", workspaceID, err)
	}
	slices.SortStableFunc(ops, func(a, b notify.Operator) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return ops, nil
}

// UpdateOperator implements notify.Store. bbolt has one writer at a time, so
// fn runs once, inside the write transaction: it must not call the Store.
func (s *Store) UpdateOperator(ctx context.Context, workspaceID, id string, fn func(*notify.Operator) error) (notify.Operator, error) {
	var out notify.Operator
	var fnErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketOperators)
		o, ok, err := getOperator(b, workspaceID, id)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("operator", id)
		}
		email := o.Email
		if fnErr = fn(&o); fnErr != nil {
			return fnErr
		}
		if err := operatorIdentityKept(o, workspaceID, id, email); err != nil {
			return err
		}
		out = o
		return putJSON(b, key(workspaceID, id), operatorRecord{Operator: o, PasswordHash: o.PasswordHash})
	})
	if fnErr != nil {
		return notify.Operator{}, fnErr
	}
	if err != nil {
		return notify.Operator{}, fmt.Errorf("update operator %s: %w", id, err)
	}
	return out, nil
}

// operatorIdentityKept refuses an update that changed what the port says
// an update may not: the id, the workspace, the email.
func operatorIdentityKept(o notify.Operator, workspaceID, id, email string) error {
	switch {
	case o.ID != id:
		return notify.Invalid(notify.FieldError{Field: "id", Problem: "an operator's id cannot change"})
	case o.WorkspaceID != workspaceID:
		return notify.Invalid(notify.FieldError{Field: "workspaceId", Problem: "an operator's workspace cannot change"})
	case o.Email != email:
		return notify.Invalid(notify.FieldError{Field: "email", Problem: "an operator's email cannot change"})
	}
	return nil
}

// DeleteOperator implements notify.Store: the operator, its email claim and
// its sessions go in one transaction.
func (s *Store) DeleteOperator(ctx context.Context, workspaceID, id string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketOperators)
		o, ok, err := getOperator(b, workspaceID, id)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("operator", id)
		}
		if err := bucket(tx, bucketOperatorEmails).Delete([]byte(o.Email)); err != nil {
			return err
		}
		if err := deleteOperatorSessions(tx, workspaceID, id, nil); err != nil {
			return err
		}
		return b.Delete(key(workspaceID, id))
	})
	if err != nil {
		return fmt.Errorf("delete operator %s: %w", id, err)
	}
	return nil
}

// sessionRecord is a notify.Session as stored.
type sessionRecord struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspaceId"`
	OperatorID  string    `json:"operatorId"`
	CSRF        string    `json:"csrf"`
	CreatedAt   time.Time `json:"createdAt"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// CreateSession implements notify.Store. It also forgets the operator's
// expired sessions, so that they do not pile up on disk: GetSession never
// answers with them anyway.
func (s *Store) CreateSession(ctx context.Context, sess notify.Session) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketSessions)
		if b.Get([]byte(sess.ID)) != nil {
			return notify.Errorf(notify.CodeConflict, "session exists")
		}
		now := s.clock()
		if err := deleteOperatorSessions(tx, sess.WorkspaceID, sess.OperatorID, func(r sessionRecord) bool {
			return !now.Before(r.ExpiresAt)
		}); err != nil {
			return err
		}
		if err := bucket(tx, bucketOperatorSessions).Put(key(sess.WorkspaceID, sess.OperatorID, sess.ID), nil); err != nil {
			return err
		}
		return putJSON(b, []byte(sess.ID), sessionRecord(sess))
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// GetSession implements notify.Store. A session is over from its ExpiresAt
// by the store's clock, or when its operator is gone.
func (s *Store) GetSession(ctx context.Context, id string) (notify.Session, error) {
	var r sessionRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(bucket(tx, bucketSessions), []byte(id), &r)
		if err != nil {
			return err
		}
		if !ok || !s.clock().Before(r.ExpiresAt) || bucket(tx, bucketOperators).Get(key(r.WorkspaceID, r.OperatorID)) == nil {
			return notify.Errorf(notify.CodeNotFound, "session not found")
		}
		return nil
	})
	if err != nil {
		return notify.Session{}, fmt.Errorf("get session: %w", err)
	}
	return notify.Session(r), nil
}

// DeleteSession implements notify.Store.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketSessions)
		var r sessionRecord
		ok, err := getJSON(b, []byte(id), &r)
		if err != nil || !ok {
			return err
		}
		if err := bucket(tx, bucketOperatorSessions).Delete(key(r.WorkspaceID, r.OperatorID, id)); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteOperatorSessions implements notify.Store from the session index.
func (s *Store) DeleteOperatorSessions(ctx context.Context, workspaceID, operatorID string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return deleteOperatorSessions(tx, workspaceID, operatorID, nil)
	})
	if err != nil {
		return fmt.Errorf("delete sessions of operator %s: %w", operatorID, err)
	}
	return nil
}

// deleteOperatorSessions deletes the operator's sessions that match (all
// of them when match is nil), and their index entries.
func deleteOperatorSessions(tx *bolt.Tx, workspaceID, operatorID string, match func(sessionRecord) bool) error {
	sessions, index := bucket(tx, bucketSessions), bucket(tx, bucketOperatorSessions)
	pre := prefix(workspaceID, operatorID)
	var ids []string
	for id := range entries(index, pre, "", false) {
		ids = append(ids, string(id))
	}
	for _, id := range ids {
		if match != nil {
			var r sessionRecord
			ok, err := getJSON(sessions, []byte(id), &r)
			if err != nil {
				return fmt.Errorf("session of operator %s: %w", operatorID, err)
			}
			if ok && !match(r) {
				continue
			}
		}
		if err := sessions.Delete([]byte(id)); err != nil {
			return err
		}
		if err := index.Delete(key(workspaceID, operatorID, id)); err != nil {
			return err
		}
	}
	return nil
}

// tokenRecord is a notify.OperatorToken as stored.
type tokenRecord struct {
	Hash        string           `json:"hash"`
	WorkspaceID string           `json:"workspaceId"`
	Kind        notify.TokenKind `json:"kind"`
	Email       string           `json:"email,omitempty"`
	Role        notify.Role      `json:"role,omitempty"`
	OperatorID  string           `json:"operatorId,omitempty"`
	CreatedBy   string           `json:"createdBy,omitempty"`
	CreatedAt   time.Time        `json:"createdAt"`
	ExpiresAt   time.Time        `json:"expiresAt"`
}

// CreateOperatorToken implements notify.Store. It also forgets the links
// that expired by the store's clock: links are few (invitations, resets),
// so the walk is short, and no use can answer with them anyway.
func (s *Store) CreateOperatorToken(ctx context.Context, t notify.OperatorToken) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketOperatorTokens)
		if b.Get([]byte(t.Hash)) != nil {
			return notify.Errorf(notify.CodeConflict, "one-time link exists")
		}
		now := s.clock()
		var expired [][]byte
		for k, v := range entries(b, nil, "", false) {
			var r tokenRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("one-time link: %w", err)
			}
			if !now.Before(r.ExpiresAt) {
				expired = append(expired, append([]byte(nil), k...))
			}
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return putJSON(b, []byte(t.Hash), tokenRecord(t))
	})
	if err != nil {
		return fmt.Errorf("create one-time link: %w", err)
	}
	return nil
}

// getToken reads the link of hash that is valid at now.
func getToken(b *bolt.Bucket, hash string, now time.Time) (notify.OperatorToken, error) {
	var r tokenRecord
	ok, err := getJSON(b, []byte(hash), &r)
	if err != nil {
		return notify.OperatorToken{}, err
	}
	if !ok || !now.Before(r.ExpiresAt) {
		return notify.OperatorToken{}, notify.Errorf(notify.CodeNotFound, "one-time link not found")
	}
	return notify.OperatorToken(r), nil
}

// UseOperatorToken implements notify.Store: the read and the delete are one
// write transaction, and bbolt runs one at a time, so only one use finds
// the link.
func (s *Store) UseOperatorToken(ctx context.Context, hash string, now time.Time) (notify.OperatorToken, error) {
	var t notify.OperatorToken
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketOperatorTokens)
		var err error
		if t, err = getToken(b, hash, now); err != nil {
			return err
		}
		return b.Delete([]byte(hash))
	})
	if err != nil {
		return notify.OperatorToken{}, fmt.Errorf("use one-time link: %w", err)
	}
	return t, nil
}

// PeekOperatorToken implements notify.Store.
func (s *Store) PeekOperatorToken(ctx context.Context, hash string, now time.Time) (notify.OperatorToken, error) {
	var t notify.OperatorToken
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		t, err = getToken(bucket(tx, bucketOperatorTokens), hash, now)
		return err
	})
	if err != nil {
		return notify.OperatorToken{}, fmt.Errorf("peek one-time link: %w", err)
	}
	return t, nil
}

// AppendAudit implements notify.Store. The entry's JSON hides only the
// workspace, which is in the key.
func (s *Store) AppendAudit(ctx context.Context, e notify.AuditEntry) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketAudit)
		k := key(e.WorkspaceID, e.ID)
		if b.Get(k) != nil {
			return notify.Errorf(notify.CodeConflict, "audit entry %q exists", e.ID)
		}
		return putJSON(b, k, e)
	})
	if err != nil {
		return fmt.Errorf("append audit entry %s: %w", e.ID, err)
	}
	return nil
}

// ListAudit implements notify.Store: entry ids are ULIDs, so walking the
// workspace's keys backwards is newest first.
func (s *Store) ListAudit(ctx context.Context, workspaceID string, p notify.Page) ([]notify.AuditEntry, string, error) {
	after, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pg := page{limit: pageLimit(p)}
	var out []notify.AuditEntry
	err = s.db.View(func(tx *bolt.Tx) error {
		for id, v := range entries(bucket(tx, bucketAudit), prefix(workspaceID), after, true) {
			var e notify.AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("audit entry %s: %w", id, err)
			}
			if !pg.take(id) {
				break
			}
			e.WorkspaceID = workspaceID
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit of %s: %w", workspaceID, err)
	}
	return out, pg.next(), nil
}
