package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/notify"
)

// filterStore is what a filter send needs of the store: the walk's, plus
// storing the notification as the API does.
type filterStore interface {
	audience.Store
	CreateNotification(ctx context.Context, n notify.Notification) error
}

// walkOptions tune the walk of resolveFilter.
type walkOptions struct {
	// budget is how long a step walks before it hands over (zero: the
	// Walker's default, 10 s); a short one exercises the handovers.
	budget time.Duration
}

// filterSend is what resolveFilter measured of one filter send.
type filterSend struct {
	n     notify.Notification
	count audience.Count
	// countTime is CountFilter alone; total runs from the count's start to
	// the return of the Send that enqueued the last dispatch message.
	countTime, total time.Duration
	// messages and sends are the dispatch messages enqueued and the Send
	// calls that carried them; steps counts the steps handled (one per
	// segment plus every handover).
	messages, sends, steps int64
}

// resolveFilter does what a filter send does between the API request and
// the last dispatch message: CountFilter, the 16 first steps sent to steps
// and the notification stored (as the API does, in that order), then every
// step handled by 16 Walker.Handle goroutines fed from stepsIn (the
// same queue as steps, or another client of it: the event source's),
// handovers included, until every segment has finished. mark, when not
// nil, is called with "count" after the count and with "accept" once the
// API's part is done (to read meters); it runs inside the timed span, so
// it must be quick.
func resolveFilter(ctx context.Context, store filterStore, dispatch, steps, stepsIn notify.Queue, ws string, f notify.UserFilter, o walkOptions, mark func(phase string)) (filterSend, error) {
	if mark == nil {
		mark = func(string) {}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	n := notify.Notification{
		WorkspaceID: ws, ID: (&notify.IDs{}).New(now), Channel: notify.ChannelEmail, Source: notify.SourceFilter,
		Title: "Bench {{name}}", Body: "Hello {{name}}", Route: "/",
		Audience: notify.Audience{Kind: "filter"}, Status: notify.StatusQueued,
		CreatedAt: now, UpdatedAt: now, CreatedBy: "bench",
		Content: notify.Template{Channel: notify.ChannelEmail, Title: "Bench {{name}}", Body: "Hello {{name}}", Route: "/"},
	}
	dq := &meteredQueue{Queue: dispatch}
	sq := &stepQueue{Queue: steps}
	w := &audience.Walker{Store: store, Dispatch: dq, Steps: sq, Budget: o.budget}

	t0 := time.Now()
	c, err := audience.CountFilter(ctx, store, ws, f, n)
	if err != nil {
		return filterSend{}, err
	}
	countTime := time.Since(t0)
	mark("count")
	if c.Matched == 0 {
		return filterSend{}, errors.New("the filter selects no users")
	}
	n.Audience.Count = c.Matched
	n.Counts = audience.InitialCounts(c)
	if err := sq.Send(ctx, audience.Jobs(n, f, c)); err != nil {
		return filterSend{}, fmt.Errorf("send the first steps: %w", err)
	}
	if err := store.CreateNotification(ctx, n); err != nil {
		return filterSend{}, err
	}
	mark("accept")
	handled, err := runSteps(ctx, w, stepsIn, &sq.pending, audience.Segments)
	if err != nil {
		return filterSend{}, err
	}
	last, messages, sends := dq.stats()
	return filterSend{n: n, count: c, countTime: countTime, total: last.Sub(t0), messages: messages, sends: sends, steps: handled}, nil
}

// runSteps receives steps from in (one receiver, as an event source polls)
// and hands each to one of workers goroutines running w.Handle, deleting it
// once handled, until pending (steps sent and not yet handled) is zero. A
// step that fails fails the run: a benchmark has no one to retry for.
func runSteps(ctx context.Context, w *audience.Walker, in notify.Queue, pending *atomic.Int64, workers int) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	msgs := make(chan notify.QueueMessage, workers)
	var handled atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range msgs {
				var j audience.Job
				if err := json.Unmarshal(m.Body, &j); err != nil {
					cancel(fmt.Errorf("step %s: %w", m.ID, err))
					continue
				}
				if err := w.Handle(ctx, j); err != nil {
					cancel(err)
					continue
				}
				if err := in.Delete(ctx, m.Receipt); err != nil {
					cancel(err)
					continue
				}
				handled.Add(1)
				pending.Add(-1)
			}
		}()
	}
	seen := map[string]bool{}
	for pending.Load() > 0 && ctx.Err() == nil {
		got, err := in.Receive(ctx, 10, 200*time.Millisecond)
		if err != nil {
			if ctx.Err() == nil {
				cancel(err)
			}
			break
		}
		for _, m := range got {
			if seen[m.ID] {
				// Received again before its delete landed (or a
				// duplicate an emulator handed out): handled already.
				continue
			}
			seen[m.ID] = true
			msgs <- m
		}
	}
	close(msgs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return handled.Load(), err
	}
	return handled.Load(), ctx.Err()
}

