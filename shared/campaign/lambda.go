package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/notify"
)

// HandleEvent is the scheduler function's handler. It takes two events:
//   - a schedule's invocation from EventBridge Scheduler (the target input
//     ebscheduler writes): the run of one scheduled time. A run that fails
//     on a transient error is handed to the repair queue, whose
//     redeliveries finish it (once) and whose dead-letter queue raises an
//     alarm when they run out. Without that queue the error is returned:
//     EventBridge Scheduler invokes asynchronously, so Lambda retries the
//     event (the function's EventInvokeConfig) and then sends it to the
//     scheduler's dead-letter queue, where its own failed deliveries go;
//   - a batch of the repair queue (SQS): each message pushes a campaign's
//     schedule again, or finishes a run; the ones that fail again are
//     reported as batch item failures, so only they come back.
func (s *Service) HandleEvent(ctx context.Context, raw json.RawMessage) (any, error) {
	if isSQS(raw) {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("scheduler function: an SQS event that does not parse: %w", err)
		}
		return s.handleRepairs(ctx, ev), nil
	}
	inv, err := ebscheduler.ParseInvocation(raw)
	if err != nil {
		s.log().Error("scheduler function: not an invocation", "err", err.Error())
		return nil, err
	}
	ci := Invocation{WorkspaceID: inv.WorkspaceID, CampaignID: inv.CampaignID, ScheduledAt: inv.ScheduledTime}
	run, err := s.Run(ctx, ci)
	if err != nil {
		log := s.log().With("workspaceId", inv.WorkspaceID, "campaignId", inv.CampaignID, "scheduledAt", inv.ScheduledTime,
			"attempt", inv.Attempt, "executionId", inv.ExecutionID, "err", err.Error())
		if s.queueRerun(ctx, ci) {
			log.Warn("campaign run failed; handed to the repair queue, which retries it")
			return runResult{Status: notify.RunRunning}, nil
		}
		log.Error("campaign run failed; Lambda retries the invocation")
		return nil, err
	}
	return runResult{Status: run.Status, NotificationID: run.NotificationID, Recipients: run.Recipients}, nil
}

// runResult is what an invocation answers (shown by sam local invoke).
type runResult struct {
	Status         notify.RunStatus `json:"status"`
	NotificationID string           `json:"notificationId,omitempty"`
	Recipients     int              `json:"recipients"`
}

// isSQS reports whether raw is an SQS batch: {"Records": [{"eventSource": "aws:sqs", …}]}.
func isSQS(raw json.RawMessage) bool {
	if !bytes.Contains(raw, []byte(`"Records"`)) {
		return false
	}
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	return json.Unmarshal(raw, &probe) == nil && len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs"
}

func (s *Service) handleRepairs(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, r := range ev.Records {
		if err := s.Repair(ctx, []byte(r.Body)); err != nil {
			s.log().Warn("schedule repair failed; it comes back", "messageId", r.MessageId, "err", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp
}

// RunRepairs takes repair messages from queue until ctx ends, as the local
// mode's stand-in for the scheduler function's SQS trigger: a repair that
// fails again comes back after the queue's visibility timeout.
func (s *Service) RunRepairs(ctx context.Context, queue notify.Queue) {
	notify.Consume(ctx, queue, 10, "schedule repair", s.log(), s.Repair)
}
