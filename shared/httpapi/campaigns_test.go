package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/notify"
)

// campaignSend is a valid send body for a campaign's notification.
func campaignSend() map[string]any {
	return map[string]any{"channel": "sms", "content": map[string]any{"body": "Hi {{name}}"}, "variables": map[string]any{"name": "there"}, "audience": map[string]any{"addresses": []string{"+34600000001"}}}
}

// campaignInput is a valid campaign body with over's fields replaced
// (a nil value removes the field).
func campaignInput(over map[string]any) map[string]any {
	in := map[string]any{"name": "Monday tips", "schedule": "cron(0 9 ? * MON *)", "timezone": "Europe/Madrid", "notification": campaignSend()}
	for k, v := range over {
		if v == nil {
			delete(in, k)
			continue
		}
		in[k] = v
	}
	return in
}

// scheduledSend is a send body for scheduleAt.
func scheduledSend(at time.Time) map[string]any {
	b := campaignSend()
	b["scheduleAt"] = at.Format(time.RFC3339Nano)
	return b
}

// listedIDs are the ids of a list answer's items.
func listedIDs(t *testing.T, r response) []string {
	t.Helper()
	items, ok := r.body["items"].([]any)
	if !ok {
		t.Fatalf("not a list answer: %s", r.raw)
	}
	ids := []string{}
	for _, it := range items {
		id, _ := it.(map[string]any)["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

// wantSpec is the schedule a campaign of ws1 should have on the scheduler.
func wantSpec(c campaignView, enabled bool) notify.ScheduleSpec {
	return notify.ScheduleSpec{Name: "c-" + c.ID, Expression: c.Schedule, Timezone: c.Timezone, Enabled: enabled,
		Target: notify.ScheduleTarget{WorkspaceID: "ws1", CampaignID: c.ID}, Start: c.CreatedAt}
}

func checkSpec(t *testing.T, e *env, want notify.ScheduleSpec) {
	t.Helper()
	got, ok := e.sched.Spec(want.Name)
	if !ok {
		t.Fatalf("scheduler has no %s; it has %v", want.Name, e.sched.Names())
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("schedule %s (-want +got):\n%s", want.Name, d)
	}
}

func TestCreateCampaign(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	start := time.Now()
	r := e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(nil))
	c := decodeBody[campaignView](t, r)
	if !strings.HasPrefix(c.ID, "cmp_") || c.Kind != notify.CampaignKindCampaign || c.Name != "Monday tips" || c.Schedule != "cron(0 9 ? * MON *)" ||
		c.Timezone != "Europe/Madrid" || c.Status != notify.CampaignActive || c.Sync.State != notify.SyncSynced || c.Sync.Error != "" ||
		c.CreatedBy != "k1 (k1)" || c.LastRunAt != nil || c.NotificationID != "" {
		t.Errorf("created campaign = %s", r.raw)
	}
	if string(c.Notification) != mustJSON(t, campaignSend()) {
		t.Errorf("notification = %s, want the send as given", c.Notification)
	}

	// Five Mondays at 09:00 in Madrid, in order, the first within a week.
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.NextRuns) != 5 {
		t.Fatalf("nextRuns = %v, want 5", c.NextRuns)
	}
	for i, run := range c.NextRuns {
		local := run.In(madrid)
		if local.Weekday() != time.Monday || local.Hour() != 9 || local.Minute() != 0 || local.Second() != 0 || run.Location() != time.UTC {
			t.Errorf("nextRuns[%d] = %s (%s in Madrid), want a Monday 09:00 in Madrid, in UTC", i, run, local)
		}
		if i == 0 && (!run.After(start) || run.After(start.Add(7*24*time.Hour+time.Hour))) {
			t.Errorf("nextRuns[0] = %s, want the next Monday after %s", run, start)
		}
		if i > 0 {
			if gap := run.Sub(c.NextRuns[i-1]); gap < 167*time.Hour || gap > 169*time.Hour {
				t.Errorf("nextRuns[%d] is %s after the previous one, want a week", i, gap)
			}
		}
	}
	checkSpec(t, e, wantSpec(c, true))

	got := e.must(200, "GET", "/v1/campaigns/"+c.ID, e.admin, nil)
	if d := cmp.Diff(c, decodeBody[campaignView](t, got)); d != "" {
		t.Errorf("GET = created (-created +got):\n%s", d)
	}

	// Another workspace's campaign is neither listed nor reachable, and
	// this one is not theirs.
	theirs := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.other, campaignInput(map[string]any{"name": "Theirs"})))
	if ids := listedIDs(t, e.must(200, "GET", "/v1/campaigns", e.admin, nil)); !slices.Equal(ids, []string{c.ID}) {
		t.Errorf("GET /v1/campaigns = %v, want [%s]", ids, c.ID)
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/campaigns", e.other, nil)); !slices.Equal(ids, []string{theirs.ID}) {
		t.Errorf("GET /v1/campaigns of ws2 = %v, want [%s]", ids, theirs.ID)
	}
	for _, rq := range []struct{ method, path string }{
		{"GET", "/v1/campaigns/" + theirs.ID}, {"PUT", "/v1/campaigns/" + theirs.ID}, {"POST", "/v1/campaigns/" + theirs.ID + "/pause"},
		{"POST", "/v1/campaigns/" + theirs.ID + "/resume"}, {"GET", "/v1/campaigns/" + theirs.ID + "/runs"}, {"DELETE", "/v1/campaigns/" + theirs.ID},
	} {
		var body any
		if rq.method == "PUT" {
			body = campaignInput(nil)
		}
		if r := e.do(rq.method, rq.path, e.admin, body); r.status != 404 || r.errCode() != "not_found" {
			t.Errorf("%s %s of another workspace = %d %s, want 404", rq.method, rq.path, r.status, r.raw)
		}
	}
	if got := decodeBody[campaignView](t, e.must(200, "GET", "/v1/campaigns/"+theirs.ID, e.other, nil)); got.Status != notify.CampaignActive {
		t.Errorf("ws2's campaign after ws1's attempts = %s, want untouched", got.Status)
	}

	// A scheduled send runs by a campaign of kind send, which the
	// campaign routes do not show.
	sr := e.must(202, "POST", "/v1/notifications", e.admin, scheduledSend(time.Now().Add(time.Hour)))
	sendCampaign := campaign.SendCampaignID(sr.body["id"].(string))
	if _, err := e.store.GetCampaign(context.Background(), "ws1", sendCampaign); err != nil {
		t.Fatalf("the scheduled send's campaign %s is not stored: %v", sendCampaign, err)
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/campaigns", e.admin, nil)); !slices.Equal(ids, []string{c.ID}) {
		t.Errorf("GET /v1/campaigns with a scheduled send = %v, want only [%s]", ids, c.ID)
	}
	for _, rq := range []struct{ method, path string }{
		{"GET", "/v1/campaigns/" + sendCampaign}, {"PUT", "/v1/campaigns/" + sendCampaign}, {"POST", "/v1/campaigns/" + sendCampaign + "/pause"},
		{"GET", "/v1/campaigns/" + sendCampaign + "/runs"}, {"DELETE", "/v1/campaigns/" + sendCampaign},
	} {
		var body any
		if rq.method == "PUT" {
			body = campaignInput(nil)
		}
		if r := e.do(rq.method, rq.path, e.admin, body); r.status != 404 || r.errCode() != "not_found" {
			t.Errorf("%s %s (a scheduled send's) = %d %s, want 404", rq.method, rq.path, r.status, r.raw)
		}
	}
	if _, ok := e.sched.Spec("c-" + sendCampaign); !ok {
		t.Errorf("the scheduled send's schedule is gone after the campaign routes refused it")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCampaignValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	with := func(field string, v any) map[string]any {
		n := campaignSend()
		n[field] = v
		return n
	}
	withoutContent := campaignSend()
	delete(withoutContent, "content")
	withoutContent["templateId"] = "tpl_nope"
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"day-of-month and day-of-week", campaignInput(map[string]any{"schedule": "cron(0 9 1 * MON *)"}), "schedule"},
		{"not an expression", campaignInput(map[string]any{"schedule": "every monday"}), "schedule"},
		{"plural rate of 1", campaignInput(map[string]any{"schedule": "rate(1 days)"}), "schedule"},
		{"no schedule", campaignInput(map[string]any{"schedule": nil}), "schedule"},
		{"at in the past", campaignInput(map[string]any{"schedule": "at(2020-01-01T09:00:00)"}), "schedule"},
		{"unknown time zone", campaignInput(map[string]any{"timezone": "Mars/Base"}), "timezone"},
		{"Local time zone", campaignInput(map[string]any{"timezone": "Local"}), "timezone"},
		{"missing name", campaignInput(map[string]any{"name": nil}), "name"},
		{"blank name", campaignInput(map[string]any{"name": "   "}), "name"},
		{"long name", campaignInput(map[string]any{"name": strings.Repeat("n", 201)}), "name"},
		{"no notification", campaignInput(map[string]any{"notification": nil}), "notification"},
		{"notification not an object", campaignInput(map[string]any{"notification": []int{1}}), "notification"},
		{"notification with scheduleAt", campaignInput(map[string]any{"notification": with("scheduleAt", "2030-01-01T09:00:00Z")}), "notification.scheduleAt"},
		{"notification with expectedCount", campaignInput(map[string]any{"notification": with("audience", map[string]any{"filter": map[string]any{"status": []string{"active"}}, "expectedCount": 3})}), "notification.audience.expectedCount"},
		{"notification with an unknown template", campaignInput(map[string]any{"notification": withoutContent}), "notification.templateId"},
		{"notification with a bad channel", campaignInput(map[string]any{"notification": with("channel", "pigeon")}), "notification.channel"},
		{"notification with an unknown field", campaignInput(map[string]any{"notification": with("colour", "red")}), "notification"},
		{"unknown field", campaignInput(map[string]any{"colour": "red"}), "colour"},
	}
	for _, tt := range tests {
		r := e.do("POST", "/v1/campaigns", e.admin, tt.body)
		if r.status != 422 || r.errCode() != "validation_failed" || !slices.Contains(errFields(r), tt.field) {
			t.Errorf("%s: POST /v1/campaigns = %d fields %v, want 422 naming %q: %s", tt.name, r.status, errFields(r), tt.field, r.raw)
		}
	}
	// The same rules hold for PUT, which changes nothing when it refuses.
	c := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(nil)))
	for _, tt := range tests {
		r := e.do("PUT", "/v1/campaigns/"+c.ID, e.admin, tt.body)
		if r.status != 422 || !slices.Contains(errFields(r), tt.field) {
			t.Errorf("%s: PUT = %d fields %v, want 422 naming %q", tt.name, r.status, errFields(r), tt.field)
		}
	}
	if got := decodeBody[campaignView](t, e.must(200, "GET", "/v1/campaigns/"+c.ID, e.admin, nil)); !cmp.Equal(got.Campaign, c.Campaign) {
		t.Errorf("refused PUTs changed the campaign:\n%s", cmp.Diff(c.Campaign, got.Campaign))
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/campaigns", e.admin, nil)); !slices.Equal(ids, []string{c.ID}) {
		t.Errorf("campaigns after refused requests = %v, want only [%s]", ids, c.ID)
	}
	if names := e.sched.Names(); !slices.Equal(names, []string{"c-" + c.ID}) {
		t.Errorf("schedules after refused requests = %v, want only c-%s", names, c.ID)
	}
	if r := e.do("POST", "/v1/campaigns", e.admin, `{"name": `); r.status != 400 || r.errCode() != "bad_request" {
		t.Errorf("malformed JSON = %d %q, want 400", r.status, r.errCode())
	}

	// The timezone is optional: UTC.
	utc := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(map[string]any{"timezone": nil, "schedule": "rate(1 day)"})))
	if utc.Timezone != "UTC" || len(utc.NextRuns) != 5 || utc.NextRuns[1].Sub(utc.NextRuns[0]) != 24*time.Hour {
		t.Errorf("rate(1 day) without a timezone = %s %v, want UTC and daily runs", utc.Timezone, utc.NextRuns)
	}
	checkSpec(t, e, wantSpec(utc, true))
}

