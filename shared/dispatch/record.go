package dispatch

import (
	"context"
	"fmt"
	"sync"

	"github.com/heraldhq/herald/shared/notify"
)

// maxRecordBatch bounds the deliveries a batcher writes in one call.
const maxRecordBatch = 64

// batcher writes the deliveries of one sendAll in batches: one store call
// (one transaction, one fsync in the embedded store; parallel writes in
// DynamoDB) for several recipients, instead of one each, which cost a
// commit per recipient when the store's group commit found no company.
//
// The crash bound stays what it was, a send's slot: a job keeps its slot
// (sendAll's semaphore) until its delivery is recorded, so what was sent
// but not recorded never exceeds the sends in flight. A batch is written
// when a quarter of the jobs in flight wait for it, when every job in
// flight waits for it, or when it is full; no timer: the job whose
// arrival meets the condition writes the batch, and a job that ends
// without a record (a transient error) checks the condition too.
type batcher struct {
	d   *Dispatcher
	ctx context.Context
	// done ends a job: its outcome is final and its slot is free.
	done func(j int, o outcome)

	mu       sync.Mutex
	inFlight int // jobs started and not done: sending, or waiting here
	pending  []pendingRecord
}

// pendingRecord is a delivery waiting for its batch.
type pendingRecord struct {
	j int
	o outcome // its msg and delivery; the rest is set once recorded
}

// start counts a job that starts sending.
func (r *batcher) start() {
	r.mu.Lock()
	r.inFlight++
	r.mu.Unlock()
}

// skip ends job j with outcome o, which has nothing to record.
func (r *batcher) skip(j int, o outcome) {
	r.mu.Lock()
	r.inFlight--
	batch := r.take()
	r.mu.Unlock()
	r.done(j, o)
	r.write(batch)
}

// add queues job j's delivery, writing the batch when it is due.
func (r *batcher) add(j int, o outcome) {
	r.mu.Lock()
	r.pending = append(r.pending, pendingRecord{j: j, o: o})
	batch := r.take()
	r.mu.Unlock()
	r.write(batch)
}

// take returns the pending batch when it is due, and forgets it; nil
// otherwise. r.mu is held.
func (r *batcher) take() []pendingRecord {
	n := len(r.pending)
	if n == 0 || (n < r.inFlight && n < maxRecordBatch && 4*n < r.inFlight) {
		return nil
	}
	batch := r.pending
	r.pending = nil
	r.inFlight -= n
	return batch
}

// write records batch, one store call, and ends its jobs.
func (r *batcher) write(batch []pendingRecord) {
	if len(batch) == 0 {
		return
	}
	ds := make([]notify.Delivery, len(batch))
	for i, p := range batch {
		ds[i] = p.o.delivery
	}
	stored, created, err := r.d.recordAll(r.ctx, ds)
	for i, p := range batch {
		o := p.o
		if err != nil {
			o.transient = err
		} else {
			o.delivery = stored[i]
			if created[i] {
				r.d.metrics.Delivery(o.delivery.Channel, dispatchOutcome(o.delivery.Status), o.delivery.Reason)
			}
		}
		r.done(p.j, o)
	}
}

// recordAll stores each delivery unless it exists, and returns the stored
// ones; created says which this call stored (so that a delivery another
// copy of the message recorded first is counted once, by that copy).
// Deliveries are all of one notification.
func (d *Dispatcher) recordAll(ctx context.Context, ds []notify.Delivery) (stored []notify.Delivery, created []bool, _ error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	created, err := d.store.RecordDeliveries(ctx, ds)
	if err != nil {
		return nil, nil, fmt.Errorf("record delivery: %w", err)
	}
	stored = ds
	var elsewhere []string
	for i, made := range created {
		if !made {
			elsewhere = append(elsewhere, ds[i].Key)
		}
	}
	if len(elsewhere) == 0 {
		return stored, created, nil
	}
	got, err := d.store.GetDeliveries(ctx, ds[0].WorkspaceID, ds[0].NotificationID, elsewhere)
	if err != nil {
		return nil, nil, fmt.Errorf("read delivery recorded elsewhere: %w", err)
	}
	stored = make([]notify.Delivery, len(ds))
	copy(stored, ds)
	for i, made := range created {
		if made {
			continue
		}
		s, ok := got[ds[i].Key]
		if !ok {
			return nil, nil, fmt.Errorf("delivery %s/%s neither created nor found", ds[i].NotificationID, ds[i].Key)
		}
		stored[i] = s
	}
	return stored, created, nil
}
