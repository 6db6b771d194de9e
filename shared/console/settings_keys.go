package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// scopeChoice is a scope the key form offers, with what it allows.
type scopeChoice struct {
	Scope notify.Scope
	About string
}

// scopeChoices are notify's scopes, in the words of its comment.
var scopeChoices = []scopeChoice{
	{notify.ScopeSend, "send notifications and keep the recipients (users, devices, preferences)"},
	{notify.ScopeRead, "read everything: history, users, templates, usage"},
	{notify.ScopeAdmin, "anything, keys and templates included"},
}

// keysPage is the API keys tab: the workspace's keys, the form that makes
// one and, once, the secret of the key just made.
type keysPage struct {
	Keys   []notify.APIKey
	Scopes []scopeChoice
	// Name and Checked are the form's values (kept when it is refused).
	Name    string
	Checked map[notify.Scope]bool
	// Created is the key just made and Secret its secret: this answer is
	// the only one that ever holds it.
	Created *notify.APIKey
	Secret  string
	Error   *notify.Error
}

func (keysPage) PageTitle() string { return "API keys" }

// FieldError is the problem with one of the form's fields, if any.
func (p keysPage) FieldError(field string) string {
	if p.Error == nil {
		return ""
	}
	var out []string
	for _, d := range p.Error.Details {
		if d.Field == field || strings.HasPrefix(d.Field, field+"[") {
			out = append(out, d.Problem)
		}
	}
	return strings.Join(out, "; ")
}

func (c *Console) keysPage(w http.ResponseWriter, r *http.Request, s *session, status int, p keysPage) error {
	keys, err := c.svc.Keys.List(r.Context(), s.WorkspaceID)
	if err != nil {
		return err
	}
	p.Keys, p.Scopes = keys, scopeChoices
	if p.Checked == nil {
		p.Checked = map[notify.Scope]bool{}
	}
	c.render(w, r, s, status, "settings_keys", p)
	return nil
}

func (c *Console) keys(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.keysPage(w, r, s, http.StatusOK, keysPage{})
}

// createKey makes a key as POST /v1/keys does and shows its secret once.
func (c *Console) createKey(w http.ResponseWriter, r *http.Request, s *session) error {
	name := r.PostFormValue("name")
	var scopes []notify.Scope
	checked := map[notify.Scope]bool{}
	for _, v := range r.PostForm["scope"] {
		scopes = append(scopes, notify.Scope(v))
		checked[notify.Scope(v)] = true
	}
	k, secret, err := c.svc.Keys.Create(r.Context(), s.WorkspaceID, name, scopes)
	if err != nil {
		var e *notify.Error
		if !errors.As(err, &e) || e.Code == notify.CodeInternal {
			return err
		}
		return c.keysPage(w, r, s, e.HTTPStatus(), keysPage{Name: name, Checked: checked, Error: e})
	}
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "key.create", Target: k.ID,
		Detail: k.Name + " (" + scopeList(k.Scopes) + ")"})
	return c.keysPage(w, r, s, http.StatusCreated, keysPage{Created: &k, Secret: secret})
}

func scopeList(scopes []notify.Scope) string {
	s := make([]string, len(scopes))
	for i, sc := range scopes {
		s[i] = string(sc)
	}
	return strings.Join(s, ", ")
}

func init() { funcs["scopes"] = scopeList }

// revokePage asks before a key is revoked.
type revokePage struct{ Key notify.APIKey }

func (revokePage) PageTitle() string { return "Revoke API key" }

// workspaceKey is the workspace's key id, revoked or not; another
// workspace's is not found.
func (c *Console) workspaceKey(r *http.Request, s *session, id string) (notify.APIKey, error) {
	keys, err := c.svc.Keys.List(r.Context(), s.WorkspaceID)
	if err != nil {
		return notify.APIKey{}, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return notify.APIKey{}, notify.NotFound("api key", id)
}

// revokeKeyForm is the confirmation: what stops working, and the button
// that does it.
func (c *Console) revokeKeyForm(w http.ResponseWriter, r *http.Request, s *session) error {
	k, err := c.workspaceKey(r, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	if k.RevokedAt != nil {
		http.Redirect(w, r, "/settings/keys", http.StatusSeeOther)
		return nil
	}
	c.render(w, r, s, http.StatusOK, "settings_revoke", revokePage{Key: k})
	return nil
}

// revokeKey revokes as DELETE /v1/keys/{id} does: the workspace's last
// admin key stays, and the keys page says why.
func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request, s *session) error {
	k, err := c.workspaceKey(r, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := c.svc.Keys.Revoke(r.Context(), s.WorkspaceID, k.ID); err != nil {
		var e *notify.Error
		if !errors.As(err, &e) || e.Code == notify.CodeInternal || e.Code == notify.CodeNotFound {
			return err
		}
		return c.keysPage(w, r, s, e.HTTPStatus(), keysPage{Error: e})
	}
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "key.revoke", Target: k.ID, Detail: k.Name})
	http.Redirect(w, r, "/settings/keys?done=key_revoked", http.StatusSeeOther)
	return nil
}

func init() { flashes["key_revoked"] = "API key revoked: requests with it are refused from now on." }
