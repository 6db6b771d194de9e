package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/send"
)

// sendForm is the send form's fields: the audience (one user or the users
// page's filters) and the message.
type sendForm struct {
	UserID   string
	Query    userQuery
	Channel  notify.Channel
	Title    string
	Body     string
	Route    string
	Category string
	Image    string
	Icon     string
	Buttons  [2]notify.Button
	// Variables are name=value lines.
	Variables string
	// AI generation.
	Tone, AICategory, Language, Brief string
	// ExpectedCount is the count the operator confirmed (review).
	ExpectedCount int
	// New send (sends.go): a template, sent to the numbers or email
	// addresses typed in Addresses (splitList) instead of users.
	TemplateID string
	Addresses  string
}

func readSendForm(v url.Values) sendForm {
	f := sendForm{UserID: strings.TrimSpace(v.Get("user")), Query: readUserQuery(v), Channel: notify.Channel(v.Get("channel")),
		Title: v.Get("title"), Body: v.Get("body"), Route: v.Get("route"), Category: strings.TrimSpace(v.Get("category")),
		Image: strings.TrimSpace(v.Get("image")), Icon: strings.TrimSpace(v.Get("icon")), Variables: v.Get("variables"),
		Tone: v.Get("tone"), AICategory: v.Get("aiCategory"), Language: strings.TrimSpace(v.Get("language.ai")), Brief: v.Get("brief")}
	if !f.Channel.Valid() {
		f.Channel = notify.ChannelPush
	}
	for i := range f.Buttons {
		n := strconv.Itoa(i + 1)
		f.Buttons[i] = notify.Button{ID: "b" + n, Label: strings.TrimSpace(v.Get("button" + n)), Route: strings.TrimSpace(v.Get("button" + n + "route"))}
	}
	f.ExpectedCount, _ = strconv.Atoi(v.Get("expectedCount"))
	f.TemplateID, f.Addresses = strings.TrimSpace(v.Get("template")), v.Get("addresses")
	return f
}

// Hidden are the form's fields as hidden inputs (the review page carries
// them to the confirmation).
func (f sendForm) Hidden() url.Values {
	v := f.Query.Values()
	v.Set("channel", string(f.Channel))
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("user", f.UserID)
	set("title", f.Title)
	set("body", f.Body)
	set("route", f.Route)
	set("category", f.Category)
	set("image", f.Image)
	set("icon", f.Icon)
	set("variables", f.Variables)
	set("template", f.TemplateID)
	set("addresses", f.Addresses)
	for i, b := range f.Buttons {
		n := strconv.Itoa(i + 1)
		set("button"+n, b.Label)
		set("button"+n+"route", b.Route)
	}
	return v
}

// vars parses the Variables lines.
func (f sendForm) vars() (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(f.Variables, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, notify.Invalid(notify.FieldError{Field: "variables", Problem: fmt.Sprintf("line %d must be name=value", i+1)})
		}
		out[name] = strings.TrimSpace(value)
	}
	return out, nil
}

