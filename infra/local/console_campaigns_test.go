package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/infra/browsertest"
)

// The console's campaigns, walked as an operator does: a weekly campaign
// built in the editor with its next five runs shown as they will be,
// paused, resumed and deleted; a one-off a few seconds ahead that runs by
// itself; and a send scheduled through the API, cancelled from History.

var campaignID = regexp.MustCompile(`/campaigns/(cmp_[a-z0-9]+)`)

// runTimes are the instants of the <time> elements under selector, as
// their datetime attributes say them.
func runTimes(t *testing.T, b *browsertest.Browser, selector string) []string {
	t.Helper()
	var out []string
	b.Eval(`[...document.querySelectorAll(`+"`"+selector+" time`"+`)].map(e => e.dateTime)`, &out)
	return out
}

// apiRunTimes are a campaign's next runs as GET /v1/campaigns/{id} answers
// them, in the same RFC 3339 form.
func apiRunTimes(t *testing.T, s *localServer, id string) []string {
	t.Helper()
	var out []string
	for _, r := range s.must(200, "GET", "/v1/campaigns/"+id, nil)["nextRuns"].([]any) {
		at, err := time.Parse(time.RFC3339Nano, r.(string))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, at.UTC().Format(time.RFC3339))
	}
	return out
}

// A weekly campaign (Mondays and Thursdays at 09:00 in Madrid) to a filter
// audience: the editor shows its next five runs as the API later answers
// them; then paused, resumed and deleted.
func TestConsoleCampaignWeekly(t *testing.T) {
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_DESTINATIONS": "home=Home,bills=My bills"})
	s.users(map[string]any{"id": "c1", "name": "Cliente 1", "email": "c1@example.com", "status": "active"},
		map[string]any{"id": "c2", "name": "Cliente 2", "email": "c2@example.com", "status": "active"},
		map[string]any{"id": "c3", "name": "Cliente 3", "email": "c3@example.com", "status": "inactive"})
	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("Campaigns")
	b.WaitText("No campaigns yet", 0)
	b.ClickLink("New campaign")
	b.WaitText("Next five runs", 0)
	// A new campaign starts in the operator's own time zone.
	var zone string
	b.Eval(`Intl.DateTimeFormat().resolvedOptions().timeZone`, &zone)
	if got := b.Value("Time zone"); zone != "" && got != zone {
		t.Errorf("a new campaign's time zone is %q, want the browser's %q", got, zone)
	}

	b.FillLabel("Campaign name", "Resumen semanal")
	b.FillLabel("Status", "active")
	b.Select("Channel", "Email")
	b.WaitText("Now: 2 users match the filters", 0)
	b.FillLabel("Title", "Hola {{name}}")
	b.FillLabel("Message", "Tu resumen semanal está listo")
	b.Select("Destination", "My bills")
	b.WaitText("Hola Cliente ", 0) // the preview for a sample recipient
	b.Check("Weekly, on chosen days")
	b.Check("Monday")
	b.Check("Thursday")
	b.FillLabel("Time of day", "09:00")
	b.Select("Time zone", "Europe/Madrid")
	b.WaitText("Every Monday and Thursday at 09:00", 0)
	var shown []string
	deadline := time.Now().Add(10 * time.Second)
	for len(shown) != 5 || !strings.Contains(b.Text(), "09:00 CE") {
		if time.Now().After(deadline) {
			t.Fatalf("the editor shows the runs %v:\n%s", shown, b.Text())
		}
		time.Sleep(100 * time.Millisecond)
		shown = runTimes(t, b, "#next-runs")
	}
	for _, r := range shown {
		at, _ := time.Parse(time.RFC3339, r)
		madrid, _ := time.LoadLocation("Europe/Madrid")
		if l := at.In(madrid); l.Hour() != 9 || l.Minute() != 0 || (l.Weekday() != time.Monday && l.Weekday() != time.Thursday) {
			t.Errorf("the editor shows a run at %s, Madrid %s", r, l)
		}
	}
	screen(t, b, "console-campaign-editor")
	b.Phone()
	screen(t, b, "console-campaign-editor-phone")
	b.SetViewport(1280, 900)
	b.ClickButton("Create campaign")
	b.WaitText("Campaign created: it runs by itself on its schedule.", 0)
	m := campaignID.FindStringSubmatch(b.URL())
	if m == nil {
		t.Fatalf("after creating, the page is %s", b.URL())
	}
	id := m[1]

	// What the editor showed is what the API answers, and what the page shows.
	api := apiRunTimes(t, s, id)
	if diff := cmp.Diff(api, shown); diff != "" {
		t.Errorf("next runs, the API's (-) and the editor's (+):\n%s", diff)
	}
	if diff := cmp.Diff(api, runTimes(t, b, "#next-runs")); diff != "" {
		t.Errorf("next runs, the API's (-) and the campaign page's (+):\n%s", diff)
	}
	c := s.must(200, "GET", "/v1/campaigns/"+id, nil)
	n := c["notification"].(map[string]any)
	if c["schedule"] != "cron(0 9 ? * MON,THU *)" || c["timezone"] != "Europe/Madrid" || c["createdBy"] != "operator "+adminEmail ||
		n["channel"] != "email" || n["content"].(map[string]any)["route"] != "bills" ||
		!cmp.Equal(n["audience"], map[string]any{"filter": map[string]any{"status": []any{"active"}}}) {
		t.Errorf("the campaign through the API: %v", c)
	}
	for _, want := range []string{"Every Monday and Thursday at 09:00", "Europe/Madrid", "Users: status active, counted at each run", "My bills", "No runs yet"} {
		if !strings.Contains(b.Text(), want) {
			t.Errorf("the campaign's page lacks %q:\n%s", want, b.Text())
		}
	}
	screen(t, b, "console-campaign")

	b.ClickButton("Pause campaign")
	b.WaitText("Campaign paused: it does not run until you resume it.", 0)
	b.WaitText("None: the campaign is paused", 0)
	if c := s.must(200, "GET", "/v1/campaigns/"+id, nil); c["status"] != "paused" || len(c["nextRuns"].([]any)) != 0 {
		t.Errorf("after Pause the API answers %v", c)
	}
	screen(t, b, "console-campaign-paused")
	b.ClickButton("Resume campaign")
	b.WaitText("Campaign resumed: it runs again on its schedule.", 0)
	if c := s.must(200, "GET", "/v1/campaigns/"+id, nil); c["status"] != "active" {
		t.Errorf("after Resume the API answers %v", c["status"])
	}
	if diff := cmp.Diff(apiRunTimes(t, s, id), runTimes(t, b, "#next-runs")); diff != "" {
		t.Errorf("next runs after Resume, the API's (-) and the page's (+):\n%s", diff)
	}

	b.ClickLink("Campaigns")
	b.WaitText("Resumen semanal", 0)
	for _, want := range []string{"Every Monday and Thursday at 09:00", "Europe/Madrid", "09:00 CE", "active", "Not yet"} {
		if !strings.Contains(b.Text(), want) {
			t.Errorf("the campaigns list lacks %q:\n%s", want, b.Text())
		}
	}
	screen(t, b, "console-campaigns")
	b.Phone()
	screen(t, b, "console-campaigns-phone")
	b.SetViewport(1280, 900)

	b.ClickLink("Resumen semanal")
	b.ClickLink("Delete campaign")
	b.WaitText("This removes the campaign Resumen semanal", 0)
	screen(t, b, "console-campaign-delete")
	b.ClickButton("Delete campaign")
	b.WaitText("Campaign deleted, with its schedule and the record of its runs.", 0)
	s.must(404, "GET", "/v1/campaigns/"+id, nil)
	b.Visit(s.base + "/settings/audit")
	for _, want := range []string{"campaign.create", "campaign.pause", "campaign.resume", "campaign.delete"} {
		b.WaitText(want, 0)
	}
}

