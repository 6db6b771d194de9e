package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/schedule"
	"github.com/heraldhq/herald/shared/send"
)

func init() {
	flashes["campaign-created"] = "Campaign created: it runs by itself on its schedule."
	flashes["campaign-saved"] = "Campaign saved: its next runs follow what you changed."
	flashes["campaign-paused"] = "Campaign paused: it does not run until you resume it."
	flashes["campaign-resumed"] = "Campaign resumed: it runs again on its schedule."
	flashes["campaign-deleted"] = "Campaign deleted, with its schedule and the record of its runs."
	funcs["zoned"] = zoned
}

// campaignRoutes registers scheduled campaigns: the list, the editor with
// its schedule check, each campaign's page with its runs, and pause,
// resume and delete, over the campaign service the API drives.
func (c *Console) campaignRoutes(route routeFunc) {
	route("GET /campaigns", viewer, c.campaigns)
	route("GET /campaigns/new", editor, c.newCampaign)
	route("POST /campaigns/new", editor, c.createCampaign)
	route("POST /campaigns/check", editor, c.checkSchedule)
	route("GET /campaigns/{id}", viewer, c.campaign)
	route("GET /campaigns/{id}/edit", editor, c.editCampaign)
	route("POST /campaigns/{id}/edit", editor, c.updateCampaign)
	route("POST /campaigns/{id}/pause", editor, c.pauseCampaign)
	route("POST /campaigns/{id}/resume", editor, c.resumeCampaign)
	route("GET /campaigns/{id}/delete", editor, c.confirmDeleteCampaign)
	route("POST /campaigns/{id}/delete", editor, c.deleteCampaign)
}

// scheduling is the API's answer when this deployment has no scheduler.
func (c *Console) scheduling() error {
	if c.svc.Campaigns == nil {
		return notify.Errorf(notify.CodeNotConfigured, "campaigns and scheduled sends need a scheduler: locally `make run` has one; on AWS the stack sets HERALD_SCHEDULER_TARGET_ARN and HERALD_SCHEDULER_ROLE_ARN")
	}
	return nil
}

// getCampaign reads a campaign an operator made, in the session's
// workspace; a scheduled send's own campaign is not one (as in the API).
func (c *Console) getCampaign(ctx context.Context, s *session, id string) (notify.Campaign, error) {
	if err := c.scheduling(); err != nil {
		return notify.Campaign{}, err
	}
	cmp, err := c.svc.Store.GetCampaign(ctx, s.WorkspaceID, id)
	if err == nil && cmp.Kind != notify.CampaignKindCampaign {
		err = notify.NotFound("campaign", id)
	}
	return cmp, err
}

// campaignForm is the editor's fields: the name, the notification as the
// send form has it (its audience always the users page's filters), and
// the schedule.
type campaignForm struct {
	// ID is the campaign being edited; empty for a new one.
	ID       string
	Name     string
	Send     sendForm
	Schedule scheduleForm
}

func readCampaignForm(v url.Values) campaignForm {
	f := campaignForm{Name: strings.TrimSpace(v.Get("name")), Send: readSendForm(v), Schedule: readScheduleForm(v)}
	// A campaign's audience is the filters, counted at each run.
	f.Send.UserID, f.Send.ExpectedCount = "", 0
	return f
}

// campaignNotification is the body of a send the form's notification
// describes, as the campaign stores it: the send form's input (its checks
// on destinations and variables included) without what a campaign leaves
// out (the expected count) or what is empty.
func campaignNotification(f sendForm, dests []Destination) (json.RawMessage, error) {
	f.UserID, f.ExpectedCount = "", 0
	in, err := f.input(dests)
	if err != nil {
		return nil, err
	}
	content := map[string]any{"body": in.Content.Body}
	if in.Content.Title != "" {
		content["title"] = in.Content.Title
	}
	if in.Content.Route != "" {
		content["route"] = in.Content.Route
	}
	if in.Content.Push != nil {
		content["push"] = in.Content.Push
	}
	m := map[string]any{"channel": in.Channel, "content": content, "audience": map[string]any{"filter": in.Audience.Filter},
		"recipientType": in.RecipientType}
	if len(in.Variables) > 0 {
		m["variables"] = in.Variables
	}
	if in.Category != "" {
		m["category"] = in.Category
	}
	return json.Marshal(m)
}

