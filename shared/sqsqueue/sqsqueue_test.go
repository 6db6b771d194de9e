package sqsqueue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// fakeSQS answers the SQS JSON protocol for the operations the adapter uses,
// records what it receives, and fails send entries as told.
type fakeSQS struct {
	t *testing.T

	mu sync.Mutex
	// fail decides the fate of a sent entry: "" succeeds, otherwise the
	// error code; senderFault marks it the sender's fault. attempt counts
	// the sends of that body, from 1.
	fail func(body string, attempt int) (code string, senderFault bool)
	// requestErr makes every request of that operation fail.
	requestErr map[string]string
	attempts   map[string]int
	sends      [][]sendEntry
	receives   []receiveRequest
	visible    []string // bodies ReceiveMessage hands out
	calls      []call
}

type sendEntry struct {
	ID          string `json:"Id"`
	MessageBody string `json:"MessageBody"`
}

type receiveRequest struct {
	MaxNumberOfMessages         int      `json:"MaxNumberOfMessages"`
	WaitTimeSeconds             int      `json:"WaitTimeSeconds"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames"`
}

// call is any other request: its operation and parameters.
type call struct {
	Op                string
	ReceiptHandle     string
	VisibilityTimeout int
	Receipts          []string
}

func newFake(t *testing.T) (*fakeSQS, *Queue, *Meter) {
	t.Helper()
	f := &fakeSQS{t: t, attempts: map[string]int{}, requestErr: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	var meter Meter
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, meter.Register)
	q := New(client, srv.URL+"/000000000000/herald")
	q.baseBackoff, q.maxBackoff = time.Millisecond, 5*time.Millisecond
	return f, q, &meter
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if r.Method != http.MethodPost || !ok {
		f.t.Errorf("request %s %s with X-Amz-Target %q, want POST AmazonSQS.*", r.Method, r.URL, r.Header.Get("X-Amz-Target"))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if code := f.requestErr[op]; code != "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"fake %s"}`, code, code)
		return
	}
	var reply any
	switch op {
	case "SendMessageBatch":
		var in struct{ Entries []sendEntry }
		mustDecode(f.t, body, &in)
		f.sends = append(f.sends, in.Entries)
		type ok struct{ Id, MessageId, MD5OfMessageBody string }
		type failed struct {
			Id, Code, Message string
			SenderFault       bool
		}
		out := struct {
			Successful []ok
			Failed     []failed
		}{Successful: []ok{}, Failed: []failed{}}
		for _, e := range in.Entries {
			f.attempts[e.MessageBody]++
			code, senderFault := "", false
			if f.fail != nil {
				code, senderFault = f.fail(e.MessageBody, f.attempts[e.MessageBody])
			}
			if code != "" {
				out.Failed = append(out.Failed, failed{e.ID, code, "fake " + code, senderFault})
				continue
			}
			out.Successful = append(out.Successful, ok{e.ID, "m-" + e.MessageBody, md5Hex(e.MessageBody)})
		}
		reply = out
	case "ReceiveMessage":
		var in receiveRequest
		mustDecode(f.t, body, &in)
		f.receives = append(f.receives, in)
		type message struct {
			MessageId, ReceiptHandle, MD5OfBody, Body string
			Attributes                                map[string]string
		}
		out := struct{ Messages []message }{Messages: []message{}}
		n := min(in.MaxNumberOfMessages, len(f.visible))
		for _, b := range f.visible[:n] {
			out.Messages = append(out.Messages, message{"m-" + b, "r-" + b, md5Hex(b), b, map[string]string{"ApproximateReceiveCount": "3", "SentTimestamp": "1767225600123"}})
		}
		f.visible = f.visible[n:]
		reply = out
	case "DeleteMessage", "ChangeMessageVisibility":
		var c call
		mustDecode(f.t, body, &c)
		c.Op = op
		f.calls = append(f.calls, c)
		reply = struct{}{}
	case "DeleteMessageBatch":
		var in struct {
			Entries []struct{ Id, ReceiptHandle string }
		}
		mustDecode(f.t, body, &in)
		c := call{Op: op}
		type ok struct{ Id string }
		out := struct {
			Successful []ok
			Failed     []any
		}{Successful: []ok{}, Failed: []any{}}
		for _, e := range in.Entries {
			c.Receipts = append(c.Receipts, e.ReceiptHandle)
			out.Successful = append(out.Successful, ok{e.Id})
		}
		f.calls = append(f.calls, c)
		reply = out
	default:
		f.t.Errorf("unexpected operation %s", op)
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	json.NewEncoder(w).Encode(reply)
}

func mustDecode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Errorf("decode request %s: %v", body, err)
	}
}

// sentBodies returns the bodies of each request, in request order.
func (f *fakeSQS) sentBodies() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, entries := range f.sends {
		var bodies []string
		for _, e := range entries {
			bodies = append(bodies, e.MessageBody)
		}
		out = append(out, bodies)
	}
	return out
}

func numbered(prefix string, n int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf("%s%02d", prefix, i))
	}
	return bodies
}

