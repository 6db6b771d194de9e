package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
)

// fakeRepairs records repair messages.
type fakeRepairs struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (f *fakeRepairs) SendDelayed(_ context.Context, bodies [][]byte, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, bodies...)
	return nil
}

func scheduledInput(t *testing.T, body string) (send.Input, json.RawMessage) {
	t.Helper()
	var in send.Input
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	return in, json.RawMessage(body)
}

const pushLater = `{"channel": "push", "templateId": "tpl_1", "audience": {"userIds": ["u1", "u2"]}, "scheduleAt": "2026-11-21T12:00:00.700Z"}`

func saveTemplate(t *testing.T, store notify.Store, version int, body string) {
	t.Helper()
	tpl := notify.Template{WorkspaceID: "ws1", ID: "tpl_1", Name: "Promo", Channel: notify.ChannelPush, Title: "Hola", Body: body,
		Version: version, CreatedAt: now, UpdatedAt: now}
	if err := store.SaveTemplate(t.Context(), tpl); err != nil {
		t.Fatal(err)
	}
}

// scheduleSend saves template tpl_1 with body and schedules pushLater, a
// send of it to two users, as the tests of a scheduled send begin.
func scheduleSend(t *testing.T, s *Service, body string) notify.Notification {
	t.Helper()
	saveTemplate(t, s.Store.(notify.Store), 1, body) // newService gives it the whole store
	in, raw := scheduledInput(t, pushLater)
	n, err := s.ScheduleSend(t.Context(), "ws1", "ops", notify.OriginAPI, in, raw)
	if err != nil {
		t.Fatalf("ScheduleSend: %v", err)
	}
	return n
}

func TestScheduledSendRunsOnceWithItsContent(t *testing.T) {
	s, sched, q, store := newService(t)
	ctx := t.Context()
	n := scheduleSend(t, s, "first text")
	at := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) // to the second, as at() keeps it
	if n.Status != notify.StatusScheduled || n.ScheduleAt == nil || !n.ScheduleAt.Equal(at) || !n.Counts.IsZero() || n.Audience.Count != 2 {
		t.Errorf("notification = %+v, want scheduled at %v with no counts yet", n, at)
	}
	spec, _ := sched.Spec(notify.ScheduleName(SendCampaignID(n.ID)))
	if spec.Expression != "at(2026-11-21T12:00:00)" || spec.Timezone != "UTC" || !spec.Enabled || spec.Target.CampaignID != SendCampaignID(n.ID) {
		t.Errorf("schedule = %+v, want at(2026-11-21T12:00:00) UTC", spec)
	}
	if len(q.bodies) != 0 {
		t.Fatalf("%d messages queued before the time", len(q.bodies))
	}
	// The template changes before the time: the send keeps what was scheduled.
	saveTemplate(t, store, 2, "second text")

	inv := Invocation{WorkspaceID: "ws1", CampaignID: SendCampaignID(n.ID), ScheduledAt: at}
	run, err := s.Run(ctx, inv)
	if err != nil || run.Status != notify.RunSucceeded || run.NotificationID != n.ID || run.Recipients != 2 {
		t.Fatalf("Run = %+v, %v; want succeeded for %s", run, err, n.ID)
	}
	got, err := store.GetNotification(ctx, "ws1", n.ID)
	if err != nil || got.Status != notify.StatusQueued || got.Counts.Total != 2 || got.Counts.Queued != 2 || got.TemplateVersion != 1 {
		t.Errorf("notification after the run = %+v, %v; want queued, 2 counted, template version 1", got, err)
	}
	if len(q.bodies) != 1 {
		t.Fatalf("%d dispatch messages, want 1", len(q.bodies))
	}
	var m notify.DispatchMessage
	if err := json.Unmarshal(q.bodies[0], &m); err != nil || m.NotificationID != n.ID || len(m.Recipients) != 2 {
		t.Errorf("message = %s, %v", q.bodies[0], err)
	}
	// The scheduler calls again for the same time: nothing more.
	if again, err := s.Run(ctx, inv); err != nil || again.Status != notify.RunSucceeded || len(q.bodies) != 1 {
		t.Errorf("second call = %+v, %v, %d messages; want the same run, nothing sent", again, err, len(q.bodies))
	}
	if got, _ := store.GetNotification(ctx, "ws1", n.ID); got.Counts.Total != 2 {
		t.Errorf("counts after the second call = %+v, want counted once", got.Counts)
	}
	if c, err := store.GetCampaign(ctx, "ws1", SendCampaignID(n.ID)); err != nil || c.Status != notify.CampaignCompleted {
		t.Errorf("send's campaign = %+v, %v; want completed", c, err)
	}
}