// sendFormOf is the form showing a stored notification, and whether it
// shows all of it: a notification made through the API with what the form
// has no field for (a template, a list of users, several statuses…) is
// not written back the same, and is then kept as it is.
func sendFormOf(raw json.RawMessage, dests []Destination) (sendForm, bool) {
	var in send.Input
	if err := json.Unmarshal(raw, &in); err != nil || in.Content == nil || in.Audience == nil || in.Audience.Filter == nil {
		return sendForm{}, false
	}
	var filter struct {
		Status      []string `json:"status"`
		Type        string   `json:"type"`
		Tags        []string `json:"tags"`
		Language    string   `json:"language"`
		PushEnabled *bool    `json:"pushEnabled"`
		HasEmail    *bool    `json:"hasEmail"`
		HasPhone    *bool    `json:"hasPhone"`
		Q           string   `json:"q"`
	}
	if err := json.Unmarshal(in.Audience.Filter, &filter); err != nil {
		return sendForm{}, false
	}
	q := userQuery{Q: filter.Q, Type: filter.Type, Language: filter.Language, Push: yesNoOf(filter.PushEnabled),
		Email: yesNoOf(filter.HasEmail), Phone: yesNoOf(filter.HasPhone), Channel: in.Channel}
	if len(filter.Status) == 1 {
		q.Status = filter.Status[0]
	}
	if len(filter.Tags) == 1 {
		q.Tag = filter.Tags[0]
	}
	f := sendForm{Query: q, Channel: in.Channel, Title: in.Content.Title, Body: in.Content.Body, Route: in.Content.Route, Category: in.Category}
	for i := range f.Buttons {
		f.Buttons[i].ID = fmt.Sprintf("b%d", i+1)
	}
	if p := in.Content.Push; p != nil {
		f.Icon, f.Image = p.Icon, p.Image
		for _, b := range p.Buttons {
			for i := range f.Buttons {
				if b.ID == f.Buttons[i].ID {
					f.Buttons[i] = b
				}
			}
		}
	}
	names := make([]string, 0, len(in.Variables))
	for k := range in.Variables {
		names = append(names, k)
	}
	slices.Sort(names)
	lines := make([]string, len(names))
	for i, k := range names {
		lines[i] = k + "=" + in.Variables[k]
	}
	f.Variables = strings.Join(lines, "\n")
	again, err := campaignNotification(f, dests)
	return f, err == nil && sameJSON(again, raw)
}

