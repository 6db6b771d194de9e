package boltscheduler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedulertest"
)

func TestContract(t *testing.T) {
	schedulertest.Run(t, func(t *testing.T) notify.Scheduler {
		// Running, so the suite's puts also go through a live loop.
		r := newRecorder(t, nil)
		return start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, NoSync: true}).s
	})
}

// t0 is the fake clock's origin: rate() schedules are anchored there.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// clock is a settable Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(now time.Time) *clock { return &clock{now: now} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is an Options.Fire that hands every call to the test, and fails
// the test when two calls of one schedule overlap.
type recorder struct {
	t     *testing.T
	calls chan Firing
	// fn, when set, decides what a call returns (it may block).
	fn func(ctx context.Context, f Firing) error

	mu       sync.Mutex
	inFlight map[string]bool
}

func newRecorder(t *testing.T, fn func(ctx context.Context, f Firing) error) *recorder {
	return &recorder{t: t, calls: make(chan Firing, 10000), fn: fn, inFlight: make(map[string]bool)}
}

func (r *recorder) fire(ctx context.Context, f Firing) error {
	r.mu.Lock()
	if r.inFlight[f.Name] {
		r.t.Errorf("Fire(%s, %s) while another Fire of %s runs", f.Name, f.ScheduledAt, f.Name)
	}
	r.inFlight[f.Name] = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.inFlight[f.Name] = false
		r.mu.Unlock()
	}()
	r.calls <- f
	if r.fn == nil {
		return nil
	}
	return r.fn(ctx, f)
}

// next returns the firing of the next call of Fire.
func (r *recorder) next(t *testing.T) Firing {
	t.Helper()
	select {
	case c := <-r.calls:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("Fire was not called within 5s")
		return Firing{}
	}
}

// firings returns the next n calls' firings.
func (r *recorder) firings(t *testing.T, n int) []Firing {
	t.Helper()
	out := make([]Firing, n)
	for i := range out {
		out[i] = r.next(t)
	}
	return out
}

// none checks that Fire is not called for a while.
func (r *recorder) none(t *testing.T) {
	t.Helper()
	select {
	case c := <-r.calls:
		t.Errorf("Fire(%+v) called, want no call", c)
	case <-time.After(150 * time.Millisecond):
	}
}

type harness struct {
	s    *Scheduler
	stop func()
}

// start opens the file and runs the scheduler until the test ends or stop.
func start(t *testing.T, path string, o Options) harness {
	t.Helper()
	s := open(t, path, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		running := s.running
		s.mu.Unlock()
		if running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not start within 5s")
		}
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run after cancel = %v, want nil", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return harness{s: s, stop: stop}
}

func open(t *testing.T, path string, o Options) *Scheduler {
	t.Helper()
	s, err := Open(path, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// tick moves the fake clock and wakes the loop, which sleeps on real timers.
func tick(s *Scheduler, c *clock, d time.Duration) {
	c.add(d)
	s.sig.Broadcast()
}

func put(t *testing.T, s *Scheduler, spec notify.ScheduleSpec) {
	t.Helper()
	if err := s.PutSchedule(t.Context(), spec); err != nil {
		t.Fatalf("PutSchedule(%+v): %v", spec, err)
	}
}

func target(id string) notify.ScheduleTarget {
	return notify.ScheduleTarget{WorkspaceID: "ws1", CampaignID: id}
}

func everyMinute(name string) notify.ScheduleSpec {
	return notify.ScheduleSpec{Name: name, Expression: "rate(1 minute)", Enabled: true, Target: target(name), Start: t0}
}

func atExpr(t time.Time) string { return "at(" + t.Format("2006-01-02T15:04:05") + ")" }

// waitIdle waits until no job fires name, so what it wrote is final.
func waitIdle(t *testing.T, s *Scheduler, name string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		busy := s.busy[name]
		s.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("schedule %s still firing after 5s", name)
		}
	}
}

// cursor returns the next time name fires, zero for none.
func cursor(t *testing.T, s *Scheduler, name string) time.Time {
	t.Helper()
	rec, ok, err := s.load(name)
	if err != nil || !ok {
		t.Fatalf("load(%s) = %v, %v", name, ok, err)
	}
	return rec.Next
}

