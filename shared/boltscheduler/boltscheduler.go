// Package boltscheduler is the embedded notify.Scheduler for the local mode:
// it keeps schedules in a bbolt file and fires them in process (Run), where
// EventBridge Scheduler would invoke the scheduler function on AWS. It
// computes run times with package schedule, as the API shows them.
//
// Layout: two top-level buckets.
//
//	schedules  name → the spec, its generation and its cursor (JSON)
//	due        cursor ‖ name → nothing; ordered by the time to fire next
//
// The cursor is the next scheduled time still to fire. Only an enabled
// schedule that has one is in due, so the loop finds what is due from the
// first keys of due, never scanning every schedule, and sleeps until the
// first key's time or until PutSchedule or DeleteSchedule wakes it.
//
// Semantics, which Options.Fire's receiver can rely on:
//
//   - PutSchedule computes the cursor from now: the first run strictly after
//     now. Replacing a schedule does the same, so an edit (or a resume) never
//     fires times that went by. A put of exactly the spec already kept (a
//     retried sync, a campaign renamed) changes nothing and keeps the cursor,
//     so it does not drop a time that is due or being retried. An at()
//     put after its time fires at once when that time is within Grace (a
//     send scheduled a second ahead and put a moment late); beyond, it is
//     kept but never fires.
//   - rate() runs are Start, Start+interval, … (schedule.Next(Start, after));
//     a rate() put without Start counts from the put. at() and cron() run in
//     Timezone, UTC when empty ("UTC" reads back, as on EventBridge
//     Scheduler); a rate() has no zone and reads back none.
//   - A schedule's times are fired in order, one at a time; different
//     schedules fire concurrently, at most Options.Workers Fire calls at once.
//   - The cursor moves past a time, durably, only once Fire returned nil for
//     it. After a crash or a Close during Fire, the same ScheduledAt fires
//     again: the receiver dedupes by scheduled time.
//   - A Fire error is retried, same Firing, after RetryBackoff doubling up to
//     MaxRetryBackoff, while other schedules keep firing. Once the time is
//     more than Grace old the retry hands it over with Missed set.
//   - Catching up (the process was stopped, the machine slept): of the times
//     that came due, only the latest runs, and only if it is at most Grace
//     old; every earlier one is handed over with Missed set, so a laptop
//     closed over three rate(1 minute) ticks runs once, not three times. To
//     avoid a flood, at most MaxMissed (100) missed times — the latest — are
//     handed over per catch-up and the older ones are only logged as a
//     count. A catch-up walks at most a million run times; a longer outage
//     takes several catch-ups, each ending with a missed batch, until the
//     cursor reaches now.
//   - An at() schedule is deleted once its time was fired (run or missed),
//     as EventBridge Scheduler's ActionAfterCompletion DELETE does. A cron()
//     whose last year has passed is kept, with no cursor.
//   - Every put gets a new generation. A firing only moves the cursor of the
//     generation it fired, so a schedule replaced or deleted while its Fire
//     runs keeps the new definition and cursor (or stays deleted).
//
// One process opens a file at a time: bbolt locks it.
package boltscheduler

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
	"github.com/heraldhq/herald/shared/wake"
)

// Defaults of Options left zero.
const (
	DefaultGrace           = time.Hour
	DefaultWorkers         = 4
	DefaultRetryBackoff    = time.Second
	DefaultMaxRetryBackoff = time.Minute
)

// MaxMissed is how many missed times one catch-up of a schedule hands to
// Fire at most: the latest ones. The older ones are only counted in the log.
const MaxMissed = 100

const (
	// maxWalk bounds the run times one catch-up computes (about 0.2 s of
	// cron() arithmetic): a year of rate(1 minute) is half of it.
	maxWalk = 1 << 20
	// maxJobs bounds the schedules being fired or retried at once, so that
	// thousands due together do not make as many goroutines.
	maxJobs = 256
	// errorPause is how long the loop waits after the file failed it.
	errorPause = time.Second
)

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("scheduler closed")