func yesNoOf(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// campaignFormPage is the editor and its problems.
type campaignFormPage struct {
	Form campaignForm
	// Campaign is the campaign edited (nil for a new one).
	Campaign *notify.Campaign
	// Kept is a notification the form cannot show, kept as it is (its
	// JSON, indented).
	Kept     string
	Words    string
	NextRuns []runTime
	// BrowserZone asks the script to choose the operator's time zone.
	BrowserZone  bool
	Destinations []Destination
	Channels     []notify.Channel
	Weekdays     []weekday
	Units        []string
	Zones        []zoneGroup
	Error        *notify.Error
}

func (p campaignFormPage) PageTitle() string {
	if p.Campaign == nil {
		return "New campaign"
	}
	return "Edit campaign " + p.Campaign.Name
}

// Action is where the form posts.
func (p campaignFormPage) Action() string {
	if p.Campaign == nil {
		return "/campaigns/new"
	}
	return "/campaigns/" + p.Campaign.ID + "/edit"
}

// Back is the page the editor came from.
func (p campaignFormPage) Back() string {
	if p.Campaign == nil {
		return "/campaigns"
	}
	return "/campaigns/" + p.Campaign.ID
}

// ZoneListed reports whether the chosen zone is among those offered (an
// IANA alias typed through the API is not, and is offered on its own).
func (p campaignFormPage) ZoneListed() bool {
	return slices.Contains(zoneNames, p.Form.Schedule.Timezone)
}

// FieldError is the problem with one field, if any: the builder's own, the
// campaign service's (name, schedule, timezone), or the notification's
// ("content.title" for the service's "notification.content.title").
func (p campaignFormPage) FieldError(field string) string {
	if p.Error == nil {
		return ""
	}
	for _, d := range p.Error.Details {
		f := strings.TrimPrefix(d.Field, "notification.")
		if d.Field == field || f == field || f == "content."+field || strings.HasPrefix(f, field+".") {
			return d.Problem
		}
	}
	return ""
}

func (c *Console) formPage(f campaignForm, cmp *notify.Campaign, dests []Destination) campaignFormPage {
	return campaignFormPage{Form: f, Campaign: cmp, Destinations: dests, Channels: channels, Weekdays: weekdays,
		Units: rateUnits, Zones: zonesByRegion}
}

// withRuns adds the schedule in words and its next five run times, as the
// API would answer them after saving (created anchors a rate()).
func (c *Console) withRuns(p campaignFormPage, created time.Time) campaignFormPage {
	expr, err := p.Form.Schedule.expression()
	if err != nil {
		return p
	}
	p.Words = scheduleWords(expr)
	p.NextRuns, _ = c.nextRuns(expr, p.Form.Schedule.Timezone, created)
	return p
}

// nextRuns are the next five run times of expr in tz, computed by the
// campaign service as the API shows a campaign's (campaign.NextRuns), or
// what is wrong with it in the service's words.
func (c *Console) nextRuns(expr, tz string, created time.Time) ([]runTime, []notify.FieldError) {
	if _, err := schedule.Parse(expr, tz); err != nil {
		return nil, []notify.FieldError{scheduleProblem(err)}
	}
	if created.IsZero() {
		created = c.opts.Now().UTC().Truncate(time.Millisecond) // as Create stamps a new one
	}
	ts := c.svc.Campaigns.NextRuns(notify.Campaign{Status: notify.CampaignActive, Schedule: expr, Timezone: tz, CreatedAt: created}, 5)
	if len(ts) == 0 {
		return nil, []notify.FieldError{{Field: "schedule", Problem: expr + " has no run after now"}}
	}
	out := make([]runTime, len(ts))
	for i, t := range ts {
		out[i] = zoned(t, tz)
	}
	return out, nil
}

func (c *Console) newCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.scheduling(); err != nil {
		return err
	}
	dests, err := c.destinations(r.Context(), s.WorkspaceID)
	if err != nil {
		return err
	}
	// The users page's filters may come along (/campaigns/new?status=active).
	f := readCampaignForm(r.URL.Query())
	if f.Send.Route == "" {
		f.Send.Route = dests[0].Route
	}
	f.Schedule = f.Schedule.defaults()
	p := c.formPage(f, nil, dests)
	if f.Schedule.Timezone == "" {
		p.Form.Schedule.Timezone, p.BrowserZone = "UTC", true
	}
	c.render(w, r, s, http.StatusOK, "campaign_form", c.withRuns(p, time.Time{}))
	return nil
}

// campaignInput is what the service takes from the form: the built
// schedule and the notification's body, or every problem the console
// finds before asking it.
func (c *Console) campaignInput(f campaignForm, kept json.RawMessage, dests []Destination) (campaign.Input, error) {
	in := campaign.Input{Name: f.Name, Timezone: f.Schedule.Timezone, Notification: kept}
	var bad []notify.FieldError
	expr, err := f.Schedule.expression()
	if err != nil {
		bad = append(bad, err.(*notify.Error).Details...)
	}
	in.Schedule = expr
	if kept == nil {
		raw, err := campaignNotification(f.Send, dests)
		var e *notify.Error
		switch {
		case errors.As(err, &e):
			bad = append(bad, e.Details...)
		case err != nil:
			return in, err
		}
		in.Notification = raw
	}
	if len(bad) > 0 {
		return in, notify.Invalid(bad...)
	}
	return in, nil
}

// formProblem shows the editor again with what was typed and the
// service's (or the builder's) error; an internal error is the error page.
func (c *Console) formProblem(w http.ResponseWriter, r *http.Request, s *session, p campaignFormPage, created time.Time, err error) error {
	var e *notify.Error
	if !errors.As(err, &e) || e.Code == notify.CodeInternal {
		return err
	}
	p.Error = e
	c.render(w, r, s, e.HTTPStatus(), "campaign_form", c.withRuns(p, created))
	return nil
}

