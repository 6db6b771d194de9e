package ebscheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedulertest"
)

// endpointEnv names the EventBridge Scheduler emulator the integration
// tests run against; infra/sqs-emulator.sh starts moto, whose server is
// EventBridge Scheduler too.
const endpointEnv = "HERALD_TEST_SCHEDULER_ENDPOINT"

// emulator returns a client of the emulator, or skips the test.
func emulator(t *testing.T) *scheduler.Client {
	t.Helper()
	endpoint := os.Getenv(endpointEnv)
	if endpoint == "" {
		t.Skipf("%s is unset: start an emulator with infra/sqs-emulator.sh start and set %s=http://127.0.0.1:5000", endpointEnv, endpointEnv)
	}
	return scheduler.New(scheduler.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// createGroup makes a schedule group with a random name, and deletes it
// (with its schedules) when the test ends.
func createGroup(t *testing.T, client *scheduler.Client) string {
	t.Helper()
	name := fmt.Sprintf("herald-test-%016x", rand.Uint64())
	if _, err := client.CreateScheduleGroup(t.Context(), &scheduler.CreateScheduleGroupInput{Name: aws.String(name)}); err != nil {
		t.Fatalf("create schedule group %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteScheduleGroup(context.Background(), &scheduler.DeleteScheduleGroupInput{Name: aws.String(name)}); err != nil {
			t.Errorf("delete schedule group %s: %v", name, err)
		}
	})
	return name
}

func TestContract(t *testing.T) {
	client := emulator(t)
	schedulertest.Run(t, func(t *testing.T) notify.Scheduler {
		cfg := testConfig()
		cfg.GroupName = createGroup(t, client)
		return New(client, cfg)
	})
}

// TestEmulatorKeepsDefinition reads back with the SDK what PutSchedule
// stored, as the service would invoke it: the emulator takes these ARNs, the
// target input with its placeholders, the retry policy and the queue.
func TestEmulatorKeepsDefinition(t *testing.T) {
	client := emulator(t)
	cfg := testConfig()
	cfg.GroupName = createGroup(t, client)
	s := New(client, cfg)
	start := time.Now().UTC().Truncate(time.Second)
	firstRun := start.Add(24 * time.Hour) // a rate()'s StartDate is its first run
	tests := []struct {
		spec                  notify.ScheduleSpec
		wantTimezone          string
		wantStart             *time.Time
		wantAfterCompletion   types.ActionAfterCompletion
		wantState             types.ScheduleState
		wantDescriptionAnchor bool
	}{
		{
			spec:                notify.ScheduleSpec{Expression: "at(2030-01-01T09:00:00)", Timezone: "Europe/Madrid", Enabled: true},
			wantTimezone:        "Europe/Madrid",
			wantAfterCompletion: types.ActionAfterCompletionDelete,
			wantState:           types.ScheduleStateEnabled,
		},
		{
			spec:                  notify.ScheduleSpec{Expression: "rate(1 day)", Enabled: true, Start: start},
			wantTimezone:          "UTC", // the emulator's default; the adapter sent none
			wantStart:             &firstRun,
			wantAfterCompletion:   types.ActionAfterCompletionNone,
			wantState:             types.ScheduleStateEnabled,
			wantDescriptionAnchor: true,
		},
		{
			spec:                notify.ScheduleSpec{Expression: "cron(0 9 ? * MON *)", Enabled: false},
			wantTimezone:        "UTC",
			wantAfterCompletion: types.ActionAfterCompletionNone,
			wantState:           types.ScheduleStateDisabled,
		},
	}
	for i, tt := range tests {
		spec := tt.spec
		spec.Name = fmt.Sprintf("%s-%d", testName, i)
		spec.Target = testTarget
		if err := s.PutSchedule(t.Context(), spec); err != nil {
			t.Fatalf("PutSchedule(%s): %v", spec.Expression, err)
		}
		out, err := client.GetSchedule(t.Context(), &scheduler.GetScheduleInput{Name: aws.String(spec.Name), GroupName: aws.String(cfg.GroupName)})
		if err != nil {
			t.Fatalf("GetSchedule(%s): %v", spec.Name, err)
		}
		want := &types.Target{
			Arn:              aws.String(cfg.TargetArn),
			RoleArn:          aws.String(cfg.RoleArn),
			Input:            aws.String(wantInput),
			RetryPolicy:      &types.RetryPolicy{MaximumRetryAttempts: aws.Int32(3), MaximumEventAgeInSeconds: aws.Int32(3600)},
			DeadLetterConfig: &types.DeadLetterConfig{Arn: aws.String(cfg.DeadLetterArn)},
		}
		if diff := cmp.Diff(want, out.Target, cmpopts.IgnoreUnexported(types.Target{}, types.RetryPolicy{}, types.DeadLetterConfig{})); diff != "" {
			t.Errorf("%s: stored Target (-want +got):\n%s", spec.Expression, diff)
		}
		if got := aws.ToString(out.ScheduleExpressionTimezone); got != tt.wantTimezone {
			t.Errorf("%s: ScheduleExpressionTimezone = %q, want %q", spec.Expression, got, tt.wantTimezone)
		}
		if out.FlexibleTimeWindow == nil || out.FlexibleTimeWindow.Mode != types.FlexibleTimeWindowModeOff {
			t.Errorf("%s: FlexibleTimeWindow = %+v, want Mode OFF", spec.Expression, out.FlexibleTimeWindow)
		}
		if out.ActionAfterCompletion != tt.wantAfterCompletion {
			t.Errorf("%s: ActionAfterCompletion = %q, want %q", spec.Expression, out.ActionAfterCompletion, tt.wantAfterCompletion)
		}
		if out.State != tt.wantState {
			t.Errorf("%s: State = %q, want %q", spec.Expression, out.State, tt.wantState)
		}
		if (out.StartDate == nil) != (tt.wantStart == nil) || (out.StartDate != nil && !out.StartDate.Equal(*tt.wantStart)) {
			t.Errorf("%s: StartDate = %v, want %v", spec.Expression, out.StartDate, tt.wantStart)
		}
		if _, ok := parseAnchor(aws.ToString(out.Description)); ok != tt.wantDescriptionAnchor {
			t.Errorf("%s: Description %q, want an anchor: %v", spec.Expression, aws.ToString(out.Description), tt.wantDescriptionAnchor)
		}
	}
}
