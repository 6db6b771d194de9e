// Package audience resolves filter audiences: it counts them, for dry runs
// and for the expectedCount check of a send, and walks them in parallel,
// checkpointed segments that enqueue packed dispatch messages, so that a
// million users are enqueued in well under a minute without any one
// invocation running long. See DESIGN.md for the arithmetic.
package audience

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
)

// Store is what audience resolution needs of the store.
type Store interface {
	ListUsers(ctx context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error)
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	ApplyCounts(ctx context.Context, workspaceID, id string, parts []notify.CountPart) (notify.Notification, error)
	SetNotificationStatus(ctx context.Context, workspaceID, id string, to notify.Status, from ...notify.Status) (notify.Notification, error)
}

// UserLister is what counting an audience needs of the store: the users a
// filter selects, page by page. A sender that only counts (send's dry runs
// and expectedCount checks) then needs no more of the store than that.
type UserLister interface {
	ListUsers(ctx context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error)
}

const (
	// Segments is how many parts a walk runs in parallel: the DynamoDB
	// adapter's user shards, so each segment reads its own partitions.
	Segments = 16
	// PageSize is how many users one ListUsers page reads: 10 dispatch
	// messages of 100, one SQS SendMessageBatch.
	PageSize = 1000
	// SampleSize bounds a dry run's sample.
	SampleSize = 10
)

// Count is what is known of an audience before sending.
type Count struct {
	// Matched is how many users the filter selects (each becomes a
	// delivery: sent, or skipped with its reason).
	Matched int
	// Recipients is how many of them the standing rules (consent, push
	// permission, devices, address) let through: what the operator is told
	// the send will reach, and what expectedCount must equal.
	Recipients int
	// Skipped counts the others by reason.
	Skipped map[string]int
	// Sample is up to SampleSize recipients.
	Sample []notify.User
	// BySegment is Matched per segment, which the walk of each segment
	// reconciles against.
	BySegment [Segments]int
	// Lacking are the variables asked about that no matched user supplies
	// (render.UserVariables): a send that needs one would fail everyone.
	Lacking []string
}

// CountFilter counts the users of workspaceID that f selects for n (its
// channel and category decide the rules), reading the segments in
// parallel. It also finds which of the variables needs no matched user
// supplies (Count.Lacking).
func CountFilter(ctx context.Context, store UserLister, workspaceID string, f notify.UserFilter, n notify.Notification, needs ...string) (Count, error) {
	c := Count{Skipped: map[string]int{}}
	supplied := map[string]bool{}
	var mu sync.Mutex
	errs := make([]error, Segments)
	var wg sync.WaitGroup
	for seg := range Segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := notify.Page{Limit: PageSize, Segment: seg, Segments: Segments}
			for {
				users, next, err := store.ListUsers(ctx, workspaceID, f, p)
				if err != nil {
					errs[seg] = fmt.Errorf("count segment %d: %w", seg, err)
					return
				}
				// The rules run outside the lock; only the tallies are shared.
				reasons := make([]string, len(users))
				var found []string
				for i, u := range users {
					reasons[i] = notify.StandingSkip(n, n.Channel, u)
					for _, name := range needs {
						if render.UserVariable(u, name) != "" {
							found = append(found, name)
						}
					}
				}
				mu.Lock()
				for _, name := range found {
					supplied[name] = true
				}
				c.BySegment[seg] += len(users)
				c.Matched += len(users)
				for i, u := range users {
					if reasons[i] != "" {
						c.Skipped[reasons[i]]++
						continue
					}
					c.Recipients++
					if len(c.Sample) < SampleSize {
						c.Sample = append(c.Sample, u)
					}
				}
				mu.Unlock()
				if next == "" {
					return
				}
				p.Cursor = next
			}
		}()
	}
	wg.Wait()
	for _, name := range needs {
		if !supplied[name] {
			c.Lacking = append(c.Lacking, name)
		}
	}
	return c, errors.Join(errs...)
}

// Job is one step of a segment's walk, the body of an audience queue
// message. The message is the checkpoint: a step that ends before the
// segment does sends the next step (with the cursor reached) and only
// then is its own message deleted.
type Job struct {
	WorkspaceID    string            `json:"w"`
	NotificationID string            `json:"n"`
	Filter         notify.UserFilter `json:"f"`
	Segment        int               `json:"s"`
	Segments       int               `json:"ss"`
	Cursor         string            `json:"c,omitempty"`
	// Page is how many pages the segment has enqueued: it numbers the
	// dispatch chunks, so a step done again makes the same chunks.
	Page int `json:"p,omitempty"`
	// Enqueued is how many users the segment has enqueued; Expected is how
	// many it had when the send was accepted.
	Enqueued int `json:"e,omitempty"`
	Expected int `json:"x"`
}

// Jobs returns the first step of every segment of a send counted as c.
func Jobs(n notify.Notification, f notify.UserFilter, c Count) [][]byte {
	bodies := make([][]byte, 0, Segments)
	for seg := range Segments {
		b, _ := json.Marshal(Job{WorkspaceID: n.WorkspaceID, NotificationID: n.ID, Filter: f, Segment: seg, Segments: Segments, Expected: c.BySegment[seg]})
		bodies = append(bodies, b)
	}
	return bodies
}

// InitialCounts are the counts a filter send starts with: every matched
// user queued, plus one queued per segment for the walk itself, so that
// the notification cannot complete while a segment is still walking; each
// segment's last step takes its one back (see Walker).
func InitialCounts(c Count) notify.Counts {
	return notify.Counts{Total: int64(c.Matched), Queued: int64(c.Matched + Segments)}
}