// An at() campaign a few seconds ahead runs by itself, and its run appears
// on its page with its notification.
func TestConsoleCampaignRunsByItself(t *testing.T) {
	s := consoleServer(t, nil)
	s.users(map[string]any{"id": "u1", "name": "Ana", "email": "ana@example.com", "status": "active"})
	b := signIn(t, s, adminEmail, adminPassword)
	b.Visit(s.base + "/campaigns/new")
	b.FillLabel("Campaign name", "Aviso puntual")
	b.Select("Has email", "Yes")
	b.Select("Channel", "Email")
	b.FillLabel("Title", "Corte de agua")
	b.FillLabel("Message", "Hola {{name}}, mañana cortamos el agua de 10 a 12.")
	b.Check("Once")
	b.Select("Time zone", "UTC")
	at := time.Now().UTC().Add(12 * time.Second).Truncate(time.Second)
	b.FillLabel("Date", at.Format("2006-01-02"))
	b.FillLabel("Time", at.Format("15:04:05"))
	b.WaitText("Once, on "+at.Format("2 January 2006")+" at "+at.Format("15:04:05"), 0)
	b.ClickButton("Create campaign")
	b.WaitText("Campaign created", 0)
	id := campaignID.FindStringSubmatch(b.URL())[1]
	if got := runTimes(t, b, "#next-runs"); !cmp.Equal(got, []string{at.Format(time.RFC3339)}) {
		t.Errorf("the one-off's page shows the runs %v, want %s", got, at.Format(time.RFC3339))
	}

	s.waitFor("the campaign to run", func() map[string]any { return s.must(200, "GET", "/v1/campaigns/"+id, nil) },
		func(c map[string]any) bool { return c["status"] == "completed" })
	b.Visit(s.base + "/campaigns/" + id)
	b.WaitText("succeeded", 0)
	b.WaitText("completed", 0)
	runs := s.must(200, "GET", "/v1/campaigns/"+id+"/runs", nil)["items"].([]any)
	if len(runs) != 1 {
		t.Fatalf("runs = %v, want one", runs)
	}
	nid, _ := runs[0].(map[string]any)["notificationId"].(string)
	if nid == "" {
		t.Fatalf("the run has no notification: %v", runs[0])
	}
	screen(t, b, "console-campaign-run")
	b.ClickLink(nid)
	b.WaitText("Corte de agua", 0)
	b.WaitText("from a campaign", 0)
	s.waitStatus(nid, "completed")
	b.WaitText("ana@example.com", 10*time.Second)
	if got := s.outboxFor("ana@example.com"); len(got) != 1 {
		t.Errorf("outbox = %v, want the one email", got)
	}
}

