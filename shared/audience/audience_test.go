package audience

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

// memQueue records what is sent; failAfter > 0 fails the send after that
// many successful ones.
type memQueue struct {
	mu        sync.Mutex
	bodies    [][]byte
	sends     int
	failAfter int
}

func (q *memQueue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sends++
	if q.failAfter > 0 && q.sends > q.failAfter {
		return errors.New("queue down")
	}
	q.bodies = append(q.bodies, bodies...)
	return nil
}
func (q *memQueue) SendDelayed(ctx context.Context, bodies [][]byte, _ time.Duration) error {
	return q.Send(ctx, bodies)
}
func (q *memQueue) Receive(context.Context, int, time.Duration) ([]notify.QueueMessage, error) {
	return nil, nil
}
func (q *memQueue) Delete(context.Context, string) error                          { return nil }
func (q *memQueue) ChangeVisibility(context.Context, string, time.Duration) error { return nil }

func (q *memQueue) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.bodies
	q.bodies = nil
	return b
}

const ws = "ws1"

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// seed stores n users; every third is a lead, the rest active. Active
// users with an even number allowed push and have a device.
func seed(t *testing.T, n int) *boltstore.Store {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for i := range n {
		u := notify.User{WorkspaceID: ws, ID: fmt.Sprintf("u%05d", i), Status: "active", PushPermission: notify.PermissionAsk, CreatedAt: t0, UpdatedAt: t0}
		if i%3 == 0 {
			u.Status = "lead"
		}
		if i%2 == 0 {
			u.PushPermission = notify.PermissionAllowed
			u.Devices = []notify.Device{{ID: "d", Kind: notify.DeviceFCM, Token: "t"}}
		}
		if _, err := store.PutUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func active() notify.UserFilter { return notify.UserFilter{Status: []string{"active"}} }

// send counts the filter and stores the notification as the API does.
func send(t *testing.T, store *boltstore.Store, f notify.UserFilter) (notify.Notification, Count, [][]byte) {
	t.Helper()
	n := notify.Notification{WorkspaceID: ws, ID: "N1", Channel: notify.ChannelPush, Source: notify.SourceFilter, Status: notify.StatusQueued,
		CreatedAt: t0, Content: notify.Template{Title: "t", Body: "b"}}
	c, err := CountFilter(context.Background(), store, ws, f, n)
	if err != nil {
		t.Fatal(err)
	}
	n.Counts = InitialCounts(c)
	if err := store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	return n, c, Jobs(n, f, c)
}

// walk runs steps until none is left, as the audience function would.
func walk(t *testing.T, w *Walker, steps *memQueue, first [][]byte) int {
	t.Helper()
	pending, handled := first, 0
	for len(pending) > 0 {
		for _, b := range pending {
			var j Job
			if err := json.Unmarshal(b, &j); err != nil {
				t.Fatal(err)
			}
			if err := w.Handle(context.Background(), j); err != nil {
				t.Fatal(err)
			}
			handled++
		}
		pending = steps.take()
	}
	return handled
}

// recipients reads dispatch messages: each chunk's users, by chunk id.
func recipients(t *testing.T, bodies [][]byte) map[string][]string {
	t.Helper()
	chunks := map[string][]string{}
	for _, b := range bodies {
		var m notify.DispatchMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Recipients) > notify.RecipientsPerMessage {
			t.Errorf("chunk %s has %d recipients, want at most %d", m.Chunk, len(m.Recipients), notify.RecipientsPerMessage)
		}
		var ids []string
		for _, r := range m.Recipients {
			ids = append(ids, r.UserID)
		}
		if prev, ok := chunks[m.Chunk]; ok && fmt.Sprint(prev) != fmt.Sprint(ids) {
			t.Errorf("chunk %s enqueued twice with different users", m.Chunk)
		}
		chunks[m.Chunk] = ids
	}
	return chunks
}

// everyoneOnce checks that the chunks hold each wanted user exactly once.
func everyoneOnce(t *testing.T, chunks map[string][]string, want int, match func(i int) bool) {
	t.Helper()
	seen := map[string]int{}
	for _, ids := range chunks {
		for _, id := range ids {
			seen[id]++
		}
	}
	got := 0
	for i := range want {
		id := fmt.Sprintf("u%05d", i)
		switch {
		case match(i) && seen[id] != 1:
			t.Errorf("user %s enqueued %d times, want once", id, seen[id])
		case !match(i) && seen[id] != 0:
			t.Errorf("user %s enqueued, but the filter does not select them", id)
		}
		if match(i) {
			got++
		}
	}
	if len(seen) != got {
		t.Errorf("%d users enqueued, want %d", len(seen), got)
	}
}

func isActive(i int) bool { return i%3 != 0 }

func TestCountFilter(t *testing.T) {
	store := seed(t, 3000)
	_, c, _ := send(t, store, active())
	// 2,000 active; of those, even numbers have push (1,000), the rest are "ask".
	if c.Matched != 2000 || c.Recipients != 1000 || c.Skipped[notify.ReasonNoConsent] != 1000 || len(c.Skipped) != 1 {
		t.Errorf("count = matched %d, recipients %d, skipped %v; want 2000, 1000, {no_consent: 1000}", c.Matched, c.Recipients, c.Skipped)
	}
	sum := 0
	for _, n := range c.BySegment {
		sum += n
	}
	if sum != c.Matched {
		t.Errorf("segments add to %d, want %d", sum, c.Matched)
	}
	if len(c.Sample) != SampleSize {
		t.Errorf("sample of %d, want %d", len(c.Sample), SampleSize)
	}
	for _, u := range c.Sample {
		if notify.StandingSkip(notify.Notification{Channel: notify.ChannelPush}, notify.ChannelPush, u) != "" {
			t.Errorf("sample user %s would be skipped", u.ID)
		}
	}
}

func TestWalkEnqueuesEveryoneOnceAndCompletesCounts(t *testing.T) {
	store := seed(t, 3000)
	n, c, first := send(t, store, active())
	dispatch, steps := &memQueue{}, &memQueue{}
	clock := t0
	w := &Walker{Store: store, Dispatch: dispatch, Steps: steps, Budget: time.Nanosecond, PageSize: 50,
		Now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }} // hand over after every page
	handled := walk(t, w, steps, first)
	if handled <= Segments {
		t.Errorf("%d steps for %d segments: the budget never handed over", handled, Segments)
	}
	everyoneOnce(t, recipients(t, dispatch.take()), 3000, isActive)
	got, err := store.GetNotification(context.Background(), ws, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts != (notify.Counts{Total: int64(c.Matched), Queued: int64(c.Matched)}) {
		t.Errorf("counts after the walk = %+v, want total = queued = %d (the walks' own gone)", got.Counts, c.Matched)
	}
}

func TestWalkFollowsUsersWhoCameOrWent(t *testing.T) {
	store := seed(t, 1500)
	n, _, first := send(t, store, active())
	// After the count: one active user goes, two arrive.
	if err := store.DeleteUser(context.Background(), ws, "u00001"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"new-1", "new-2"} {
		if _, err := store.PutUser(context.Background(), notify.User{WorkspaceID: ws, ID: id, Status: "active", CreatedAt: t0, UpdatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	dispatch, steps := &memQueue{}, &memQueue{}
	walk(t, &Walker{Store: store, Dispatch: dispatch, Steps: steps, PageSize: 30}, steps, first)
	total := 0
	for _, ids := range recipients(t, dispatch.take()) {
		total += len(ids)
	}
	got, _ := store.GetNotification(context.Background(), ws, n.ID)
	if total != 1001 || got.Counts.Total != 1001 || got.Counts.Queued != 1001 {
		t.Errorf("enqueued %d, counts %+v; want 1001 everywhere (1000 counted, one gone, two new)", total, got.Counts)
	}
}

// TestWalkResumesAfterACrash: a step that fails midway comes back and
// starts from its checkpoint; pages it enqueued again make the same chunks,
// and the counts are reconciled once.
func TestWalkResumesAfterACrash(t *testing.T) {
	store := seed(t, 3000)
	n, c, first := send(t, store, active())
	dispatch, steps := &memQueue{failAfter: 1}, &memQueue{}
	w := &Walker{Store: store, Dispatch: dispatch, Steps: steps, PageSize: 40}
	var j Job
	if err := json.Unmarshal(first[0], &j); err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(context.Background(), j); err == nil {
		t.Fatal("a step whose queue failed returned nil")
	}
	dispatch.failAfter = 0
	walk(t, w, steps, first) // the failed step again, with every other
	everyoneOnce(t, recipients(t, dispatch.take()), 3000, isActive)
	got, _ := store.GetNotification(context.Background(), ws, n.ID)
	if got.Counts.Total != int64(c.Matched) || got.Counts.Queued != int64(c.Matched) {
		t.Errorf("counts = %+v, want total = queued = %d", got.Counts, c.Matched)
	}
}

func TestWalkStopsWhenCancelled(t *testing.T) {
	store := seed(t, 500)
	n, _, first := send(t, store, active())
	if _, err := store.SetNotificationStatus(context.Background(), ws, n.ID, notify.StatusCancelled); err != nil {
		t.Fatal(err)
	}
	dispatch, steps := &memQueue{}, &memQueue{}
	walk(t, &Walker{Store: store, Dispatch: dispatch, Steps: steps}, steps, first)
	if b := dispatch.take(); len(b) != 0 {
		t.Errorf("a cancelled send enqueued %d dispatch messages", len(b))
	}
	// Nothing was walked: nothing is counted, nothing stays queued.
	if got, _ := store.GetNotification(context.Background(), ws, n.ID); got.Counts != (notify.Counts{}) || got.Status != notify.StatusCancelled {
		t.Errorf("after a cancelled walk: %s with counts %+v, want cancelled with none", got.Status, got.Counts)
	}
}

// TestWalkCancelledMidway: what a segment enqueued before the cancel stays
// counted (dispatch settles it), the users it did not reach are no longer
// counted, and the walk's own queued ones go.
func TestWalkCancelledMidway(t *testing.T) {
	store := seed(t, 3000)
	n, _, first := send(t, store, active())
	dispatch, steps := &memQueue{}, &memQueue{}
	clock := t0
	w := &Walker{Store: store, Dispatch: dispatch, Steps: steps, Budget: time.Nanosecond, PageSize: 50,
		Now: func() time.Time { clock = clock.Add(time.Millisecond); return clock }} // hand over after every page
	for _, b := range first { // one page of each segment
		var j Job
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatal(err)
		}
		if err := w.Handle(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.SetNotificationStatus(context.Background(), ws, n.ID, notify.StatusCancelled); err != nil {
		t.Fatal(err)
	}
	walk(t, w, steps, steps.take())
	enqueued := 0
	for _, ids := range recipients(t, dispatch.take()) {
		enqueued += len(ids)
	}
	got, _ := store.GetNotification(context.Background(), ws, n.ID)
	if enqueued == 0 || enqueued >= 2000 || got.Counts != (notify.Counts{Total: int64(enqueued), Queued: int64(enqueued)}) {
		t.Errorf("enqueued %d before the cancel, counts %+v; want total = queued = what was enqueued", enqueued, got.Counts)
	}
}

// TestWalkCompletesWhenDispatchWasFaster: when dispatch has sent everyone
// before the last segment finishes, the walk completes the notification.
func TestWalkCompletesWhenDispatchWasFaster(t *testing.T) {
	store := seed(t, 30)
	n, c, first := send(t, store, active())
	// Dispatch already took every matched user off the queue.
	if _, err := store.ApplyCounts(context.Background(), ws, n.ID, []notify.CountPart{{Marker: "all", Delta: notify.Counts{Queued: -int64(c.Matched), Sent: int64(c.Matched)}}}); err != nil {
		t.Fatal(err)
	}
	steps := &memQueue{}
	walk(t, &Walker{Store: store, Dispatch: &memQueue{}, Steps: steps}, steps, first)
	got, _ := store.GetNotification(context.Background(), ws, n.ID)
	if got.Status != notify.StatusCompleted || got.Counts.Queued != 0 {
		t.Errorf("after the last segment: %s with %d queued, want completed with 0", got.Status, got.Counts.Queued)
	}
}
