package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/search"
	tpl "github.com/heraldhq/herald/shared/template"
)

// The gallery and the editor of templates (seeds 002 and 003, CONSOLE.md
// journey 10) over the template service the API uses: the same rules,
// versions and errors. Previews, the push warnings and the email's
// sandboxed preview are in templates_preview.go.

// templateRoutes registers the template gallery and editor (seeds 002, 003).
func (c *Console) templateRoutes(route routeFunc) {
	route("GET /templates", viewer, c.templates)
	route("GET /templates/new", editor, c.newTemplate)
	route("POST /templates/new", editor, c.createTemplate)
	route("GET /templates/{id}/edit", viewer, c.editTemplate)
	route("POST /templates/{id}/edit", editor, c.updateTemplate)
	route("POST /templates/{id}/publish", editor, c.publishTemplate)
	route("POST /templates/{id}/delete", editor, c.deleteTemplate)
	route("POST /templates/preview", editor, c.livePreview)
	route("GET /templates/{id}/email-preview", viewer, c.emailPreview)
	route("POST /templates/email-preview", editor, c.draftEmailPreview)
}

func init() {
	flashes["template-created"] = "Template created."
	flashes["template-saved"] = "Template saved as a new version."
	flashes["template-published"] = "Template published: it can be sent."
	flashes["template-deleted"] = "Template deleted; notifications already sent with it keep their text."
}

const (
	// galleryMax bounds how many templates the gallery reads: a
	// workspace's reusable messages are tens, not thousands.
	galleryMax = 1000
	// maxVersionsShown bounds the editor's version history.
	maxVersionsShown = 50
	// Row limits of the editor, the service's own limits: push has at
	// most 3 buttons, WhatsApp 10 quick replies.
	maxPushButtons     = 3
	maxWhatsAppButtons = 10
)

// galleryQuery is the gallery's search and filters.
type galleryQuery struct {
	Q, Channel, Label, Status string
}

func readGalleryQuery(v url.Values) galleryQuery {
	q := galleryQuery{Q: strings.TrimSpace(v.Get("q")), Channel: v.Get("channel"), Label: v.Get("label"), Status: v.Get("status")}
	if !notify.Channel(q.Channel).Valid() {
		q.Channel = ""
	}
	if q.Status != string(notify.TemplateDraft) && q.Status != string(notify.TemplatePublished) {
		q.Status = ""
	}
	return q
}

// Values are the query as URL parameters (back to the same view after a
// publish).
func (q galleryQuery) Values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Q, "channel": q.Channel, "label": q.Label, "status": q.Status} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

func (q galleryQuery) match(t notify.Template) bool {
	if q.Channel != "" && string(t.Channel) != q.Channel {
		return false
	}
	if q.Label != "" && !slices.Contains(t.Labels, q.Label) {
		return false
	}
	if q.Status != "" && string(t.Status) != q.Status {
		return false
	}
	return q.Q == "" || strings.Contains(search.Normalize(t.Name), search.Normalize(q.Q))
}

// templateCard is one template of the gallery with its preview.
type templateCard struct {
	notify.Template
	Preview tplPreview
	// Languages are the variations' languages.
	Languages []string
}

type galleryPage struct {
	Query     galleryQuery
	Cards     []templateCard
	Total     int
	Labels    []string
	Channels  []notify.Channel
	Truncated bool
	CanEdit   bool
}

// PageTitle is the gallery's title (the page convention of render).
func (galleryPage) PageTitle() string { return "Templates" }

// templates is the gallery: every template as the device shows it.
func (c *Console) templates(w http.ResponseWriter, r *http.Request, s *session) error {
	q := readGalleryQuery(r.URL.Query())
	all, truncated, err := c.allTemplates(r.Context(), s.WorkspaceID)
	if err != nil {
		return err
	}
	p := galleryPage{Query: q, Total: len(all), Channels: channels, Truncated: truncated, CanEdit: s.Operator.Role.Allows(notify.RoleEditor)}
	for _, t := range all {
		for _, l := range t.Labels {
			if !slices.Contains(p.Labels, l) {
				p.Labels = append(p.Labels, l)
			}
		}
		if !q.match(t) {
			continue
		}
		pv := c.previews(t, "email-"+t.ID, emailURL(t.ID, 0))
		p.Cards = append(p.Cards, templateCard{Template: t, Preview: pv[0], Languages: variationKeys(t)})
	}
	slices.Sort(p.Labels)
	if q.Label != "" && !slices.Contains(p.Labels, q.Label) {
		p.Labels = append(p.Labels, q.Label)
	}
	c.render(w, r, s, http.StatusOK, "templates", p)
	return nil
}