// Firing is one scheduled time of one schedule, handed to Options.Fire.
type Firing struct {
	// Name is the schedule's name.
	Name   string
	Target notify.ScheduleTarget
	// ScheduledAt is the run time the schedule computed, in UTC: the key
	// by which the receiver runs a time once.
	ScheduledAt time.Time
	// Missed asks the receiver to record the run as missed instead of
	// running it: the time was more than Options.Grace old when found due
	// (the scheduler was down) or when its failing Fire was retried, or a
	// later time of the same schedule runs instead (a catch-up runs only
	// the latest).
	Missed bool
}

// Options configure a scheduler.
type Options struct {
	// Fire runs one firing; required. It is called with the context of Run
	// and may call the scheduler's own methods (a run that deletes its
	// campaign's schedule). An error is retried; nil moves the schedule on.
	Fire func(ctx context.Context, f Firing) error
	// Grace is how late a run time may be found due and still run; older
	// ones are Missed. DefaultGrace when zero. The loop fires a few
	// milliseconds after a time, so a grace of less than a second marks
	// punctual runs missed.
	Grace time.Duration
	// Workers is how many Fire calls run at once; DefaultWorkers when zero.
	Workers int
	// RetryBackoff is the wait before retrying a Fire that returned an
	// error, doubling at each failure up to MaxRetryBackoff;
	// DefaultRetryBackoff and DefaultMaxRetryBackoff when zero.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// Now is the clock, time.Now when nil; tests set it. The loop sleeps on
	// real timers, computed from this clock.
	Now func() time.Time
	// NoSync skips the fsync after each write: writes survive the process
	// being killed but not a power loss or a kernel crash.
	NoSync bool
	// Log receives the loop's errors and catch-ups; discarded when nil.
	Log *slog.Logger
}

// Scheduler is a notify.Scheduler in a bbolt file that fires its schedules
// while Run runs. It is safe for concurrent use.
type Scheduler struct {
	db   *bolt.DB
	opts Options
	log  *slog.Logger
	sig  wake.Signal
	// slots holds a token per Fire call in progress.
	slots chan struct{}

	mu      sync.Mutex
	closed  bool
	running bool
	stop    chan struct{} // closed by Close
	runs    sync.WaitGroup
	// busy names the schedules with a job, which alone fires them.
	busy map[string]bool
}

var (
	schedulesBucket = []byte("schedules")
	dueBucket       = []byte("due")
)

// Open opens (creating if needed) the scheduler file at path. Nothing fires
// until Run.
func Open(path string, o Options) (*Scheduler, error) {
	if o.Fire == nil {
		return nil, fmt.Errorf("open scheduler %s: Options.Fire is nil", path)
	}
	if o.Grace < 0 || o.Workers < 0 || o.RetryBackoff < 0 || o.MaxRetryBackoff < 0 {
		return nil, fmt.Errorf("open scheduler %s: negative grace %v, workers %d or retry backoff %v, %v", path, o.Grace, o.Workers, o.RetryBackoff, o.MaxRetryBackoff)
	}
	if o.Grace == 0 {
		o.Grace = DefaultGrace
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = DefaultRetryBackoff
	}
	if o.MaxRetryBackoff == 0 {
		o.MaxRetryBackoff = DefaultMaxRetryBackoff
	}
	o.MaxRetryBackoff = max(o.MaxRetryBackoff, o.RetryBackoff)
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		// Another process holding the file is a mistake to report, not to
		// wait for forever.
		Timeout: 2 * time.Second,
		NoSync:  o.NoSync,
	})
	if err != nil {
		return nil, fmt.Errorf("open scheduler %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{schedulesBucket, dueBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open scheduler %s: create buckets: %w", path, err)
	}
	return &Scheduler{
		db: db, opts: o, log: log,
		slots: make(chan struct{}, o.Workers),
		stop:  make(chan struct{}),
		busy:  make(map[string]bool),
	}, nil
}

