// Package schedulertest is the contract suite of the notify.Scheduler port.
// Every adapter (the embedded scheduler, EventBridge Scheduler) runs it from
// its own tests, so the campaign code can rely on the same behaviour
// whichever scheduler it is wired to.
//
// It checks what a scheduler keeps, through the port only, not that it
// fires: the shortest EventBridge Scheduler rate is a minute, and an
// emulator never fires. Firing is each adapter's own test.
package schedulertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// Run runs the contract suite against the adapter that newScheduler makes:
// a fresh scheduler for one test, which the adapter cleans up with
// t.Cleanup. Every case runs in parallel with a scheduler of its own.
//
// What the suite holds an adapter to, beyond the notify.Scheduler comments:
//   - GetSchedule returns what PutSchedule was given, except that a rate()
//     schedule's Timezone is not compared (a rate has no zone) and neither
//     is an at() or cron() schedule's Start (only rate() uses it);
//   - an at() or cron() schedule given no Timezone reads back as "UTC";
//   - a rate() Start of long ago reads back as it was given.
func Run(t *testing.T, newScheduler func(t *testing.T) notify.Scheduler) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s notify.Scheduler)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyTimezoneIsUTC", testEmptyTimezoneIsUTC},
		{"RateStartLongAgo", testRateStartLongAgo},
		{"PutReplaces", testPutReplaces},
		{"GetMissing", testGetMissing},
		{"DeleteThenGet", testDeleteThenGet},
		{"DeleteMissing", testDeleteMissing},
		{"NamesIsolated", testNamesIsolated},
		{"Expressions", testExpressions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newScheduler(t))
		})
	}
}

// newName returns a campaign schedule name, as notify.ScheduleName makes
// them, unused by any other test.
func newName() string {
	var ids notify.IDs
	return notify.ScheduleName(ids.New(time.Now()))
}

// inAYear is an at() expression a year from now: a scheduler may refuse a
// one-off in the past, and must not run this one during the test.
func inAYear() string {
	return "at(" + time.Now().UTC().AddDate(1, 0, 0).Format("2006-01-02T15:04:05") + ")"
}

// start is a rate() anchor as a campaign's creation gives it, to the second
// (EventBridge Scheduler keeps no finer).
func start() time.Time { return time.Now().UTC().Truncate(time.Second) }

func target(campaignID string) notify.ScheduleTarget {
	return notify.ScheduleTarget{WorkspaceID: "ws_contract", CampaignID: campaignID}
}

func put(t *testing.T, s notify.Scheduler, spec notify.ScheduleSpec) {
	t.Helper()
	if err := s.PutSchedule(t.Context(), spec); err != nil {
		t.Fatalf("PutSchedule(%s, %q): %v", spec.Name, spec.Expression, err)
	}
}

func get(t *testing.T, s notify.Scheduler, name string) notify.ScheduleSpec {
	t.Helper()
	got, err := s.GetSchedule(t.Context(), name)
	if err != nil {
		t.Fatalf("GetSchedule(%s): %v", name, err)
	}
	return got
}

// kept is the part of a spec a scheduler must give back: a rate() has no
// zone, and only a rate() has a start.
func kept(s notify.ScheduleSpec) notify.ScheduleSpec {
	if strings.HasPrefix(s.Expression, "rate(") {
		s.Timezone = ""
	} else {
		s.Start = time.Time{}
	}
	return s
}

// expectSpec gets name and compares it with want.
func expectSpec(t *testing.T, s notify.Scheduler, want notify.ScheduleSpec) {
	t.Helper()
	got := get(t, s, want.Name)
	if diff := cmp.Diff(kept(want), kept(got)); diff != "" {
		t.Errorf("GetSchedule(%s) after PutSchedule (-put +got):\n%s", want.Name, diff)
	}
}

func expectNotFound(t *testing.T, s notify.Scheduler, name string) {
	t.Helper()
	got, err := s.GetSchedule(t.Context(), name)
	if !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("GetSchedule(%s) = %+v, %v; want a %s error", name, got, err, notify.CodeNotFound)
	}
}

func testRoundTrip(t *testing.T, s notify.Scheduler) {
	specs := []notify.ScheduleSpec{
		{Expression: "cron(30 9 ? * MON-FRI *)", Timezone: "Europe/Madrid", Enabled: true},
		{Expression: inAYear(), Timezone: "America/New_York", Enabled: true},
		{Expression: "rate(1 day)", Enabled: true, Start: start()},
		{Expression: "rate(15 minutes)", Enabled: false, Start: start()},
		{Expression: "rate(2 hours)", Enabled: true}, // no anchor
		{Expression: "cron(0 8 1 * ? *)", Timezone: "Asia/Kolkata", Enabled: false},
	}
	for i, spec := range specs {
		spec.Name = newName()
		spec.Target = target(fmt.Sprintf("campaign_%d", i))
		put(t, s, spec)
		expectSpec(t, s, spec)
	}
}

func testEmptyTimezoneIsUTC(t *testing.T, s notify.Scheduler) {
	for _, expr := range []string{"cron(0 12 * * ? *)", inAYear()} {
		spec := notify.ScheduleSpec{Name: newName(), Expression: expr, Enabled: true, Target: target("utc")}
		put(t, s, spec)
		if got := get(t, s, spec.Name); got.Timezone != "UTC" {
			t.Errorf("GetSchedule(%s) of %s put with no timezone: Timezone = %q, want %q", spec.Name, expr, got.Timezone, "UTC")
		}
	}
}

