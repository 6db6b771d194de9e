package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedulertest"
	"github.com/heraldhq/herald/shared/send"
)

// fakeQueue keeps the dispatch messages sent.
type fakeQueue struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (q *fakeQueue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bodies = append(q.bodies, bodies...)
	return nil
}

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const pushToTwo = `{"channel": "push", "content": {"title": "Hola", "body": "Hola {{name}}"}, "audience": {"userIds": ["u1", "u2"]}}`

// newService is the scheduler function's service over an empty store with
// workspace ws1, a scheduler that can be made to fail, and the dispatch
// queue.
func newService(t *testing.T) (*campaign.Service, *schedulertest.Memory, *fakeQueue) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateWorkspace(context.Background(), notify.Workspace{ID: "ws1", Name: "ws1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	q := &fakeQueue{}
	clock := func() time.Time { return now }
	sched := schedulertest.NewMemory()
	ids := &notify.IDs{}
	sender := &send.Sender{Store: store, Dispatch: q, IDs: ids, Now: clock}
	return &campaign.Service{Store: store, Scheduler: sched, Sender: sender, IDs: ids, Now: clock}, sched, q
}

// TestHandleEvent: a schedule's invocation runs its scheduled time and
// answers the run; one with a placeholder left is an error; a repair batch
// reports the message that fails again alone.
func TestHandleEvent(t *testing.T) {
	s, sched, q := newService(t)
	ctx := t.Context()
	c, err := s.Create(ctx, "ws1", "ops", campaign.Input{Name: "Daily", Schedule: "rate(1 day)", Notification: json.RawMessage(pushToTwo)})
	if err != nil {
		t.Fatal(err)
	}
	h := lambda.NewHandler(newHandler(s, slog.New(slog.DiscardHandler)))
	// What EventBridge Scheduler delivers: the target input with its
	// context attributes filled in.
	inv := fmt.Sprintf(`{"workspaceId": "ws1", "campaignId": %q, "scheduledTime": "2026-11-22T10:00:00Z", "executionId": "e-1", "attempt": "1"}`, c.ID)
	out, err := h.Invoke(ctx, []byte(inv))
	if err != nil {
		t.Fatalf("Invoke(invocation): %v", err)
	}
	var r runResult
	if err := json.Unmarshal(out, &r); err != nil || r.Status != notify.RunSucceeded || r.Recipients != 2 || len(q.bodies) != 1 {
		t.Errorf("Invoke(invocation) = %s, %d messages; want a succeeded run", out, len(q.bodies))
	}
	if _, err := h.Invoke(ctx, []byte(`{"workspaceId": "ws1", "campaignId": "x", "scheduledTime": "<aws.scheduler.scheduled-time>"}`)); err == nil {
		t.Error("Invoke of an invocation with a placeholder = nil, want an error")
	}

	// A repair batch: the one that fails again is reported alone.
	sched.Fail(errors.New("throttled"))
	good, _ := json.Marshal(map[string]string{"workspaceId": "ws1", "campaignId": c.ID})
	gone, _ := json.Marshal(map[string]string{"workspaceId": "ws1", "campaignId": "cmp_gone"})
	if _, err := s.Store.UpdateCampaign(ctx, "ws1", c.ID, func(c *notify.Campaign) error { c.Sync.State = notify.SyncPending; return nil }); err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: string(good), EventSource: "aws:sqs"},
		{MessageId: "m2", Body: string(gone), EventSource: "aws:sqs"},
	}})
	out, err = h.Invoke(ctx, ev)
	var resp events.SQSEventResponse
	if err != nil || json.Unmarshal(out, &resp) != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Errorf("Invoke(repairs) = %s, %v; want m1 alone failed", out, err)
	}
	sched.Fail(nil)
	out, _ = h.Invoke(ctx, ev)
	if resp := (events.SQSEventResponse{}); json.Unmarshal(out, &resp) != nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("Invoke(repairs) with the scheduler back = %s, want no failures", out)
	}
	if got, _ := s.Store.GetCampaign(ctx, "ws1", c.ID); got.Sync.State != notify.SyncSynced {
		t.Errorf("campaign after the repair: %+v, want synced", got.Sync)
	}
}

// TestSchedulerRepairHandled feeds events/scheduler-repair.json to the
// handler through the Lambda runtime's JSON round trip: it is taken for a
// repair batch and its message is read (the campaign is not in the empty
// store, so there is nothing to repair), while a message without a
// campaign comes back as a batch item failure.
func TestSchedulerRepairHandled(t *testing.T) {
	data, err := os.ReadFile("../../events/scheduler-repair.json")
	if err != nil {
		t.Fatal(err)
	}
	var bad events.SQSEvent
	if err := json.Unmarshal(data, &bad); err != nil {
		t.Fatal(err)
	}
	bad.Records[0].Body = `{"workspaceId":"ws_example"}`
	badData, err := json.Marshal(bad)
	if err != nil {
		t.Fatal(err)
	}

	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := &campaign.Service{Store: store, Log: log}
	h := lambda.NewHandler(newHandler(svc, log))

	tests := []struct {
		name    string
		payload []byte
		want    []events.SQSBatchItemFailure
	}{
		{"sample", data, []events.SQSBatchItemFailure{}},
		{"no campaignId", badData, []events.SQSBatchItemFailure{{ItemIdentifier: bad.Records[0].MessageId}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := h.Invoke(t.Context(), tt.payload)
			if err != nil {
				t.Fatalf("Invoke: %v", err)
			}
			var got events.SQSEventResponse
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("response %s is not an SQSEventResponse: %v", out, err)
			}
			if diff := cmp.Diff(tt.want, got.BatchItemFailures); diff != "" {
				t.Errorf("batchItemFailures (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSchedulerRunSample runs events/scheduler-run.json: its campaign is
// not in the store, so the run deletes the left-over schedule and answers
// no recipients.
func TestSchedulerRunSample(t *testing.T) {
	data, err := os.ReadFile("../../events/scheduler-run.json")
	if err != nil {
		t.Fatal(err)
	}
	s, sched, q := newService(t)
	out, err := lambda.NewHandler(newHandler(s, slog.New(slog.DiscardHandler))).Invoke(t.Context(), data)
	if err != nil {
		t.Fatalf("Invoke(scheduler-run.json): %v", err)
	}
	if string(out) != `{"status":"","recipients":0}` || len(q.bodies) != 0 {
		t.Errorf("Invoke(scheduler-run.json) = %s, %d messages; want no run", out, len(q.bodies))
	}
	if calls := sched.Calls(); len(calls) != 1 {
		t.Errorf("scheduler calls %q, want the schedule's delete", calls)
	}
}
