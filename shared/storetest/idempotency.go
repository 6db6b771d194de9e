package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

func newClaim(ws, key, hash string, at time.Time) notify.IdempotencyRecord {
	return notify.IdempotencyRecord{
		WorkspaceID: ws, Key: key, RequestHash: hash,
		CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour),
	}
}

func claim(t *testing.T, s notify.Store, rec notify.IdempotencyRecord) (notify.IdempotencyRecord, bool) {
	t.Helper()
	got, claimed, err := s.ClaimIdempotencyKey(t.Context(), rec)
	must(t, "ClaimIdempotencyKey "+rec.Key, err)
	return got, claimed
}

func testIdempotency(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	first := newClaim(wsA, "key-1", "hash-1", t0)
	got, claimed := claim(t, s, first)
	if !claimed {
		t.Errorf("ClaimIdempotencyKey(new) claimed = false, want true")
	}
	if d := diff(first, got); d != "" {
		t.Errorf("ClaimIdempotencyKey(new) mismatch (-want +got):\n%s", d)
	}

	// A second claim, even of another request, gets the first one's record.
	got, claimed = claim(t, s, newClaim(wsA, "key-1", "hash-2", t0.Add(time.Second)))
	if claimed {
		t.Errorf("ClaimIdempotencyKey(claimed) claimed = true, want false")
	}
	if d := diff(first, got); d != "" {
		t.Errorf("ClaimIdempotencyKey(claimed) mismatch (-want +got):\n%s", d)
	}

	done := first
	done.Done, done.StatusCode, done.Response = true, 202, []byte(`{"id":"n-1","status":"queued","recipients":2}`)
	must(t, "CompleteIdempotencyKey", s.CompleteIdempotencyKey(ctx, done))
	got, claimed = claim(t, s, newClaim(wsA, "key-1", "hash-1", t0.Add(time.Second)))
	if claimed {
		t.Errorf("ClaimIdempotencyKey(completed) claimed = true, want false")
	}
	if d := diff(done, got); d != "" {
		t.Errorf("ClaimIdempotencyKey(completed) mismatch (-want +got):\n%s", d)
	}

	// A released claim may be claimed again.
	second := newClaim(wsA, "key-2", "hash-1", t0)
	claim(t, s, second)
	must(t, "ReleaseIdempotencyKey", s.ReleaseIdempotencyKey(ctx, wsA, second.Key))
	retry := newClaim(wsA, "key-2", "hash-3", t0.Add(time.Second))
	got, claimed = claim(t, s, retry)
	if !claimed {
		t.Errorf("ClaimIdempotencyKey(released) claimed = false, want true")
	}
	if d := diff(retry, got); d != "" {
		t.Errorf("ClaimIdempotencyKey(released) mismatch (-want +got):\n%s", d)
	}

	// Releasing one key leaves the others.
	got, claimed = claim(t, s, newClaim(wsA, "key-1", "hash-1", t0))
	if claimed || !got.Done {
		t.Errorf("key-1 after releasing key-2: claimed = %v, done = %v; want false, true", claimed, got.Done)
	}
}

func testIdempotencyExpiry(t *testing.T, s notify.Store) {
	t0 := now()
	old := newClaim(wsA, "key-1", "hash-1", t0.Add(-25*time.Hour))
	old.Done, old.StatusCode = true, 202
	if _, claimed := claim(t, s, old); !claimed {
		t.Fatalf("ClaimIdempotencyKey(new, already expired) claimed = false, want true")
	}

	fresh := newClaim(wsA, "key-1", "hash-2", t0)
	got, claimed := claim(t, s, fresh)
	if !claimed {
		t.Errorf("ClaimIdempotencyKey over an expired record claimed = false, want true")
	}
	if d := diff(fresh, got); d != "" {
		t.Errorf("ClaimIdempotencyKey over an expired record mismatch (-want +got):\n%s", d)
	}
	got, claimed = claim(t, s, newClaim(wsA, "key-1", "hash-3", t0))
	if claimed {
		t.Errorf("ClaimIdempotencyKey over the fresh claim claimed = true, want false")
	}
	if d := diff(fresh, got); d != "" {
		t.Errorf("ClaimIdempotencyKey over the fresh claim mismatch (-want +got):\n%s", d)
	}
}

func testIdempotencyConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	const claimers = 8
	var wg sync.WaitGroup
	type result struct {
		rec     notify.IdempotencyRecord
		claimed bool
		err     error
	}
	results := make([]result, claimers)
	for i := range claimers {
		wg.Go(func() {
			rec := newClaim(wsA, "key-1", "hash-1", t0.Add(time.Duration(i)*time.Millisecond))
			results[i].rec, results[i].claimed, results[i].err = s.ClaimIdempotencyKey(ctx, rec)
		})
	}
	wg.Wait()
	var winners []notify.IdempotencyRecord
	for _, r := range results {
		must(t, "concurrent ClaimIdempotencyKey", r.err)
		if r.claimed {
			winners = append(winners, r.rec)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d concurrent claims of one key: %d won, want 1", claimers, len(winners))
	}
	for i, r := range results {
		if d := diff(winners[0], r.rec); d != "" {
			t.Errorf("claimer %d got another record than the winner's (-want +got):\n%s", i, d)
		}
	}
}

func testIdempotencyIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	a := newClaim(wsA, "key-1", "hash-a", t0)
	claim(t, s, a)

	b := newClaim(wsB, "key-1", "hash-b", t0)
	got, claimed := claim(t, s, b)
	if !claimed {
		t.Errorf("ClaimIdempotencyKey of the same key in another workspace claimed = false, want true")
	}
	if d := diff(b, got); d != "" {
		t.Errorf("ClaimIdempotencyKey in another workspace mismatch (-want +got):\n%s", d)
	}
	doneB := b
	doneB.Done, doneB.StatusCode, doneB.Response = true, 200, []byte(`{}`)
	must(t, "CompleteIdempotencyKey b", s.CompleteIdempotencyKey(ctx, doneB))
	must(t, "ReleaseIdempotencyKey b", s.ReleaseIdempotencyKey(ctx, wsB, "key-1"))
	// Releasing through B never frees A's claim, whether or not it errs.
	_ = s.ReleaseIdempotencyKey(ctx, wsB, "key-1")

	got, claimed = claim(t, s, newClaim(wsA, "key-1", "hash-other", t0))
	if claimed {
		t.Errorf("ClaimIdempotencyKey in %s after writes through %s claimed = true, want false", wsA, wsB)
	}
	if d := diff(a, got); d != "" {
		t.Errorf("record of %s after writes through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}
