package httpapi

import (
	"net/http"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/template"
)

func (s *Server) createTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in template.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.templates.Create(r.Context(), k.WorkspaceID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, t)
	return nil
}

func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in template.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := s.templates.Update(r.Context(), k.WorkspaceID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	t, err := s.templates.Get(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) deleteTemplate(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.templates.Delete(r.Context(), k.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	f := notify.TemplateFilter{Channel: notify.Channel(r.URL.Query().Get("channel")), Label: r.URL.Query().Get("label")}
	items, next, err := s.templates.List(r.Context(), k.WorkspaceID, f, p)
	if err != nil {
		return err
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
	out, err := s.templates.Preview(r.Context(), k.WorkspaceID, r.PathValue("id"), in.Language, in.Variables)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
