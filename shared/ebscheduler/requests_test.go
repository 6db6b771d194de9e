package ebscheduler

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
	"github.com/heraldhq/herald/shared/schedulertest"
)

// The clock of these tests, and the campaign they schedule.
var (
	testNow    = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	testTarget = notify.ScheduleTarget{WorkspaceID: "ws_1", CampaignID: "01JQ7Z5V3K8M2N4P6R8T0W2Y4A"}
)

const testName = "c-01JQ7Z5V3K8M2N4P6R8T0W2Y4A"

// wantInput is the target input of testTarget, with EventBridge
// Scheduler's context attributes as it must see them: literal < and >, not
// \u003c and \u003e.
const wantInput = `{"workspaceId":"ws_1","campaignId":"01JQ7Z5V3K8M2N4P6R8T0W2Y4A",` +
	`"scheduledTime":"<aws.scheduler.scheduled-time>","executionId":"<aws.scheduler.execution-id>",` +
	`"attempt":"<aws.scheduler.attempt-number>"}`

// tokenRE is the API's pattern and length of a ClientToken.
var tokenRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// wantTarget is the Target of testConfig, without its Input.
const wantTarget = `"Target":{
	"Arn":"arn:aws:lambda:us-east-1:000000000000:function:herald-scheduler",
	"RoleArn":"arn:aws:iam::000000000000:role/herald-scheduler-invoke",
	"RetryPolicy":{"MaximumRetryAttempts":3,"MaximumEventAgeInSeconds":3600},
	"DeadLetterConfig":{"Arn":"arn:aws:sqs:us-east-1:000000000000:herald-scheduler-dlq"}}`

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// definitionOf checks a Create or Update body's ClientToken and target
// input, and returns the rest of it to compare whole.
func definitionOf(t *testing.T, r request) map[string]any {
	t.Helper()
	body := decodeJSON(t, mustJSON(t, r.Body)) // a copy
	if token, _ := body["ClientToken"].(string); !tokenRE.MatchString(token) {
		t.Errorf("%s ClientToken %q, want 1 to 64 of [a-zA-Z0-9_-]", r.Op, token)
	}
	delete(body, "ClientToken")
	target, _ := body["Target"].(map[string]any)
	if input, _ := target["Input"].(string); input != wantInput {
		t.Errorf("%s Target.Input = %s\nwant %s", r.Op, input, wantInput)
	}
	delete(target, "Input")
	return body
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPutRequest checks the whole definition PutSchedule sends of each kind
// of schedule.
func TestPutRequest(t *testing.T) {
	longAgo := testNow.Add(-(10*24 + 3) * time.Hour)
	tests := []struct {
		name string
		spec notify.ScheduleSpec
		cfg  func(*Config)
		want string // the body, without ClientToken and Target.Input
	}{
		{
			name: "cron",
			spec: notify.ScheduleSpec{Expression: "cron(30 9 ? * MON-FRI *)", Timezone: "Europe/Madrid", Enabled: true, Start: longAgo},
			want: `{"GroupName":"herald-test","ScheduleExpression":"cron(30 9 ? * MON-FRI *)",
				"ScheduleExpressionTimezone":"Europe/Madrid","State":"ENABLED",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"NONE",` + wantTarget + `}`,
		},
		{
			name: "cron without timezone runs in UTC",
			spec: notify.ScheduleSpec{Expression: "cron(0 9 * * ? *)", Enabled: true},
			want: `{"GroupName":"herald-test","ScheduleExpression":"cron(0 9 * * ? *)",
				"ScheduleExpressionTimezone":"UTC","State":"ENABLED",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"NONE",` + wantTarget + `}`,
		},
		{
			name: "at deletes itself after it runs",
			spec: notify.ScheduleSpec{Expression: "at(2026-04-01T09:00:00)", Timezone: "America/New_York", Enabled: true, Start: testNow},
			want: `{"GroupName":"herald-test","ScheduleExpression":"at(2026-04-01T09:00:00)",
				"ScheduleExpressionTimezone":"America/New_York","State":"ENABLED",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"DELETE",` + wantTarget + `}`,
		},
		{
			name: "disabled at",
			spec: notify.ScheduleSpec{Expression: "at(2026-04-01T09:00:00)", Enabled: false},
			want: `{"GroupName":"herald-test","ScheduleExpression":"at(2026-04-01T09:00:00)",
				"ScheduleExpressionTimezone":"UTC","State":"DISABLED",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"DELETE",` + wantTarget + `}`,
		},
		{
			name: "rate starts at its anchor, in no timezone",
			spec: notify.ScheduleSpec{Expression: "rate(1 day)", Timezone: "Europe/Madrid", Enabled: true, Start: testNow.Add(-time.Minute)},
			want: fmt.Sprintf(`{"GroupName":"herald-test","ScheduleExpression":"rate(1 day)","State":"ENABLED",
				"StartDate":%d,"Description":"herald: rate() anchored at 2026-03-10T11:59:00Z",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"NONE",`+wantTarget+`}`,
				testNow.Add(-time.Minute+24*time.Hour).Unix()),
		},
		{
			name: "rate anchored long ago starts at the next run of its grid",
			spec: notify.ScheduleSpec{Expression: "rate(1 day)", Enabled: false, Start: longAgo},
			want: fmt.Sprintf(`{"GroupName":"herald-test","ScheduleExpression":"rate(1 day)","State":"DISABLED",
				"StartDate":%d,"Description":"herald: rate() anchored at 2026-02-28T09:00:00Z",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"NONE",`+wantTarget+`}`,
				testNow.Add(21*time.Hour).Unix()),
		},
		{
			name: "rate without anchor",
			spec: notify.ScheduleSpec{Expression: "rate(5 minutes)", Enabled: true},
			want: `{"GroupName":"herald-test","ScheduleExpression":"rate(5 minutes)","State":"ENABLED",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"NONE",` + wantTarget + `}`,
		},
		{
			name: "no dead-letter queue, default group",
			spec: notify.ScheduleSpec{Expression: "cron(0 9 * * ? *)", Timezone: "UTC", Enabled: true},
			cfg: func(c *Config) {
				c.DeadLetterArn, c.GroupName, c.MaxRetryAttempts, c.MaxEventAge = "", "", 0, 24*time.Hour
			},
			want: `{"ScheduleExpression":"cron(0 9 * * ? *)","ScheduleExpressionTimezone":"UTC","State":"ENABLED",
				"FlexibleTimeWindow":{"Mode":"OFF"},"ActionAfterCompletion":"NONE","Target":{
				"Arn":"arn:aws:lambda:us-east-1:000000000000:function:herald-scheduler",
				"RoleArn":"arn:aws:iam::000000000000:role/herald-scheduler-invoke",
				"RetryPolicy":{"MaximumRetryAttempts":0,"MaximumEventAgeInSeconds":86400}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			f, s := newFake(t, cfg)
			s.now = func() time.Time { return testNow }
			f.seed(testName, nil)
			spec := tt.spec
			spec.Name, spec.Target = testName, testTarget
			if err := s.PutSchedule(t.Context(), spec); err != nil {
				t.Fatalf("PutSchedule: %v", err)
			}
			reqs := f.received()
			if diff := cmp.Diff([]string{"Update"}, ops(reqs)); diff != "" {
				t.Fatalf("requests (-want +got):\n%s", diff)
			}
			if reqs[0].Name != testName {
				t.Errorf("Update of /schedules/%s, want %s", reqs[0].Name, testName)
			}
			if diff := cmp.Diff(decodeJSON(t, tt.want), definitionOf(t, reqs[0])); diff != "" {
				t.Errorf("UpdateSchedule body (-want +got):\n%s", diff)
			}
		})
	}
}

func cronSpec() notify.ScheduleSpec {
	return notify.ScheduleSpec{Name: testName, Expression: "cron(0 9 * * ? *)", Timezone: "Europe/Madrid", Enabled: true, Target: testTarget}
}

// TestPutCreatesWhenMissing: UpdateSchedule answers 404, and
// CreateSchedule sends the same definition.
func TestPutCreatesWhenMissing(t *testing.T) {
	f, s := newFake(t, testConfig())
	if err := s.PutSchedule(t.Context(), cronSpec()); err != nil {
		t.Fatalf("PutSchedule: %v", err)
	}
	reqs := f.received()
	if diff := cmp.Diff([]string{"Update", "Create"}, ops(reqs)); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(definitionOf(t, reqs[0]), definitionOf(t, reqs[1])); diff != "" {
		t.Errorf("CreateSchedule body differs from UpdateSchedule's (-update +create):\n%s", diff)
	}
	if reqs[0].Body["ClientToken"] == reqs[1].Body["ClientToken"] {
		t.Errorf("Update and Create share ClientToken %v, want one each", reqs[0].Body["ClientToken"])
	}
	if _, ok := f.stored(testName); !ok {
		t.Errorf("schedule %s not created", testName)
	}
}

// TestPutConflictUpdatesAgain: a racing put creates the schedule between
// our UpdateSchedule (404) and CreateSchedule (409).
func TestPutConflictUpdatesAgain(t *testing.T) {
	f, s := newFake(t, testConfig())
	f.seed(testName, nil)
	f.failNext("Update", fakeError{404, "ResourceNotFoundException"})
	if err := s.PutSchedule(t.Context(), cronSpec()); err != nil {
		t.Fatalf("PutSchedule: %v", err)
	}
	reqs := f.received()
	if diff := cmp.Diff([]string{"Update", "Create", "Update"}, ops(reqs)); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	stored, _ := f.stored(testName)
	if got := stored["ScheduleExpression"]; got != "cron(0 9 * * ? *)" {
		t.Errorf("stored ScheduleExpression = %v, want the put's", got)
	}
}

func TestPutErrors(t *testing.T) {
	tests := []struct {
		name    string
		errs    map[string][]fakeError
		seed    bool
		wantOps []string
		wantErr string
	}{
		{
			name:    "update refused",
			errs:    map[string][]fakeError{"Update": {{400, "ValidationException"}}},
			seed:    true,
			wantOps: []string{"Update"},
			wantErr: "put schedule " + testName + ": update: ",
		},
		{
			name:    "update denied",
			errs:    map[string][]fakeError{"Update": {{403, "AccessDeniedException"}}},
			seed:    true,
			wantOps: []string{"Update"},
			wantErr: "AccessDeniedException",
		},
		{
			name:    "create refused",
			errs:    map[string][]fakeError{"Create": {{402, "ServiceQuotaExceededException"}}},
			wantOps: []string{"Update", "Create"},
			wantErr: "put schedule " + testName + ": create: ",
		},
		{
			name: "deleted between the racing create and our update",
			errs: map[string][]fakeError{
				"Create": {{409, "ConflictException"}},
				"Update": {{404, "ResourceNotFoundException"}, {404, "ResourceNotFoundException"}},
			},
			wantOps: []string{"Update", "Create", "Update"},
			wantErr: "update after a racing create",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newFake(t, testConfig())
			if tt.seed {
				f.seed(testName, nil)
			}
			for op, errs := range tt.errs {
				f.failNext(op, errs...)
			}
			err := s.PutSchedule(t.Context(), cronSpec())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("PutSchedule = %v, want an error with %q", err, tt.wantErr)
			}
			if code := notify.ErrorCode(err); code != notify.CodeInternal {
				t.Errorf("PutSchedule error code %q, want %q", code, notify.CodeInternal)
			}
			if diff := cmp.Diff(tt.wantOps, ops(f.received())); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClientTokenStableAcrossRetries: the SDK's retries of one request
// carry its token; each new request has a token of its own.
func TestClientTokenStableAcrossRetries(t *testing.T) {
	f, s := newFake(t, testConfig())
	f.seed(testName, nil)
	f.failNext("Update", fakeError{500, "InternalServerException"}, fakeError{429, "ThrottlingException"})
	if err := s.PutSchedule(t.Context(), cronSpec()); err != nil {
		t.Fatalf("PutSchedule after two retryable errors: %v", err)
	}
	f.failNext("Delete", fakeError{503, "ServiceUnavailableException"})
	if err := s.DeleteSchedule(t.Context(), testName); err != nil {
		t.Fatalf("DeleteSchedule after a retryable error: %v", err)
	}
	reqs := f.received()
	if diff := cmp.Diff([]string{"Update", "Update", "Update", "Delete", "Delete"}, ops(reqs)); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	tokens := []string{
		reqs[0].Body["ClientToken"].(string), reqs[1].Body["ClientToken"].(string), reqs[2].Body["ClientToken"].(string),
		reqs[3].Query.Get("clientToken"), reqs[4].Query.Get("clientToken"),
	}
	for _, tok := range tokens {
		if !tokenRE.MatchString(tok) {
			t.Errorf("ClientToken %q, want 1 to 64 of [a-zA-Z0-9_-]", tok)
		}
	}
	if tokens[0] != tokens[1] || tokens[1] != tokens[2] {
		t.Errorf("ClientTokens of the retried UpdateSchedule = %q, want one token", tokens[:3])
	}
	if tokens[3] != tokens[4] {
		t.Errorf("ClientTokens of the retried DeleteSchedule = %q, want one token", tokens[3:])
	}
	if tokens[0] == tokens[3] {
		t.Errorf("UpdateSchedule and DeleteSchedule share ClientToken %q", tokens[0])
	}
}

// TestClientTokenNotReused: pause, resume and pause again sends the first
// definition a second time; a token derived from it would let the service
// answer the third call from the first without applying it.
func TestClientTokenNotReused(t *testing.T) {
	f, s := newFake(t, testConfig())
	f.seed(testName, nil)
	spec := cronSpec()
	for _, enabled := range []bool{false, true, false} {
		spec.Enabled = enabled
		if err := s.PutSchedule(t.Context(), spec); err != nil {
			t.Fatalf("PutSchedule(Enabled %v): %v", enabled, err)
		}
	}
	seen := map[any]bool{}
	for _, r := range f.received() {
		tok := r.Body["ClientToken"]
		if seen[tok] {
			t.Errorf("ClientToken %v sent twice", tok)
		}
		seen[tok] = true
	}
}

func TestGet(t *testing.T) {
	tests := []struct {
		name   string
		stored string // the definition as CreateSchedule sent it
		want   notify.ScheduleSpec
	}{
		{
			name: "cron",
			stored: `{"ScheduleExpression":"cron(0 9 * * ? *)","ScheduleExpressionTimezone":"Europe/Madrid",
				"State":"ENABLED","FlexibleTimeWindow":{"Mode":"OFF"},"Target":{"Arn":"x","RoleArn":"y","Input":` + jsonString(wantInput) + `}}`,
			want: notify.ScheduleSpec{Expression: "cron(0 9 * * ? *)", Timezone: "Europe/Madrid", Enabled: true},
		},
		{
			name: "disabled at in the service's default zone",
			stored: `{"ScheduleExpression":"at(2026-04-01T09:00:00)","State":"DISABLED","ActionAfterCompletion":"DELETE",
				"Target":{"Arn":"x","RoleArn":"y","Input":` + jsonString(wantInput) + `}}`,
			want: notify.ScheduleSpec{Expression: "at(2026-04-01T09:00:00)", Timezone: "UTC"},
		},
		{
			name: "rate gives the anchor it was put with, not its moved StartDate",
			stored: `{"ScheduleExpression":"rate(1 day)","State":"ENABLED","StartDate":1773219600,
				"Description":"herald: rate() anchored at 2026-02-28T09:00:00Z",
				"Target":{"Arn":"x","RoleArn":"y","Input":` + jsonString(wantInput) + `}}`,
			want: notify.ScheduleSpec{Expression: "rate(1 day)", Enabled: true, Start: time.Date(2026, 2, 28, 9, 0, 0, 0, time.UTC)},
		},
		{
			name: "rate made elsewhere gives its StartDate",
			stored: `{"ScheduleExpression":"rate(1 day)","State":"ENABLED","StartDate":1773219600.5,"Description":"made by hand",
				"Target":{"Arn":"x","RoleArn":"y","Input":` + jsonString(wantInput) + `}}`,
			want: notify.ScheduleSpec{Expression: "rate(1 day)", Enabled: true, Start: time.Unix(1773219600, 5e8)},
		},
		{
			name: "rate without start",
			stored: `{"ScheduleExpression":"rate(5 minutes)","State":"ENABLED",
				"Target":{"Arn":"x","RoleArn":"y","Input":` + jsonString(wantInput) + `}}`,
			want: notify.ScheduleSpec{Expression: "rate(5 minutes)", Enabled: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newFake(t, testConfig())
			f.seed(testName, decodeJSON(t, tt.stored))
			got, err := s.GetSchedule(t.Context(), testName)
			if err != nil {
				t.Fatalf("GetSchedule: %v", err)
			}
			want := tt.want
			want.Name, want.Target = testName, testTarget
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("GetSchedule (-want +got):\n%s", diff)
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestGetErrors(t *testing.T) {
	tests := []struct {
		name     string
		stored   string
		fail     []fakeError
		wantCode string
		wantErr  string
	}{
		{name: "missing", wantCode: notify.CodeNotFound, wantErr: `schedule "` + testName + `" not found`},
		{
			name:     "input not JSON",
			stored:   `{"ScheduleExpression":"rate(1 day)","State":"ENABLED","Target":{"Arn":"x","RoleArn":"y","Input":"hello"}}`,
			wantCode: notify.CodeInternal, wantErr: "decode target input",
		},
		{
			name:     "input without campaign",
			stored:   `{"ScheduleExpression":"rate(1 day)","State":"ENABLED","Target":{"Arn":"x","RoleArn":"y","Input":"{\"workspaceId\":\"ws_1\"}"}}`,
			wantCode: notify.CodeInternal, wantErr: "campaignId are required",
		},
		{
			name:     "no input",
			stored:   `{"ScheduleExpression":"rate(1 day)","State":"ENABLED","Target":{"Arn":"x","RoleArn":"y"}}`,
			wantCode: notify.CodeInternal, wantErr: "no target input",
		},
		{
			name:     "denied",
			stored:   `{"ScheduleExpression":"rate(1 day)"}`,
			fail:     []fakeError{{403, "AccessDeniedException"}},
			wantCode: notify.CodeInternal, wantErr: "get schedule " + testName + ": ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newFake(t, testConfig())
			if tt.stored != "" {
				f.seed(testName, decodeJSON(t, tt.stored))
			}
			f.failNext("Get", tt.fail...)
			got, err := s.GetSchedule(t.Context(), testName)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || notify.ErrorCode(err) != tt.wantCode {
				t.Errorf("GetSchedule = %+v, %v; want a %s error with %q", got, err, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	f, s := newFake(t, testConfig())
	f.seed(testName, nil)
	if err := s.DeleteSchedule(t.Context(), testName); err != nil {
		t.Fatalf("DeleteSchedule: %v", err)
	}
	if _, ok := f.stored(testName); ok {
		t.Errorf("schedule %s still stored after DeleteSchedule", testName)
	}
	if err := s.DeleteSchedule(t.Context(), testName); err != nil {
		t.Errorf("DeleteSchedule of a missing schedule = %v, want nil", err)
	}
	reqs := f.received()
	if diff := cmp.Diff([]string{"Delete", "Delete"}, ops(reqs)); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	for _, r := range reqs {
		if r.Name != testName || r.Query.Get("groupName") != "herald-test" || !tokenRE.MatchString(r.Query.Get("clientToken")) {
			t.Errorf("DELETE /schedules/%s?%s, want %s with groupName and a clientToken", r.Name, r.Query.Encode(), testName)
		}
	}

	f.seed(testName, nil)
	f.failNext("Delete", fakeError{400, "ValidationException"})
	err := s.DeleteSchedule(t.Context(), testName)
	if want := "delete schedule " + testName + ": "; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("DeleteSchedule on ValidationException = %v, want an error with %q", err, want)
	}
}

// TestInvalidRequests are refused before any request.
func TestInvalidRequests(t *testing.T) {
	valid := cronSpec()
	tests := []struct {
		name     string
		spec     notify.ScheduleSpec
		wantCode string
	}{
		{"empty name", notify.ScheduleSpec{Expression: valid.Expression}, notify.CodeValidation},
		{"65-character name", notify.ScheduleSpec{Name: strings.Repeat("c", 65), Expression: valid.Expression}, notify.CodeValidation},
		{"slash in name", notify.ScheduleSpec{Name: "c/01J", Expression: valid.Expression}, notify.CodeValidation},
		{"space in name", notify.ScheduleSpec{Name: "c 01J", Expression: valid.Expression}, notify.CodeValidation},
		{"accent in name", notify.ScheduleSpec{Name: "campaña", Expression: valid.Expression}, notify.CodeValidation},
		{"no expression", notify.ScheduleSpec{Name: testName}, notify.CodeValidation},
		{"not an expression", notify.ScheduleSpec{Name: testName, Expression: "every day"}, notify.CodeValidation},
		{"rate of zero", notify.ScheduleSpec{Name: testName, Expression: "rate(0 days)"}, notify.CodeValidation},
		{"rate in weeks", notify.ScheduleSpec{Name: testName, Expression: "rate(2 weeks)"}, notify.CodeValidation},
		{"rate without unit", notify.ScheduleSpec{Name: testName, Expression: "rate(5)"}, notify.CodeValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newFake(t, testConfig())
			spec := tt.spec
			spec.Target = testTarget
			if err := s.PutSchedule(t.Context(), spec); notify.ErrorCode(err) != tt.wantCode {
				t.Errorf("PutSchedule(%q, %q) = %v, want %s", spec.Name, spec.Expression, err, tt.wantCode)
			}
			if spec.Name != testName {
				if _, err := s.GetSchedule(t.Context(), spec.Name); notify.ErrorCode(err) != tt.wantCode {
					t.Errorf("GetSchedule(%q) = %v, want %s", spec.Name, err, tt.wantCode)
				}
				if err := s.DeleteSchedule(t.Context(), spec.Name); notify.ErrorCode(err) != tt.wantCode {
					t.Errorf("DeleteSchedule(%q) = %v, want %s", spec.Name, err, tt.wantCode)
				}
			}
			if reqs := f.received(); len(reqs) > 0 {
				t.Errorf("requests %v, want none", ops(reqs))
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     func(*Config)
		wantErr string
	}{
		{"no target", func(c *Config) { c.TargetArn = "" }, "TargetArn"},
		{"no role", func(c *Config) { c.RoleArn = "" }, "RoleArn"},
		{"negative retries", func(c *Config) { c.MaxRetryAttempts = -1 }, "MaxRetryAttempts"},
		{"too many retries", func(c *Config) { c.MaxRetryAttempts = 186 }, "MaxRetryAttempts"},
		{"no event age", func(c *Config) { c.MaxEventAge = 0 }, "MaxEventAge"},
		{"event age under a minute", func(c *Config) { c.MaxEventAge = 59 * time.Second }, "MaxEventAge"},
		{"event age over a day", func(c *Config) { c.MaxEventAge = 25 * time.Hour }, "MaxEventAge"},
		{"event age not whole seconds", func(c *Config) { c.MaxEventAge = 90*time.Second + time.Millisecond }, "MaxEventAge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.cfg(&cfg)
			f, s := newFake(t, cfg)
			err := s.PutSchedule(t.Context(), cronSpec())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("PutSchedule with %s = %v, want an error naming %s", tt.name, err, tt.wantErr)
			}
			if reqs := f.received(); len(reqs) > 0 {
				t.Errorf("requests %v, want none", ops(reqs))
			}
		})
	}
}

func TestRateStart(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name  string
		start time.Time
		rate  string
		want  time.Time
	}{
		{"none", time.Time{}, "rate(1 day)", time.Time{}},
		{"now: the first run is an interval later", testNow, "rate(1 day)", testNow.Add(day)},
		{"in the future", testNow.Add(3 * day), "rate(1 day)", testNow.Add(3 * day)},
		{"a minute ago (a new campaign)", testNow.Add(-time.Minute), "rate(1 day)", testNow.Add(-time.Minute + day)},
		{"days ago", testNow.Add(-10*day - 3*time.Hour), "rate(1 day)", testNow.Add(21 * time.Hour)},
		{"a whole number of intervals ago", testNow.Add(-7 * day), "rate(1 day)", testNow.Add(day)},
		{"weekly", testNow.Add(-30 * day), "rate(7 days)", testNow.Add(5 * day)},
		{"every five minutes", testNow.Add(-time.Hour - 2*time.Minute), "rate(5 minutes)", testNow.Add(3 * time.Minute)},
	}
	for _, tt := range tests {
		rate, err := schedule.Parse(tt.rate, "")
		if err != nil {
			t.Fatalf("%s: Parse(%q): %v", tt.name, tt.rate, err)
		}
		if got := rateStart(rate, tt.start, testNow); !got.Equal(tt.want) {
			t.Errorf("%s: rateStart(%s, %v, %v) = %v, want %v", tt.name, tt.rate, tt.start, testNow, got, tt.want)
		}
	}
}

// TestRateInterval checks the interval of each rate unit, as the StartDate
// of a schedule anchored now, and that a malformed rate is refused before
// any request.
func TestRateInterval(t *testing.T) {
	tests := []struct {
		expr    string
		want    time.Duration
		wantErr bool
	}{
		{expr: "rate(1 minute)", want: time.Minute},
		{expr: "rate(15 minutes)", want: 15 * time.Minute},
		{expr: "rate(1 hour)", want: time.Hour},
		{expr: "rate(12 hours)", want: 12 * time.Hour},
		{expr: "rate(1 day)", want: 24 * time.Hour},
		{expr: "rate(30 days)", want: 30 * 24 * time.Hour},
		{expr: "rate(0 minutes)", wantErr: true},
		{expr: "rate(-1 days)", wantErr: true},
		{expr: "rate(1.5 hours)", wantErr: true},
		{expr: "rate(1 week)", wantErr: true},
		{expr: "rate(days)", wantErr: true},
		{expr: "rate()", wantErr: true},
	}
	s := New(nil, testConfig())
	s.now = func() time.Time { return testNow }
	for _, tt := range tests {
		d, err := s.definition(notify.ScheduleSpec{Name: testName, Expression: tt.expr, Enabled: true, Target: testTarget, Start: testNow})
		var got time.Duration
		if err == nil && d.startDate != nil {
			got = d.startDate.Sub(testNow)
		}
		if notify.IsCode(err, notify.CodeValidation) != tt.wantErr || got != tt.want {
			t.Errorf("definition(%q): StartDate %v after its start, error %v; want %v, validation error %v", tt.expr, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestContractFake runs the contract suite against the fake, so the
// mapping both ways is checked without an emulator too.
func TestContractFake(t *testing.T) {
	schedulertest.Run(t, func(t *testing.T) notify.Scheduler {
		_, s := newFake(t, testConfig())
		return s
	})
}