// allTemplates reads the workspace's templates, newest first, up to
// galleryMax.
func (c *Console) allTemplates(ctx context.Context, workspaceID string) ([]notify.Template, bool, error) {
	var out []notify.Template
	cursor := ""
	for {
		items, next, err := c.svc.Templates.List(ctx, workspaceID, notify.TemplateFilter{}, notify.Page{Limit: 100, Cursor: cursor})
		if err != nil {
			return nil, false, err
		}
		for _, it := range items {
			out = append(out, it.Template)
		}
		if next == "" {
			return out, false, nil
		}
		if len(out) >= galleryMax {
			return out, true, nil
		}
		cursor = next
	}
}

// buttonRow is a push button or a WhatsApp quick reply as the editor
// holds it.
type buttonRow struct {
	ID, Label, Route string
}

// variationRow is a language's text as the editor holds it.
type variationRow struct {
	Lang, Title, Body string
}

// templateForm is the editor's fields as typed: what is shown again,
// whole, when the service refuses it.
type templateForm struct {
	Name    string
	Channel notify.Channel
	Title   string
	Body    string
	Route   string
	// Labels are written separated by commas.
	Labels  string
	Icon    string
	Image   string
	Buttons []buttonRow
	Subject string
	HTML    string
	// WhatsApp's approved template; WAParams has one variable a line,
	// the first filling {{1}}.
	WAName, WALanguage, WACategory, WAParams string
	Variations                               []variationRow
	// Base is the version the editor was opened on: saving over a newer
	// one is refused, so that nobody's edit is lost silently.
	Base int
}

func readTemplateForm(v url.Values) templateForm {
	f := templateForm{Name: v.Get("name"), Channel: notify.Channel(v.Get("channel")), Title: v.Get("title"), Body: v.Get("body"),
		Route: v.Get("route"), Labels: v.Get("labels"), Icon: strings.TrimSpace(v.Get("icon")), Image: strings.TrimSpace(v.Get("image")),
		Subject: v.Get("subject"), HTML: v.Get("html"), WAName: strings.TrimSpace(v.Get("wa.name")), WALanguage: strings.TrimSpace(v.Get("wa.language")),
		WACategory: v.Get("wa.category"), WAParams: v.Get("wa.parameters")}
	if !f.Channel.Valid() {
		f.Channel = notify.ChannelPush
	}
	f.Base, _ = strconv.Atoi(v.Get("base"))
	labels, ids, routes := v["button.label"], v["button.id"], v["button.route"]
	for i, l := range labels {
		b := buttonRow{Label: strings.TrimSpace(l)}
		if i < len(ids) {
			b.ID = strings.TrimSpace(ids[i])
		}
		if i < len(routes) {
			b.Route = routes[i]
		}
		f.Buttons = append(f.Buttons, b)
	}
	langs, titles, bodies := v["variation.language"], v["variation.title"], v["variation.body"]
	for i, l := range langs {
		row := variationRow{Lang: strings.TrimSpace(l)}
		if i < len(titles) {
			row.Title = titles[i]
		}
		if i < len(bodies) {
			row.Body = bodies[i]
		}
		f.Variations = append(f.Variations, row)
	}
	return f
}

// formOf is a stored template in the editor's fields.
func formOf(t notify.Template) templateForm {
	f := templateForm{Name: t.Name, Channel: t.Channel, Title: t.Title, Body: t.Body, Route: t.Route, Labels: strings.Join(t.Labels, ", ")}
	if t.Push != nil {
		f.Icon, f.Image = t.Push.Icon, t.Push.Image
		for _, b := range t.Push.Buttons {
			f.Buttons = append(f.Buttons, buttonRow(b))
		}
	}
	if t.Email != nil {
		f.Subject, f.HTML = t.Email.Subject, t.Email.HTML
	}
	if wa := t.WhatsApp; wa != nil {
		f.WAName, f.WALanguage, f.WACategory, f.WAParams = wa.Name, wa.Language, wa.Category, strings.Join(wa.Parameters, "\n")
		for _, b := range wa.Buttons {
			f.Buttons = append(f.Buttons, buttonRow(b))
		}
	}
	for _, k := range variationKeys(t) {
		v := t.Variations[k]
		f.Variations = append(f.Variations, variationRow{Lang: k, Title: v.Title, Body: v.Body})
	}
	return f
}

