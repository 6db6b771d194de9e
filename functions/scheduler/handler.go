package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/lambdaedge"
	"github.com/heraldhq/herald/shared/notify"
)

// campaigns is what the handler needs of *campaign.Service.
type campaigns interface {
	RunScheduled(ctx context.Context, inv campaign.Invocation) (notify.CampaignRun, error)
	Repair(ctx context.Context, body []byte) error
}

// newHandler is the scheduler function's handler. It takes two events:
//   - a schedule's invocation from EventBridge Scheduler (the target input
//     ebscheduler writes, its context attributes filled in): the run of
//     one scheduled time (campaign.Service.RunScheduled), answered with
//     the run's outcome;
//   - a batch of the repair queue (SQS): each message pushes a campaign's
//     schedule again, or finishes a run; the ones that fail again are
//     reported as batch item failures, so only they come back.
func newHandler(s campaigns, log *slog.Logger) lambdaedge.Sources {
	return lambdaedge.Sources{
		SQS: func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
			return lambdaedge.EachRecord(ctx, ev, log, "schedule repair", s.Repair)
		},
		Other: func(ctx context.Context, payload []byte) (any, error) {
			inv, err := ebscheduler.ParseInvocation(payload)
			if err != nil {
				log.Error("scheduler function: not an invocation", "err", err.Error())
				return nil, err
			}
			run, err := s.RunScheduled(ctx, campaign.Invocation{WorkspaceID: inv.WorkspaceID, CampaignID: inv.CampaignID, ScheduledAt: inv.ScheduledTime,
				Attempt: inv.Attempt, ExecutionID: inv.ExecutionID})
			if err != nil {
				return nil, err
			}
			return runResult{Status: run.Status, NotificationID: run.NotificationID, Recipients: run.Recipients}, nil
		},
		Log: log,
	}
}

// runResult is what an invocation answers (shown by sam local invoke and
// infra/invoke).
type runResult struct {
	Status         notify.RunStatus `json:"status"`
	NotificationID string           `json:"notificationId,omitempty"`
	Recipients     int              `json:"recipients"`
}
