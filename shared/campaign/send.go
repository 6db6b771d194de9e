package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
)

// MaxScheduleAhead bounds scheduleAt: a send more than a year ahead is far
// more often a mistyped year than a plan.
const MaxScheduleAhead = 366 * 24 * time.Hour

// SendCampaignID is the id of the campaign that runs a scheduled send:
// derived from the notification's, so a cancel finds it without an index.
func SendCampaignID(notificationID string) string {
	return "cmp_" + strings.ToLower(notificationID)
}

// atExpression is the at() expression of a UTC time, to the second.
func atExpression(t time.Time) string {
	return "at(" + t.UTC().Format("2006-01-02T15:04:05") + ")"
}

// ScheduleSend schedules a send for in.ScheduleAt (which the caller found
// in the future): the send is validated now, as POST /v1/notifications
// validates it, and its notification is stored now with status scheduled,
// its content fixed; the audience is resolved when it runs. It runs by the
// campaigns' mechanism, as a campaign of kind send with an at() schedule.
//
// Either it is scheduled or nothing will be sent: when the scheduler does
// not take the schedule, the notification is marked failed, its campaign
// cancelled (a repair deletes any schedule that got through after all)
// and schedule_failed is returned, so the caller can simply retry.
//
// origin is where the send was scheduled (the API or the console): the
// notification stored now keeps it, and the run, which sends that same
// notification, keeps it too.
func (s *Service) ScheduleSend(ctx context.Context, ws, by string, origin notify.Origin, in send.Input, raw json.RawMessage) (notify.Notification, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	at := in.ScheduleAt.UTC().Truncate(time.Second)
	var bad []notify.FieldError
	if at.Sub(now) > MaxScheduleAhead {
		bad = append(bad, notify.FieldError{Field: "scheduleAt", Problem: "at most a year ahead"})
	}
	body := compact(raw)
	if len(body) > MaxNotificationBytes {
		bad = append(bad, notify.FieldError{Field: "audience", Problem: fmt.Sprintf("a scheduled send's body is at most %d KiB; a larger audience is a filter, not a list of ids", MaxNotificationBytes>>10)})
	}
	if len(bad) > 0 {
		return notify.Notification{}, notify.Invalid(bad...)
	}
	p, err := s.Sender.Prepare(ctx, send.Options{Mode: send.ModeSchedule, WorkspaceID: ws, By: by, Origin: origin}, in)
	if err != nil {
		return notify.Notification{}, err
	}
	n := p.N
	n.Status, n.ScheduleAt, n.Counts = notify.StatusScheduled, &at, notify.Counts{}
	c := notify.Campaign{
		WorkspaceID: ws, ID: SendCampaignID(n.ID), Kind: notify.CampaignKindSend,
		Name: "scheduled send " + n.ID, Schedule: atExpression(at), Timezone: "UTC",
		Notification: body, NotificationID: n.ID, Status: notify.CampaignActive,
		Sync:      notify.ScheduleSync{State: notify.SyncPending, At: now},
		CreatedBy: by, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateNotification(ctx, n); err != nil {
		return n, fmt.Errorf("create scheduled notification: %w", err)
	}
	if err := s.Store.CreateCampaign(ctx, c); err != nil {
		s.abandon(ctx, n, "")
		return n, fmt.Errorf("create the schedule of notification %s: %w", n.ID, err)
	}
	c.Version = 1
	if _, err := s.sync(ctx, c); err != nil {
		s.abandon(ctx, n, c.ID)
		var refused *pushError
		if errors.As(err, &refused) {
			return n, refused.report(s.log(), "the send could not be scheduled (%s); nothing will be sent: repeat the request to retry")
		}
		return n, err
	}
	s.log().Info("notification scheduled", "workspaceId", ws, "notificationId", n.ID, "scheduleAt", at, "recipients", n.Audience.Count)
	return n, nil
}

// abandon marks a scheduled send that could not be scheduled: its
// notification failed and its campaign, when stored, cancelled, so that a
// schedule which got through after all is deleted by the repair or skips
// when it fires.
func (s *Service) abandon(ctx context.Context, n notify.Notification, campaignID string) {
	if _, err := s.Store.SetNotificationStatus(ctx, n.WorkspaceID, n.ID, notify.StatusFailed, notify.StatusScheduled); err != nil {
		s.log().Error("abandon scheduled notification", "workspaceId", n.WorkspaceID, "notificationId", n.ID, "err", err.Error())
	}
	if campaignID == "" {
		return
	}
	c, err := s.Store.UpdateCampaign(ctx, n.WorkspaceID, campaignID, func(c *notify.Campaign) error {
		c.Status = notify.CampaignCancelled
		s.changed(c)
		return nil
	})
	if err != nil {
		s.log().Error("abandon scheduled send's campaign", "workspaceId", n.WorkspaceID, "campaignId", campaignID, "err", err.Error())
		return
	}
	s.queueRepair(ctx, c)
}

// CancelSend stops the schedule of a send the caller has just cancelled
// (its notification moved from scheduled to cancelled, which alone keeps
// it from sending: a run finds it cancelled and skips). A schedule that
// cannot be deleted now is left to the repair and only logged.
func (s *Service) CancelSend(ctx context.Context, ws, notificationID string) {
	id := SendCampaignID(notificationID)
	c, err := s.Store.UpdateCampaign(ctx, ws, id, func(c *notify.Campaign) error {
		if c.Status == notify.CampaignCompleted || c.Status == notify.CampaignCancelled {
			return errStale
		}
		c.Status = notify.CampaignCancelled
		s.changed(c)
		return nil
	})
	if err != nil {
		if !errors.Is(err, errStale) {
			s.log().Error("cancel scheduled send's campaign", "workspaceId", ws, "campaignId", id, "err", err.Error())
		}
		return
	}
	if _, err := s.Sync(ctx, c); err != nil {
		s.log().Warn("cancelled send's schedule left to the repair", "workspaceId", ws, "campaignId", id, "err", err.Error())
	}
}

// executeSend runs a scheduled send: its stored notification moves from
// scheduled to queued with the counts of the audience now, then its
// messages are queued. A retried run (the scheduler calls again after a
// failure) finds it queued and queues the same messages again, which
// dispatch deduplicates.
func (s *Service) executeSend(ctx context.Context, c notify.Campaign, run *notify.CampaignRun) (bool, error) {
	n, err := s.Store.GetNotification(ctx, c.WorkspaceID, c.NotificationID)
	if notify.IsCode(err, notify.CodeNotFound) {
		run.Status, run.Error = notify.RunFailed, "the scheduled notification "+c.NotificationID+" no longer exists"
		return true, nil
	}
	if err != nil {
		return false, err
	}
	run.NotificationID = n.ID
	switch n.Status {
	case notify.StatusScheduled, notify.StatusQueued, notify.StatusSending:
	case notify.StatusCompleted:
		run.Status, run.Recipients = notify.RunSucceeded, n.Audience.Count
		return true, nil
	default:
		run.Status, run.Error = notify.RunSkipped, "the notification is "+string(n.Status)
		return true, nil
	}
	var in send.Input
	if err := json.Unmarshal(c.Notification, &in); err != nil {
		run.Status, run.Error = notify.RunFailed, "the stored send is unreadable: "+err.Error()
		s.fail(ctx, n.WorkspaceID, n.ID)
		return true, nil
	}
	in.ScheduleAt = nil
	// The content is what was scheduled, whatever the template says now.
	fixed := n.Content
	p, err := s.Sender.Prepare(ctx, send.Options{Mode: send.ModeRun, WorkspaceID: c.WorkspaceID, By: n.CreatedBy, ID: n.ID, Source: n.Source, Origin: n.Origin, Template: &fixed}, in)
	var ne *notify.Error
	switch {
	case errors.As(err, &ne):
		run.Status, run.Error = notify.RunFailed, ne.Message
		s.fail(ctx, n.WorkspaceID, n.ID)
		return true, nil
	case err != nil:
		return false, err
	}
	if n.Status == notify.StatusScheduled {
		if p.Filter != nil && p.Count.Matched == 0 {
			if _, err := s.Store.SetNotificationStatus(ctx, n.WorkspaceID, n.ID, notify.StatusCompleted, notify.StatusScheduled); err != nil {
				if done, err := s.raced(ctx, n, run, err); done || err != nil {
					return done, err
				}
			}
			run.Status, run.Error = notify.RunSucceeded, "the audience selected no users at run time"
			return true, nil
		}
		if _, err := s.Store.SetNotificationStatus(ctx, n.WorkspaceID, n.ID, notify.StatusQueued, notify.StatusScheduled); err != nil {
			if done, err := s.raced(ctx, n, run, err); done || err != nil {
				return done, err
			}
			// A concurrent attempt of this run moved it first: queuing
			// the same messages again is harmless.
		}
	}
	if _, err := s.Store.ApplyCounts(ctx, n.WorkspaceID, n.ID, []notify.CountPart{{Marker: "scheduled-run", Delta: p.N.Counts}}); err != nil {
		return false, err
	}
	if err := s.Sender.Enqueue(ctx, p); err != nil {
		return false, fmt.Errorf("enqueue scheduled notification %s: %w", n.ID, err)
	}
	run.Status, run.Recipients = notify.RunSucceeded, p.N.Audience.Count
	return true, nil
}

// raced handles a notification that left scheduled while the run prepared
// it: a cancel won (skipped, done), a concurrent attempt of the same run
// moved it on (not done, no error: carry on, idempotently), or a transient
// error (retry).
func (s *Service) raced(ctx context.Context, n notify.Notification, run *notify.CampaignRun, err error) (bool, error) {
	if !notify.IsCode(err, notify.CodeConflict) {
		return false, err
	}
	cur, gerr := s.Store.GetNotification(ctx, n.WorkspaceID, n.ID)
	if gerr != nil {
		return false, gerr
	}
	switch cur.Status {
	case notify.StatusQueued, notify.StatusSending:
		return false, nil
	case notify.StatusCompleted:
		run.Status, run.Recipients = notify.RunSucceeded, cur.Audience.Count
		return true, nil
	}
	run.Status, run.Error = notify.RunSkipped, "the notification is "+string(cur.Status)
	return true, nil
}

// fail marks a scheduled send that cannot run as failed: one that left
// scheduled (or no longer exists) is left as it is.
func (s *Service) fail(ctx context.Context, ws, notificationID string) {
	_, err := s.Store.SetNotificationStatus(ctx, ws, notificationID, notify.StatusFailed, notify.StatusScheduled)
	if err != nil && !notify.IsCode(err, notify.CodeConflict) && !notify.IsCode(err, notify.CodeNotFound) {
		s.log().Error("mark scheduled notification failed", "workspaceId", ws, "notificationId", notificationID, "err", err.Error())
	}
}