func expectGone(t *testing.T, s *Scheduler, name string) {
	t.Helper()
	if got, err := s.GetSchedule(t.Context(), name); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("GetSchedule(%s) = %+v, %v; want not_found", name, got, err)
	}
}

func TestPutInvalid(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: newRecorder(t, nil).fire, NoSync: true})
	tests := []struct {
		name, schedule, expr, tz string
		wantField                string // "" for valid
	}{
		{"bad name", "c/1", "rate(1 hour)", "", "name"},
		{"empty name", "", "rate(1 hour)", "", "name"},
		{"bad expression", "c-1", "every hour", "", "expression"},
		{"bad rate", "c-1", "rate(1 hours)", "", "expression"},
		{"bad zone", "c-1", "cron(0 9 * * ? *)", "Mars/Olympus", "timezone"},
		{"rate has no zone", "c-1", "rate(1 hour)", "Mars/Olympus", ""},
	}
	for _, tt := range tests {
		err := s.PutSchedule(t.Context(), notify.ScheduleSpec{Name: tt.schedule, Expression: tt.expr, Timezone: tt.tz, Enabled: true})
		var e *notify.Error
		switch {
		case tt.wantField == "" && err != nil:
			t.Errorf("%s: PutSchedule = %v, want nil", tt.name, err)
		case tt.wantField != "" && (!errors.As(err, &e) || e.Code != notify.CodeValidation || e.Details[0].Field != tt.wantField):
			t.Errorf("%s: PutSchedule = %v, want a %s error on %s", tt.name, err, notify.CodeValidation, tt.wantField)
		}
	}
	if _, err := s.GetSchedule(t.Context(), "c/1"); !notify.IsCode(err, notify.CodeValidation) {
		t.Errorf("GetSchedule(c/1) = %v, want %s", err, notify.CodeValidation)
	}
}

func TestOpenRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "schedules.db")
	if _, err := Open(path, Options{}); err == nil {
		t.Errorf("Open with no Fire = nil error, want one")
	}
	h := start(t, path, Options{Fire: newRecorder(t, nil).fire, NoSync: true})
	if err := h.s.Run(t.Context()); err == nil {
		t.Errorf("second Run = nil, want an error")
	}
	h.stop()
	if err := h.s.Run(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close = %v, want ErrClosed", err)
	}
	if err := h.s.PutSchedule(t.Context(), everyMinute("c-1")); !errors.Is(err, ErrClosed) {
		t.Errorf("PutSchedule after Close = %v, want ErrClosed", err)
	}
}

// TestAtFiresOnce: an at() fires at its time, not before and not at a
// later poll or put, once, and is then deleted. The loop sleeps on a real
// timer computed from the fake clock, so the clock stands a few
// milliseconds before the time: the timer rings and finds nothing due
// until the clock reaches the time, and then, with no wake-up from the
// test, the loop's own timer fires it.
func TestAtFiresOnce(t *testing.T) {
	at := t0.Add(time.Hour)
	c := newClock(at.Add(-20 * time.Millisecond))
	r := newRecorder(t, nil)
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now, NoSync: true})
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	// Written in Tokyo's time, as the operator would.
	put(t, h.s, notify.ScheduleSpec{Name: "c-at", Expression: atExpr(at.In(tokyo)), Timezone: "Asia/Tokyo", Enabled: true, Target: target("at")})
	r.none(t) // not before its time
	c.add(20 * time.Millisecond)

	got := r.next(t)
	want := Firing{Name: "c-at", Target: target("at"), ScheduledAt: at}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("firing (-want +got):\n%s", diff)
	}
	if got.ScheduledAt.Location() != time.UTC {
		t.Errorf("ScheduledAt %v is not in UTC", got.ScheduledAt)
	}
	waitIdle(t, h.s, "c-at")
	expectGone(t, h.s, "c-at")
	r.none(t)
}