func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(map[string]any{"schedule": "rate(1 day)", "timezone": nil})))

	// PUT replaces the schedule on the scheduler too.
	r := e.must(200, "PUT", "/v1/campaigns/"+c.ID, e.admin, campaignInput(map[string]any{"name": "Friday tips", "schedule": "cron(30 18 ? * FRI *)"}))
	up := decodeBody[campaignView](t, r)
	if up.ID != c.ID || up.Name != "Friday tips" || up.Schedule != "cron(30 18 ? * FRI *)" || up.Timezone != "Europe/Madrid" ||
		up.Status != notify.CampaignActive || up.Sync.State != notify.SyncSynced || !up.CreatedAt.Equal(c.CreatedAt) || up.UpdatedAt.Before(c.UpdatedAt) {
		t.Errorf("updated campaign = %s", r.raw)
	}
	if len(up.NextRuns) != 5 || up.NextRuns[0].Weekday() != time.Friday {
		t.Errorf("nextRuns after PUT = %v, want five Fridays", up.NextRuns)
	}
	checkSpec(t, e, wantSpec(up, true))

	// Pause disables the schedule and shows no next runs.
	r = e.must(200, "POST", "/v1/campaigns/"+c.ID+"/pause", e.admin, nil)
	paused := decodeBody[campaignView](t, r)
	if paused.Status != notify.CampaignPaused || paused.Sync.State != notify.SyncSynced || r.body["nextRuns"] == nil || len(paused.NextRuns) != 0 {
		t.Errorf("paused = %s, want status paused, synced, nextRuns []", r.raw)
	}
	checkSpec(t, e, wantSpec(paused, false))
	e.must(200, "POST", "/v1/campaigns/"+c.ID+"/pause", e.admin, nil) // again: no change

	// A PUT keeps a paused campaign paused, with the new schedule disabled.
	r = e.must(200, "PUT", "/v1/campaigns/"+c.ID, e.admin, campaignInput(map[string]any{"schedule": "cron(0 8 ? * TUE *)"}))
	pausedUp := decodeBody[campaignView](t, r)
	if pausedUp.Status != notify.CampaignPaused || len(pausedUp.NextRuns) != 0 {
		t.Errorf("PUT of a paused campaign = %s, want it still paused", r.raw)
	}
	checkSpec(t, e, wantSpec(pausedUp, false))

	// Resume enables it again.
	r = e.must(200, "POST", "/v1/campaigns/"+c.ID+"/resume", e.admin, nil)
	resumed := decodeBody[campaignView](t, r)
	if resumed.Status != notify.CampaignActive || len(resumed.NextRuns) != 5 || resumed.Schedule != "cron(0 8 ? * TUE *)" {
		t.Errorf("resumed = %s", r.raw)
	}
	checkSpec(t, e, wantSpec(resumed, true))

	// Delete removes the schedule, the campaign and its runs.
	if _, _, err := e.store.StartRun(context.Background(), notify.CampaignRun{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: time.Now().UTC().Truncate(time.Millisecond), Status: notify.RunRunning, StartedAt: time.Now().UTC().Truncate(time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("DELETE", "/v1/campaigns/"+c.ID, e.admin, nil); r.status != 204 || r.raw != "" {
		t.Fatalf("DELETE = %d %q, want 204 and no body", r.status, r.raw)
	}
	if _, ok := e.sched.Spec("c-" + c.ID); ok {
		t.Errorf("schedule c-%s left after the delete", c.ID)
	}
	for _, path := range []string{"/v1/campaigns/" + c.ID, "/v1/campaigns/" + c.ID + "/runs"} {
		e.must(404, "GET", path, e.admin, nil)
	}
	e.must(404, "DELETE", "/v1/campaigns/"+c.ID, e.admin, nil)
	e.must(404, "POST", "/v1/campaigns/"+c.ID+"/resume", e.admin, nil)
	e.must(404, "PUT", "/v1/campaigns/"+c.ID, e.admin, campaignInput(nil))
	if ids := listedIDs(t, e.must(200, "GET", "/v1/campaigns", e.admin, nil)); len(ids) != 0 {
		t.Errorf("campaigns after the delete = %v", ids)
	}
	if runs, _, err := e.store.ListRuns(context.Background(), "ws1", c.ID, notify.Page{Limit: 10}); err != nil || len(runs) != 0 {
		t.Errorf("runs after the delete = %v, %v; want none", runs, err)
	}
}

// TestCampaignFinalStates checks that a completed or cancelled campaign can
// no longer be changed, but can be deleted.
func TestCampaignFinalStates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, status := range []notify.CampaignStatus{notify.CampaignCompleted, notify.CampaignCancelled} {
		c := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(map[string]any{"schedule": "at(2099-01-01T09:00:00)"})))
		if len(c.NextRuns) != 1 {
			t.Errorf("nextRuns of an at() = %v, want one", c.NextRuns)
		}
		if _, err := e.store.UpdateCampaign(context.Background(), "ws1", c.ID, func(cur *notify.Campaign) error { cur.Status = status; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, rq := range []struct {
			method, path string
			body         any
		}{
			{"PUT", "/v1/campaigns/" + c.ID, campaignInput(nil)},
			{"POST", "/v1/campaigns/" + c.ID + "/pause", nil},
			{"POST", "/v1/campaigns/" + c.ID + "/resume", nil},
		} {
			if r := e.do(rq.method, rq.path, e.admin, rq.body); r.status != 409 || r.errCode() != "conflict" {
				t.Errorf("%s %s of a %s campaign = %d %s, want 409 conflict", rq.method, rq.path, status, r.status, r.raw)
			}
		}
		got := decodeBody[campaignView](t, e.must(200, "GET", "/v1/campaigns/"+c.ID, e.admin, nil))
		if got.Status != status || got.Schedule != c.Schedule || len(got.NextRuns) != 0 {
			t.Errorf("%s campaign after refused changes = %+v", status, got)
		}
		e.must(204, "DELETE", "/v1/campaigns/"+c.ID, e.admin, nil)
		e.must(404, "GET", "/v1/campaigns/"+c.ID, e.admin, nil)
	}
}

func TestCampaignSchedulerFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sched.Fail(errors.New("AccessDeniedException: arn:aws:iam::123456789012:role/herald-scheduler is not authorized"))
	r := e.do("POST", "/v1/campaigns", e.admin, campaignInput(nil))
	if r.status != 503 || r.errCode() != "schedule_failed" {
		t.Fatalf("POST with a failing scheduler = %d %s, want 503 schedule_failed", r.status, r.raw)
	}
	if strings.Contains(r.raw, "123456789012") || strings.Contains(r.raw, "AccessDenied") {
		t.Errorf("POST with a failing scheduler = %s, which tells the caller the scheduler's own error", r.raw)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", r.header.Get("Retry-After"))
	}
	// Nothing is saved, so that the retry the answer asks for cannot
	// make a second campaign.
	if !strings.Contains(r.raw, "nothing was saved") {
		t.Errorf("503 = %s, want it to say nothing was saved", r.raw)
	}
	if list := e.must(200, "GET", "/v1/campaigns", e.admin, nil); len(decodeBody[listBody[campaignView]](t, list).Items) != 0 {
		t.Fatalf("campaigns after a refused create = %s, want none", list.raw)
	}
	if names := e.sched.Names(); len(names) != 0 {
		t.Errorf("schedules = %v, want none", names)
	}
	e.sched.Fail(nil)
	c := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(nil)))
	if list := e.must(200, "GET", "/v1/campaigns", e.admin, nil); len(decodeBody[listBody[campaignView]](t, list).Items) != 1 {
		t.Errorf("campaigns after the retry = %s, want one", list.raw)
	}
	e.sched.Fail(errors.New("throttled"))

	// A change that fails is saved pending too.
	r = e.do("PUT", "/v1/campaigns/"+c.ID, e.admin, campaignInput(map[string]any{"name": "Renamed"}))
	if r.status != 503 || r.errCode() != "schedule_failed" || r.header.Get("Retry-After") == "" {
		t.Errorf("PUT with a failing scheduler = %d %s, want 503 schedule_failed with Retry-After", r.status, r.raw)
	}
	if got := decodeBody[campaignView](t, e.must(200, "GET", "/v1/campaigns/"+c.ID, e.admin, nil)); got.Name != "Renamed" || got.Sync.State != notify.SyncPending {
		t.Errorf("after a failed PUT = %+v, want the change saved, pending", got)
	}

	// The next change that gets through syncs it.
	e.sched.Fail(nil)
	r = e.must(200, "POST", "/v1/campaigns/"+c.ID+"/pause", e.admin, nil)
	paused := decodeBody[campaignView](t, r)
	if paused.Status != notify.CampaignPaused || paused.Sync.State != notify.SyncSynced || paused.Sync.Error != "" {
		t.Errorf("pause after the scheduler recovered = %s, want paused and synced", r.raw)
	}
	checkSpec(t, e, wantSpec(paused, false))

	// A delete the scheduler refuses leaves the campaign deleting: shown,
	// not run, and finished by a later delete.
	e.sched.Fail(errors.New("throttled"))
	r = e.do("DELETE", "/v1/campaigns/"+c.ID, e.admin, nil)
	if r.status != 503 || r.errCode() != "schedule_failed" || r.header.Get("Retry-After") == "" {
		t.Errorf("DELETE with a failing scheduler = %d %s, want 503 schedule_failed with Retry-After", r.status, r.raw)
	}
	deleting := decodeBody[campaignView](t, e.must(200, "GET", "/v1/campaigns/"+c.ID, e.admin, nil))
	if deleting.Status != notify.CampaignDeleting || deleting.Sync.State != notify.SyncPending || len(deleting.NextRuns) != 0 {
		t.Errorf("after a failed DELETE = %+v, want status deleting, pending", deleting)
	}
	if r := e.do("POST", "/v1/campaigns/"+c.ID+"/resume", e.admin, nil); r.status != 409 {
		t.Errorf("resume of a deleting campaign = %d, want 409", r.status)
	}
	e.sched.Fail(nil)
	e.must(204, "DELETE", "/v1/campaigns/"+c.ID, e.admin, nil)
	e.must(404, "GET", "/v1/campaigns/"+c.ID, e.admin, nil)
	if names := e.sched.Names(); len(names) != 0 {
		t.Errorf("schedules after the delete = %v, want none", names)
	}
}

func TestCampaignRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(nil)))
	other := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(map[string]any{"name": "Other"})))
	if r := e.must(200, "GET", "/v1/campaigns/"+c.ID+"/runs", e.admin, nil); r.raw != "{\"items\":[]}\n" {
		t.Errorf("runs before any = %s, want {\"items\":[]}", r.raw)
	}
	base := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * 7 * 24 * time.Hour) }
	// Recorded out of order, to show the list orders by scheduled time.
	for _, i := range []int{1, 0, 2} {
		run := notify.CampaignRun{WorkspaceID: "ws1", CampaignID: c.ID, ScheduledAt: at(i), Status: notify.RunRunning, StartedAt: at(i).Add(time.Second)}
		if _, _, err := e.store.StartRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			continue // still running
		}
		fin := at(i).Add(2 * time.Second)
		run.Status, run.NotificationID, run.Recipients, run.FinishedAt = notify.RunSucceeded, "N"+strconv.Itoa(i), 10+i, &fin
		if i == 0 {
			run.Status, run.NotificationID, run.Recipients, run.Error = notify.RunFailed, "", 0, "template deleted"
		}
		if err := e.store.FinishRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.store.StartRun(ctx, notify.CampaignRun{WorkspaceID: "ws1", CampaignID: other.ID, ScheduledAt: at(3), Status: notify.RunRunning, StartedAt: at(3)}); err != nil {
		t.Fatal(err)
	}

	fin0, fin1 := at(0).Add(2*time.Second), at(1).Add(2*time.Second)
	want := []notify.CampaignRun{
		{CampaignID: c.ID, ScheduledAt: at(2), Status: notify.RunRunning, Attempts: 1, StartedAt: at(2).Add(time.Second)},
		{CampaignID: c.ID, ScheduledAt: at(1), Status: notify.RunSucceeded, NotificationID: "N1", Recipients: 11, Attempts: 1, StartedAt: at(1).Add(time.Second), FinishedAt: &fin1},
		{CampaignID: c.ID, ScheduledAt: at(0), Status: notify.RunFailed, Error: "template deleted", Attempts: 1, StartedAt: at(0).Add(time.Second), FinishedAt: &fin0},
	}
	first := e.must(200, "GET", "/v1/campaigns/"+c.ID+"/runs?limit=2", e.admin, nil)
	p1 := decodeBody[listBody[notify.CampaignRun]](t, first)
	if d := cmp.Diff(want[:2], p1.Items); d != "" || p1.NextCursor == "" {
		t.Fatalf("first page (-want +got):\n%s\nnextCursor %q", d, p1.NextCursor)
	}
	second := e.must(200, "GET", "/v1/campaigns/"+c.ID+"/runs?limit=2&cursor="+p1.NextCursor, e.admin, nil)
	p2 := decodeBody[listBody[notify.CampaignRun]](t, second)
	if d := cmp.Diff(want[2:], p2.Items); d != "" || p2.NextCursor != "" {
		t.Errorf("second page (-want +got):\n%s\nnextCursor %q, want none", d, p2.NextCursor)
	}
	if _, ok := second.body["nextCursor"]; ok {
		t.Errorf("last page has nextCursor: %s", second.raw)
	}
	all := decodeBody[listBody[notify.CampaignRun]](t, e.must(200, "GET", "/v1/campaigns/"+c.ID+"/runs", e.admin, nil))
	if d := cmp.Diff(want, all.Items); d != "" {
		t.Errorf("all runs (-want +got):\n%s", d)
	}
	for _, q := range []string{"limit=0", "limit=501", "cursor=garbage!!"} {
		r := e.do("GET", "/v1/campaigns/"+c.ID+"/runs?"+q, e.admin, nil)
		if r.status != 422 || r.errCode() != "validation_failed" {
			t.Errorf("runs?%s = %d %s, want 422", q, r.status, r.raw)
		}
	}
	e.must(404, "GET", "/v1/campaigns/"+c.ID+"/runs", e.other, nil)
	e.must(404, "GET", "/v1/campaigns/cmp_nope/runs", e.admin, nil)

	// Campaigns page the same way: newest first.
	p := decodeBody[listBody[campaignView]](t, e.must(200, "GET", "/v1/campaigns?limit=1", e.admin, nil))
	if len(p.Items) != 1 || p.Items[0].ID != other.ID || p.NextCursor == "" {
		t.Fatalf("first campaign page = %+v, want the newest (%s) and a cursor", p, other.ID)
	}
	p = decodeBody[listBody[campaignView]](t, e.must(200, "GET", "/v1/campaigns?limit=1&cursor="+p.NextCursor, e.admin, nil))
	if len(p.Items) != 1 || p.Items[0].ID != c.ID || p.NextCursor != "" {
		t.Errorf("second campaign page = %+v, want %s and no cursor", p, c.ID)
	}
}

