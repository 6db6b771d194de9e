package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The year field's bounds, as EventBridge documents them.
const (
	minYear = 1970
	maxYear = 2199
)

// cronSpec is a parsed cron(…): one value set per field, and the rule that
// picks the days of a month from day-of-month or day-of-week (whichever is
// not ?).
type cronSpec struct {
	minutes   valueSet
	hours     valueSet
	months    valueSet
	years     valueSet
	byWeekday bool    // day-of-month is ?: day-of-week picks the days
	dom       dayRule // when !byWeekday
	dow       dayRule // when byWeekday
}

// valueSet holds the values of one field, bit v-lo for value v.
type valueSet struct {
	lo   int
	bits [4]uint64
}

// add puts v in the set.
func (s *valueSet) add(v int) {
	i := v - s.lo
	s.bits[i/64] |= 1 << (i % 64)
}

// has reports whether v is in the set.
func (s *valueSet) has(v int) bool {
	i := v - s.lo
	return i >= 0 && i < 256 && s.bits[i/64]&(1<<(i%64)) != 0
}

// Kinds of dayRule.
const (
	daySet         = iota // day-of-month values, or day-of-week values (7 for L)
	dayLast               // day-of-month L, or day-of-week nL
	dayLastWeekday        // day-of-month LW
	dayNearest            // day-of-month nW
	dayNth                // day-of-week n#k
)

// dayRule is what a day field says: a set of days (day-of-month 1–31 or
// day-of-week 1–7), or one of the L, LW, nW, nL, n#k forms.
type dayRule struct {
	kind int
	set  valueSet
	n    int // the day of nW, the weekday of nL and n#k
	k    int // the k of n#k
}

// field describes one cron field: its name in messages, its bounds, its
// names (JAN–DEC, SUN–SAT) and the largest step it takes.
type field struct {
	name    string
	lo, hi  int
	names   []string // names[i] is value lo+i
	stepMax int      // largest step, Quartz's limit; 0: no / in this field
	use     string   // what a valid value looks like, for messages
}

