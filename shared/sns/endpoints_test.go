package sns

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// withEndpoint is d remembering endpoint.
func withEndpoint(d notify.Device, endpoint string) notify.Device {
	d.Endpoint = endpoint
	return d
}

// createsThenPublishes scripts SNS to create the endpoint arn, then take a
// Publish.
func createsThenPublishes(arn string) func(*fakeSNS) {
	return func(f *fakeSNS) {
		f.on("CreatePlatformEndpoint", createOK(arn))
		f.on("Publish", publishOK("m1"))
	}
}

func TestSendPushRemembersEndpoints(t *testing.T) {
	const (
		staleFCM    = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/deleted"
		otherAppFCM = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android-old/1a2b3c4d-dddd-3e4f-8a9b-0c1d2e3f4a5b"
		newFCM      = "arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/7f6e5d4c-eeee-3b2a-9c8d-7e6f5a4b3c2d"
	)
	tests := []struct {
		name          string
		devices       []notify.Device
		script        func(f *fakeSNS)
		wantActions   []string
		wantTargets   []string
		wantEndpoints map[string]string
		wantInvalid   []string
	}{
		{
			name:        "remembered endpoint is published to",
			devices:     []notify.Device{withEndpoint(fcmDevice, fcmEndpoint)},
			script:      func(f *fakeSNS) { f.on("Publish", publishOK("m1")) },
			wantActions: []string{"Publish"},
			wantTargets: []string{fcmEndpoint},
		},
		{
			name:          "endpoint of another application is ignored",
			devices:       []notify.Device{withEndpoint(fcmDevice, otherAppFCM)},
			script:        createsThenPublishes(fcmEndpoint),
			wantActions:   []string{"CreatePlatformEndpoint", "Publish"},
			wantTargets:   []string{fcmEndpoint},
			wantEndpoints: map[string]string{"d-android": fcmEndpoint},
		},
		{
			name:          "sandbox endpoint is not used with the production application",
			devices:       []notify.Device{withEndpoint(apnsDevice, sandboxEndpoint)},
			script:        createsThenPublishes(apnsEndpoint),
			wantActions:   []string{"CreatePlatformEndpoint", "Publish"},
			wantTargets:   []string{apnsEndpoint},
			wantEndpoints: map[string]string{"d-iphone": apnsEndpoint},
		},
		{
			name:          "endpoint of the other platform's application is ignored",
			devices:       []notify.Device{withEndpoint(fcmDevice, apnsEndpoint)},
			script:        createsThenPublishes(fcmEndpoint),
			wantActions:   []string{"CreatePlatformEndpoint", "Publish"},
			wantTargets:   []string{fcmEndpoint},
			wantEndpoints: map[string]string{"d-android": fcmEndpoint},
		},
		{
			name:    "deleted remembered endpoint is re-created and reported",
			devices: []notify.Device{withEndpoint(fcmDevice, staleFCM)},
			script: func(f *fakeSNS) {
				f.on("Publish", snsError(404, "Sender", "NotFound", "Endpoint does not exist"), publishOK("m1"))
				f.on("CreatePlatformEndpoint", createOK(newFCM))
			},
			wantActions:   []string{"Publish", "CreatePlatformEndpoint", "Publish"},
			wantTargets:   []string{staleFCM, newFCM},
			wantEndpoints: map[string]string{"d-android": newFCM},
		},
		{
			name:    "disabled remembered endpoint is re-enabled, not reported",
			devices: []notify.Device{withEndpoint(fcmDevice, fcmEndpoint)},
			script: func(f *fakeSNS) {
				f.on("Publish", snsError(400, "Sender", "EndpointDisabled", "Endpoint is disabled"), publishOK("m1"))
				f.on("SetEndpointAttributes", setAttributesOK())
			},
			wantActions: []string{"Publish", "SetEndpointAttributes", "Publish"},
			wantTargets: []string{fcmEndpoint, fcmEndpoint},
		},
		{
			name:    "one device reused, one created",
			devices: []notify.Device{withEndpoint(apnsDevice, apnsEndpoint), fcmDevice},
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
				f.on("Publish", publishOK("m1"), publishOK("m2"))
			},
			wantActions:   []string{"Publish", "CreatePlatformEndpoint", "Publish"},
			wantTargets:   []string{apnsEndpoint, fcmEndpoint},
			wantEndpoints: map[string]string{"d-android": fcmEndpoint},
		},
		{
			name:    "endpoint created for a device whose publish failed transiently is reported",
			devices: []notify.Device{fcmDevice, withEndpoint(apnsDevice, apnsEndpoint)},
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
				f.on("Publish", snsError(500, "Receiver", "InternalError", "internal error"), publishOK("m2"))
			},
			wantActions:   []string{"CreatePlatformEndpoint", "Publish", "Publish"},
			wantTargets:   []string{fcmEndpoint, apnsEndpoint},
			wantEndpoints: map[string]string{"d-android": fcmEndpoint},
		},
		{
			name:    "endpoint of a refused token is not reported",
			devices: []notify.Device{fcmDevice, withEndpoint(apnsDevice, apnsEndpoint)},
			script: func(f *fakeSNS) {
				f.on("CreatePlatformEndpoint", createOK(fcmEndpoint))
				f.on("Publish",
					snsError(400, "Sender", "EndpointDisabled", "Endpoint is disabled"),
					snsError(400, "Sender", "EndpointDisabled", "Endpoint is disabled"),
					publishOK("m2"))
				f.on("SetEndpointAttributes", setAttributesOK())
			},
			wantActions: []string{"CreatePlatformEndpoint", "Publish", "SetEndpointAttributes", "Publish", "Publish"},
			wantTargets: []string{fcmEndpoint, fcmEndpoint, apnsEndpoint},
			wantInvalid: []string{"d-android"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			tt.script(f)
			// A new sender, as in a new Lambda container: nothing in memory.
			s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp, APNsApplicationARN: apnsApp})

			rc, err := s.SendPush(context.Background(), pushMessage(tt.devices...))
			if err != nil {
				t.Fatalf("SendPush: %v", err)
			}
			if diff := cmp.Diff(tt.wantActions, f.actions()); diff != "" {
				t.Errorf("actions (-want +got):\n%s", diff)
			}
			var targets []string
			for _, p := range f.callsOf("Publish") {
				targets = append(targets, p.Get("TargetArn"))
			}
			if diff := cmp.Diff(tt.wantTargets, targets); diff != "" {
				t.Errorf("Publish targets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEndpoints, rc.Endpoints); diff != "" {
				t.Errorf("receipt Endpoints (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantInvalid, rc.InvalidDevices); diff != "" {
				t.Errorf("receipt InvalidDevices (-want +got):\n%s", diff)
			}
			for _, c := range f.callsOf("CreatePlatformEndpoint") {
				if got := c.Get("CustomUserData"); !strings.HasPrefix(got, "herald1/ws1/u1/d-") {
					t.Errorf("CreatePlatformEndpoint CustomUserData = %q, want the device's owner", got)
				}
			}
		})
	}
}