// testRateStartLongAgo puts a campaign created weeks ago, as a paused one
// resumed today is: its runs keep that anchor's phase.
func testRateStartLongAgo(t *testing.T, s notify.Scheduler) {
	old := start().AddDate(0, 0, -40).Add(-17 * time.Minute)
	for _, expr := range []string{"rate(1 day)", "rate(7 days)", "rate(5 minutes)"} {
		spec := notify.ScheduleSpec{Name: newName(), Expression: expr, Enabled: true, Target: target("old"), Start: old}
		put(t, s, spec)
		expectSpec(t, s, spec)
	}
}

// testPutReplaces changes every field of a schedule, its kind included,
// as editing, pausing and resuming a campaign does.
func testPutReplaces(t *testing.T, s notify.Scheduler) {
	name := newName()
	steps := []notify.ScheduleSpec{
		{Expression: "cron(0 9 * * ? *)", Timezone: "Europe/Madrid", Enabled: true, Target: target("first")},
		{Expression: "cron(15 18 ? * SUN *)", Timezone: "America/Los_Angeles", Enabled: false, Target: target("first")},
		{Expression: "rate(1 hour)", Enabled: true, Target: target("first"), Start: start()},
		{Expression: "rate(1 hour)", Enabled: false, Target: target("first"), Start: start()},
		{Expression: inAYear(), Timezone: "Asia/Tokyo", Enabled: true, Target: target("second")},
		{Expression: "cron(0 9 * * ? *)", Timezone: "Europe/Madrid", Enabled: true, Target: target("first")},
	}
	for _, spec := range steps {
		spec.Name = name
		put(t, s, spec)
		expectSpec(t, s, spec)
	}
}

func testGetMissing(t *testing.T, s notify.Scheduler) {
	expectNotFound(t, s, newName())
}

func testDeleteThenGet(t *testing.T, s notify.Scheduler) {
	spec := notify.ScheduleSpec{Name: newName(), Expression: "rate(1 day)", Enabled: true, Target: target("deleted"), Start: start()}
	put(t, s, spec)
	if err := s.DeleteSchedule(t.Context(), spec.Name); err != nil {
		t.Fatalf("DeleteSchedule(%s): %v", spec.Name, err)
	}
	expectNotFound(t, s, spec.Name)

	// The name can be used again, as when a deleted campaign's schedule
	// is put back by a retried sync.
	put(t, s, spec)
	expectSpec(t, s, spec)
}

func testDeleteMissing(t *testing.T, s notify.Scheduler) {
	if err := s.DeleteSchedule(t.Context(), newName()); err != nil {
		t.Errorf("DeleteSchedule of a name never put = %v, want nil", err)
	}
	spec := notify.ScheduleSpec{Name: newName(), Expression: "cron(0 9 * * ? *)", Timezone: "UTC", Enabled: true, Target: target("twice")}
	put(t, s, spec)
	for i := range 2 {
		if err := s.DeleteSchedule(t.Context(), spec.Name); err != nil {
			t.Errorf("DeleteSchedule(%s) #%d = %v, want nil", spec.Name, i+1, err)
		}
	}
	expectNotFound(t, s, spec.Name)
}

func testNamesIsolated(t *testing.T, s notify.Scheduler) {
	a := notify.ScheduleSpec{Name: newName(), Expression: "cron(0 9 * * ? *)", Timezone: "Europe/Madrid", Enabled: true, Target: target("a")}
	b := notify.ScheduleSpec{Name: newName(), Expression: "rate(30 minutes)", Enabled: false, Target: target("b"), Start: start()}
	put(t, s, a)
	put(t, s, b)
	expectSpec(t, s, a)
	expectSpec(t, s, b)

	a2 := a
	a2.Expression, a2.Enabled = "cron(0 10 * * ? *)", false
	put(t, s, a2)
	expectSpec(t, s, b)

	if err := s.DeleteSchedule(t.Context(), a.Name); err != nil {
		t.Fatalf("DeleteSchedule(%s): %v", a.Name, err)
	}
	expectNotFound(t, s, a.Name)
	expectSpec(t, s, b)
}

// testExpressions puts the expressions campaigns use, each of the three
// kinds, and gets each back as it was written.
func testExpressions(t *testing.T, s notify.Scheduler) {
	exprs := []string{
		inAYear(),
		"rate(1 minute)",
		"rate(5 minutes)",
		"rate(1 hour)",
		"rate(12 hours)",
		"rate(1 day)",
		"rate(30 days)",
		"cron(0 9 * * ? *)",
		"cron(0/15 8-18 ? * MON-FRI *)",
		"cron(0 12 L * ? *)",
		"cron(30 7 ? * 2#1 2030)",
	}
	for _, expr := range exprs {
		spec := notify.ScheduleSpec{Name: newName(), Expression: expr, Timezone: "Europe/Madrid", Enabled: true, Target: target("expr"), Start: start()}
		put(t, s, spec)
		if got := get(t, s, spec.Name); got.Expression != expr {
			t.Errorf("GetSchedule(%s).Expression = %q, want %q", spec.Name, got.Expression, expr)
		}
	}
}