var (
	fMinutes = field{name: "minutes", lo: 0, hi: 59, stepMax: 59, use: "0–59"}
	fHours   = field{name: "hours", lo: 0, hi: 23, stepMax: 23, use: "0–23"}
	fDOM     = field{name: "day-of-month", lo: 1, hi: 31, stepMax: 31, use: "1–31, L, LW or nW"}
	fMonth   = field{name: "month", lo: 1, hi: 12, stepMax: 12, use: "1–12 or JAN–DEC",
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	fDOW = field{name: "day-of-week", lo: 1, hi: 7, use: "1–7 or SUN–SAT, L, nL or n#k",
		names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	fYear = field{name: "year", lo: minYear, hi: maxYear, stepMax: maxYear - minYear, use: "1970–2199"}
)

// parseCron reads the six fields inside cron(…).
func parseCron(v string) (*cronSpec, error) {
	f := strings.Fields(v)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron needs 6 fields (minutes hours day-of-month month day-of-week year), got %d in cron(%s)", len(f), v)
	}
	switch {
	case f[2] != "?" && f[4] != "?":
		return nil, fmt.Errorf("day-of-month and day-of-week cannot both be specified: one of them must be ?")
	case f[2] == "?" && f[4] == "?":
		return nil, fmt.Errorf("day-of-month and day-of-week cannot both be ?: give one of them a value (* for every day)")
	}
	c := &cronSpec{byWeekday: f[2] == "?"}
	var err error
	if c.minutes, err = fMinutes.parse(f[0]); err != nil {
		return nil, err
	}
	if c.hours, err = fHours.parse(f[1]); err != nil {
		return nil, err
	}
	if !c.byWeekday {
		if c.dom, err = parseDOM(f[2]); err != nil {
			return nil, err
		}
	}
	if c.months, err = fMonth.parse(f[3]); err != nil {
		return nil, err
	}
	if c.byWeekday {
		if c.dow, err = parseDOW(f[4]); err != nil {
			return nil, err
		}
	}
	if c.years, err = fYear.parse(f[5]); err != nil {
		return nil, err
	}
	if _, ok := c.nextWall(wall{minYear, time.January, 1, 0, 0}); !ok {
		return nil, fmt.Errorf("cron(%s) would never run: no date from 1970 to 2199 matches its day-of-month, month, day-of-week and year", strings.Join(f, " "))
	}
	return c, nil
}

// parseDOM reads a day-of-month field other than ?.
func parseDOM(s string) (dayRule, error) {
	switch {
	case s == "L":
		return dayRule{kind: dayLast}, nil
	case s == "LW":
		return dayRule{kind: dayLastWeekday}, nil
	case strings.HasSuffix(s, "W") && !strings.ContainsAny(s, ",-*/L"):
		n, err := fDOM.value(strings.TrimSuffix(s, "W"))
		if err != nil {
			return dayRule{}, err
		}
		return dayRule{kind: dayNearest, n: n}, nil
	case strings.HasPrefix(s, "L-"):
		return dayRule{}, fmt.Errorf("day-of-month: %q: an offset from the last day is not part of EventBridge's cron syntax (use L, LW, nW or days 1–31)", s)
	case strings.ContainsAny(s, "LW"):
		return dayRule{}, fmt.Errorf("day-of-month: %q: L, LW and nW (as in 15W) must be the whole field, not part of a list, range or step", s)
	}
	set, err := fDOM.parse(s)
	return dayRule{kind: daySet, set: set}, err
}

// parseDOW reads a day-of-week field other than ?.
func parseDOW(s string) (dayRule, error) {
	switch {
	case strings.Contains(s, "/"):
		return dayRule{}, fmt.Errorf("day-of-week: %q: / is not allowed in day-of-week (it takes , - * ? L #)", s)
	case strings.Contains(s, "#"):
		if strings.ContainsAny(s, ",-*") {
			return dayRule{}, fmt.Errorf("day-of-week: %q: n#k must be the only expression in the field (\"3#1,6#3\" is two)", s)
		}
		wd, nth, _ := strings.Cut(s, "#")
		n, err := fDOW.value(wd)
		if err != nil {
			return dayRule{}, err
		}
		k, err := strconv.Atoi(nth)
		if err != nil || k < 1 || k > 5 || strings.TrimLeft(nth, "0123456789") != "" {
			return dayRule{}, fmt.Errorf("day-of-week: %q: the week after # must be 1–5 (2#1 is the first Monday of the month)", s)
		}
		return dayRule{kind: dayNth, n: n, k: k}, nil
	case s == "L":
		r := dayRule{kind: daySet, set: valueSet{lo: fDOW.lo}}
		r.set.add(7) // L alone is the last day of the week: Saturday
		return r, nil
	case strings.HasSuffix(s, "L") && !strings.ContainsAny(s, ",-*"):
		n, err := fDOW.value(strings.TrimSuffix(s, "L"))
		if err != nil {
			return dayRule{}, err
		}
		return dayRule{kind: dayLast, n: n}, nil
	}
	for _, item := range strings.Split(s, ",") {
		if strings.HasSuffix(item, "L") {
			return dayRule{}, fmt.Errorf("day-of-week: %q: L and nL (as in 6L) must be the whole field, not part of a list or range", s)
		}
	}
	set, err := fDOW.parse(s)
	return dayRule{kind: daySet, set: set}, err
}

// parse reads a list of values, ranges and steps: 5, 1-5, *, 0/15, */5,
// 10-50/10, JAN-MAR.
func (f field) parse(s string) (valueSet, error) {
	set := valueSet{lo: f.lo}
	for _, item := range strings.Split(s, ",") {
		if err := f.item(item, &set); err != nil {
			return valueSet{}, err
		}
	}
	return set, nil
}

// item adds one list item to set.
func (f field) item(item string, set *valueSet) error {
	switch {
	case item == "":
		return fmt.Errorf("%s: empty value in %q (lists are written 1,5,10 with no spaces)", f.name, item)
	case item == "?":
		return fmt.Errorf("%s: ? is only allowed as the whole day-of-month or day-of-week field", f.name)
	case strings.Contains(item, "#"):
		return fmt.Errorf("%s: # is only allowed in day-of-week (as in 2#1)", f.name)
	}
	base, stepText, hasStep := strings.Cut(item, "/")
	step := 1
	if hasStep {
		if f.stepMax == 0 {
			return fmt.Errorf("%s: / is not allowed in %s", f.name, f.name)
		}
		n, err := strconv.Atoi(stepText)
		if err != nil || strings.TrimLeft(stepText, "0123456789") != "" {
			return fmt.Errorf("%s: step %q in %q must be a whole number", f.name, stepText, item)
		}
		if n < 1 || n > f.stepMax {
			return fmt.Errorf("%s: step %d in %q is out of range 1–%d", f.name, n, item, f.stepMax)
		}
		step = n
	}
	lo, hi := f.lo, f.hi
	switch a, b, isRange := strings.Cut(base, "-"); {
	case base == "*":
	case isRange:
		var err error
		if lo, err = f.value(a); err != nil {
			return err
		}
		if hi, err = f.value(b); err != nil {
			return err
		}
		if lo > hi {
			return fmt.Errorf("%s: range %q runs backwards: write the lower value first", f.name, base)
		}
	default:
		v, err := f.value(base)
		if err != nil {
			return err
		}
		lo = v
		if !hasStep {
			hi = v // a single value; 5/15 runs from 5 to the field's end
		}
	}
	for v := lo; v <= hi; v += step {
		set.add(v)
	}
	return nil
}

// value reads one number or name and checks its range.
func (f field) value(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("%s: missing value (use %s)", f.name, f.use)
	}
	if strings.TrimLeft(s, "0123456789") == "" {
		if len(s) > 6 {
			return 0, fmt.Errorf("%s: %s is out of range %d–%d", f.name, s, f.lo, f.hi)
		}
		n, _ := strconv.Atoi(s)
		if n < f.lo || n > f.hi {
			return 0, fmt.Errorf("%s: %d is out of range %d–%d", f.name, n, f.lo, f.hi)
		}
		return n, nil
	}
	for i, name := range f.names {
		if s == name {
			return f.lo + i, nil
		}
	}
	for _, name := range f.names {
		if strings.EqualFold(s, name) {
			return 0, fmt.Errorf("%s: write %q in upper case: %s", f.name, s, name)
		}
	}
	return 0, fmt.Errorf("%s: %q is not a valid value (use %s)", f.name, s, f.use)
}

