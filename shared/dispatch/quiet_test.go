package dispatch

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

func TestQuietUntil(t *testing.T) {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, madrid)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	night := &notify.QuietHours{Start: "22:00", End: "08:00"}
	lunch := &notify.QuietHours{Start: "14:00", End: "16:30"}
	tests := []struct {
		name  string
		q     *notify.QuietHours
		tz    string
		now   time.Time
		until time.Time
		quiet bool
	}{
		{"none", nil, "Europe/Madrid", at("2026-11-21 23:00"), time.Time{}, false},
		{"late evening", night, "Europe/Madrid", at("2026-11-21 23:00"), at("2026-11-22 08:00"), true},
		{"early morning", night, "Europe/Madrid", at("2026-11-22 07:59"), at("2026-11-22 08:00"), true},
		{"at the end", night, "Europe/Madrid", at("2026-11-22 08:00"), time.Time{}, false},
		{"at the start", night, "Europe/Madrid", at("2026-11-21 22:00"), at("2026-11-22 08:00"), true},
		{"daytime", night, "Europe/Madrid", at("2026-11-21 12:00"), time.Time{}, false},
		{"same-day window", lunch, "Europe/Madrid", at("2026-11-21 15:00"), at("2026-11-21 16:30"), true},
		{"after same-day window", lunch, "Europe/Madrid", at("2026-11-21 17:00"), time.Time{}, false},
		// 23:00 UTC is 00:00 in Madrid in winter: inside the Madrid night.
		{"user's time zone", night, "Europe/Madrid", time.Date(2026, 11, 21, 21, 30, 0, 0, time.UTC), at("2026-11-22 08:00"), true},
		{"utc when unknown", night, "", time.Date(2026, 11, 21, 21, 30, 0, 0, time.UTC), time.Time{}, false},
		// Spring forward in Madrid: 2026-03-29 02:00 → 03:00.
		{"over a DST change", &notify.QuietHours{Start: "01:00", End: "09:00"}, "Europe/Madrid", at("2026-03-29 01:30"), at("2026-03-29 09:00"), true},
		{"empty window", &notify.QuietHours{Start: "08:00", End: "08:00"}, "Europe/Madrid", at("2026-11-21 08:00"), time.Time{}, false},
	}
	for _, tt := range tests {
		u := notify.User{Timezone: tt.tz, Preferences: notify.Preferences{QuietHours: tt.q}}
		until, quiet := quietUntil(u, tt.now)
		if quiet != tt.quiet || !until.Equal(tt.until) {
			t.Errorf("%s: quietUntil = %v, %v; want %v, %v", tt.name, until, quiet, tt.until, tt.quiet)
		}
	}
	if d := at("2026-03-29 09:00").Sub(at("2026-03-29 01:30")); d != 6*time.Hour+30*time.Minute {
		t.Errorf("the DST night lasts %v, want 6h30m (one hour skipped)", d)
	}
}

func TestDeferredChunk(t *testing.T) {
	until := time.Unix(1795000000, 0)
	c := deferredChunk("N1:3", until)
	if c != "N1:3/q1795000000" || deferredChunk(c, until) != c {
		t.Errorf("deferredChunk = %q, and again %q; want one stable name", c, deferredChunk(c, until))
	}
}

// requeued records what a dispatcher put back on the queue.
type requeued struct {
	bodies [][]byte
	delays []time.Duration
}

func (q *requeued) SendDelayed(_ context.Context, bodies [][]byte, delay time.Duration) error {
	q.bodies = append(q.bodies, bodies...)
	for range bodies {
		q.delays = append(q.delays, delay)
	}
	return nil
}