func TestSendPushDoesNotShareEndpointsAcrossOwners(t *testing.T) {
	takenOver := endpointExists(fcmEndpoint)
	f := newFake(t)
	f.on("CreatePlatformEndpoint", createOK(fcmEndpoint), takenOver, takenOver)
	f.on("SetEndpointAttributes", setAttributesOK(), setAttributesOK())
	f.on("Publish", publishOK("m1"), publishOK("m2"), publishOK("m3"), publishOK("m4"))
	s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp})
	ctx := context.Background()

	// The phone's token first belongs to u1's device, then to u2's.
	u1 := pushMessage(fcmDevice)
	u2 := pushMessage(notify.Device{ID: "d-other", Kind: notify.DeviceFCM, Token: fcmToken})
	u2.UserID, u2.RecipientKey = "u2", "u2"
	for i, m := range []channel.PushMessage{u1, u1, u2, u1} {
		if _, err := s.SendPush(ctx, m); err != nil {
			t.Fatalf("push %d (%s): %v", i, m.UserID, err)
		}
	}
	wantActions := []string{
		"CreatePlatformEndpoint", "Publish", // u1: created
		"Publish",                                                    // u1 again: from memory
		"CreatePlatformEndpoint", "SetEndpointAttributes", "Publish", // u2: not u1's endpoint from memory, taken over
		"CreatePlatformEndpoint", "SetEndpointAttributes", "Publish", // u1: taken back
	}
	if diff := cmp.Diff(wantActions, f.actions()); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	var owners []string
	for _, c := range f.callsOf("CreatePlatformEndpoint") {
		owners = append(owners, c.Get("CustomUserData"))
	}
	for _, c := range f.callsOf("SetEndpointAttributes") {
		owners = append(owners, attributes(c)["CustomUserData"])
	}
	wantOwners := []string{
		"herald1/ws1/u1/d-android", "herald1/ws1/u2/d-other", "herald1/ws1/u1/d-android", // created
		"herald1/ws1/u2/d-other", "herald1/ws1/u1/d-android", // taken over
	}
	if diff := cmp.Diff(wantOwners, owners); diff != "" {
		t.Errorf("owners written (-want +got):\n%s", diff)
	}
}

