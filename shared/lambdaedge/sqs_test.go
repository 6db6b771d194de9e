package lambdaedge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

func sqsEvent(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: "m" + string(rune('1'+i)), Body: b, EventSource: "aws:sqs"})
	}
	return ev
}

// TestBatchResponse: each failed record is reported by its message id, and
// nothing else; a batch with no failure answers an empty list, not null.
func TestBatchResponse(t *testing.T) {
	ev := sqsEvent("a", "b", "c")
	boom := errors.New("boom")
	tests := []struct {
		name string
		errs []error
		want string
	}{
		{"all good", []error{nil, nil, nil}, `{"batchItemFailures":[]}`},
		{"the second fails", []error{nil, boom, nil}, `{"batchItemFailures":[{"itemIdentifier":"m2"}]}`},
		{"first and last fail", []error{boom, nil, boom}, `{"batchItemFailures":[{"itemIdentifier":"m1"},{"itemIdentifier":"m3"}]}`},
	}
	for _, tt := range tests {
		out, err := json.Marshal(BatchResponse(ev, tt.errs))
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != tt.want {
			t.Errorf("%s: BatchResponse = %s, want %s", tt.name, out, tt.want)
		}
	}
}

// TestEachRecord: every body is handled, in order, and each failure is
// reported alone and logged with its message id.
func TestEachRecord(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	var seen []string
	resp := EachRecord(context.Background(), sqsEvent("ok", "bad", "ok too"), log, "step", func(_ context.Context, body []byte) error {
		seen = append(seen, string(body))
		if string(body) == "bad" {
			return errors.New("store down")
		}
		return nil
	})
	if diff := cmp.Diff([]string{"ok", "bad", "ok too"}, seen); diff != "" {
		t.Errorf("bodies handled (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]events.SQSBatchItemFailure{{ItemIdentifier: "m2"}}, resp.BatchItemFailures); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if got := logs.String(); !strings.Contains(got, `"msg":"step failed; it comes back"`) || !strings.Contains(got, `"messageId":"m2"`) || !strings.Contains(got, "store down") {
		t.Errorf("logs = %s, want the failure with its message id", got)
	}
}

func TestReceiveCount(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{{"3", 3}, {"", 0}, {"x", 0}}
	for _, tt := range tests {
		r := events.SQSMessage{Attributes: map[string]string{"ApproximateReceiveCount": tt.in}}
		if got := ReceiveCount(r); got != tt.want {
			t.Errorf("ReceiveCount(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSentAt(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"1767225600123", time.UnixMilli(1767225600123)},
		{"", time.Time{}},
		{"soon", time.Time{}},
		{"-5", time.Time{}},
	}
	for _, tt := range tests {
		r := events.SQSMessage{Attributes: map[string]string{"SentTimestamp": tt.in}}
		if got := SentAt(r); !got.Equal(tt.want) {
			t.Errorf("SentAt(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestNotificationsFromQueue: the SNS notifications a queue subscribed to
// a topic carries reach apply as an SNS event's records would; one apply
// fails, or that is not a notification, comes back, and the others go.
func TestNotificationsFromQueue(t *testing.T) {
	var applied []string
	apply := func(_ context.Context, n events.SNSEntity) error {
		if n.Message == "fail" {
			return errors.New("the table is busy")
		}
		applied = append(applied, n.TopicArn+" "+n.MessageID+" "+n.Message+" "+n.Timestamp.UTC().Format(time.RFC3339))
		return nil
	}
	note := func(id, msg string) string {
		return `{"Type":"Notification","MessageId":"` + id + `","TopicArn":"arn:aws:sns:eu-west-1:123456789012:ses-events","Subject":null,` +
			`"Message":"` + msg + `","Timestamp":"2026-12-08T09:00:00.000Z","SignatureVersion":"1","Signature":"c2ln","SigningCertURL":"https://sns.eu-west-1.amazonaws.com/cert.pem","UnsubscribeURL":"https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"}`
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "q1", Body: note("n1", "delivered")},
		{MessageId: "q2", Body: note("n2", "fail")},
		{MessageId: "q3", Body: `{"Type":"SubscriptionConfirmation","MessageId":"n3","TopicArn":"arn:aws:sns:eu-west-1:123456789012:ses-events"}`},
		{MessageId: "q4", Body: `not json`},
		{MessageId: "q5", Body: note("n5", "bounced")},
	}}
	got := NotificationsFromQueue(apply, slog.New(slog.DiscardHandler))(context.Background(), ev)
	var failed []string
	for _, f := range got.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if diff := cmp.Diff([]string{"q2", "q3", "q4"}, failed); diff != "" {
		t.Errorf("failed records (-want +got):\n%s", diff)
	}
	want := []string{
		"arn:aws:sns:eu-west-1:123456789012:ses-events n1 delivered 2026-12-08T09:00:00Z",
		"arn:aws:sns:eu-west-1:123456789012:ses-events n5 bounced 2026-12-08T09:00:00Z",
	}
	if diff := cmp.Diff(want, applied); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
}
