package schedule

import "time"

// wall is a local calendar minute, as a wall clock in the schedule's zone
// shows it. Around a daylight-saving change one wall minute may be shown
// at no instant (clocks went forward) or at two (clocks went back).
type wall struct {
	y  int
	mo time.Month
	d  int
	h  int
	mi int
}

// wallOf returns the minute the wall clock in loc shows at t.
func wallOf(t time.Time, loc *time.Location) wall {
	l := t.In(loc)
	return wall{l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute()}
}

// addMinute returns the calendar minute after w, ignoring any zone.
func (w wall) addMinute() wall {
	w.mi++
	if w.mi < 60 {
		return w
	}
	w.mi, w.h = 0, w.h+1
	if w.h < 24 {
		return w
	}
	w.h, w.d = 0, w.d+1
	if w.d <= daysIn(w.y, w.mo) {
		return w
	}
	w.d, w.mo = 1, w.mo+1
	if w.mo <= 12 {
		return w
	}
	w.mo, w.y = 1, w.y+1
	return w
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// maxOffset bounds any zone's offset from UTC (real ones stay within
// −12h and +14h; local mean times before 1900 within ±15h).
const maxOffset = 16 * 3600

// instants calls f with each instant, earliest first, at which the wall
// clock in loc shows w at second sec: none inside a spring-forward gap, two
// inside a fall-back overlap. It walks the zone periods that can contain
// such an instant with ZoneBounds, so it is exact for any zone, including
// changes that are not one hour or not at 02:00.
//
// When f returns false, instants stops. In a gap (no instant), it returns
// the instant the wall time denotes under the offset in force before the
// gap — the wall time moved later by the gap's length — and false;
// otherwise it returns the zero time and true.
func instants(loc *time.Location, w wall, sec int, f func(time.Time) bool) (time.Time, bool) {
	naive := time.Date(w.y, w.mo, w.d, w.h, w.mi, sec, 0, time.UTC).Unix()
	t := time.Unix(naive-maxOffset, 0).In(loc)
	found := false
	var gapped time.Time
	prevPast, prevCand := false, int64(0)
	for {
		_, off := t.Zone()
		start, end := t.ZoneBounds()
		cand := naive - int64(off)
		early := !start.IsZero() && cand < start.Unix() // before this period
		past := !end.IsZero() && cand >= end.Unix()     // after this period
		switch {
		case !early && !past:
			found = true
			if !f(time.Unix(cand, 0)) {
				return time.Time{}, true
			}
		case early && prevPast && gapped.IsZero():
			// Past the end of the previous period and before the start of
			// this one: the wall time fell in the gap between them.
			gapped = time.Unix(prevCand, 0)
		}
		if end.IsZero() || end.Unix() > naive+maxOffset {
			break
		}
		prevPast, prevCand = past, cand
		t = end.In(loc)
	}
	if found {
		return time.Time{}, true
	}
	return gapped, false
}

// firstInstant returns the earliest instant at which the wall clock in loc
// shows w (second 0), and false when it never does (a spring-forward gap).
// This is where the documented daylight-saving behaviour lives: a
// nonexistent local time is skipped and a repeated one runs once, at its
// first occurrence.
func firstInstant(loc *time.Location, w wall) (time.Time, bool) {
	var first time.Time
	_, ok := instants(loc, w, 0, func(t time.Time) bool { first = t; return false })
	return first, ok
}

// resolveAt returns the instant of an at() local time: its first
// occurrence, or inside a gap the wall time moved later by the gap's length.
func resolveAt(loc *time.Location, w wall, sec int) time.Time {
	var first time.Time
	gapped, ok := instants(loc, w, sec, func(t time.Time) bool { first = t; return false })
	switch {
	case ok:
		return first
	case !gapped.IsZero():
		return gapped
	default: // no zone period found: let the time package decide
		return time.Date(w.y, w.mo, w.d, w.h, w.mi, sec, 0, loc)
	}
}
