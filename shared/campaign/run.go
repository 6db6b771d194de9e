package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
	"github.com/heraldhq/herald/shared/send"
)

// Invocation is one call of the scheduler function: which campaign, for
// which scheduled time.
type Invocation struct {
	WorkspaceID string
	CampaignID  string
	ScheduledAt time.Time
	// Missed says the scheduler could not call at the time (the local
	// scheduler was down longer than its grace period): the run is
	// recorded missed, not sent.
	Missed bool
	// Attempt counts the scheduler's calls for this scheduled time (from
	// 1), and ExecutionID names this call (EventBridge Scheduler's): both
	// only for the logs; zero when the scheduler does not say.
	Attempt     int
	ExecutionID string
}

// Run runs a campaign's scheduled time, once: the run is recorded first,
// keyed by the scheduled time, so a scheduler that calls again for the same
// time (EventBridge Scheduler retries an invocation that failed or timed
// out) finds it done, or finishes it when it died midway. The notification's
// id is derived from the campaign and the time, and its messages from the
// notification, so finishing a run sends nothing twice.
//
// A run that cannot send (its template deleted, say) is recorded failed and
// not retried; an error is returned only when a retry may succeed.
func (s *Service) Run(ctx context.Context, inv Invocation) (notify.CampaignRun, error) {
	at := inv.ScheduledAt.UTC().Truncate(time.Millisecond)
	c, err := s.Store.GetCampaign(ctx, inv.WorkspaceID, inv.CampaignID)
	if notify.IsCode(err, notify.CodeNotFound) {
		// The store dropped it (or never had it): the schedule is left over.
		s.log().Warn("schedule of a missing campaign deleted", "workspaceId", inv.WorkspaceID, "campaignId", inv.CampaignID)
		return notify.CampaignRun{}, s.Scheduler.DeleteSchedule(ctx, notify.ScheduleName(inv.CampaignID))
	}
	if err != nil {
		return notify.CampaignRun{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	run := notify.CampaignRun{WorkspaceID: c.WorkspaceID, CampaignID: c.ID, ScheduledAt: at, Status: notify.RunRunning, StartedAt: now, Attempts: 1}
	if c.Status != notify.CampaignActive {
		// Paused, completed or cancelled in the store, but the scheduler
		// had not heard: record the skip and bring the scheduler in line.
		run.Status, run.Error, run.FinishedAt = notify.RunSkipped, "the campaign is "+string(c.Status), &now
		stored, started, err := s.Store.StartRun(ctx, run)
		if err != nil {
			return run, err
		}
		if started {
			if _, err := s.Sync(ctx, c); err != nil {
				s.log().Error("schedule repair failed", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "err", err.Error())
			}
		}
		return stored, nil
	}
	if inv.Missed {
		return s.missed(ctx, c, run)
	}
	stored, started, err := s.Store.StartRun(ctx, run)
	if err != nil {
		return run, err
	}
	if !started && stored.Status != notify.RunRunning {
		s.log().Info("campaign run already done", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "scheduledAt", at, "status", string(stored.Status))
		// The attempt that finished it may have died before recording it
		// on the campaign; ran is idempotent.
		return stored, s.ran(ctx, c, at)
	}
	run = stored
	done, err := s.execute(ctx, c, &run)
	if err != nil && !done {
		return run, err // transient: the scheduler's retry finishes it
	}
	fin := s.now().UTC().Truncate(time.Millisecond)
	run.FinishedAt = &fin
	if err := s.Store.FinishRun(ctx, run); err != nil {
		return run, fmt.Errorf("finish run of %s at %s: %w", c.ID, at.Format(time.RFC3339), err)
	}
	if err := s.ran(ctx, c, at); err != nil {
		return run, err
	}
	s.log().Info("campaign run", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "scheduledAt", at, "status", string(run.Status),
		"notificationId", run.NotificationID, "recipients", run.Recipients, "attempts", run.Attempts)
	return run, nil
}

// ran records a campaign's latest run time, and completes a campaign
// whose schedule has no run after this one (an at()).
func (s *Service) ran(ctx context.Context, c notify.Campaign, at time.Time) error {
	_, err := s.Store.UpdateCampaign(ctx, c.WorkspaceID, c.ID, func(cur *notify.Campaign) error {
		if cur.LastRunAt == nil || cur.LastRunAt.Before(at) {
			cur.LastRunAt = &at
		}
		// Judged on the schedule stored now: one changed during the run
		// (an at() edited into a cron()) goes on.
		if sched, err := schedule.Parse(cur.Schedule, cur.Timezone); err == nil && cur.Status == notify.CampaignActive {
			if _, more := sched.Next(cur.CreatedAt, at); !more {
				cur.Status = notify.CampaignCompleted
			}
		}
		return nil
	})
	if notify.IsCode(err, notify.CodeNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return fmt.Errorf("record run of %s: %w", c.ID, err)
	}
	return nil
}

// missed records a run the scheduler could not make in time. A scheduled
// send that missed its time is marked failed: sending it hours late could
// be worse than not at all, and the operator sees why.
func (s *Service) missed(ctx context.Context, c notify.Campaign, run notify.CampaignRun) (notify.CampaignRun, error) {
	run.Status, run.Error, run.FinishedAt = notify.RunMissed, "the scheduler could not run this time within its grace period (Herald was stopped), or a later time of a catch-up ran instead", &run.StartedAt
	stored, started, err := s.Store.StartRun(ctx, run)
	if err != nil {
		return stored, err
	}
	if !started && stored.Status != notify.RunRunning {
		return stored, nil
	}
	if !started {
		// An attempt died midway and its retries ran out: the run ends
		// missed rather than running for ever.
		stored.Status, stored.Error, stored.FinishedAt = run.Status, "it started but did not finish within the grace period; "+run.Error, run.FinishedAt
		if err := s.Store.FinishRun(ctx, stored); err != nil {
			return stored, err
		}
	}
	if c.Kind == notify.CampaignKindSend {
		s.fail(ctx, c.WorkspaceID, c.NotificationID)
	}
	s.log().Warn("campaign run missed", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "scheduledAt", run.ScheduledAt)
	return stored, s.ran(ctx, c, run.ScheduledAt)
}

// execute sends the run's notification and fills in the run's outcome. It
// reports done when the outcome is final (succeeded or failed); an error
// with done false is worth a retry.
func (s *Service) execute(ctx context.Context, c notify.Campaign, run *notify.CampaignRun) (bool, error) {
	if c.Kind == notify.CampaignKindSend {
		return s.executeSend(ctx, c, run)
	}
	var in send.Input
	if err := json.Unmarshal(c.Notification, &in); err != nil {
		run.Status, run.Error = notify.RunFailed, "the stored notification is not a send: "+err.Error()
		return true, nil
	}
	id := notify.DerivedID(run.ScheduledAt, c.ID+"@"+run.ScheduledAt.Format(time.RFC3339Nano))
	p, err := s.Sender.Prepare(ctx, send.Options{Mode: send.ModeRun, WorkspaceID: c.WorkspaceID, By: "campaign " + c.Name + " (" + c.ID + ")",
		ID: id, Source: notify.SourceCampaign, Origin: notify.OriginCampaign}, in)
	var ne *notify.Error
	switch {
	case errors.As(err, &ne):
		run.Status, run.Error = notify.RunFailed, ne.Message
		return true, nil
	case err != nil:
		return false, err
	}
	if p.Filter != nil && p.Count.Matched == 0 {
		run.Status, run.Recipients = notify.RunSucceeded, 0
		run.Error = "the audience selected no users at run time"
		return true, nil
	}
	p.Retried = true
	n, err := s.Sender.Execute(ctx, p)
	if err != nil && !notify.IsCode(err, notify.CodeConflict) {
		return false, err // the notification of an earlier attempt exists: conflict is done
	}
	run.Status, run.NotificationID, run.Recipients = notify.RunSucceeded, n.ID, n.Audience.Count
	return true, nil
}