// input is the template the form describes, as the API receives it: only
// the extras of its channel (the others' fields may hold what was typed
// before the channel changed), and its routes among the workspace's
// destinations or the ones it already had (routes lists them).
func (f templateForm) input(status notify.TemplateStatus, routes []string) (tpl.Input, error) {
	in := tpl.Input{Name: f.Name, Channel: f.Channel, Title: f.Title, Body: f.Body, Route: f.Route, Status: status}
	var bad []notify.FieldError
	if f.Route != "" && !slices.Contains(routes, f.Route) {
		bad = append(bad, notify.FieldError{Field: "route", Problem: "must be one of the workspace's destinations"})
	}
	for _, l := range strings.Split(f.Labels, ",") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(in.Labels, l) {
			in.Labels = append(in.Labels, l)
		}
	}
	var buttons []notify.Button
	for i, b := range f.Buttons {
		if b.Label == "" && b.ID == "" {
			continue
		}
		if b.ID == "" {
			b.ID = buttonSlug(b.Label, i+1)
		}
		if f.Channel == notify.ChannelWhatsApp {
			b.Route = ""
		} else if b.Route != "" && !slices.Contains(routes, b.Route) {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("button.route[%d]", i), Problem: "must be one of the workspace's destinations"})
		}
		buttons = append(buttons, notify.Button(b))
	}
	switch f.Channel {
	case notify.ChannelPush, notify.ChannelWebPush, notify.ChannelInApp:
		if f.Icon != "" || f.Image != "" || len(buttons) > 0 {
			in.Push = &notify.PushExtras{Icon: f.Icon, Image: f.Image, Buttons: buttons}
		}
	case notify.ChannelEmail:
		if f.Subject != "" || f.HTML != "" {
			in.Email = &notify.EmailExtras{Subject: f.Subject, HTML: f.HTML}
		}
	case notify.ChannelWhatsApp:
		if f.WAName != "" || f.WALanguage != "" || len(buttons) > 0 || strings.TrimSpace(f.WAParams) != "" {
			wa := &notify.WhatsAppTemplate{Name: f.WAName, Language: f.WALanguage, Category: f.WACategory, Buttons: buttons}
			for _, p := range strings.Split(f.WAParams, "\n") {
				p = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(p), "{{"), "}}")
				if p = strings.TrimSpace(p); p != "" {
					wa.Parameters = append(wa.Parameters, p)
				}
			}
			in.WhatsApp = wa
		}
	}
	for i, v := range f.Variations {
		if v.Lang == "" && strings.TrimSpace(v.Title) == "" && strings.TrimSpace(v.Body) == "" {
			continue
		}
		if v.Lang == "" {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("variation.language[%d]", i), Problem: "required: a language such as es or pt-BR"})
			continue
		}
		if _, dup := in.Variations[v.Lang]; dup {
			bad = append(bad, notify.FieldError{Field: "variations." + v.Lang, Problem: "this language has two variations"})
			continue
		}
		if in.Variations == nil {
			in.Variations = map[string]notify.Variation{}
		}
		in.Variations[v.Lang] = notify.Variation{Title: v.Title, Body: v.Body}
	}
	if len(bad) > 0 {
		return in, notify.Invalid(bad...)
	}
	return in, nil
}

// slug makes a button's id from its text (what an app's notification
// category names it by): lower-case letters and digits joined by "-",
// or b<n> when the text has none.
func buttonSlug(label string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(label) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return "b" + strconv.Itoa(n)
	}
	return clip(b.String(), 64)
}