// Close stops Run, waits for the Fire calls in progress to return (their
// context is cancelled), and closes the file.
func (s *Scheduler) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	s.mu.Unlock()
	s.runs.Wait()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close scheduler: %w", err)
	}
	return nil
}

// record is what the file keeps of a schedule, under its name.
type record struct {
	Expression string                `json:"expression"`
	Timezone   string                `json:"timezone,omitempty"`
	Enabled    bool                  `json:"enabled"`
	Target     notify.ScheduleTarget `json:"target"`
	Start      time.Time             `json:"start"`
	// Gen is new at every put (a sequence of the file), so a firing of a
	// replaced or deleted schedule can tell.
	Gen uint64 `json:"gen"`
	// Next is the cursor; zero when there is none (disabled, or no run
	// left).
	Next time.Time `json:"next"`
}

// sameSpec reports whether r and o were put with the same spec.
func (r record) sameSpec(o record) bool {
	return r.Expression == o.Expression && r.Timezone == o.Timezone && r.Enabled == o.Enabled &&
		r.Target == o.Target && r.Start.Equal(o.Start)
}

func (r record) spec(name string) notify.ScheduleSpec {
	return notify.ScheduleSpec{
		Name: name, Expression: r.Expression, Timezone: r.Timezone, Enabled: r.Enabled,
		Target: r.Target, Start: r.Start,
	}
}

// parse reads spec's expression. A rate() has no zone: its Timezone is
// dropped, as EventBridge Scheduler ignores it; at() and cron() default to
// UTC.
func parse(spec notify.ScheduleSpec) (*schedule.Schedule, record, error) {
	r := record{Expression: spec.Expression, Timezone: spec.Timezone, Enabled: spec.Enabled, Target: spec.Target}
	if !spec.Start.IsZero() {
		r.Start = spec.Start.UTC()
	}
	switch {
	case strings.HasPrefix(spec.Expression, "rate("):
		r.Timezone = ""
	case r.Timezone == "":
		r.Timezone = "UTC"
	}
	sched, err := schedule.Parse(spec.Expression, r.Timezone)
	if errors.Is(err, schedule.ErrTimeZone) {
		return nil, record{}, notify.Invalid(notify.FieldError{Field: "timezone", Problem: err.Error()})
	}
	if err != nil {
		return nil, record{}, notify.Invalid(notify.FieldError{Field: "expression", Problem: err.Error()})
	}
	return sched, r, nil
}

// PutSchedule implements notify.Scheduler. The cursor is the first run
// after now, unless the same spec is kept already (see the package
// comment); the loop is woken to look at it.
func (s *Scheduler) PutSchedule(ctx context.Context, spec notify.ScheduleSpec) error {
	if err := notify.CheckScheduleName(spec.Name); err != nil {
		return err
	}
	sched, rec, err := parse(spec)
	if err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("put schedule %s: %w", spec.Name, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, due := tx.Bucket(schedulesBucket), tx.Bucket(dueBucket)
		old, ok, err := getRecord(b, spec.Name)
		if err != nil {
			return err
		}
		if ok && old.sameSpec(rec) {
			return nil
		}
		if ok && !old.Next.IsZero() {
			if err := due.Delete(dueKey(old.Next, spec.Name)); err != nil {
				return err
			}
		}
		if rec.Gen, err = b.NextSequence(); err != nil {
			return err
		}
		if rec.Enabled {
			now := s.opts.Now()
			if next, ok := sched.Next(rec.Start, now); ok {
				rec.Next = next
			} else if at, ok := sched.Next(rec.Start, time.Time{}); ok && sched.Kind() == schedule.KindAt && now.Sub(at) <= s.opts.Grace {
				// A one-off put a moment after its time (a send scheduled
				// a second ahead) still runs, at once, as a time found due
				// within the grace period does.
				rec.Next = at
			}
		}
		return putRecord(b, due, spec.Name, rec)
	})
	if err != nil {
		return fmt.Errorf("put schedule %s: %w", spec.Name, err)
	}
	s.sig.Broadcast()
	return nil
}

