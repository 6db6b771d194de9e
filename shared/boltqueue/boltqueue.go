// Package boltqueue is the embedded notify.Queue: a durable at-least-once work
// queue in a bbolt file, for the local mode that runs Herald in one process
// without AWS. It keeps SQS's semantics — a received message is hidden for a
// visibility timeout and comes back unless deleted, and after MaxReceives
// receives it moves to a dead-letter queue — so the dispatch pipeline behaves
// the same on either queue.
//
// One file holds one queue and its dead-letter queue (DeadLetter), so moving a
// message to the dead-letter queue is a single transaction. Use one file per
// queue: bbolt serialises the writers of a file.
//
// Layout: each queue is a top-level bucket with three buckets inside, all
// keyed by the message's 8-byte sequence number (its ID):
//
//	meta   seq → visible-at (unix ns), receive count and sent-at (unix ns),
//	       20 bytes (12, without sent-at, in files from before it was kept)
//	body   seq → the body, written once on send
//	index  visible-at ‖ seq → nothing; ordered by when the message is visible
//
// Receive reads the index from its first key, so it costs O(max · log n)
// whatever the length of the queue; it rewrites only the 20-byte meta record,
// never the body.
package boltqueue

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/wake"
)

// DefaultVisibility is the visibility timeout when Options leave it zero; it
// is SQS's default.
const DefaultVisibility = 30 * time.Second

// ErrClosed is returned by a Receive that was waiting when the queue closed,
// and by every call after Close.
var ErrClosed = errors.New("queue closed")

// Options configure a queue.
type Options struct {
	// Visibility is how long a received message stays hidden before it is
	// delivered again; DefaultVisibility when zero.
	Visibility time.Duration
	// MaxReceives is how many receives without a delete a message gets
	// before the next receive moves it to the dead-letter queue; zero keeps
	// messages forever.
	MaxReceives int
	// NoSync skips the fsync after each write. Writes still reach the
	// operating system before a call returns, so messages survive the
	// process being killed (kill -9), but not a power loss or a kernel
	// crash. It makes writes several times faster.
	NoSync bool
}

// Stats counts a queue's messages, for the local API and for debugging.
type Stats struct {
	// Visible messages are waiting to be received.
	Visible int `json:"visible"`
	// InFlight messages were received and are hidden until their
	// visibility timeout.
	InFlight int `json:"inFlight"`
	// Dead messages are in the dead-letter queue (zero for the dead-letter
	// queue itself).
	Dead int `json:"dead"`
}

// Queue is a durable queue in a bbolt file. It is safe for concurrent use;
// concurrent receivers never get the same message while it is in flight.
type Queue struct {
	db         *bolt.DB
	name       []byte
	visibility time.Duration
	// maxReceives is zero for the dead-letter queue: nothing moves on from it.
	maxReceives int
	// dead is nil for the dead-letter queue itself.
	dead *Queue
	// owner is true for the queue that Open returned; only it closes the file.
	owner  bool
	sig    *wake.Signal
	closed chan struct{}
	// closeOnce guards closed, which the dead-letter queue shares.
	closeOnce *sync.Once
}

var (
	mainBucket  = []byte("queue")
	deadBucket  = []byte("dead")
	idsBucket   = []byte("ids")
	metaBucket  = []byte("meta")
	bodyBucket  = []byte("body")
	indexBucket = []byte("index")
	countKey    = []byte("count")
)

