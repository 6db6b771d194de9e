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

// Service keeps campaigns and runs them.
type Service struct {
	Store     notify.Store
	Scheduler notify.Scheduler
	Sender    *send.Sender
	IDs       *notify.IDs
	Now       func() time.Time
	Log       *slog.Logger
}

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
// whose audience is resolved at each run.
func (s *Service) validate(ctx context.Context, ws, by string, in Input, start time.Time) (*schedule.Schedule, error) {
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
		if _, ok := sched.Next(start, s.now()); !ok {
			add("schedule", in.Schedule+" has no run after now")
		}
	}
	if len(bytes.TrimSpace(in.Notification)) == 0 {
		add("notification", "required: the body of a send (POST /v1/notifications)")
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
			if _, err := s.Sender.Prepare(ctx, send.Options{Mode: send.ModeSave, WorkspaceID: ws, By: by}, sin); err != nil {
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
	return sched, nil
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
	if _, err := s.validate(ctx, ws, by, in, now); err != nil {
		return notify.Campaign{}, err
	}
	c := notify.Campaign{
		WorkspaceID: ws, ID: "cmp_" + strings.ToLower(s.IDs.New(now)), Kind: notify.CampaignKindCampaign,
		Name: strings.TrimSpace(in.Name), Schedule: strings.TrimSpace(in.Schedule), Timezone: in.Timezone,
		Notification: compact(in.Notification), Status: notify.CampaignActive,
		Sync:      notify.ScheduleSync{State: notify.SyncPending, At: now},
		CreatedBy: by, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Store.CreateCampaign(ctx, c); err != nil {
		return c, fmt.Errorf("create campaign: %w", err)
	}
	c.Version = 1 // as the store keeps it
	return s.Sync(ctx, c)
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
	if _, err := s.validate(ctx, ws, by, in, cur.CreatedAt); err != nil {
		return cur, err
	}
	c, err := s.Store.UpdateCampaign(ctx, ws, id, func(c *notify.Campaign) error {
		if c.Status == notify.CampaignCompleted || c.Status == notify.CampaignCancelled {
			return notify.Errorf(notify.CodeConflict, "campaign %s is %s; create a new one", id, c.Status)
		}
		c.Name, c.Schedule, c.Timezone, c.Notification = strings.TrimSpace(in.Name), strings.TrimSpace(in.Schedule), in.Timezone, compact(in.Notification)
		c.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		c.Sync = notify.ScheduleSync{State: notify.SyncPending, At: c.UpdatedAt}
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
		case notify.CampaignCompleted, notify.CampaignCancelled:
			return notify.Errorf(notify.CodeConflict, "campaign %s is %s", id, c.Status)
		}
		c.Status = notify.CampaignActive
		if paused {
			c.Status = notify.CampaignPaused
		}
		c.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		c.Sync = notify.ScheduleSync{State: notify.SyncPending, At: c.UpdatedAt}
		return nil
	})
	if err != nil {
		return c, err
	}
	return s.Sync(ctx, c)
}

// Delete removes a campaign's schedule, then the campaign and its runs.
// The schedule goes first: a campaign deleted from the store with its
// schedule left would be found missing at its next run and the schedule
// deleted then, but never the other way round.
func (s *Service) Delete(ctx context.Context, ws, id string) error {
	c, err := s.Store.GetCampaign(ctx, ws, id)
	if err != nil {
		return err
	}
	if c.Kind != notify.CampaignKindCampaign {
		return notify.NotFound("campaign", id)
	}
	if err := s.Scheduler.DeleteSchedule(ctx, notify.ScheduleName(id)); err != nil {
		return scheduleError(err)
	}
	return s.Store.DeleteCampaign(ctx, ws, id)
}

// Sync pushes a campaign's schedule to the scheduler and records the
// outcome: synced, or pending with the error, which is also returned (as a
// model_unavailable-like 503 the caller may retry; the campaign is saved).
func (s *Service) Sync(ctx context.Context, c notify.Campaign) (notify.Campaign, error) {
	name := notify.ScheduleName(c.ID)
	var err error
	switch c.Status {
	case notify.CampaignActive, notify.CampaignPaused:
		err = s.Scheduler.PutSchedule(ctx, notify.ScheduleSpec{
			Name: name, Expression: c.Schedule, Timezone: c.Timezone, Enabled: c.Status == notify.CampaignActive,
			Target: notify.ScheduleTarget{WorkspaceID: c.WorkspaceID, CampaignID: c.ID}, Start: c.CreatedAt,
		})
	default:
		err = s.Scheduler.DeleteSchedule(ctx, name)
	}
	state := notify.ScheduleSync{State: notify.SyncSynced, At: s.now().UTC().Truncate(time.Millisecond)}
	if err != nil {
		s.log().Error("schedule not synced", "workspaceId", c.WorkspaceID, "campaignId", c.ID, "err", err.Error())
		state = notify.ScheduleSync{State: notify.SyncPending, Error: err.Error(), At: state.At}
	}
	version := c.Version
	updated, uerr := s.Store.UpdateCampaign(ctx, c.WorkspaceID, c.ID, func(cur *notify.Campaign) error {
		if cur.Version != version {
			return errStale // a later change syncs itself
		}
		cur.Sync = state
		return nil
	})
	if errors.Is(uerr, errStale) {
		updated, uerr = s.Store.GetCampaign(ctx, c.WorkspaceID, c.ID)
	}
	if uerr != nil {
		return c, uerr
	}
	if err != nil {
		return updated, scheduleError(err)
	}
	return updated, nil
}

var errStale = errors.New("campaign changed since")

// scheduleError is what a caller sees of a scheduler failure: the change is
// saved but not yet scheduled.
func scheduleError(err error) error {
	var ne *notify.Error
	if errors.As(err, &ne) {
		return err
	}
	return &notify.Error{Code: notify.CodeScheduleFailed, RetryAfter: 5 * time.Second,
		Message: "the campaign is saved but its schedule could not be updated (" + err.Error() + "); it stays pending: repeat the request to retry"}
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
		if !ok {
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