// TestScheduledSendKeepsItsOrigin: a send scheduled in the console is a
// console send when it is scheduled and after it has run, not a campaign's.
func TestScheduledSendKeepsItsOrigin(t *testing.T) {
	s, _, q, store := newService(t)
	ctx := t.Context()
	saveTemplate(t, store, 1, "text")
	in, raw := scheduledInput(t, pushLater)
	n, err := s.ScheduleSend(ctx, "ws1", "operator ana@example.com", notify.OriginConsole, in, raw)
	if err != nil {
		t.Fatalf("ScheduleSend: %v", err)
	}
	if n.Origin != notify.OriginConsole {
		t.Errorf("ScheduleSend origin = %q, want %q", n.Origin, notify.OriginConsole)
	}
	if got, err := store.GetNotification(ctx, "ws1", n.ID); err != nil || got.Origin != notify.OriginConsole {
		t.Errorf("stored scheduled notification origin = %q, %v; want %q", got.Origin, err, notify.OriginConsole)
	}
	run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: SendCampaignID(n.ID), ScheduledAt: n.ScheduleAt.UTC()})
	if err != nil || run.Status != notify.RunSucceeded || len(q.bodies) != 1 {
		t.Fatalf("Run = %+v, %v, %d messages; want succeeded with the messages queued", run, err, len(q.bodies))
	}
	got, err := store.GetNotification(ctx, "ws1", n.ID)
	if err != nil || got.Status != notify.StatusQueued || got.Origin != notify.OriginConsole || got.Source != notify.SourceList {
		t.Errorf("notification after the run = status %s, origin %q, source %q, %v; want queued, origin console, source list", got.Status, got.Origin, got.Source, err)
	}
}

// TestScheduledSendRetryFinishes: a run that died after moving the
// notification to queued but before queuing is finished by the retry.
func TestScheduledSendRetryFinishes(t *testing.T) {
	s, _, q, store := newService(t)
	ctx := t.Context()
	n := scheduleSend(t, s, "text")
	at := n.ScheduleAt.UTC()
	// The first attempt: run recorded, status moved, counts applied, then death.
	if _, _, err := store.StartRun(ctx, notify.CampaignRun{WorkspaceID: "ws1", CampaignID: SendCampaignID(n.ID), ScheduledAt: at, Status: notify.RunRunning, StartedAt: now, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetNotificationStatus(ctx, "ws1", n.ID, notify.StatusQueued, notify.StatusScheduled); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ApplyCounts(ctx, "ws1", n.ID, []notify.CountPart{{Marker: "scheduled-run", Delta: notify.Counts{Total: 2, Queued: 2}}}); err != nil {
		t.Fatal(err)
	}
	run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: SendCampaignID(n.ID), ScheduledAt: at})
	if err != nil || run.Status != notify.RunSucceeded || run.Attempts != 2 || len(q.bodies) != 1 {
		t.Fatalf("retry = %+v, %v, %d messages; want succeeded on attempt 2 with the messages queued", run, err, len(q.bodies))
	}
	if got, _ := store.GetNotification(ctx, "ws1", n.ID); got.Counts.Total != 2 {
		t.Errorf("counts = %+v, want 2 (applied once)", got.Counts)
	}
}

