// Package schedule reads schedule expressions written as Amazon EventBridge
// Scheduler writes them — at(…), rate(…) and cron(…) — in an IANA time zone,
// and computes their run times the way EventBridge Scheduler runs them. On
// AWS, EventBridge Scheduler itself runs a campaign; locally an in-process
// loop runs it with this package, and the API shows upcoming runs with it,
// so both must agree with AWS.
//
// Sources (AWS documentation, read for this package):
//
//   - EventBridge Scheduler User Guide, "Schedule types on EventBridge
//     Scheduler" (docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):
//     the three expression forms, at(yyyy-mm-ddThh:mm:ss) evaluated in the
//     schedule's time zone, rate units minutes | hours | days, StartDate
//     setting the first occurrence of a rate schedule, 60-second precision.
//   - EventBridge User Guide, "Cron expressions reference" and "Rate
//     expressions reference" (docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html,
//     eb-rate-expressions.html), which the Scheduler guide refers to for the
//     cron grammar: six fields (minutes 0-59 `, - * /`; hours 0-23
//     `, - * /`; day-of-month 1-31 `, - * ? / L W`; month 1-12 or JAN-DEC
//     `, - * /`; day-of-week 1-7 or SUN-SAT `, - * ? L #`; year 1970-2199
//     `, - * /`); one of day-of-month and day-of-week must be ?; a `#`
//     day-of-week is a single expression ("3#1,6#3" is invalid); rate units
//     minute | minutes | hour | hours | day | days, singular exactly when the
//     value is 1 (rate(1 hours) and rate(5 hour) are invalid).
//   - AWS Knowledge Center, "How can I adjust my Amazon EventBridge schedule
//     for daylight saving?" (repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst):
//     Scheduler adjusts for daylight saving time; when clocks go forward "your
//     schedule invocation gets skipped if the cron expression falls on a
//     non-existent date and time"; when they go back "your schedule runs only
//     once and doesn't repeat its invocation"; a rate in days is 24 elapsed
//     hours, not a calendar day.
//
// What AWS does not document, and what this package chose:
//
//   - L, W and # follow Quartz, from which the grammar comes (the older
//     CloudWatch Events page says L alone in day-of-week is the last day of
//     the week, Saturday): L alone in day-of-month is the last day of the
//     month; LW is its last weekday (Monday to Friday); nW is the weekday
//     nearest day n within the same month (a Saturday 1st moves to Monday
//     the 3rd, a Sunday last day to Friday), and no run that month when day
//     n does not exist; in day-of-week L alone is 7 (SAT), nL is the last
//     weekday n of the month (6L the last Friday) and n#k the k-th weekday n
//     (2#1 the first Monday), with no run in a month that has no k-th one.
//   - When the clocks go back, a repeated local time runs at its first
//     occurrence (the earlier, daylight-saving offset), as Quartz and most
//     cron implementations do.
//   - An at() whose local time does not exist (inside a spring-forward gap)
//     runs later by the length of the gap (02:30 becomes 03:30), as
//     java.time and Go's time.Date resolve such times; skipping it would
//     lose a one-time send. A repeated at() time uses its first occurrence.
//   - Only the documented syntax is accepted, so that an expression this
//     package accepts is one EventBridge Scheduler accepts too: names are
//     upper case, ranges run upwards (no 22-2 wrap-around), L, LW, nW, nL
//     and n#k stand alone in their field, and Quartz extras such as L-3 or
//     a step in day-of-week are refused.
//   - A cron expression that no date between 1970 and 2199 matches (such as
//     cron(0 0 31 2 ? *)) is refused at Parse, since it would never run.
//
// Run times are computed field by field on the local calendar, never minute
// by minute, so Next is fast however far away the next run is.
//
// A program that resolves time zones where no zoneinfo database is
// installed (a Lambda on provided.al2023) should import time/tzdata in its
// main package.
package schedule

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kinds of schedule, as Kind returns them.
const (
	KindAt   = "at"
	KindRate = "rate"
	KindCron = "cron"
)

