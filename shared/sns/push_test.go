package sns

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

const (
	fcmApp          = "arn:aws:sns:eu-west-1:123456789012:app/GCM/herald-android"
	apnsApp         = "arn:aws:sns:eu-west-1:123456789012:app/APNS/herald-ios"
	apnsSandboxApp  = "arn:aws:sns:eu-west-1:123456789012:app/APNS_SANDBOX/herald-ios-dev"
	fcmToken        = "fcm-token-AAAA:bbbb"
	apnsToken       = "5d1a4ed2b3ffbd8cdd1c6e28d5a31c4ffbd8cdd1c6e28d5a31c4ffbd8cdd1c6e"
	fcmEndpoint     = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/5d9a1f2c-aaaa-3f0e-9c0b-1c2d3e4f5a6b"
	apnsEndpoint    = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/herald-ios/0b7c2e4a-bbbb-3b1e-8a6d-7e8f9a0b1c2d"
	sandboxEndpoint = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS_SANDBOX/herald-ios-dev/9e8d7c6b-cccc-3a2b-9c8d-1e2f3a4b5c6d"
)

func pushMessage(devices ...notify.Device) channel.PushMessage {
	return channel.PushMessage{
		Envelope: channel.Envelope{WorkspaceID: "ws1", NotificationID: "n1", RecipientKey: "u1", UserID: "u1", Category: "orders"},
		Devices:  devices,
		Title:    "Order shipped",
		Body:     "Your order is on its way",
		Route:    "/orders/42",
		Icon:     "https://cdn.example.com/icon.png",
		Image:    "https://cdn.example.com/parcel.jpg",
		Buttons: []notify.Button{
			{ID: "track", Label: "Track", Route: "/orders/42/track"},
			{ID: "dismiss", Label: "Dismiss"},
		},
	}
}

var (
	fcmDevice  = notify.Device{ID: "d-android", Kind: notify.DeviceFCM, Token: fcmToken}
	apnsDevice = notify.Device{ID: "d-iphone", Kind: notify.DeviceAPNs, Token: apnsToken}
)

// wantCollapse is collapseID of pushMessage's envelope.
var wantCollapse = collapseID(channel.Envelope{WorkspaceID: "ws1", NotificationID: "n1", RecipientKey: "u1"})

// decodePush checks a Publish to an endpoint and returns the decoded
// payload under the platform key.
func decodePush(t *testing.T, form url.Values, wantTarget, platform string) map[string]any {
	t.Helper()
	if got := form.Get("TargetArn"); got != wantTarget {
		t.Errorf("TargetArn = %q, want %q", got, wantTarget)
	}
	if got := form.Get("MessageStructure"); got != "json" {
		t.Errorf("MessageStructure = %q, want json", got)
	}
	if form.Has("PhoneNumber") || form.Has("TopicArn") {
		t.Errorf("push Publish sent PhoneNumber or TopicArn: %v", form)
	}
	var msg map[string]string
	if err := json.Unmarshal([]byte(form.Get("Message")), &msg); err != nil {
		t.Fatalf("Message is not a JSON object of strings: %v\n%s", err, form.Get("Message"))
	}
	if got := msg["default"]; got != "Your order is on its way" {
		t.Errorf(`Message["default"] = %q, want the body`, got)
	}
	if len(msg) != 2 {
		t.Errorf("Message keys = %v, want default and %s", msg, platform)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(msg[platform]), &payload); err != nil {
		t.Fatalf("Message[%q] is not JSON: %v\n%s", platform, err, msg[platform])
	}
	return payload
}