func (c *Console) createCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.scheduling(); err != nil {
		return err
	}
	ctx := r.Context()
	dests, err := c.destinations(ctx, s.WorkspaceID)
	if err != nil {
		return err
	}
	f := readCampaignForm(r.PostForm)
	in, err := c.campaignInput(f, nil, dests)
	var cmp notify.Campaign
	if err == nil {
		cmp, err = c.svc.Campaigns.Create(ctx, s.WorkspaceID, actor(s), in)
	}
	if err != nil {
		return c.formProblem(w, r, s, c.formPage(f, nil, dests), time.Time{}, err)
	}
	c.auditCampaign(ctx, s, "campaign.create", cmp)
	http.Redirect(w, r, "/campaigns/"+cmp.ID+"?done=campaign-created", http.StatusSeeOther)
	return nil
}

// editable reports whether the service takes changes to a campaign in
// this state (a completed or deleting one is replaced by a new one).
func editable(cmp notify.Campaign) bool {
	return cmp.Status == notify.CampaignActive || cmp.Status == notify.CampaignPaused
}

// editForm is the editor showing a stored campaign, with its notification
// kept as it is when the form cannot show it.
func (c *Console) editForm(cmp notify.Campaign, dests []Destination) (campaignFormPage, json.RawMessage) {
	sf, ok := sendFormOf(cmp.Notification, dests)
	f := campaignForm{ID: cmp.ID, Name: cmp.Name, Send: sf, Schedule: scheduleFormOf(cmp.Schedule, cmp.Timezone)}
	p := c.formPage(f, &cmp, dests)
	if ok {
		return p, nil
	}
	p.Kept = indentJSON(cmp.Notification)
	return p, cmp.Notification
}

func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func (c *Console) editCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	cmp, err := c.getCampaign(r.Context(), s, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !editable(cmp) {
		return notify.Errorf(notify.CodeConflict, "campaign %s is %s; create a new one", cmp.ID, cmp.Status)
	}
	dests, err := c.destinations(r.Context(), s.WorkspaceID)
	if err != nil {
		return err
	}
	p, _ := c.editForm(cmp, dests)
	c.render(w, r, s, http.StatusOK, "campaign_form", c.withRuns(p, cmp.CreatedAt))
	return nil
}

func (c *Console) updateCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	cur, err := c.getCampaign(ctx, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	dests, err := c.destinations(ctx, s.WorkspaceID)
	if err != nil {
		return err
	}
	p, kept := c.editForm(cur, dests)
	f := readCampaignForm(r.PostForm)
	f.ID = cur.ID
	if kept != nil {
		f.Send = p.Form.Send
	}
	p.Form = f
	in, err := c.campaignInput(f, kept, dests)
	var cmp notify.Campaign
	if err == nil {
		cmp, err = c.svc.Campaigns.Update(ctx, s.WorkspaceID, cur.ID, actor(s), in)
	}
	if notify.IsCode(err, notify.CodeScheduleFailed) {
		// Saved; the scheduler takes it on the repair.
		c.auditCampaign(ctx, s, "campaign.update", cmp)
	}
	if err != nil {
		return c.formProblem(w, r, s, p, cur.CreatedAt, err)
	}
	c.auditCampaign(ctx, s, "campaign.update", cmp)
	http.Redirect(w, r, "/campaigns/"+cmp.ID+"?done=campaign-saved", http.StatusSeeOther)
	return nil
}

// auditCampaign records a change to a campaign: its name and schedule.
func (c *Console) auditCampaign(ctx context.Context, s *session, action string, cmp notify.Campaign) {
	c.svc.Operators.Audit(ctx, notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: action, Target: cmp.ID,
		Detail: "“" + clip(cmp.Name, 80) + "”, " + scheduleWords(cmp.Schedule) + " (" + cmp.Timezone + ")"})
}

// scheduleCheck is what the editor's script shows as the schedule is
// built: the expression, in words, and its next five runs, or what is
// wrong with it.
type scheduleCheck struct {
	Schedule string              `json:"schedule"`
	Words    string              `json:"words"`
	Timezone string              `json:"timezone"`
	NextRuns []runTime           `json:"nextRuns"`
	Problems []notify.FieldError `json:"problems,omitempty"`
}

