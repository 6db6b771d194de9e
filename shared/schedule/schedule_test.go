package schedule

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // zones resolve on machines without a zoneinfo database

	"github.com/google/go-cmp/cmp"
)

// at parses an RFC 3339 instant for a table.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

// runs returns the first n runs of s after from, as RFC 3339 in the
// schedule's zone, so a table reads the local wall time and its offset.
func runs(t testing.TB, s *Schedule, start, from time.Time, n int) []string {
	t.Helper()
	out := []string{}
	for tt := from; len(out) < n; {
		next, ok := s.Next(start, tt)
		if !ok {
			break
		}
		if next.Location() != time.UTC {
			t.Fatalf("Next(%s) location = %v, want UTC", tt, next.Location())
		}
		if !next.After(tt) {
			t.Fatalf("Next(%s) = %s, want a time after it", tt, next)
		}
		out = append(out, next.In(s.Location()).Format(time.RFC3339))
		tt = next
	}
	return out
}

// TestDocumentedExamples runs every example on the AWS cron, rate and at
// pages (and the Quartz-derived L, W and # forms they describe) from fixed
// instants. 2026-03-01 is a Sunday.
func TestDocumentedExamples(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		from  string
		want  []string
		ended bool // no run after the last of want
	}{
		{"10:00 every day", "cron(0 10 * * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", "2026-03-03T10:00:00Z", "2026-03-04T10:00:00Z"}, false},
		{"12:15 every day", "cron(15 12 * * ? *)", "2026-03-01T12:15:00Z",
			[]string{"2026-03-02T12:15:00Z", "2026-03-03T12:15:00Z", "2026-03-04T12:15:00Z"}, false},
		{"18:00 Monday to Friday", "cron(0 18 ? * MON-FRI *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-02T18:00:00Z", "2026-03-03T18:00:00Z", "2026-03-04T18:00:00Z", "2026-03-05T18:00:00Z",
				"2026-03-06T18:00:00Z", "2026-03-09T18:00:00Z"}, false},
		{"8:00 on the 1st", "cron(0 8 1 * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T08:00:00Z", "2026-04-01T08:00:00Z", "2026-05-01T08:00:00Z", "2026-06-01T08:00:00Z"}, false},
		{"every 15 minutes", "cron(0/15 * * * ? *)", "2026-03-01T23:31:10Z",
			[]string{"2026-03-01T23:45:00Z", "2026-03-02T00:00:00Z", "2026-03-02T00:15:00Z", "2026-03-02T00:30:00Z"}, false},
		{"every 10 minutes Monday to Friday", "cron(0/10 * ? * MON-FRI *)", "2026-03-06T23:40:00Z",
			[]string{"2026-03-06T23:50:00Z", "2026-03-09T00:00:00Z", "2026-03-09T00:10:00Z"}, false},
		{"every 5 minutes 8:00-17:55 Monday to Friday", "cron(0/5 8-17 ? * MON-FRI *)", "2026-03-02T17:45:00Z",
			[]string{"2026-03-02T17:50:00Z", "2026-03-02T17:55:00Z", "2026-03-03T08:00:00Z", "2026-03-03T08:05:00Z"}, false},
		{"9:00 on the first Monday", "cron(0 9 ? * 2#1 *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-02T09:00:00Z", "2026-04-06T09:00:00Z", "2026-05-04T09:00:00Z", "2026-06-01T09:00:00Z", "2026-07-06T09:00:00Z"}, false},
		{"every 4 hours", "cron(0 0/4 * * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T04:00:00Z", "2026-03-01T08:00:00Z", "2026-03-01T12:00:00Z", "2026-03-01T16:00:00Z", "2026-03-01T20:00:00Z", "2026-03-02T00:00:00Z"}, false},
		{"last day of the month", "cron(0 0 L * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z", "2026-06-30T00:00:00Z"}, false},
		{"last day of February in a leap year", "cron(0 0 L * ? *)", "2028-01-31T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z"}, false},
		// May 31 2026 is a Sunday and October 31 a Saturday: both move back
		// to Friday.
		{"last weekday of the month", "cron(0 0 LW * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z", "2026-05-29T00:00:00Z", "2026-06-30T00:00:00Z",
				"2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "2026-09-30T00:00:00Z", "2026-10-30T00:00:00Z"}, false},
		{"last Friday of the month", "cron(0 0 ? * 6L *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-27T00:00:00Z", "2026-04-24T00:00:00Z", "2026-05-29T00:00:00Z", "2026-06-26T00:00:00Z", "2026-07-31T00:00:00Z"}, false},
		{"last Friday in 2002-2005 has ended", "cron(15 10 ? * 6L 2002-2005)", "2005-11-01T00:00:00Z",
			[]string{"2005-11-25T10:15:00Z", "2005-12-30T10:15:00Z"}, true},
		{"L alone in day-of-week is Saturday", "cron(0 12 ? * L *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-07T12:00:00Z", "2026-03-14T12:00:00Z", "2026-03-21T12:00:00Z"}, false},
		// The 15th is a Sunday in March (→ Monday 16th) and a Saturday in
		// August (→ Friday 14th).
		{"weekday nearest the 15th", "cron(0 9 15W * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-16T09:00:00Z", "2026-04-15T09:00:00Z", "2026-05-15T09:00:00Z", "2026-06-15T09:00:00Z",
				"2026-07-15T09:00:00Z", "2026-08-14T09:00:00Z"}, false},
		// August 1 2026 is a Saturday: W never leaves the month, so Monday
		// the 3rd, not Friday July 31.
		{"1W on a Saturday moves to Monday the 3rd", "cron(0 9 1W * ? *)", "2026-07-02T00:00:00Z",
			[]string{"2026-08-03T09:00:00Z", "2026-09-01T09:00:00Z"}, false},
		// May 31 2026 is a Sunday (→ Friday 29th); months without a 31st
		// have no run.
		{"31W", "cron(0 9 31W * ? *)", "2026-04-01T00:00:00Z",
			[]string{"2026-05-29T09:00:00Z", "2026-07-31T09:00:00Z", "2026-08-31T09:00:00Z", "2026-10-30T09:00:00Z"}, false},
		{"fifth Friday only in months that have one", "cron(0 9 ? * 6#5 *)", "2026-03-01T00:00:00Z",
			[]string{"2026-05-29T09:00:00Z", "2026-07-31T09:00:00Z", "2026-10-30T09:00:00Z", "2027-01-29T09:00:00Z"}, false},
		{"second Monday by name", "cron(0 9 ? * MON#2 *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-09T09:00:00Z", "2026-04-13T09:00:00Z"}, false},
		{"month names in a list", "cron(0 12 1 JAN,APR,JUL,OCT ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-04-01T12:00:00Z", "2026-07-01T12:00:00Z", "2026-10-01T12:00:00Z", "2027-01-01T12:00:00Z"}, false},
		{"range with a step", "cron(10-50/20 9 * * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T09:10:00Z", "2026-03-01T09:30:00Z", "2026-03-01T09:50:00Z", "2026-03-02T09:10:00Z"}, false},
		{"star with a step", "cron(*/20 9 * * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T09:00:00Z", "2026-03-01T09:20:00Z", "2026-03-01T09:40:00Z", "2026-03-02T09:00:00Z"}, false},
		{"1/10 starts at minute 1", "cron(1/10 9 * * ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T09:01:00Z", "2026-03-01T09:11:00Z", "2026-03-01T09:21:00Z"}, false},
		{"every third month from January", "cron(0 0 1 */3 ? *)", "2026-03-01T00:00:00Z",
			[]string{"2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"}, false},
		{"weekend by list", "cron(0 8 ? * SAT,1 *)", "2026-03-01T00:00:00Z",
			[]string{"2026-03-01T08:00:00Z", "2026-03-07T08:00:00Z", "2026-03-08T08:00:00Z"}, false},
		{"year step", "cron(0 0 1 1 ? 2030/5)", "2026-03-01T00:00:00Z",
			[]string{"2030-01-01T00:00:00Z", "2035-01-01T00:00:00Z", "2040-01-01T00:00:00Z"}, false},
		{"29 February, decades apart", "cron(0 0 29 2 ? 2100-2199)", "2026-03-01T00:00:00Z",
			[]string{"2104-02-29T00:00:00Z", "2108-02-29T00:00:00Z"}, false},
		{"the last year", "cron(59 23 31 12 ? 2199)", "2026-03-01T00:00:00Z",
			[]string{"2199-12-31T23:59:00Z"}, true},
		{"at() in UTC", "at(2026-05-01T09:30:00)", "2026-03-01T00:00:00Z",
			[]string{"2026-05-01T09:30:00Z"}, true},
		{"at() already past", "at(2026-05-01T09:30:00)", "2026-05-01T09:30:00Z",
			[]string{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr, "")
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.expr, err)
			}
			got := runs(t, s, time.Time{}, at(t, tt.from), len(tt.want))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("runs of %s after %s (-want +got):\n%s", tt.expr, tt.from, diff)
			}
			last := at(t, tt.from)
			if len(got) > 0 {
				last = at(t, got[len(got)-1])
			}
			if next, ok := s.Next(time.Time{}, last); ok == tt.ended {
				t.Errorf("Next(%s) = %s, %v, want a run: %v", last.Format(time.RFC3339), next, ok, !tt.ended)
			}
		})
	}
}

