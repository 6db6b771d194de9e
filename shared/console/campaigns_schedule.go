package console

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
)

// The schedule builder's kinds, as its "repeat" radio buttons send them.
const (
	repeatOnce   = "once"   // at(): a date and a time
	repeatRate   = "rate"   // rate(): every N minutes, hours or days
	repeatWeekly = "weekly" // cron(): chosen days of the week at a time
	repeatCron   = "cron"   // any expression, written by hand
)

// weekday is a day the weekly schedule may run on: its cron name and its
// name on screen.
type weekday struct{ Code, Name string }

// weekdays are in the order the editor shows them and the weekly cron
// expression lists them.
var weekdays = []weekday{{"MON", "Monday"}, {"TUE", "Tuesday"}, {"WED", "Wednesday"}, {"THU", "Thursday"},
	{"FRI", "Friday"}, {"SAT", "Saturday"}, {"SUN", "Sunday"}}

// rateUnits are the units of an "every N" schedule, as rate() writes them
// in the plural.
var rateUnits = []string{"minutes", "hours", "days"}

// scheduleForm is the schedule builder's fields: the kind, each kind's own
// fields, and the time zone. Fields of the kinds not chosen are kept as
// typed, so that switching kinds loses nothing.
type scheduleForm struct {
	Repeat string
	// Once.
	Date, Time string
	// Every N minutes, hours or days.
	Every, Unit string
	// Weekly: the chosen days (cron names, in week order) and the time.
	Days []string
	At   string
	// A raw expression.
	Cron string
	// Timezone is an IANA name.
	Timezone string
}

func readScheduleForm(v url.Values) scheduleForm {
	f := scheduleForm{Repeat: v.Get("repeat"), Date: strings.TrimSpace(v.Get("date")), Time: strings.TrimSpace(v.Get("time")),
		Every: strings.TrimSpace(v.Get("every")), Unit: v.Get("unit"), At: strings.TrimSpace(v.Get("at")),
		Cron: strings.TrimSpace(v.Get("cron")), Timezone: strings.TrimSpace(v.Get("timezone"))}
	for _, d := range weekdays {
		if slices.Contains(v["day"], d.Code) {
			f.Days = append(f.Days, d.Code)
		}
	}
	switch f.Repeat {
	case repeatOnce, repeatRate, repeatWeekly, repeatCron:
	default:
		f.Repeat = repeatOnce
	}
	return f
}

// defaults fills what a new campaign's builder starts with.
func (f scheduleForm) defaults() scheduleForm {
	if f.Time == "" {
		f.Time = "09:00"
	}
	if f.At == "" {
		f.At = "09:00"
	}
	if f.Every == "" {
		f.Every = "1"
	}
	if f.Unit == "" {
		f.Unit = "days"
	}
	return f
}

// HasDay reports whether the weekly schedule runs on the day (cron name).
func (f scheduleForm) HasDay(code string) bool { return slices.Contains(f.Days, code) }

// expression is the schedule expression the builder describes, as the
// campaign service and EventBridge Scheduler take it: at(…) in the
// campaign's zone, rate(…), or cron(…). Its errors name the builder's
// fields; the service checks the expression itself (and says so on the
// field "schedule").
func (f scheduleForm) expression() (string, error) {
	var bad []notify.FieldError
	add := func(field, problem string) { bad = append(bad, notify.FieldError{Field: field, Problem: problem}) }
	var expr string
	switch f.Repeat {
	case repeatOnce:
		d, err := time.Parse("2006-01-02", f.Date)
		if err != nil {
			add("date", "choose the day it is sent, written yyyy-mm-dd")
		}
		h, m, s, ok := clockOf(f.Time)
		if !ok {
			add("time", "choose the time it is sent, written hh:mm or hh:mm:ss")
		}
		expr = fmt.Sprintf("at(%sT%02d:%02d:%02d)", d.Format("2006-01-02"), h, m, s)
	case repeatRate:
		n, err := strconv.Atoi(f.Every)
		if err != nil || n < 1 {
			add("every", "a whole number, at least 1")
		}
		if !slices.Contains(rateUnits, f.Unit) {
			add("unit", "minutes, hours or days")
		}
		unit := f.Unit
		if n == 1 {
			unit = strings.TrimSuffix(unit, "s") // rate(1 day), never rate(1 days)
		}
		expr = fmt.Sprintf("rate(%d %s)", n, unit)
	case repeatWeekly:
		if len(f.Days) == 0 {
			add("day", "choose at least one day")
		}
		h, m, s, ok := clockOf(f.At)
		if !ok || s != 0 {
			add("at", "the time of day, written hh:mm")
		}
		expr = fmt.Sprintf("cron(%d %d ? * %s *)", m, h, strings.Join(f.Days, ","))
	default:
		expr = f.Cron
		switch {
		case expr == "":
			add("cron", "write a cron expression, such as cron(0 9 ? * MON-FRI *)")
		case !strings.HasPrefix(expr, "cron(") && !strings.HasPrefix(expr, "rate(") && !strings.HasPrefix(expr, "at("):
			// The six fields alone are taken too.
			expr = "cron(" + expr + ")"
		}
	}
	if len(bad) > 0 {
		return "", notify.Invalid(bad...)
	}
	return expr, nil
}