// input is the send the form describes, as the API receives it. Its
// routes must be among the workspace's destinations: the console offers
// only those, and a crafted form may not send people elsewhere.
func (f sendForm) input(dests []Destination) (send.Input, error) {
	vars, err := f.vars()
	if err != nil {
		return send.Input{}, err
	}
	allowed := func(route string) bool {
		return slices.ContainsFunc(dests, func(d Destination) bool { return d.Route == route })
	}
	var bad []notify.FieldError
	if f.Route != "" && !allowed(f.Route) {
		bad = append(bad, notify.FieldError{Field: "route", Problem: "must be one of the workspace's destinations"})
	}
	for i, b := range f.Buttons {
		if b.Route != "" && !allowed(b.Route) {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("button%droute", i+1), Problem: "must be one of the workspace's destinations"})
		}
	}
	if len(bad) > 0 {
		return send.Input{}, notify.Invalid(bad...)
	}
	content := &send.ContentInput{Title: f.Title, Body: f.Body, Route: f.Route}
	if f.Channel == notify.ChannelPush || f.Channel == notify.ChannelWebPush || f.Channel == notify.ChannelInApp {
		px := &notify.PushExtras{Icon: f.Icon, Image: f.Image}
		for _, b := range f.Buttons {
			if b.Label != "" {
				px.Buttons = append(px.Buttons, b)
			}
		}
		if px.Icon != "" || px.Image != "" || len(px.Buttons) > 0 {
			content.Push = px
		}
	}
	// The console's people are the workspace's clients (seed 001's
	// recipient types: clients, or a newsletter's subscribers).
	in := send.Input{Channel: f.Channel, Content: content, Variables: vars, Category: f.Category, RecipientType: "client"}
	if f.TemplateID != "" {
		in.TemplateID, in.Content = f.TemplateID, nil
	}
	switch {
	case f.Addresses != "":
		in.Audience = &send.AudienceInput{Addresses: splitList(f.Addresses)}
		return in, nil
	case f.UserID != "":
		in.Audience = &send.AudienceInput{UserIDs: []string{f.UserID}}
	default:
		filter, err := json.Marshal(filterJSON(f.Query.Filter()))
		if err != nil {
			return send.Input{}, err
		}
		in.Audience = &send.AudienceInput{Filter: filter}
		n := f.ExpectedCount
		in.Audience.ExpectedCount = &n
	}
	return in, nil
}

// filterJSON is a filter in the API's JSON form (send.ParseFilter reads it).
func filterJSON(f notify.UserFilter) map[string]any {
	m := map[string]any{}
	if len(f.Status) > 0 {
		m["status"] = f.Status
	}
	if f.Type != "" {
		m["type"] = f.Type
	}
	if len(f.Tags) > 0 {
		m["tags"] = f.Tags
	}
	if f.Language != "" {
		m["language"] = f.Language
	}
	if f.PushEnabled != nil {
		m["pushEnabled"] = *f.PushEnabled
	}
	if f.HasEmail != nil {
		m["hasEmail"] = *f.HasEmail
	}
	if f.HasPhone != nil {
		m["hasPhone"] = *f.HasPhone
	}
	if f.Q != "" {
		m["q"] = f.Q
	}
	return m
}

// sendPage is the send form, the review and their problems.
type sendPage struct {
	Form         sendForm
	User         *notify.User
	Reach        *reachView
	Destinations []Destination
	Channels     []notify.Channel
	Tones        []notify.ComposeChoice
	AICategories []notify.ComposeChoice
	AIOff        string
	Variants     []compose.Variant
	Error        *notify.Error
	// Review.
	Preview  preview
	Segments int
	Encoding string
	Cost     string
	Grace    time.Duration
	Changed  bool
	Warnings []string
}

func (p sendPage) PageTitle() string {
	if p.User != nil {
		return "Send notification to " + displayName(*p.User)
	}
	return "Send notification"
}

// FieldError is the problem with one field, if any.
func (p sendPage) FieldError(field string) string {
	if p.Error == nil {
		return ""
	}
	for _, d := range p.Error.Details {
		if d.Field == field || strings.HasPrefix(d.Field, field+".") || d.Field == "content."+field {
			return d.Problem
		}
	}
	return ""
}