// inputOf is a stored template as an edit of it: what publishing it
// saves again with the published status.
func inputOf(t notify.Template, status notify.TemplateStatus) tpl.Input {
	return tpl.Input{Name: t.Name, Channel: t.Channel, Title: t.Title, Body: t.Body, Route: t.Route, Push: t.Push, Email: t.Email,
		WhatsApp: t.WhatsApp, Variations: t.Variations, Labels: t.Labels, Status: status}
}

// versionRow is one saved version of a template.
type versionRow struct {
	Version int
	At      time.Time
	Status  notify.TemplateStatus
	Summary string
	Current bool
}

// editPage is the editor: the form, its preview, and for a saved
// template its versions.
type editPage struct {
	Form     templateForm
	ID       string
	Current  *notify.Template
	Viewing  int
	Versions []versionRow
	Previews []tplPreview
	// EmailFrame is the email preview's iframe and EmailSrc its first
	// page: the saved email, or nothing for text still to be previewed.
	EmailFrame, EmailSrc string
	Channels             []notify.Channel
	Routes               []Destination
	Categories           []string
	Error                *notify.Error
	CanEdit              bool
	MaxPushButtons       int
}

// PageTitle names the template being edited.
func (p editPage) PageTitle() string {
	if p.ID == "" {
		return "New template"
	}
	return "Edit template " + p.Current.Name
}

// Draft reports whether the template is saved as a draft.
func (p editPage) Draft() bool { return p.Current != nil && p.Current.Status == notify.TemplateDraft }

// FieldError is the service's problem with a field (or one of its parts:
// "push" covers "push.buttons[0]"), if any.
func (p editPage) FieldError(fields ...string) string {
	if p.Error == nil {
		return ""
	}
	for _, d := range p.Error.Details {
		for _, f := range fields {
			if d.Field == f || strings.HasPrefix(d.Field, f+".") || strings.HasPrefix(d.Field, f+"[") {
				return d.Problem
			}
		}
	}
	return ""
}

// ExactError is the service's problem with exactly one of fields (not
// its parts, which their rows show).
func (p editPage) ExactError(fields ...string) string {
	if p.Error == nil {
		return ""
	}
	for _, d := range p.Error.Details {
		if slices.Contains(fields, d.Field) {
			return d.Problem
		}
	}
	return ""
}

// routeOptions are the destinations a template may open: the workspace's,
// and those the saved template already has (set through the API).
func routeOptions(dests []Destination, cur *notify.Template) []Destination {
	out := slices.Clone(dests)
	has := func(r string) bool {
		return slices.ContainsFunc(out, func(d Destination) bool { return d.Route == r })
	}
	if cur != nil {
		routes := []string{cur.Route}
		if cur.Push != nil {
			for _, b := range cur.Push.Buttons {
				routes = append(routes, b.Route)
			}
		}
		for _, r := range routes {
			if r != "" && !has(r) {
				out = append(out, Destination{Route: r, Label: r})
			}
		}
	}
	return out
}

func routesOf(ds []Destination) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Route
	}
	return out
}

// editorPage is the editor around f: for a saved template (cur), its
// versions.
func (c *Console) editorPage(ctx context.Context, s *session, f templateForm, cur *notify.Template) (editPage, error) {
	dests, err := c.destinations(ctx, s.WorkspaceID)
	if err != nil {
		return editPage{}, err
	}
	p := editPage{Form: f, Current: cur, Channels: channels, Routes: routeOptions(dests, cur), Categories: []string{"marketing", "utility", "authentication"},
		CanEdit: s.Operator.Role.Allows(notify.RoleEditor), EmailFrame: "email-preview", MaxPushButtons: maxPushButtons}
	if cur == nil {
		return p, nil
	}
	p.ID = cur.ID
	for v := cur.Version; v >= 1 && len(p.Versions) < maxVersionsShown; v-- {
		t, err := c.svc.Store.GetTemplateVersion(ctx, s.WorkspaceID, cur.ID, v)
		if notify.IsCode(err, notify.CodeNotFound) {
			continue
		}
		if err != nil {
			return p, err
		}
		title, body := t.Summary()
		status := t.Status
		if status == "" {
			status = notify.TemplatePublished
		}
		p.Versions = append(p.Versions, versionRow{Version: v, At: t.UpdatedAt, Status: status,
			Summary: clip(firstNonEmpty(title, body), 80), Current: v == cur.Version})
	}
	return p, nil
}

