// Package campaign keeps scheduled campaigns: a send's body and an
// EventBridge Scheduler expression. Saving one validates the send exactly
// as a send is validated and puts its schedule on the scheduler (EventBridge
// Scheduler on AWS, an in-process loop locally); each run turns it into a
// notification with source campaign, once per scheduled time.
//
// The store is the truth and the scheduler follows it. Every change is
// written to the store first, marked pending, then pushed to the scheduler
// and marked synced; a push that fails leaves the campaign pending with the
// error (the API answers it, and the next save, pause, resume or run pushes
// again), and a run of a campaign the store no longer runs repairs the
// scheduler instead of sending.
package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
	"github.com/heraldhq/herald/shared/send"
)

// Store is what campaigns need of the store: the campaigns and their runs,
// and the notification of a scheduled send, which the service creates,
// reads, moves between statuses and counts when it runs. Declared here, as
// narrow as the calls, so that the service's needs are read in one place
// and a fake of it need not be the whole notify.Store.
type Store interface {
	CreateCampaign(ctx context.Context, c notify.Campaign) error
	GetCampaign(ctx context.Context, workspaceID, id string) (notify.Campaign, error)
	UpdateCampaign(ctx context.Context, workspaceID, id string, fn func(*notify.Campaign) error) (notify.Campaign, error)
	DeleteCampaign(ctx context.Context, workspaceID, id string) error
	StartRun(ctx context.Context, r notify.CampaignRun) (notify.CampaignRun, bool, error)
	FinishRun(ctx context.Context, r notify.CampaignRun) error
	CreateNotification(ctx context.Context, n notify.Notification) error
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	SetNotificationStatus(ctx context.Context, workspaceID, id string, to notify.Status, from ...notify.Status) (notify.Notification, error)
	ApplyCounts(ctx context.Context, workspaceID, id string, parts []notify.CountPart) (notify.Notification, error)
}

// Service keeps campaigns and runs them.
type Service struct {
	Store     Store
	Scheduler notify.Scheduler
	Sender    *send.Sender
	IDs       *notify.IDs
	Now       func() time.Time
	Log       *slog.Logger
	// Repairs, when set, takes a message for every change the scheduler
	// did not take, so that it is pushed again (Repair) without waiting
	// for the operator: on AWS an SQS queue the scheduler function
	// consumes, with a dead-letter queue for what never succeeds.
	Repairs RepairQueue
}

// RepairQueue is the queue of schedule repairs; notify.Queue implements it.
type RepairQueue interface {
	SendDelayed(ctx context.Context, bodies [][]byte, delay time.Duration) error
}

// maxRunYear is the last year a run may fall in: RFC 3339, and so JSON
// and the scheduler, write no later time, and a campaign whose runs could
// not be written would break every answer that shows it.
const maxRunYear = 9999

// MaxNotificationBytes bounds a campaign's notification (the body of a
// send), so that a campaign stays one DynamoDB item (400 KB) with room for
// the rest of it.
const MaxNotificationBytes = 256 << 10