func TestScheduledSend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	at := time.Now().Add(time.Hour).Add(123456789 * time.Nanosecond)
	wantAt := at.UTC().Truncate(time.Second)
	r := e.must(202, "POST", "/v1/notifications", e.admin, scheduledSend(at))
	id, _ := r.body["id"].(string)
	if r.body["status"] != "scheduled" || r.body["recipients"] != float64(1) || r.body["scheduleAt"] != wantAt.Format(time.RFC3339) {
		t.Errorf("scheduled send = %s, want status scheduled, 1 recipient, scheduleAt %s", r.raw, wantAt.Format(time.RFC3339))
	}

	n := e.must(200, "GET", "/v1/notifications/"+id, e.admin, nil)
	wantCounts := map[string]any{"total": 0.0, "queued": 0.0, "sent": 0.0, "delivered": 0.0, "read": 0.0, "failed": 0.0, "skipped": 0.0}
	if n.body["status"] != "scheduled" || n.body["scheduleAt"] != wantAt.Format(time.RFC3339) || !cmp.Equal(n.body["counts"], any(wantCounts)) || n.body["body"] != "Hi {{name}}" {
		t.Errorf("GET scheduled notification = %s", n.raw)
	}
	if msgs := e.queue.messages(t); len(msgs) != 0 {
		t.Errorf("a scheduled send queued %d messages now", len(msgs))
	}
	if msgs := e.steps.messages(t); len(msgs) != 0 {
		t.Errorf("a scheduled send queued %d audience jobs now", len(msgs))
	}
	cid := campaign.SendCampaignID(id)
	checkSpec(t, e, notify.ScheduleSpec{Name: "c-" + cid, Expression: "at(" + wantAt.Format("2006-01-02T15:04:05") + ")", Timezone: "UTC", Enabled: true,
		Target: notify.ScheduleTarget{WorkspaceID: "ws1", CampaignID: cid}, Start: mustCampaign(t, e, cid).CreatedAt})
	if ids := listedIDs(t, e.must(200, "GET", "/v1/notifications?status=scheduled", e.admin, nil)); !slices.Equal(ids, []string{id}) {
		t.Errorf("GET /v1/notifications?status=scheduled = %v, want [%s]", ids, id)
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/notifications?status=queued", e.admin, nil)); len(ids) != 0 {
		t.Errorf("queued notifications = %v, want none", ids)
	}
	e.must(404, "POST", "/v1/notifications/"+id+"/cancel", e.other, nil)

	// Cancel: nothing will be sent, and the schedule goes.
	c := e.must(200, "POST", "/v1/notifications/"+id+"/cancel", e.admin, nil)
	if c.body["status"] != "cancelled" || c.body["id"] != id {
		t.Errorf("cancel = %s, want status cancelled", c.raw)
	}
	if _, ok := e.sched.Spec("c-" + cid); ok {
		t.Errorf("schedule c-%s left after the cancel", cid)
	}
	if got := mustCampaign(t, e, cid); got.Status != notify.CampaignCancelled || got.Sync.State != notify.SyncSynced {
		t.Errorf("the send's campaign after the cancel = %s/%s, want cancelled, synced", got.Status, got.Sync.State)
	}
	if r := e.do("POST", "/v1/notifications/"+id+"/cancel", e.admin, nil); r.status != 409 || r.errCode() != "conflict" {
		t.Errorf("second cancel = %d %s, want 409 conflict", r.status, r.raw)
	}
	if got := e.must(200, "GET", "/v1/notifications/"+id, e.admin, nil); got.body["status"] != "cancelled" {
		t.Errorf("after the cancels = %s", got.raw)
	}

	// More than a year ahead is refused, storing nothing.
	before := len(listedIDs(t, e.must(200, "GET", "/v1/notifications", e.admin, nil)))
	r = e.do("POST", "/v1/notifications", e.admin, scheduledSend(time.Now().Add(367*24*time.Hour)))
	if r.status != 422 || r.errField() != "scheduleAt" {
		t.Errorf("scheduleAt in 367 days = %d %s, want 422 on scheduleAt", r.status, r.raw)
	}
	// An invalid scheduled send is refused as a send is.
	bad := scheduledSend(time.Now().Add(time.Hour))
	bad["templateId"] = "tpl_nope"
	delete(bad, "content")
	if r := e.do("POST", "/v1/notifications", e.admin, bad); r.status != 422 || r.errField() != "templateId" {
		t.Errorf("scheduled send of an unknown template = %d %s, want 422 on templateId", r.status, r.raw)
	}
	if after := len(listedIDs(t, e.must(200, "GET", "/v1/notifications", e.admin, nil))); after != before {
		t.Errorf("refused scheduled sends stored %d notifications", after-before)
	}
	if names := e.sched.Names(); len(names) != 0 {
		t.Errorf("schedules after refused sends = %v, want none", names)
	}

	// A scheduleAt in the past sends now, as before.
	r = e.must(202, "POST", "/v1/notifications", e.admin, scheduledSend(time.Now().Add(-time.Hour)))
	if r.body["status"] != "queued" || r.body["scheduleAt"] != nil {
		t.Errorf("scheduleAt in the past = %s, want queued now without scheduleAt", r.raw)
	}
	if msgs := e.queue.messages(t); len(msgs) != 1 || msgs[0].NotificationID != r.body["id"] {
		t.Errorf("messages after a past scheduleAt = %+v, want one for %v", msgs, r.body["id"])
	}
}