func TestSendBatchesOfTen(t *testing.T) {
	f, q, meter := newFake(t)
	if err := q.Send(context.Background(), numbered("b", 95)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := len(f.sends); got != 10 {
		t.Errorf("Send of 95 bodies made %d requests, want 10", got)
	}
	counted := map[string]int{}
	for _, entries := range f.sends {
		if len(entries) > MaxBatchEntries {
			t.Errorf("request with %d entries, want at most %d", len(entries), MaxBatchEntries)
		}
		ids := map[string]bool{}
		for _, e := range entries {
			if ids[e.ID] {
				t.Errorf("entry id %q twice in one request", e.ID)
			}
			ids[e.ID] = true
			counted[e.MessageBody]++
		}
	}
	for _, b := range numbered("b", 95) {
		if counted[string(b)] != 1 {
			t.Errorf("body %s sent %d times, want 1", b, counted[string(b)])
		}
	}
	if diff := cmp.Diff(map[string]int64{"SendMessageBatch": 10}, meter.Counts()); diff != "" {
		t.Errorf("meter counts (-want +got):\n%s", diff)
	}
}

func TestSendSplitsByPayloadSize(t *testing.T) {
	tests := []struct {
		name      string
		sizes     []int
		wantSizes [][]int
	}{
		{"ten small", []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 10}, [][]int{{10, 10, 10, 10, 10, 10, 10, 10, 10, 10}}},
		{"three of 100 KiB", []int{100 << 10, 100 << 10, 100 << 10}, [][]int{{100 << 10, 100 << 10}, {100 << 10}}},
		{"exactly the limit", []int{128 << 10, 128 << 10, 1}, [][]int{{128 << 10, 128 << 10}, {1}}},
		{"one over the limit goes alone", []int{1, 300 << 10, 1}, [][]int{{1}, {300 << 10}, {1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, q, _ := newFake(t)
			q.concurrency = 1 // requests in order
			bodies := make([][]byte, len(tt.sizes))
			for i, n := range tt.sizes {
				bodies[i] = []byte(strconv.Itoa(i) + strings.Repeat("x", n-len(strconv.Itoa(i))))
			}
			if err := q.Send(context.Background(), bodies); err != nil {
				t.Fatalf("Send: %v", err)
			}
			var got [][]int
			for _, req := range f.sentBodies() {
				var sizes []int
				for _, b := range req {
					sizes = append(sizes, len(b))
				}
				got = append(got, sizes)
			}
			if diff := cmp.Diff(tt.wantSizes, got); diff != "" {
				t.Errorf("body sizes per request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendRetriesOnlyFailedEntries(t *testing.T) {
	f, q, meter := newFake(t)
	f.fail = func(body string, attempt int) (string, bool) {
		switch {
		case body == "b03" && attempt <= 2, body == "b07" && attempt == 1:
			return "InternalError", false
		}
		return "", false
	}
	if err := q.Send(context.Background(), numbered("b", 10)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := [][]string{
		{"b00", "b01", "b02", "b03", "b04", "b05", "b06", "b07", "b08", "b09"},
		{"b03", "b07"},
		{"b03"},
	}
	if diff := cmp.Diff(want, f.sentBodies()); diff != "" {
		t.Errorf("bodies per request (-want +got):\n%s", diff)
	}
	// A retry numbers its entries afresh.
	if diff := cmp.Diff([]sendEntry{{"0", "b03"}, {"1", "b07"}}, f.sends[1]); diff != "" {
		t.Errorf("retry entries (-want +got):\n%s", diff)
	}
	if got := meter.Counts()["SendMessageBatch"]; got != 3 {
		t.Errorf("meter counted %d SendMessageBatch, want 3", got)
	}
}

func TestSendGivesUp(t *testing.T) {
	tests := []struct {
		name         string
		fail         func(body string, attempt int) (string, bool)
		requestErr   string
		wantRequests int
		wantErr      []string
		wantFailed   []int // the bodies not enqueued
	}{
		{
			name: "entry failing on every attempt",
			fail: func(body string, _ int) (string, bool) {
				if body == "b04" {
					return "ServiceUnavailable", false
				}
				return "", false
			},
			wantRequests: 5, // maxAttempts
			wantErr:      []string{"1 of 10 messages not enqueued", "ServiceUnavailable", "after 5 attempts"},
			wantFailed:   []int{4},
		},
		{
			name: "sender's fault is not retried",
			fail: func(body string, _ int) (string, bool) {
				if body == "b01" || body == "b02" {
					return "InvalidMessageContents", true
				}
				return "", false
			},
			wantRequests: 1,
			wantErr:      []string{"2 of 10 messages not enqueued", "InvalidMessageContents"},
			wantFailed:   []int{1, 2},
		},
		{
			name:         "request error",
			requestErr:   "QueueDoesNotExist",
			wantRequests: 1,
			wantErr:      []string{"10 of 10 messages not enqueued", "send batch", "QueueDoesNotExist"},
			wantFailed:   []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, q, meter := newFake(t)
			f.fail = tt.fail
			if tt.requestErr != "" {
				f.requestErr["SendMessageBatch"] = tt.requestErr
			}
			err := q.Send(context.Background(), numbered("b", 10))
			if err == nil {
				t.Fatalf("Send = nil, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Send error %q does not mention %q", err, w)
				}
			}
			if got := meter.Counts()["SendMessageBatch"]; got != int64(tt.wantRequests) {
				t.Errorf("%d SendMessageBatch requests, want %d", got, tt.wantRequests)
			}
			// The caller learns which bodies did not go, to count only
			// what did.
			var se *notify.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send error %v is no notify.SendError", err)
			}
			if diff := cmp.Diff(tt.wantFailed, se.Failed); diff != "" {
				t.Errorf("bodies not enqueued (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	q := New(nil, "")
	for attempt, ceiling := range map[int]time.Duration{1: 50 * time.Millisecond, 2: 100 * time.Millisecond, 4: 400 * time.Millisecond, 10: 2 * time.Second, 100: 2 * time.Second} {
		var max time.Duration
		for range 200 {
			d := q.backoff(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", attempt, d, ceiling)
			}
			max = maxDuration(max, d)
		}
		if max < ceiling/2 {
			t.Errorf("backoff(%d) never above %v in 200 draws, want jitter up to %v", attempt, max, ceiling)
		}
	}
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func TestReceiveGathersUpToMax(t *testing.T) {
	tests := []struct {
		name      string
		available int
		max       int
		wait      time.Duration
		want      []receiveRequest
	}{
		{"more than one request", 30, 25, 1500 * time.Millisecond, []receiveRequest{{10, 2, nil}, {10, 0, nil}, {5, 0, nil}}},
		{"stops when the queue runs short", 12, 25, 0, []receiveRequest{{10, 0, nil}, {10, 0, nil}}},
		{"one small request", 30, 3, 20 * time.Second, []receiveRequest{{3, 20, nil}}},
		{"wait capped at 20 s", 5, 10, time.Minute, []receiveRequest{{10, 20, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, q, _ := newFake(t)
			for _, b := range numbered("v", tt.available) {
				f.visible = append(f.visible, string(b))
			}
			got, err := q.Receive(context.Background(), tt.max, tt.wait)
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if want := min(tt.max, tt.available); len(got) != want {
				t.Errorf("Receive(max %d) = %d messages, want %d", tt.max, len(got), want)
			}
			for i := range tt.want {
				tt.want[i].MessageSystemAttributeNames = []string{"ApproximateReceiveCount", "SentTimestamp"}
			}
			if diff := cmp.Diff(tt.want, f.receives); diff != "" {
				t.Errorf("ReceiveMessage requests (-want +got):\n%s", diff)
			}
			wantFirst := notify.QueueMessage{ID: "m-v00", Body: []byte("v00"), Receipt: "r-v00", ReceiveCount: 3, SentAt: time.UnixMilli(1767225600123)}
			if diff := cmp.Diff(wantFirst, got[0]); diff != "" {
				t.Errorf("first message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeleteAndChangeVisibility(t *testing.T) {
	ctx := context.Background()
	f, q, _ := newFake(t)
	if err := q.Delete(ctx, "r1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := q.ChangeVisibility(ctx, "r2", 1500*time.Millisecond); err != nil {
		t.Fatalf("ChangeVisibility: %v", err)
	}
	if err := q.ChangeVisibility(ctx, "r3", 0); err != nil {
		t.Fatalf("ChangeVisibility: %v", err)
	}
	receipts := make([]string, 23)
	for i := range receipts {
		receipts[i] = "d" + strconv.Itoa(i)
	}
	if err := q.DeleteBatch(ctx, receipts); err != nil {
		t.Fatalf("DeleteBatch: %v", err)
	}
	want := []call{
		{Op: "DeleteMessage", ReceiptHandle: "r1"},
		{Op: "ChangeMessageVisibility", ReceiptHandle: "r2", VisibilityTimeout: 2},
		{Op: "ChangeMessageVisibility", ReceiptHandle: "r3", VisibilityTimeout: 0},
		{Op: "DeleteMessageBatch", Receipts: receipts[:10]},
		{Op: "DeleteMessageBatch", Receipts: receipts[10:20]},
		{Op: "DeleteMessageBatch", Receipts: receipts[20:]},
	}
	if diff := cmp.Diff(want, f.calls); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if err := q.ChangeVisibility(ctx, "r4", -time.Second); err == nil {
		t.Errorf("ChangeVisibility(negative) = nil, want an error")
	}
	f.requestErr["DeleteMessage"] = "ReceiptHandleIsInvalid"
	if err := q.Delete(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "ReceiptHandleIsInvalid") {
		t.Errorf("Delete(bad) = %v, want ReceiptHandleIsInvalid", err)
	}
}

func TestMeterReset(t *testing.T) {
	_, q, meter := newFake(t)
	if err := q.Send(context.Background(), numbered("b", 20)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := meter.Total(); got != 2 {
		t.Errorf("Total = %d, want 2", got)
	}
	meter.Reset()
	if got := meter.Total(); got != 0 {
		t.Errorf("Total after Reset = %d, want 0", got)
	}
	if got := meter.Counts(); len(got) != 0 {
		t.Errorf("Counts after Reset = %v, want none", got)
	}
}