// GetSchedule implements notify.Scheduler.
func (s *Scheduler) GetSchedule(ctx context.Context, name string) (notify.ScheduleSpec, error) {
	if err := notify.CheckScheduleName(name); err != nil {
		return notify.ScheduleSpec{}, err
	}
	if err := s.check(ctx); err != nil {
		return notify.ScheduleSpec{}, fmt.Errorf("get schedule %s: %w", name, err)
	}
	rec, ok, err := s.load(name)
	if err != nil {
		return notify.ScheduleSpec{}, fmt.Errorf("get schedule %s: %w", name, err)
	}
	if !ok {
		return notify.ScheduleSpec{}, notify.NotFound("schedule", name)
	}
	return rec.spec(name), nil
}

// DeleteSchedule implements notify.Scheduler; a missing schedule (an at()
// that ran, a retried delete) is not an error.
func (s *Scheduler) DeleteSchedule(ctx context.Context, name string) error {
	if err := notify.CheckScheduleName(name); err != nil {
		return err
	}
	if err := s.check(ctx); err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return deleteRecord(tx, name)
	})
	if err != nil {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	s.sig.Broadcast()
	return nil
}

func (s *Scheduler) check(ctx context.Context) error {
	select {
	case <-s.stop:
		return ErrClosed
	default:
	}
	return ctx.Err()
}

// Run fires schedules as they come due until ctx is done or the scheduler
// is closed, and then returns nil once the Fire calls in progress returned.
// Errors of the file are logged and retried. One Run at a time.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return fmt.Errorf("run: %w", ErrClosed)
	case s.running:
		s.mu.Unlock()
		return errors.New("run: the scheduler is running already")
	}
	s.running = true
	s.runs.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = false
		s.mu.Unlock()
		s.runs.Done()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var jobs sync.WaitGroup
	defer jobs.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// Take the signal before looking, so a put in between wakes us.
		woken := s.sig.Wait()
		next, err := s.startDue(ctx, &jobs)
		if err != nil {
			s.log.Error("scheduler loop", "err", err.Error())
			next = s.opts.Now().Add(errorPause)
		}
		var ring <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(next.Sub(s.opts.Now()), 0))
			ring = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-woken:
		case <-ring:
		}
	}
}

// startDue starts a job for each due schedule that has none, and returns
// the first cursor still ahead (zero for none, or when the jobs are full: a
// job ending wakes the loop).
func (s *Scheduler) startDue(ctx context.Context, jobs *sync.WaitGroup) (time.Time, error) {
	now := s.opts.Now()
	var next time.Time
	var start []string
	err := s.db.View(func(tx *bolt.Tx) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		c := tx.Bucket(dueBucket).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			at, name, err := decodeDueKey(k)
			if err != nil {
				return err
			}
			if at.After(now) {
				next = at
				return nil
			}
			if s.busy[name] {
				continue // its job fires it
			}
			if len(s.busy) >= maxJobs {
				return nil
			}
			s.busy[name] = true
			start = append(start, name)
		}
		return nil
	})
	for _, name := range start {
		jobs.Add(1)
		go func() {
			defer jobs.Done()
			s.job(ctx, name)
			s.mu.Lock()
			delete(s.busy, name)
			s.mu.Unlock()
			s.sig.Broadcast()
		}()
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("find due schedules: %w", err)
	}
	return next, nil
}

