package campaign

import (
	"context"

	"github.com/heraldhq/herald/shared/notify"
)

// RunScheduled runs the scheduled time a schedule's invocation names (on
// AWS, EventBridge Scheduler's, decoded by the scheduler function): Run,
// except that a run that fails on a transient error is handed to the
// repair queue, whose redeliveries finish it (once) and whose dead-letter
// queue raises an alarm when they run out; the run is then answered as
// running. Without that queue the error is returned: EventBridge
// Scheduler invokes asynchronously, so Lambda retries the invocation (the
// function's EventInvokeConfig) and then sends it to the scheduler's
// dead-letter queue, where its own failed deliveries go.
func (s *Service) RunScheduled(ctx context.Context, inv Invocation) (notify.CampaignRun, error) {
	run, err := s.Run(ctx, inv)
	if err == nil {
		return run, nil
	}
	log := s.log().With("workspaceId", inv.WorkspaceID, "campaignId", inv.CampaignID, "scheduledAt", inv.ScheduledAt,
		"attempt", inv.Attempt, "executionId", inv.ExecutionID, "err", err.Error())
	if s.queueRerun(ctx, inv) {
		log.Warn("campaign run failed; handed to the repair queue, which retries it")
		return notify.CampaignRun{WorkspaceID: inv.WorkspaceID, CampaignID: inv.CampaignID, ScheduledAt: inv.ScheduledAt, Status: notify.RunRunning}, nil
	}
	log.Error("campaign run failed; the scheduler's retry runs it again")
	return run, err
}

// RunRepairs takes repair messages from queue until ctx ends, as the local
// mode's stand-in for the scheduler function's SQS trigger: a repair that
// fails again comes back after the queue's visibility timeout.
func (s *Service) RunRepairs(ctx context.Context, queue notify.Queue) {
	notify.Consume(ctx, queue, 10, "schedule repair", s.log(), s.Repair)
}
