package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
)

// benchUser is user i as the audience parts seed it: active, with an
// email, the fields a user created through the API has.
func benchUser(ws string, i int, now time.Time) notify.User {
	id := harness.UserID(i)
	return notify.User{WorkspaceID: ws, ID: id, Name: fmt.Sprintf("User %d", i), Email: id + "@example.com",
		Status: "active", Type: "client", PushPermission: notify.PermissionAsk, SealKey: seal.NewKey(),
		CreatedAt: now, UpdatedAt: now}
}

// benchFilter selects every user benchUser makes, through a field the
// store has to read (not the zero filter).
var benchFilter = notify.UserFilter{Status: []string{"active"}}

// seedUsers puts users 0..n-1 with PutUser from workers goroutines.
func seedUsers(ctx context.Context, put func(context.Context, notify.User) (notify.User, error), ws string, n, workers int) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	next := make(chan int)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for i := range next {
				if _, err := put(ctx, benchUser(ws, i, now)); err != nil {
					errs <- fmt.Errorf("seed user %d: %w", i, err)
					for range next {
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// benchAudience resolves a filter send of users users on the embedded
// adapters, in process: the count, then the walk of the 16 segments on 16
// goroutines, into a bbolt dispatch queue.
func benchAudience(ctx context.Context, users int, o walkOptions) error {
	dir, err := os.MkdirTemp("", "herald-bench-audience-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	store, err := boltstore.Open(filepath.Join(dir, "herald.db"), boltstore.WithNoSync())
	if err != nil {
		return err
	}
	defer store.Close()
	dispatch, err := boltqueue.Open(filepath.Join(dir, "queue.db"), boltqueue.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer dispatch.Close()
	steps, err := boltqueue.Open(filepath.Join(dir, "audience.db"), boltqueue.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer steps.Close()

	const ws = "ws_bench"
	t0 := time.Now()
	if err := seedUsers(ctx, store.PutUser, ws, users, 8); err != nil {
		return err
	}
	fmt.Printf("seeded %d users in %.1f s (PutUser from 8 goroutines, no fsync; not part of the figure)\n", users, time.Since(t0).Seconds())

	cpu0 := cpuTime()
	var countCPU time.Duration
	res, err := resolveFilter(ctx, store, dispatch, steps, steps, ws, benchFilter, o, func(phase string) {
		if phase == "count" {
			countCPU = cpuTime() - cpu0
		}
	})
	if err != nil {
		return err
	}
	cpu := cpuTime() - cpu0
	c := res.count
	fmt.Printf("count alone (CountFilter, 16 segments): %d matched, %d recipients in %.2f s; process CPU %.2f s\n",
		c.Matched, c.Recipients, res.countTime.Seconds(), countCPU.Seconds())
	fmt.Printf("filter send resolved and enqueued: %.2f s from the count's start to the last dispatch message enqueued (target ≤ 5 s); %.0f recipients/s; process CPU %.2f s\n",
		res.total.Seconds(), float64(c.Matched)/res.total.Seconds(), cpu.Seconds())
	fmt.Printf("walk: %d steps on %d workers (%d handovers), %d dispatch messages in %d Send calls\n",
		res.steps, audience.Segments, res.steps-audience.Segments, res.messages, res.sends)

	messages, partial, err := checkDispatched(ctx, dispatch, dispatch.DeleteBatch, 0, res.n.ID, users)
	if err != nil {
		return fmt.Errorf("check the dispatch queue: %w", err)
	}
	want := (users + notify.RecipientsPerMessage - 1) / notify.RecipientsPerMessage
	fmt.Printf("dispatch messages: %d (want %d at %d recipients per message)", messages, want, notify.RecipientsPerMessage)
	if messages != want {
		sort.Ints(partial)
		fmt.Printf(": DIFFERS: %d messages are not full, recipients %v: each segment packs its own users, so each of the %d ends in a partial message",
			len(partial), partial, audience.Segments)
	}
	fmt.Println()
	fmt.Printf("verified: the dispatch queue names each of the %d users exactly once\n", users)
	return nil
}