// job fires the due times of schedule name, catching up until its cursor
// is ahead of now, the schedule changes, or ctx is done.
func (s *Scheduler) job(ctx context.Context, name string) {
	pause := s.opts.RetryBackoff
	for ctx.Err() == nil {
		rec, ok, err := s.load(name)
		if err != nil {
			s.log.Error("load schedule", "schedule", name, "err", err.Error())
			if !sleep(ctx, pause) {
				return
			}
			pause = min(2*pause, s.opts.MaxRetryBackoff)
			continue
		}
		now := s.opts.Now()
		if !ok || rec.Next.IsZero() || rec.Next.After(now) {
			return
		}
		sched, _, err := parse(rec.spec(name))
		if err != nil {
			// It parsed when put: the zone database went missing since.
			// Ending the job would restart it at once; wait instead.
			s.log.Error("schedule does not parse: not fired", "schedule", name, "expression", rec.Expression, "timezone", rec.Timezone, "err", err.Error())
			if !sleep(ctx, pause) {
				return
			}
			pause = min(2*pause, s.opts.MaxRetryBackoff)
			continue
		}
		for _, f := range s.catchUp(name, rec, sched, now) {
			if !s.fire(ctx, rec, sched, f) {
				return
			}
		}
	}
}

// catchUp returns the firings of the times due from rec's cursor to now,
// as the package comment says: the latest runs if within grace, the times
// before it are Missed, at most MaxMissed of them.
func (s *Scheduler) catchUp(name string, rec record, sched *schedule.Schedule, now time.Time) []Firing {
	// last keeps the latest MaxMissed+1 times walked, in order.
	last := make([]time.Time, 0, MaxMissed+1)
	walked, done := 0, false
	for t := rec.Next; ; {
		if len(last) == MaxMissed+1 {
			copy(last, last[1:])
			last = last[:MaxMissed]
		}
		last = append(last, t)
		walked++
		next, ok := sched.Next(rec.Start, t)
		if !ok || next.After(now) {
			done = true
			break
		}
		if walked == maxWalk {
			break
		}
		t = next
	}
	latest := last[len(last)-1]
	run := done && !latest.Before(now.Add(-s.opts.Grace))
	missed := last
	if run {
		missed = last[:len(last)-1]
	}
	if len(missed) > MaxMissed {
		missed = missed[len(missed)-MaxMissed:]
	}
	firings := make([]Firing, 0, len(missed)+1)
	for _, t := range missed {
		firings = append(firings, Firing{Name: name, Target: rec.Target, ScheduledAt: t, Missed: true})
	}
	if run {
		firings = append(firings, Firing{Name: name, Target: rec.Target, ScheduledAt: latest})
	}
	if walked > 1 || !run {
		s.log.Warn("schedule catching up", "schedule", name,
			"workspaceId", rec.Target.WorkspaceID, "campaignId", rec.Target.CampaignID,
			"from", rec.Next, "to", latest, "times", walked, "missed", len(missed),
			"dropped", walked-len(firings), "run", run, "caughtUp", done)
	}
	return firings
}

// fire calls Fire until it returns nil, then moves the cursor past f. It
// reports whether the job may go on: false when ctx is done or the schedule
// was replaced or deleted meanwhile.
func (s *Scheduler) fire(ctx context.Context, rec record, sched *schedule.Schedule, f Firing) bool {
	pause := s.opts.RetryBackoff
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			cur, ok, err := s.load(f.Name)
			if err == nil && (!ok || cur.Gen != rec.Gen) {
				return false // replaced or deleted while failing
			}
		}
		if !f.Missed && s.opts.Now().Sub(f.ScheduledAt) > s.opts.Grace {
			f.Missed = true
		}
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		err := s.opts.Fire(ctx, f)
		<-s.slots
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return false
		}
		s.log.Warn("schedule firing failed: retrying", "schedule", f.Name,
			"workspaceId", f.Target.WorkspaceID, "campaignId", f.Target.CampaignID,
			"scheduledAt", f.ScheduledAt, "missed", f.Missed, "attempt", attempt, "retryIn", pause, "err", err.Error())
		if !sleep(ctx, pause) {
			return false
		}
		pause = min(2*pause, s.opts.MaxRetryBackoff)
	}
	pause = s.opts.RetryBackoff
	for {
		kept, err := s.advance(f.Name, rec.Gen, sched, f.ScheduledAt)
		if err == nil {
			return kept
		}
		s.log.Error("schedule fired but not moved on: retrying", "schedule", f.Name, "scheduledAt", f.ScheduledAt, "err", err.Error())
		if !sleep(ctx, pause) {
			return false
		}
		pause = min(2*pause, s.opts.MaxRetryBackoff)
	}
}

