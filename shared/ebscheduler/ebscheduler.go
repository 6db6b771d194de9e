// Package ebscheduler is the notify.Scheduler on Amazon EventBridge
// Scheduler, for the serverless deployment: one schedule per campaign in the
// stack's schedule group, each invoking the scheduler function with an
// Invocation (ParseInvocation reads it back there).
//
// The functions that call PutSchedule and DeleteSchedule need
// scheduler:CreateSchedule, UpdateSchedule, GetSchedule and DeleteSchedule
// on the group's schedules, and iam:PassRole on Config.RoleArn. That role is
// the one EventBridge Scheduler assumes: it needs lambda:InvokeFunction on
// Config.TargetArn and sqs:SendMessage on Config.DeadLetterArn.
package ebscheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
)

// API is the part of the EventBridge Scheduler client the adapter uses;
// *scheduler.Client implements it.
type API interface {
	CreateSchedule(ctx context.Context, in *scheduler.CreateScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error)
	UpdateSchedule(ctx context.Context, in *scheduler.UpdateScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.UpdateScheduleOutput, error)
	GetSchedule(ctx context.Context, in *scheduler.GetScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error)
	DeleteSchedule(ctx context.Context, in *scheduler.DeleteScheduleInput, optFns ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error)
}

// Config says where schedules live and what they invoke; the stack's
// template provides every value.
type Config struct {
	// GroupName is the stack's schedule group, so that deleting the stack
	// deletes its schedules; the account's default group when empty.
	GroupName string
	// TargetArn is the scheduler function's ARN.
	TargetArn string
	// RoleArn is the role EventBridge Scheduler assumes to invoke
	// TargetArn.
	RoleArn string
	// DeadLetterArn is the SQS queue that receives an invocation that
	// failed every retry, so a missed run leaves a trace; none when empty.
	DeadLetterArn string
	// MaxRetryAttempts (0 to 185) and MaxEventAge (1 minute to 24 hours,
	// whole seconds) bound EventBridge Scheduler's retries of an
	// invocation the function failed. Both are sent as they are: a zero
	// MaxEventAge is an error rather than a silent 24 hours.
	MaxRetryAttempts int
	MaxEventAge      time.Duration
}

// EventBridge Scheduler's bounds of a target's retry policy.
const (
	maxRetryAttempts = 185
	minEventAge      = time.Minute
	maxEventAge      = 24 * time.Hour
)

func (c Config) validate() error {
	switch {
	case c.TargetArn == "":
		return errors.New("ebscheduler config: TargetArn is empty")
	case c.RoleArn == "":
		return errors.New("ebscheduler config: RoleArn is empty")
	case c.MaxRetryAttempts < 0 || c.MaxRetryAttempts > maxRetryAttempts:
		return fmt.Errorf("ebscheduler config: MaxRetryAttempts %d, want 0 to %d", c.MaxRetryAttempts, maxRetryAttempts)
	case c.MaxEventAge < minEventAge || c.MaxEventAge > maxEventAge || c.MaxEventAge%time.Second != 0:
		return fmt.Errorf("ebscheduler config: MaxEventAge %v, want whole seconds from %v to %v", c.MaxEventAge, minEventAge, maxEventAge)
	}
	return nil
}

// Scheduler is a notify.Scheduler on EventBridge Scheduler. It is safe for
// concurrent use.
type Scheduler struct {
	client API
	cfg    Config
	// now is the clock that moves old rate() anchors forward (rateStart).
	now func() time.Time
}

// New returns the scheduler that keeps schedules in cfg.GroupName. The
// caller makes the client once per execution environment; throttling and
// transient errors are left to its retryer. A bad cfg fails every
// PutSchedule with an error that names the field.
func New(client API, cfg Config) *Scheduler {
	return &Scheduler{client: client, cfg: cfg, now: time.Now}
}