// checkSchedule answers the editor's script: the builder's expression and
// its next five runs, computed as the API shows them. It saves nothing.
func (c *Console) checkSchedule(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.scheduling(); err != nil {
		return err
	}
	sf := readScheduleForm(r.PostForm)
	out := scheduleCheck{Timezone: sf.Timezone, NextRuns: []runTime{}}
	var created time.Time
	if id := r.PostForm.Get("campaign"); id != "" {
		cur, err := c.getCampaign(r.Context(), s, id)
		if err != nil {
			return err
		}
		created = cur.CreatedAt
	}
	expr, err := sf.expression()
	if err != nil {
		out.Problems = err.(*notify.Error).Details
	} else {
		out.Schedule, out.Words = expr, scheduleWords(expr)
		if runs, problems := c.nextRuns(expr, sf.Timezone, created); problems != nil {
			out.Problems = problems
		} else {
			out.NextRuns = runs
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// campaignsPerPage is the campaigns list's page size.
const campaignsPerPage = 50

// campaignRow is one campaign of the list.
type campaignRow struct {
	C     notify.Campaign
	Words string
	Next  *runTime
	// Last is the latest run, LastAt its time in the campaign's zone.
	Last   *notify.CampaignRun
	LastAt runTime
}

type campaignsPage struct {
	Rows []campaignRow
	Next string
	Prev bool
}

func (campaignsPage) PageTitle() string { return "Campaigns" }

func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.scheduling(); err != nil {
		return err
	}
	ctx := r.Context()
	after := r.URL.Query().Get("after")
	cs, next, err := c.svc.Store.ListCampaigns(ctx, s.WorkspaceID, notify.CampaignKindCampaign, notify.Page{Limit: campaignsPerPage, Cursor: after})
	if err != nil {
		return notify.CursorError(err)
	}
	p := campaignsPage{Next: next, Prev: after != ""}
	for _, cmp := range cs {
		row := campaignRow{C: cmp, Words: scheduleWords(cmp.Schedule)}
		if ts := c.svc.Campaigns.NextRuns(cmp, 1); len(ts) > 0 {
			n := zoned(ts[0], cmp.Timezone)
			row.Next = &n
		}
		if cmp.LastRunAt != nil {
			runs, _, err := c.svc.Store.ListRuns(ctx, s.WorkspaceID, cmp.ID, notify.Page{Limit: 1})
			if err != nil {
				return err
			}
			if len(runs) > 0 {
				row.Last, row.LastAt = &runs[0], zoned(runs[0].ScheduledAt, cmp.Timezone)
			}
		}
		p.Rows = append(p.Rows, row)
	}
	c.render(w, r, s, http.StatusOK, "campaigns", p)
	return nil
}

// campaignPage is one campaign: its schedule and next runs, its
// notification, and its runs, newest first.
type campaignPage struct {
	C        notify.Campaign
	Words    string
	NextRuns []runTime
	Runs     []notify.CampaignRun
	// RunsNext is the cursor of older runs; RunsFrom the one shown.
	RunsNext string
	RunsFrom string
	// Send is the notification as the form shows it; Raw its JSON when
	// the form cannot show it.
	Send *sendForm
	Raw  string
	// Destination is the label of the notification's route.
	Destination string
	Error       *notify.Error
}

func (p campaignPage) PageTitle() string { return p.C.Name }

// Editable reports whether the campaign can still be changed.
func (p campaignPage) Editable() bool { return editable(p.C) }

// Pending reports a change the scheduler has not taken yet.
func (p campaignPage) Pending() bool {
	return p.C.Sync.State == notify.SyncPending && p.C.Sync.Error != ""
}

// DestinationLabel names a route as the form offers it.
func destinationLabel(route string, dests []Destination) string {
	for _, d := range dests {
		if d.Route == route {
			return d.Label
		}
	}
	return route
}

func (c *Console) campaign(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.showCampaign(w, r, s, http.StatusOK, nil)
}

// showCampaign renders the campaign's page, with e when a change to it was
// refused.
func (c *Console) showCampaign(w http.ResponseWriter, r *http.Request, s *session, status int, e *notify.Error) error {
	ctx := r.Context()
	cmp, err := c.getCampaign(ctx, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	from := r.URL.Query().Get("after")
	runs, next, err := c.svc.Store.ListRuns(ctx, s.WorkspaceID, cmp.ID, notify.Page{Limit: 50, Cursor: from})
	if err != nil {
		return notify.CursorError(err)
	}
	p := campaignPage{C: cmp, Words: scheduleWords(cmp.Schedule), Runs: runs, RunsNext: next, RunsFrom: from, Error: e}
	for _, t := range c.svc.Campaigns.NextRuns(cmp, 5) {
		p.NextRuns = append(p.NextRuns, zoned(t, cmp.Timezone))
	}
	dests, err := c.destinations(r.Context(), s.WorkspaceID)
	if err != nil {
		return err
	}
	if sf, ok := sendFormOf(cmp.Notification, dests); ok {
		p.Send, p.Destination = &sf, destinationLabel(sf.Route, dests)
	} else {
		p.Raw = indentJSON(cmp.Notification)
	}
	c.render(w, r, s, status, "campaign", p)
	return nil
}

func (c *Console) pauseCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.setCampaignPaused(w, r, s, true)
}

func (c *Console) resumeCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.setCampaignPaused(w, r, s, false)
}

func (c *Console) setCampaignPaused(w http.ResponseWriter, r *http.Request, s *session, paused bool) error {
	ctx := r.Context()
	cur, err := c.getCampaign(ctx, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	action, done := "campaign.resume", "campaign-resumed"
	if paused {
		action, done = "campaign.pause", "campaign-paused"
	}
	cmp, err := c.svc.Campaigns.SetPaused(ctx, s.WorkspaceID, cur.ID, paused)
	if err == nil || notify.IsCode(err, notify.CodeScheduleFailed) {
		c.auditCampaign(ctx, s, action, cmp) // saved, even when the scheduler has yet to take it
	}
	var e *notify.Error
	if errors.As(err, &e) && e.Code != notify.CodeInternal {
		return c.showCampaign(w, r, s, e.HTTPStatus(), e)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/campaigns/"+cmp.ID+"?done="+done, http.StatusSeeOther)
	return nil
}

// maxRunsCounted bounds the runs the delete confirmation counts.
const maxRunsCounted = 100

// campaignDeletePage asks before a delete, saying what it removes.
type campaignDeletePage struct {
	C     notify.Campaign
	Words string
	// Runs is what the delete removes of the runs' record, in words.
	Runs string
}

func (p campaignDeletePage) PageTitle() string { return "Delete campaign " + p.C.Name }

func (c *Console) confirmDeleteCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	cmp, err := c.getCampaign(ctx, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	runs, more, err := c.svc.Store.ListRuns(ctx, s.WorkspaceID, cmp.ID, notify.Page{Limit: maxRunsCounted})
	if err != nil {
		return err
	}
	p := campaignDeletePage{C: cmp, Words: scheduleWords(cmp.Schedule)}
	switch {
	case more != "":
		p.Runs = fmt.Sprintf("the record of its %d or more runs", maxRunsCounted)
	case len(runs) == 0:
		p.Runs = "no record of runs: it has not run yet"
	case len(runs) == 1:
		p.Runs = "the record of its one run"
	default:
		p.Runs = fmt.Sprintf("the record of its %d runs", len(runs))
	}
	c.render(w, r, s, http.StatusOK, "campaign_delete", p)
	return nil
}

func (c *Console) deleteCampaign(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	cmp, err := c.getCampaign(ctx, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	err = c.svc.Campaigns.Delete(ctx, s.WorkspaceID, cmp.ID)
	if err == nil || notify.IsCode(err, notify.CodeScheduleFailed) {
		// A delete the scheduler has yet to take is marked deleting and
		// finished by the repair: it runs no more either way.
		c.auditCampaign(ctx, s, "campaign.delete", cmp)
	}
	var e *notify.Error
	if errors.As(err, &e) && e.Code != notify.CodeInternal {
		return c.showCampaign(w, r, s, e.HTTPStatus(), e)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/campaigns?done=campaign-deleted", http.StatusSeeOther)
	return nil
}
