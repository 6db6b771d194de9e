package webhook

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

const (
	smsNotif  = "NS"
	smsAna    = "ana"
	smsLuis   = "luis"
	smsRaw    = "addr#+34600000003"
	anaPhone  = "+34600000001"
	luisPhone = "+34600000002"
)

// smsMsgID is the SNS MessageId each SMS delivery was recorded with.
var smsMsgID = map[string]string{
	smsAna:  "34d9b400-c6dd-5444-820d-fbeb0f1f54cf",
	smsLuis: "1077257a-92f3-5ca3-bc97-6a915b310625",
	smsRaw:  "5e4bc0a8-4a8f-5b6c-9d3e-2f1a0b9c8d7e",
}

// seedSMS records an SMS notification sent to ana, luis and a raw phone,
// each with the MessageId SNS answered.
func seedSMS(t *testing.T) *boltstore.Store {
	t.Helper()
	store := openStore(t)
	sent := snsNow.Add(-time.Hour)
	n := notify.Notification{WorkspaceID: wsID, ID: smsNotif, Channel: notify.ChannelSMS, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: 3, Sent: 3}, CreatedAt: sent, Content: notify.Template{Body: "x"}}
	var ds []notify.Delivery
	for _, k := range []string{smsAna, smsLuis, smsRaw} {
		ds = append(ds, notify.Delivery{WorkspaceID: wsID, NotificationID: smsNotif, Key: k, Channel: notify.ChannelSMS,
			Status: notify.DeliverySent, ProviderMessageID: smsMsgID[k], CreatedAt: sent, UpdatedAt: sent})
	}
	seedNotification(t, store, n, ds)
	for id, phone := range map[string]string{smsAna: anaPhone, smsLuis: "+34699999999"} { // luis changed his phone since
		if _, err := store.PutUser(context.Background(), notify.User{WorkspaceID: wsID, ID: id, Phone: phone, CreatedAt: sent, UpdatedAt: sent}); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// smsRecord is a delivery-status record as SNS writes it to CloudWatch Logs
// (the shapes of "Viewing CloudWatch logs for SMS deliveries").
func smsRecord(t *testing.T, messageID, status, destination, response string) string {
	t.Helper()
	r := map[string]any{
		"notification": map[string]any{"messageId": messageID, "timestamp": "2026-11-21 09:40:34.558"},
		"delivery": map[string]any{
			"phoneCarrier": "Movistar", "mnc": 7, "mcc": 214, "destination": destination, "priceInUSD": 0.06,
			"smsType": "Transactional", "providerResponse": response, "dwellTimeMs": 599, "dwellTimeMsUntilDeviceAck": 1344,
		},
		"status": status,
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// smsSnapshot is each delivery as "status/reason" and each user's SMS preference.
func smsSnapshot(t *testing.T, store *boltstore.Store) map[string]string {
	t.Helper()
	return outcomes(t, store, smsNotif, []string{smsAna, smsLuis, smsRaw}, notify.ChannelSMS, smsAna, smsLuis)
}

func smsUntouched(changes map[string]string) map[string]string {
	return with(map[string]string{
		"delivery " + smsAna: "sent/", "delivery " + smsLuis: "sent/", "delivery " + smsRaw: "sent/",
		"sms " + smsAna: "true", "sms " + smsLuis: "true",
	}, changes)
}

func TestSMSStatus(t *testing.T) {
	tests := []struct {
		name    string
		records []string
		want    map[string]string
	}{
		{"success delivers", []string{
			smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier"),
		}, smsUntouched(map[string]string{"delivery " + smsAna: "delivered/"})},
		{"unreachable fails", []string{
			smsRecord(t, smsMsgID[smsRaw], "FAILURE", "+34600000003", "Phone is currently unreachable/unavailable"),
		}, smsUntouched(map[string]string{"delivery " + smsRaw: "failed/unreachable"})},
		{"opted out fails and turns sms off", []string{
			smsRecord(t, smsMsgID[smsAna], "FAILURE", anaPhone, "Phone number is opted out"),
		}, smsUntouched(map[string]string{"delivery " + smsAna: "failed/opted_out", "sms " + smsAna: "false"})},
		{"opted out of an old phone keeps sms on", []string{
			smsRecord(t, smsMsgID[smsLuis], "FAILURE", luisPhone, "Phone number is opted out"),
		}, smsUntouched(map[string]string{"delivery " + smsLuis: "failed/opted_out"})},
		{"opted out with a masked destination turns sms off", []string{
			smsRecord(t, smsMsgID[smsAna], "FAILURE", "+3460XXXX001", "Phone number is opted out"),
		}, smsUntouched(map[string]string{"delivery " + smsAna: "failed/opted_out", "sms " + smsAna: "false"})},
		{"duplicates and late news change nothing more", []string{
			smsRecord(t, smsMsgID[smsAna], "FAILURE", anaPhone, "Invalid phone number"),
			smsRecord(t, smsMsgID[smsAna], "FAILURE", anaPhone, "Invalid phone number"),
			smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted"),
		}, smsUntouched(map[string]string{"delivery " + smsAna: "failed/invalid_address"})},
		{"unknown message id, junk and other statuses are ignored", []string{
			smsRecord(t, "00000000-0000-0000-0000-000000000000", "SUCCESS", anaPhone, "ok"),
			"not json",
			`{"status":"SUCCESS"}`,
			smsRecord(t, smsMsgID[smsAna], "PENDING", anaPhone, ""),
		}, smsUntouched(nil)},
	}
	for _, tt := range tests {
		for _, via := range []string{"sns", "logs"} {
			t.Run(tt.name+" via "+via, func(t *testing.T) {
				store := seedSMS(t)
				signer := newSigner(t)
				certs := &certsFake{t: t, pem: signer.pem}
				h := &SMS{Store: store, Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }, TopicARNs: []string{topicARN}}}
				if via == "sns" {
					for _, r := range tt.records {
						if code := post(t, h, signer.sign(t, notification(r), "2")); code != 200 {
							t.Fatalf("POST = %d, want 200", code)
						}
					}
				} else if err := h.ApplyLogs(context.Background(), smsLogGroup, tt.records); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(tt.want, smsSnapshot(t, store)); d != "" {
					t.Errorf("after the records (-want +got):\n%s", d)
				}
			})
		}
	}
}

// TestSMSCounts: the notification's counts follow the deliveries.
func TestSMSCounts(t *testing.T) {
	store := seedSMS(t)
	h := &SMS{Store: store, Log: slog.New(slog.DiscardHandler)}
	err := h.ApplyLogs(context.Background(), smsLogGroup, []string{
		smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier"),
		smsRecord(t, smsMsgID[smsLuis], "FAILURE", luisPhone, "Phone carrier has blocked this message"),
		smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "Message has been accepted by phone carrier"),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.GetNotification(context.Background(), wsID, smsNotif)
	if err != nil {
		t.Fatal(err)
	}
	if want := (notify.Counts{Total: 3, Sent: 1, Delivered: 1, Failed: 1}); n.Counts != want {
		t.Errorf("counts = %+v, want %+v", n.Counts, want)
	}
}

// TestSMSRefusals: a store failure is an error for the logs event (Lambda
// invokes again) and a 500 for SNS (it delivers again); a forged or foreign
// SNS message changes nothing.
func TestSMSRefusals(t *testing.T) {
	store := seedSMS(t)
	signer := newSigner(t)
	certs := &certsFake{t: t, pem: signer.pem}
	down := &SMS{Store: smsFailingStore{store}, Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }}}
	rec := smsRecord(t, smsMsgID[smsAna], "SUCCESS", anaPhone, "ok")
	if err := down.ApplyLogs(context.Background(), smsLogGroup, []string{rec}); err == nil || !strings.Contains(err.Error(), smsLogGroup) {
		t.Errorf("ApplyLogs with the store down = %v, want an error naming the log group", err)
	}
	m := signer.sign(t, notification(rec), "1")
	if code := post(t, down, m); code != 500 {
		t.Errorf("POST with the store down = %d, want 500", code)
	}

	h := &SMS{Store: store, Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }, TopicARNs: []string{topicARN}}}
	forged := signer.sign(t, notification(rec), "2")
	forged["Message"] = smsRecord(t, smsMsgID[smsLuis], "SUCCESS", luisPhone, "ok")
	if code := post(t, h, forged); code != 401 {
		t.Errorf("POST of a forged message = %d, want 401", code)
	}
	foreign := notification(rec)
	foreign["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:someone-else"
	if code := post(t, h, signer.sign(t, foreign, "2")); code != 403 {
		t.Errorf("POST from another topic = %d, want 403", code)
	}
	if d := cmp.Diff(smsUntouched(nil), smsSnapshot(t, store)); d != "" {
		t.Errorf("after refused messages (-want +got):\n%s", d)
	}
}

type smsFailingStore struct{ SMSStore }

func (smsFailingStore) UpdateDeliveryStatus(context.Context, notify.DeliveryUpdate) (bool, error) {
	return false, errStoreDown
}

// smsLogGroup is the log group SNS writes SMS delivery status to.
const smsLogGroup = "sns/eu-west-1/123456789012/DirectPublishToPhoneNumber"
