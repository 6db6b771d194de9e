package campaign

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// TestSyncPushesTheStoresLastWord: a pause and a resume at once may push
// in either order; the one that records last finds that the store holds
// another definition and pushes that one.
func TestSyncPushesTheStoresLastWord(t *testing.T) {
	s, sched, _, store := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Daily", Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	// The pause is saved, but its push is slow...
	paused, err := store.UpdateCampaign(ctx, "ws1", c.ID, func(c *notify.Campaign) error {
		c.Status = notify.CampaignPaused
		s.changed(c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// ...a resume is saved and pushed meanwhile...
	if _, err := s.SetPaused(ctx, "ws1", c.ID, false); err != nil {
		t.Fatal(err)
	}
	// ...and the pause's push lands last.
	got, err := s.Sync(ctx, paused)
	if err != nil {
		t.Fatalf("late Sync: %v", err)
	}
	spec, _ := sched.Spec(notify.ScheduleName(c.ID))
	if !spec.Enabled || got.Status != notify.CampaignActive || got.Sync.State != notify.SyncSynced {
		t.Errorf("after a late push of the pause: schedule enabled %t, campaign %s %s; want the resume's (enabled, active, synced)", spec.Enabled, got.Status, got.Sync.State)
	}
}

// TestRunHandedToRepairQueue: a run that fails on a transient error is
// queued for retry (the invocation succeeds), and the retry from the queue
// finishes it once.
func TestRunHandedToRepairQueue(t *testing.T) {
	s, _, q, store := newService(t)
	repairs := &fakeRepairs{}
	s.Repairs = repairs
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Daily", Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	q.fail = errors.New("sqs unavailable")
	inv := Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), ExecutionID: "e-1", Attempt: 1}
	if run, err := s.RunScheduled(ctx, inv); err != nil || run.Status != notify.RunRunning {
		t.Fatalf("RunScheduled with the queue down = %+v, %v; want the run handed to the repair queue, running", run, err)
	}
	if len(repairs.bodies) != 1 {
		t.Fatalf("repair messages = %d, want 1", len(repairs.bodies))
	}
	if err := s.Repair(ctx, repairs.bodies[0]); err == nil {
		t.Fatal("Repair while the queue is still down = nil, want an error (the message comes back)")
	}
	q.fail = nil
	if err := s.Repair(ctx, repairs.bodies[0]); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	runs, _, _ := store.ListRuns(ctx, "ws1", c.ID, notify.Page{Limit: 10})
	if len(runs) != 1 || runs[0].Status != notify.RunSucceeded || len(q.bodies) != 1 {
		t.Errorf("runs = %+v, %d messages; want one succeeded run, one message", runs, len(q.bodies))
	}
	if err := s.Repair(ctx, repairs.bodies[0]); err != nil || len(q.bodies) != 1 {
		t.Errorf("the same repair again = %v, %d messages; want nothing more sent", err, len(q.bodies))
	}
}

// TestMissedFinishesAStuckRun: a run that started and never finished is
// settled missed when its time is past the grace period, and its
// scheduled send failed, rather than running for ever.
func TestMissedFinishesAStuckRun(t *testing.T) {
	s, _, _, store := newService(t)
	ctx := t.Context()
	n := scheduleSend(t, s, "text")
	id := SendCampaignID(n.ID)
	at := n.ScheduleAt.UTC()
	if _, _, err := store.StartRun(ctx, notify.CampaignRun{WorkspaceID: "ws1", CampaignID: id, ScheduledAt: at, Status: notify.RunRunning, StartedAt: now, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: id, ScheduledAt: at, Missed: true})
	if err != nil || run.Status != notify.RunMissed || run.FinishedAt == nil {
		t.Fatalf("Run(missed) of a stuck run = %+v, %v; want it finished missed", run, err)
	}
	if got, _ := store.GetNotification(ctx, "ws1", n.ID); got.Status != notify.StatusFailed {
		t.Errorf("notification = %s, want failed", got.Status)
	}
	if c, _ := store.GetCampaign(ctx, "ws1", id); c.Status != notify.CampaignCompleted {
		t.Errorf("campaign = %s, want completed", c.Status)
	}
}

// TestRepairAfterAnAtTimeRecordsMissed: an at() campaign whose schedule
// could not be pushed until after its time is settled, not pushed to
// schedule nothing.
func TestRepairAfterAnAtTimeRecordsMissed(t *testing.T) {
	s, sched, _, store := newService(t)
	repairs := &fakeRepairs{}
	s.Repairs = repairs
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Once", Schedule: "at(2026-11-21T11:00:00)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	sched.Fail(errors.New("throttled"))
	if _, err := s.Update(ctx, "ws1", c.ID, "ops", Input{Name: "Once, renamed", Schedule: "at(2026-11-21T11:00:00)", Notification: json.RawMessage(pushToTwo)}); !notify.IsCode(err, notify.CodeScheduleFailed) {
		t.Fatalf("Update with the scheduler down = %v", err)
	}
	sched.Fail(nil)
	s.Now = func() time.Time { return now.Add(2 * time.Hour) }
	if err := s.Repair(ctx, repairs.bodies[len(repairs.bodies)-1]); err != nil {
		t.Fatalf("Repair: %v", err)
	}
	got, _ := store.GetCampaign(ctx, "ws1", c.ID)
	runs, _, _ := store.ListRuns(ctx, "ws1", c.ID, notify.Page{Limit: 10})
	if got.Status != notify.CampaignCompleted || got.Sync.State != notify.SyncSynced || len(runs) != 1 || runs[0].Status != notify.RunMissed {
		t.Errorf("after a late repair: campaign %s %s, runs %+v; want completed, synced, one missed run", got.Status, got.Sync.State, runs)
	}
	if _, ok := sched.Spec(notify.ScheduleName(c.ID)); ok {
		t.Error("a past at() was left on the scheduler")
	}
}

// TestScheduledSendKeepsItsTemplate: a scheduled send goes with the
// template version it was scheduled with, even when the template is
// deleted before its time.
func TestScheduledSendKeepsItsTemplate(t *testing.T) {
	s, _, q, store := newService(t)
	ctx := t.Context()
	n := scheduleSend(t, s, "text")
	if err := store.DeleteTemplate(ctx, "ws1", "tpl_1"); err != nil {
		t.Fatal(err)
	}
	run, err := s.Run(ctx, Invocation{WorkspaceID: "ws1", CampaignID: SendCampaignID(n.ID), ScheduledAt: n.ScheduleAt.UTC()})
	if err != nil || run.Status != notify.RunSucceeded || len(q.bodies) != 1 {
		t.Errorf("run after the template was deleted = %+v, %v, %d messages; want it sent with the scheduled version", run, err, len(q.bodies))
	}
}
