package campaign

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/notify"
)

func TestHandleEvent(t *testing.T) {
	s, sched, q, _ := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Daily", Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	// What EventBridge Scheduler delivers: the target input with its
	// context attributes filled in.
	inv := fmt.Sprintf(`{"workspaceId": "ws1", "campaignId": %q, "scheduledTime": "2026-11-22T10:00:00Z", "executionId": "e-1", "attempt": "1"}`, c.ID)
	out, err := s.HandleEvent(ctx, json.RawMessage(inv))
	if err != nil {
		t.Fatalf("HandleEvent(invocation): %v", err)
	}
	if r, ok := out.(runResult); !ok || r.Status != notify.RunSucceeded || r.Recipients != 2 || len(q.bodies) != 1 {
		t.Errorf("HandleEvent(invocation) = %+v, %d messages; want a succeeded run", out, len(q.bodies))
	}
	if _, err := s.HandleEvent(ctx, json.RawMessage(`{"workspaceId": "ws1", "campaignId": "x", "scheduledTime": "<aws.scheduler.scheduled-time>"}`)); err == nil {
		t.Error("HandleEvent of an invocation with a placeholder = nil, want an error")
	}

	// A repair batch: the one that fails again is reported alone.
	sched.Fail(errors.New("throttled"))
	good, _ := json.Marshal(repairMessage{WorkspaceID: "ws1", CampaignID: c.ID})
	gone, _ := json.Marshal(repairMessage{WorkspaceID: "ws1", CampaignID: "cmp_gone"})
	if _, err := s.Store.UpdateCampaign(ctx, "ws1", c.ID, func(c *notify.Campaign) error { c.Sync.State = notify.SyncPending; return nil }); err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: string(good), EventSource: "aws:sqs"},
		{MessageId: "m2", Body: string(gone), EventSource: "aws:sqs"},
	}})
	out, err = s.HandleEvent(ctx, ev)
	resp, ok := out.(events.SQSEventResponse)
	if err != nil || !ok || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Errorf("HandleEvent(repairs) = %+v, %v; want m1 alone failed", out, err)
	}
	sched.Fail(nil)
	out, _ = s.HandleEvent(ctx, ev)
	if resp := out.(events.SQSEventResponse); len(resp.BatchItemFailures) != 0 {
		t.Errorf("HandleEvent(repairs) with the scheduler back = %+v, want no failures", resp)
	}
	if got, _ := s.Store.GetCampaign(ctx, "ws1", c.ID); got.Sync.State != notify.SyncSynced {
		t.Errorf("campaign after the repair: %+v, want synced", got.Sync)
	}
}