// TestAtPutLateFiresAtOnce: a one-off put a moment after its time (a send
// scheduled a second ahead, put a little later) runs at once; one put
// beyond the grace period never runs.
func TestAtPutLateFiresAtOnce(t *testing.T) {
	c := newClock(t0.Add(10 * time.Second))
	r := newRecorder(t, nil)
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now, NoSync: true, Grace: time.Minute})
	put(t, h.s, notify.ScheduleSpec{Name: "c-late", Expression: atExpr(t0.Add(8 * time.Second)), Enabled: true, Target: target("late")})
	want := Firing{Name: "c-late", Target: target("late"), ScheduledAt: t0.Add(8 * time.Second)}
	if diff := cmp.Diff(want, r.next(t)); diff != "" {
		t.Errorf("firing (-want +got):\n%s", diff)
	}
	waitIdle(t, h.s, "c-late")
	expectGone(t, h.s, "c-late")
	put(t, h.s, notify.ScheduleSpec{Name: "c-stale", Expression: atExpr(t0.Add(-2 * time.Minute)), Enabled: true, Target: target("stale")})
	r.none(t)
}

func TestRateFiresEachMinute(t *testing.T) {
	c := newClock(t0.Add(10 * time.Second))
	r := newRecorder(t, nil)
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now, NoSync: true})
	put(t, h.s, everyMinute("c-rate"))
	r.none(t)
	for i := 1; i <= 3; i++ {
		tick(h.s, c, time.Minute)
		want := Firing{Name: "c-rate", Target: target("c-rate"), ScheduledAt: t0.Add(time.Duration(i) * time.Minute)}
		if diff := cmp.Diff(want, r.next(t)); diff != "" {
			t.Errorf("firing %d (-want +got):\n%s", i, diff)
		}
	}
	r.none(t)
}

// TestDisabled checks that a disabled schedule does not fire, and that
// enabling it fires none of the times that went by meanwhile.
func TestDisabled(t *testing.T) {
	c := newClock(t0.Add(10 * time.Second))
	r := newRecorder(t, nil)
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now, NoSync: true})
	spec := everyMinute("c-off")
	spec.Enabled = false
	put(t, h.s, spec)
	tick(h.s, c, 5*time.Minute)
	r.none(t)

	spec.Enabled = true
	put(t, h.s, spec)
	r.none(t)
	tick(h.s, c, time.Minute)
	if got, want := r.next(t).ScheduledAt, t0.Add(6*time.Minute); !got.Equal(want) {
		t.Errorf("first firing after enabling at %v, want %v", got, want)
	}
}

func TestDeleteStopsFiring(t *testing.T) {
	c := newClock(t0.Add(10 * time.Second))
	r := newRecorder(t, nil)
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now, NoSync: true})
	put(t, h.s, everyMinute("c-del"))
	tick(h.s, c, time.Minute)
	r.next(t)
	if err := h.s.DeleteSchedule(t.Context(), "c-del"); err != nil {
		t.Fatalf("DeleteSchedule: %v", err)
	}
	tick(h.s, c, 2*time.Minute)
	r.none(t)
	expectGone(t, h.s, "c-del")
}

// TestRestartFiresSameTime stops the scheduler with a due time not fired:
// never tried, failing, or cut off by Close during Fire. Reopened, it fires
// that same time, once.
func TestRestartFiresSameTime(t *testing.T) {
	tests := []struct {
		name string
		fire func(ctx context.Context, f Firing) error // nil: no Run before the restart
	}{
		{"not run", nil},
		{"failing", func(context.Context, Firing) error { return errors.New("store unreachable") }},
		{"interrupted", func(ctx context.Context, _ Firing) error { <-ctx.Done(); return ctx.Err() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "schedules.db")
			c := newClock(t0.Add(10 * time.Second))
			first := newRecorder(t, tt.fire)
			o := Options{Fire: first.fire, Now: c.Now, RetryBackoff: 5 * time.Millisecond}
			if tt.fire == nil {
				s := open(t, path, o)
				put(t, s, everyMinute("c-crash"))
				c.add(time.Minute)
				if err := s.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			} else {
				h := start(t, path, o)
				put(t, h.s, everyMinute("c-crash"))
				tick(h.s, c, time.Minute)
				first.next(t)
				h.stop()
			}

			second := newRecorder(t, nil)
			o.Fire = second.fire
			h := start(t, path, o)
			want := Firing{Name: "c-crash", Target: target("c-crash"), ScheduledAt: t0.Add(time.Minute)}
			if diff := cmp.Diff(want, second.next(t)); diff != "" {
				t.Errorf("firing after restart (-want +got):\n%s", diff)
			}
			second.none(t)
			tick(h.s, c, time.Minute)
			if got := second.next(t).ScheduledAt; !got.Equal(t0.Add(2 * time.Minute)) {
				t.Errorf("next firing at %v, want %v", got, t0.Add(2*time.Minute))
			}
		})
	}
}