// TestDaylightSaving checks the documented behaviour in the schedule's
// zone: a local time keeps its wall-clock hour while its UTC hour moves, a
// local time the clocks skip does not run, and one they repeat runs once,
// at its first occurrence. Europe/Madrid changes at 02:00→03:00 on
// 2026-03-29 and 03:00→02:00 on 2026-10-25; America/New_York at
// 02:00→03:00 on 2026-03-08 and 02:00→01:00 on 2026-11-01.
func TestDaylightSaving(t *testing.T) {
	tests := []struct {
		name string
		expr string
		tz   string
		from string
		want []string
	}{
		{"09:00 Madrid stays 09:00 in spring", "cron(0 9 * * ? *)", "Europe/Madrid", "2026-03-27T00:00:00Z",
			[]string{"2026-03-27T09:00:00+01:00", "2026-03-28T09:00:00+01:00", "2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00"}},
		{"09:00 Madrid stays 09:00 in autumn", "cron(0 9 * * ? *)", "Europe/Madrid", "2026-10-23T00:00:00Z",
			[]string{"2026-10-23T09:00:00+02:00", "2026-10-24T09:00:00+02:00", "2026-10-25T09:00:00+01:00", "2026-10-26T09:00:00+01:00"}},
		{"09:00 New York stays 09:00 in spring", "cron(0 9 * * ? *)", "America/New_York", "2026-03-06T00:00:00Z",
			[]string{"2026-03-06T09:00:00-05:00", "2026-03-07T09:00:00-05:00", "2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00"}},
		{"09:00 New York stays 09:00 in autumn", "cron(0 9 ? * MON-FRI *)", "America/New_York", "2026-10-29T00:00:00Z",
			[]string{"2026-10-29T09:00:00-04:00", "2026-10-30T09:00:00-04:00", "2026-11-02T09:00:00-05:00", "2026-11-03T09:00:00-05:00"}},
		{"02:30 Madrid is skipped on the spring-forward day", "cron(30 2 * * ? *)", "Europe/Madrid", "2026-03-27T12:00:00Z",
			[]string{"2026-03-28T02:30:00+01:00", "2026-03-30T02:30:00+02:00"}},
		{"02:30 Madrid runs once on the fall-back day", "cron(30 2 * * ? *)", "Europe/Madrid", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
		{"after the first 02:30, the repeated one does not run", "cron(30 2 * * ? *)", "Europe/Madrid", "2026-10-25T00:45:00Z",
			[]string{"2026-10-26T02:30:00+01:00"}},
		{"inside the repeated hour, its times do not run again", "cron(0/20 * * * ? *)", "Europe/Madrid", "2026-10-25T01:10:00Z",
			[]string{"2026-10-25T03:00:00+01:00", "2026-10-25T03:20:00+01:00"}},
		{"every 30 minutes through spring forward", "cron(0/30 * * * ? *)", "Europe/Madrid", "2026-03-29T00:00:00Z",
			[]string{"2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"}},
		{"every 30 minutes through fall back", "cron(0/30 * * * ? *)", "Europe/Madrid", "2026-10-25T00:00:00Z",
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00"}},
		{"02:30 New York is skipped on the spring-forward day", "cron(30 2 * * ? *)", "America/New_York", "2026-03-07T00:00:00Z",
			[]string{"2026-03-07T02:30:00-05:00", "2026-03-09T02:30:00-04:00"}},
		{"01:30 New York runs once on the fall-back day", "cron(30 1 * * ? *)", "America/New_York", "2026-10-31T00:00:00Z",
			[]string{"2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		// Lord Howe Island moves its clocks by 30 minutes, at 02:00.
		{"half-hour change", "cron(15 2 * * ? *)", "Australia/Lord_Howe", "2026-10-02T00:00:00Z",
			[]string{"2026-10-03T02:15:00+10:30", "2026-10-05T02:15:00+11:00"}},
		// Santiago changes at midnight: 2026-09-06 has no 00:00–00:59.
		{"midnight that does not exist", "cron(0 0 * * ? *)", "America/Santiago", "2026-09-04T12:00:00Z",
			[]string{"2026-09-05T00:00:00-04:00", "2026-09-07T00:00:00-03:00"}},
		{"at() in a zone", "at(2026-12-24T18:00:00)", "America/New_York", "2026-03-01T00:00:00Z",
			[]string{"2026-12-24T18:00:00-05:00"}},
		{"at() in the spring gap runs when the clocks have moved", "at(2026-03-29T02:30:00)", "Europe/Madrid", "2026-03-01T00:00:00Z",
			[]string{"2026-03-29T03:30:00+02:00"}},
		{"at() in the repeated hour runs at its first occurrence", "at(2026-10-25T02:30:00)", "Europe/Madrid", "2026-03-01T00:00:00Z",
			[]string{"2026-10-25T02:30:00+02:00"}},
		{"at() in a zone, already past", "at(2026-05-01T09:30:00)", "Europe/Madrid", "2026-05-01T07:30:00Z",
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr, tt.tz)
			if err != nil {
				t.Fatalf("Parse(%q, %q) error: %v", tt.expr, tt.tz, err)
			}
			got := runs(t, s, time.Time{}, at(t, tt.from), len(tt.want))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("runs of %s in %s after %s (-want +got):\n%s", tt.expr, tt.tz, tt.from, diff)
			}
		})
	}
}

// TestRate checks that rate() counts from its anchor in elapsed time: a
// day is 24 hours even across a daylight-saving change, as EventBridge
// Scheduler documents.
func TestRate(t *testing.T) {
	tests := []struct {
		name  string
		expr  string
		tz    string
		start string
		from  string
		want  []string
	}{
		{"before the start, the start runs first", "rate(15 minutes)", "", "2026-03-01T10:07:00Z", "2026-03-01T09:00:00Z",
			[]string{"2026-03-01T10:07:00Z", "2026-03-01T10:22:00Z", "2026-03-01T10:37:00Z"}},
		{"at the start, the next interval", "rate(15 minutes)", "", "2026-03-01T10:07:00Z", "2026-03-01T10:07:00Z",
			[]string{"2026-03-01T10:22:00Z", "2026-03-01T10:37:00Z"}},
		{"between runs, the next on the grid", "rate(15 minutes)", "", "2026-03-01T10:07:00Z", "2026-03-01T13:21:59Z",
			[]string{"2026-03-01T13:22:00Z", "2026-03-01T13:37:00Z"}},
		{"seconds of the anchor are kept", "rate(1 minute)", "", "2026-03-01T10:07:30Z", "2026-03-01T10:07:30Z",
			[]string{"2026-03-01T10:08:30Z", "2026-03-01T10:09:30Z"}},
		{"hours", "rate(1 hour)", "", "2026-03-01T10:00:00Z", "2026-03-05T10:30:00Z",
			[]string{"2026-03-05T11:00:00Z", "2026-03-05T12:00:00Z"}},
		{"a day is 24 hours across spring forward", "rate(1 day)", "Europe/Madrid", "2026-03-27T09:00:00+01:00", "2026-03-27T09:00:00+01:00",
			[]string{"2026-03-28T09:00:00+01:00", "2026-03-29T10:00:00+02:00", "2026-03-30T10:00:00+02:00"}},
		{"a long way from the anchor", "rate(7 days)", "", "1990-01-01T00:00:00Z", "2026-03-01T00:00:00Z",
			[]string{"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"}}, // 1990-01-01 was a Monday
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr, tt.tz)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.expr, err)
			}
			got := runs(t, s, at(t, tt.start), at(t, tt.from), len(tt.want))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("runs of %s from %s after %s (-want +got):\n%s", tt.expr, tt.start, tt.from, diff)
			}
		})
	}

	s, err := Parse("rate(2 hours)", "")
	if err != nil {
		t.Fatal(err)
	}
	from := at(t, "2026-03-01T10:07:13Z")
	if got, ok := s.Next(time.Time{}, from); !ok || !got.Equal(from.Add(2*time.Hour)) {
		t.Errorf("Next(zero start, %s) = %s, %v, want %s, true", from, got, ok, from.Add(2*time.Hour))
	}
}

