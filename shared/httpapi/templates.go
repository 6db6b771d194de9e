package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
)

// Text limits shared by templates and inline content.
const (
	maxTitle = 256
	maxBody  = 10000
	maxRoute = 512
	maxHTML  = 256 << 10
	// maxVariations and maxContentBytes keep a template (and the content a
	// notification keeps) well inside DynamoDB's 400 KB item.
	maxVariations   = 50
	maxContentBytes = 300 << 10
)

// templateInput is the body of POST and PUT /v1/templates.
type templateInput struct {
	Name       string                      `json:"name"`
	Channel    notify.Channel              `json:"channel"`
	Title      string                      `json:"title"`
	Body       string                      `json:"body"`
	Route      string                      `json:"route"`
	Push       *notify.PushExtras          `json:"push"`
	Email      *notify.EmailExtras         `json:"email"`
	WhatsApp   *notify.WhatsAppTemplate    `json:"whatsapp"`
	Variations map[string]notify.Variation `json:"variations"`
	Labels     []string                    `json:"labels"`
	// Status is draft or published; omitted, a new template is published
	// and an updated one keeps its status.
	Status notify.TemplateStatus `json:"status"`
}

// content validates the message parts common to templates and inline
// content and returns them as a Template.
func validContent(ch notify.Channel, title, body, route string, push *notify.PushExtras, email *notify.EmailExtras, wa *notify.WhatsAppTemplate, variations map[string]notify.Variation, prefix string) (notify.Template, []notify.FieldError) {
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: prefix + f, Problem: p}) }
	if !ch.Valid() {
		add("channel", "must be push, webpush, sms, email or whatsapp")
	}
	if utf8.RuneCountInString(title) > maxTitle {
		add("title", fmt.Sprintf("at most %d characters", maxTitle))
	}
	if strings.TrimSpace(body) == "" && !(ch == notify.ChannelWhatsApp && wa != nil) {
		add("body", "required")
	}
	if utf8.RuneCountInString(body) > maxBody {
		add("body", fmt.Sprintf("at most %d characters", maxBody))
	}
	if len(route) > maxRoute {
		add("route", fmt.Sprintf("at most %d characters", maxRoute))
	}
	if (ch == notify.ChannelPush || ch == notify.ChannelWebPush) && strings.TrimSpace(title) == "" {
		add("title", "required for push")
	}
	if push != nil {
		if ch != notify.ChannelPush && ch != notify.ChannelWebPush {
			add("push", "only for push and webpush")
		}
		if len(push.Buttons) > 3 {
			add("push.buttons", "at most 3 buttons")
		}
		for i, b := range push.Buttons {
			if b.ID == "" || b.Label == "" {
				add(fmt.Sprintf("push.buttons[%d]", i), "id and label are required")
			}
		}
		if len(push.Icon) > 2048 || len(push.Image) > 2048 {
			add("push", "icon and image URLs at most 2048 characters")
		}
	}
	if email != nil {
		if ch != notify.ChannelEmail {
			add("email", "only for email")
		}
		if len(email.HTML) > maxHTML {
			add("email.html", fmt.Sprintf("at most %d bytes", maxHTML))
		}
		if utf8.RuneCountInString(email.Subject) > 998 {
			add("email.subject", "at most 998 characters")
		}
	}
	if ch == notify.ChannelEmail && strings.TrimSpace(title) == "" && (email == nil || strings.TrimSpace(email.Subject) == "") {
		add("email.subject", "an email needs a subject (email.subject or title)")
	}
	if wa != nil {
		if ch != notify.ChannelWhatsApp {
			add("whatsapp", "only for whatsapp")
		}
		if wa.Name == "" || len(wa.Name) > 512 {
			add("whatsapp.name", "required: the approved template's name")
		}
		if _, err := language.Parse(strings.ReplaceAll(wa.Language, "_", "-")); err != nil || wa.Language == "" {
			add("whatsapp.language", "required: the template's language code, such as es or en_US")
		}
		switch wa.Category {
		case "marketing", "utility", "authentication":
		default:
			add("whatsapp.category", "must be marketing, utility or authentication")
		}
		for i, p := range wa.Parameters {
			if p == "" {
				add(fmt.Sprintf("whatsapp.parameters[%d]", i), "must name a variable")
			}
		}
		if len(wa.Buttons) > 10 {
			add("whatsapp.buttons", "at most 10 quick replies")
		}
	}
	if len(variations) > maxVariations {
		add("variations", fmt.Sprintf("at most %d languages", maxVariations))
	}
	for lang, v := range variations {
		if _, err := language.Parse(lang); err != nil {
			add("variations."+lang, "key must be a BCP 47 language tag")
		}
		if strings.TrimSpace(v.Body) == "" {
			add("variations."+lang+".body", "required")
		}
		if utf8.RuneCountInString(v.Body) > maxBody || utf8.RuneCountInString(v.Title) > maxTitle {
			add("variations."+lang, "title or body too long")
		}
	}
	t := notify.Template{Channel: ch, Title: title, Body: body, Route: route, Push: push, Email: email, WhatsApp: wa, Variations: variations}
	if len(bad) == 0 {
		if b, err := json.Marshal(t); err == nil && len(b) > maxContentBytes {
			add("body", fmt.Sprintf("the content (text, HTML and variations together) is %d KB; at most %d KB", len(b)>>10, maxContentBytes>>10))
		}
	}
	return t, bad
}