// TestCatchUp puts a schedule, stops the scheduler for a while and starts
// it again: the latest time within grace runs, the earlier ones are missed.
func TestCatchUp(t *testing.T) {
	const h, m = time.Hour, time.Minute
	day := 24 * h
	missed := func(at time.Time) Firing { return Firing{ScheduledAt: at, Missed: true} }
	run := func(at time.Time) Firing { return Firing{ScheduledAt: at} }
	flood := make([]Firing, 0, MaxMissed+1)
	for i := 7*24*60 - MaxMissed; i < 7*24*60; i++ {
		flood = append(flood, missed(t0.Add(time.Duration(i)*m)))
	}
	flood = append(flood, run(t0.Add(7*day)))

	tests := []struct {
		name       string
		expr, tz   string
		down       time.Duration // from t0, when it was put
		grace      time.Duration
		want       []Firing
		wantCursor time.Time // zero: deleted (an at())
	}{
		{
			name: "hourly, 3h30m down", expr: "rate(1 hour)", down: 3*h + 30*m, grace: h,
			want:       []Firing{missed(t0.Add(h)), missed(t0.Add(2 * h)), run(t0.Add(3 * h))},
			wantCursor: t0.Add(4 * h),
		},
		{
			name: "laptop closed over three minutes", expr: "rate(1 minute)", down: 3*m + 30*time.Second, grace: h,
			want:       []Firing{missed(t0.Add(m)), missed(t0.Add(2 * m)), run(t0.Add(3 * m))},
			wantCursor: t0.Add(4 * m),
		},
		{
			name: "every time beyond grace", expr: "rate(1 day)", down: 3*day + 5*h, grace: h,
			want:       []Firing{missed(t0.Add(day)), missed(t0.Add(2 * day)), missed(t0.Add(3 * day))},
			wantCursor: t0.Add(4 * day),
		},
		{
			name: "a week of minutes: the latest missed only", expr: "rate(1 minute)", down: 7*day + 30*time.Second, grace: h,
			want:       flood,
			wantCursor: t0.Add(7*day + m),
		},
		{
			name: "a week of minutes, all beyond grace", expr: "rate(1 minute)", down: 7*day + 30*time.Second, grace: 10 * time.Second,
			want:       append(slices.Clone(flood[1:MaxMissed]), missed(t0.Add(7*day))),
			wantCursor: t0.Add(7*day + m),
		},
		{
			// 09:00 in Madrid is 08:00 UTC in January.
			name: "cron in its zone", expr: "cron(0 9 * * ? *)", tz: "Europe/Madrid", down: 2*day + 8*h + 30*m, grace: h,
			want:       []Firing{missed(t0.Add(8 * h)), missed(t0.Add(day + 8*h)), run(t0.Add(2*day + 8*h))},
			wantCursor: t0.Add(3*day + 8*h),
		},
		{
			name: "at() within grace", expr: atExpr(t0.Add(m)), down: 30 * m, grace: h,
			want: []Firing{run(t0.Add(m))},
		},
		{
			name: "at() beyond grace", expr: atExpr(t0.Add(m)), down: 2 * h, grace: h,
			want: []Firing{missed(t0.Add(m))},
		},
		{
			name: "grace is an option", expr: "rate(1 hour)", down: 3*h + 30*m, grace: 4 * h,
			want:       []Firing{missed(t0.Add(h)), missed(t0.Add(2 * h)), run(t0.Add(3 * h))},
			wantCursor: t0.Add(4 * h),
		},
		{
			name: "short grace", expr: "rate(1 hour)", down: 3*h + 30*m, grace: 10 * m,
			want:       []Firing{missed(t0.Add(h)), missed(t0.Add(2 * h)), missed(t0.Add(3 * h))},
			wantCursor: t0.Add(4 * h),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "schedules.db")
			c := newClock(t0)
			r := newRecorder(t, nil)
			o := Options{Fire: r.fire, Now: c.Now, Grace: tt.grace, NoSync: true}
			s := open(t, path, o)
			spec := notify.ScheduleSpec{Name: "c-late", Expression: tt.expr, Timezone: tt.tz, Enabled: true, Target: target("late"), Start: t0}
			put(t, s, spec)
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			c.add(tt.down)

			hs := start(t, path, o)
			for i := range tt.want {
				tt.want[i].Name, tt.want[i].Target = spec.Name, spec.Target
			}
			if diff := cmp.Diff(tt.want, r.firings(t, len(tt.want))); diff != "" {
				t.Errorf("firings after %v down (-want +got):\n%s", tt.down, diff)
			}
			r.none(t)
			waitIdle(t, hs.s, spec.Name)
			if tt.wantCursor.IsZero() {
				expectGone(t, hs.s, spec.Name)
			} else if got := cursor(t, hs.s, spec.Name); !got.Equal(tt.wantCursor) {
				t.Errorf("cursor after catching up = %v, want %v", got, tt.wantCursor)
			}
		})
	}
}