func TestSendPushPayloads(t *testing.T) {
	f := newFake(t)
	f.on("CreatePlatformEndpoint", createOK(fcmEndpoint), createOK(sandboxEndpoint))
	f.on("Publish", publishOK("msg-android"), publishOK("msg-iphone"))
	s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp, APNsApplicationARN: apnsSandboxApp})

	got, err := s.SendPush(context.Background(), pushMessage(fcmDevice, apnsDevice))
	if err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	wantReceipt := channel.Receipt{
		ProviderMessageID: "msg-android",
		Endpoints:         map[string]string{"d-android": fcmEndpoint, "d-iphone": sandboxEndpoint},
	}
	if diff := cmp.Diff(wantReceipt, got); diff != "" {
		t.Errorf("SendPush receipt (-want +got):\n%s", diff)
	}
	wantActions := []string{"CreatePlatformEndpoint", "Publish", "CreatePlatformEndpoint", "Publish"}
	if diff := cmp.Diff(wantActions, f.actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}

	creates := f.callsOf("CreatePlatformEndpoint")
	for i, want := range [][3]string{
		{fcmApp, fcmToken, "herald1/ws1/u1/d-android"},
		{apnsSandboxApp, apnsToken, "herald1/ws1/u1/d-iphone"},
	} {
		if got := [3]string{creates[i].Get("PlatformApplicationArn"), creates[i].Get("Token"), creates[i].Get("CustomUserData")}; got != want {
			t.Errorf("CreatePlatformEndpoint %d = %q, want %q", i, got, want)
		}
	}

	publishes := f.callsOf("Publish")
	gcm := decodePush(t, publishes[0], fcmEndpoint, "GCM")
	wantGCM := map[string]any{
		"fcmV1Message": map[string]any{
			"message": map[string]any{
				"notification": map[string]any{
					"title": "Order shipped",
					"body":  "Your order is on its way",
					"image": "https://cdn.example.com/parcel.jpg",
				},
				"data": map[string]any{
					"route":          "/orders/42",
					"icon":           "https://cdn.example.com/icon.png",
					"image":          "https://cdn.example.com/parcel.jpg",
					"notificationId": "n1",
					"buttons":        `[{"id":"track","label":"Track","route":"/orders/42/track"},{"id":"dismiss","label":"Dismiss"}]`,
				},
				"android": map[string]any{
					"collapse_key": wantCollapse,
					"notification": map[string]any{"tag": wantCollapse},
				},
			},
		},
	}
	if diff := cmp.Diff(wantGCM, gcm); diff != "" {
		t.Errorf("GCM payload (-want +got):\n%s", diff)
	}
	if got := messageAttributes(publishes[0]); len(got) != 0 {
		t.Errorf("FCM MessageAttributes = %v, want none", got)
	}

	apns := decodePush(t, publishes[1], sandboxEndpoint, "APNS_SANDBOX")
	wantAPNs := map[string]any{
		"aps": map[string]any{
			"alert":           map[string]any{"title": "Order shipped", "body": "Your order is on its way"},
			"mutable-content": float64(1),
			"category":        "herald.track.dismiss",
		},
		"route": "/orders/42",
		"icon":  "https://cdn.example.com/icon.png",
		"image": "https://cdn.example.com/parcel.jpg",
		"buttons": []any{
			map[string]any{"id": "track", "label": "Track", "route": "/orders/42/track"},
			map[string]any{"id": "dismiss", "label": "Dismiss"},
		},
		"notificationId": "n1",
	}
	if diff := cmp.Diff(wantAPNs, apns); diff != "" {
		t.Errorf("APNS_SANDBOX payload (-want +got):\n%s", diff)
	}
	wantAttrs := map[string]attr{
		"AWS.SNS.MOBILE.APNS.PUSH_TYPE":   {"String", "alert"},
		"AWS.SNS.MOBILE.APNS.COLLAPSE_ID": {"String", wantCollapse},
	}
	if diff := cmp.Diff(wantAttrs, messageAttributes(publishes[1])); diff != "" {
		t.Errorf("APNs MessageAttributes (-want +got):\n%s", diff)
	}

	// The endpoints are remembered in memory: the second push only
	// publishes, and reports them again for the devices that still do not
	// carry them.
	f.on("Publish", publishOK("msg-android-2"), publishOK("msg-iphone-2"))
	got, err = s.SendPush(context.Background(), pushMessage(fcmDevice, apnsDevice))
	if err != nil {
		t.Fatalf("second SendPush: %v", err)
	}
	wantActions = append(wantActions, "Publish", "Publish")
	if diff := cmp.Diff(wantActions, f.actions()); diff != "" {
		t.Errorf("actions after second push (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantReceipt.Endpoints, got.Endpoints); diff != "" {
		t.Errorf("second receipt Endpoints (-want +got):\n%s", diff)
	}
}

