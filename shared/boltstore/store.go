// Package boltstore is the embedded notify.Store: one bbolt file holds every
// workspace, so local mode runs with no AWS account and no server.
//
// Each entity lives in its own bucket under keys that start with the
// workspace id, so every list is a prefix seek and nothing can be read
// through another workspace's prefix. Deliveries are keyed workspace,
// notification, recipient key: listing a notification's recipients is one
// seek and recording a batch of them is one transaction. The history keeps an
// inverted index (term → notification ids in ULID, that is time, order) so a
// search reads the postings of one term instead of the whole history. A
// user's in-app inbox is keyed workspace, user, message id (inbox.go).
// Values are JSON.
package boltstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// Bucket names. Keys inside them are key(workspaceID, ...).
const (
	bucketWorkspaces    = "workspaces"    // id
	bucketAPIKeys       = "apikeys"       // ws, id
	bucketAPIKeyHashes  = "apikeyhashes"  // hash → key(ws, id)
	bucketUsers         = "users"         // ws, id
	bucketTemplates     = "templates"     // ws, id → latest version
	bucketTemplateVers  = "templatevers"  // ws, id, version (%010d)
	bucketNotifications = "notifications" // ws, id (a ULID)
	bucketTerms         = "terms"         // ws, term, notification id → empty
	bucketDeliveries    = "deliveries"    // ws, notification id, recipient key
	bucketIdempotency   = "idempotency"   // ws, key
	bucketOutbox        = "outbox"        // ws, entry id (a ULID)
	bucketOutboxKeys    = "outboxkeys"    // ws, notification, recipient key, channel → entry id
	bucketCountMarks    = "countmarks"    // ws, notification, chunk → empty: parts already counted
	bucketPhones        = "phones"        // phone, ws, user id → empty: who has a phone, across workspaces
	bucketMessageIDs    = "messageids"    // channel, provider message id → JSON notify.DeliveryRef
	bucketUploads       = "uploads"       // ws, id (a ULID)
)

var allBuckets = [...]string{
	bucketWorkspaces, bucketAPIKeys, bucketAPIKeyHashes, bucketUsers,
	bucketTemplates, bucketTemplateVers, bucketNotifications, bucketTerms,
	bucketDeliveries, bucketIdempotency, bucketOutbox, bucketOutboxKeys,
	bucketCountMarks, bucketPhones, bucketMessageIDs, bucketUploads,
	bucketCampaigns, bucketRuns, bucketComposeSettings, bucketComposeUsage, bucketRates,
	bucketOperators, bucketOperatorEmails, bucketSessions, bucketOperatorSessions,
	bucketOperatorTokens, bucketAudit, bucketConsoleSettings,
	bucketInbox, bucketInboxNotes, bucketInboxState,
}

// sep separates the parts of a key. Ids, terms and recipient keys never
// contain a NUL byte, so a workspace's prefix "ws\x00" cannot match "ws2".
const sep = 0

// Store is the embedded notify.Store, plus the local outbox. It is safe for
// concurrent use; bbolt serializes writers and lets readers run alongside.
type Store struct {
	db    *bolt.DB
	group *group // group commit of the hot writes
	now   func() time.Time
	ids   notify.IDs // outbox entry ids
	// stopRelease ends the loop that gives back the file's resident pages
	// (resident.go); released is closed when it has.
	stopRelease, released chan struct{}
}

var (
	_ notify.Store  = (*Store)(nil)
	_ notify.Outbox = (*Store)(nil)
)

type options struct {
	noSync bool
	now    func() time.Time
}

// Option configures Open.
type Option func(*options)

// WithNoSync skips the fsync after every commit, which makes writes several
// times faster. The committed data is then in the OS page cache, not yet on
// disk: it survives the process being killed (even kill -9), but a power
// loss or a kernel crash may lose the last commits or, rarely, corrupt the
// file. Fine for a developer's machine; leave it off for data that matters.
func WithNoSync() Option {
	return func(o *options) { o.noSync = true }
}

// WithClock sets the clock that decides whether an idempotency record has
// expired and that stamps UpdatedAt on status and count changes and the
// CreatedAt of outbox entries; time.Now by default.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Open opens (creating if needed) the store in the bbolt file at path. Only
// one process may hold the file: a second Open fails after a second.
// Commits are fsynced unless WithNoSync is given.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      time.Second,
		NoSync:       o.noSync,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, group: startGroup(db), now: o.now, stopRelease: make(chan struct{}), released: make(chan struct{})}
	go releaseLoop(db, s.stopRelease, s.released)
	return s, nil
}

// Close closes the file; the Store must not be used afterwards.
func (s *Store) Close() error {
	close(s.stopRelease)
	<-s.released
	s.group.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// clock is now as the store records it: UTC, to the millisecond, as the
// DynamoDB adapter keeps it.
func (s *Store) clock() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}

// key joins parts with sep.
func key(parts ...string) []byte {
	n := len(parts)
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, sep)
		}
		b = append(b, p...)
	}
	return b
}

// prefix is key(parts...) followed by sep: the keys of everything under parts.
func prefix(parts ...string) []byte {
	return append(key(parts...), sep)
}

// entries yields the keys under pre (without pre) and their values, in key
// order or in reverse, starting after the key suffix after (from the first
// or last one when after is empty). Keys and values are valid only inside the
// transaction.
func entries(b *bolt.Bucket, pre []byte, after string, reverse bool) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		c := b.Cursor()
		var k, v []byte
		start := append(append(make([]byte, 0, len(pre)+len(after)+1), pre...), after...)
		switch {
		case !reverse:
			k, v = c.Seek(start)
			if after != "" && bytes.Equal(k, start) {
				k, v = c.Next()
			}
		default:
			if after == "" {
				start = append(start, 0xff) // above every UTF-8 suffix
			}
			if k, _ = c.Seek(start); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for k != nil && bytes.HasPrefix(k, pre) {
			if !yield(k[len(pre):], v) {
				return
			}
			if reverse {
				k, v = c.Prev()
			} else {
				k, v = c.Next()
			}
		}
	}
}

// pageLimit applies the port's page size bounds.
func pageLimit(p notify.Page) int {
	switch {
	case p.Limit <= 0:
		return notify.DefaultPageSize
	case p.Limit > notify.MaxPageSize:
		return notify.MaxPageSize
	}
	return p.Limit
}

// A cursor is the sort key of the last item of a page, base64 so it reads as
// an opaque token.
func encodeCursor(sortKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(sortKey))
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", notify.Invalid(notify.FieldError{Field: "cursor", Problem: "not a cursor of this list"})
	}
	return string(b), nil
}

// page collects up to limit items accepted by visit, looking one further to
// know whether there is a next page. visit decodes the entry and reports
// whether it belongs to the page; the cursor is the last accepted suffix.
type page struct {
	limit int
	n     int
	last  string
	more  bool
}

// take reports whether an accepted item still fits; when it does not, the
// page is full and has a next page.
func (p *page) take(suffix []byte) bool {
	if p.n == p.limit {
		p.more = true
		return false
	}
	p.n++
	p.last = string(suffix)
	return true
}

func (p *page) next() string {
	if !p.more {
		return ""
	}
	return encodeCursor(p.last)
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

// getJSON decodes the value at k into v and reports whether there was one.
func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	return true, json.Unmarshal(data, v)
}

func bucket(tx *bolt.Tx, name string) *bolt.Bucket {
	return tx.Bucket([]byte(name))
}