// TestBetween checks Next chained over a window, as a catch-up walks it:
// from excluded, to included, at most max runs.
func TestBetween(t *testing.T) {
	hourly, err := Parse("cron(0 * * * ? *)", "Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	rate, err := Parse("rate(30 minutes)", "")
	if err != nil {
		t.Fatal(err)
	}
	once, err := Parse("at(2026-03-01T11:00:00)", "")
	if err != nil {
		t.Fatal(err)
	}
	start := at(t, "2026-03-01T09:45:00Z")
	tests := []struct {
		name     string
		s        *Schedule
		from, to string
		max      int
		want     []time.Time
	}{
		{"from excluded, to included", hourly, "2026-03-01T10:00:00Z", "2026-03-01T13:00:00Z", 10,
			[]time.Time{at(t, "2026-03-01T11:00:00Z"), at(t, "2026-03-01T12:00:00Z"), at(t, "2026-03-01T13:00:00Z")}},
		{"at most max", hourly, "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", 2,
			[]time.Time{at(t, "2026-03-01T11:00:00Z"), at(t, "2026-03-01T12:00:00Z")}},
		{"max 0", hourly, "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", 0, nil},
		{"empty window", hourly, "2026-03-01T10:00:00Z", "2026-03-01T10:59:59Z", 5, nil},
		{"rate from its anchor", rate, "2026-03-01T09:00:00Z", "2026-03-01T11:00:00Z", 10,
			[]time.Time{at(t, "2026-03-01T09:45:00Z"), at(t, "2026-03-01T10:15:00Z"), at(t, "2026-03-01T10:45:00Z")}},
		{"one-time", once, "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", 10,
			[]time.Time{at(t, "2026-03-01T11:00:00Z")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := between(tt.s, start, at(t, tt.from), at(t, tt.to), tt.max)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Between(%s, %s, %d) of %s (-want +got):\n%s", tt.from, tt.to, tt.max, tt.s, diff)
			}
		})
	}
}

