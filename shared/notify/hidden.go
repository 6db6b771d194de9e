package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultVisibility is how long a receive hides a message when the queue
// does not say (VisibilityTimeouter): SQS's default.
const DefaultVisibility = 30 * time.Second

// VisibilityTimeouter is a queue that knows how long a receive hides a
// message (the embedded queue does; on SQS it is the queue's attribute).
type VisibilityTimeouter interface {
	VisibilityTimeout() time.Duration
}

// VisibilityOf is q's visibility timeout, or DefaultVisibility when q does
// not say.
func VisibilityOf(q Queue) time.Duration {
	if vt, ok := q.(VisibilityTimeouter); ok && vt.VisibilityTimeout() > 0 {
		return vt.VisibilityTimeout()
	}
	return DefaultVisibility
}

// Hidden keeps received messages hidden while they are worked on: a
// heartbeat. A message's visibility timeout bounds how long one receive
// may take; work that runs longer (a large spreadsheet, a slow provider)
// would otherwise see its message handed to a second consumer and done
// twice at once. Every third of the timeout, each message not yet
// released is hidden for the whole timeout again.
type Hidden struct {
	q          Queue
	visibility time.Duration
	log        *slog.Logger

	mu      sync.Mutex
	pending map[string]string // receipt → message id
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// KeepHidden starts the heartbeat of msgs, received from q with its
// visibility timeout visibility (VisibilityOf). Release each message when
// its work ends (deleted, or left to come back), and Stop at the latest
// when the batch is done. A renewal that fails is logged: a stale receipt
// means the message was received again, so its work may be done twice
// despite the heartbeat, which is what idempotent handlers are for.
func KeepHidden(ctx context.Context, q Queue, msgs []QueueMessage, visibility time.Duration, log *slog.Logger) *Hidden {
	if visibility <= 0 {
		visibility = DefaultVisibility
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hidden{q: q, visibility: visibility, log: log, pending: make(map[string]string, len(msgs)),
		stop: make(chan struct{}), done: make(chan struct{})}
	for _, m := range msgs {
		h.pending[m.Receipt] = m.ID
	}
	ctx = context.WithoutCancel(ctx) // a stopping consumer still finishes, and keeps hiding, what it holds
	go func() {
		defer close(h.done)
		t := time.NewTicker(visibility / 3)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.renew(ctx)
			}
		}
	}()
	return h
}

// renew hides every message not yet released again. It holds the lock
// while it does, so that once Release returns no renewal of that message
// can follow (and undo a delete's or a backoff's effect).
func (h *Hidden) renew(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for r, id := range h.pending {
		if err := h.q.ChangeVisibility(ctx, r, h.visibility); err != nil {
			h.log.Warn("extend visibility", "messageId", id, "err", err.Error())
		}
	}
}

// Release stops renewing the message of receipt: its work is over. Once
// it returns, no renewal of that message is in progress.
func (h *Hidden) Release(receipt string) {
	h.mu.Lock()
	delete(h.pending, receipt)
	h.mu.Unlock()
}

// Stop ends the heartbeat; it returns once no renewal is in progress, so a
// delete or a visibility change made after it is not undone by one.
func (h *Hidden) Stop() {
	h.once.Do(func() { close(h.stop) })
	<-h.done
}