// advance moves the cursor of schedule name past at, the time just fired,
// if the schedule is still generation gen; an at() is deleted instead. It
// reports whether the schedule is still there, unchanged, to fire on.
func (s *Scheduler) advance(name string, gen uint64, sched *schedule.Schedule, at time.Time) (bool, error) {
	var kept bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		kept = false
		b, due := tx.Bucket(schedulesBucket), tx.Bucket(dueBucket)
		rec, ok, err := getRecord(b, name)
		if err != nil || !ok || rec.Gen != gen {
			return err // replaced or deleted while firing: theirs now
		}
		if sched.Kind() == schedule.KindAt {
			return deleteRecord(tx, name)
		}
		if !rec.Next.IsZero() {
			if err := due.Delete(dueKey(rec.Next, name)); err != nil {
				return err
			}
		}
		rec.Next = time.Time{}
		if next, ok := sched.Next(rec.Start, at); ok {
			rec.Next = next
		}
		kept = true
		return putRecord(b, due, name, rec)
	})
	if err != nil {
		return false, fmt.Errorf("move schedule %s past %s: %w", name, at.Format(time.RFC3339), err)
	}
	return kept, nil
}

func (s *Scheduler) load(name string) (rec record, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		rec, ok, err = getRecord(tx.Bucket(schedulesBucket), name)
		return err
	})
	return rec, ok, err
}

func getRecord(b *bolt.Bucket, name string) (record, bool, error) {
	v := b.Get([]byte(name))
	if v == nil {
		return record{}, false, nil
	}
	var rec record
	if err := json.Unmarshal(v, &rec); err != nil {
		return record{}, false, fmt.Errorf("schedule %s: %w", name, err)
	}
	return rec, true, nil
}

// putRecord writes rec, and its due key when it has a cursor.
func putRecord(b, due *bolt.Bucket, name string, rec record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := b.Put([]byte(name), v); err != nil {
		return err
	}
	if rec.Next.IsZero() {
		return nil
	}
	return due.Put(dueKey(rec.Next, name), nil)
}

func deleteRecord(tx *bolt.Tx, name string) error {
	b := tx.Bucket(schedulesBucket)
	rec, ok, err := getRecord(b, name)
	if err != nil || !ok {
		return err
	}
	if !rec.Next.IsZero() {
		if err := tx.Bucket(dueBucket).Delete(dueKey(rec.Next, name)); err != nil {
			return err
		}
	}
	return b.Delete([]byte(name))
}

// dueKey sorts by time, then name: Unix seconds with the sign bit flipped
// (so times before 1970 sort first) and nanoseconds, big-endian, then the
// name. Seconds, not UnixNano, so an at() past 2262 fits.
func dueKey(t time.Time, name string) []byte {
	k := make([]byte, 0, 12+len(name))
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^1<<63)
	k = binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
	return append(k, name...)
}

func decodeDueKey(k []byte) (time.Time, string, error) {
	if len(k) <= 12 {
		return time.Time{}, "", fmt.Errorf("malformed due key %x", k)
	}
	secs := int64(binary.BigEndian.Uint64(k) ^ 1<<63)
	return time.Unix(secs, int64(binary.BigEndian.Uint32(k[8:]))).UTC(), string(k[12:]), nil
}

// sleep waits d, and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