func mustCampaign(t *testing.T, e *env, id string) notify.Campaign {
	t.Helper()
	c, err := e.store.GetCampaign(context.Background(), "ws1", id)
	if err != nil {
		t.Fatalf("campaign %s: %v", id, err)
	}
	return c
}

func TestScheduledSendSchedulerFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sched.Fail(errors.New("throttled"))
	body := scheduledSend(time.Now().Add(time.Hour))
	r := e.do("POST", "/v1/notifications", e.admin, body, "Idempotency-Key", "sched-1")
	if r.status != 503 || r.errCode() != "schedule_failed" {
		t.Fatalf("scheduled send with a failing scheduler = %d %s, want 503 schedule_failed", r.status, r.raw)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", r.header.Get("Retry-After"))
	}
	// Nothing will be sent: the notification is failed, nothing queued,
	// nothing scheduled.
	failed := listedIDs(t, e.must(200, "GET", "/v1/notifications?status=failed", e.admin, nil))
	if len(failed) != 1 {
		t.Fatalf("failed notifications = %v, want the one not scheduled", failed)
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/notifications?status=scheduled", e.admin, nil)); len(ids) != 0 {
		t.Errorf("scheduled notifications = %v, want none", ids)
	}
	if got := mustCampaign(t, e, campaign.SendCampaignID(failed[0])); got.Status != notify.CampaignCancelled {
		t.Errorf("the unscheduled send's campaign = %s, want cancelled", got.Status)
	}
	if len(e.queue.messages(t)) != 0 || len(e.sched.Names()) != 0 {
		t.Errorf("a send that could not be scheduled queued %d messages and left schedules %v", len(e.queue.messages(t)), e.sched.Names())
	}
	if r := e.do("POST", "/v1/notifications/"+failed[0]+"/cancel", e.admin, nil); r.status != 409 {
		t.Errorf("cancel of the failed send = %d, want 409", r.status)
	}

	// Retried once the scheduler recovers (the same Idempotency-Key: the
	// failure did not keep it), it is scheduled.
	e.sched.Fail(nil)
	r = e.must(202, "POST", "/v1/notifications", e.admin, body, "Idempotency-Key", "sched-1")
	id, _ := r.body["id"].(string)
	if r.body["status"] != "scheduled" || id == failed[0] || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("retry = %s, want a new scheduled notification", r.raw)
	}
	if names := e.sched.Names(); !slices.Equal(names, []string{"c-" + campaign.SendCampaignID(id)}) {
		t.Errorf("schedules after the retry = %v, want the retry's", names)
	}
	// Replayed, the answer is the same and nothing more is scheduled.
	again := e.must(202, "POST", "/v1/notifications", e.admin, body, "Idempotency-Key", "sched-1")
	if again.body["id"] != id || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %s, want the same answer replayed", again.raw)
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/notifications?status=scheduled", e.admin, nil)); !slices.Equal(ids, []string{id}) {
		t.Errorf("scheduled notifications = %v, want [%s]", ids, id)
	}
}

