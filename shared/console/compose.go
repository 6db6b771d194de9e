package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
)

// compose writes variants with AI from the send form's tone, category,
// brief and language. The script asks for JSON and puts a variant in the
// form with one click; without the script the send form comes back with
// the variants, each with a "Use this text" button (use=<n>), which puts
// that variant in the form without asking the model again.
func (c *Console) compose(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		return notify.Errorf(notify.CodeBadRequest, "the form could not be read: %v", err)
	}
	f := readSendForm(r.PostForm)
	p, err := c.basePage(r, s, f)
	if err != nil {
		return err
	}
	if use := r.PostForm.Get("use"); use != "" {
		i, _ := strconv.Atoi(use)
		p.Form.Title, p.Form.Body = r.PostForm.Get("variant"+strconv.Itoa(i)+".title"), r.PostForm.Get("variant"+strconv.Itoa(i)+".body")
		c.render(w, r, s, http.StatusOK, "send", p)
		return nil
	}
	if c.svc.Compose == nil {
		return notify.Errorf(notify.CodeNotConfigured, "%s", p.AIOff)
	}
	req := compose.Request{Tone: f.Tone, Category: f.AICategory, Channel: f.Channel, Language: f.Language, Brief: f.Brief, Variants: 3,
		KeepVariables: render.Variables(f.Title, f.Body)}
	res, err := c.svc.Compose.Compose(r.Context(), s.WorkspaceID, req)
	if err != nil {
		var e *notify.Error
		if wantsJSON(r) || !errors.As(err, &e) || e.Code == notify.CodeInternal {
			return err
		}
		p.Error = e
		c.render(w, r, s, e.HTTPStatus(), "send", p)
		return nil
	}
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "compose.generate",
		Detail: "tone " + f.Tone + ", category " + f.AICategory + ", model " + res.Model})
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, res)
		return nil
	}
	p.Variants = res.Variants
	c.render(w, r, s, http.StatusOK, "send", p)
	return nil
}
