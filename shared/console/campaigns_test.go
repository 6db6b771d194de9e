package console_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
	"github.com/heraldhq/herald/shared/send"
)

// weeklyForm is the editor's form for a weekly email campaign (Mondays and
// Thursdays at 09:00 in Madrid) to the active users; extra replaces
// fields.
func weeklyForm(extra url.Values) url.Values {
	v := url.Values{"name": {"Weekly digest"}, "status": {"active"}, "channel": {"email"}, "title": {"Hola {{name}}"},
		"body": {"Tu resumen semanal"}, "route": {"home"}, "repeat": {"weekly"}, "day": {"MON", "THU"}, "at": {"09:00"},
		"timezone": {"Europe/Madrid"}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

// createCampaign saves a campaign through the editor and returns its id.
func (b *browser) createCampaign(form url.Values) string {
	b.e.t.Helper()
	p := b.post("/campaigns/new", form)
	m := regexp.MustCompile(`^/campaigns/(cmp_[a-z0-9]+)\?done=campaign-created$`).FindStringSubmatch(p.loc)
	if p.status != http.StatusSeeOther || m == nil {
		b.e.t.Fatalf("create campaign: %d %q\n%s", p.status, p.loc, p.body)
	}
	return m[1]
}

func (e *env) campaign(ws, id string) notify.Campaign {
	e.t.Helper()
	c, err := e.store.GetCampaign(context.Background(), ws, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// check asks the editor's schedule check, as its script does.
func (b *browser) check(form url.Values) (int, map[string]any) {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/campaigns/check", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	p := b.do(req)
	var out map[string]any
	if err := json.Unmarshal([]byte(p.body), &out); err != nil {
		b.e.t.Fatalf("check answered %d %q: %v", p.status, p.body, err)
	}
	return p.status, out
}

// Each kind of the schedule builder saves the expression the campaign
// service and EventBridge Scheduler take, and the editor shows it again
// as the same kind.
func TestCampaignScheduleBuilder(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com", Status: "active"})
	b := e.as("editor@a.example")
	tests := []struct {
		name   string
		form   url.Values
		want   string
		words  string
		editor string
	}{
		{"once", url.Values{"repeat": {"once"}, "date": {"2030-05-04"}, "time": {"09:30"}}, "at(2030-05-04T09:30:00)",
			"Once, on 4 May 2030 at 09:30", `value="2030-05-04"`},
		{"once to the second", url.Values{"repeat": {"once"}, "date": {"2030-05-04"}, "time": {"09:30:15"}}, "at(2030-05-04T09:30:15)",
			"Once, on 4 May 2030 at 09:30:15", `value="09:30:15"`},
		{"every minute", url.Values{"repeat": {"rate"}, "every": {"1"}, "unit": {"minutes"}}, "rate(1 minute)", "Every minute", `value="minutes" selected`},
		{"every 15 minutes", url.Values{"repeat": {"rate"}, "every": {"15"}, "unit": {"minutes"}}, "rate(15 minutes)", "Every 15 minutes", `value="15"`},
		{"every 2 hours", url.Values{"repeat": {"rate"}, "every": {"2"}, "unit": {"hours"}}, "rate(2 hours)", "Every 2 hours", `value="hours" selected`},
		{"every day", url.Values{"repeat": {"rate"}, "every": {"1"}, "unit": {"days"}}, "rate(1 day)", "Every day", `value="days" selected`},
		{"weekly", url.Values{"repeat": {"weekly"}, "day": {"THU", "MON"}, "at": {"09:00"}}, "cron(0 9 ? * MON,THU *)",
			"Every Monday and Thursday at 09:00", `id="day-THU" name="day" value="THU" checked`},
		{"weekdays", url.Values{"repeat": {"weekly"}, "day": {"MON", "TUE", "WED", "THU", "FRI"}, "at": {"18:05"}}, "cron(5 18 ? * MON,TUE,WED,THU,FRI *)",
			"Every weekday at 18:05", `value="18:05"`},
		{"cron", url.Values{"repeat": {"cron"}, "cron": {"cron(0 9 1 * ? *)"}}, "cron(0 9 1 * ? *)", "Custom: cron(0 9 1 * ? *)", `value="cron(0 9 1 * ? *)"`},
		{"cron fields alone", url.Values{"repeat": {"cron"}, "cron": {"30 8 ? * MON-FRI *"}}, "cron(30 8 ? * MON-FRI *)", "Custom: cron(30 8 ? * MON-FRI *)", `value="cron(30 8 ? * MON-FRI *)"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := b.createCampaign(weeklyForm(tt.form))
			c := e.campaign("ws_a", id)
			if c.Schedule != tt.want || c.Timezone != "Europe/Madrid" {
				t.Errorf("saved schedule %q in %q, want %q in Europe/Madrid", c.Schedule, c.Timezone, tt.want)
			}
			spec, ok := e.sched.Spec(notify.ScheduleName(id))
			if !ok || spec.Expression != tt.want || spec.Timezone != "Europe/Madrid" || !spec.Enabled {
				t.Errorf("the scheduler holds %+v (%v), want %q in Europe/Madrid, enabled", spec, ok, tt.want)
			}
			want(t, b.get("/campaigns/"+id), http.StatusOK, tt.words)
			repeat := tt.form.Get("repeat")
			want(t, b.get("/campaigns/"+id+"/edit"), http.StatusOK, `id="repeat-`+repeat+`" name="repeat" value="`+repeat+`" checked`, tt.editor,
				`<option value="Europe/Madrid" selected>`)
		})
	}
}

// The builder's own mistakes are named on their fields, with what was
// typed kept, and nothing is saved.
func TestCampaignBuilderProblems(t *testing.T) {
	e := newEnv(t, 0)
	b := e.as("editor@a.example")
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no date", url.Values{"repeat": {"once"}, "date": {""}}, "choose the day it is sent"},
		{"bad time", url.Values{"repeat": {"once"}, "date": {"2030-01-01"}, "time": {"25:00"}}, "choose the time it is sent"},
		{"zero", url.Values{"repeat": {"rate"}, "every": {"0"}, "unit": {"hours"}}, "a whole number, at least 1"},
		{"no unit", url.Values{"repeat": {"rate"}, "every": {"3"}, "unit": {"weeks"}}, "minutes, hours or days"},
		{"no day", url.Values{"repeat": {"weekly"}, "day": nil}, "choose at least one day"},
		{"seconds weekly", url.Values{"repeat": {"weekly"}, "at": {"09:00:30"}}, "the time of day, written hh:mm"},
		{"no cron", url.Values{"repeat": {"cron"}, "cron": {""}}, "write a cron expression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := weeklyForm(tt.form)
			if tt.form["day"] == nil && tt.form.Has("day") {
				form.Del("day")
			}
			want(t, b.post("/campaigns/new", form), http.StatusUnprocessableEntity, tt.want, `value="Weekly digest"`, `value="Hola {{name}}"`,
				`>Tu resumen semanal</textarea>`, `id="status" name="status" value="active"`)
		})
	}
	cs, _, err := e.store.ListCampaigns(context.Background(), "ws_a", "", notify.Page{Limit: 10})
	if err != nil || len(cs) != 0 {
		t.Fatalf("campaigns saved from a wrong form: %v %v", cs, err)
	}
}

// The service's own errors (its schedule and notification checks) come
// back on the form with everything typed kept, and with the next runs
// computed on the server when the schedule is right.
func TestCampaignServiceErrorsKeepInput(t *testing.T) {
	e := newEnv(t, 0)
	b := e.as("editor@a.example")

	// The notification is wrong, the schedule right: its runs are shown.
	p := b.post("/campaigns/new", weeklyForm(url.Values{"body": {""}, "tag": {"vip"}, "push": {"yes"}}))
	want(t, p, http.StatusUnprocessableEntity, "notification.content.body", `<p class="field-error">required</p>`,
		`value="Weekly digest"`, `id="tag" name="tag" value="vip"`, `<option value="yes" selected>Yes</option>`,
		`id="day-MON" name="day" value="MON" checked`, `id="day-THU" name="day" value="THU" checked`, `<option value="Europe/Madrid" selected>`,
		"Every Monday and Thursday at 09:00")
	if n := strings.Count(p.body, `<li><time datetime=`); n != 5 {
		t.Errorf("the form shows %d next runs after the round trip, want 5", n)
	}
	// The schedule is wrong in the service's words.
	p = b.post("/campaigns/new", weeklyForm(url.Values{"repeat": {"cron"}, "cron": {"cron(0 9 * * MON *)"}}))
	want(t, p, http.StatusUnprocessableEntity, "<code>schedule</code>", `value="cron(0 9 * * MON *)"`, `value="Hola {{name}}"`)
	// A time zone that is not one.
	p = b.post("/campaigns/new", weeklyForm(url.Values{"timezone": {"Mars/Olympus"}}))
	want(t, p, http.StatusUnprocessableEntity, "<code>timezone</code>", `unknown time zone &#34;Mars/Olympus&#34;`, `<option value="Mars/Olympus" selected>`)
	// An at() already past.
	p = b.post("/campaigns/new", weeklyForm(url.Values{"repeat": {"once"}, "date": {"2020-01-01"}, "time": {"09:00"}}))
	want(t, p, http.StatusUnprocessableEntity, "at(2020-01-01T09:00:00) has no run after now", `value="2020-01-01"`)
	// No name.
	want(t, b.post("/campaigns/new", weeklyForm(url.Values{"name": {" "}})), http.StatusUnprocessableEntity, "<code>name</code> required")
	// A route the workspace does not offer.
	want(t, b.post("/campaigns/new", weeklyForm(url.Values{"route": {"https://evil.example"}})), http.StatusUnprocessableEntity, "must be one of the workspace")
	cs, _, _ := e.store.ListCampaigns(context.Background(), "ws_a", "", notify.Page{Limit: 10})
	if len(cs) != 0 {
		t.Fatalf("a refused form saved %d campaigns", len(cs))
	}
}

// The next five runs the editor's script shows are the times the service
// runs: Mondays and Thursdays at 09:00 in Madrid, whatever the offset.
func TestCampaignNextRunsJSON(t *testing.T) {
	e := newEnv(t, 0)
	b := e.as("editor@a.example")
	status, out := b.check(weeklyForm(nil))
	if status != http.StatusOK {
		t.Fatalf("check: %d %v", status, out)
	}
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	// Walk the calendar in Madrid, day by day.
	var wantRuns []string
	now := e.clock.Now()
	for d := now.In(madrid); len(wantRuns) < 5; d = d.AddDate(0, 0, 1) {
		at := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, madrid)
		if (at.Weekday() == time.Monday || at.Weekday() == time.Thursday) && at.After(now) {
			wantRuns = append(wantRuns, at.UTC().Format(time.RFC3339))
		}
	}
	var gotRuns []string
	for _, r := range out["nextRuns"].([]any) {
		run := r.(map[string]any)
		gotRuns = append(gotRuns, run["at"].(string))
		if local := run["local"].(string); !strings.Contains(local, ", 09:00 CE") {
			t.Errorf("run shown as %q, want 09:00 Madrid time", local)
		}
	}
	if diff := cmp.Diff(wantRuns, gotRuns); diff != "" {
		t.Errorf("next runs (-want +got):\n%s", diff)
	}
	if out["schedule"] != "cron(0 9 ? * MON,THU *)" || out["words"] != "Every Monday and Thursday at 09:00" || out["timezone"] != "Europe/Madrid" {
		t.Errorf("check = %v", out)
	}

	// Problems, each on its field.
	for _, tt := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"day": nil}, "day"},
		{url.Values{"repeat": {"cron"}, "cron": {"cron(0 9 * * MON *)"}}, "schedule"},
		{url.Values{"timezone": {"Mars/Olympus"}}, "timezone"},
		{url.Values{"repeat": {"once"}, "date": {"2020-01-01"}, "time": {"09:00"}}, "schedule"},
	} {
		form := weeklyForm(tt.form)
		if tt.form.Has("day") {
			form.Del("day")
		}
		_, out := b.check(form)
		problems, _ := out["problems"].([]any)
		if len(problems) != 1 || problems[0].(map[string]any)["field"] != tt.field || len(out["nextRuns"].([]any)) != 0 {
			t.Errorf("check %v = %v, want one problem on %s", tt.form, out, tt.field)
		}
	}

	// A rate() counts from the campaign's creation, as the service runs it.
	id := b.createCampaign(weeklyForm(url.Values{"repeat": {"rate"}, "every": {"1"}, "unit": {"hours"}}))
	created := e.campaign("ws_a", id).CreatedAt
	e.clock.Add(90 * time.Minute)
	_, out = b.check(weeklyForm(url.Values{"repeat": {"rate"}, "every": {"1"}, "unit": {"hours"}, "campaign": {id}}))
	first := out["nextRuns"].([]any)[0].(map[string]any)["at"]
	if want := created.Add(2 * time.Hour).UTC().Format(time.RFC3339Nano); first != want {
		t.Errorf("first run of the edited rate(1 hour) = %v, want %s (two hours after its creation)", first, want)
	}
	// The campaign's page shows what the service computes for it.
	sched, _ := schedule.Parse("rate(1 hour)", "Europe/Madrid")
	next, _ := sched.Next(created, e.clock.Now())
	want(t, b.get("/campaigns/"+id), http.StatusOK, `<time datetime="`+next.UTC().Format(time.RFC3339)+`"`)
	// Another workspace's campaign does not anchor a check.
	status, _ = e.as("admin@b.example").check(weeklyForm(url.Values{"campaign": {id}}))
	if status != http.StatusNotFound {
		t.Errorf("a check naming another workspace's campaign answered %d, want 404", status)
	}
}

// The list and the campaign's page: schedule in words, zone, next run,
// state, and each run with its notification.
func TestCampaignListAndRuns(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com", Status: "active"})
	e.putUser("ws_a", "u2", person{Name: "Luis", Email: "luis@example.com", Status: "inactive"})
	b := e.as("editor@a.example")
	want(t, b.get("/campaigns"), http.StatusOK, "No campaigns yet")
	id := b.createCampaign(weeklyForm(nil))
	list := b.get("/campaigns")
	want(t, list, http.StatusOK, `href="/campaigns/`+id+`">Weekly digest</a>`, "Every Monday and Thursday at 09:00", "Europe/Madrid",
		`<span class="badge st-active">active</span>`, "Not yet", ", 09:00 CE")

	// A run, as the scheduler makes it.
	c := e.campaign("ws_a", id)
	ids := &notify.IDs{}
	sends := &send.Sender{Store: e.store, Dispatch: e.queue, Steps: e.steps, IDs: ids, Now: e.clock.Now, Log: slog.New(slog.DiscardHandler)}
	svc := &campaign.Service{Store: e.store, Scheduler: e.sched, Sender: sends, IDs: ids, Now: e.clock.Now}
	at := svc.NextRuns(c, 1)[0]
	e.clock.Add(at.Add(time.Second).Sub(e.clock.Now()))
	run, err := svc.Run(ctx, campaign.Invocation{WorkspaceID: "ws_a", CampaignID: id, ScheduledAt: at})
	if err != nil || run.Status != notify.RunSucceeded || run.NotificationID == "" || run.Recipients != 1 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	b = e.as("editor@a.example") // days later: the session ended
	p := b.get("/campaigns/" + id)
	want(t, p, http.StatusOK, `<a href="/history/`+run.NotificationID+`">`+run.NotificationID+`</a>`, `<span class="badge st-succeeded">succeeded</span>`,
		`<time datetime="`+at.UTC().Format(time.RFC3339)+`">`, "Users: status active, counted at each run", "Hola {{name}}")
	if strings.Contains(p.body, "No runs yet") {
		t.Error("the campaign's page says it has no runs")
	}
	want(t, b.get("/campaigns"), http.StatusOK, `<span class="badge st-succeeded">succeeded</span>, 1 recipient`)
	want(t, b.get("/history/"+run.NotificationID), http.StatusOK, "from a campaign")

	// Every time zone offered is one the service takes.
	p = b.get("/campaigns/new")
	zones := regexp.MustCompile(`<option value="([A-Za-z_/+-]+)"`).FindAllStringSubmatch(p.body[strings.Index(p.body, `id="timezone"`):], -1)
	if len(zones) < 300 {
		t.Fatalf("the time zone select offers %d zones", len(zones))
	}
	for _, z := range zones {
		if _, err := schedule.Parse("rate(1 day)", z[1]); err != nil {
			t.Errorf("zone %s offered: %v", z[1], err)
		}
	}
	want(t, p, http.StatusOK, `data-browser-zone`, `<option value="UTC" selected>UTC</option>`)
}

// Pause, resume, edit and delete change the campaign and its schedule,
// each recorded in the audit.
func TestCampaignPauseResumeEditDelete(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	b := e.as("editor@a.example")
	id := b.createCampaign(weeklyForm(nil))
	name := notify.ScheduleName(id)
	want(t, b.get("/campaigns/"+id+"?done=campaign-created"), http.StatusOK, "Campaign created", "Pause campaign", "Edit campaign", "Delete campaign")

	p := b.post("/campaigns/"+id+"/pause", nil)
	if p.status != http.StatusSeeOther || p.loc != "/campaigns/"+id+"?done=campaign-paused" {
		t.Fatalf("pause: %d %q", p.status, p.loc)
	}
	if c := e.campaign("ws_a", id); c.Status != notify.CampaignPaused {
		t.Fatalf("after pause: %s", c.Status)
	}
	if spec, _ := e.sched.Spec(name); spec.Enabled {
		t.Fatal("the paused campaign's schedule is enabled")
	}
	p = b.get(p.loc)
	want(t, p, http.StatusOK, "Campaign paused", "Resume campaign", "None: the campaign is paused")
	if strings.Contains(p.body, "Pause campaign") {
		t.Error("a paused campaign offers Pause")
	}
	want(t, b.post("/campaigns/"+id+"/resume", nil), http.StatusSeeOther)
	if c := e.campaign("ws_a", id); c.Status != notify.CampaignActive {
		t.Fatalf("after resume: %s", c.Status)
	}
	if spec, _ := e.sched.Spec(name); !spec.Enabled {
		t.Fatal("the resumed campaign's schedule is disabled")
	}

	// The editor shows the campaign as it was saved, and saves changes.
	p = b.get("/campaigns/" + id + "/edit")
	want(t, p, http.StatusOK, `value="Weekly digest"`, `value="Hola {{name}}"`, `id="status" name="status" value="active"`,
		`id="day-MON" name="day" value="MON" checked`, `<option value="email" selected>Email</option>`, "Save campaign")
	p = b.post("/campaigns/"+id+"/edit", weeklyForm(url.Values{"name": {"Weekend digest"}, "day": {"SAT"}, "at": {"10:30"}, "title": {"Buen finde"}}))
	if p.status != http.StatusSeeOther || p.loc != "/campaigns/"+id+"?done=campaign-saved" {
		t.Fatalf("edit: %d %q\n%s", p.status, p.loc, p.body)
	}
	c := e.campaign("ws_a", id)
	var n struct {
		Content struct{ Title string } `json:"content"`
	}
	_ = json.Unmarshal(c.Notification, &n)
	if c.Name != "Weekend digest" || c.Schedule != "cron(30 10 ? * SAT *)" || n.Content.Title != "Buen finde" {
		t.Fatalf("after edit: %s %s %s", c.Name, c.Schedule, c.Notification)
	}
	if spec, _ := e.sched.Spec(name); spec.Expression != "cron(30 10 ? * SAT *)" {
		t.Fatalf("the scheduler holds %q after the edit", spec.Expression)
	}
	// An edit the service refuses keeps what was typed.
	want(t, b.post("/campaigns/"+id+"/edit", weeklyForm(url.Values{"name": {"Broken"}, "body": {""}})), http.StatusUnprocessableEntity,
		`value="Broken"`, "notification.content.body", "Save campaign")
	if c := e.campaign("ws_a", id); c.Name != "Weekend digest" {
		t.Fatalf("a refused edit saved the name %q", c.Name)
	}

	// The delete says what it removes before it does.
	want(t, b.get("/campaigns/"+id+"/delete"), http.StatusOK, "Delete campaign “Weekend digest”?", "its schedule, so that it never runs again",
		"no record of runs: it has not run yet", "stay in History")
	p = b.post("/campaigns/"+id+"/delete", nil)
	if p.status != http.StatusSeeOther || p.loc != "/campaigns?done=campaign-deleted" {
		t.Fatalf("delete: %d %q", p.status, p.loc)
	}
	if _, err := e.store.GetCampaign(ctx, "ws_a", id); !notify.IsCode(err, notify.CodeNotFound) {
		t.Fatalf("after delete the store answers %v", err)
	}
	if _, ok := e.sched.Spec(name); ok {
		t.Fatal("the deleted campaign's schedule is still on the scheduler")
	}
	want(t, b.get("/campaigns?done=campaign-deleted"), http.StatusOK, "Campaign deleted", "No campaigns yet")
	want(t, b.get("/campaigns/"+id), http.StatusNotFound)

	entries, _, err := e.store.ListAudit(ctx, "ws_a", notify.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range entries {
		if a.Target == id {
			got = append(got, a.Action+" by "+a.Actor)
		}
	}
	wantAudit := []string{"campaign.delete", "campaign.update", "campaign.resume", "campaign.pause", "campaign.create"}
	for i := range wantAudit {
		wantAudit[i] += " by operator editor@a.example"
	}
	if diff := cmp.Diff(wantAudit, got); diff != "" {
		t.Errorf("audit, newest first (-want +got):\n%s", diff)
	}
	want(t, e.as("admin@a.example").get("/settings/audit"), http.StatusOK, "campaign.pause", "Every Saturday at 10:30 (Europe/Madrid)")
}

// A campaign made through the API with what the form has no field for
// (here a list of users) keeps its notification when the console edits its
// name and schedule.
func TestCampaignEditKeepsAnAPINotification(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	ids := &notify.IDs{}
	sends := &send.Sender{Store: e.store, Dispatch: e.queue, Steps: e.steps, IDs: ids, Now: e.clock.Now}
	svc := &campaign.Service{Store: e.store, Scheduler: e.sched, Sender: sends, IDs: ids, Now: e.clock.Now}
	body := `{"channel":"email","content":{"title":"Hi","body":"From the API"},"audience":{"userIds":["u1"]}}`
	c, err := svc.Create(ctx, "ws_a", "key billing (k1)", campaign.Input{Name: "API made", Schedule: "rate(1 day)", Notification: json.RawMessage(body)})
	if err != nil {
		t.Fatal(err)
	}
	b := e.as("editor@a.example")
	want(t, b.get("/campaigns/"+c.ID), http.StatusOK, "The body of the send, as it was written through the API", "From the API")
	want(t, b.get("/campaigns/"+c.ID+"/edit"), http.StatusOK, "it is kept as it is", `id="repeat-rate" name="repeat" value="rate" checked`)
	p := b.post("/campaigns/"+c.ID+"/edit", url.Values{"name": {"API made, renamed"}, "repeat": {"rate"}, "every": {"2"}, "unit": {"days"},
		"timezone": {"UTC"}, "channel": {"sms"}, "body": {"forged"}, "status": {"active"}})
	want(t, p, http.StatusSeeOther)
	got := e.campaign("ws_a", c.ID)
	if got.Name != "API made, renamed" || got.Schedule != "rate(2 days)" || string(got.Notification) != body {
		t.Fatalf("after the console's edit: %s %s %s", got.Name, got.Schedule, got.Notification)
	}
}

// A viewer reads campaigns and changes none.
func TestCampaignViewerRefused(t *testing.T) {
	e := newEnv(t, 0)
	id := e.as("editor@a.example").createCampaign(weeklyForm(nil))
	v := e.as("viewer@a.example")
	p := v.get("/campaigns")
	want(t, p, http.StatusOK, "Weekly digest")
	if strings.Contains(p.body, "New campaign") {
		t.Error("a viewer is offered New campaign")
	}
	p = v.get("/campaigns/" + id)
	want(t, p, http.StatusOK, "Weekly digest", "Next runs")
	for _, s := range []string{"Pause campaign", "Edit campaign", "Delete campaign"} {
		if strings.Contains(p.body, s) {
			t.Errorf("a viewer is offered %s", s)
		}
	}
	want(t, v.get("/campaigns/new"), http.StatusForbidden, "Your role (viewer) cannot do this")
	want(t, v.get("/campaigns/"+id+"/edit"), http.StatusForbidden)
	want(t, v.get("/campaigns/"+id+"/delete"), http.StatusForbidden)
	for _, path := range []string{"/campaigns/new", "/campaigns/check", "/campaigns/" + id + "/edit", "/campaigns/" + id + "/pause",
		"/campaigns/" + id + "/resume", "/campaigns/" + id + "/delete"} {
		want(t, v.post(path, weeklyForm(url.Values{"name": {"Viewer's"}})), http.StatusForbidden, "Your role (viewer) cannot do this")
	}
	c := e.campaign("ws_a", id)
	cs, _, _ := e.store.ListCampaigns(context.Background(), "ws_a", "", notify.Page{Limit: 10})
	if c.Status != notify.CampaignActive || c.Name != "Weekly digest" || len(cs) != 1 {
		t.Fatalf("a viewer changed campaigns: %+v, %d campaigns", c, len(cs))
	}
}

// Another workspace's campaign, and a scheduled send's own campaign, are
// not found: not read, not changed.
func TestCampaignAnotherWorkspace(t *testing.T) {
	e := newEnv(t, 10*time.Second)
	ctx := context.Background()
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	a := e.as("admin@a.example")
	id := a.createCampaign(weeklyForm(nil))
	other := e.as("admin@b.example")
	for _, path := range []string{"/campaigns/" + id, "/campaigns/" + id + "/edit", "/campaigns/" + id + "/delete"} {
		want(t, other.get(path), http.StatusNotFound)
	}
	for _, path := range []string{"/campaigns/" + id + "/edit", "/campaigns/" + id + "/pause", "/campaigns/" + id + "/resume", "/campaigns/" + id + "/delete"} {
		want(t, other.post(path, weeklyForm(url.Values{"name": {"Taken over"}})), http.StatusNotFound)
	}
	if p := other.get("/campaigns"); strings.Contains(p.body, id) || strings.Contains(p.body, "Weekly digest") {
		t.Error("another workspace lists the campaign")
	}
	if c := e.campaign("ws_a", id); c.Status != notify.CampaignActive || c.Name != "Weekly digest" {
		t.Fatalf("another workspace changed the campaign: %+v", c)
	}
	// A console send with Undo is a scheduled send: its campaign is not a
	// campaign to edit.
	p := a.post("/send/confirm", url.Values{"user": {"u1"}, "channel": {"email"}, "title": {"Hi"}, "body": {"Hello"}, "expectedCount": {"1"}})
	want(t, p, http.StatusSeeOther)
	nid := strings.TrimPrefix(strings.Split(p.loc, "?")[0], "/history/")
	sendCampaign := campaign.SendCampaignID(nid)
	if _, err := e.store.GetCampaign(ctx, "ws_a", sendCampaign); err != nil {
		t.Fatalf("the scheduled send's campaign: %v", err)
	}
	want(t, a.get("/campaigns/"+sendCampaign), http.StatusNotFound)
	want(t, a.post("/campaigns/"+sendCampaign+"/pause", nil), http.StatusNotFound)
	if p := a.get("/campaigns"); strings.Contains(p.body, sendCampaign) {
		t.Error("the campaigns list shows a scheduled send")
	}
}

// A send scheduled for later is in History as scheduled, with Cancel, and
// cancelling it there cancels its schedule.
func TestScheduledSendCancelledFromHistory(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	ids := &notify.IDs{}
	sends := &send.Sender{Store: e.store, Dispatch: e.queue, Steps: e.steps, IDs: ids, Now: e.clock.Now}
	svc := &campaign.Service{Store: e.store, Scheduler: e.sched, Sender: sends, IDs: ids, Now: e.clock.Now}
	at := e.clock.Now().Add(time.Hour).UTC().Truncate(time.Second)
	in := send.Input{Channel: notify.ChannelEmail, Content: &send.ContentInput{Title: "Later", Body: "An hour from now"},
		Audience: &send.AudienceInput{UserIDs: []string{"u1"}}, ScheduleAt: &at}
	raw, _ := json.Marshal(in)
	n, err := svc.ScheduleSend(ctx, "ws_a", "key billing (k1)", notify.OriginAPI, in, raw)
	if err != nil {
		t.Fatal(err)
	}
	b := e.as("editor@a.example")
	want(t, b.get("/history?status=scheduled"), http.StatusOK, "/history/"+n.ID)
	want(t, b.get("/history/"+n.ID), http.StatusOK, `id="n-status">scheduled</span>`, "Cancel the send")
	want(t, b.post("/history/"+n.ID+"/cancel", nil), http.StatusSeeOther)
	if got, _ := e.store.GetNotification(ctx, "ws_a", n.ID); got.Status != notify.StatusCancelled {
		t.Fatalf("after Cancel: %s", got.Status)
	}
	if c, err := e.store.GetCampaign(ctx, "ws_a", campaign.SendCampaignID(n.ID)); err == nil && c.Status != notify.CampaignCancelled {
		t.Fatalf("the cancelled send's schedule is %s", c.Status)
	}
	if _, ok := e.sched.Spec(notify.ScheduleName(campaign.SendCampaignID(n.ID))); ok {
		t.Fatal("the cancelled send is still on the scheduler")
	}
}