func (s *Server) templateFrom(in templateInput) (notify.Template, error) {
	t, bad := validContent(in.Channel, in.Title, in.Body, in.Route, in.Push, in.Email, in.WhatsApp, in.Variations, "")
	if strings.TrimSpace(in.Name) == "" || utf8.RuneCountInString(in.Name) > 200 {
		bad = append(bad, notify.FieldError{Field: "name", Problem: "required, at most 200 characters"})
	}
	if len(in.Labels) > 20 {
		bad = append(bad, notify.FieldError{Field: "labels", Problem: "at most 20 labels"})
	}
	for i, l := range in.Labels {
		if l == "" || len(l) > 64 {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("labels[%d]", i), Problem: "must be 1–64 characters"})
		}
	}
	switch in.Status {
	case "", notify.TemplateDraft, notify.TemplatePublished:
	default:
		bad = append(bad, notify.FieldError{Field: "status", Problem: "must be draft or published"})
	}
	if len(bad) > 0 {
		return t, notify.Invalid(bad...)
	}
	t.Status = in.Status
	t.Name = strings.TrimSpace(in.Name)
	t.Labels = in.Labels
	t.Variables = render.TemplateVariables(t)
	return t, nil
}

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in templateInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.templateFrom(in)
	if err != nil {
		return err
	}
	if err := s.insertTemplate(r.Context(), k, &t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

// insertTemplate stores t as a new template of the key's workspace,
// published unless it says draft.
func (s *Server) insertTemplate(ctx context.Context, k notify.APIKey, t *notify.Template) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	if t.Status == "" {
		t.Status = notify.TemplatePublished
	}
	t.WorkspaceID, t.ID, t.Version, t.CreatedAt, t.UpdatedAt = k.WorkspaceID, "tpl_"+strings.ToLower(s.ids.New(now)), 1, now, now
	return s.store.SaveTemplate(ctx, *t)
}

func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in templateInput
	if err := decode(r, &in); err != nil {
		return err
	}
	cur, err := s.store.GetTemplate(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	t, err := s.templateFrom(in)
	if err != nil {
		return err
	}
	t.WorkspaceID, t.ID, t.Version, t.CreatedAt = cur.WorkspaceID, cur.ID, cur.Version+1, cur.CreatedAt
	if t.Status == "" {
		t.Status = cur.Status
	}
	t.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := s.store.SaveTemplate(r.Context(), t); err != nil {
		if notify.IsCode(err, notify.CodeConflict) {
			return notify.Errorf(notify.CodeConflict, "template %s changed while it was being saved; read it again and retry", t.ID)
		}
		return err
	}
	writeJSON(w, http.StatusOK, shown(t))
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	t, err := s.store.GetTemplate(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, shown(t))
	return nil
}

// shown is t as the API shows it: a template saved before drafts existed
// is published.
func shown(t notify.Template) notify.Template {
	if t.Status == "" {
		t.Status = notify.TemplatePublished
	}
	return t
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.store.DeleteTemplate(r.Context(), k.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// galleryItem is a template with the preview the gallery shows: the text with
// every variable shown by name.
type galleryItem struct {
	notify.Template
	Preview preview `json:"preview"`
}

type preview struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	f := notify.TemplateFilter{Channel: notify.Channel(r.URL.Query().Get("channel")), Label: r.URL.Query().Get("label")}
	if f.Channel != "" && !f.Channel.Valid() {
		return notify.Invalid(notify.FieldError{Field: "channel", Problem: "must be push, webpush, sms, email or whatsapp"})
	}
	ts, next, err := s.store.ListTemplates(r.Context(), k.WorkspaceID, f, p)
	if err != nil {
		return cursorError(err)
	}
	items := make([]galleryItem, len(ts))
	for i, t := range ts {
		names := map[string]string{}
		for _, v := range t.Variables {
			names[v] = "{{" + v + "}}"
		}
		m, _ := render.Render(t, "", names)
		body := m.Body
		if utf8.RuneCountInString(body) > 140 {
			body = string([]rune(body)[:139]) + "…"
		}
		items[i] = galleryItem{Template: shown(t), Preview: preview{Title: m.Title, Body: body}}
	}
	writeList(w, items, next)
	return nil
}

func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in struct {
		Variables map[string]string `json:"variables"`
		Language  string            `json:"language"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.store.GetTemplate(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	m, missing := render.Render(t, in.Language, in.Variables)
	if missing == nil {
		missing = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Title    string   `json:"title"`
		Body     string   `json:"body"`
		Subject  string   `json:"subject,omitempty"`
		HTML     string   `json:"html,omitempty"`
		Route    string   `json:"route"`
		Language string   `json:"language,omitempty"`
		Missing  []string `json:"missing"`
	}{m.Title, m.Body, m.Subject, m.HTML, m.Route, m.Language, missing})
	return nil
}