// TestCampaignsNotConfigured: without a scheduler the campaign routes and
// scheduled sends answer 503 not_configured; sends now still work.
func TestCampaignsNotConfigured(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewServer(testServer(e.store, e.queue, deps{}, Options{}))
	defer srv.Close()
	e.srv = srv
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/campaigns", campaignInput(nil)},
		{"GET", "/v1/campaigns", nil},
		{"GET", "/v1/campaigns/cmp_x", nil},
		{"PUT", "/v1/campaigns/cmp_x", campaignInput(nil)},
		{"DELETE", "/v1/campaigns/cmp_x", nil},
		{"POST", "/v1/campaigns/cmp_x/pause", nil},
		{"POST", "/v1/campaigns/cmp_x/resume", nil},
		{"GET", "/v1/campaigns/cmp_x/runs", nil},
		{"POST", "/v1/notifications", scheduledSend(time.Now().Add(time.Hour))},
	} {
		r := e.do(rq.method, rq.path, e.admin, rq.body)
		if r.status != 503 || r.errCode() != "not_configured" || r.header.Get("Retry-After") != "" {
			t.Errorf("%s %s without a scheduler = %d %s (Retry-After %q), want 503 not_configured without Retry-After", rq.method, rq.path, r.status, r.raw, r.header.Get("Retry-After"))
		}
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/notifications", e.admin, nil)); len(ids) != 0 {
		t.Errorf("notifications after refused scheduled sends = %v", ids)
	}
	if r := e.must(202, "POST", "/v1/notifications", e.admin, campaignSend()); r.body["status"] != "queued" {
		t.Errorf("send now without a scheduler = %s", r.raw)
	}
}

func TestCampaignScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	reader := e.key("ws1", "reader", notify.ScopeRead)
	sender := e.key("ws1", "sender", notify.ScopeSend)
	c := decodeBody[campaignView](t, e.must(201, "POST", "/v1/campaigns", sender, campaignInput(nil)))
	sched := e.must(202, "POST", "/v1/notifications", sender, scheduledSend(time.Now().Add(time.Hour)))
	sid, _ := sched.body["id"].(string)
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/v1/campaigns", campaignInput(nil)},
		{"PUT", "/v1/campaigns/" + c.ID, campaignInput(map[string]any{"name": "Mine"})},
		{"POST", "/v1/campaigns/" + c.ID + "/pause", nil},
		{"POST", "/v1/campaigns/" + c.ID + "/resume", nil},
		{"DELETE", "/v1/campaigns/" + c.ID, nil},
		{"POST", "/v1/notifications", scheduledSend(time.Now().Add(time.Hour))},
		{"POST", "/v1/notifications/" + sid + "/cancel", nil},
	} {
		if r := e.do(rq.method, rq.path, reader, rq.body); r.status != 403 || r.errCode() != "forbidden" {
			t.Errorf("%s %s with a read key = %d %s, want 403", rq.method, rq.path, r.status, r.raw)
		}
	}
	e.must(200, "GET", "/v1/campaigns", reader, nil)
	e.must(200, "GET", "/v1/campaigns/"+c.ID+"/runs", reader, nil)
	got := decodeBody[campaignView](t, e.must(200, "GET", "/v1/campaigns/"+c.ID, reader, nil))
	if d := cmp.Diff(c.Campaign, got.Campaign); d != "" {
		t.Errorf("refused requests changed the campaign (-before +after):\n%s", d)
	}
	checkSpec(t, e, wantSpec(c, true))
	if n := e.must(200, "GET", "/v1/notifications/"+sid, reader, nil); n.body["status"] != "scheduled" {
		t.Errorf("the scheduled send after a refused cancel = %s", n.raw)
	}
	if ids := listedIDs(t, e.must(200, "GET", "/v1/campaigns", reader, nil)); !slices.Equal(ids, []string{c.ID}) {
		t.Errorf("campaigns after refused creates = %v", ids)
	}
	// A send key manages campaigns.
	e.must(200, "POST", "/v1/campaigns/"+c.ID+"/pause", sender, nil)
	e.must(204, "DELETE", "/v1/campaigns/"+c.ID, sender, nil)
}

