package httpapi

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// TestNotificationOrigin: what is sent through the API says so, sent now
// or scheduled; the history filters on the origin, an old notification
// without one matching none; an unknown origin names the field.
func TestNotificationOrigin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sent := e.must(202, "POST", "/v1/notifications", e.admin, campaignSend()).body["id"].(string)
	scheduled := e.must(202, "POST", "/v1/notifications", e.admin, scheduledSend(time.Now().Add(time.Hour))).body["id"].(string)
	for _, id := range []string{sent, scheduled} {
		if n := e.must(200, "GET", "/v1/notifications/"+id, e.admin, nil); n.body["origin"] != "api" {
			t.Errorf("GET /v1/notifications/%s origin = %v, want api (%s)", id, n.body["origin"], n.raw)
		}
	}

	// One made in the console and one from before origins were recorded.
	var ids notify.IDs
	at := time.Now().UTC().Truncate(time.Millisecond)
	stored := func(origin notify.Origin) string {
		n := notify.Notification{WorkspaceID: "ws1", ID: ids.New(at), Channel: notify.ChannelSMS, Source: notify.SourceSingle, Origin: origin,
			Body: "Hola", Route: "home", Status: notify.StatusCompleted, Audience: notify.Audience{Kind: "addresses", Count: 1},
			CreatedAt: at, UpdatedAt: at, CreatedBy: "operator ana@example.com"}
		if err := e.store.CreateNotification(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	console, old := stored(notify.OriginConsole), stored("")
	if n := e.must(200, "GET", "/v1/notifications/"+old, e.admin, nil); n.body["origin"] != nil {
		t.Errorf("a notification without origin shows origin %v, want none (%s)", n.body["origin"], n.raw)
	}

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{sent, scheduled, console, old}},
		{"?origin=api", []string{sent, scheduled}},
		{"?origin=console", []string{console}},
		{"?origin=campaign", nil},
		{"?origin=api&status=scheduled", []string{scheduled}},
	}
	for _, tt := range tests {
		got := listedIDs(t, e.must(200, "GET", "/v1/notifications"+tt.query, e.admin, nil))
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("GET /v1/notifications%s = %v, want %v", tt.query, got, want)
		}
	}
	if r := e.must(200, "GET", "/v1/notifications?origin=console", e.other, nil); len(listedIDs(t, r)) != 0 {
		t.Errorf("another workspace's console sends = %s, want none", r.raw)
	}

	for _, bad := range []string{"API", "spreadsheet", "operator"} {
		if r := e.do("GET", "/v1/notifications?origin="+bad, e.admin, nil); r.status != 422 || r.errCode() != "validation_failed" || r.errField() != "origin" {
			t.Errorf("GET /v1/notifications?origin=%s = %d %s, want 422 on origin", bad, r.status, r.raw)
		}
	}
}
