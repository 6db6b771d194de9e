package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedulertest"
	"github.com/heraldhq/herald/shared/send"
)

type fakeQueue struct {
	mu     sync.Mutex
	bodies [][]byte
	fail   error
}

func (q *fakeQueue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.bodies = append(q.bodies, bodies...)
	return nil
}

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*Service, *schedulertest.Memory, *fakeQueue, notify.Store) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateWorkspace(context.Background(), notify.Workspace{ID: "ws1", Name: "ws1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	q, steps := &fakeQueue{}, &fakeQueue{}
	clock := func() time.Time { return now }
	sched := schedulertest.NewMemory()
	ids := &notify.IDs{}
	sender := &send.Sender{Store: store, Dispatch: q, Steps: steps, IDs: ids, Now: clock}
	return &Service{Store: store, Scheduler: sched, Sender: sender, IDs: ids, Now: clock}, sched, q, store
}

const pushToTwo = `{"channel": "push", "content": {"title": "Hola", "body": "Hola {{name}}"}, "audience": {"userIds": ["u1", "u2"]}}`

func TestCreateValidatesAndSchedules(t *testing.T) {
	s, sched, _, _ := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Weekly", Schedule: "cron(0 9 ? * MON *)", Timezone: "Europe/Madrid", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if c.Status != notify.CampaignActive || c.Sync.State != notify.SyncSynced || c.Kind != notify.CampaignKindCampaign {
		t.Errorf("campaign = %+v, want active and synced", c)
	}
	spec, _ := sched.Spec(notify.ScheduleName(c.ID))
	if !spec.Enabled || spec.Expression != "cron(0 9 ? * MON *)" || spec.Timezone != "Europe/Madrid" || spec.Target != (notify.ScheduleTarget{WorkspaceID: "ws1", CampaignID: c.ID}) {
		t.Errorf("schedule = %+v", spec)
	}
	next := s.NextRuns(c, 5)
	// Mondays at 09:00 Madrid (UTC+1 in winter): 08:00 UTC from 23 Nov 2026.
	if len(next) != 5 || !next[0].Equal(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)) || !next[1].Equal(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("NextRuns = %v", next)
	}

	tests := []struct {
		name  string
		in    Input
		field string
	}{
		{"bad cron", Input{Name: "x", Schedule: "cron(0 9 * * MON *)", Notification: json.RawMessage(pushToTwo)}, "schedule"},
		{"bad zone", Input{Name: "x", Schedule: "cron(0 9 ? * MON *)", Timezone: "Mars/Olympus", Notification: json.RawMessage(pushToTwo)}, "timezone"},
		{"past at", Input{Name: "x", Schedule: "at(2020-01-01T09:00:00)", Notification: json.RawMessage(pushToTwo)}, "schedule"},
		{"no name", Input{Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)}, "name"},
		{"unknown template", Input{Name: "x", Schedule: "rate(1 day)", Notification: json.RawMessage(`{"channel": "push", "templateId": "tpl_nope", "audience": {"userIds": ["u1"]}}`)}, "notification.templateId"},
		{"scheduleAt", Input{Name: "x", Schedule: "rate(1 day)", Notification: json.RawMessage(`{"channel": "push", "content": {"title": "a", "body": "b"}, "audience": {"userIds": ["u1"]}, "scheduleAt": "2026-12-01T09:00:00Z"}`)}, "notification.scheduleAt"},
		{"not a send", Input{Name: "x", Schedule: "rate(1 day)", Notification: json.RawMessage(`{"chanel": "push"}`)}, "notification"},
	}
	for _, tt := range tests {
		_, err := s.Create(ctx, "ws1", "ops", tt.in)
		var e *notify.Error
		if !errors.As(err, &e) || e.Code != notify.CodeValidation || e.Details[0].Field != tt.field {
			t.Errorf("%s: Create = %v, want validation_failed on %s", tt.name, err, tt.field)
		}
	}
}

func TestRunOncePerScheduledTime(t *testing.T) {
	s, sched, q, store := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Daily", Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(24 * time.Hour)
	run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at})
	if err != nil || run.Status != notify.RunSucceeded || run.Recipients != 2 || run.NotificationID == "" {
		t.Fatalf("Run = %+v, %v; want succeeded with 2 recipients", run, err)
	}
	n, err := store.GetNotification(ctx, "ws1", run.NotificationID)
	if err != nil || n.Source != notify.SourceCampaign || n.Origin != notify.OriginCampaign || !strings.Contains(n.CreatedBy, c.ID) {
		t.Errorf("notification = %+v, %v; want source and origin campaign", n, err)
	}
	sent := len(q.bodies)
	again, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at})
	if err != nil || again.NotificationID != run.NotificationID || len(q.bodies) != sent {
		t.Errorf("a second call for the same time = %+v, %v, %d messages (was %d); want the same run and nothing sent", again, err, len(q.bodies), sent)
	}
	runs, _, err := store.ListRuns(ctx, "ws1", c.ID, notify.Page{Limit: 10})
	if err != nil || len(runs) != 1 {
		t.Errorf("runs = %+v, %v; want one", runs, err)
	}

	// Paused in the store but the scheduler still calls: skipped.
	if _, err := s.SetPaused(ctx, "ws1", c.ID, true); err != nil {
		t.Fatal(err)
	}
	if spec, _ := sched.Spec(notify.ScheduleName(c.ID)); spec.Enabled {
		t.Errorf("paused campaign's schedule is enabled")
	}
	skipped, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at.Add(24 * time.Hour)})
	if err != nil || skipped.Status != notify.RunSkipped || len(q.bodies) != sent {
		t.Errorf("run of a paused campaign = %+v, %v; want skipped, nothing sent", skipped, err)
	}

	// Deleted: the schedule goes, and a late call deletes it again.
	if err := s.Delete(ctx, "ws1", c.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := sched.Spec(notify.ScheduleName(c.ID)); ok {
		t.Errorf("schedule left after delete")
	}
	if _, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at.Add(48 * time.Hour)}); err != nil {
		t.Errorf("run of a deleted campaign: %v", err)
	}
	calls := sched.Calls()
	if last := calls[len(calls)-1]; last != "delete "+notify.ScheduleName(c.ID) {
		t.Errorf("last scheduler call %q, want the schedule deleted", last)
	}
}

