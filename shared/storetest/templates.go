package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// newTemplate is version 1 of a push template with every part set.
func newTemplate(ws, id string, at time.Time) notify.Template {
	return notify.Template{
		WorkspaceID: ws,
		ID:          id,
		Name:        "Welcome",
		Channel:     notify.ChannelPush,
		Title:       "Hola {{name}}",
		Body:        "Ahorra energía con {{offer}}",
		Route:       "offers",
		Push: &notify.PushExtras{
			Icon: "https://cdn.example/icon.png", Image: "https://cdn.example/img.png",
			Buttons: []notify.Button{{ID: "yes", Label: "Sí", Route: "accept"}, {ID: "no", Label: "No"}},
		},
		Variations: map[string]notify.Variation{"en": {Title: "Hi {{name}}", Body: "Save energy with {{offer}}"}},
		Labels:     []string{"onboarding", "promo"},
		Status:     notify.TemplateDraft,
		Version:    1,
		Variables:  []string{"name", "offer"},
		CreatedAt:  at,
		UpdatedAt:  at,
	}
}

func saveTemplate(t *testing.T, s notify.Store, tpl notify.Template) {
	t.Helper()
	must(t, "SaveTemplate "+tpl.ID, s.SaveTemplate(t.Context(), tpl))
}

func testSaveTemplate(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	v1 := newTemplate(wsA, "tpl-welcome", t0)
	saveTemplate(t, s, v1)
	got, err := s.GetTemplate(ctx, wsA, v1.ID)
	must(t, "GetTemplate", err)
	if d := diff(v1, got); d != "" {
		t.Errorf("GetTemplate after SaveTemplate mismatch (-want +got):\n%s", d)
	}

	wantCode(t, "SaveTemplate version 1 of an existing id", s.SaveTemplate(ctx, v1), notify.CodeConflict)
	skip := v1
	skip.Version, skip.Body = 3, "skipped a version"
	wantCode(t, "SaveTemplate version 3 over version 1", s.SaveTemplate(ctx, skip), notify.CodeConflict)
	zero := v1
	zero.Version = 0
	wantCode(t, "SaveTemplate version 0 over version 1", s.SaveTemplate(ctx, zero), notify.CodeConflict)

	v2 := v1
	v2.Version, v2.Body, v2.Push, v2.Labels, v2.UpdatedAt = 2, "Nuevo texto {{name}}", nil, []string{"promo"}, t0.Add(time.Minute)
	v2.Variables = []string{"name"}
	saveTemplate(t, s, v2)
	wantCode(t, "SaveTemplate version 2 twice", s.SaveTemplate(ctx, v2), notify.CodeConflict)

	got, err = s.GetTemplate(ctx, wsA, v1.ID)
	must(t, "GetTemplate", err)
	if d := diff(v2, got); d != "" {
		t.Errorf("GetTemplate after version 2 mismatch (-want +got):\n%s", d)
	}
	for _, want := range []notify.Template{v1, v2} {
		got, err := s.GetTemplateVersion(ctx, wsA, v1.ID, want.Version)
		must(t, "GetTemplateVersion", err)
		if d := diff(want, got); d != "" {
			t.Errorf("GetTemplateVersion(%d) mismatch (-want +got):\n%s", want.Version, d)
		}
	}
	_, err = s.GetTemplateVersion(ctx, wsA, v1.ID, 3)
	wantCode(t, "GetTemplateVersion of a missing version", err, notify.CodeNotFound)

	fresh := newTemplate(wsA, "tpl-new", t0)
	fresh.Version = 2
	wantCode(t, "SaveTemplate version 2 of a new id", s.SaveTemplate(ctx, fresh), notify.CodeConflict)
	_, err = s.GetTemplate(ctx, wsA, fresh.ID)
	wantCode(t, "GetTemplate of a template whose save conflicted", err, notify.CodeNotFound)

	// The other channels' extras round-trip too.
	email := notify.Template{
		WorkspaceID: wsA, ID: "tpl-email", Name: "Factura", Channel: notify.ChannelEmail,
		Body: "Tu factura de {{month}}", Email: &notify.EmailExtras{Subject: "Factura {{month}}", HTML: "<p>Tu factura</p>"},
		Version: 1, Variables: []string{"month"}, CreatedAt: t0, UpdatedAt: t0,
	}
	whatsapp := notify.Template{
		WorkspaceID: wsA, ID: "tpl-wa", Name: "Aviso", Channel: notify.ChannelWhatsApp, Body: "Hola {{1}}",
		WhatsApp: &notify.WhatsAppTemplate{
			Name: "aviso_corte", Language: "es", Category: "utility", Parameters: []string{"name"},
			Buttons: []notify.Button{{ID: "ok", Label: "Vale"}},
		},
		Version: 1, Variables: []string{"name"}, CreatedAt: t0, UpdatedAt: t0,
	}
	for _, want := range []notify.Template{email, whatsapp} {
		saveTemplate(t, s, want)
		got, err := s.GetTemplate(ctx, wsA, want.ID)
		must(t, "GetTemplate", err)
		if d := diff(want, got); d != "" {
			t.Errorf("GetTemplate(%q) mismatch (-want +got):\n%s", want.ID, d)
		}
	}

	_, err = s.GetTemplate(ctx, wsA, "tpl-missing")
	wantCode(t, "GetTemplate of a missing id", err, notify.CodeNotFound)
}