// TestParseErrors checks the messages an API returns for a 422, and that
// only zone errors are ErrTimeZone (callers file them under the timezone
// field).
func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr, tz string
		want     string
	}{
		{"cron(0 9 * * MON *)", "", "day-of-month and day-of-week cannot both be specified: one of them must be ?"},
		{"cron(0 9 ? * ? *)", "", "day-of-month and day-of-week cannot both be ?: give one of them a value (* for every day)"},
		{"cron(61 9 * * ? *)", "", "minutes: 61 is out of range 0–59"},
		{"cron(0 24 * * ? *)", "", "hours: 24 is out of range 0–23"},
		{"cron(0 9 0 * ? *)", "", "day-of-month: 0 is out of range 1–31"},
		{"cron(0 9 32 * ? *)", "", "day-of-month: 32 is out of range 1–31"},
		{"cron(0 9 * 13 ? *)", "", "month: 13 is out of range 1–12"},
		{"cron(0 9 ? * 0 *)", "", "day-of-week: 0 is out of range 1–7"},
		{"cron(0 9 ? * 8 *)", "", "day-of-week: 8 is out of range 1–7"},
		{"cron(0 9 * * ? 1969)", "", "year: 1969 is out of range 1970–2199"},
		{"cron(0 9 * * ? 2200)", "", "year: 2200 is out of range 1970–2199"},
		{"cron(0 9 * * ? 99999999)", "", "year: 99999999 is out of range 1970–2199"},
		{"cron(0 9 * * ?)", "", "cron needs 6 fields (minutes hours day-of-month month day-of-week year), got 5 in cron(0 9 * * ?)"},
		{"cron(0 9 * * ? * *)", "", "cron needs 6 fields (minutes hours day-of-month month day-of-week year), got 7 in cron(0 9 * * ? * *)"},
		{"cron(0 9 ? * mon *)", "", `day-of-week: write "mon" in upper case: MON`},
		{"cron(0 9 * JANUARY ? *)", "", `month: "JANUARY" is not a valid value (use 1–12 or JAN–DEC)`},
		{"cron(x 9 * * ? *)", "", `minutes: "x" is not a valid value (use 0–59)`},
		{"cron(? 9 * * ? *)", "", "minutes: ? is only allowed as the whole day-of-month or day-of-week field"},
		{"cron(0 9 1,? * ? *)", "", "day-of-month: ? is only allowed as the whole day-of-month or day-of-week field"},
		{"cron(0 9 2#1 * ? *)", "", "day-of-month: # is only allowed in day-of-week (as in 2#1)"},
		{"cron(0/0 * * * ? *)", "", `minutes: step 0 in "0/0" is out of range 1–59`},
		{"cron(0/60 * * * ? *)", "", `minutes: step 60 in "0/60" is out of range 1–59`},
		{"cron(0/x * * * ? *)", "", `minutes: step "x" in "0/x" must be a whole number`},
		{"cron(0 22-2 * * ? *)", "", `hours: range "22-2" runs backwards: write the lower value first`},
		{"cron(0 9 ? * FRI-MON *)", "", `day-of-week: range "FRI-MON" runs backwards: write the lower value first`},
		{"cron(0 9 1,,2 * ? *)", "", `day-of-month: empty value in "" (lists are written 1,5,10 with no spaces)`},
		{"cron(0 9 1- * ? *)", "", "day-of-month: missing value (use 1–31, L, LW or nW)"},
		{"cron(0 9 L,15 * ? *)", "", `day-of-month: "L,15": L, LW and nW (as in 15W) must be the whole field, not part of a list, range or step`},
		{"cron(0 9 1-15W * ? *)", "", `day-of-month: "1-15W": L, LW and nW (as in 15W) must be the whole field, not part of a list, range or step`},
		{"cron(0 9 L-3 * ? *)", "", `day-of-month: "L-3": an offset from the last day is not part of EventBridge's cron syntax (use L, LW, nW or days 1–31)`},
		{"cron(0 9 32W * ? *)", "", "day-of-month: 32 is out of range 1–31"},
		{"cron(0 9 ? * 3#1,6#3 *)", "", `day-of-week: "3#1,6#3": n#k must be the only expression in the field ("3#1,6#3" is two)`},
		{"cron(0 9 ? * 2#6 *)", "", `day-of-week: "2#6": the week after # must be 1–5 (2#1 is the first Monday of the month)`},
		{"cron(0 9 ? * 8#1 *)", "", "day-of-week: 8 is out of range 1–7"},
		{"cron(0 9 ? * 6L,2 *)", "", `day-of-week: "6L,2": L and nL (as in 6L) must be the whole field, not part of a list or range`},
		{"cron(0 9 ? * 1/2 *)", "", `day-of-week: "1/2": / is not allowed in day-of-week (it takes , - * ? L #)`},
		{"cron(0 0 31 2 ? *)", "", "cron(0 0 31 2 ? *) would never run: no date from 1970 to 2199 matches its day-of-month, month, day-of-week and year"},
		{"cron(0 0 30 FEB ? *)", "", "cron(0 0 30 FEB ? *) would never run: no date from 1970 to 2199 matches its day-of-month, month, day-of-week and year"},
		{"cron(0 0 29 2 ? 2027)", "", "cron(0 0 29 2 ? 2027) would never run: no date from 1970 to 2199 matches its day-of-month, month, day-of-week and year"},
		{"rate(1 minutes)", "", "use the singular unit for 1: rate(1 minute)"},
		{"rate(1 hours)", "", "use the singular unit for 1: rate(1 hour)"},
		{"rate(5 hour)", "", "use the plural unit for 5: rate(5 hours)"},
		{"rate(0 minutes)", "", "rate value 0 must be at least 1"},
		{"rate(-5 minutes)", "", `rate value "-5" must be a positive whole number`},
		{"rate(1.5 hours)", "", `rate value "1.5" must be a positive whole number`},
		{"rate(5 weeks)", "", `unknown rate unit "weeks": use minute, minutes, hour, hours, day or days`},
		{"rate(5 Minutes)", "", `unknown rate unit "Minutes": use minute, minutes, hour, hours, day or days`},
		{"rate(5)", "", "rate needs a value and a unit, as in rate(5 minutes); got rate(5)"},
		{"rate(99999999999999999999 days)", "", "rate value 99999999999999999999 is too large"},
		{"rate(999999999999999 days)", "", "rate value 999999999999999 is too large"},
		{"at(2026-02-30T09:00:00)", "", "at(2026-02-30T09:00:00): day 30 is out of range for February 2026 (01–28)"},
		{"at(2026-13-01T09:00:00)", "", "at(2026-13-01T09:00:00): month 13 is out of range 01–12"},
		{"at(2026-05-01T24:00:00)", "", "at(2026-05-01T24:00:00): hour 24 is out of range 00–23"},
		{"at(2026-05-01T09:60:00)", "", "at(2026-05-01T09:60:00): minute 60 is out of range 00–59"},
		{"at(2026-05-01T09:00:60)", "", "at(2026-05-01T09:00:60): second 60 is out of range 00–59"},
		{"at(2026-05-01T09:00)", "", "at() needs a local date and time written yyyy-mm-ddThh:mm:ss, as in at(2026-05-01T09:30:00); got at(2026-05-01T09:00)"},
		{"at(2026-05-01 09:00:00)", "", "at() needs a local date and time written yyyy-mm-ddThh:mm:ss, as in at(2026-05-01T09:30:00); got at(2026-05-01 09:00:00)"},
		{"at(2026-05-01T09:00:00Z)", "", "at() needs a local date and time written yyyy-mm-ddThh:mm:ss, as in at(2026-05-01T09:30:00); got at(2026-05-01T09:00:00Z)"},
		{" cron(0 9 * * ? *)", "", `" cron(0 9 * * ? *)" has spaces around it: remove them`},
		{"", "", "the schedule is empty: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)"},
		{"0 9 * * *", "", `"0 9 * * *" is not a schedule expression: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)`},
		{"CRON(0 9 * * ? *)", "", `"CRON(0 9 * * ? *)" is not a schedule expression: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)`},
		{"cron(0 9 * * ? *)", "Mars/Olympus", `unknown time zone "Mars/Olympus": use an IANA name such as Europe/Madrid`},
		{"cron(0 9 * * ? *)", "Local", `unknown time zone "Local": use an IANA name such as Europe/Madrid`},
		{"cron(0 9 * * ? *)", " Europe/Madrid", `unknown time zone " Europe/Madrid": use an IANA name such as Europe/Madrid`},
	}
	for _, tt := range tests {
		t.Run(tt.expr+" "+tt.tz, func(t *testing.T) {
			s, err := Parse(tt.expr, tt.tz)
			if err == nil {
				t.Fatalf("Parse(%q, %q) = %v, want error %q", tt.expr, tt.tz, s, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Parse(%q, %q) error = %q, want %q", tt.expr, tt.tz, got, tt.want)
			}
			if zone := errors.Is(err, ErrTimeZone); zone != (tt.tz != "") {
				t.Errorf("Parse(%q, %q) error %q is ErrTimeZone = %v, want %v", tt.expr, tt.tz, err, zone, tt.tz != "")
			}
		})
	}
}

