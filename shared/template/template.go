// Package template is the template service shared by the API and the
// upcoming operator console: the rules for reusable messages (what a valid
// template is, how a new one is stamped with its id, version and status,
// how an edit bumps the version without losing a concurrent one, and how
// the gallery and the preview show its text) live here once, so that
// every edge that creates or edits a template applies the same ones and
// answers with the same errors.
package template

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/send"
)

// Store is the part of notify.Store the service uses: templates only.
type Store interface {
	// SaveTemplate fails with a conflict when t's version is not the one
	// after the stored one, which is how an edit that lost a race is told.
	SaveTemplate(ctx context.Context, t notify.Template) error
	GetTemplate(ctx context.Context, workspaceID, id string) (notify.Template, error)
	ListTemplates(ctx context.Context, workspaceID string, f notify.TemplateFilter, p notify.Page) ([]notify.Template, string, error)
	DeleteTemplate(ctx context.Context, workspaceID, id string) error
}

// Service keeps a workspace's templates. Every method takes the workspace
// the caller acts for, so an id of another workspace is not found.
type Service struct {
	Store Store
	// IDs makes template ids; Now stamps creation and update times (both
	// injected so that tests and the local runner can fix them).
	IDs *notify.IDs
	Now func() time.Time
}

// Input is a template as a client writes it: the body of POST and PUT
// /v1/templates, and what a composed draft is turned into.
type Input struct {
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

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// valid checks in and returns the template it describes, without the
// stamps (workspace, id, version, times) only the service sets.
func valid(in Input) (notify.Template, error) {
	if err := notify.CheckText(in, ""); err != nil {
		return notify.Template{}, err
	}
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

// Create validates in and stores it as version 1 of a new template of the
// workspace, published unless in says draft.
func (s *Service) Create(ctx context.Context, workspaceID string, in Input) (notify.Template, error) {
	t, err := valid(in)
	if err != nil {
		return notify.Template{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if t.Status == "" {
		t.Status = notify.TemplatePublished
	}
	t.WorkspaceID, t.ID, t.Version, t.CreatedAt, t.UpdatedAt = workspaceID, "tpl_"+strings.ToLower(s.IDs.New(now)), 1, now, now
	if err := s.Store.SaveTemplate(ctx, t); err != nil {
		return notify.Template{}, err
	}
	return t, nil
}

// Update replaces template id with in as its next version. It keeps the
// template's creation time, and its status when in has none. An id that
// does not exist is not found before in is validated; an edit saved by
// someone else since this one read the template is a conflict that says
// to read it again.
func (s *Service) Update(ctx context.Context, workspaceID, id string, in Input) (notify.Template, error) {
	cur, err := s.Store.GetTemplate(ctx, workspaceID, id)
	if err != nil {
		return notify.Template{}, err
	}
	t, err := valid(in)
	if err != nil {
		return notify.Template{}, err
	}
	t.WorkspaceID, t.ID, t.Version, t.CreatedAt = cur.WorkspaceID, cur.ID, cur.Version+1, cur.CreatedAt
	if t.Status == "" {
		t.Status = cur.Status
	}
	t.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	if err := s.Store.SaveTemplate(ctx, t); err != nil {
		if notify.IsCode(err, notify.CodeConflict) {
			return notify.Template{}, notify.Errorf(notify.CodeConflict, "template %s changed while it was being saved; read it again and retry", t.ID)
		}
		return notify.Template{}, err
	}
	return shown(t), nil
}

// Get returns the latest version of template id.
func (s *Service) Get(ctx context.Context, workspaceID, id string) (notify.Template, error) {
	t, err := s.Store.GetTemplate(ctx, workspaceID, id)
	if err != nil {
		return notify.Template{}, err
	}
	return shown(t), nil
}

// Delete deletes template id and its versions; notifications already sent
// with it keep their text.
func (s *Service) Delete(ctx context.Context, workspaceID, id string) error {
	return s.Store.DeleteTemplate(ctx, workspaceID, id)
}

// shown is t as it is shown: a template saved before drafts existed is
// published.
func shown(t notify.Template) notify.Template {
	if t.Status == "" {
		t.Status = notify.TemplatePublished
	}
	return t
}