// PutSchedule implements notify.Scheduler with UpdateSchedule, which
// replaces the whole definition, and CreateSchedule when there is none
// (UpdateSchedule again when a racing put created it first).
//
// A rate() schedule starts at spec.Start, so its runs keep the phase of the
// campaign's creation; EventBridge Scheduler refuses a StartDate more than
// five minutes old, so an older Start is moved forward by whole intervals
// (rateStart), and kept in the description for GetSchedule.
func (s *Scheduler) PutSchedule(ctx context.Context, spec notify.ScheduleSpec) error {
	if err := notify.CheckScheduleName(spec.Name); err != nil {
		return err
	}
	if err := s.cfg.validate(); err != nil {
		return fmt.Errorf("put schedule %s: %w", spec.Name, err)
	}
	d, err := s.definition(spec)
	if err != nil {
		return err
	}
	err = s.update(ctx, d)
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return fmt.Errorf("put schedule %s: update: %w", spec.Name, err)
	}
	err = s.create(ctx, d)
	var conflict *types.ConflictException
	if errors.As(err, &conflict) {
		// Another put created it between our update and create.
		if err := s.update(ctx, d); err != nil {
			return fmt.Errorf("put schedule %s: update after a racing create: %w", spec.Name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("put schedule %s: create: %w", spec.Name, err)
	}
	return nil
}

// GetSchedule implements notify.Scheduler with GetSchedule. A rate()
// schedule's Timezone is empty (a rate has no zone) and its Start is the one
// PutSchedule was given; at() and cron() schedules have no Start.
func (s *Scheduler) GetSchedule(ctx context.Context, name string) (notify.ScheduleSpec, error) {
	if err := notify.CheckScheduleName(name); err != nil {
		return notify.ScheduleSpec{}, err
	}
	out, err := s.client.GetSchedule(ctx, &scheduler.GetScheduleInput{
		Name:      aws.String(name),
		GroupName: s.groupName(),
	})
	if isNotFound(err) {
		return notify.ScheduleSpec{}, notify.NotFound("schedule", name)
	}
	if err != nil {
		return notify.ScheduleSpec{}, fmt.Errorf("get schedule %s: %w", name, err)
	}
	spec := notify.ScheduleSpec{
		Name:       name,
		Expression: aws.ToString(out.ScheduleExpression),
		Enabled:    out.State == types.ScheduleStateEnabled,
	}
	if out.Target == nil || out.Target.Input == nil {
		return notify.ScheduleSpec{}, fmt.Errorf("get schedule %s: it has no target input", name)
	}
	if spec.Target, err = parseTargetInput(*out.Target.Input); err != nil {
		return notify.ScheduleSpec{}, fmt.Errorf("get schedule %s: %w", name, err)
	}
	if kindOf(spec.Expression) == kindRate {
		spec.Start = aws.ToTime(out.StartDate)
		if anchor, ok := parseAnchor(aws.ToString(out.Description)); ok {
			spec.Start = anchor
		}
	} else {
		spec.Timezone = aws.ToString(out.ScheduleExpressionTimezone)
		if spec.Timezone == "" {
			spec.Timezone = defaultTimezone
		}
	}
	return spec, nil
}

// DeleteSchedule implements notify.Scheduler with DeleteSchedule; a
// missing schedule (one that ran its at() and deleted itself, or a retried
// delete) is not an error.
func (s *Scheduler) DeleteSchedule(ctx context.Context, name string) error {
	if err := notify.CheckScheduleName(name); err != nil {
		return err
	}
	_, err := s.client.DeleteSchedule(ctx, &scheduler.DeleteScheduleInput{
		Name:        aws.String(name),
		GroupName:   s.groupName(),
		ClientToken: aws.String(clientToken()),
	})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete schedule %s: %w", name, err)
	}
	return nil
}

func (s *Scheduler) groupName() *string {
	if s.cfg.GroupName == "" {
		return nil
	}
	return aws.String(s.cfg.GroupName)
}

func isNotFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// clientToken returns a fresh idempotency token for one request. The SDK
// resends the same input, so the token is the same across the retries of
// that request. It is deliberately not derived from the schedule: a token
// reused later (pause, resume, pause again sends the same definition twice)
// could be answered from the first call's result without being applied.
// Every call is idempotent without one anyway: an update replaces the
// whole definition, a retried create meets ConflictException and updates,
// and a retried delete meets ResourceNotFoundException.
func clientToken() string {
	// 32 hex characters: within the API's 1 to 64 of [a-zA-Z0-9-_].
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// kind is the type of a schedule expression.
type kind int

const (
	kindUnknown kind = iota
	kindAt
	kindRate
	kindCron
)

func kindOf(expr string) kind {
	if !strings.HasSuffix(expr, ")") {
		return kindUnknown
	}
	switch {
	case strings.HasPrefix(expr, "at("):
		return kindAt
	case strings.HasPrefix(expr, "rate("):
		return kindRate
	case strings.HasPrefix(expr, "cron("):
		return kindCron
	}
	return kindUnknown
}

// defaultTimezone is the zone of an at() or cron() given none, as on
// EventBridge Scheduler.
const defaultTimezone = "UTC"

// rateStart returns the StartDate of a rate() schedule anchored at start:
// its first run after now (the first start + k×interval after now), which
// keeps the runs on start's grid. Never start itself once it has passed:
// AWS documents that a schedule may invoke on its StartDate, and the
// campaign's creation is no run time (its first run is one interval later,
// as nextRuns shows; the local scheduler agrees, computing with the same
// package schedule). It also keeps StartDate in the future, as EventBridge
// Scheduler wants (it refuses one over five minutes old). A zero start
// means none.
func rateStart(rate *schedule.Schedule, start, now time.Time) time.Time {
	if start.IsZero() {
		return start
	}
	next, _ := rate.Next(start, now)
	return next
}

// anchorPrefix starts the description of a rate() schedule, which keeps
// the anchor PutSchedule was given when StartDate had to move forward.
const anchorPrefix = "herald: rate() anchored at "

func anchorDescription(start time.Time) string {
	return anchorPrefix + start.UTC().Format(time.RFC3339Nano)
}

func parseAnchor(description string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(description, anchorPrefix)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, rest)
	return t, err == nil
}

