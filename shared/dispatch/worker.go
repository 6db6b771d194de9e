package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// Worker pulls dispatch messages from a queue and hands them to a
// Dispatcher: the local mode's equivalent of the SQS event source mapping.
type Worker struct {
	Queue      notify.Queue
	Dispatcher *Dispatcher
	// DeadLetter makes the worker the dead-letter queue's consumer: it
	// settles (Dispatcher.Settle) what it receives instead of sending it,
	// so that a message that died on its last receive still has its
	// counts applied and its notification completed.
	DeadLetter bool
	// Batch is how many messages one Handle call gets (default 10, as SQS).
	Batch int
	// Wait is the long-poll wait of a receive (default 1 s).
	Wait time.Duration
	// Visibility is how long the messages being handled are kept hidden,
	// renewed every third of it until they are done (default: the queue's
	// visibility timeout, notify.VisibilityOf).
	Visibility time.Duration
	Log        *slog.Logger
}

// Run processes messages until ctx is done. A failed message is made
// visible again after Backoff and reaches the dead-letter queue after the
// queue's max receives.
func (w *Worker) Run(ctx context.Context) {
	batch, wait := w.Batch, w.Wait
	if batch <= 0 {
		batch = 10
	}
	if wait <= 0 {
		wait = time.Second
	}
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	visibility := w.Visibility
	if visibility <= 0 {
		visibility = notify.VisibilityOf(w.Queue)
	}
	for ctx.Err() == nil {
		msgs, err := w.Queue.Receive(ctx, batch, wait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("receive", "err", err.Error())
			sleep(ctx, time.Second)
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		in := make([]Message, len(msgs))
		for i, m := range msgs {
			in[i] = Message{ID: m.ID, Body: m.Body, ReceiveCount: m.ReceiveCount, SentAt: m.SentAt}
		}
		handle := w.Dispatcher.Handle
		if w.DeadLetter {
			handle = w.Dispatcher.Settle
		}
		// Handle finishes its batch even while stopping, so that sends in
		// flight are recorded; the queue's visibility covers a hard kill.
		// While it runs, the messages stay hidden: a batch slower than the
		// visibility timeout must not be handed to a second worker.
		hidden := notify.KeepHidden(ctx, w.Queue, msgs, visibility, log)
		errs := handle(context.WithoutCancel(ctx), in)
		hidden.Stop()
		var done []string
		for i, m := range msgs {
			if errs[i] == nil {
				done = append(done, m.Receipt)
				continue
			}
			switch last := w.Dispatcher.maxReceives; {
			case w.DeadLetter:
				log.Error("settling a dead-lettered dispatch message failed; it comes back", "messageId", m.ID, "err", errs[i].Error())
			case last > 0 && m.ReceiveCount >= last:
				log.Error("dispatch message failed on its last receive; it goes to the dead-letter queue", "messageId", m.ID,
					"receives", m.ReceiveCount, "err", errs[i].Error())
			}
			if err := w.Queue.ChangeVisibility(context.WithoutCancel(ctx), m.Receipt, Backoff(m.ReceiveCount, nil)); err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("change visibility", "messageId", m.ID, "err", err.Error())
			}
		}
		if err := w.delete(context.WithoutCancel(ctx), done); err != nil {
			log.Error("delete messages", "err", err.Error())
		}
	}
}

// batchDeleter is a queue that deletes several messages in one request.
type batchDeleter interface {
	DeleteBatch(ctx context.Context, receipts []string) error
}

func (w *Worker) delete(ctx context.Context, receipts []string) error {
	if len(receipts) == 0 {
		return nil
	}
	if bd, ok := w.Queue.(batchDeleter); ok {
		return bd.DeleteBatch(ctx, receipts)
	}
	for _, r := range receipts {
		if err := w.Queue.Delete(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