// A send scheduled through the API (POST /v1/notifications with
// scheduleAt) is in History as scheduled, and Cancel there stops it.
func TestConsoleScheduledSendCancelledFromHistory(t *testing.T) {
	s := consoleServer(t, nil)
	s.users(map[string]any{"id": "u1", "name": "Ana", "email": "ana@example.com", "status": "active"})
	body := map[string]any{"channel": "email", "content": map[string]any{"title": "Cita mañana", "body": "Tu cita es mañana"},
		"audience": map[string]any{"userIds": []string{"u1"}}, "scheduleAt": time.Now().UTC().Add(time.Hour).Format(time.RFC3339)}
	id := s.must(202, "POST", "/v1/notifications", body)["id"].(string)
	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("History")
	b.WaitText("Cita mañana", 0)
	b.WaitText("scheduled", 0)
	b.ClickLink("Cita mañana")
	b.WaitText("Nobody yet: the send has not started.", 0)
	screen(t, b, "console-scheduled-send")
	b.ClickButton("Cancel the send")
	b.WaitText("Cancelled: nothing more will be sent.", 0)
	if n := s.must(200, "GET", "/v1/notifications/"+id, nil); n["status"] != "cancelled" {
		t.Errorf("after Cancel the API answers %v", n["status"])
	}
	if strings.Contains(b.Text(), "Cancel the send") {
		t.Error("a cancelled send still offers Cancel")
	}
}