// days returns the days of month m of year y that the spec runs on, bit d
// for day d.
func (c *cronSpec) days(y int, m time.Month) uint64 {
	last := daysIn(y, m)
	valid := uint64(1)<<(last+1) - 2 // days 1..last
	first := int(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday())
	weekday := func(d int) int { return (first+d-1)%7 + 1 } // 1 = SUN … 7 = SAT
	if !c.byWeekday {
		switch c.dom.kind {
		case dayLast:
			return 1 << last
		case dayLastWeekday:
			d := last
			switch weekday(d) {
			case 7:
				d--
			case 1:
				d -= 2
			}
			return 1 << d
		case dayNearest:
			// The weekday nearest day n, never leaving the month: a
			// Saturday moves to Friday (or to Monday the 3rd when n is the
			// 1st), a Sunday to Monday (or to Friday when n is the last day).
			d := c.dom.n
			if d > last {
				return 0
			}
			switch weekday(d) {
			case 7:
				if d == 1 {
					d = 3
				} else {
					d--
				}
			case 1:
				if d == last {
					d -= 2
				} else {
					d++
				}
			}
			return 1 << d
		default:
			return (c.dom.set.bits[0] << 1) & valid // set bit i is day i+1
		}
	}
	switch c.dow.kind {
	case dayLast:
		d := last - (weekday(last)-c.dow.n+7)%7
		return 1 << d
	case dayNth:
		d := 1 + (c.dow.n-weekday(1)+7)%7 + 7*(c.dow.k-1)
		if d > last {
			return 0
		}
		return 1 << d
	default:
		var out uint64
		for d := 1; d <= last; d++ {
			if c.dow.set.has(weekday(d)) {
				out |= 1 << d
			}
		}
		return out
	}
}

// nextWall returns the first calendar minute at or after from that the
// spec matches, ignoring time zones, and false when the year field has
// ended. It moves field by field — year, month, day, hour, minute — so a
// call costs at most a few thousand steps even when the answer is decades
// away or does not exist.
func (c *cronSpec) nextWall(from wall) (wall, bool) {
	if from.y < minYear {
		from = wall{minYear, time.January, 1, 0, 0}
	}
	y, mo, d, h, mi := from.y, from.mo, from.d, from.h, from.mi
	for ; y <= maxYear; y, mo, d, h, mi = y+1, time.January, 1, 0, 0 {
		if !c.years.has(y) {
			continue
		}
		for ; mo <= time.December; mo, d, h, mi = mo+1, 1, 0, 0 {
			if !c.months.has(int(mo)) {
				continue
			}
			days := c.days(y, mo)
			for ; d <= 31; d, h, mi = d+1, 0, 0 {
				if days&(1<<d) == 0 {
					continue
				}
				for ; h <= 23; h, mi = h+1, 0 {
					if !c.hours.has(h) {
						continue
					}
					for ; mi <= 59; mi++ {
						if c.minutes.has(mi) {
							return wall{y, mo, d, h, mi}, true
						}
					}
				}
			}
		}
	}
	return wall{}, false
}

// next returns the first run strictly after after. Runs are wall-clock
// minutes in loc: one that the clock skips (spring forward) does not run,
// and one it shows twice (fall back) runs once, at its first occurrence.
func (c *cronSpec) next(after time.Time, loc *time.Location) (time.Time, bool) {
	from := wallOf(after, loc).addMinute()
	for {
		w, ok := c.nextWall(from)
		if !ok {
			return time.Time{}, false
		}
		if t, ok := firstInstant(loc, w); ok && t.After(after) {
			return t.UTC(), true
		}
		from = w.addMinute()
	}
}
