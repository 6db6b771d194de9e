package sns

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOwnerRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		owner EndpointOwner
		want  string
	}{
		{"plain", EndpointOwner{"ws1", "u1", "d1"}, "herald1/ws1/u1/d1"},
		{"slashes", EndpointOwner{"ws/1", "u/1/", "/d"}, "herald1/ws%2F1/u%2F1%2F/%2Fd"},
		{"percent", EndpointOwner{"ws%", "u%2F1", "d%25"}, "herald1/ws%25/u%252F1/d%2525"},
		{"xml and query characters", EndpointOwner{"a&b", "<u>", "d?x=1"}, "herald1/a&b/%3Cu%3E/d%3Fx=1"},
		{"spaces and unicode", EndpointOwner{"w s", "Müller", "d\x00"}, "herald1/w%20s/M%C3%BCller/d%00"},
		{"empty ids", EndpointOwner{}, "herald1///"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := FormatOwner(tt.owner)
			if s != tt.want {
				t.Errorf("FormatOwner(%q) = %q, want %q", tt.owner, s, tt.want)
			}
			got, ok := ParseOwner(s)
			if !ok {
				t.Fatalf("ParseOwner(%q) = not ok", s)
			}
			if diff := cmp.Diff(tt.owner, got); diff != "" {
				t.Errorf("ParseOwner(FormatOwner(o)) (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzOwnerRoundTrip(f *testing.F) {
	f.Add("ws1", "u1", "d1")
	f.Add("ws/1", "u%2F", "d/")
	f.Add("", "ü", "\xff")
	f.Fuzz(func(t *testing.T, ws, user, device string) {
		o := EndpointOwner{ws, user, device}
		s := FormatOwner(o)
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				t.Fatalf("FormatOwner(%q) = %q, not ASCII", o, s)
			}
		}
		if got, ok := ParseOwner(s); !ok || got != o {
			t.Fatalf("ParseOwner(FormatOwner(%q)) = %q, %v", o, got, ok)
		}
	})
}

func TestParseOwnerRejectsForeignData(t *testing.T) {
	for _, s := range []string{
		"",
		"UserId=01234567",
		`{"userId":"u1"}`,
		"herald1",
		"herald1/",
		"herald1/ws1/u1",
		"herald1/ws1/u1/d1/extra",
		"herald2/ws1/u1/d1",
		"Herald1/ws1/u1/d1",
		"xherald1/ws1/u1/d1",
		"herald1/ws%zz/u1/d1", // bad escape
		"herald1/ws%2/u1/d1",  // truncated escape
		"herald1/%77s1/u1/d1", // "w" escaped: not what FormatOwner writes
		"herald1/ws 1/u1/d1",  // unescaped space
		"herald1/ws%2f1/u1/d1",
	} {
		if o, ok := ParseOwner(s); ok {
			t.Errorf("ParseOwner(%q) = %q, true, want not ok", s, o)
		}
	}
}

func TestEndpointsOwner(t *testing.T) {
	owner := EndpointOwner{WorkspaceID: "ws/1", UserID: "a&b%", DeviceID: "d-android"}
	tests := []struct {
		name      string
		answer    answer
		wantOwner EndpointOwner
		wantToken string
		wantOK    bool
		wantErr   bool
	}{
		{
			name: "herald endpoint",
			answer: getAttributesOK(map[string]string{
				"Enabled": "false", "Token": fcmToken, "CustomUserData": FormatOwner(owner),
			}),
			wantOwner: owner, wantToken: fcmToken, wantOK: true,
		},
		{
			name: "custom user data of someone else",
			answer: getAttributesOK(map[string]string{
				"Enabled": "true", "Token": fcmToken, "CustomUserData": "UserId=01234567",
			}),
			wantToken: fcmToken,
		},
		{
			name:      "no custom user data",
			answer:    getAttributesOK(map[string]string{"Enabled": "true", "Token": fcmToken}),
			wantToken: fcmToken,
		},
		{
			name:   "endpoint deleted",
			answer: snsError(404, "Sender", "NotFound", "Endpoint does not exist"),
		},
		{
			name:    "internal error",
			answer:  snsError(500, "Receiver", "InternalError", "internal error"),
			wantErr: true,
		},
		{
			name:    "not authorized",
			answer:  snsError(403, "Sender", "AuthorizationError", "User is not authorized to perform: SNS:GetEndpointAttributes"),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("GetEndpointAttributes", tt.answer)
			e := NewEndpoints(f.client())

			gotOwner, gotToken, ok, err := e.Owner(context.Background(), fcmEndpoint)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Owner error = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "GetEndpointAttributes") {
				t.Errorf("error %q does not name the operation", err)
			}
			if gotOwner != tt.wantOwner || gotToken != tt.wantToken || ok != tt.wantOK {
				t.Errorf("Owner = %q, %q, %v, want %q, %q, %v", gotOwner, gotToken, ok, tt.wantOwner, tt.wantToken, tt.wantOK)
			}
			calls := f.callsOf("GetEndpointAttributes")
			if len(calls) != 1 || calls[0].Get("EndpointArn") != fcmEndpoint {
				t.Errorf("GetEndpointAttributes calls = %v, want one for %s", calls, fcmEndpoint)
			}
		})
	}
}

// TestEndpointsOwnerOfCreatedEndpoint reads back what PushSender wrote.
func TestEndpointsOwnerOfCreatedEndpoint(t *testing.T) {
	f := newFake(t)
	createsThenPublishes(fcmEndpoint)(f)
	m := pushMessage(fcmDevice)
	m.WorkspaceID, m.UserID = "ws/α", "user%1"
	if _, err := NewPush(f.client(), PushConfig{FCMApplicationARN: fcmApp}).SendPush(context.Background(), m); err != nil {
		t.Fatalf("SendPush: %v", err)
	}
	written := f.callsOf("CreatePlatformEndpoint")[0].Get("CustomUserData")
	f.on("GetEndpointAttributes", getAttributesOK(map[string]string{"Token": fcmToken, "CustomUserData": written, "Enabled": "true"}))

	owner, _, ok, err := NewEndpoints(f.client()).Owner(context.Background(), fcmEndpoint)
	want := EndpointOwner{WorkspaceID: "ws/α", UserID: "user%1", DeviceID: "d-android"}
	if err != nil || !ok || owner != want {
		t.Errorf("Owner = %q, %v, %v, want %q, true, nil", owner, ok, err, want)
	}
}

func TestEndpointsDelete(t *testing.T) {
	tests := []struct {
		name    string
		answer  answer
		wantErr bool
	}{
		{"deleted", deleteEndpointOK(), false},
		// SNS deletes idempotently (a missing endpoint answers like the
		// first case); a NotFound is taken the same way.
		{"missing", snsError(404, "Sender", "NotFound", "Endpoint does not exist"), false},
		{"not authorized", snsError(403, "Sender", "AuthorizationError", "User is not authorized to perform: SNS:DeleteEndpoint"), true},
		{"internal error", snsError(500, "Receiver", "InternalError", "internal error"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("DeleteEndpoint", tt.answer)
			err := NewEndpoints(f.client()).Delete(context.Background(), fcmEndpoint)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Delete = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "DeleteEndpoint") {
				t.Errorf("error %q does not name the operation", err)
			}
			calls := f.callsOf("DeleteEndpoint")
			if len(calls) != 1 || calls[0].Get("EndpointArn") != fcmEndpoint {
				t.Errorf("DeleteEndpoint calls = %v, want one for %s", calls, fcmEndpoint)
			}
		})
	}
}