// TestParseAccepts checks forms at the edge of the grammar that must
// parse, and Kind and String.
func TestParseAccepts(t *testing.T) {
	tests := []struct {
		expr, tz string
		kind     string
	}{
		{"at(2026-05-01T09:30:00)", "Europe/Madrid", KindAt},
		{"rate(1 minute)", "", KindRate},
		{"rate(1 day)", "UTC", KindRate},
		{"rate(90 days)", "", KindRate},
		{"cron(0 10 * * ? *)", "", KindCron},
		{"cron( 0  10 * * ? * )", "", KindCron},
		{"cron(0 9 ? * * *)", "", KindCron},
		{"cron(0 9 ? * SUN-SAT *)", "", KindCron},
		{"cron(0 9 ? * 7L *)", "", KindCron},
		{"cron(0 9 ? * FRIL *)", "", KindCron},
		{"cron(0 9 ? * 1#1 *)", "", KindCron},
		{"cron(0 9 LW * ? *)", "", KindCron},
		{"cron(0,30 9,17 1-5,10 JAN-MAR,DEC ? 2026,2028-2030)", "Asia/Kathmandu", KindCron},
		{"cron(05 09 * * ? *)", "", KindCron},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			s, err := Parse(tt.expr, tt.tz)
			if err != nil {
				t.Fatalf("Parse(%q, %q) error: %v", tt.expr, tt.tz, err)
			}
			if s.Kind() != tt.kind {
				t.Errorf("Parse(%q).Kind() = %q, want %q", tt.expr, s.Kind(), tt.kind)
			}
			if s.String() != tt.expr {
				t.Errorf("Parse(%q).String() = %q, want the expression as given", tt.expr, s.String())
			}
		})
	}
}