func TestScheduledSendCancelled(t *testing.T) {
	s, sched, q, store := newService(t)
	ctx := t.Context()
	n := scheduleSend(t, s, "text")
	if _, err := store.SetNotificationStatus(ctx, "ws1", n.ID, notify.StatusCancelled, notify.StatusScheduled); err != nil {
		t.Fatal(err)
	}
	// The scheduler fails: the cancel stands, the schedule is left to the repair.
	sched.Fail(errors.New("throttled"))
	s.CancelSend(ctx, "ws1", n.ID)
	name := notify.ScheduleName(SendCampaignID(n.ID))
	if _, ok := sched.Spec(name); !ok {
		t.Fatal("schedule gone although the scheduler failed")
	}
	// It fires anyway: skipped, nothing sent, and the schedule is repaired.
	sched.Fail(nil)
	run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: SendCampaignID(n.ID), ScheduledAt: n.ScheduleAt.UTC()})
	if err != nil || run.Status != notify.RunSkipped || len(q.bodies) != 0 {
		t.Errorf("run of a cancelled send = %+v, %v, %d messages; want skipped, nothing sent", run, err, len(q.bodies))
	}
	if _, ok := sched.Spec(name); ok {
		t.Error("schedule of a cancelled send left after its skipped run")
	}
}

func TestScheduledSendSchedulerDown(t *testing.T) {
	s, sched, _, store := newService(t)
	repairs := &fakeRepairs{}
	s.Repairs = repairs
	ctx := t.Context()
	saveTemplate(t, store, 1, "text")
	sched.Fail(errors.New("scheduler down"))
	in, raw := scheduledInput(t, pushLater)
	n, err := s.ScheduleSend(ctx, "ws1", "ops", notify.OriginAPI, in, raw)
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != notify.CodeScheduleFailed || !strings.Contains(e.Message, "nothing will be sent") {
		t.Fatalf("ScheduleSend with the scheduler down = %v, want schedule_failed", err)
	}
	got, err := store.GetNotification(ctx, "ws1", n.ID)
	if err != nil || got.Status != notify.StatusFailed {
		t.Errorf("notification = %+v, %v; want failed", got, err)
	}
	c, err := store.GetCampaign(ctx, "ws1", SendCampaignID(n.ID))
	if err != nil || c.Status != notify.CampaignCancelled || c.Sync.State != notify.SyncPending {
		t.Errorf("campaign = %+v, %v; want cancelled and pending", c, err)
	}
	if len(repairs.bodies) == 0 {
		t.Fatal("no repair queued")
	}
	// A schedule that got through after all is deleted by the repair.
	sched.Fail(nil)
	if err := sched.PutSchedule(ctx, notify.ScheduleSpec{Name: notify.ScheduleName(c.ID)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Repair(ctx, repairs.bodies[len(repairs.bodies)-1]); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	if _, ok := sched.Spec(notify.ScheduleName(c.ID)); ok {
		t.Error("repair left the schedule of an abandoned send")
	}
	if c, _ := store.GetCampaign(ctx, "ws1", c.ID); c.Sync.State != notify.SyncSynced {
		t.Errorf("after the repair sync = %+v, want synced", c.Sync)
	}
}

func TestScheduleSendValidation(t *testing.T) {
	s, _, _, store := newService(t)
	ctx := t.Context()
	saveTemplate(t, store, 1, "text")
	far := `{"channel": "push", "templateId": "tpl_1", "audience": {"userIds": ["u1"]}, "scheduleAt": "2028-01-01T00:00:00Z"}`
	in, raw := scheduledInput(t, far)
	if _, err := s.ScheduleSend(ctx, "ws1", "ops", notify.OriginAPI, in, raw); !notify.IsCode(err, notify.CodeValidation) || !strings.Contains(err.Error(), "year") {
		t.Errorf("a send two years ahead = %v, want validation_failed", err)
	}
	bad := `{"channel": "push", "templateId": "tpl_nope", "audience": {"userIds": ["u1"]}, "scheduleAt": "2026-11-22T00:00:00Z"}`
	in, raw = scheduledInput(t, bad)
	if _, err := s.ScheduleSend(ctx, "ws1", "ops", notify.OriginAPI, in, raw); !notify.IsCode(err, notify.CodeValidation) {
		t.Errorf("an unknown template = %v, want validation_failed", err)
	}
	ns, _, _ := store.ListNotifications(ctx, "ws1", notify.NotificationQuery{}, notify.Page{Limit: 10})
	if len(ns) != 0 {
		t.Errorf("refused sends stored %d notifications", len(ns))
	}
}

func TestMissedRun(t *testing.T) {
	s, _, q, store := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Hourly", Schedule: "rate(1 hour)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	at := now.Add(time.Hour)
	run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at, Missed: true})
	if err != nil || run.Status != notify.RunMissed || run.Error == "" || len(q.bodies) != 0 {
		t.Fatalf("missed run = %+v, %v, %d messages; want missed, nothing sent", run, err, len(q.bodies))
	}
	// A missed time is not run later either.
	if again, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at}); err != nil || again.Status != notify.RunMissed || len(q.bodies) != 0 {
		t.Errorf("the same time again = %+v, %v; want still missed", again, err)
	}

	n := scheduleSend(t, s, "text")
	if run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: SendCampaignID(n.ID), ScheduledAt: n.ScheduleAt.UTC(), Missed: true}); err != nil || run.Status != notify.RunMissed {
		t.Errorf("missed scheduled send = %+v, %v", run, err)
	}
	if got, _ := store.GetNotification(ctx, "ws1", n.ID); got.Status != notify.StatusFailed {
		t.Errorf("missed scheduled send's notification is %s, want failed", got.Status)
	}
}