// definition is what CreateSchedule and UpdateSchedule both send.
type definition struct {
	name                  string
	expression            string
	timezone              *string
	state                 types.ScheduleState
	startDate             *time.Time
	description           *string
	actionAfterCompletion types.ActionAfterCompletion
	target                *types.Target
}

func (s *Scheduler) definition(spec notify.ScheduleSpec) (definition, error) {
	d := definition{
		name:                  spec.Name,
		expression:            spec.Expression,
		state:                 types.ScheduleStateDisabled,
		actionAfterCompletion: types.ActionAfterCompletionNone,
	}
	if spec.Enabled {
		d.state = types.ScheduleStateEnabled
	}
	tz := spec.Timezone
	if tz == "" {
		tz = defaultTimezone
	}
	switch kindOf(spec.Expression) {
	case kindAt:
		// The one-off is removed after it runs, as notify.Scheduler says.
		d.actionAfterCompletion = types.ActionAfterCompletionDelete
		d.timezone = aws.String(tz)
	case kindCron:
		d.timezone = aws.String(tz)
	case kindRate:
		rate, err := schedule.Parse(spec.Expression, "") // a rate has no zone
		if err != nil {
			return definition{}, notify.Invalid(notify.FieldError{Field: "expression", Problem: err.Error()})
		}
		if !spec.Start.IsZero() {
			d.startDate = aws.Time(rateStart(rate, spec.Start, s.now()))
			d.description = aws.String(anchorDescription(spec.Start))
		}
	default:
		return definition{}, notify.Invalid(notify.FieldError{Field: "expression", Problem: fmt.Sprintf("%q is not at(…), rate(…) or cron(…)", spec.Expression)})
	}
	input, err := targetInput(spec.Target)
	if err != nil {
		return definition{}, fmt.Errorf("put schedule %s: %w", spec.Name, err)
	}
	d.target = &types.Target{
		Arn:     aws.String(s.cfg.TargetArn),
		RoleArn: aws.String(s.cfg.RoleArn),
		Input:   aws.String(input),
		RetryPolicy: &types.RetryPolicy{
			MaximumRetryAttempts:     aws.Int32(int32(s.cfg.MaxRetryAttempts)),
			MaximumEventAgeInSeconds: aws.Int32(int32(s.cfg.MaxEventAge / time.Second)),
		},
	}
	if s.cfg.DeadLetterArn != "" {
		d.target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(s.cfg.DeadLetterArn)}
	}
	return d, nil
}

// input is the request that puts d, as an update. A create carries the
// same fields (the SDK's two inputs are the same struct, field for field,
// so one converts to the other): one definition, whichever call makes it.
func (s *Scheduler) input(d definition) *scheduler.UpdateScheduleInput {
	return &scheduler.UpdateScheduleInput{
		Name:                       aws.String(d.name),
		GroupName:                  s.groupName(),
		ScheduleExpression:         aws.String(d.expression),
		ScheduleExpressionTimezone: d.timezone,
		State:                      d.state,
		FlexibleTimeWindow:         &types.FlexibleTimeWindow{Mode: types.FlexibleTimeWindowModeOff},
		StartDate:                  d.startDate,
		Description:                d.description,
		ActionAfterCompletion:      d.actionAfterCompletion,
		Target:                     d.target,
		ClientToken:                aws.String(clientToken()),
	}
}

func (s *Scheduler) update(ctx context.Context, d definition) error {
	_, err := s.client.UpdateSchedule(ctx, s.input(d))
	return err
}

func (s *Scheduler) create(ctx context.Context, d definition) error {
	in := scheduler.CreateScheduleInput(*s.input(d))
	_, err := s.client.CreateSchedule(ctx, &in)
	return err
}

// ConfigFrom is the adapter's Config from Herald's settings
// (HERALD_SCHEDULER_*), as the functions that schedule campaigns read them.
func ConfigFrom(c config.SchedulerConfig) Config {
	return Config{GroupName: c.Group, TargetArn: c.TargetARN, RoleArn: c.RoleARN, DeadLetterArn: c.DeadLetterARN,
		MaxRetryAttempts: c.RetryAttempts, MaxEventAge: c.MaxEventAge}
}