// TestAgainstMinuteScan compares Next with a brute-force reference around
// real daylight-saving changes: scan every minute, and a local minute runs
// when the expression matches it and the wall clock shows it for the first
// time (so a skipped minute never runs and a repeated one runs once). The
// zones include 30-minute changes (Lord Howe), changes at midnight
// (Santiago), negative daylight saving (Dublin), Ramadan changes
// (Casablanca), a 45-minute offset (Kathmandu) and a skipped day (Apia,
// 2011-12-30).
func TestAgainstMinuteScan(t *testing.T) {
	exprs := []string{
		"cron(* * * * ? *)",
		"cron(0/7 * * * ? *)",
		"cron(30 2 * * ? *)",
		"cron(0,30 0-3 * * ? *)",
		"cron(15 1-2 ? * SUN *)",
		"cron(0 0 L * ? *)",
		"cron(45 23 LW * ? *)",
		"cron(0 3 1W * ? *)",
		"cron(30 1 ? * 1L *)",
		"cron(0 0 ? * 1#1 *)",
		"cron(10-50/20 0-4 ? * 1,7 *)",
		"cron(59 23 * * ? *)",
	}
	zones := map[string]int{ // zone: first year to look for changes in
		"UTC": 2026, "Europe/Madrid": 2026, "America/New_York": 2026, "Australia/Lord_Howe": 2026,
		"America/Santiago": 2026, "Europe/Dublin": 2026, "Africa/Casablanca": 2026, "Asia/Kathmandu": 1986,
		"Pacific/Apia": 2011,
	}
	for zone, year := range zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		// Windows around the first three changes of year (one plain window
		// in a zone without changes).
		var windows []time.Time
		for tt := time.Date(year, 1, 1, 0, 0, 0, 0, loc); len(windows) < 3; {
			_, end := tt.ZoneBounds()
			if end.IsZero() {
				windows = append(windows, time.Date(year, 3, 1, 0, 0, 0, 0, loc))
				break
			}
			windows = append(windows, end)
			tt = end
		}
		for _, expr := range exprs {
			s, err := Parse(expr, zone)
			if err != nil {
				t.Fatalf("Parse(%q, %q) error: %v", expr, zone, err)
			}
			for _, change := range windows {
				from, to := change.Add(-12*time.Hour), change.Add(36*time.Hour)
				want := scan(s, from, to)
				got := between(s, time.Time{}, from, to, 10000)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("runs of %s in %s around %s (-scan +Between):\n%s", expr, zone, change.UTC().Format(time.RFC3339), diff)
				}
			}
		}
	}
}

