package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

// memQueue keeps what is sent to it, or fails every send with fail.
type memQueue struct {
	mu     sync.Mutex
	bodies [][]byte
	fail   error
}

func (q *memQueue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.bodies = append(q.bodies, bodies...)
	return nil
}

func (q *memQueue) SendDelayed(ctx context.Context, bodies [][]byte, _ time.Duration) error {
	return q.Send(ctx, bodies)
}

func (q *memQueue) Receive(context.Context, int, time.Duration) ([]notify.QueueMessage, error) {
	return nil, nil
}

func (q *memQueue) Delete(context.Context, string) error                          { return nil }
func (q *memQueue) ChangeVisibility(context.Context, string, time.Duration) error { return nil }

// recipients counts the recipients of the dispatch messages sent.
func (q *memQueue) recipients(t *testing.T) int {
	t.Helper()
	var n int
	for _, b := range q.bodies {
		var m notify.DispatchMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		n += len(m.Recipients)
	}
	return n
}

// sampleStep is events/audience-step.json and the step its record carries.
func sampleStep(t *testing.T) ([]byte, audience.Job) {
	t.Helper()
	payload, err := os.ReadFile("../../events/audience-step.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	var j audience.Job
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &j); err != nil {
		t.Fatal(err)
	}
	return payload, j
}

// seedSend stores 60 users of the sample's workspace (half of them active
// Spanish speakers, the sample's filter) and the notification of the
// sample's send, counted as the API counts it; it returns how many users
// the sample's segment holds.
func seedSend(t *testing.T, j audience.Job) (*boltstore.Store, int) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for i := range 60 {
		u := notify.User{WorkspaceID: j.WorkspaceID, ID: fmt.Sprintf("u%03d", i), Status: "active", Language: "es", Email: fmt.Sprintf("u%03d@example.com", i), CreatedAt: at, UpdatedAt: at}
		if i%2 == 1 {
			u.Status = "lead"
		}
		if _, err := store.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	n := notify.Notification{WorkspaceID: j.WorkspaceID, ID: j.NotificationID, Channel: notify.ChannelEmail, Source: notify.SourceFilter,
		Status: notify.StatusQueued, CreatedAt: at, Content: notify.Template{Title: "t", Body: "b"}}
	c, err := audience.CountFilter(ctx, store, j.WorkspaceID, j.Filter, n)
	if err != nil {
		t.Fatal(err)
	}
	n.Counts = audience.InitialCounts(c)
	if err := store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	return store, c.BySegment[j.Segment]
}

// TestSampleStep runs events/audience-step.json through the handler: the
// step walks its segment to the end, enqueueing its users, and reconciles
// the segment's count (the sample expected 2) against what it found.
func TestSampleStep(t *testing.T) {
	payload, j := sampleStep(t)
	store, inSegment := seedSend(t, j)
	dispatchQ, steps := &memQueue{}, &memQueue{}
	w := &audience.Walker{Store: store, Dispatch: dispatchQ, Steps: steps}
	out, err := lambda.NewHandler(newHandler(w, slog.New(slog.DiscardHandler))).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"batchItemFailures":[]}` {
		t.Errorf("answer = %s, want no failures", out)
	}
	if got := dispatchQ.recipients(t); got != inSegment || inSegment == 0 {
		t.Errorf("enqueued %d recipients, want the segment's %d (not 0)", got, inSegment)
	}
	if len(steps.bodies) != 0 {
		t.Errorf("handed over %d steps, want none: the segment fits in one step", len(steps.bodies))
	}
	n, err := store.GetNotification(context.Background(), j.WorkspaceID, j.NotificationID)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := audience.CountFilter(context.Background(), store, j.WorkspaceID, j.Filter, n)
	d := int64(inSegment - j.Expected)
	want := notify.Counts{Total: int64(c.Matched) + d, Queued: int64(c.Matched+audience.Segments) + d - 1}
	if diff := cmp.Diff(want, n.Counts); diff != "" {
		t.Errorf("counts after the step (-want +got):\n%s", diff)
	}
}

// TestStepFailures: a step that fails (the dispatch queue is down) is
// reported by its message id, and logged; a record that is no step is
// dropped, since retrying cannot help.
func TestStepFailures(t *testing.T) {
	payload, j := sampleStep(t)
	store, _ := seedSend(t, j)
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	junk := ev.Records[0]
	junk.MessageId, junk.Body = "junk", `{"w":"ws_example"}`
	ev.Records = append(ev.Records, junk)
	var logs bytes.Buffer
	w := &audience.Walker{Store: store, Dispatch: &memQueue{fail: errors.New("queue down")}, Steps: &memQueue{}}
	resp, err := newHandler(w, slog.New(slog.NewJSONHandler(&logs, nil)))(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}, resp.BatchItemFailures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "audience step failed") || !strings.Contains(logs.String(), "queue down") {
		t.Errorf("logs = %s, want the failed step", logs.String())
	}
}