// Schedule is a parsed expression in its time zone. It is immutable, so
// one value may serve many goroutines.
type Schedule struct {
	expr string
	kind string
	loc  *time.Location

	at       time.Time // KindAt: the run, in UTC
	interval int64     // KindRate: seconds between runs
	cron     *cronSpec // KindCron
}

// Parse checks expr in the IANA time zone tz ("" is UTC, as for
// EventBridge Scheduler's ScheduleExpressionTimezone) and returns the
// schedule. Its errors say exactly what is wrong and are meant for the
// caller of an API (a 422); an error about the zone is ErrTimeZone (test
// it with errors.Is), so that a caller can name the field at fault.
func Parse(expr, tz string) (*Schedule, error) {
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	s := &Schedule{expr: expr, loc: loc}
	e := expr
	switch {
	case strings.TrimSpace(e) == "":
		return nil, errors.New("the schedule is empty: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)")
	case strings.TrimSpace(e) != e:
		// The expression goes to EventBridge Scheduler as it is.
		return nil, fmt.Errorf("%q has spaces around it: remove them", expr)
	case strings.HasPrefix(e, "at(") && strings.HasSuffix(e, ")"):
		s.kind = KindAt
		err = s.parseAt(e[len("at(") : len(e)-1])
	case strings.HasPrefix(e, "rate(") && strings.HasSuffix(e, ")"):
		s.kind = KindRate
		err = s.parseRate(e[len("rate(") : len(e)-1])
	case strings.HasPrefix(e, "cron(") && strings.HasSuffix(e, ")"):
		s.kind = KindCron
		s.cron, err = parseCron(e[len("cron(") : len(e)-1])
	default:
		return nil, fmt.Errorf("%q is not a schedule expression: use at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)", expr)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ErrTimeZone is the error of a time zone that is not an IANA name.
var ErrTimeZone = errors.New("unknown time zone")

// loadZone resolves an IANA zone name. "Local" is refused: it means the
// machine's zone, which EventBridge Scheduler does not know.
func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" || strings.TrimSpace(tz) != tz {
		return nil, fmt.Errorf("%w %q: use an IANA name such as Europe/Madrid", ErrTimeZone, tz)
	}
	return loc, nil
}

// Kind returns KindAt, KindRate or KindCron, so callers can tell a one-time
// schedule from a recurring one without parsing again.
func (s *Schedule) Kind() string { return s.kind }

// String returns the expression as it was given to Parse.
func (s *Schedule) String() string { return s.expr }

// Location returns the schedule's time zone (UTC when none was given), for
// showing run times as the operator wrote them.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first run strictly after after, in UTC, and false when
// there is none: an at() already past, or a cron whose year field has
// ended.
//
// start anchors rate(): its runs are start, start+interval, start+2·interval
// and so on, as EventBridge Scheduler runs a rate schedule from its
// StartDate (pass the time the schedule was created when it has none). A
// zero start counts from after itself, so Next returns after+interval.
// at() and cron() ignore start.
func (s *Schedule) Next(start, after time.Time) (time.Time, bool) {
	switch s.kind {
	case KindAt:
		if s.at.After(after) {
			return s.at, true
		}
		return time.Time{}, false
	case KindRate:
		return s.rateNext(start, after)
	default:
		return s.cron.next(after, s.loc)
	}
}

