package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/sns"
)

// tally is a Metrics that keeps what it is told.
type tally struct {
	mu     sync.Mutex
	counts map[string]int // "channel outcome reason" → count
}

func newTally() *tally { return &tally{counts: map[string]int{}} }

func (t *tally) Callback(ch notify.Channel, o metrics.Outcome, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.counts[fmt.Sprint(ch, " ", o, " ", reason)]++
}

// TestWhatsAppCallbacksCounted: each status that moves a delivery is
// counted once, with Meta's error as the reason; repeated and late
// statuses, Meta's "sent", and messages Herald did not send are not.
func TestWhatsAppCallbacksCounted(t *testing.T) {
	store := openStore(t)
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	n := notify.Notification{WorkspaceID: "ws1", ID: "NW", Channel: notify.ChannelWhatsApp, Status: notify.StatusSending,
		Counts: notify.Counts{Total: 4, Sent: 3, Queued: 1}, CreatedAt: now, Content: notify.Template{Body: "x"}}
	var ds []notify.Delivery
	for _, k := range []string{"u1", "u2", "u3", "u4"} {
		st := notify.DeliverySent
		if k == "u4" {
			st = notify.DeliveryQueued
		}
		ds = append(ds, notify.Delivery{WorkspaceID: "ws1", NotificationID: "NW", Key: k, UserID: k, Channel: notify.ChannelWhatsApp, Status: st, CreatedAt: now, UpdatedAt: now})
	}
	seedNotification(t, store, n, ds)
	m := newTally()
	srv := httptest.NewServer(&WhatsApp{AppSecret: secret, Store: store, Log: slog.New(slog.DiscardHandler), Metrics: m})
	defer srv.Close()
	ts := now.Unix() + 60
	other := status("u1", "delivered", ts, 0)
	other["biz_opaque_callback_data"] = ""
	for _, body := range []string{
		statusBody(t, status("u1", "read", ts+2, 0), status("u2", "delivered", ts, 0)),
		statusBody(t, status("u1", "delivered", ts+1, 0), status("u2", "delivered", ts, 0), other),
		statusBody(t, status("u3", "failed", ts, 131026), status("u4", "sent", ts, 0)),
		statusBody(t, status("u3", "failed", ts, 131026)),
	} {
		if got := postMeta(t, srv.URL, body, sign(body)); got != 200 {
			t.Fatalf("POST = %d, want 200", got)
		}
	}
	want := map[string]int{"whatsapp read ": 1, "whatsapp delivered ": 1, "whatsapp failed whatsapp_131026": 1}
	if diff := cmp.Diff(want, m.counts); diff != "" {
		t.Errorf("callbacks counted (-want +got):\n%s", diff)
	}
}

// TestSESCallbacksCounted: deliveries and permanent bounces that move a
// delivery, and every complaint about Herald's email, are counted.
func TestSESCallbacksCounted(t *testing.T) {
	signer := newSigner(t)
	store := seed(t)
	certs := &certsFake{t: t, pem: signer.pem}
	m := newTally()
	h := &SES{Store: store, Log: slog.New(slog.DiscardHandler), Metrics: m, SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }}}
	for _, msg := range []string{
		sesEventJSON(t, "eventType", "Delivery", aliceTo, heraldTags(wsID, notifID, alice), deliveryDetail()),
		sesEventJSON(t, "eventType", "Delivery", aliceTo, heraldTags(wsID, notifID, alice), deliveryDetail()), // SNS delivers twice
		sesEventJSON(t, "eventType", "Bounce", bobTo, heraldTags(wsID, notifID, bob), bounceDetail("Permanent", "General")),
		sesEventJSON(t, "eventType", "Bounce", rawAddr, heraldTags(wsID, notifID, ""), bounceDetail("Transient", "MailboxFull")),
		sesEventJSON(t, "eventType", "Complaint", aliceTo, heraldTags(wsID, notifID, alice), complaintDetail()),
		sesEventJSON(t, "eventType", "Delivery", aliceTo, nil, deliveryDetail()), // not Herald's
	} {
		if got := post(t, h, signer.sign(t, notification(msg), "2")); got != 200 {
			t.Fatalf("POST = %d, want 200", got)
		}
	}
	want := map[string]int{"email delivered ": 1, "email failed bounce": 1, "email complaint ": 1}
	if diff := cmp.Diff(want, m.counts); diff != "" {
		t.Errorf("callbacks counted (-want +got):\n%s", diff)
	}
}

