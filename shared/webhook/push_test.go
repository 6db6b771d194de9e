package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/sns"
)

const (
	deadEndpoint  = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/3f08fd15-d349-3d82-b415-49df9ff9d8dd"
	otherEndpoint = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/0b0c0d0e-0000-4000-8000-000000000000"
	fcmApp        = "arn:aws:sns:eu-west-1:123456789012:app/GCM/herald-android"
)

// fakeEndpoints plays SNS's endpoints: their attributes, and the deletes.
type fakeEndpoints struct {
	owners  map[string]sns.EndpointOwner
	tokens  map[string]string
	deleted []string
	fail    error
	// failDeletes is how many Deletes fail before they succeed.
	failDeletes int
}

func (f *fakeEndpoints) Owner(_ context.Context, arn string) (sns.EndpointOwner, string, bool, error) {
	if f.fail != nil {
		return sns.EndpointOwner{}, "", false, f.fail
	}
	o, ok := f.owners[arn]
	return o, f.tokens[arn], ok, nil
}

func (f *fakeEndpoints) Delete(_ context.Context, arn string) error {
	if f.failDeletes > 0 {
		f.failDeletes--
		return errors.New("sns unavailable")
	}
	f.deleted = append(f.deleted, arn)
	return nil
}

// pushEventJSON is an SNS platform application event as SNS publishes it
// (the shape of "Amazon SNS application event notifications").
func pushEventJSON(t *testing.T, eventType, endpoint, failureType string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"DeliveryAttempts": 1, "EndpointArn": endpoint, "EventType": eventType,
		"FailureMessage": "Platform token associated with the endpoint is not valid", "FailureType": failureType,
		"MessageId": "dd686e01-3f8f-56f7-9683-348cb97d649a", "Resource": fcmApp, "Service": "SNS", "Time": "2026-11-21T09:58:22.787Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func seedDevices(t *testing.T) *boltstore.Store {
	t.Helper()
	store := openStore(t)
	at := snsNow.Add(-time.Hour)
	if _, err := store.PutUser(context.Background(), notify.User{WorkspaceID: wsID, ID: "ana", PushPermission: notify.PermissionAllowed, CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	_, err := store.UpdateUser(context.Background(), wsID, "ana", func(u *notify.User) error {
		u.Devices = []notify.Device{
			{ID: "dev-dead", Kind: notify.DeviceFCM, Token: "tok-dead", Endpoint: deadEndpoint, CreatedAt: at},
			{ID: "dev-ok", Kind: notify.DeviceFCM, Token: "tok-ok", Endpoint: otherEndpoint, CreatedAt: at},
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func deviceIDs(t *testing.T, store *boltstore.Store) []string {
	t.Helper()
	u, err := store.GetUser(context.Background(), wsID, "ana")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range u.Devices {
		ids = append(ids, d.ID)
	}
	sort.Strings(ids)
	return ids
}

func TestPushFeedback(t *testing.T) {
	owner := sns.EndpointOwner{WorkspaceID: wsID, UserID: "ana", DeviceID: "dev-dead"}
	tests := []struct {
		name        string
		message     string
		wantDevices []string
		wantDeleted []string
	}{
		{"invalid token removes the device and deletes the endpoint",
			pushEventJSON(t, "DeliveryFailure", deadEndpoint, "InvalidPlatformToken"),
			[]string{"dev-ok"}, []string{deadEndpoint}},
		{"disabled endpoint removes the device",
			pushEventJSON(t, "DeliveryFailure", deadEndpoint, "EndpointDisabled"),
			[]string{"dev-ok"}, []string{deadEndpoint}},
		{"other failures are not the device's fault",
			pushEventJSON(t, "DeliveryFailure", deadEndpoint, "PlatformApplicationDisabled"),
			[]string{"dev-dead", "dev-ok"}, nil},
		{"other events are ignored",
			pushEventJSON(t, "EndpointUpdated", deadEndpoint, ""),
			[]string{"dev-dead", "dev-ok"}, nil},
		{"an endpoint not Herald's is ignored",
			pushEventJSON(t, "DeliveryFailure", "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/x/y", "InvalidPlatformToken"),
			[]string{"dev-dead", "dev-ok"}, nil},
		{"junk is acknowledged and ignored",
			"not json",
			[]string{"dev-dead", "dev-ok"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := seedDevices(t)
			signer := newSigner(t)
			certs := &certsFake{t: t, pem: signer.pem}
			eps := &fakeEndpoints{owners: map[string]sns.EndpointOwner{deadEndpoint: owner}, tokens: map[string]string{deadEndpoint: "tok-dead"}}
			h := &Push{Store: store, Endpoints: eps, Log: slog.New(slog.DiscardHandler),
				SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }, TopicARNs: []string{topicARN}}}
			for range 2 { // SNS may deliver twice
				if code := post(t, h, signer.sign(t, notification(tt.message), "1")); code != 200 {
					t.Fatalf("POST = %d, want 200", code)
				}
			}
			if diff := cmp.Diff(tt.wantDevices, deviceIDs(t, store)); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
			var deleted []string
			if len(eps.deleted) > 0 {
				deleted = eps.deleted[:1] // the second delivery may delete again (harmless)
			}
			if diff := cmp.Diff(tt.wantDeleted, deleted); diff != "" {
				t.Errorf("deleted endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPushFeedbackRefusals: a device registered again with a fresh
// token since the endpoint was made stays; SNS down answers 500.
func TestPushFeedbackRefusals(t *testing.T) {
	store := seedDevices(t)
	_, err := store.UpdateUser(context.Background(), wsID, "ana", func(u *notify.User) error {
		u.Devices[0].Token, u.Devices[0].Endpoint = "tok-fresh", ""
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	signer := newSigner(t)
	certs := &certsFake{t: t, pem: signer.pem}
	eps := &fakeEndpoints{owners: map[string]sns.EndpointOwner{deadEndpoint: {WorkspaceID: wsID, UserID: "ana", DeviceID: "dev-dead"}}, tokens: map[string]string{deadEndpoint: "tok-dead"}}
	h := &Push{Store: store, Endpoints: eps, Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }}}
	m := signer.sign(t, notification(pushEventJSON(t, "DeliveryFailure", deadEndpoint, "InvalidPlatformToken")), "2")
	if code := post(t, h, m); code != 200 {
		t.Fatalf("POST = %d, want 200", code)
	}
	if diff := cmp.Diff([]string{"dev-dead", "dev-ok"}, deviceIDs(t, store)); diff != "" {
		t.Errorf("a re-registered device was removed (-want +got):\n%s", diff)
	}
	eps.fail = errors.New("sns down")
	if code := post(t, h, m); code != 500 {
		t.Errorf("POST with SNS down = %d, want 500 (SNS delivers again)", code)
	}
}