func TestDeleteFinishesThroughRepair(t *testing.T) {
	s, sched, q, store := newService(t)
	repairs := &fakeRepairs{}
	s.Repairs = repairs
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Daily", Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	sched.Fail(errors.New("scheduler down"))
	if err := s.Delete(ctx, "ws1", c.ID); !notify.IsCode(err, notify.CodeScheduleFailed) {
		t.Fatalf("Delete with the scheduler down = %v, want schedule_failed", err)
	}
	got, err := store.GetCampaign(ctx, "ws1", c.ID)
	if err != nil || got.Status != notify.CampaignDeleting {
		t.Fatalf("campaign = %+v, %v; want deleting", got, err)
	}
	if _, err := s.SetPaused(ctx, "ws1", c.ID, false); !notify.IsCode(err, notify.CodeConflict) {
		t.Errorf("resume of a deleting campaign = %v, want conflict", err)
	}
	// Its schedule still fires: nothing is sent.
	if run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: now.Add(24 * time.Hour)}); err != nil || run.Status != notify.RunSkipped || len(q.bodies) != 0 {
		t.Errorf("run of a deleting campaign = %+v, %v; want skipped", run, err)
	}
	sched.Fail(nil)
	if len(repairs.bodies) == 0 {
		t.Fatal("no repair queued")
	}
	if err := s.Repair(ctx, repairs.bodies[0]); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	if _, err := store.GetCampaign(ctx, "ws1", c.ID); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("campaign after the repair: %v, want not_found", err)
	}
	if _, ok := sched.Spec(notify.ScheduleName(c.ID)); ok {
		t.Error("schedule left after the repair")
	}
	if err := s.Repair(ctx, []byte(`{"nope": 1}`)); err == nil {
		t.Error("Repair of a malformed message = nil, want an error for the dead-letter queue")
	}
}

func TestNotificationSizeCapped(t *testing.T) {
	s, _, _, _ := newService(t)
	ids := make([]string, 30000)
	for i := range ids {
		ids[i] = "user-with-a-long-id-" + strings.Repeat("x", 3)
	}
	b, _ := json.Marshal(map[string]any{"channel": "push", "content": map[string]string{"title": "a", "body": "b"}, "audience": map[string]any{"userIds": ids}})
	_, err := s.Create(t.Context(), "ws1", "ops", Input{Name: "Big", Schedule: "rate(1 day)", Notification: b})
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != notify.CodeValidation || e.Details[0].Field != "notification" || !strings.Contains(e.Details[0].Problem, "KiB") {
		t.Errorf("a %d-byte notification = %v, want validation_failed on notification", len(b), err)
	}
}
