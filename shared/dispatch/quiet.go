package dispatch

import (
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// quietUntil reports whether now falls in the user's quiet hours, in the
// user's time zone (UTC when unknown), and when they end. A window whose
// start is after its end runs over midnight (22:00–08:00); start equal to
// end is no window. Daylight saving changes are the time zone's: an end
// time that does not exist that day is normalised by time.Date.
func quietUntil(u notify.User, now time.Time) (time.Time, bool) {
	q := u.Preferences.QuietHours
	if q == nil {
		return time.Time{}, false
	}
	sh, sm, ok1 := clock(q.Start)
	eh, em, ok2 := clock(q.End)
	if !ok1 || !ok2 || (sh == eh && sm == em) {
		return time.Time{}, false
	}
	loc := time.UTC
	if u.Timezone != "" {
		if l, err := time.LoadLocation(u.Timezone); err == nil {
			loc = l
		}
	}
	local := now.In(loc)
	y, mo, d := local.Date()
	start := time.Date(y, mo, d, sh, sm, 0, 0, loc)
	end := time.Date(y, mo, d, eh, em, 0, 0, loc)
	if start.Before(end) {
		if !local.Before(start) && local.Before(end) {
			return end, true
		}
		return time.Time{}, false
	}
	// Over midnight: late today until tomorrow's end, or early today.
	if !local.Before(start) {
		return time.Date(y, mo, d+1, eh, em, 0, 0, loc), true
	}
	if local.Before(end) {
		return end, true
	}
	return time.Time{}, false
}

// clock parses "HH:MM".
func clock(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	return h, m, err1 == nil && err2 == nil && h >= 0 && h < 24 && m >= 0 && m < 60
}

// deferredChunk names the chunk that carries recipients of chunk deferred
// until t: the same for every retry of chunk and for every re-deferral of
// the deferred chunk itself, so its count marker applies its deliveries
// once.
func deferredChunk(chunk string, until time.Time) string {
	if i := strings.Index(chunk, "/q"); i >= 0 {
		chunk = chunk[:i]
	}
	return chunk + "/q" + strconv.FormatInt(until.Unix(), 10)
}

// deferredUntil reads the end of the quiet hours a deferred chunk waited
// for (see deferredChunk); ok is false for a chunk that was not deferred.
func deferredUntil(chunk string) (time.Time, bool) {
	i := strings.LastIndex(chunk, "/q")
	if i < 0 {
		return time.Time{}, false
	}
	sec, err := strconv.ParseInt(chunk[i+2:], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(sec, 0), true
}
