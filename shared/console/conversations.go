package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/send"
	heraldtemplate "github.com/heraldhq/herald/shared/template"
)

// conversationRoutes registers expired WhatsApp conversations (seed 002,
// journey 7): who can no longer be written to freely, a template to
// reopen the conversation, and the answers that came back.
func (c *Console) conversationRoutes(route routeFunc) {
	route("GET /conversations", viewer, c.conversations)
	route("GET /conversations/{id}", viewer, c.conversation)
	route("POST /conversations/{id}/review", editor, c.conversationReview)
	route("POST /conversations/{id}/send", editor, c.conversationSend)
}

// conversationStates are the list's filters.
var conversationStates = []struct{ Value, Label string }{
	{"closed", "Expired or never wrote"},
	{"never", "Never wrote"},
	{"all", "Every contact with a phone"},
}

type conversationRow struct {
	User  notify.User
	State string
	Until *time.Time
	// Answer is the label of the button the person last pressed.
	Answer string
}

// answerLabels name the buttons people pressed: an answer keeps the
// button's id; its label is in the notification that carried it.
type answerLabels struct {
	c     *Console
	ctx   context.Context
	ws    string
	known map[string][]notify.Button
}

func (a *answerLabels) label(ans *notify.Answer) string {
	if ans == nil {
		return ""
	}
	buttons, ok := a.known[ans.NotificationID]
	if !ok {
		if n, err := a.c.svc.Store.GetNotification(a.ctx, a.ws, ans.NotificationID); err == nil && n.Content.WhatsApp != nil {
			buttons = n.Content.WhatsApp.Buttons
		}
		a.known[ans.NotificationID] = buttons
	}
	for _, b := range buttons {
		if b.ID == ans.Answer && b.Label != "" {
			return b.Label
		}
	}
	return ans.Answer
}

type conversationsPage struct {
	State  string
	Q      string
	States []struct{ Value, Label string }
	Rows   []conversationRow
	Next   string
	Prev   bool
}

func (conversationsPage) PageTitle() string { return "Conversations" }

// Values are the filters as URL parameters (paging).
func (p conversationsPage) Values() url.Values {
	v := url.Values{"state": {p.State}}
	if p.Q != "" {
		v.Set("q", p.Q)
	}
	return v
}

// window is the state of a user's WhatsApp window at now, in words.
func window(u notify.User, now time.Time) (string, *time.Time) {
	last := u.WhatsAppLastInbound
	if last == nil {
		return "Never wrote", nil
	}
	until := last.Add(notify.WhatsAppWindow)
	if now.Before(until) {
		return "Open", &until
	}
	return "Expired", &until
}

func (c *Console) conversations(w http.ResponseWriter, r *http.Request, s *session) error {
	v := r.URL.Query()
	p := conversationsPage{State: v.Get("state"), Q: strings.TrimSpace(v.Get("q")), States: conversationStates, Prev: v.Get("after") != ""}
	now := c.opts.Now()
	yes := true
	f := notify.UserFilter{HasPhone: &yes, Q: p.Q}
	switch p.State {
	case "never":
		f.NeverWrote = true
	case "all":
	default:
		p.State = "closed"
		f.WhatsAppClosedAt = &now
	}
	if len(p.Q) > 256 {
		return notify.Invalid(notify.FieldError{Field: "q", Problem: "at most 256 characters"})
	}
	users, next, err := c.svc.Users.List(r.Context(), s.WorkspaceID, f, notify.Page{Limit: usersPerPage, Cursor: v.Get("after")})
	if err != nil {
		return notify.CursorError(err)
	}
	p.Next = next
	labels := &answerLabels{c: c, ctx: r.Context(), ws: s.WorkspaceID, known: map[string][]notify.Button{}}
	for _, u := range users {
		state, until := window(u, now)
		p.Rows = append(p.Rows, conversationRow{User: u, State: state, Until: until, Answer: labels.label(u.LastAnswer)})
	}
	c.render(w, r, s, http.StatusOK, "conversations", p)
	return nil
}

// conversationPage is one contact: their window, their last answer, the
// WhatsApp templates that may reopen the conversation and the chosen one's
// preview for them.
type conversationPage struct {
	User      notify.User
	Answer    string
	State     string
	Until     *time.Time
	Templates []heraldtemplate.GalleryItem
	Chosen    *notify.Template
	Preview   string
	Missing   []string
	Confirm   bool
}

func (p conversationPage) PageTitle() string { return "Conversation with " + displayName(p.User) }