// clockOf reads hh:mm or hh:mm:ss, as a time input sends it.
func clockOf(s string) (h, m, sec int, ok bool) {
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Hour(), t.Minute(), t.Second(), true
		}
	}
	return 0, 0, 0, false
}

var (
	atExpr     = regexp.MustCompile(`^at\((\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})\)$`)
	rateExpr   = regexp.MustCompile(`^rate\(([1-9]\d*) (minute|hour|day)s?\)$`)
	weeklyExpr = regexp.MustCompile(`^cron\((\d{1,2}) (\d{1,2}) \? \* ([A-Z,]+) \*\)$`)
)

// scheduleFormOf is the builder showing expr: the kind that writes it,
// or the raw expression when no other kind does.
func scheduleFormOf(expr, tz string) scheduleForm {
	f := scheduleForm{Repeat: repeatCron, Cron: expr, Timezone: tz}.defaults()
	if m := atExpr.FindStringSubmatch(expr); m != nil {
		f.Repeat, f.Cron, f.Date, f.Time = repeatOnce, "", m[1], m[2]+":"+m[3]
		if m[4] != "00" {
			f.Time += ":" + m[4]
		}
		return f
	}
	if m := rateExpr.FindStringSubmatch(expr); m != nil {
		f.Repeat, f.Cron, f.Every, f.Unit = repeatRate, "", m[1], m[2]+"s"
		return f
	}
	if m := weeklyExpr.FindStringSubmatch(expr); m != nil {
		mi, _ := strconv.Atoi(m[1])
		h, _ := strconv.Atoi(m[2])
		days := strings.Split(m[3], ",")
		var known []string
		for _, d := range weekdays {
			if slices.Contains(days, d.Code) {
				known = append(known, d.Code)
			}
		}
		if mi < 60 && h < 24 && len(known) == len(days) {
			f.Repeat, f.Cron, f.Days, f.At = repeatWeekly, "", known, fmt.Sprintf("%02d:%02d", h, mi)
		}
	}
	return f
}

// scheduleWords is a schedule as a person says it: "Every Monday and
// Thursday at 09:00", "Every 15 minutes", "Once, on 4 May 2026 at 09:30".
// An expression the builder does not write is shown as it is.
func scheduleWords(expr string) string {
	f := scheduleFormOf(expr, "")
	switch f.Repeat {
	case repeatOnce:
		d, _ := time.Parse("2006-01-02", f.Date)
		return "Once, on " + d.Format("2 January 2006") + " at " + f.Time
	case repeatRate:
		unit := strings.TrimSuffix(f.Unit, "s")
		if f.Every == "1" {
			return "Every " + unit
		}
		return "Every " + f.Every + " " + f.Unit
	case repeatWeekly:
		switch len(f.Days) {
		case 7:
			return "Every day at " + f.At
		case 5:
			if !f.HasDay("SAT") && !f.HasDay("SUN") {
				return "Every weekday at " + f.At
			}
		}
		var names []string
		for _, d := range weekdays {
			if f.HasDay(d.Code) {
				names = append(names, d.Name)
			}
		}
		return "Every " + andList(names) + " at " + f.At
	}
	return "Custom: " + expr
}

// andList joins "Monday", "Wednesday" and "Friday" as a sentence does.
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// runTime is one run time: the instant (what the API answers, in UTC) and
// as the campaign's time zone shows it.
type runTime struct {
	At    time.Time `json:"at"`
	Local string    `json:"local"`
}

// zoned shows t in the IANA zone tz (UTC when it is not one).
func zoned(t time.Time, tz string) runTime {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" {
		loc = time.UTC
	}
	l := t.In(loc)
	layout := "Mon 2 Jan 2006, 15:04 MST"
	if l.Second() != 0 {
		layout = "Mon 2 Jan 2006, 15:04:05 MST"
	}
	return runTime{At: t.UTC(), Local: l.Format(layout)}
}

// scheduleProblem is a schedule's parse error on the field the campaign
// service names for it: the schedule, or its time zone.
func scheduleProblem(err error) notify.FieldError {
	if errors.Is(err, schedule.ErrTimeZone) {
		return notify.FieldError{Field: "timezone", Problem: err.Error()}
	}
	return notify.FieldError{Field: "schedule", Problem: err.Error()}
}

// zoneGroup is the zones of one region, for the time zone select.
type zoneGroup struct {
	Region string
	Zones  []string
}

// zoneGroups are zoneNames by region (Africa, America…), UTC apart.
func zoneGroups() []zoneGroup {
	var out []zoneGroup
	for _, z := range zoneNames {
		region, _, ok := strings.Cut(z, "/")
		if !ok {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Region != region {
			out = append(out, zoneGroup{Region: region})
		}
		out[len(out)-1].Zones = append(out[len(out)-1].Zones, z)
	}
	return out
}

var zonesByRegion = zoneGroups()
