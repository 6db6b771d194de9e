package template

import (
	"context"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
)

// previewRunes bounds the body a gallery item shows, so that a list of
// long emails stays a list.
const previewRunes = 140

// GalleryItem is a template with the preview the gallery shows: its text
// with every variable shown by name, so that a person choosing a template
// sees where the values go.
type GalleryItem struct {
	notify.Template
	Preview Excerpt `json:"preview"`
}

// Excerpt is the title and the start of the body of a template.
type Excerpt struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// List lists the workspace's templates, newest first, that match f, each
// with its gallery preview. A channel that does not exist is a validation
// error rather than an empty page, and so is a cursor the store refuses
// (named cursor, as the caller passed it on from an earlier page).
func (s *Service) List(ctx context.Context, workspaceID string, f notify.TemplateFilter, p notify.Page) ([]GalleryItem, string, error) {
	if f.Channel != "" && !f.Channel.Valid() {
		return nil, "", notify.Invalid(notify.FieldError{Field: "channel", Problem: "must be " + notify.ChannelList})
	}
	ts, next, err := s.Store.ListTemplates(ctx, workspaceID, f, p)
	if err != nil {
		return nil, "", notify.CursorError(err)
	}
	items := make([]GalleryItem, len(ts))
	for i, t := range ts {
		names := map[string]string{}
		for _, v := range t.Variables {
			names[v] = "{{" + v + "}}"
		}
		m, _ := render.Render(t, "", names)
		body := m.Body
		if utf8.RuneCountInString(body) > previewRunes {
			body = string([]rune(body)[:previewRunes-1]) + "…"
		}
		items[i] = GalleryItem{Template: shown(t), Preview: Excerpt{Title: m.Title, Body: body}}
	}
	return items, next, nil
}

// Rendered is a template rendered for one recipient, as the preview shows
// it before anything is sent: Missing names the variables that were given
// no value (empty, never nil, when there are none).
type Rendered struct {
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	Subject  string   `json:"subject,omitempty"`
	HTML     string   `json:"html,omitempty"`
	Route    string   `json:"route"`
	Language string   `json:"language,omitempty"`
	Missing  []string `json:"missing"`
}

// Preview renders template id in the best variation for language with
// vars, with the renderer dispatch delivers with, so that what the preview
// shows is what a recipient would get.
func (s *Service) Preview(ctx context.Context, workspaceID, id, language string, vars map[string]string) (Rendered, error) {
	t, err := s.Store.GetTemplate(ctx, workspaceID, id)
	if err != nil {
		return Rendered{}, err
	}
	m, missing := render.Render(t, language, vars)
	if missing == nil {
		missing = []string{}
	}
	return Rendered{Title: m.Title, Body: m.Body, Subject: m.Subject, HTML: m.HTML, Route: m.Route, Language: m.Language, Missing: missing}, nil
}