// failUntil returns a Fire that fails until ok says otherwise.
func failUntil(ok func(f Firing, calls int) bool) func(context.Context, Firing) error {
	var mu sync.Mutex
	calls := 0
	return func(_ context.Context, f Firing) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if ok(f, calls) {
			return nil
		}
		return fmt.Errorf("call %d fails", calls)
	}
}

func TestRetry(t *testing.T) {
	c := newClock(t0.Add(10 * time.Second))
	r := newRecorder(t, failUntil(func(_ Firing, calls int) bool { return calls == 3 }))
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now,
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, NoSync: true})
	put(t, h.s, everyMinute("c-retry"))
	tick(h.s, c, time.Minute)
	want := Firing{Name: "c-retry", Target: target("c-retry"), ScheduledAt: t0.Add(time.Minute)}
	if diff := cmp.Diff([]Firing{want, want, want}, r.firings(t, 3)); diff != "" {
		t.Errorf("calls of a failing Fire (-want +got):\n%s", diff)
	}
	r.none(t)
	if got := cursor(t, h.s, "c-retry"); !got.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("cursor after success = %v, want %v", got, t0.Add(2*time.Minute))
	}
}

// TestRetryBeyondGrace fails a firing until it is older than grace: it is
// then handed over as missed.
func TestRetryBeyondGrace(t *testing.T) {
	c := newClock(t0)
	r := newRecorder(t, failUntil(func(f Firing, _ int) bool { return f.Missed }))
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now, Grace: time.Hour,
		RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, NoSync: true})
	put(t, h.s, notify.ScheduleSpec{Name: "c-fail", Expression: atExpr(t0.Add(time.Minute)), Enabled: true, Target: target("fail")})
	tick(h.s, c, time.Minute)
	want := Firing{Name: "c-fail", Target: target("fail"), ScheduledAt: t0.Add(time.Minute)}
	if diff := cmp.Diff(want, r.next(t)); diff != "" {
		t.Errorf("first call (-want +got):\n%s", diff)
	}
	c.add(2 * time.Hour)
	want.Missed = true
	for i := 0; ; i++ {
		got := r.next(t)
		if got.Missed {
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("call beyond grace (-want +got):\n%s", diff)
			}
			break
		}
		if i == 1000 {
			t.Fatal("still not missed after 1000 retries")
		}
	}
	waitIdle(t, h.s, "c-fail")
	expectGone(t, h.s, "c-fail")
	r.none(t)
}

// TestFailingDoesNotBlock checks that schedules whose Fire fails, more of
// them than workers, wait out their backoff without holding a worker.
func TestFailingDoesNotBlock(t *testing.T) {
	c := newClock(t0.Add(10 * time.Second))
	r := newRecorder(t, func(_ context.Context, f Firing) error {
		if strings.HasPrefix(f.Name, "c-bad") {
			return errors.New("bad")
		}
		return nil
	})
	h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now, Workers: 2, RetryBackoff: time.Hour, NoSync: true})
	for i := range 4 {
		put(t, h.s, everyMinute(fmt.Sprintf("c-bad%d", i)))
	}
	put(t, h.s, everyMinute("c-good")) // sorts after the bad ones
	tick(h.s, c, time.Minute)
	seen := map[string]bool{}
	for range 5 {
		seen[r.next(t).Name] = true
	}
	if !seen["c-good"] || len(seen) != 5 {
		t.Errorf("fired %v, want each of the five schedules", seen)
	}
}