func TestSendPushAPNsProduction(t *testing.T) {
	f := newFake(t)
	f.on("CreatePlatformEndpoint", createOK(apnsEndpoint))
	f.on("Publish", publishOK("msg-1"))
	m := pushMessage(apnsDevice)
	m.Buttons = nil
	s := NewPush(f.client(), PushConfig{APNsApplicationARN: apnsApp})

	if _, err := s.SendPush(context.Background(), m); err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	apns := decodePush(t, f.callsOf("Publish")[0], apnsEndpoint, "APNS")
	aps, _ := apns["aps"].(map[string]any)
	if _, ok := aps["category"]; ok {
		t.Errorf("aps = %v, want no category without buttons", aps)
	}
}

func TestSendPushReenablesDisabledEndpoint(t *testing.T) {
	f := newFake(t)
	f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
	f.on("Publish",
		snsError(400, "Sender", "EndpointDisabled", "Endpoint is disabled"),
		publishOK("msg-after-enable"))
	f.on("SetEndpointAttributes", setAttributesOK())
	s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp})

	got, err := s.SendPush(context.Background(), pushMessage(fcmDevice))
	if err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	if got.ProviderMessageID != "msg-after-enable" {
		t.Errorf("ProviderMessageID = %q, want msg-after-enable", got.ProviderMessageID)
	}
	wantActions := []string{"CreatePlatformEndpoint", "Publish", "SetEndpointAttributes", "Publish"}
	if diff := cmp.Diff(wantActions, f.actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	set := f.callsOf("SetEndpointAttributes")[0]
	if got := set.Get("EndpointArn"); got != fcmEndpoint {
		t.Errorf("SetEndpointAttributes EndpointArn = %q, want %q", got, fcmEndpoint)
	}
	if diff := cmp.Diff(map[string]string{"Token": fcmToken, "Enabled": "true"}, attributes(set)); diff != "" {
		t.Errorf("SetEndpointAttributes Attributes (-want +got):\n%s", diff)
	}
	for _, p := range f.callsOf("Publish") {
		if got := p.Get("TargetArn"); got != fcmEndpoint {
			t.Errorf("Publish TargetArn = %q, want %q", got, fcmEndpoint)
		}
	}
}

func TestSendPushInvalidToken(t *testing.T) {
	tests := []struct {
		name        string
		script      func(f *fakeSNS)
		wantActions []string
	}{
		{
			name: "disabled again after re-enabling",
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
				f.on("Publish",
					snsError(400, "Sender", "EndpointDisabled", "Endpoint is disabled"),
					snsError(400, "Sender", "EndpointDisabled", "Endpoint is disabled"))
				f.on("SetEndpointAttributes", setAttributesOK())
			},
			wantActions: []string{"CreatePlatformEndpoint", "Publish", "SetEndpointAttributes", "Publish"},
		},
		{
			name: "token refused when creating the endpoint",
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", snsError(400, "Sender", "InvalidParameter", "Invalid parameter: Token Reason: "+fcmToken+" is not a valid token"))
			},
			wantActions: []string{"CreatePlatformEndpoint"},
		},
		{
			name: "token refused when re-enabling",
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
				f.on("Publish", snsError(400, "Sender", "EndpointDisabled", "Endpoint is disabled"))
				f.on("SetEndpointAttributes", snsError(400, "Sender", "InvalidParameter", "Invalid parameter: Token"))
			},
			wantActions: []string{"CreatePlatformEndpoint", "Publish", "SetEndpointAttributes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			tt.script(f)
			var mu sync.Mutex
			var reported []string
			s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp, InvalidToken: func(_ context.Context, id string) {
				mu.Lock()
				defer mu.Unlock()
				reported = append(reported, id)
			}})

			_, err := s.SendPush(context.Background(), pushMessage(fcmDevice))
			if code, ok := channel.IsPermanent(err); !ok || code != CodeInvalidToken {
				t.Fatalf("IsPermanent(%v) = %q, %v, want %q, true", err, code, ok, CodeInvalidToken)
			}
			var ite *InvalidTokenError
			if !errors.As(err, &ite) {
				t.Fatalf("error %v holds no *InvalidTokenError", err)
			}
			if diff := cmp.Diff([]string{"d-android"}, ite.DeviceIDs); diff != "" {
				t.Errorf("InvalidTokenError.DeviceIDs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"d-android"}, reported); diff != "" {
				t.Errorf("InvalidToken reported (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantActions, f.actions()); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), fcmToken) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestSendPushOneDeviceIsEnough(t *testing.T) {
	f := newFake(t)
	f.on("CreatePlatformEndpoint",
		snsError(400, "Sender", "InvalidParameter", "Invalid parameter: Token Reason: iOS device tokens must be no more than 400 hexadecimal characters"),
		createOK(fcmEndpoint))
	f.on("Publish", publishOK("msg-android"))
	var reported []string
	s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp, APNsApplicationARN: apnsApp, InvalidToken: func(_ context.Context, id string) {
		reported = append(reported, id)
	}})

	got, err := s.SendPush(context.Background(), pushMessage(apnsDevice, fcmDevice))
	if err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	if got.ProviderMessageID != "msg-android" {
		t.Errorf("ProviderMessageID = %q, want msg-android", got.ProviderMessageID)
	}
	if diff := cmp.Diff([]string{"d-iphone"}, reported); diff != "" {
		t.Errorf("InvalidToken reported (-want +got):\n%s", diff)
	}
}

