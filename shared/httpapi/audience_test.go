package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/notify"
)

// seedAudience puts 12 users in ws1: u00–u11. Even ones are active, the
// rest leads; active users divisible by 4 allowed push and have a device;
// u02 turned push off.
func seedAudience(e *env) {
	e.t.Helper()
	for i := range 12 {
		id := fmt.Sprintf("u%02d", i)
		status := "lead"
		if i%2 == 0 {
			status = "active"
		}
		e.must(200, "PUT", "/v1/users/"+id, e.admin, map[string]any{"status": status, "attributes": map[string]string{"plan": "solar"}})
		if i%4 == 0 {
			e.must(201, "POST", "/v1/users/"+id+"/devices", e.admin, map[string]any{"kind": "fcm", "token": "tok-" + id})
			e.must(200, "PUT", "/v1/users/"+id+"/push-permission", e.admin, map[string]any{"status": "allowed"})
		}
	}
	e.must(200, "PUT", "/v1/users/u02/preferences", e.admin, map[string]any{"channels": map[string]bool{"push": false}})
}

func filterSend(expected *int) map[string]any {
	a := map[string]any{"filter": map[string]any{"status": []string{"active"}, "attributes": map[string]string{"plan": "solar"}}}
	if expected != nil {
		a["expectedCount"] = *expected
	}
	return map[string]any{"channel": "push", "content": map[string]any{"title": "Hi", "body": "Sun today"}, "audience": a}
}

func TestDryRunAndFilterSend(t *testing.T) {
	e := newEnv(t)
	seedAudience(e)
	// Active: u00 u02 u04 u06 u08 u10. Push reaches u00, u04, u08; u02 turned
	// push off (no_consent), u06 and u10 never allowed it (no_consent).
	r := e.must(200, "POST", "/v1/notifications:dryRun", e.admin, filterSend(nil))
	if r.body["recipients"] != 3.0 || r.body["users"] != 6.0 {
		t.Errorf("dry run = %s, want 3 recipients of 6 users", r.raw)
	}
	if sk := r.body["skipped"].(map[string]any); sk["no_consent"] != 3.0 || len(sk) != 1 {
		t.Errorf("dry run skipped = %v, want {no_consent: 3}", sk)
	}
	if sample := r.body["sample"].([]any); len(sample) != 3 {
		t.Errorf("dry run sample of %d, want the 3 recipients", len(sample))
	}
	if n := len(e.steps.bodies) + len(e.queue.bodies); n != 0 {
		t.Fatalf("a dry run enqueued %d messages", n)
	}

	// Without expectedCount, or with another count: 409 with the count now; nothing queued.
	for _, want := range []*int{nil, ptrInt(4)} {
		r = e.do("POST", "/v1/notifications", e.admin, filterSend(want))
		if r.status != 409 || r.errCode() != notify.CodeAudienceChanged || r.body["error"].(map[string]any)["currentCount"] != 3.0 {
			t.Errorf("send with expectedCount %v = %d %s, want 409 audience_changed with currentCount 3", want, r.status, r.raw)
		}
	}
	if n := len(e.steps.bodies) + len(e.queue.bodies); n != 0 {
		t.Fatalf("a refused send enqueued %d messages", n)
	}
	list := e.must(200, "GET", "/v1/notifications", e.admin, nil)
	if items := list.body["items"].([]any); len(items) != 0 {
		t.Fatalf("a refused send stored %d notifications", len(items))
	}

	// With the count: 202, one walk step per segment, counts of every matched user.
	r = e.must(202, "POST", "/v1/notifications", e.admin, filterSend(ptrInt(3)))
	id := r.body["id"].(string)
	if r.body["recipients"] != 6.0 {
		t.Errorf("accepted = %s, want 6 recipients (every matched user gets a delivery)", r.raw)
	}
	if len(e.steps.bodies) != audience.Segments || len(e.queue.bodies) != 0 {
		t.Errorf("enqueued %d steps and %d dispatch messages, want %d steps", len(e.steps.bodies), len(e.queue.bodies), audience.Segments)
	}
	expected := 0
	for _, b := range e.steps.bodies {
		var j audience.Job
		if err := json.Unmarshal(b, &j); err != nil || j.NotificationID != id || j.WorkspaceID != "ws1" || j.Filter.Attributes["plan"] != "solar" {
			t.Errorf("step %s: %v", b, err)
		}
		expected += j.Expected
	}
	if expected != 6 {
		t.Errorf("the steps expect %d users, want 6", expected)
	}
	n, err := e.store.GetNotification(context.Background(), "ws1", id)
	if err != nil {
		t.Fatal(err)
	}
	if n.Source != notify.SourceFilter || n.Audience.Kind != "filter" || n.Counts.Total != 6 {
		t.Errorf("notification source %s audience %+v counts %+v", n.Source, n.Audience, n.Counts)
	}
}

func TestDryRunOfALIst(t *testing.T) {
	e := newEnv(t)
	seedAudience(e)
	r := e.must(200, "POST", "/v1/notifications:dryRun", e.admin, map[string]any{
		"channel": "push", "content": map[string]any{"title": "Hi", "body": "x"},
		"audience": map[string]any{"userIds": []string{"u00", "u01", "u02", "nobody"}}})
	sk := r.body["skipped"].(map[string]any)
	if r.body["recipients"] != 1.0 || r.body["users"] != 4.0 || sk["no_consent"] != 2.0 || sk["unknown_user"] != 1.0 {
		t.Errorf("dry run of a list = %s, want 1 of 4, no_consent 2, unknown_user 1", r.raw)
	}
}

func TestFilterSendRefusals(t *testing.T) {
	e := newEnv(t)
	seedAudience(e)
	for name, body := range map[string]map[string]any{
		"unknown filter field": {"channel": "push", "content": map[string]any{"title": "t", "body": "b"}, "audience": map[string]any{"filter": map[string]any{"colour": "red"}, "expectedCount": 1}},
		"selects nobody":       {"channel": "push", "content": map[string]any{"title": "t", "body": "b"}, "audience": map[string]any{"filter": map[string]any{"status": []string{"gone"}}, "expectedCount": 0}},
		"free-form whatsapp":   {"channel": "whatsapp", "content": map[string]any{"body": "b"}, "audience": map[string]any{"filter": map[string]any{}, "expectedCount": 1}},
		"backwards dates":      {"channel": "push", "content": map[string]any{"title": "t", "body": "b"}, "audience": map[string]any{"filter": map[string]any{"createdAfter": "2026-02-01T00:00:00Z", "createdBefore": "2026-01-01T00:00:00Z"}, "expectedCount": 1}},
	} {
		if r := e.do("POST", "/v1/notifications", e.admin, body); r.status != 422 {
			t.Errorf("%s: %d %s, want 422", name, r.status, r.raw)
		}
	}
	if len(e.steps.bodies) != 0 {
		t.Errorf("refused sends enqueued %d steps", len(e.steps.bodies))
	}
}

func ptrInt(n int) *int { return &n }