// TestCampaignDocumented checks the answers of the campaign routes against
// the field names the OpenAPI document gives them: every field answered is
// documented, every required one is answered, every enum value is listed.
func TestCampaignDocumented(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string `json:"required"`
				Properties map[string]struct {
					Ref string `json:"$ref"`
				} `json:"properties"`
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	check := func(name string, obj map[string]any) {
		t.Helper()
		s, ok := schemas[name]
		if !ok {
			t.Fatalf("schema %s is not documented", name)
		}
		for k := range obj {
			if _, ok := s.Properties[k]; !ok {
				t.Errorf("%s: field %q is answered but not documented", name, k)
			}
		}
		for _, k := range s.Required {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s: required field %q is not answered: %v", name, k, obj)
			}
		}
	}
	inEnum := func(name, v string) {
		t.Helper()
		if !slices.Contains(schemas[name].Enum, v) {
			t.Errorf("%s does not list %q: %v", name, v, schemas[name].Enum)
		}
	}

	// A campaign with every optional field set.
	r := e.must(201, "POST", "/v1/campaigns", e.admin, campaignInput(nil))
	id := r.body["id"].(string)
	if _, err := e.store.UpdateCampaign(context.Background(), "ws1", id, func(c *notify.Campaign) error {
		now := time.Now().UTC().Truncate(time.Millisecond)
		c.LastRunAt, c.Sync.Error = &now, "x"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := e.must(200, "GET", "/v1/campaigns/"+id, e.admin, nil)
	check("Campaign", got.body)
	check("ScheduleSync", got.body["sync"].(map[string]any))
	check("CampaignPage", e.must(200, "GET", "/v1/campaigns", e.admin, nil).body)
	for _, s := range []notify.CampaignStatus{notify.CampaignActive, notify.CampaignPaused, notify.CampaignCompleted, notify.CampaignCancelled, notify.CampaignDeleting} {
		inEnum("CampaignStatus", string(s))
	}
	fin := time.Now().UTC().Truncate(time.Millisecond)
	run := notify.CampaignRun{WorkspaceID: "ws1", CampaignID: id, ScheduledAt: fin, Status: notify.RunRunning, StartedAt: fin}
	if _, _, err := e.store.StartRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	run.Status, run.NotificationID, run.Recipients, run.Error, run.FinishedAt = notify.RunFailed, "N1", 3, "x", &fin
	if err := e.store.FinishRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	runs := e.must(200, "GET", "/v1/campaigns/"+id+"/runs", e.admin, nil)
	check("CampaignRunPage", runs.body)
	check("CampaignRun", runs.body["items"].([]any)[0].(map[string]any))
	for _, s := range []notify.RunStatus{notify.RunRunning, notify.RunSucceeded, notify.RunFailed, notify.RunMissed, notify.RunSkipped} {
		inEnum("CampaignRunStatus", string(s))
	}

	// The answer of a scheduled send, and its notification.
	acc := e.must(202, "POST", "/v1/notifications", e.admin, scheduledSend(time.Now().Add(time.Hour)))
	check("NotificationAccepted", acc.body)
	check("Notification", e.must(200, "GET", "/v1/notifications/"+acc.body["id"].(string), e.admin, nil).body)
	for _, s := range []notify.Status{notify.StatusScheduled, notify.StatusQueued, notify.StatusSending, notify.StatusCompleted, notify.StatusCancelled, notify.StatusFailed} {
		inEnum("NotificationStatus", string(s))
	}
	inEnum("ErrorCode", notify.CodeScheduleFailed)
	// The request body: what campaign.Input decodes, no more, no less.
	var fields []string
	for f := range reflect.TypeFor[campaign.Input]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	var documented []string
	for name := range schemas["CampaignInput"].Properties {
		documented = append(documented, name)
	}
	sort.Strings(fields)
	sort.Strings(documented)
	if d := cmp.Diff(fields, documented); d != "" {
		t.Errorf("CampaignInput properties (-campaign.Input +openapi.json):\n%s", d)
	}
}