// TestChangeDuringFiring puts or deletes a schedule while its Fire runs:
// the change wins over what the firing would write when it returns.
func TestChangeDuringFiring(t *testing.T) {
	const m = time.Minute
	sameSpec := everyMinute("c-x")
	tests := []struct {
		name   string
		first  notify.ScheduleSpec
		change *notify.ScheduleSpec // nil: delete
		// fail makes the call in flight fail, so that it is retried.
		fail bool
		// wantCursor is the cursor once the firing is over.
		wantCursor time.Time
		// after is how far the clock then moves, and want the call that
		// follows (none when want is zero).
		after time.Duration
		want  Firing
	}{
		{
			name:       "rate replaced",
			first:      everyMinute("c-x"),
			change:     &notify.ScheduleSpec{Name: "c-x", Expression: "rate(1 hour)", Enabled: true, Target: target("new"), Start: t0},
			wantCursor: t0.Add(time.Hour),
			after:      time.Hour,
			want:       Firing{Name: "c-x", Target: target("new"), ScheduledAt: t0.Add(time.Hour)},
		},
		{
			name:  "rate deleted",
			first: everyMinute("c-x"),
			after: 2 * m,
		},
		{
			name:       "at() replaced by a later at()",
			first:      notify.ScheduleSpec{Name: "c-x", Expression: atExpr(t0.Add(m)), Timezone: "UTC", Enabled: true, Target: target("x")},
			change:     &notify.ScheduleSpec{Name: "c-x", Expression: atExpr(t0.Add(2 * time.Hour)), Timezone: "UTC", Enabled: true, Target: target("new")},
			wantCursor: t0.Add(2 * time.Hour),
			after:      2 * time.Hour,
			want:       Firing{Name: "c-x", Target: target("new"), ScheduledAt: t0.Add(2 * time.Hour)},
		},
		{
			name:   "rate disabled",
			first:  everyMinute("c-x"),
			change: &notify.ScheduleSpec{Name: "c-x", Expression: "rate(1 minute)", Enabled: false, Target: target("c-x"), Start: t0},
			after:  2 * m,
		},
		{
			// A retried sync puts the same spec: the failing time is
			// still fired, not dropped.
			name:       "same spec put again",
			first:      sameSpec,
			change:     &sameSpec,
			fail:       true,
			wantCursor: t0.Add(2 * m),
			want:       Firing{Name: "c-x", Target: target("c-x"), ScheduledAt: t0.Add(m)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock(t0.Add(10 * time.Second))
			release := make(chan error)
			var once sync.Once
			r := newRecorder(t, func(ctx context.Context, f Firing) error {
				var err error
				once.Do(func() { err = <-release })
				return err
			})
			h := start(t, filepath.Join(t.TempDir(), "schedules.db"), Options{Fire: r.fire, Now: c.Now,
				RetryBackoff: time.Millisecond, MaxRetryBackoff: 10 * time.Millisecond, NoSync: true})
			put(t, h.s, tt.first)
			tick(h.s, c, m)
			if got := r.next(t).ScheduledAt; !got.Equal(t0.Add(m)) {
				t.Fatalf("first firing at %v, want %v", got, t0.Add(m))
			}
			if tt.change == nil {
				if err := h.s.DeleteSchedule(t.Context(), "c-x"); err != nil {
					t.Fatalf("DeleteSchedule: %v", err)
				}
			} else {
				put(t, h.s, *tt.change)
			}
			var err error
			if tt.fail {
				err = errors.New("failed")
			}
			release <- err
			waitIdle(t, h.s, "c-x")

			if tt.change == nil {
				expectGone(t, h.s, "c-x")
			} else {
				got, err := h.s.GetSchedule(t.Context(), "c-x")
				if err != nil {
					t.Fatalf("GetSchedule after the firing: %v", err)
				}
				if diff := cmp.Diff(*tt.change, got); diff != "" {
					t.Errorf("GetSchedule after the firing (-put +got):\n%s", diff)
				}
				if got := cursor(t, h.s, "c-x"); !got.Equal(tt.wantCursor) {
					t.Errorf("cursor after the firing = %v, want %v", got, tt.wantCursor)
				}
			}
			tick(h.s, c, tt.after)
			if tt.want != (Firing{}) {
				if diff := cmp.Diff(tt.want, r.next(t)); diff != "" {
					t.Errorf("next call (-want +got):\n%s", diff)
				}
			}
			r.none(t)
		})
	}
}
