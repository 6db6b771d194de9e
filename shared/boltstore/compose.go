package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	bolt "go.etcd.io/bbolt"
)

// Buckets of AI composition.
const (
	bucketComposeSettings = "composesettings" // ws → JSON notify.ComposeSettings
	bucketComposeUsage    = "composeusage"    // ws, day, model → JSON usageRecord
	bucketRates           = "rates"           // window (Unix seconds, %020d), ws, name → count (decimal)
)

// rateRetention is how long after its start a rate window is kept. Callers
// count in windows of a minute or so; a window an hour old is long over, and
// pruning it keeps the bucket from growing with every window ever used.
const rateRetention = time.Hour

// pruneBatch bounds the old windows one TakeRate deletes, so a call after a
// long idle spell stays quick; later calls delete the rest.
const pruneBatch = 1000

// usageRecord is the stored total of one workspace, day and model; the three
// are in the key.
type usageRecord struct {
	Requests     int64 `json:"requests"`
	InputTokens  int64 `json:"inputTokens"`
	OutputTokens int64 `json:"outputTokens"`
}

// GetComposeSettings implements notify.Store.
func (s *Store) GetComposeSettings(ctx context.Context, workspaceID string) (notify.ComposeSettings, error) {
	var cs notify.ComposeSettings
	err := s.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(bucket(tx, bucketComposeSettings), key(workspaceID), &cs)
		if err != nil {
			return err
		}
		if !ok {
			return notify.NotFound("compose settings", workspaceID)
		}
		return nil
	})
	if err != nil {
		return notify.ComposeSettings{}, fmt.Errorf("get compose settings of %s: %w", workspaceID, err)
	}
	cs.WorkspaceID = workspaceID
	return cs, nil
}

// PutComposeSettings implements notify.Store.
func (s *Store) PutComposeSettings(ctx context.Context, cs notify.ComposeSettings) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		return putJSON(bucket(tx, bucketComposeSettings), key(cs.WorkspaceID), cs)
	})
	if err != nil {
		return fmt.Errorf("put compose settings of %s: %w", cs.WorkspaceID, err)
	}
	return nil
}

// AddComposeUsage implements notify.Store: the read and the write of the
// total share one write transaction, and bbolt runs one at a time, so
// concurrent adds all count.
func (s *Store) AddComposeUsage(ctx context.Context, u notify.ComposeUsage) error {
	if err := notify.CheckDay("day", u.Day); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketComposeUsage)
		k := key(u.WorkspaceID, u.Day, u.Model)
		var r usageRecord
		if _, err := getJSON(b, k, &r); err != nil {
			return err
		}
		r.Requests += u.Requests
		r.InputTokens += u.InputTokens
		r.OutputTokens += u.OutputTokens
		return putJSON(b, k, r)
	})
	if err != nil {
		return fmt.Errorf("add compose usage of %s on %s: %w", u.WorkspaceID, u.Day, err)
	}
	return nil
}

// ListComposeUsage implements notify.Store with one seek: keys sort by
// workspace, day, then model.
func (s *Store) ListComposeUsage(ctx context.Context, workspaceID, from, to string) ([]notify.ComposeUsage, error) {
	if err := notify.CheckDay("from", from); err != nil {
		return nil, err
	}
	if err := notify.CheckDay("to", to); err != nil {
		return nil, err
	}
	usage := []notify.ComposeUsage{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketComposeUsage)
		for suffix, v := range entries(b, prefix(workspaceID), from, false) {
			// suffix is day, sep, model; days are fixed width.
			if len(suffix) <= len(time.DateOnly) || suffix[len(time.DateOnly)] != sep {
				return fmt.Errorf("compose usage key %q: not day, model", suffix)
			}
			day, model := string(suffix[:len(time.DateOnly)]), string(suffix[len(time.DateOnly)+1:])
			if day > to {
				break
			}
			var r usageRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("compose usage %s %s: %w", day, model, err)
			}
			usage = append(usage, notify.ComposeUsage{
				WorkspaceID: workspaceID, Day: day, Model: model,
				Requests: r.Requests, InputTokens: r.InputTokens, OutputTokens: r.OutputTokens,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list compose usage of %s: %w", workspaceID, err)
	}
	return usage, nil
}

// rateWindow is the key part of a window: Unix seconds, zero-padded so that
// keys sort by window (as the DynamoDB adapter, it tells windows apart by
// the second).
func rateWindow(window time.Time) string {
	return fmt.Sprintf("%020d", window.Unix())
}

// TakeRate implements notify.Store: the count is read and written in one
// write transaction, so concurrent takes never pass the limit. Keys lead
// with the window, and the same transaction deletes windows older than
// rateRetention, a seek from the first key.
func (s *Store) TakeRate(ctx context.Context, workspaceID, name string, window time.Time, limit int) (bool, error) {
	if limit <= 0 {
		return false, nil
	}
	taken := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := bucket(tx, bucketRates)
		// Never prune the window being counted, even when the caller's
		// clock is behind the store's: its limit must hold.
		cutoff := min(s.clock().Add(-rateRetention).Unix(), window.Unix())
		if err := pruneRates(b, cutoff); err != nil {
			return err
		}
		k := key(rateWindow(window), workspaceID, name)
		n := int64(0)
		if v := b.Get(k); v != nil {
			var err error
			if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
				return fmt.Errorf("rate count %q: %w", v, err)
			}
		}
		if n >= int64(limit) {
			return nil
		}
		taken = true
		return b.Put(k, strconv.AppendInt(nil, n+1, 10))
	})
	if err != nil {
		return false, fmt.Errorf("take rate %s of %s: %w", name, workspaceID, err)
	}
	return taken, nil
}

// pruneRates deletes up to pruneBatch counts of windows that started before
// cutoff (Unix seconds). Keys lead with the window, so they are the first.
func pruneRates(b *bolt.Bucket, cutoff int64) error {
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(old) < pruneBatch; k, _ = c.Next() {
		w, _, _ := bytes.Cut(k, []byte{sep})
		start, err := strconv.ParseInt(string(w), 10, 64)
		if err != nil {
			return fmt.Errorf("rate key %q: %w", k, err)
		}
		if start >= cutoff {
			break
		}
		old = append(old, bytes.Clone(k)) // a delete may move the page k points into
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("prune rate window: %w", err)
		}
	}
	return nil
}
