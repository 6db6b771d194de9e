package ebscheduler

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"
)

// testdata/invocation.json is the event EventBridge Scheduler sends the
// scheduler function, its context attributes replaced as in AWS's examples
// (execution id d32c5kddcf5bb8c3, a retried second attempt).
var wantInvocation = Invocation{
	WorkspaceID:   "ws_1",
	CampaignID:    "01JQ7Z5V3K8M2N4P6R8T0W2Y4A",
	ScheduledTime: time.Date(2026, 3, 22, 18, 59, 43, 0, time.UTC),
	ExecutionID:   "d32c5kddcf5bb8c3",
	Attempt:       2,
}

func TestParseInvocation(t *testing.T) {
	data, err := os.ReadFile("testdata/invocation.json")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseInvocation(data)
	if err != nil {
		t.Fatalf("ParseInvocation(testdata/invocation.json): %v", err)
	}
	if diff := cmp.Diff(wantInvocation, got); diff != "" {
		t.Errorf("ParseInvocation(testdata/invocation.json) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(testTarget, got.Target()); diff != "" {
		t.Errorf("Target() (-want +got):\n%s", diff)
	}
}

// TestInvocationAsLambdaEvent decodes the event the way the Lambda runtime
// hands it to a handler that takes an Invocation.
func TestInvocationAsLambdaEvent(t *testing.T) {
	data, err := os.ReadFile("testdata/invocation.json")
	if err != nil {
		t.Fatal(err)
	}
	var got Invocation
	h := lambda.NewHandler(func(_ context.Context, inv Invocation) error {
		got = inv
		return nil
	})
	if _, err := h.Invoke(t.Context(), data); err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if diff := cmp.Diff(wantInvocation, got); diff != "" {
		t.Errorf("handler's Invocation (-want +got):\n%s", diff)
	}
}

// TestTargetInputBecomesInvocation replaces the context attributes of what
// PutSchedule sends as EventBridge Scheduler does, and reads the result
// with ParseInvocation: the producer and the consumer agree.
func TestTargetInputBecomesInvocation(t *testing.T) {
	input, err := targetInput(testTarget)
	if err != nil {
		t.Fatal(err)
	}
	event := strings.NewReplacer(
		"<aws.scheduler.scheduled-time>", "2026-03-22T18:59:43Z",
		"<aws.scheduler.execution-id>", "d32c5kddcf5bb8c3",
		"<aws.scheduler.attempt-number>", "2",
	).Replace(input)
	got, err := ParseInvocation([]byte(event))
	if err != nil {
		t.Fatalf("ParseInvocation(%s): %v", event, err)
	}
	if diff := cmp.Diff(wantInvocation, got); diff != "" {
		t.Errorf("ParseInvocation of the replaced target input (-want +got):\n%s", diff)
	}
}

func TestParseInvocationErrors(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		wantErr string
	}{
		{"not JSON", `scheduled`, "parse invocation"},
		{"an array", `[]`, "parse invocation"},
		{"no workspace", `{"campaignId":"c","scheduledTime":"2026-03-22T18:59:43Z"}`, "required"},
		{"no campaign", `{"workspaceId":"w","scheduledTime":"2026-03-22T18:59:43Z"}`, "required"},
		{"no scheduled time", `{"workspaceId":"w","campaignId":"c"}`, "required"},
		{"placeholder not replaced", wantInput, "placeholder <aws.scheduler.scheduled-time>"},
		{"time not RFC 3339", `{"workspaceId":"w","campaignId":"c","scheduledTime":"22/03/2026 18:59"}`, "scheduledTime"},
		{"attempt not a number", `{"workspaceId":"w","campaignId":"c","scheduledTime":"2026-03-22T18:59:43Z","attempt":"two"}`, "attempt"},
		{"attempt zero", `{"workspaceId":"w","campaignId":"c","scheduledTime":"2026-03-22T18:59:43Z","attempt":"0"}`, "attempt"},
		{"attempt as a JSON number", `{"workspaceId":"w","campaignId":"c","scheduledTime":"2026-03-22T18:59:43Z","attempt":1}`, "parse invocation"},
	}
	for _, tt := range tests {
		got, err := ParseInvocation([]byte(tt.event))
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: ParseInvocation(%s) = %+v, %v; want an error with %q", tt.name, tt.event, got, err, tt.wantErr)
		}
	}
}

// TestParseHandMadeInvocation: an event written by hand (make invoke) may
// leave out the execution id and the attempt.
func TestParseHandMadeInvocation(t *testing.T) {
	got, err := ParseInvocation([]byte(`{"workspaceId":"ws_1","campaignId":"c1","scheduledTime":"2026-03-22T19:59:43+01:00"}`))
	if err != nil {
		t.Fatalf("ParseInvocation: %v", err)
	}
	want := Invocation{WorkspaceID: "ws_1", CampaignID: "c1", ScheduledTime: time.Date(2026, 3, 22, 18, 59, 43, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseInvocation (-want +got):\n%s", diff)
	}
}