// scan is the brute-force reference for a cron schedule: the runs in
// (from, to], minute by minute.
func scan(s *Schedule, from, to time.Time) []time.Time {
	var out []time.Time
	seen := map[wall]bool{}
	for u := from.Add(-24 * time.Hour).Truncate(time.Minute); !u.After(to); u = u.Add(time.Minute) {
		w := wallOf(u, s.loc)
		if seen[w] {
			continue
		}
		seen[w] = true
		if u.After(from) && matches(s.cron, w) {
			out = append(out, u.UTC())
		}
	}
	return out
}

// matches says whether c matches a wall minute, deciding the day rules
// from their definitions rather than with days.
func matches(c *cronSpec, w wall) bool {
	return c.minutes.has(w.mi) && c.hours.has(w.h) && c.months.has(int(w.mo)) && c.years.has(w.y) && dayMatches(c, w.y, w.mo, w.d)
}

// dayMatches decides whether c runs on a date from the definitions of L,
// LW, nW, nL and n#k.
func dayMatches(c *cronSpec, y int, m time.Month, d int) bool {
	date := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	inMonth := func(t time.Time) bool { return t.Month() == m }
	weekdayOK := func(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }
	cronDay := int(date.Weekday()) + 1 // 1 = SUN
	if c.byWeekday {
		switch c.dow.kind {
		case dayLast: // the last such weekday: a week later is next month
			return cronDay == c.dow.n && !inMonth(date.AddDate(0, 0, 7))
		case dayNth: // the k-th such weekday
			return cronDay == c.dow.n && (d-1)/7+1 == c.dow.k
		default:
			return c.dow.set.has(cronDay)
		}
	}
	switch c.dom.kind {
	case dayLast:
		return !inMonth(date.AddDate(0, 0, 1))
	case dayLastWeekday: // a weekday with no later weekday in the month
		if !weekdayOK(date) {
			return false
		}
		for x := date.AddDate(0, 0, 1); inMonth(x); x = x.AddDate(0, 0, 1) {
			if weekdayOK(x) {
				return false
			}
		}
		return true
	case dayNearest: // the weekday of the month closest to day n, if n exists
		n := c.dom.n
		if !inMonth(time.Date(y, m, n, 12, 0, 0, 0, time.UTC)) {
			return false
		}
		best := 0
		for x := time.Date(y, m, 1, 12, 0, 0, 0, time.UTC); inMonth(x); x = x.AddDate(0, 0, 1) {
			if weekdayOK(x) && (best == 0 || abs(x.Day()-n) < abs(best-n)) {
				best = x.Day()
			}
		}
		return d == best
	default:
		return c.dom.set.has(d)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// TestDayRules compares the days each day rule picks, month by month over
// five years (every weekday a month can start on, leap and common Februaries),
// with their definitions.
func TestDayRules(t *testing.T) {
	exprs := []string{
		"cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 1W * ? *)", "cron(0 0 15W * ? *)",
		"cron(0 0 29W * ? *)", "cron(0 0 30W * ? *)", "cron(0 0 31W * ? *)", "cron(0 0 1-7,20/3 * ? *)",
		"cron(0 0 ? * L *)", "cron(0 0 ? * 1L *)", "cron(0 0 ? * 6L *)", "cron(0 0 ? * 7L *)",
		"cron(0 0 ? * 2#1 *)", "cron(0 0 ? * 7#4 *)", "cron(0 0 ? * 1#5 *)", "cron(0 0 ? * MON-FRI *)",
	}
	for _, expr := range exprs {
		s, err := Parse(expr, "")
		if err != nil {
			t.Fatalf("Parse(%q) error: %v", expr, err)
		}
		for y := 2026; y <= 2030; y++ {
			for m := time.January; m <= time.December; m++ {
				var want []int
				for d := 1; d <= daysIn(y, m); d++ {
					if dayMatches(s.cron, y, m, d) {
						want = append(want, d)
					}
				}
				var got []int
				mask := s.cron.days(y, m)
				for d := 1; d <= 31; d++ {
					if mask&(1<<d) != 0 {
						got = append(got, d)
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("days of %s in %s %d (-definition +days):\n%s", expr, m, y, diff)
				}
			}
		}
	}
}

// TestNextBounds checks instants far outside 1970–2199, and that Next
// answers at once when the next run is a century away or never comes.
func TestNextBounds(t *testing.T) {
	s, err := Parse("cron(0 0 29 2 ? 2196)", "Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		after  time.Time
		want   string
		wantOK bool
	}{
		{time.Time{}, "2196-02-28T23:00:00Z", true},
		{time.Date(-5000, 1, 1, 0, 0, 0, 0, time.UTC), "2196-02-28T23:00:00Z", true},
		{at(t, "2026-03-01T00:00:00Z"), "2196-02-28T23:00:00Z", true},
		{at(t, "2196-02-28T23:00:00Z"), "", false},
		{time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), "", false},
	}
	for _, tt := range tests {
		got, ok := s.Next(time.Time{}, tt.after)
		if ok != tt.wantOK || ok && got.Format(time.RFC3339) != tt.want {
			t.Errorf("Next(%s) = %s, %v, want %s, %v", tt.after, got.Format(time.RFC3339), ok, tt.want, tt.wantOK)
		}
	}

	r, err := Parse("rate(1 minute)", "")
	if err != nil {
		t.Fatal(err)
	}
	far := time.Date(200000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ start, after time.Time }{
		{time.Time{}, far}, {far, time.Time{}}, {time.Date(-200000, 1, 1, 0, 0, 0, 0, time.UTC), far},
	} {
		if got, ok := r.Next(tt.start, tt.after); ok && !got.After(tt.after) {
			t.Errorf("rate Next(%s, %s) = %s, want a time after it", tt.start, tt.after, got)
		}
	}
}

// fuzzZones are the zones FuzzParse picks from: a fuzzer's own strings
// would mostly test time.LoadLocation.
var fuzzZones = []string{"", "UTC", "Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia"}

// FuzzParse checks that Parse never panics and that Next, from any
// instant, goes strictly forward and agrees with its own chain. Normal test runs
// use the seed corpus only; go test -fuzz=FuzzParse explores.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"cron(0 10 * * ? *)", "cron(0/15 * * * ? *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)",
		"cron(0 0 L * ? *)", "cron(0 0 LW * ? *)", "cron(0 0 ? * 6L *)", "cron(0 9 15W * ? *)", "cron(30 2 * * ? *)",
		"cron(15 10 ? * 6L 2002-2005)", "cron(0 0 31 2 ? *)", "cron(0 9 * * MON *)", "cron(0,30 1-3 1,15 JAN-MAR ? 2026/2)",
		"rate(1 minute)", "rate(5 minutes)", "rate(1 day)", "rate(1 minutes)", "at(2026-03-29T02:30:00)",
		"at(2026-10-25T02:30:00)", "at(2026-02-30T09:00:00)", "", "cron(", "rate()", "at()",
	} {
		f.Add(seed, uint8(2), int64(1774742400))
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, unix int64) {
		tz := fuzzZones[int(zone)%len(fuzzZones)]
		s, err := Parse(expr, tz)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q, %q) = %v and error %v", expr, tz, s, err)
			}
			return
		}
		after := time.Unix(unix%(400*365*86400), 0) // within ±400 years of 1970
		start := after.Add(-time.Duration(unix%100_000) * time.Second)
		var chain []time.Time
		for prev := after; len(chain) < 5; {
			next, ok := s.Next(start, prev)
			if !ok {
				break
			}
			if !next.After(prev) || next.Location() != time.UTC {
				t.Fatalf("%s in %q: Next(%s, %s) = %s, want a later time in UTC", expr, tz, start, prev, next)
			}
			chain = append(chain, next)
			prev = next
		}
		if len(chain) > 0 {
			got := between(s, start, after, chain[len(chain)-1], 5)
			if diff := cmp.Diff(chain, got); diff != "" {
				t.Fatalf("%s in %q: Between disagrees with Next (-next +between):\n%s", expr, tz, diff)
			}
		}
	})
}

// BenchmarkNext measures Next for a frequent, a monthly and a
// once-a-century schedule in a zone with daylight saving.
func BenchmarkNext(b *testing.B) {
	for _, expr := range []string{"cron(0/5 8-17 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)", "cron(0 0 29 2 ? 2196)", "rate(5 minutes)"} {
		s, err := Parse(expr, "Europe/Madrid")
		if err != nil {
			b.Fatal(err)
		}
		from := time.Date(2026, 3, 28, 23, 0, 0, 0, time.UTC)
		b.Run(expr, func(b *testing.B) {
			for b.Loop() {
				s.Next(from, from)
			}
		})
	}
}

// between returns the runs in (from, to], in order and at most max of
// them, by Next: the sequences the tests compare.
func between(s *Schedule, start, from, to time.Time, max int) []time.Time {
	var out []time.Time
	for t := from; len(out) < max; {
		next, ok := s.Next(start, t)
		if !ok || next.After(to) {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}