func TestSendPushTakesOverExistingEndpoint(t *testing.T) {
	f := newFake(t)
	f.on("CreatePlatformEndpoint", endpointExists(fcmEndpoint))
	f.on("SetEndpointAttributes", setAttributesOK())
	f.on("Publish", publishOK("msg-1"))
	store := &MemoryEndpoints{}
	s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp, Endpoints: store})

	rc, err := s.SendPush(context.Background(), pushMessage(fcmDevice))
	if err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	wantActions := []string{"CreatePlatformEndpoint", "SetEndpointAttributes", "Publish"}
	if diff := cmp.Diff(wantActions, f.actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	owner := "herald1/ws1/u1/d-android"
	if got := f.callsOf("CreatePlatformEndpoint")[0].Get("CustomUserData"); got != owner {
		t.Errorf("CreatePlatformEndpoint CustomUserData = %q, want %q", got, owner)
	}
	set := f.callsOf("SetEndpointAttributes")[0]
	if got := set.Get("EndpointArn"); got != fcmEndpoint {
		t.Errorf("SetEndpointAttributes EndpointArn = %q, want %q", got, fcmEndpoint)
	}
	// The token moved to this device: the endpoint is re-enabled and now
	// belongs to it, so its delivery failures are reported against it.
	wantAttrs := map[string]string{"Token": fcmToken, "Enabled": "true", "CustomUserData": owner}
	if diff := cmp.Diff(wantAttrs, attributes(set)); diff != "" {
		t.Errorf("SetEndpointAttributes Attributes (-want +got):\n%s", diff)
	}
	if got := f.callsOf("Publish")[0].Get("TargetArn"); got != fcmEndpoint {
		t.Errorf("Publish TargetArn = %q, want %q", got, fcmEndpoint)
	}
	if diff := cmp.Diff(map[string]string{"d-android": fcmEndpoint}, rc.Endpoints); diff != "" {
		t.Errorf("receipt Endpoints (-want +got):\n%s", diff)
	}
	key := EndpointKey{Application: fcmApp, Token: fcmToken, Owner: EndpointOwner{"ws1", "u1", "d-android"}}
	arn, ok, err := store.GetEndpoint(context.Background(), key)
	if err != nil || !ok || arn != fcmEndpoint {
		t.Errorf("GetEndpoint = %q, %v, %v, want %q, true, nil", arn, ok, err, fcmEndpoint)
	}
}