// parseAt reads yyyy-mm-ddThh:mm:ss, a local time in the schedule's zone.
func (s *Schedule) parseAt(v string) error {
	const form = "at() needs a local date and time written yyyy-mm-ddThh:mm:ss, as in at(2026-05-01T09:30:00)"
	if len(v) != len("2006-01-02T15:04:05") {
		return fmt.Errorf("%s; got at(%s)", form, v)
	}
	for i := 0; i < len(v); i++ {
		want := byte('0')
		switch i {
		case 4, 7:
			want = '-'
		case 10:
			want = 'T'
		case 13, 16:
			want = ':'
		}
		if want == '0' && (v[i] < '0' || v[i] > '9') || want != '0' && v[i] != want {
			return fmt.Errorf("%s; got at(%s)", form, v)
		}
	}
	num := func(i, j int) int { n, _ := strconv.Atoi(v[i:j]); return n }
	y, mo, d, h, mi, sec := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	switch {
	case mo < 1 || mo > 12:
		return fmt.Errorf("at(%s): month %02d is out of range 01–12", v, mo)
	case d < 1 || d > daysIn(y, time.Month(mo)):
		return fmt.Errorf("at(%s): day %02d is out of range for %s %d (01–%02d)", v, d, time.Month(mo), y, daysIn(y, time.Month(mo)))
	case h > 23:
		return fmt.Errorf("at(%s): hour %02d is out of range 00–23", v, h)
	case mi > 59:
		return fmt.Errorf("at(%s): minute %02d is out of range 00–59", v, mi)
	case sec > 59:
		return fmt.Errorf("at(%s): second %02d is out of range 00–59", v, sec)
	}
	s.at = resolveAt(s.loc, wall{y, time.Month(mo), d, h, mi}, sec).UTC()
	return nil
}

// parseRate reads "value unit". A day is 24 elapsed hours: EventBridge
// Scheduler counts a rate in days across daylight-saving changes that way.
func (s *Schedule) parseRate(v string) error {
	f := strings.Fields(v)
	if len(f) != 2 {
		return fmt.Errorf("rate needs a value and a unit, as in rate(5 minutes); got rate(%s)", v)
	}
	if strings.TrimLeft(f[0], "0123456789") != "" {
		return fmt.Errorf("rate value %q must be a positive whole number", f[0])
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return fmt.Errorf("rate value %s is too large", f[0])
	}
	if n < 1 {
		return fmt.Errorf("rate value %d must be at least 1", n)
	}
	var unit int64
	var singular string
	switch f[1] {
	case "minute", "minutes":
		unit, singular = 60, "minute"
	case "hour", "hours":
		unit, singular = 3600, "hour"
	case "day", "days":
		unit, singular = 86400, "day"
	default:
		return fmt.Errorf("unknown rate unit %q: use minute, minutes, hour, hours, day or days", f[1])
	}
	if n == 1 && f[1] != singular {
		return fmt.Errorf("use the singular unit for 1: rate(1 %s)", singular)
	}
	if n > 1 && f[1] == singular {
		return fmt.Errorf("use the plural unit for %d: rate(%d %ss)", n, n, singular)
	}
	// Keep start + k·interval within time.Time's range for any real start.
	if n > math.MaxInt64/unit/1000 {
		return fmt.Errorf("rate value %s is too large", f[0])
	}
	s.interval = n * unit
	return nil
}

// rateNext returns start + k·interval for the least k ≥ 0 that is after
// after, computed in whole seconds so no year span overflows a Duration.
func (s *Schedule) rateNext(start, after time.Time) (time.Time, bool) {
	if start.IsZero() {
		start = after
	}
	if start.After(after) {
		return start.UTC(), true
	}
	// after - start = secs + frac, with 0 ≤ frac < 1s.
	a, b := after.Unix(), start.Unix()
	if b < 0 && a > math.MaxInt64+b {
		return time.Time{}, false // centuries past any real schedule
	}
	secs := a - b
	if after.Nanosecond() < start.Nanosecond() {
		secs--
	}
	// start + k·interval > after ⇔ k > (secs+frac)/interval; the interval
	// is whole seconds, so k = secs/interval + 1.
	k := secs/s.interval + 1
	if k > math.MaxInt64/s.interval || b > 0 && k*s.interval > math.MaxInt64-b {
		return time.Time{}, false
	}
	return time.Unix(start.Unix()+k*s.interval, int64(start.Nanosecond())).UTC(), true
}