// meteredQueue counts what goes through Send and notes when the last Send
// returned.
type meteredQueue struct {
	notify.Queue
	mu              sync.Mutex
	last            time.Time
	messages, sends int64
}

func (q *meteredQueue) Send(ctx context.Context, bodies [][]byte) error {
	if err := q.Queue.Send(ctx, bodies); err != nil {
		return err
	}
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.messages += int64(len(bodies))
	q.sends++
	if now.After(q.last) {
		q.last = now
	}
	return nil
}

func (q *meteredQueue) stats() (last time.Time, messages, sends int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.last, q.messages, q.sends
}

// stepQueue counts the steps sent (the first ones and every handover), so
// that the run knows when every segment has finished: a handover is sent
// before the step that sends it returns.
type stepQueue struct {
	notify.Queue
	pending atomic.Int64
}

func (q *stepQueue) Send(ctx context.Context, bodies [][]byte) error {
	q.pending.Add(int64(len(bodies)))
	if err := q.Queue.Send(ctx, bodies); err != nil {
		q.pending.Add(-int64(len(bodies)))
		return err
	}
	return nil
}

// checkDispatched reads every dispatch message in q (receiving, waiting up
// to wait for more, and deleting them with del) and checks that they name
// each of want users exactly once, for notification id; it returns how
// many messages there were and the sizes of those that were not full.
func checkDispatched(ctx context.Context, q notify.Queue, del func(ctx context.Context, receipts []string) error, wait time.Duration, id string, want int) (int, []int, error) {
	seen := make(map[string]int, want)
	messages := 0
	var partial []int
	for {
		msgs, err := q.Receive(ctx, 100, wait)
		if err != nil {
			return 0, nil, err
		}
		if len(msgs) == 0 {
			break
		}
		receipts := make([]string, len(msgs))
		for i, m := range msgs {
			var dm notify.DispatchMessage
			if err := json.Unmarshal(m.Body, &dm); err != nil {
				return 0, nil, fmt.Errorf("dispatch message %s: %w", m.ID, err)
			}
			if dm.NotificationID != id {
				return 0, nil, fmt.Errorf("dispatch message %s is for %s, want %s", m.ID, dm.NotificationID, id)
			}
			messages++
			if len(dm.Recipients) < notify.RecipientsPerMessage {
				partial = append(partial, len(dm.Recipients))
			}
			for _, r := range dm.Recipients {
				seen[r.UserID]++
			}
			receipts[i] = m.Receipt
		}
		if err := del(ctx, receipts); err != nil {
			return 0, nil, err
		}
	}
	if len(seen) != want {
		return messages, partial, fmt.Errorf("the dispatch messages name %d distinct users, want %d", len(seen), want)
	}
	for u, c := range seen {
		if c != 1 {
			return messages, partial, fmt.Errorf("user %s is in %d dispatch messages", u, c)
		}
	}
	return messages, partial, nil
}