func TestOneOffCompletes(t *testing.T) {
	s, _, _, store := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Once", Schedule: "at(2026-12-01T09:00:00)", Timezone: "Europe/Madrid", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if next := s.NextRuns(c, 5); len(next) != 1 || !next[0].Equal(at) {
		t.Errorf("NextRuns = %v, want only %v", next, at)
	}
	if _, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at}); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetCampaign(ctx, "ws1", c.ID)
	if err != nil || got.Status != notify.CampaignCompleted || got.LastRunAt == nil || !got.LastRunAt.Equal(at) {
		t.Errorf("campaign after its one run = %+v, %v; want completed", got, err)
	}
}

func TestScheduleFailureIsReportedAndRepaired(t *testing.T) {
	s, sched, _, store := newService(t)
	ctx := t.Context()
	sched.Fail(errors.New("scheduler down"))
	_, err := s.Create(ctx, "ws1", "ops", Input{Name: "Weekly", Schedule: "rate(7 days)", Notification: json.RawMessage(pushToTwo)})
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != notify.CodeScheduleFailed || e.RetryAfter == 0 || strings.Contains(e.Message, "scheduler down") || !strings.Contains(e.Message, "nothing was saved") {
		t.Fatalf("Create with the scheduler down = %v, want schedule_failed saying nothing was saved, without the scheduler's own words", err)
	}
	if cs, _, err := store.ListCampaigns(ctx, "ws1", "", notify.Page{Limit: 10}); err != nil || len(cs) != 0 {
		t.Fatalf("campaigns after a refused create = %+v, %v; want none (a retry must not make a second)", cs, err)
	}

	// A change the scheduler refuses is kept, pending, and pushed again.
	sched.Fail(nil)
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Weekly", Schedule: "rate(7 days)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	sched.Fail(errors.New("scheduler down"))
	if _, err := s.SetPaused(ctx, "ws1", c.ID, true); !notify.IsCode(err, notify.CodeScheduleFailed) {
		t.Fatalf("pause with the scheduler down = %v, want schedule_failed", err)
	}
	got, err := store.GetCampaign(ctx, "ws1", c.ID)
	if err != nil || got.Status != notify.CampaignPaused || got.Sync.State != notify.SyncPending || !strings.Contains(got.Sync.Error, "scheduler down") {
		t.Fatalf("stored campaign = %+v, %v; want paused, pending with the error", got, err)
	}
	if spec, _ := sched.Spec(notify.ScheduleName(c.ID)); !spec.Enabled {
		t.Fatal("the refused pause reached the scheduler")
	}
	sched.Fail(nil)
	fixed, err := s.Sync(ctx, got)
	spec, _ := sched.Spec(notify.ScheduleName(c.ID))
	if err != nil || fixed.Sync.State != notify.SyncSynced || spec.Enabled {
		t.Errorf("Sync after recovery = %+v, %v; want synced and disabled", fixed, err)
	}
}

func TestResumePastOneOff(t *testing.T) {
	s, _, _, _ := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Once", Schedule: "at(2026-11-21T10:30:00)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPaused(ctx, "ws1", c.ID, true); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now.Add(time.Hour) }
	if _, err := s.SetPaused(ctx, "ws1", c.ID, false); !notify.IsCode(err, notify.CodeConflict) || !strings.Contains(err.Error(), "no run left") {
		t.Errorf("resume of an at() whose time passed while paused = %v, want conflict", err)
	}
}

// TestRunsAfterYear9999 keeps runs within what RFC 3339 writes: a schedule
// whose first run is later is refused (the scheduler could not take it),
// and later runs are not shown (the answer could not be written).
func TestRunsAfterYear9999(t *testing.T) {
	s, _, _, _ := newService(t)
	ctx := t.Context()
	// 23:00 on 31 December 9999 in New York is 10000 in UTC.
	_, err := s.Create(ctx, "ws1", "ops", Input{Name: "Far", Schedule: "at(9999-12-31T23:00:00)", Timezone: "America/New_York", Notification: json.RawMessage(pushToTwo)})
	var ne *notify.Error
	if !errors.As(err, &ne) || len(ne.Details) != 1 || ne.Details[0].Field != "schedule" {
		t.Fatalf("Create at(9999-12-31T23:00:00) in New York = %v, want 422 on schedule", err)
	}
	// Every 900000 days (about 2464 years): runs in 4491, 6955, 9419, then
	// after 9999.
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Rare", Schedule: "rate(900000 days)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatalf("Create rate(900000 days): %v", err)
	}
	next := s.NextRuns(c, 5)
	if len(next) != 3 {
		t.Errorf("NextRuns = %v, want the 3 runs before the year 10000", next)
	}
	if _, err := json.Marshal(next); err != nil {
		t.Errorf("NextRuns cannot be written: %v", err)
	}
}