// whatsappTemplates are the workspace's published WhatsApp templates.
func (c *Console) whatsappTemplates(r *http.Request, ws string) ([]heraldtemplate.GalleryItem, error) {
	var out []heraldtemplate.GalleryItem
	cursor := ""
	for range 10 { // 500 templates are plenty for a picker
		items, next, err := c.svc.Templates.List(r.Context(), ws, notify.TemplateFilter{Channel: notify.ChannelWhatsApp}, notify.Page{Limit: 50, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if it.SendProblem() == "" {
				out = append(out, it)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return out, nil
}

func (c *Console) conversationData(r *http.Request, s *session, templateID string) (conversationPage, error) {
	ctx := r.Context()
	u, err := c.svc.Users.Get(ctx, s.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return conversationPage{}, err
	}
	p := conversationPage{User: u}
	p.State, p.Until = window(u, c.opts.Now())
	p.Answer = (&answerLabels{c: c, ctx: ctx, ws: s.WorkspaceID, known: map[string][]notify.Button{}}).label(u.LastAnswer)
	if p.Templates, err = c.whatsappTemplates(r, s.WorkspaceID); err != nil {
		return p, err
	}
	if templateID == "" {
		return p, nil
	}
	t, err := c.svc.Templates.Get(ctx, s.WorkspaceID, templateID)
	if err != nil {
		return p, err
	}
	if t.Channel != notify.ChannelWhatsApp {
		return p, notify.Invalid(notify.FieldError{Field: "template", Problem: "must be a WhatsApp template"})
	}
	// WhatsApp numbers its parameters ({{1}}); the template maps each to
	// a variable of the person.
	vars := render.UserVariables(u)
	if t.WhatsApp != nil {
		for i, name := range t.WhatsApp.Parameters {
			vars[strconv.Itoa(i+1)] = render.UserVariable(u, name)
		}
	}
	rendered, err := c.svc.Templates.Preview(ctx, s.WorkspaceID, t.ID, u.Language, vars)
	if err != nil {
		return p, err
	}
	p.Chosen, p.Preview, p.Missing = &t, rendered.Body, rendered.Missing
	return p, nil
}

func (c *Console) conversation(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := c.conversationData(r, s, r.URL.Query().Get("template"))
	if err != nil {
		return err
	}
	c.render(w, r, s, http.StatusOK, "conversation", p)
	return nil
}

// conversationReview is the confirmation: to whom, which template, as it
// will read, and that it cannot be undone.
func (c *Console) conversationReview(w http.ResponseWriter, r *http.Request, s *session) error {
	p, err := c.conversationData(r, s, r.PostFormValue("template"))
	if err != nil {
		return err
	}
	if p.Chosen == nil {
		return notify.Invalid(notify.FieldError{Field: "template", Problem: "choose a WhatsApp template"})
	}
	p.Confirm = true
	c.render(w, r, s, http.StatusOK, "conversation", p)
	return nil
}

// conversationSend sends the chosen template to the contact, as every
// console send starts (the Undo grace included).
func (c *Console) conversationSend(w http.ResponseWriter, r *http.Request, s *session) error {
	id, tid := r.PathValue("id"), r.PostFormValue("template")
	if tid == "" {
		return notify.Invalid(notify.FieldError{Field: "template", Problem: "choose a WhatsApp template"})
	}
	// The contact and the template, checked before anything is sent: no
	// History entry for a send that skips everyone. (Only these two reads:
	// the page's template list and preview are not needed to send.)
	ctx := r.Context()
	u, err := c.svc.Users.Get(ctx, s.WorkspaceID, id)
	if err != nil {
		return err
	}
	t, err := c.svc.Templates.Get(ctx, s.WorkspaceID, tid)
	if err != nil {
		return err
	}
	if u.Phone == "" {
		return notify.Invalid(notify.FieldError{Field: "user", Problem: "has no phone: WhatsApp cannot reach them"})
	}
	if t.Channel != notify.ChannelWhatsApp {
		return notify.Invalid(notify.FieldError{Field: "template", Problem: "must be a WhatsApp template"})
	}
	if problem := t.SendProblem(); problem != "" || t.WhatsApp == nil || t.WhatsApp.Name == "" {
		return notify.Invalid(notify.FieldError{Field: "template", Problem: "must be a published WhatsApp template approved by Meta (with its name)"})
	}
	in := send.Input{Channel: notify.ChannelWhatsApp, TemplateID: tid, Audience: &send.AudienceInput{UserIDs: []string{id}}, RecipientType: "client"}
	n, err := c.start(ctx, s, in)
	if err != nil {
		return err
	}
	c.sent(w, r, s, n, "user "+id+" (reopening the WhatsApp conversation)")
	return nil
}