// template is the form as a template, valid or not: what the live
// preview shows while the operator types.
func (f templateForm) template() notify.Template {
	in, _ := f.input("", nil)
	return notify.Template{Name: in.Name, Channel: in.Channel, Title: in.Title, Body: in.Body, Route: in.Route, Push: in.Push,
		Email: in.Email, WhatsApp: in.WhatsApp, Variations: in.Variations, Labels: in.Labels}
}

// Empty reports whether nothing the preview shows is typed yet.
func (f templateForm) Empty() bool {
	return strings.TrimSpace(f.Title+f.Body+f.WAName+f.HTML) == ""
}

// statusOf is the status the clicked button asks for: Save draft,
// Publish, or Save changes (which keeps it).
func statusOf(v url.Values) notify.TemplateStatus {
	switch s := notify.TemplateStatus(v.Get("status")); s {
	case notify.TemplateDraft, notify.TemplatePublished:
		return s
	}
	return ""
}

func (c *Console) newTemplate(w http.ResponseWriter, r *http.Request, s *session) error {
	dests, err := c.destinations(r.Context(), s.WorkspaceID)
	if err != nil {
		return err
	}
	f := templateForm{Channel: notify.Channel(r.URL.Query().Get("channel")), Route: dests[0].Route}
	if !f.Channel.Valid() {
		f.Channel = notify.ChannelPush
	}
	p, err := c.editorPage(r.Context(), s, f, nil)
	if err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "templates_edit", p)
	return nil
}

func (c *Console) editTemplate(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	cur, err := c.svc.Templates.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	shown, viewing := cur, 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > cur.Version {
			return notify.Errorf(notify.CodeNotFound, "template %s has no version %q", cur.ID, v)
		}
		if n != cur.Version {
			if shown, err = c.svc.Store.GetTemplateVersion(ctx, s.WorkspaceID, cur.ID, n); err != nil {
				return err
			}
			viewing = n
		}
	}
	f := formOf(shown)
	f.Base = cur.Version
	p, err := c.editorPage(ctx, s, f, &cur)
	if err != nil {
		return err
	}
	p.Viewing = viewing
	p.Previews = c.previews(shown, "", "")
	if shown.Email != nil && shown.Email.HTML != "" {
		p.EmailSrc = emailURL(cur.ID, viewing)
	}
	c.render(w, r, s, http.StatusOK, "templates_edit", p)
	return nil
}

// editOp does what a button of the editor other than saving asks
// (without the script, rows are added and removed and the preview made
// by the server): it reports whether it answered.
func (c *Console) editOp(w http.ResponseWriter, r *http.Request, s *session, p *editPage) bool {
	op := r.PostForm.Get("op")
	f := &p.Form
	switch {
	case op == "":
		return false
	case op == "add-variation":
		f.Variations = append(f.Variations, variationRow{})
	case op == "add-button":
		f.Buttons = append(f.Buttons, buttonRow{})
	case strings.HasPrefix(op, "remove-variation-"):
		if i, err := strconv.Atoi(strings.TrimPrefix(op, "remove-variation-")); err == nil && i >= 0 && i < len(f.Variations) {
			f.Variations = slices.Delete(f.Variations, i, i+1)
		}
	case strings.HasPrefix(op, "remove-button-"):
		if i, err := strconv.Atoi(strings.TrimPrefix(op, "remove-button-")); err == nil && i >= 0 && i < len(f.Buttons) {
			f.Buttons = slices.Delete(f.Buttons, i, i+1)
		}
	}
	p.Previews = c.previews(f.template(), "", "")
	c.render(w, r, s, http.StatusOK, "templates_edit", *p)
	return true
}

// editFailed shows the editor again with what was typed and the
// service's problems.
func (c *Console) editFailed(w http.ResponseWriter, r *http.Request, s *session, p editPage, err error) error {
	var e *notify.Error
	if !errors.As(err, &e) || e.Code == notify.CodeInternal {
		return err
	}
	p.Error = e
	p.Previews = c.previews(p.Form.template(), "", "")
	c.render(w, r, s, e.HTTPStatus(), "templates_edit", p)
	return nil
}