// Open opens (creating if needed) the queue file at path. Messages that were
// in flight when the file was last closed stay hidden until their visibility
// timeout; a process that knows no earlier consumer is alive calls
// RequeueInFlight after Open.
func Open(path string, opts Options) (*Queue, error) {
	if opts.Visibility == 0 {
		opts.Visibility = DefaultVisibility
	}
	if opts.Visibility < 0 || opts.MaxReceives < 0 {
		return nil, fmt.Errorf("open queue %s: negative visibility %v or max receives %d", path, opts.Visibility, opts.MaxReceives)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		// Another process holding the file is a mistake to report, not
		// to wait for forever.
		Timeout: 2 * time.Second,
		NoSync:  opts.NoSync,
		// A queue frees and reuses pages all the time: a hashmap free
		// list is faster than the array one, and not writing it on every
		// commit saves a page per transaction (it is rebuilt on open).
		FreelistType:   bolt.FreelistMapType,
		NoFreelistSync: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open queue %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(idsBucket); err != nil {
			return err
		}
		for _, name := range [][]byte{mainBucket, deadBucket} {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			for _, sub := range [][]byte{metaBucket, bodyBucket, indexBucket} {
				if _, err := b.CreateBucketIfNotExists(sub); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open queue %s: create buckets: %w", path, err)
	}
	closed := make(chan struct{})
	once := new(sync.Once)
	dead := &Queue{
		db: db, name: deadBucket, visibility: opts.Visibility,
		sig: &wake.Signal{}, closed: closed, closeOnce: once,
	}
	return &Queue{
		db: db, name: mainBucket, visibility: opts.Visibility,
		maxReceives: opts.MaxReceives, dead: dead, owner: true,
		sig: &wake.Signal{}, closed: closed, closeOnce: once,
	}, nil
}

// DeadLetter returns the dead-letter queue kept in the same file, where
// messages go after MaxReceives receives. It has the same visibility timeout
// and keeps its messages until they are deleted. It returns nil when q is
// itself the dead-letter queue. Closing it does nothing: close q.
func (q *Queue) DeadLetter() *Queue {
	return q.dead
}

// VisibilityTimeout is how long a receive hides a message: consumers
// that work on a message for longer renew it (notify.KeepHidden) every
// third of it.
func (q *Queue) VisibilityTimeout() time.Duration {
	return q.visibility
}

// Close closes the file; a Receive waiting on q or its dead-letter queue
// returns ErrClosed.
func (q *Queue) Close() error {
	if !q.owner {
		return nil
	}
	q.closeOnce.Do(func() { close(q.closed) })
	if err := q.db.Close(); err != nil {
		return fmt.Errorf("close queue: %w", err)
	}
	return nil
}

// Send enqueues bodies in one transaction: all of them or, with an error,
// none.
func (q *Queue) Send(ctx context.Context, bodies [][]byte) error {
	return q.SendDelayed(ctx, bodies, 0)
}

// SendDelayed implements notify.Queue: the bodies become visible after
// delay, exactly (no cap).
func (q *Queue) SendDelayed(ctx context.Context, bodies [][]byte, delay time.Duration) error {
	if len(bodies) == 0 {
		return nil
	}
	if err := q.check(ctx); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	sent := time.Now()
	visibleAt := sent.Add(max(delay, 0)).UnixNano()
	err := q.db.Update(func(tx *bolt.Tx) error {
		ids := tx.Bucket(idsBucket)
		b := q.buckets(tx)
		for _, body := range bodies {
			seq, err := ids.NextSequence()
			if err != nil {
				return err
			}
			if err := b.put(seq, record{visibleAt: visibleAt, sentAt: sent.UnixNano()}, body); err != nil {
				return err
			}
		}
		return b.addCount(len(bodies))
	})
	if err != nil {
		return fmt.Errorf("send %d messages: %w", len(bodies), err)
	}
	q.sig.Broadcast()
	return nil
}

// Receive returns up to max visible messages, in the order they became
// visible (sent, or back from a timeout), and hides them for the visibility
// timeout. When none is visible it waits up to wait for one to be sent or to
// come back from its timeout, without polling. A message received MaxReceives
// times already moves to the dead-letter queue instead.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]notify.QueueMessage, error) {
	if max < 1 {
		return nil, fmt.Errorf("receive: max %d, want at least 1", max)
	}
	deadline := time.Now().Add(wait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := q.check(ctx); err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		// Take the signal before looking, so a send in between wakes us.
		sent := q.sig.Wait()
		msgs, next, err := q.receive(max)
		if err != nil {
			return nil, fmt.Errorf("receive: %w", err)
		}
		now := time.Now()
		if len(msgs) > 0 || !now.Before(deadline) {
			return msgs, nil
		}
		until := deadline
		if !next.IsZero() && next.Before(until) {
			until = next
		}
		if timer == nil {
			timer = time.NewTimer(until.Sub(now))
		} else {
			timer.Reset(until.Sub(now))
		}
		select {
		case <-sent:
		case <-timer.C:
		case <-ctx.Done():
			return nil, fmt.Errorf("receive: %w", ctx.Err())
		case <-q.closed:
			return nil, fmt.Errorf("receive: %w", ErrClosed)
		}
	}
}

// receive takes up to max visible messages in one transaction. When there
// are none it returns when the first hidden one becomes visible (zero if the
// queue is empty).
func (q *Queue) receive(max int) (msgs []notify.QueueMessage, next time.Time, err error) {
	var movedDead bool
	err = q.db.Update(func(tx *bolt.Tx) error {
		msgs, next, movedDead = nil, time.Time{}, false
		now := time.Now().UnixNano()
		b := q.buckets(tx)
		// Collect first: a bbolt cursor must not walk keys being changed.
		var take, dead []uint64
		c := b.index.Cursor()
		for k, _ := c.First(); k != nil && len(take) < max; k, _ = c.Next() {
			visibleAt, seq := decodeIndexKey(k)
			if visibleAt > now {
				next = time.Unix(0, visibleAt)
				break
			}
			rec, ok := b.record(seq)
			if !ok {
				return fmt.Errorf("message %d indexed but missing", seq)
			}
			if q.maxReceives > 0 && rec.receiveCount >= q.maxReceives {
				dead = append(dead, seq)
				continue
			}
			take = append(take, seq)
		}
		for _, seq := range dead {
			if err := q.moveDead(tx, b, seq, now); err != nil {
				return err
			}
		}
		movedDead = len(dead) > 0
		if len(take) > 0 {
			next = time.Time{}
		}
		visibleAt := now + int64(q.visibility)
		for _, seq := range take {
			rec, _ := b.record(seq)
			if err := b.index.Delete(indexKey(rec.visibleAt, seq)); err != nil {
				return err
			}
			rec.visibleAt = visibleAt
			rec.receiveCount++
			if err := b.setRecord(seq, rec); err != nil {
				return err
			}
			m := notify.QueueMessage{
				ID:           strconv.FormatUint(seq, 10),
				Body:         bytes.Clone(b.body.Get(seqKey(seq))),
				Receipt:      receipt(seq, rec.receiveCount),
				ReceiveCount: rec.receiveCount,
			}
			if rec.sentAt != 0 {
				m.SentAt = time.Unix(0, rec.sentAt)
			}
			msgs = append(msgs, m)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	if movedDead {
		q.dead.sig.Broadcast()
	}
	return msgs, next, nil
}

// moveDead moves message seq to the dead-letter queue, keeping its ID, body
// and receive count, visible at once.
func (q *Queue) moveDead(tx *bolt.Tx, from buckets, seq uint64, now int64) error {
	rec, _ := from.record(seq)
	body := bytes.Clone(from.body.Get(seqKey(seq)))
	if err := from.remove(seq, rec); err != nil {
		return err
	}
	if err := from.addCount(-1); err != nil {
		return err
	}
	to := q.dead.buckets(tx)
	rec.visibleAt = now
	if err := to.put(seq, rec, body); err != nil {
		return err
	}
	return to.addCount(1)
}

// Delete deletes the message the receipt came from. Deleting with an older
// receipt of a message that was received again still deletes it, and
// deleting a message already gone is no error: both mean its work is done.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	return q.DeleteBatch(ctx, []string{receipt})
}

// DeleteBatch deletes the messages of several receipts in one transaction,
// which saves a disk sync per message.
func (q *Queue) DeleteBatch(ctx context.Context, receipts []string) error {
	if len(receipts) == 0 {
		return nil
	}
	seqs := make([]uint64, len(receipts))
	for i, r := range receipts {
		seq, _, err := parseReceipt(r)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		seqs[i] = seq
	}
	if err := q.check(ctx); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := q.buckets(tx)
		removed := 0
		for _, seq := range seqs {
			rec, ok := b.record(seq)
			if !ok {
				continue
			}
			if err := b.remove(seq, rec); err != nil {
				return err
			}
			removed++
		}
		return b.addCount(-removed)
	})
	if err != nil {
		return fmt.Errorf("delete messages: %w", err)
	}
	return nil
}

// ChangeVisibility hides the message for timeout from now; zero makes it
// visible at once. Only the latest receipt of a message is accepted, so a
// consumer that held it too long cannot hide it from the one now holding it.
func (q *Queue) ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error {
	seq, count, err := parseReceipt(receipt)
	if err != nil {
		return fmt.Errorf("change visibility: %w", err)
	}
	if timeout < 0 {
		return fmt.Errorf("change visibility: negative timeout %v", timeout)
	}
	if err := q.check(ctx); err != nil {
		return fmt.Errorf("change visibility: %w", err)
	}
	err = q.db.Update(func(tx *bolt.Tx) error {
		b := q.buckets(tx)
		rec, ok := b.record(seq)
		if !ok {
			return notify.NotFound("message", strconv.FormatUint(seq, 10))
		}
		if rec.receiveCount != count {
			return notify.Errorf(notify.CodeConflict, "receipt %s is stale: message %d was received again", receipt, seq)
		}
		return b.move(seq, rec, time.Now().Add(timeout).UnixNano())
	})
	if err != nil {
		return fmt.Errorf("change visibility of %s: %w", receipt, err)
	}
	// Waiters may sleep until a later visibility; let them look again.
	q.sig.Broadcast()
	return nil
}

// RequeueInFlight makes every in-flight message visible at once and returns
// how many there were. A process calls it after Open when it knows that no
// consumer from before is alive — after a crash — so their messages need not
// wait out the visibility timeout. Receive counts are kept.
func (q *Queue) RequeueInFlight() (int, error) {
	var n int
	err := q.db.Update(func(tx *bolt.Tx) error {
		n = 0
		now := time.Now().UnixNano()
		b := q.buckets(tx)
		var seqs []uint64
		c := b.index.Cursor()
		for k, _ := c.Seek(indexKey(now+1, 0)); k != nil; k, _ = c.Next() {
			_, seq := decodeIndexKey(k)
			seqs = append(seqs, seq)
		}
		for _, seq := range seqs {
			rec, _ := b.record(seq)
			if err := b.move(seq, rec, now); err != nil {
				return err
			}
		}
		n = len(seqs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("requeue in-flight messages: %w", err)
	}
	if n > 0 {
		q.sig.Broadcast()
	}
	return n, nil
}

// Stats counts the messages; it walks only the in-flight ones.
func (q *Queue) Stats() (Stats, error) {
	var s Stats
	err := q.db.View(func(tx *bolt.Tx) error {
		s = Stats{}
		now := time.Now().UnixNano()
		b := q.buckets(tx)
		c := b.index.Cursor()
		for k, _ := c.Seek(indexKey(now+1, 0)); k != nil; k, _ = c.Next() {
			s.InFlight++
		}
		s.Visible = b.count() - s.InFlight
		if q.dead != nil {
			s.Dead = q.dead.buckets(tx).count()
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("queue stats: %w", err)
	}
	return s, nil
}

func (q *Queue) check(ctx context.Context) error {
	select {
	case <-q.closed:
		return ErrClosed
	default:
	}
	return ctx.Err()
}

// buckets are one queue's buckets within a transaction.
type buckets struct {
	root, meta, body, index *bolt.Bucket
}

func (q *Queue) buckets(tx *bolt.Tx) buckets {
	root := tx.Bucket(q.name)
	return buckets{
		root:  root,
		meta:  root.Bucket(metaBucket),
		body:  root.Bucket(bodyBucket),
		index: root.Bucket(indexBucket),
	}
}

// record is a message's mutable state, and when it was sent.
type record struct {
	visibleAt    int64 // unix ns
	receiveCount int
	sentAt       int64 // unix ns; 0 for a message sent before it was kept
}

func (b buckets) record(seq uint64) (record, bool) {
	v := b.meta.Get(seqKey(seq))
	if len(v) != 12 && len(v) != 20 {
		return record{}, false
	}
	rec := record{
		visibleAt:    int64(binary.BigEndian.Uint64(v)),
		receiveCount: int(binary.BigEndian.Uint32(v[8:])),
	}
	if len(v) == 20 {
		rec.sentAt = int64(binary.BigEndian.Uint64(v[12:]))
	}
	return rec, true
}

func (b buckets) setRecord(seq uint64, rec record) error {
	v := make([]byte, 20)
	binary.BigEndian.PutUint64(v, uint64(rec.visibleAt))
	binary.BigEndian.PutUint32(v[8:], uint32(rec.receiveCount))
	binary.BigEndian.PutUint64(v[12:], uint64(rec.sentAt))
	if err := b.meta.Put(seqKey(seq), v); err != nil {
		return err
	}
	return b.index.Put(indexKey(rec.visibleAt, seq), nil)
}

func (b buckets) put(seq uint64, rec record, body []byte) error {
	if err := b.body.Put(seqKey(seq), body); err != nil {
		return err
	}
	return b.setRecord(seq, rec)
}

// move changes when the message becomes visible.
func (b buckets) move(seq uint64, rec record, visibleAt int64) error {
	if err := b.index.Delete(indexKey(rec.visibleAt, seq)); err != nil {
		return err
	}
	rec.visibleAt = visibleAt
	return b.setRecord(seq, rec)
}

func (b buckets) remove(seq uint64, rec record) error {
	k := seqKey(seq)
	if err := b.index.Delete(indexKey(rec.visibleAt, seq)); err != nil {
		return err
	}
	if err := b.meta.Delete(k); err != nil {
		return err
	}
	return b.body.Delete(k)
}

func (b buckets) count() int {
	v := b.root.Get(countKey)
	if len(v) != 8 {
		return 0
	}
	return int(binary.BigEndian.Uint64(v))
}

func (b buckets) addCount(delta int) error {
	if delta == 0 {
		return nil
	}
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(b.count()+delta))
	return b.root.Put(countKey, v)
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// indexKey sorts by visibility time, then by sequence so that messages
// visible at the same time come out in the order they were sent.
func indexKey(visibleAt int64, seq uint64) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(visibleAt))
	return binary.BigEndian.AppendUint64(k, seq)
}

func decodeIndexKey(k []byte) (visibleAt int64, seq uint64) {
	return int64(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(k[8:])
}

// receipt names one receive of a message: its sequence and receive count.
func receipt(seq uint64, receiveCount int) string {
	return strconv.FormatUint(seq, 10) + "." + strconv.Itoa(receiveCount)
}

func parseReceipt(r string) (seq uint64, receiveCount int, err error) {
	s, c, ok := strings.Cut(r, ".")
	if ok {
		seq, err = strconv.ParseUint(s, 10, 64)
	}
	if ok && err == nil {
		receiveCount, err = strconv.Atoi(c)
	}
	if !ok || err != nil {
		return 0, 0, notify.Errorf(notify.CodeBadRequest, "malformed receipt %q", r)
	}
	return seq, receiveCount, nil
}