func displayName(u notify.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

// preview is the message raw (variables as written) and rendered for a
// sample recipient.
type preview struct {
	RawTitle string   `json:"rawTitle"`
	RawBody  string   `json:"rawBody"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	Sample   string   `json:"sample,omitempty"`
	Missing  []string `json:"missing,omitempty"`
}

func (c *Console) basePage(r *http.Request, s *session, f sendForm) (sendPage, error) {
	dests, err := c.destinations(r.Context(), s.WorkspaceID)
	if err != nil {
		return sendPage{}, err
	}
	p := sendPage{Form: f, Destinations: dests, Channels: channels, Grace: c.grace()}
	if f.UserID != "" {
		u, err := c.svc.Users.Get(r.Context(), s.WorkspaceID, f.UserID)
		if err != nil {
			return p, err
		}
		p.User = &u
	}
	if c.svc.Compose == nil {
		p.AIOff = c.opts.ComposeHelp
		if p.AIOff == "" {
			p.AIOff = "AI writing is off: no model is configured."
		}
	} else if o, err := compose.LoadOptions(r.Context(), c.svc.Store, s.WorkspaceID); err == nil {
		p.Tones, p.AICategories = o.Tones, o.Categories
	} else {
		return p, err
	}
	return p, nil
}

func (c *Console) grace() time.Duration {
	if c.opts.Grace < 0 || c.svc.Campaigns == nil {
		return 0
	}
	return c.opts.Grace
}

func (c *Console) sendForm(w http.ResponseWriter, r *http.Request, s *session) error {
	f := readSendForm(r.URL.Query())
	p, err := c.basePage(r, s, f)
	if err != nil {
		return err
	}
	if p.Form.Route == "" {
		p.Form.Route = p.Destinations[0].Route
	}
	// The count of a filter audience is not made here: at 100,000 users it
	// takes longer than a page may, so the page's script asks for it
	// (/send/check with count=1), and the confirmation shows it in any case.
	c.render(w, r, s, http.StatusOK, "send", p)
	return nil
}

// check is what the send form's script shows as the operator types.
type check struct {
	Reach    *reachView          `json:"reach,omitempty"`
	Preview  preview             `json:"preview"`
	Segments int                 `json:"segments,omitempty"`
	Encoding string              `json:"encoding,omitempty"`
	Limits   map[string]int      `json:"limits"`
	Problems []notify.FieldError `json:"problems,omitempty"`
	// Warnings are what the channel's devices will do to the text.
	Warnings []string `json:"warnings,omitempty"`
}

// Push texts longer than these are cut in a collapsed notification on
// most phones and browsers (Android and iOS show about 50 characters of
// title and two lines, some 150 characters, of body).
const (
	pushTitleShown = 50
	pushBodyShown  = 150
)

// warnings say what a channel's devices will do to a rendered text.
func warnings(ch notify.Channel, title, body string) []string {
	var out []string
	if ch == notify.ChannelPush || ch == notify.ChannelWebPush {
		if n := len([]rune(title)); n > pushTitleShown {
			out = append(out, fmt.Sprintf("The title has %d characters: most phones show about %d before cutting it.", n, pushTitleShown))
		}
		if n := len([]rune(body)); n > pushBodyShown {
			out = append(out, fmt.Sprintf("The message has %d characters: a collapsed notification shows about %d.", n, pushBodyShown))
		}
	}
	if ch == notify.ChannelSMS && title != "" {
		out = append(out, "An SMS has no title: only the message is sent.")
	}
	return out
}

// sendCheck answers the form's script: the count for the chosen channel
// and category, the preview for a sample recipient and the channel's
// limits. It sends nothing.
func (c *Console) sendCheck(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		return notify.Errorf(notify.CodeBadRequest, "the form could not be read: %v", err)
	}
	f := readSendForm(r.PostForm)
	out := check{Limits: map[string]int{"title": send.MaxTitle, "body": send.MaxBody}}
	var sample *notify.User
	if f.UserID != "" {
		u, err := c.svc.Users.Get(r.Context(), s.WorkspaceID, f.UserID)
		if err != nil {
			return err
		}
		sample = &u
	} else if r.PostForm.Get("count") == "1" {
		// Counting walks the whole audience: the script asks only when the
		// channel or the category changed, not at every key.
		n, err := c.svc.Sends.Reach(r.Context(), s.WorkspaceID, f.Query.Filter(), f.Channel, f.Category)
		if err != nil {
			return err
		}
		out.Reach = &reachView{Users: n.Matched, Recipients: n.Recipients, Skipped: n.Skipped, Label: "Send notification to " + notify.Quantity(n.Recipients, "user", "users")}
		if len(n.Sample) > 0 {
			sample = &n.Sample[0]
		}
	} else {
		users, _, err := c.svc.Users.List(r.Context(), s.WorkspaceID, f.Query.Filter(), notify.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(users) > 0 {
			sample = &users[0]
		}
	}
	vars, err := f.vars()
	if err != nil {
		var e *notify.Error
		errors.As(err, &e)
		out.Problems = e.Details
	}
	out.Preview = renderPreview(f, sample, vars)
	out.Warnings = warnings(f.Channel, out.Preview.Title, out.Preview.Body)
	if f.Channel == notify.ChannelSMS {
		enc, _, segs := channel.SMSSegments(out.Preview.Body)
		out.Segments, out.Encoding = segs, string(enc)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func renderPreview(f sendForm, sample *notify.User, vars map[string]string) preview {
	p := preview{RawTitle: f.Title, RawBody: f.Body}
	all := vars
	if sample != nil {
		all = render.Merge(render.UserVariables(*sample), vars)
		p.Sample = displayName(*sample)
	}
	var m1, m2 []string
	p.Title, m1 = render.Text(f.Title, all)
	p.Body, m2 = render.Text(f.Body, all)
	p.Missing = append(m1, m2...)
	return p
}

// review validates the send as the API would, counts it and shows what
// will happen: to how many, the segments, the cost, and that it cannot be
// undone once the grace period is over.
func (c *Console) review(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		return notify.Errorf(notify.CodeBadRequest, "the form could not be read: %v", err)
	}
	f := readSendForm(r.PostForm)
	p, err := c.basePage(r, s, f)
	if err != nil {
		return err
	}
	return c.showReview(w, r, s, p, false)
}

func (c *Console) showReview(w http.ResponseWriter, r *http.Request, s *session, p sendPage, changed bool) error {
	ctx := r.Context()
	in, err := p.Form.input(p.Destinations)
	if err == nil {
		in.Audience.ExpectedCount = nil
		var prep send.Prepared
		prep, err = c.svc.Sends.Prepare(ctx, send.Options{Mode: send.ModeDryRun, WorkspaceID: s.WorkspaceID, By: actor(s), Origin: notify.OriginConsole}, in)
		if err == nil {
			cnt := prep.Count
			if prep.Filter == nil {
				cnt, err = c.svc.Sends.CountList(ctx, prep)
			}
			if err == nil {
				rv := reachView{Users: cnt.Matched, Recipients: cnt.Recipients, Skipped: cnt.Skipped, Label: "Send notification to " + notify.Quantity(cnt.Recipients, "user", "users")}
				p.Reach = &rv
				p.Form.ExpectedCount = cnt.Recipients
				var sample *notify.User
				if p.User != nil {
					sample = p.User
				} else if len(cnt.Sample) > 0 {
					sample = &cnt.Sample[0]
				}
				p.Preview = renderPreview(p.Form, sample, in.Variables)
				p.Warnings = warnings(p.Form.Channel, p.Preview.Title, p.Preview.Body)
				if p.Form.Channel == notify.ChannelSMS {
					enc, _, segs := channel.SMSSegments(p.Preview.Body)
					p.Segments, p.Encoding = segs, string(enc)
				}
				p.Cost = c.estimate(p.Form.Channel, cnt.Recipients, p.Segments)
				p.Changed = changed
				c.render(w, r, s, http.StatusOK, "review", p)
				return nil
			}
		}
	}
	var e *notify.Error
	if !errors.As(err, &e) || e.Code == notify.CodeInternal {
		return err
	}
	p.Error = e
	if p.Form.UserID == "" {
		if rv, rerr := c.reach(ctx, s.WorkspaceID, p.Form.Query, p.Form.Category); rerr == nil {
			p.Reach = &rv
		}
	}
	c.render(w, r, s, e.HTTPStatus(), "send", p)
	return nil
}

// estimate is the provider cost of a send at the workspace's prices, or
// empty when no price is set for the channel.
func (c *Console) estimate(ch notify.Channel, recipients, segments int) string {
	price, ok := c.opts.Prices[ch]
	if !ok || price <= 0 {
		return ""
	}
	units := recipients
	if ch == notify.ChannelSMS && segments > 0 {
		units *= segments
	}
	return fmt.Sprintf("$%.2f", float64(units)*price)
}

// confirm sends what the operator reviewed, held to the count they saw: if
// the audience changed meanwhile, the review comes back with the new count
// instead. With a grace period the send is scheduled a few seconds ahead,
// and the history page offers Undo until then.
func (c *Console) confirm(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		return notify.Errorf(notify.CodeBadRequest, "the form could not be read: %v", err)
	}
	ctx := r.Context()
	f := readSendForm(r.PostForm)
	dests, err := c.destinations(ctx, s.WorkspaceID)
	if err != nil {
		return err
	}
	in, err := f.input(dests)
	if err != nil {
		return err
	}
	n, err := c.start(ctx, s, in)
	var e *notify.Error
	if errors.As(err, &e) && e.Code == notify.CodeAudienceChanged {
		p, perr := c.basePage(r, s, f)
		if perr != nil {
			return perr
		}
		return c.showReview(w, r, s, p, true)
	}
	if err != nil {
		return err
	}
	c.sent(w, r, s, n, f.audience())
	return nil
}

// start sends what an operator confirmed: a grace period ahead, as a
// scheduled send they can Undo, when the console has one; at once
// otherwise. Every console send (the send form, a number list, a
// conversation's template) starts here.
func (c *Console) start(ctx context.Context, s *session, in send.Input) (notify.Notification, error) {
	if g := c.grace(); g > 0 {
		at := c.opts.Now().Add(g).UTC().Truncate(time.Second).Add(time.Second)
		in.ScheduleAt = &at
		raw, err := requestJSON(in)
		if err != nil {
			return notify.Notification{}, err
		}
		return c.svc.Campaigns.ScheduleSend(ctx, s.WorkspaceID, actor(s), notify.OriginConsole, in, raw)
	}
	prep, err := c.svc.Sends.Prepare(ctx, send.Options{Mode: send.ModeSend, WorkspaceID: s.WorkspaceID, By: actor(s), Origin: notify.OriginConsole}, in)
	if err != nil {
		return notify.Notification{}, err
	}
	return c.svc.Sends.Execute(ctx, prep)
}

// sent records a started send in the audit trail and shows it in History
// (with its Undo while the grace period lasts).
func (c *Console) sent(w http.ResponseWriter, r *http.Request, s *session, n notify.Notification, audience string) {
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "notification.send", Target: n.ID,
		Detail: channelName(n.Channel) + " “" + clip(firstNonEmpty(n.Title, n.Body), 80) + "” to " + audience, Count: n.Audience.Count})
	http.Redirect(w, r, "/history/"+n.ID+"?sent=1", http.StatusSeeOther)
}

// requestJSON is in as a request body would give it, which a scheduled
// send keeps and reads back when it runs: the parts not given left out
// rather than null (a null audience filter would read back as a filter,
// beside the user ids or addresses given).
func requestJSON(in send.Input) (json.RawMessage, error) {
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.Marshal(dropNulls(v))
}

// dropNulls removes the null members of v's objects, at every depth.
func dropNulls(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				delete(x, k)
				continue
			}
			x[k] = dropNulls(e)
		}
	case []any:
		for i, e := range x {
			x[i] = dropNulls(e)
		}
	}
	return v
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// audience is who the form sends to, in words.
func (f sendForm) audience() string {
	if f.Addresses != "" {
		return notify.Quantity(len(splitList(f.Addresses)), "typed address", "typed addresses")
	}
	if f.UserID != "" {
		return "user " + f.UserID
	}
	return f.Query.Describe()
}
