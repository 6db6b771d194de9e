package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/template"
)

// ComposeRoutes are the path prefixes the compose function serves; the
// api function serves the rest.
var ComposeRoutes = []string{"/v1/compose"}

// composeInput is the body of POST /v1/compose: the request and, to keep
// one variant as a draft template in the same call, save.
type composeInput struct {
	compose.Request
	Save *saveInput `json:"save"`
}

// saveInput names the draft template a variant becomes.
type saveInput struct {
	Name string `json:"name"`
	// Variant is the index of the variant to keep (0, the first, by default).
	Variant int      `json:"variant"`
	Labels  []string `json:"labels"`
	// WhatsAppName is the name the template will be submitted to Meta
	// with (lowercase letters, digits and _); by default it is made of Name.
	WhatsAppName string `json:"whatsappName"`
}

// composeOutput is the answer of POST /v1/compose.
type composeOutput struct {
	compose.Result
	Template *notify.Template `json:"template,omitempty"`
}

var waName = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)

func (s *Server) compose(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in composeInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if s.composer == nil {
		return notify.Errorf(notify.CodeNotConfigured, compose.NotConfigured)
	}
	if in.Save != nil {
		if err := validSave(in, k); err != nil {
			return err
		}
	}
	res, err := s.composer.Compose(r.Context(), k.WorkspaceID, in.Request)
	if err != nil {
		return err
	}
	out := composeOutput{Result: res}
	if in.Save != nil {
		t, err := s.draftOf(r.Context(), in, res, k)
		if err != nil {
			return err
		}
		out.Template = &t
	}
	status := http.StatusOK
	if out.Template != nil {
		status = http.StatusCreated
	}
	writeJSON(w, status, out)
	return nil
}

// validSave checks the save part before any token is spent: saving writes
// a template, which takes the admin scope.
func validSave(in composeInput, k notify.APIKey) error {
	if !k.Allows(notify.ScopeAdmin) {
		return notify.Errorf(notify.CodeForbidden, "saving a template takes the %q scope; compose without save, or use an admin key", notify.ScopeAdmin)
	}
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: "save." + f, Problem: p}) }
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Save.Name)); n == 0 || n > 200 {
		add("name", "required, at most 200 characters")
	}
	variants := in.Variants
	if variants == 0 {
		variants = compose.DefaultVariants
	}
	if in.Save.Variant < 0 || in.Save.Variant >= variants {
		add("variant", fmt.Sprintf("the index of a variant, 0–%d", variants-1))
	}
	if n := len(in.Save.Labels); n > 20 || n == 20 && !slices.Contains(in.Save.Labels, "ai-generated") {
		add("labels", "at most 19 labels besides ai-generated, which is added")
	}
	for i, l := range in.Save.Labels {
		if l == "" || len(l) > 64 {
			add(fmt.Sprintf("labels[%d]", i), "must be 1–64 characters")
		}
	}
	if in.Save.WhatsAppName != "" && (in.Channel != notify.ChannelWhatsApp || !waName.MatchString(in.Save.WhatsAppName)) {
		add("whatsappName", "only for whatsapp: lowercase letters, digits and _")
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	return nil
}

// draftOf saves the chosen variant as a draft template. A WhatsApp
// template keeps its variables by name ({{name}}) with the parameters
// mapped in order, as Herald's WhatsApp templates do, ready to be submitted
// to Meta under its name.
func (s *Server) draftOf(ctx context.Context, in composeInput, res compose.Result, k notify.APIKey) (notify.Template, error) {
	v := res.Variants[in.Save.Variant]
	labels := append([]string{}, in.Save.Labels...)
	if !slices.Contains(labels, "ai-generated") {
		labels = append(labels, "ai-generated")
	}
	ti := template.Input{Name: in.Save.Name, Channel: in.Channel, Title: v.Title, Body: v.Body, Labels: labels, Status: notify.TemplateDraft}
	if in.Channel == notify.ChannelWhatsApp {
		name := in.Save.WhatsAppName
		if name == "" {
			name = slug(in.Save.Name)
		}
		category := "marketing"
		if in.Tone == "warning" {
			category = "utility"
		}
		ti.Body = compose.Named(v.Body, v.Parameters)
		ti.WhatsApp = &notify.WhatsAppTemplate{Name: name, Language: strings.ReplaceAll(res.Language, "-", "_"), Category: category, Parameters: v.Parameters}
	}
	t, err := s.templates.Create(ctx, k.WorkspaceID, ti)
	if err != nil {
		return t, fmt.Errorf("draft template of a composed variant: %w", err)
	}
	return t, nil
}

// slug makes a WhatsApp template name of a template's name.
func slug(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			under = false
		case !under && b.Len() > 0:
			b.WriteByte('_')
			under = true
		}
	}
	s := strings.TrimSuffix(b.String(), "_")
	if s == "" {
		s = "herald_template"
	}
	if len(s) > 512 {
		s = s[:512]
	}
	return s
}

// composeOptions is the answer of GET and PUT /v1/compose/options.
type composeOptions struct {
	// Configured says whether POST /v1/compose can answer; Model names
	// the model when it can.
	Configured bool   `json:"configured"`
	Model      string `json:"model,omitempty"`
	compose.Options
	Channels map[notify.Channel]compose.Limits `json:"channels"`
}

func (s *Server) optionsOf(o compose.Options) composeOptions {
	out := composeOptions{Options: o, Channels: compose.ChannelLimits}
	if s.composer != nil {
		out.Configured, out.Model = true, s.composer.ModelID()
	}
	return out
}

func (s *Server) getComposeOptions(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	o, err := compose.LoadOptions(r.Context(), s.store, k.WorkspaceID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.optionsOf(o))
	return nil
}

func (s *Server) putComposeOptions(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in struct {
		Categories []notify.ComposeChoice `json:"categories"`
		Brand      string                 `json:"brand"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := compose.SaveSettings(r.Context(), s.store, k.WorkspaceID, in.Categories, in.Brand, s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.optionsOf(o))
	return nil
}

// maxUsageDays bounds one usage query.
const maxUsageDays = 366

func (s *Server) composeUsage(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	q := r.URL.Query()
	to := s.now().UTC()
	var bad []notify.FieldError
	day := func(name string, def time.Time) time.Time {
		v := q.Get(name)
		if v == "" {
			return def
		}
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			bad = append(bad, notify.FieldError{Field: name, Problem: "a UTC day such as 2026-11-01"})
		}
		return t
	}
	to = day("to", to)
	from := day("from", to.AddDate(0, 0, -29))
	if len(bad) == 0 && (from.After(to) || to.Sub(from) >= maxUsageDays*24*time.Hour) {
		bad = append(bad, notify.FieldError{Field: "from", Problem: fmt.Sprintf("from must not be after to, and the range at most %d days", maxUsageDays)})
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	items, err := s.store.ListComposeUsage(r.Context(), k.WorkspaceID, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return err
	}
	var total struct {
		Requests     int64 `json:"requests"`
		InputTokens  int64 `json:"inputTokens"`
		OutputTokens int64 `json:"outputTokens"`
	}
	for _, u := range items {
		total.Requests += u.Requests
		total.InputTokens += u.InputTokens
		total.OutputTokens += u.OutputTokens
	}
	if items == nil {
		items = []notify.ComposeUsage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "items": items, "total": total})
	return nil
}
