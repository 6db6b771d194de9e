package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/send"
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

func (s *Server) templateFrom(in templateInput) (notify.Template, error) {
	t, bad := send.ValidContent(in.Channel, in.Title, in.Body, in.Route, in.Push, in.Email, in.WhatsApp, in.Variations, "")
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