func TestSendPushRecreatesDeletedEndpoint(t *testing.T) {
	const stale = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/deleted"
	f := newFake(t)
	f.on("Publish", snsError(404, "Sender", "NotFound", "Endpoint does not exist"), publishOK("msg-1"))
	f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
	store := &MemoryEndpoints{}
	key := EndpointKey{Application: fcmApp, Token: fcmToken, Owner: EndpointOwner{"ws1", "u1", "d-android"}}
	if err := store.PutEndpoint(context.Background(), key, stale); err != nil {
		t.Fatal(err)
	}
	s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp, Endpoints: store})

	rc, err := s.SendPush(context.Background(), pushMessage(fcmDevice))
	if err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	if diff := cmp.Diff(map[string]string{"d-android": fcmEndpoint}, rc.Endpoints); diff != "" {
		t.Errorf("receipt Endpoints (-want +got):\n%s", diff)
	}
	if got := f.callsOf("CreatePlatformEndpoint")[0].Get("CustomUserData"); got != "herald1/ws1/u1/d-android" {
		t.Errorf("re-created endpoint's CustomUserData = %q, want the owner", got)
	}
	var targets []string
	for _, p := range f.callsOf("Publish") {
		targets = append(targets, p.Get("TargetArn"))
	}
	if diff := cmp.Diff([]string{stale, fcmEndpoint}, targets); diff != "" {
		t.Errorf("Publish targets (-want +got):\n%s", diff)
	}
	if arn, _, _ := store.GetEndpoint(context.Background(), key); arn != fcmEndpoint {
		t.Errorf("stored endpoint = %q, want %q", arn, fcmEndpoint)
	}
}

func TestSendPushErrors(t *testing.T) {
	tests := []struct {
		name          string
		devices       []notify.Device
		noAPNs        bool
		script        func(f *fakeSNS)
		wantPermanent bool
		wantCode      string
		wantInvalid   []string
	}{
		{
			name:    "throttled",
			devices: []notify.Device{fcmDevice},
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
				f.on("Publish", snsError(400, "Sender", "Throttled", "Rate exceeded"))
			},
		},
		{
			name:    "internal error",
			devices: []notify.Device{fcmDevice},
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", snsError(500, "Receiver", "InternalError", "internal error"))
			},
		},
		{
			name:    "one transient failure keeps the push retryable",
			devices: []notify.Device{apnsDevice, fcmDevice},
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint",
					snsError(400, "Sender", "InvalidParameter", "Invalid parameter: Token"),
					createOK(fcmEndpoint))
				f.on("Publish", snsError(400, "Sender", "KMSThrottling", "slow down"))
			},
			wantInvalid: []string{"d-iphone"},
		},
		{
			name:    "payload refused",
			devices: []notify.Device{fcmDevice},
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
				f.on("Publish", snsError(400, "Sender", "InvalidParameter", "Invalid parameter: Message too long"))
			},
			wantPermanent: true,
			wantCode:      CodeInvalidRequest,
		},
		{
			name:          "no devices",
			wantPermanent: true,
			wantCode:      CodeNoDevice,
		},
		{
			name:          "no application for the kind",
			devices:       []notify.Device{apnsDevice},
			noAPNs:        true,
			wantPermanent: true,
			wantCode:      CodeInvalidRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			if tt.script != nil {
				tt.script(f)
			}
			cfg := PushConfig{FCMApplicationARN: fcmApp, APNsApplicationARN: apnsApp}
			if tt.noAPNs {
				cfg.APNsApplicationARN = ""
			}
			s := NewPush(f.client(), cfg)

			_, err := s.SendPush(context.Background(), pushMessage(tt.devices...))
			if err == nil {
				t.Fatal("SendPush succeeded, want an error")
			}
			code, permanent := channel.IsPermanent(err)
			if permanent != tt.wantPermanent || code != tt.wantCode {
				t.Errorf("IsPermanent(%v) = %q, %v, want %q, %v", err, code, permanent, tt.wantCode, tt.wantPermanent)
			}
			var ite *InvalidTokenError
			var gotInvalid []string
			if errors.As(err, &ite) {
				gotInvalid = ite.DeviceIDs
			}
			if diff := cmp.Diff(tt.wantInvalid, gotInvalid); diff != "" {
				t.Errorf("InvalidTokenError.DeviceIDs (-want +got):\n%s", diff)
			}
			for _, secret := range []string{fcmToken, apnsToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a token", err)
				}
			}
		})
	}
}