func (c *Console) createTemplate(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	p, err := c.editorPage(ctx, s, readTemplateForm(r.PostForm), nil)
	if err != nil {
		return err
	}
	if c.editOp(w, r, s, &p) {
		return nil
	}
	in, err := p.Form.input(statusOf(r.PostForm), routesOf(p.Routes))
	var t notify.Template
	if err == nil {
		t, err = c.svc.Templates.Create(ctx, s.WorkspaceID, in)
	}
	if err != nil {
		return c.editFailed(w, r, s, p, err)
	}
	c.auditTemplate(ctx, s, "template.create", t)
	http.Redirect(w, r, "/templates/"+t.ID+"/edit?done=template-created", http.StatusSeeOther)
	return nil
}

func (c *Console) updateTemplate(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	cur, err := c.svc.Templates.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := c.editorPage(ctx, s, readTemplateForm(r.PostForm), &cur)
	if err != nil {
		return err
	}
	if c.editOp(w, r, s, &p) {
		return nil
	}
	if p.Form.Base != cur.Version {
		return c.editFailed(w, r, s, p, notify.Errorf(notify.CodeConflict,
			"someone saved version %d of this template after you opened version %d; your text is kept below: copy what you need, then open the template again", cur.Version, p.Form.Base))
	}
	in, err := p.Form.input(statusOf(r.PostForm), routesOf(p.Routes))
	var t notify.Template
	if err == nil {
		t, err = c.svc.Templates.Update(ctx, s.WorkspaceID, cur.ID, in)
	}
	if err != nil {
		return c.editFailed(w, r, s, p, err)
	}
	done := "template-saved"
	if cur.Status == notify.TemplateDraft && t.Status == notify.TemplatePublished {
		c.auditTemplate(ctx, s, "template.publish", t)
		done = "template-published"
	} else {
		c.auditTemplate(ctx, s, "template.update", t)
	}
	http.Redirect(w, r, "/templates/"+t.ID+"/edit?done="+done, http.StatusSeeOther)
	return nil
}

// publishTemplate publishes a draft as it is, in one click from the
// gallery, and goes back to the gallery as it was filtered.
func (c *Console) publishTemplate(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	cur, err := c.svc.Templates.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if cur.Status == notify.TemplateDraft {
		t, err := c.svc.Templates.Update(ctx, s.WorkspaceID, cur.ID, inputOf(cur, notify.TemplatePublished))
		if err != nil {
			// A draft the service refuses (written by AI, say) is fixed
			// in the editor, which shows why.
			p, perr := c.editorPage(ctx, s, formOf(cur), &cur)
			if perr != nil {
				return perr
			}
			p.Form.Base = cur.Version
			return c.editFailed(w, r, s, p, err)
		}
		c.auditTemplate(ctx, s, "template.publish", t)
	}
	back := readGalleryQuery(r.PostForm).Values()
	back.Set("done", "template-published")
	http.Redirect(w, r, "/templates?"+back.Encode(), http.StatusSeeOther)
	return nil
}

func (c *Console) deleteTemplate(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	cur, err := c.svc.Templates.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.svc.Templates.Delete(ctx, s.WorkspaceID, cur.ID); err != nil {
		return err
	}
	c.auditTemplate(ctx, s, "template.delete", cur)
	http.Redirect(w, r, "/templates?done=template-deleted", http.StatusSeeOther)
	return nil
}

func (c *Console) auditTemplate(ctx context.Context, s *session, action string, t notify.Template) {
	c.svc.Operators.Audit(ctx, notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: action, Target: t.ID,
		Detail: fmt.Sprintf("%s “%s”, version %d", channelName(t.Channel), clip(t.Name, 80), t.Version)})
}

// livePreview answers the editor's script: the previews of the form as
// typed, as the same HTML the page shows without the script. It saves
// nothing.
func (c *Console) livePreview(w http.ResponseWriter, r *http.Request, s *session) error {
	f := readTemplateForm(r.PostForm)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if f.Empty() {
		_, _ = w.Write([]byte(`<p class="hint">The preview appears as you type: the text as each device shows it, its variables by name.</p>`))
		return nil
	}
	var buf strings.Builder
	if err := previewSet().ExecuteTemplate(&buf, "tpl-previews", c.previews(f.template(), "", "")); err != nil {
		return err
	}
	_, _ = w.Write([]byte(buf.String()))
	return nil
}