// Walker runs the steps of audience walks.
type Walker struct {
	Store Store
	// Dispatch is the dispatch queue; Steps is the audience queue, where a
	// step hands over to the next.
	Dispatch notify.Queue
	Steps    notify.Queue
	// Budget is how long a step walks before handing over (default 10 s).
	Budget time.Duration
	// PageSize is how many users a page reads (default PageSize).
	PageSize int
	Now      func() time.Time
	Log      *slog.Logger
}

// Handle runs one step: it walks pages of its segment, enqueueing each
// page's users as dispatch messages, until the segment ends, the budget is
// spent or ctx's deadline is near; then it sends the next step. A step that
// fails returns the error and its message comes back: it starts again from
// its own checkpoint, and the pages it enqueued again make the same
// dispatch chunks, which dispatch records and counts once.
//
// The segment's last step reconciles the counts: users who appeared or
// went since the count make Total and Queued follow the walk, and the
// walk's own queued one is taken back; when that leaves nothing queued, it
// completes the notification.
func (w *Walker) Handle(ctx context.Context, j Job) error {
	// The API enqueues the first steps before it stores the notification: a
	// step may arrive a moment early. One that never finds it fails, comes
	// back, and dead-letters if the send never got stored.
	n, err := notify.AwaitNotification(ctx, w.Store.GetNotification, j.WorkspaceID, j.NotificationID, 3*time.Second)
	if err != nil {
		return fmt.Errorf("audience step: %w", err)
	}
	if n.Status == notify.StatusCancelled || n.Status == notify.StatusFailed {
		// The segment ends here: the users it did not reach are no
		// longer counted, and its own queued one is taken back, so the
		// counts come to rest once what it enqueued is settled.
		w.log().Info("audience walk stopped", "workspaceId", j.WorkspaceID, "notificationId", j.NotificationID, "segment", j.Segment, "status", n.Status)
		return w.finish(ctx, j, 0)
	}
	budget := w.Budget
	if budget <= 0 {
		budget = 10 * time.Second
	}
	start := w.now()
	deadline, hasDeadline := ctx.Deadline()
	for {
		users, next, err := w.Store.ListUsers(ctx, j.WorkspaceID, j.Filter, notify.Page{Limit: w.pageSize(), Cursor: j.Cursor, Segment: j.Segment, Segments: j.Segments})
		if err != nil {
			return fmt.Errorf("audience segment %d page %d: %w", j.Segment, j.Page, err)
		}
		if next == "" {
			// The last page: reconcile before its messages go, so the
			// counts never show less queued than what is in the queue.
			if err := w.finish(ctx, j, len(users)); err != nil {
				return err
			}
		}
		if err := w.enqueue(ctx, j, users); err != nil {
			return err
		}
		j.Enqueued += len(users)
		j.Page++
		j.Cursor = next
		if next == "" {
			return nil
		}
		if w.now().Sub(start) >= budget || (hasDeadline && time.Until(deadline) < 5*time.Second) {
			return w.handOver(ctx, j)
		}
	}
}

// enqueue sends the users of page j.Page as dispatch messages whose chunk
// ids depend only on the segment and page.
func (w *Walker) enqueue(ctx context.Context, j Job, users []notify.User) error {
	var bodies [][]byte
	for i := 0; i < len(users); i += notify.RecipientsPerMessage {
		end := min(i+notify.RecipientsPerMessage, len(users))
		rs := make([]notify.Recipient, 0, end-i)
		for _, u := range users[i:end] {
			rs = append(rs, notify.Recipient{UserID: u.ID})
		}
		b, err := json.Marshal(notify.DispatchMessage{WorkspaceID: j.WorkspaceID, NotificationID: j.NotificationID,
			Chunk: fmt.Sprintf("%s:s%d:%d:%d", j.NotificationID, j.Segment, j.Page, i/notify.RecipientsPerMessage), Recipients: rs})
		if err != nil {
			return err
		}
		bodies = append(bodies, b)
	}
	if len(bodies) == 0 {
		return nil
	}
	if err := w.Dispatch.Send(ctx, bodies); err != nil {
		return fmt.Errorf("enqueue segment %d page %d: %w", j.Segment, j.Page, err)
	}
	return nil
}

// handOver sends the next step; the current message is deleted after.
func (w *Walker) handOver(ctx context.Context, j Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := w.Steps.Send(ctx, [][]byte{b}); err != nil {
		return fmt.Errorf("hand over segment %d at page %d: %w", j.Segment, j.Page, err)
	}
	return nil
}

// finish reconciles the segment's counts, once (a marker per segment), and
// completes the notification when nothing is left queued.
func (w *Walker) finish(ctx context.Context, j Job, last int) error {
	d := int64(j.Enqueued + last - j.Expected)
	n, err := w.Store.ApplyCounts(ctx, j.WorkspaceID, j.NotificationID, []notify.CountPart{{
		Marker: fmt.Sprintf("%s:s%d:walked", j.NotificationID, j.Segment),
		Delta:  notify.Counts{Total: d, Queued: d - 1},
	}})
	if err != nil {
		return fmt.Errorf("reconcile segment %d: %w", j.Segment, err)
	}
	if n.Counts.Queued <= 0 && !n.Status.Final() {
		_, err := w.Store.SetNotificationStatus(ctx, j.WorkspaceID, j.NotificationID, notify.StatusCompleted, notify.StatusQueued, notify.StatusSending)
		if err != nil && !notify.IsCode(err, notify.CodeConflict) {
			return fmt.Errorf("complete notification: %w", err)
		}
	}
	return nil
}

func (w *Walker) pageSize() int {
	if w.PageSize > 0 {
		return w.PageSize
	}
	return PageSize
}

func (w *Walker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Walker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.New(slog.DiscardHandler)
}
