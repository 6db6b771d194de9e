package ebscheduler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// Invocation is the event the scheduler function receives from a schedule:
// the campaign, and which of its scheduled times this is. The scheduled time
// is the key of the run (notify.CampaignRun), so a retried invocation
// (Attempt 2 and on, a new ExecutionID each) finishes the same run instead
// of sending twice. PutSchedule writes it and ParseInvocation reads it, so
// the two agree in one place.
type Invocation struct {
	WorkspaceID string
	CampaignID  string
	// ScheduledTime is the time the schedule was due, not when it ran.
	ScheduledTime time.Time
	// ExecutionID is EventBridge Scheduler's id of this attempt, for logs.
	ExecutionID string
	// Attempt counts the attempts of this scheduled time, from 1.
	Attempt int
}

// Target returns the campaign the invocation runs.
func (i Invocation) Target() notify.ScheduleTarget {
	return notify.ScheduleTarget{WorkspaceID: i.WorkspaceID, CampaignID: i.CampaignID}
}

// invocationJSON is the target input on the wire. EventBridge Scheduler
// replaces its context attributes (placeholders such as
// <aws.scheduler.scheduled-time>) as text, so every value is a string.
type invocationJSON struct {
	WorkspaceID   string `json:"workspaceId"`
	CampaignID    string `json:"campaignId"`
	ScheduledTime string `json:"scheduledTime"`
	ExecutionID   string `json:"executionId"`
	Attempt       string `json:"attempt"`
}

// EventBridge Scheduler's context attributes, replaced at each invocation.
const (
	attrScheduledTime = "<aws.scheduler.scheduled-time>"
	attrExecutionID   = "<aws.scheduler.execution-id>"
	attrAttempt       = "<aws.scheduler.attempt-number>"
)

// targetInput is the Input of a schedule's target: the campaign, and the
// context attributes EventBridge Scheduler fills in.
func targetInput(t notify.ScheduleTarget) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// json.Marshal would write < and > as \u003c and \u003e, which
	// EventBridge Scheduler would not recognise as placeholders.
	enc.SetEscapeHTML(false)
	err := enc.Encode(invocationJSON{
		WorkspaceID:   t.WorkspaceID,
		CampaignID:    t.CampaignID,
		ScheduledTime: attrScheduledTime,
		ExecutionID:   attrExecutionID,
		Attempt:       attrAttempt,
	})
	if err != nil {
		return "", fmt.Errorf("encode target input: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// parseTargetInput reads the campaign back from a schedule's Input, whose
// placeholders are not replaced yet.
func parseTargetInput(input string) (notify.ScheduleTarget, error) {
	var in invocationJSON
	if err := json.Unmarshal([]byte(input), &in); err != nil {
		return notify.ScheduleTarget{}, fmt.Errorf("decode target input: %w", err)
	}
	if in.WorkspaceID == "" || in.CampaignID == "" {
		return notify.ScheduleTarget{}, fmt.Errorf("target input %s: workspaceId and campaignId are required", input)
	}
	return notify.ScheduleTarget{WorkspaceID: in.WorkspaceID, CampaignID: in.CampaignID}, nil
}

// ParseInvocation decodes the event a schedule sends the scheduler
// function. It fails when a field is missing, or is still a placeholder (an
// event that did not come from EventBridge Scheduler); ExecutionID and
// Attempt may be absent, from a hand-made event.
func ParseInvocation(data []byte) (Invocation, error) {
	var in invocationJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return Invocation{}, fmt.Errorf("parse invocation: %w", err)
	}
	for _, f := range []struct{ name, value string }{
		{"workspaceId", in.WorkspaceID},
		{"campaignId", in.CampaignID},
		{"scheduledTime", in.ScheduledTime},
		{"executionId", in.ExecutionID},
		{"attempt", in.Attempt},
	} {
		if strings.HasPrefix(f.value, "<aws.scheduler.") {
			return Invocation{}, fmt.Errorf("parse invocation: %s is the placeholder %s: the event did not come from EventBridge Scheduler", f.name, f.value)
		}
	}
	if in.WorkspaceID == "" || in.CampaignID == "" || in.ScheduledTime == "" {
		return Invocation{}, errors.New("parse invocation: workspaceId, campaignId and scheduledTime are required")
	}
	inv := Invocation{WorkspaceID: in.WorkspaceID, CampaignID: in.CampaignID, ExecutionID: in.ExecutionID}
	var err error
	if inv.ScheduledTime, err = time.Parse(time.RFC3339, in.ScheduledTime); err != nil {
		return Invocation{}, fmt.Errorf("parse invocation: scheduledTime: %w", err)
	}
	if in.Attempt != "" {
		if inv.Attempt, err = strconv.Atoi(in.Attempt); err != nil || inv.Attempt < 1 {
			return Invocation{}, fmt.Errorf("parse invocation: attempt %q is not a positive integer", in.Attempt)
		}
	}
	return inv, nil
}

// UnmarshalJSON decodes with ParseInvocation, so that a Lambda handler can
// take an Invocation as its event.
func (i *Invocation) UnmarshalJSON(data []byte) error {
	inv, err := ParseInvocation(data)
	if err != nil {
		return err
	}
	*i = inv
	return nil
}
