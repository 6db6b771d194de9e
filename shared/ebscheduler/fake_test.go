package ebscheduler

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
)

// fakeScheduler answers EventBridge Scheduler's REST-JSON API for the
// schedules of one group, as the SDK's serializers write it: POST
// /schedules/{Name} creates, PUT updates, GET gets (?groupName=), DELETE
// deletes (?groupName=&clientToken=). It keeps schedules in a map, records
// every request, checks what it receives, and fails as told.
type fakeScheduler struct {
	t     *testing.T
	group string

	mu        sync.Mutex
	schedules map[string]map[string]any // name → the body that created or updated it
	requests  []request
	// errs makes the next requests of an operation ("Create", "Update",
	// "Get", "Delete") fail, one entry each, before it touches anything.
	errs map[string][]fakeError
}

// request is one request the fake received.
type request struct {
	Op    string
	Name  string
	Query url.Values
	Body  map[string]any // Create and Update only
}

type fakeError struct {
	status int
	code   string
}

func newFake(t *testing.T, cfg Config) (*fakeScheduler, *Scheduler) {
	t.Helper()
	f := &fakeScheduler{t: t, group: cfg.GroupName, schedules: map[string]map[string]any{}, errs: map[string][]fakeError{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := scheduler.New(scheduler.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		// The SDK's own retryer, without its back-off, so that retried
		// requests reach the fake at once.
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
	return f, New(client, cfg)
}

// testConfig is a stack's configuration; any ARNs do for the fake and moto.
func testConfig() Config {
	return Config{
		GroupName:        "herald-test",
		TargetArn:        "arn:aws:lambda:us-east-1:000000000000:function:herald-scheduler",
		RoleArn:          "arn:aws:iam::000000000000:role/herald-scheduler-invoke",
		DeadLetterArn:    "arn:aws:sqs:us-east-1:000000000000:herald-scheduler-dlq",
		MaxRetryAttempts: 3,
		MaxEventAge:      time.Hour,
	}
}

func (f *fakeScheduler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/schedules/")
	if !ok || name == "" || strings.Contains(name, "/") {
		f.t.Errorf("request %s %s, want /schedules/{Name}", r.Method, r.URL)
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	if auth := r.Header.Get("Authorization"); !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		f.t.Errorf("%s %s: Authorization %q, want a SigV4 signature", r.Method, r.URL.Path, auth)
	}
	req := request{Name: name, Query: r.URL.Query()}
	switch r.Method {
	case http.MethodPost:
		req.Op = "Create"
	case http.MethodPut:
		req.Op = "Update"
	case http.MethodGet:
		req.Op = "Get"
	case http.MethodDelete:
		req.Op = "Delete"
	default:
		f.t.Errorf("request %s %s: unexpected method", r.Method, r.URL)
		http.Error(w, "bad method", http.StatusMethodNotAllowed)
		return
	}
	if req.Op == "Create" || req.Op == "Update" {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.t.Errorf("%s %s: Content-Type %q, want application/json", req.Op, name, ct)
		}
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &req.Body); err != nil {
			f.t.Errorf("%s %s: body %s: %v", req.Op, name, data, err)
		}
		f.checkDefinition(req)
	} else if got := req.Query.Get("groupName"); got != f.group {
		f.t.Errorf("%s %s: groupName %q, want %q", req.Op, name, got, f.group)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	w.Header().Set("Content-Type", "application/json")
	if errs := f.errs[req.Op]; len(errs) > 0 {
		f.errs[req.Op] = errs[1:]
		writeError(w, errs[0].status, errs[0].code)
		return
	}
	arn := "arn:aws:scheduler:us-east-1:000000000000:schedule/" + f.group + "/" + name
	stored, exists := f.schedules[name]
	switch {
	case req.Op == "Create" && exists:
		writeError(w, http.StatusConflict, "ConflictException")
	case req.Op != "Create" && !exists:
		writeError(w, http.StatusNotFound, "ResourceNotFoundException")
	case req.Op == "Create" || req.Op == "Update":
		f.schedules[name] = req.Body
		json.NewEncoder(w).Encode(map[string]string{"ScheduleArn": arn})
	case req.Op == "Get":
		out := maps.Clone(stored)
		delete(out, "ClientToken")
		out["Name"], out["Arn"] = name, arn
		out["CreationDate"], out["LastModificationDate"] = 1.7e9, 1.7e9
		if _, ok := out["ScheduleExpressionTimezone"]; !ok {
			out["ScheduleExpressionTimezone"] = "UTC" // as the service answers
		}
		json.NewEncoder(w).Encode(out)
	case req.Op == "Delete":
		delete(f.schedules, name)
		io.WriteString(w, "{}")
	}
}

// checkDefinition checks the members CreateSchedule and UpdateSchedule
// require, and the group.
func (f *fakeScheduler) checkDefinition(req request) {
	b := req.Body
	if got, _ := b["GroupName"].(string); got != f.group {
		f.t.Errorf("%s %s: GroupName %q, want %q", req.Op, req.Name, got, f.group)
	}
	if _, ok := b["ScheduleExpression"].(string); !ok {
		f.t.Errorf("%s %s: no ScheduleExpression in %v", req.Op, req.Name, b)
	}
	if _, ok := b["FlexibleTimeWindow"].(map[string]any); !ok {
		f.t.Errorf("%s %s: no FlexibleTimeWindow in %v", req.Op, req.Name, b)
	}
	target, _ := b["Target"].(map[string]any)
	if target["Arn"] == nil || target["RoleArn"] == nil {
		f.t.Errorf("%s %s: Target %v, want its Arn and RoleArn", req.Op, req.Name, b["Target"])
	}
}

func writeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"Message":"fake %s"}`, code)
}

// seed stores a schedule as if created earlier.
func (f *fakeScheduler) seed(name string, body map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if body == nil {
		body = map[string]any{"ScheduleExpression": "rate(1 day)", "State": "ENABLED"}
	}
	f.schedules[name] = body
}

// failNext makes the next requests of op fail, in order.
func (f *fakeScheduler) failNext(op string, errs ...fakeError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[op] = append(f.errs[op], errs...)
}

func (f *fakeScheduler) received() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

func (f *fakeScheduler) stored(name string) (map[string]any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.schedules[name]
	return b, ok
}

func ops(reqs []request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Op)
	}
	return out
}
