package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/sns"
)

// The sample SNS event's topic, as CloudFormation names the stack's
// SesEventsTopic.
const sampleSESTopic = "arn:aws:sns:us-east-1:123456789012:herald-SesEventsTopic-Q1w2E3r4T5y6"

// sampleNotification is the notification of events/callbacks-ses-bounce.json
// (SNS delivering an SES bounce to the callbacks function), edited by edit
// when not nil.
func sampleNotification(t *testing.T, edit func(*Notification)) Notification {
	t.Helper()
	payload, err := os.ReadFile("../../events/callbacks-ses-bounce.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Records []struct {
			SNS struct {
				Type, MessageId, TopicArn, Subject, Message string
				Timestamp                                   time.Time
			} `json:"Sns"`
		}
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	s := ev.Records[0].SNS
	n := Notification{Type: s.Type, MessageID: s.MessageId, TopicArn: s.TopicArn, Subject: s.Subject, Message: s.Message, Timestamp: s.Timestamp}
	if n.TopicArn != sampleSESTopic {
		t.Fatalf("the sample's topic is %s, want %s", n.TopicArn, sampleSESTopic)
	}
	if edit != nil {
		edit(&n)
	}
	return n
}

// TestSNSRouter: notifications go to the endpoint of their topic (SES,
// push, SMS status); what no endpoint takes, what is not a notification,
// and what fails is an error, so that Lambda retries it and then keeps it
// on the function's dead-letter queue, with a log line saying why.
func TestSNSRouter(t *testing.T) {
	const (
		pushTopic = "arn:aws:sns:us-east-1:123456789012:herald-PushEventsTopic-A1b2C3d4E5f6"
		smsTopic  = "arn:aws:sns:us-east-1:123456789012:herald-SmsStatusTopic-Z9y8X7w6V5u4"
		otherARN  = "arn:aws:sns:us-east-1:999999999999:someone-elses-topic"
	)
	owner := sns.EndpointOwner{WorkspaceID: wsID, UserID: "ana", DeviceID: "dev-dead"}
	tests := []struct {
		name    string
		edit    func(*Notification)
		sesDown bool
		wantErr string // in the error and the log; "" for success
		check   func(t *testing.T, e *snsEnv)
	}{
		{name: "a push event removes the dead device", edit: func(n *Notification) {
			n.TopicArn, n.Message = pushTopic, pushEventJSON(t, "DeliveryFailure", deadEndpoint, "InvalidPlatformToken")
		}, check: func(t *testing.T, e *snsEnv) {
			if diff := cmp.Diff([]string{"dev-ok"}, deviceIDs(t, e.devices)); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
		}},
		{name: "an SMS status record moves the SMS", edit: func(n *Notification) {
			n.TopicArn, n.Message = smsTopic, smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier")
		}, check: func(t *testing.T, e *snsEnv) {
			if got := smsSnapshot(t, e.sms)["delivery "+smsAna]; got != "delivered/" {
				t.Errorf("ana's SMS = %s, want delivered", got)
			}
		}},
		{name: "another topic is refused", edit: func(n *Notification) { n.TopicArn = otherARN }, wantErr: "no endpoint takes this topic"},
		{name: "a topic of an endpoint with no topics configured is refused", edit: func(n *Notification) { n.TopicArn = "" },
			wantErr: "no endpoint takes this topic"},
		{name: "a store failure is retried", sesDown: true, wantErr: "store down"},
		{name: "a subscription confirmation is refused", edit: func(n *Notification) { n.Type = "SubscriptionConfirmation" },
			wantErr: "not Notification"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newSNSEnv(t, owner, tt.sesDown, pushTopic, smsTopic)
			n := sampleNotification(t, tt.edit)
			err := e.router.Apply(context.Background(), n)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Apply = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Apply = %v, want an error with %q", err, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(e.logs.String(), `"level":"ERROR"`):
				t.Errorf("refused notification logged %q, want an ERROR line", e.logs.String())
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// snsEnv is a router with an endpoint per topic kind.
type snsEnv struct {
	router       *SNSRouter
	devices, sms *boltstore.Store
	logs         *bytes.Buffer
}

func newSNSEnv(t *testing.T, owner sns.EndpointOwner, sesDown bool, pushTopic, smsTopic string) *snsEnv {
	t.Helper()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	devices, smsStore := seedDevices(t), seedSMS(t)
	var sesStore SESStore = seed(t)
	if sesDown {
		sesStore = failingStore{}
	}
	eps := &fakeEndpoints{owners: map[string]sns.EndpointOwner{deadEndpoint: owner}, tokens: map[string]string{deadEndpoint: "tok-dead"}}
	ses := &SES{Store: sesStore, Log: log, SNSOptions: SNSOptions{TopicARNs: []string{sampleSESTopic}}}
	push := &Push{Store: devices, Endpoints: eps, Log: log, SNSOptions: SNSOptions{TopicARNs: []string{pushTopic}}}
	smsH := &SMS{Store: smsStore, Log: log, SNSOptions: SNSOptions{TopicARNs: []string{smsTopic}}}
	unconfigured := &SMS{Store: smsStore, Log: log} // takes no topic, not even ""
	return &snsEnv{router: NewSNSRouter(log, unconfigured, ses, push, smsH), devices: devices, sms: smsStore, logs: logs}
}
