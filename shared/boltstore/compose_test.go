package boltstore

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"
)

// rateWindows lists the windows (as offsets from t0) the rates bucket
// holds, one per counter, in key order.
func rateWindows(t *testing.T, s *Store, t0 time.Time) []time.Duration {
	t.Helper()
	var got []time.Duration
	err := s.db.View(func(tx *bolt.Tx) error {
		return bucket(tx, bucketRates).ForEach(func(k, _ []byte) error {
			w, _, _ := bytes.Cut(k, []byte{sep})
			sec, err := strconv.ParseInt(string(w), 10, 64)
			if err != nil {
				return err
			}
			got = append(got, time.Unix(sec, 0).Sub(t0))
			return nil
		})
	})
	if err != nil {
		t.Fatalf("read rates bucket: %v", err)
	}
	return got
}

// Old windows are deleted, so the bucket holds about an hour of windows
// however long the store runs; the window being counted never is.
func TestTakeRatePrunesOldWindows(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	clock := t0
	s := openTemp(t, WithClock(func() time.Time { return clock }))
	tests := []struct {
		name        string
		clock       time.Duration // store's clock, from t0
		window      time.Duration // window taken, from t0
		limit       int
		want        bool
		wantWindows []time.Duration
	}{
		{"first window", 0, 0, 1, true, []time.Duration{0}},
		{"a later window, within the hour", 59 * time.Minute, 59 * time.Minute, 1, true, []time.Duration{0, 59 * time.Minute}},
		{"the first window is remembered", 59 * time.Minute, 0, 1, false, []time.Duration{0, 59 * time.Minute}},
		{"windows over an hour old are pruned", 2 * time.Hour, 2 * time.Hour, 1, true, []time.Duration{2 * time.Hour}},
		{"a past window is counted, not pruned by its own take", 2 * time.Hour, 0, 1, true, []time.Duration{0, 2 * time.Hour}},
		{"and its limit holds", 2 * time.Hour, 0, 1, false, []time.Duration{0, 2 * time.Hour}},
		{"a refused take prunes too", 3*time.Hour + time.Minute, 2 * time.Hour, 1, false, []time.Duration{2 * time.Hour}},
	}
	for _, tt := range tests {
		clock = t0.Add(tt.clock)
		got, err := s.TakeRate(t.Context(), "ws-a", "compose", t0.Add(tt.window), tt.limit)
		if err != nil {
			t.Fatalf("%s: TakeRate: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: TakeRate(window t0+%v) at t0+%v = %t, want %t", tt.name, tt.window, tt.clock, got, tt.want)
		}
		if d := cmp.Diff(tt.wantWindows, rateWindows(t, s, t0)); d != "" {
			t.Errorf("%s: windows kept mismatch (-want +got):\n%s", tt.name, d)
		}
	}
}
