package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// CampaignStatus says whether a campaign's schedule runs.
type CampaignStatus string

// Campaign statuses. A one-off campaign (an at() schedule, or a send with
// scheduleAt) completes after its run; a cancelled scheduled send is
// cancelled.
const (
	CampaignActive    CampaignStatus = "active"
	CampaignPaused    CampaignStatus = "paused"
	CampaignCompleted CampaignStatus = "completed"
	CampaignCancelled CampaignStatus = "cancelled"
	// CampaignDeleting is a campaign whose delete began but did not
	// finish (its schedule could not be deleted yet): it runs no more, and
	// the repair finishes the delete.
	CampaignDeleting CampaignStatus = "deleting"
)

// Campaign kinds: a campaign an operator schedules, or the schedule of one
// send given a scheduleAt (its notification exists from the start, with
// status scheduled).
const (
	CampaignKindCampaign = "campaign"
	CampaignKindSend     = "send"
)

// SyncState says whether the scheduler holds what the store says: synced,
// or pending while a change has not reached it (Error says why; it is
// retried until it does).
type SyncState string

// Sync states.
const (
	SyncSynced  SyncState = "synced"
	SyncPending SyncState = "pending"
)

// ScheduleSync is where a campaign's schedule stands on the scheduler.
type ScheduleSync struct {
	State SyncState `json:"state"`
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
}

// Campaign is a notification sent by itself on a schedule. Notification
// is the body of a send (POST /v1/notifications) as the operator gave it,
// validated when the campaign is saved; its audience is resolved at each
// run.
type Campaign struct {
	WorkspaceID string `json:"-"`
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Name        string `json:"name"`
	// Schedule is an EventBridge Scheduler expression: at(…), rate(…) or
	// cron(…); Timezone (IANA) is the zone of at() and cron().
	Schedule     string          `json:"schedule"`
	Timezone     string          `json:"timezone"`
	Notification json.RawMessage `json:"notification"`
	// NotificationID is the send a kind "send" campaign runs.
	NotificationID string         `json:"notificationId,omitempty"`
	Status         CampaignStatus `json:"status"`
	Sync           ScheduleSync   `json:"sync"`
	LastRunAt      *time.Time     `json:"lastRunAt,omitempty"`
	CreatedBy      string         `json:"createdBy"`
	CreatedAt      time.Time      `json:"createdAt"`
	UpdatedAt      time.Time      `json:"updatedAt"`
	// Version increases on every write; UpdateCampaign uses it for
	// optimistic concurrency.
	Version int64 `json:"-"`
}

// RunStatus is how a campaign's run went.
type RunStatus string

// Run statuses: running while it executes (or when it died midway: a
// retry of the same scheduled time finishes it), succeeded with its
// notification, failed with the reason (a run whose send is invalid at run
// time, such as a deleted template), missed when the local scheduler was
// down longer than the grace period, skipped when the campaign was paused
// or changed and the scheduler had not heard yet.
const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunFailed    RunStatus = "failed"
	RunMissed    RunStatus = "missed"
	RunSkipped   RunStatus = "skipped"
)

// CampaignRun is one scheduled time of a campaign. The scheduled time is
// its key: the same time never runs twice.
type CampaignRun struct {
	WorkspaceID    string     `json:"-"`
	CampaignID     string     `json:"campaignId"`
	ScheduledAt    time.Time  `json:"scheduledAt"`
	Status         RunStatus  `json:"status"`
	NotificationID string     `json:"notificationId,omitempty"`
	Recipients     int        `json:"recipients"`
	Error          string     `json:"error,omitempty"`
	Attempts       int        `json:"attempts"`
	StartedAt      time.Time  `json:"startedAt"`
	FinishedAt     *time.Time `json:"finishedAt,omitempty"`
}

// ScheduleSpec is what a Scheduler keeps of one campaign: when to call
// back, and with what.
type ScheduleSpec struct {
	// Name is unique per scheduler: "c-" and the campaign's id (ids are
	// unique across workspaces).
	Name       string
	Expression string
	Timezone   string
	Enabled    bool
	// Target is what a run is called with.
	Target ScheduleTarget
	// Start anchors rate() schedules (the campaign's creation); at() and
	// cron() ignore it.
	Start time.Time
}

// ScheduleTarget names the campaign a schedule runs.
type ScheduleTarget struct {
	WorkspaceID string `json:"workspaceId"`
	CampaignID  string `json:"campaignId"`
}

// ScheduleName is the scheduler's name of a campaign's schedule.
func ScheduleName(campaignID string) string { return "c-" + campaignID }

// scheduleNameRE is EventBridge Scheduler's alphabet of schedule names.
var scheduleNameRE = regexp.MustCompile(`^[0-9a-zA-Z_.-]{1,64}$`)

// CheckScheduleName checks a schedule name as EventBridge Scheduler does,
// so that every Scheduler takes the same names and a bad one is a
// validation error before any request.
func CheckScheduleName(name string) error {
	if !scheduleNameRE.MatchString(name) {
		return Invalid(FieldError{Field: "name", Problem: fmt.Sprintf("schedule name %q is not 1 to 64 of 0-9 a-z A-Z - _ .", name)})
	}
	return nil
}

// Scheduler keeps schedules and calls the scheduler function (on AWS,
// EventBridge Scheduler; locally, an in-process loop) at their times. Both
// adapters pass the same contract suite.
type Scheduler interface {
	// PutSchedule creates the schedule or replaces the one of that name.
	// An at() schedule is removed by the scheduler after it runs.
	PutSchedule(ctx context.Context, s ScheduleSpec) error
	// GetSchedule returns a schedule; not_found when there is none.
	GetSchedule(ctx context.Context, name string) (ScheduleSpec, error)
	// DeleteSchedule removes a schedule; removing a missing one is not an
	// error.
	DeleteSchedule(ctx context.Context, name string) error
}