// Input is the body of POST and PUT /v1/campaigns.
type Input struct {
	Name         string          `json:"name"`
	Schedule     string          `json:"schedule"`
	Timezone     string          `json:"timezone"`
	Notification json.RawMessage `json:"notification"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// validate checks a campaign's input: its name, its schedule (which must
// have a run still to come) and its notification, validated as a send
// whose audience is resolved at each run. It returns the notification as
// it is stored, compacted.
func (s *Service) validate(ctx context.Context, ws, by string, in Input, start time.Time) (json.RawMessage, error) {
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: f, Problem: p}) }
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); n == 0 || n > 200 {
		add("name", "required, at most 200 characters")
	}
	sched, err := schedule.Parse(in.Schedule, in.Timezone)
	switch {
	case errors.Is(err, schedule.ErrTimeZone):
		add("timezone", err.Error())
	case err != nil:
		add("schedule", err.Error())
	default:
		switch next, ok := sched.Next(start, s.now()); {
		case !ok:
			add("schedule", in.Schedule+" has no run after now")
		case next.Year() > maxRunYear:
			add("schedule", fmt.Sprintf("%s first runs after the year %d", in.Schedule, maxRunYear))
		}
	}
	body := compact(in.Notification)
	if len(bytes.TrimSpace(in.Notification)) == 0 {
		add("notification", "required: the body of a send (POST /v1/notifications)")
	} else if len(body) > MaxNotificationBytes {
		add("notification", fmt.Sprintf("at most %d KiB; a larger audience is a filter, not a list of ids", MaxNotificationBytes>>10))
	} else {
		var sin send.Input
		dec := json.NewDecoder(bytes.NewReader(in.Notification))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sin); err != nil {
			add("notification", "not the body of a send: "+strings.TrimPrefix(err.Error(), "json: "))
		} else {
			if sin.ScheduleAt != nil {
				add("notification.scheduleAt", "a campaign's schedule says when it runs: leave scheduleAt out")
			}
			if sin.Audience != nil && sin.Audience.ExpectedCount != nil {
				add("notification.audience.expectedCount", "a campaign's audience is counted when it runs: leave expectedCount out")
			}
			if _, err := s.Sender.Prepare(ctx, send.Options{Mode: send.ModeSave, WorkspaceID: ws, By: by, Origin: notify.OriginCampaign}, sin); err != nil {
				var ne *notify.Error
				if !errors.As(err, &ne) {
					return nil, err
				}
				for _, d := range ne.Details {
					add("notification."+d.Field, d.Problem)
				}
				if len(ne.Details) == 0 {
					add("notification", ne.Message)
				}
			}
		}
	}
	if len(bad) > 0 {
		return nil, notify.Invalid(bad...)
	}
	return body, nil
}

// timezone is the zone a campaign is saved with: UTC when none is given.
func timezone(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

// Create validates and saves a new campaign, then schedules it.
func (s *Service) Create(ctx context.Context, ws, by string, in Input) (notify.Campaign, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	in.Timezone = timezone(in.Timezone)
	body, err := s.validate(ctx, ws, by, in, now)
	if err != nil {
		return notify.Campaign{}, err
	}
	c := notify.Campaign{
		WorkspaceID: ws, ID: "cmp_" + strings.ToLower(s.IDs.New(now)), Kind: notify.CampaignKindCampaign,
		Name: strings.TrimSpace(in.Name), Schedule: strings.TrimSpace(in.Schedule), Timezone: in.Timezone,
		Notification: body, Status: notify.CampaignActive,
		Sync:      notify.ScheduleSync{State: notify.SyncPending, At: now},
		CreatedBy: by, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateCampaign(ctx, c); err != nil {
		return c, fmt.Errorf("create campaign: %w", err)
	}
	c.Version = 1 // as the store keeps it
	once := *s
	once.Repairs = nil // a refused create is undone below, not repaired
	synced, err := once.sync(ctx, c)
	var refused *pushError
	if errors.As(err, &refused) {
		// Nothing is kept of a campaign the scheduler did not take, so that
		// the caller's retry cannot make a second one. A schedule that got
		// through after all finds no campaign at its first run and is
		// deleted then.
		if derr := s.Scheduler.DeleteSchedule(ctx, notify.ScheduleName(c.ID)); derr != nil {
			s.log().Warn("schedule of an unsaved campaign left for its first run to delete", "workspaceId", ws, "campaignId", c.ID, "err", derr.Error())
		}
		if derr := s.Store.DeleteCampaign(ctx, ws, c.ID); derr != nil {
			// Still stored: marked deleting, it runs no more whatever
			// the scheduler holds, and the repair finishes the delete.
			if _, uerr := s.Store.UpdateCampaign(ctx, ws, c.ID, func(c *notify.Campaign) error {
				c.Status = notify.CampaignDeleting
				s.changed(c)
				return nil
			}); uerr == nil {
				s.queueRepair(ctx, c)
			}
			return notify.Campaign{}, fmt.Errorf("undo campaign %s the scheduler refused: %w", c.ID, derr)
		}
		return notify.Campaign{}, refused.report(s.log(), "the campaign could not be scheduled (%s); nothing was saved: repeat the request to retry")
	}
	return synced, err
}

// Update replaces a campaign's name, schedule and notification.
func (s *Service) Update(ctx context.Context, ws, id, by string, in Input) (notify.Campaign, error) {
	cur, err := s.Store.GetCampaign(ctx, ws, id)
	if err != nil {
		return cur, err
	}
	if cur.Kind != notify.CampaignKindCampaign {
		return cur, notify.NotFound("campaign", id)
	}
	in.Timezone = timezone(in.Timezone)
	body, err := s.validate(ctx, ws, by, in, cur.CreatedAt)
	if err != nil {
		return cur, err
	}
	c, err := s.Store.UpdateCampaign(ctx, ws, id, func(c *notify.Campaign) error {
		switch c.Status {
		case notify.CampaignCompleted, notify.CampaignCancelled, notify.CampaignDeleting:
			return notify.Errorf(notify.CodeConflict, "campaign %s is %s; create a new one", id, c.Status)
		}
		c.Name, c.Schedule, c.Timezone, c.Notification = strings.TrimSpace(in.Name), strings.TrimSpace(in.Schedule), in.Timezone, body
		s.changed(c)
		return nil
	})
	if err != nil {
		return c, err
	}
	return s.Sync(ctx, c)
}

// SetPaused pauses or resumes a campaign; its schedule is disabled or
// enabled to match.
func (s *Service) SetPaused(ctx context.Context, ws, id string, paused bool) (notify.Campaign, error) {
	c, err := s.Store.UpdateCampaign(ctx, ws, id, func(c *notify.Campaign) error {
		if c.Kind != notify.CampaignKindCampaign {
			return notify.NotFound("campaign", id)
		}
		switch c.Status {
		case notify.CampaignCompleted, notify.CampaignCancelled, notify.CampaignDeleting:
			return notify.Errorf(notify.CodeConflict, "campaign %s is %s", id, c.Status)
		}
		if !paused && c.Status == notify.CampaignPaused {
			if sched, err := schedule.Parse(c.Schedule, c.Timezone); err == nil {
				if _, ok := sched.Next(c.CreatedAt, s.now()); !ok {
					return notify.Errorf(notify.CodeConflict, "campaign %s has no run left (%s is past): change its schedule with PUT, or delete it", id, c.Schedule)
				}
			}
		}
		c.Status = notify.CampaignActive
		if paused {
			c.Status = notify.CampaignPaused
		}
		s.changed(c)
		return nil
	})
	if err != nil {
		return c, err
	}
	return s.Sync(ctx, c)
}

// Delete removes a campaign's schedule, then the campaign and its runs.
// The campaign is marked deleting first, so that it runs no more whatever
// happens next: a schedule that cannot be deleted now leaves it deleting
// (and answers schedule_failed), and the repair, or the schedule's next
// invocation, finishes the delete. Nothing is left half deleted silently.
func (s *Service) Delete(ctx context.Context, ws, id string) error {
	c, err := s.Store.UpdateCampaign(ctx, ws, id, func(c *notify.Campaign) error {
		if c.Kind != notify.CampaignKindCampaign {
			return notify.NotFound("campaign", id)
		}
		c.Status = notify.CampaignDeleting
		s.changed(c)
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.Sync(ctx, c)
	return err
}

// Sync pushes a campaign's schedule to the scheduler and records the
// outcome: synced, or pending with the error, which is also returned (a
// 503 schedule_failed the caller may retry; the change is saved, and a
// repair is queued). A deleting campaign's schedule is deleted, then the
// campaign.
//
// Concurrent changes (a pause and a resume at once) may push in either
// order, so the push that records last checks that what it pushed is what
// the store holds now, and pushes the newer definition when it is not:
// the scheduler ends with the store's last word.
func (s *Service) Sync(ctx context.Context, c notify.Campaign) (notify.Campaign, error) {
	c, err := s.sync(ctx, c)
	var refused *pushError
	if errors.As(err, &refused) {
		return c, refused.report(s.log(), "the campaign is saved but its schedule could not be updated (%s); it stays pending: repeat the request to retry")
	}
	return c, err
}

// pushError is a change the scheduler refused, as sync returns it: the
// callers say what it means for their request.
type pushError struct{ err error }

func (e *pushError) Error() string { return "schedule not pushed: " + e.err.Error() }
func (e *pushError) Unwrap() error { return e.err }

// report is the refusal as the API answers it: the scheduler's own
// notify.Error as it is (an invalid schedule, say), otherwise a 503
// schedule_failed whose message is format with a plain reason. The
// scheduler's own words (an AWS error names accounts and roles) go to the
// log, never to the caller.
func (e *pushError) report(log *slog.Logger, format string) error {
	var ne *notify.Error
	if errors.As(e.err, &ne) {
		return ne
	}
	log.Warn("scheduler refused a change", "err", e.err.Error())
	return &notify.Error{Code: notify.CodeScheduleFailed, RetryAfter: 5 * time.Second, Message: fmt.Sprintf(format, "the scheduler is unavailable")}
}

// sync is Sync with a refusal returned as a *pushError.
func (s *Service) sync(ctx context.Context, c notify.Campaign) (notify.Campaign, error) {
	for range 5 {
		if at, past := s.pastOneOff(c); past {
			return s.expire(ctx, c, at)
		}
		err := s.push(ctx, c)
		if err == nil && c.Status == notify.CampaignDeleting {
			if derr := s.Store.DeleteCampaign(ctx, c.WorkspaceID, c.ID); derr != nil && !notify.IsCode(derr, notify.CodeNotFound) {
				s.queueRepair(ctx, c)
				return c, fmt.Errorf("delete campaign %s: %w", c.ID, derr)
			}
			s.log().Info("campaign deleted", "workspaceId", c.WorkspaceID, "campaignId", c.ID)
			return c, nil
		}
		state := notify.ScheduleSync{State: notify.SyncSynced, At: s.now().UTC().Truncate(time.Millisecond)}
		if err != nil {
			s.log().Error("schedule not synced", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "err", err.Error())
			state = notify.ScheduleSync{State: notify.SyncPending, Error: err.Error(), At: state.At}
		}
		var newer *notify.Campaign
		updated, uerr := s.Store.UpdateCampaign(ctx, c.WorkspaceID, c.ID, func(cur *notify.Campaign) error {
			if !samePush(*cur, c) {
				newer = cur
				return errStale
			}
			cur.Sync = state
			return nil
		})
		switch {
		case errors.Is(uerr, errStale) && err == nil:
			c = *newer // pushed an older definition: push the store's
			continue
		case errors.Is(uerr, errStale):
			// Failed, and a later change pushes (and reports) for itself.
			return *newer, &pushError{err}
		case uerr != nil:
			s.queueRepair(ctx, c)
			if err == nil {
				// Pushed; only the record of it failed, which the repair
				// writes. The change itself is done.
				s.log().Warn("schedule pushed, its sync state not recorded", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "err", uerr.Error())
				return c, nil
			}
			return c, &pushError{err}
		case err != nil:
			s.queueRepair(ctx, c)
			return updated, &pushError{err}
		}
		return updated, nil
	}
	s.queueRepair(ctx, c)
	return c, &pushError{errors.New("the campaign kept changing while its schedule was pushed")}
}

// push puts c's schedule on the scheduler, or deletes it when c runs no
// more.
func (s *Service) push(ctx context.Context, c notify.Campaign) error {
	name := notify.ScheduleName(c.ID)
	switch c.Status {
	case notify.CampaignActive, notify.CampaignPaused:
		return s.Scheduler.PutSchedule(ctx, notify.ScheduleSpec{
			Name: name, Expression: c.Schedule, Timezone: c.Timezone, Enabled: c.Status == notify.CampaignActive,
			Target: notify.ScheduleTarget{WorkspaceID: c.WorkspaceID, CampaignID: c.ID}, Start: c.CreatedAt,
		})
	default:
		return s.Scheduler.DeleteSchedule(ctx, name)
	}
}

// samePush reports whether a and b make the same push.
func samePush(a, b notify.Campaign) bool {
	return a.Status == b.Status && a.Schedule == b.Schedule && a.Timezone == b.Timezone
}

// pastOneOff returns the time of an active c's at() and whether it went
// by over a minute ago (a repair that comes after it, say): pushing it
// would schedule nothing. A time just past is still pushed: the local
// scheduler runs it at once, and a minute is EventBridge Scheduler's
// precision.
func (s *Service) pastOneOff(c notify.Campaign) (time.Time, bool) {
	if c.Status != notify.CampaignActive {
		return time.Time{}, false
	}
	sched, err := schedule.Parse(c.Schedule, c.Timezone)
	if err != nil || sched.Kind() != schedule.KindAt {
		return time.Time{}, false
	}
	at, _ := sched.Next(c.CreatedAt, time.Time{})
	return at, !at.After(s.now().Add(-time.Minute))
}

// expire settles an active at() campaign whose time, at, went by before
// its schedule was pushed: the time is recorded missed (unless it ran
// after all), the campaign completed and any schedule deleted.
func (s *Service) expire(ctx context.Context, c notify.Campaign, at time.Time) (notify.Campaign, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	if _, err := s.missed(ctx, c, notify.CampaignRun{WorkspaceID: c.WorkspaceID, CampaignID: c.ID, ScheduledAt: at, StartedAt: now, Attempts: 1}); err != nil {
		return c, err
	}
	if err := s.Scheduler.DeleteSchedule(ctx, notify.ScheduleName(c.ID)); err != nil {
		s.log().Warn("schedule of an expired one-off left for its run to delete", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "err", err.Error())
	}
	return s.Store.UpdateCampaign(ctx, c.WorkspaceID, c.ID, func(cur *notify.Campaign) error {
		cur.Sync = notify.ScheduleSync{State: notify.SyncSynced, At: now}
		return nil
	})
}

var errStale = errors.New("campaign changed since")

// changed stamps a change to c that the scheduler has yet to take.
func (s *Service) changed(c *notify.Campaign) {
	c.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	c.Sync = notify.ScheduleSync{State: notify.SyncPending, At: c.UpdatedAt}
}

// NextRuns returns up to n run times of c after now.
func (s *Service) NextRuns(c notify.Campaign, n int) []time.Time {
	if c.Status != notify.CampaignActive {
		return nil
	}
	sched, err := schedule.Parse(c.Schedule, c.Timezone)
	if err != nil {
		return nil
	}
	var out []time.Time
	t := s.now()
	for len(out) < n {
		next, ok := sched.Next(c.CreatedAt, t)
		if !ok || next.Year() > maxRunYear {
			break
		}
		out = append(out, next)
		t = next
	}
	return out
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