func TestQuietHoursDeferUntilTheWindowEnds(t *testing.T) {
	f := newFixture(t)
	night := notify.Preferences{QuietHours: &notify.QuietHours{Start: "22:00", End: "08:00"}}
	// now is 10:00 UTC: 23:00 in Auckland (night), 11:00 in Madrid (day).
	f.user(notify.User{ID: "sleeping", Name: "A", Email: "a@example.com", Timezone: "Pacific/Auckland", Preferences: night}) // 23:00 there
	f.user(notify.User{ID: "awake", Name: "B", Email: "b@example.com", Timezone: "Europe/Madrid", Preferences: night})       // 11:00 there
	f.user(notify.User{ID: "optout", Name: "C", Email: "c@example.com", Timezone: "Pacific/Auckland",
		Preferences: notify.Preferences{QuietHours: night.QuietHours, Channels: map[notify.Channel]bool{notify.ChannelEmail: false}}})
	n := f.notification("NQ", notify.ChannelEmail, notify.Template{Title: "Bill", Body: "Hi {{name}}"}, 3)
	q := &requeued{}
	clock := now
	d := New(f.store, Senders{Email: f.rec}, Options{Now: func() time.Time { return clock }, Requeue: q})

	msg := message(t, n.ID, 0, notify.Recipient{UserID: "sleeping"}, notify.Recipient{UserID: "awake"}, notify.Recipient{UserID: "optout"})
	if errs := d.Handle(context.Background(), []Message{msg}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if f.rec.sent["sleeping"] != 0 || f.rec.sent["awake"] != 1 {
		t.Errorf("sent %v, want only the user outside quiet hours", f.rec.sent)
	}
	if got := f.deliveries(n.ID)["optout"]; got.Reason != notify.ReasonNoConsent {
		t.Errorf("opted-out user in quiet hours = %s %q, want skipped no_consent now", got.Status, got.Reason)
	}
	if len(q.bodies) != 1 {
		t.Fatalf("requeued %d messages, want 1", len(q.bodies))
	}
	// Auckland is UTC+13 in November: 23:00 there, quiet until 08:00, 9 h on.
	if q.delays[0] != 9*time.Hour {
		t.Errorf("deferred for %v, want 9h", q.delays[0])
	}
	if c, st := f.counts(n.ID); c.Queued != 1 || st == notify.StatusCompleted {
		t.Errorf("counts %+v status %s, want one still queued", c, st)
	}

	// The deferred message, redelivered twice, after the window: sent once.
	clock = now.Add(9 * time.Hour)
	for i := 0; i < 2; i++ {
		if errs := d.Handle(context.Background(), []Message{{ID: "q", Body: q.bodies[0]}}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}
	if f.rec.sent["sleeping"] != 1 {
		t.Errorf("sent %v after the window, want the deferred user once", f.rec.sent)
	}
	c, st := f.counts(n.ID)
	if c != (notify.Counts{Total: 3, Sent: 2, Skipped: 1}) || st != notify.StatusCompleted {
		t.Errorf("counts %+v status %s, want 2 sent, 1 skipped, completed", c, st)
	}
}

func TestUrgentIgnoresQuietHours(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "sleeping", Name: "A", Email: "a@example.com", Timezone: "Pacific/Auckland",
		Preferences: notify.Preferences{QuietHours: &notify.QuietHours{Start: "22:00", End: "08:00"}}})
	n := notify.Notification{WorkspaceID: "ws1", ID: "NU", Channel: notify.ChannelEmail, Urgent: true, Status: notify.StatusQueued,
		Counts: notify.Counts{Total: 1, Queued: 1}, Content: notify.Template{Channel: notify.ChannelEmail, Title: "Outage", Body: "Now"}, CreatedAt: now}
	if err := f.store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	q := &requeued{}
	d := New(f.store, Senders{Email: f.rec}, Options{Now: func() time.Time { return now }, Requeue: q})
	if errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{UserID: "sleeping"})}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if f.rec.sent["sleeping"] != 1 || len(q.bodies) != 0 {
		t.Errorf("urgent: sent %v, requeued %d; want sent at once", f.rec.sent, len(q.bodies))
	}
}