func TestSendPushOwnerTooLong(t *testing.T) {
	f := newFake(t)
	f.on("CreatePlatformEndpoint", endpointExists(fcmEndpoint))
	f.on("SetEndpointAttributes", setAttributesOK())
	f.on("Publish", publishOK("m1"))
	s := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp})
	m := pushMessage(fcmDevice)
	m.UserID = strings.Repeat("u", 2048)

	if _, err := s.SendPush(context.Background(), m); err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	if c := f.callsOf("CreatePlatformEndpoint")[0]; c.Has("CustomUserData") {
		t.Errorf("CreatePlatformEndpoint sent CustomUserData of %d bytes, want none over SNS's limit", len(c.Get("CustomUserData")))
	}
	want := map[string]string{"Token": fcmToken, "Enabled": "true"}
	if diff := cmp.Diff(want, attributes(f.callsOf("SetEndpointAttributes")[0])); diff != "" {
		t.Errorf("SetEndpointAttributes Attributes (-want +got):\n%s", diff)
	}
}

func TestMemoryEndpoints(t *testing.T) {
	ctx := context.Background()
	var s MemoryEndpoints
	owner := EndpointOwner{"ws1", "u1", "d1"}
	key := EndpointKey{Application: fcmApp, Token: fcmToken, Owner: owner}
	if _, ok, err := s.GetEndpoint(ctx, key); ok || err != nil {
		t.Fatalf("GetEndpoint on empty store = %v, %v, want false, nil", ok, err)
	}
	if err := s.PutEndpoint(ctx, key, fcmEndpoint); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		key    EndpointKey
		wantOK bool
	}{
		{"same key", key, true},
		{"other user", EndpointKey{fcmApp, fcmToken, EndpointOwner{"ws1", "u2", "d1"}}, false},
		{"other device", EndpointKey{fcmApp, fcmToken, EndpointOwner{"ws1", "u1", "d2"}}, false},
		{"other workspace", EndpointKey{fcmApp, fcmToken, EndpointOwner{"ws2", "u1", "d1"}}, false},
		{"other application", EndpointKey{apnsApp, fcmToken, owner}, false},
		{"other token", EndpointKey{fcmApp, "other", owner}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arn, ok, err := s.GetEndpoint(ctx, tt.key)
			if err != nil || ok != tt.wantOK || (ok && arn != fcmEndpoint) {
				t.Errorf("GetEndpoint = %q, %v, %v, want ok %v", arn, ok, err, tt.wantOK)
			}
		})
	}
	// Taken over by another owner: the first one misses from then on.
	other := EndpointKey{fcmApp, fcmToken, EndpointOwner{"ws1", "u2", "d9"}}
	if err := s.PutEndpoint(ctx, other, fcmEndpoint); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.GetEndpoint(ctx, key); ok {
		t.Error("GetEndpoint of the previous owner after a take-over = ok, want a miss")
	}
	if arn, ok, _ := s.GetEndpoint(ctx, other); !ok || arn != fcmEndpoint {
		t.Errorf("GetEndpoint of the new owner = %q, %v, want %q, true", arn, ok, fcmEndpoint)
	}
}

func TestEndpointOfApp(t *testing.T) {
	tests := []struct {
		endpoint, app string
		want          bool
	}{
		{fcmEndpoint, fcmApp, true},
		{apnsEndpoint, apnsApp, true},
		{sandboxEndpoint, apnsSandboxApp, true},
		{sandboxEndpoint, apnsApp, false},
		{apnsEndpoint, apnsSandboxApp, false},
		{fcmEndpoint, apnsApp, false},
		{"arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android-dev/5d9a1f2c", fcmApp, false},
		{"arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald/5d9a1f2c", fcmApp, false},
		{"arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-android/5d9a1f2c", fcmApp, false},
		{"arn:aws:sns:eu-west-1:210987654321:endpoint/GCM/herald-android/5d9a1f2c", fcmApp, false},
		{"arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/", fcmApp, false},
		{"arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/herald-android/a/b", fcmApp, false},
		{"arn:aws:sns:eu-west-1:123456789012:app/GCM/herald-android", fcmApp, false},
		{"garbage", fcmApp, false},
		{fcmEndpoint, "not-an-arn", false},
		{"arn:aws-cn:sns:cn-north-1:123456789012:endpoint/GCM/app/1", "arn:aws-cn:sns:cn-north-1:123456789012:app/GCM/app", true},
	}
	for _, tt := range tests {
		if got := endpointOfApp(tt.endpoint, tt.app); got != tt.want {
			t.Errorf("endpointOfApp(%q, %q) = %v, want %v", tt.endpoint, tt.app, got, tt.want)
		}
	}
}
