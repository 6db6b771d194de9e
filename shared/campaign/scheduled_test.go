package campaign

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// TestRunScheduled: a scheduled time runs; a run that fails on a
// transient error with no repair queue returns its error, for the
// scheduler to retry (TestRunHandedToRepairQueue has the queue).
func TestRunScheduled(t *testing.T) {
	s, _, q, _ := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", Input{Name: "Daily", Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	run, err := s.RunScheduled(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at, Attempt: 1, ExecutionID: "e-1"})
	if err != nil || run.Status != notify.RunSucceeded || run.Recipients != 2 || len(q.bodies) != 1 {
		t.Errorf("RunScheduled = %+v, %v, %d messages; want a succeeded run of 2", run, err, len(q.bodies))
	}

	// The dispatch queue is down: the next day's run fails.
	q.fail = errors.New("queue down")
	next := at.Add(24 * time.Hour)
	if _, err := s.RunScheduled(ctx, Invocation{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: next}); err == nil {
		t.Error("RunScheduled with the queue down and no repair queue = nil error, want the run's error")
	}
}