// TestSMSCallbacksCounted: the carrier's answers count once per delivery
// they move, with the classified reason.
func TestSMSCallbacksCounted(t *testing.T) {
	store := seedSMS(t)
	m := newTally()
	h := &SMS{Store: store, Log: slog.New(slog.DiscardHandler), Metrics: m}
	for _, r := range []string{
		smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier"),
		smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier"),
		smsRecord(t, smsMsgID[smsRaw], "FAILURE", "+34600000003", "Phone is currently unreachable/unavailable"),
		smsRecord(t, "00000000-0000-0000-0000-000000000000", "SUCCESS", anaPhone, "ok"),
	} {
		if err := h.Apply(context.Background(), []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int{"sms delivered ": 1, "sms failed unreachable": 1}
	if diff := cmp.Diff(want, m.counts); diff != "" {
		t.Errorf("callbacks counted (-want +got):\n%s", diff)
	}
}

// TestPushFeedbackCounted: a push the platform failed for a dead token of
// Herald's counts as a failed push; other platform events do not.
func TestPushFeedbackCounted(t *testing.T) {
	owner := sns.EndpointOwner{WorkspaceID: wsID, UserID: "ana", DeviceID: "dev-dead"}
	store := seedDevices(t)
	signer := newSigner(t)
	certs := &certsFake{t: t, pem: signer.pem}
	eps := &fakeEndpoints{owners: map[string]sns.EndpointOwner{deadEndpoint: owner}, tokens: map[string]string{deadEndpoint: "tok-dead"}}
	m := newTally()
	h := &Push{Store: store, Endpoints: eps, Log: slog.New(slog.DiscardHandler), Metrics: m,
		SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }, TopicARNs: []string{topicARN}}}
	for _, msg := range []string{
		pushEventJSON(t, "DeliveryFailure", deadEndpoint, "InvalidPlatformToken"),
		pushEventJSON(t, "DeliveryFailure", deadEndpoint, "PlatformApplicationDisabled"),
		pushEventJSON(t, "DeliveryFailure", "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/x/y", "InvalidPlatformToken"),
	} {
		if code := post(t, h, signer.sign(t, notification(msg), "1")); code != 200 {
			t.Fatalf("POST = %d, want 200", code)
		}
	}
	if diff := cmp.Diff(map[string]int{"push failed invalid_token": 1}, m.counts); diff != "" {
		t.Errorf("callbacks counted (-want +got):\n%s", diff)
	}
}

// TestPushFeedbackCountedOnceWhenRetried: an event whose endpoint delete
// fails comes back from SNS; the device it removed the first time is
// counted once, not once per delivery of the event.
func TestPushFeedbackCountedOnceWhenRetried(t *testing.T) {
	owner := sns.EndpointOwner{WorkspaceID: wsID, UserID: "ana", DeviceID: "dev-dead"}
	store := seedDevices(t)
	signer := newSigner(t)
	certs := &certsFake{t: t, pem: signer.pem}
	eps := &fakeEndpoints{owners: map[string]sns.EndpointOwner{deadEndpoint: owner}, tokens: map[string]string{deadEndpoint: "tok-dead"}, failDeletes: 1}
	m := newTally()
	h := &Push{Store: store, Endpoints: eps, Log: slog.New(slog.DiscardHandler), Metrics: m,
		SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }, TopicARNs: []string{topicARN}}}
	msg := signer.sign(t, notification(pushEventJSON(t, "DeliveryFailure", deadEndpoint, "InvalidPlatformToken")), "1")
	if code := post(t, h, msg); code == 200 {
		t.Fatalf("POST with the delete failing = 200, want an error status so that SNS retries")
	}
	if code := post(t, h, msg); code != 200 {
		t.Fatalf("POST again = %d, want 200", code)
	}
	if diff := cmp.Diff(map[string]int{"push failed invalid_token": 1}, m.counts); diff != "" {
		t.Errorf("callbacks counted (-want +got):\n%s", diff)
	}
}