func testListTemplates(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	fixture := []struct {
		channel notify.Channel
		labels  []string
	}{
		{notify.ChannelPush, []string{"promo"}},
		{notify.ChannelSMS, []string{"billing"}},
		{notify.ChannelSMS, []string{"promo", "billing"}},
		{notify.ChannelEmail, nil},
		{notify.ChannelPush, []string{"onboarding"}},
		{notify.ChannelWhatsApp, []string{"promo"}},
		{notify.ChannelPush, []string{"promo", "onboarding"}},
	}
	var all []notify.Template // newest first
	for i, f := range fixture {
		at := minute(i)
		tpl := newTemplate(wsA, ids.New(at), at)
		tpl.Channel, tpl.Labels = f.channel, f.labels
		saveTemplate(t, s, tpl)
		all = append([]notify.Template{tpl}, all...)
	}
	// A later version of an old template is still listed once, as its latest.
	v2 := all[len(all)-1]
	v2.Version, v2.Body, v2.UpdatedAt = 2, "second version", minute(30)
	saveTemplate(t, s, v2)
	all[len(all)-1] = v2
	saveTemplate(t, s, newTemplate(wsB, ids.New(minute(40)), minute(40)))

	pick := func(idx ...int) []notify.Template {
		var out []notify.Template
		for _, i := range idx {
			out = append(out, all[len(all)-1-i]) // by fixture index
		}
		return out
	}
	tests := []struct {
		name   string
		filter notify.TemplateFilter
		want   []notify.Template
	}{
		{"all", notify.TemplateFilter{}, all},
		{"channel", notify.TemplateFilter{Channel: notify.ChannelSMS}, pick(2, 1)},
		{"label", notify.TemplateFilter{Label: "promo"}, pick(6, 5, 2, 0)},
		{"channel and label", notify.TemplateFilter{Channel: notify.ChannelPush, Label: "onboarding"}, pick(6, 4)},
		{"nothing", notify.TemplateFilter{Label: "missing"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := collect(t, "ListTemplates", 3, func(p notify.Page) ([]notify.Template, string, error) {
				return s.ListTemplates(ctx, wsA, tt.filter, p)
			})
			if d := diff(tt.want, got); d != "" {
				t.Errorf("ListTemplates(%+v) mismatch (-want +got):\n%s", tt.filter, d)
			}
		})
	}
}

func testDeleteTemplate(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	v1 := newTemplate(wsA, "tpl-1", t0)
	saveTemplate(t, s, v1)
	v2 := v1
	v2.Version, v2.UpdatedAt = 2, t0.Add(time.Minute)
	saveTemplate(t, s, v2)
	other := newTemplate(wsA, "tpl-2", t0)
	saveTemplate(t, s, other)

	must(t, "DeleteTemplate", s.DeleteTemplate(ctx, wsA, v1.ID))
	_, err := s.GetTemplate(ctx, wsA, v1.ID)
	wantCode(t, "GetTemplate of a deleted template", err, notify.CodeNotFound)
	for _, v := range []int{1, 2} {
		_, err := s.GetTemplateVersion(ctx, wsA, v1.ID, v)
		wantCode(t, "GetTemplateVersion of a deleted template", err, notify.CodeNotFound)
	}
	list, _ := collect(t, "ListTemplates", 10, func(p notify.Page) ([]notify.Template, string, error) {
		return s.ListTemplates(ctx, wsA, notify.TemplateFilter{}, p)
	})
	if d := diff([]notify.Template{other}, list); d != "" {
		t.Errorf("ListTemplates after DeleteTemplate mismatch (-want +got):\n%s", d)
	}
	wantCode(t, "DeleteTemplate of a deleted template", s.DeleteTemplate(ctx, wsA, v1.ID), notify.CodeNotFound)

	// The id is free again: a new template starts at version 1.
	again := newTemplate(wsA, v1.ID, t0.Add(time.Hour))
	saveTemplate(t, s, again)
	_, err = s.GetTemplateVersion(ctx, wsA, v1.ID, 2)
	wantCode(t, "GetTemplateVersion(2) of a re-created template", err, notify.CodeNotFound)
}

func testTemplatesIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	a := newTemplate(wsA, "tpl-1", t0)
	saveTemplate(t, s, a)

	_, err := s.GetTemplate(ctx, wsB, a.ID)
	wantCode(t, "GetTemplate through another workspace", err, notify.CodeNotFound)
	_, err = s.GetTemplateVersion(ctx, wsB, a.ID, 1)
	wantCode(t, "GetTemplateVersion through another workspace", err, notify.CodeNotFound)
	list, _, err := s.ListTemplates(ctx, wsB, notify.TemplateFilter{}, notify.Page{Limit: 10})
	must(t, "ListTemplates", err)
	if len(list) != 0 {
		t.Errorf("ListTemplates through another workspace = %d templates, want 0", len(list))
	}
	wantCode(t, "DeleteTemplate through another workspace", s.DeleteTemplate(ctx, wsB, a.ID), notify.CodeNotFound)
	next := a
	next.WorkspaceID, next.Version = wsB, 2
	wantCode(t, "SaveTemplate version 2 through another workspace", s.SaveTemplate(ctx, next), notify.CodeConflict)

	// The same id in another workspace is another template.
	b := newTemplate(wsB, a.ID, t0)
	b.Body = "workspace b"
	saveTemplate(t, s, b)
	must(t, "DeleteTemplate b", s.DeleteTemplate(ctx, wsB, a.ID))

	got, err := s.GetTemplate(ctx, wsA, a.ID)
	must(t, "GetTemplate", err)
	if d := diff(a, got); d != "" {
		t.Errorf("template of %s after writes through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}
