package template

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldhq/herald/shared/notify"
)

func TestList(t *testing.T) {
	s, store, c := newService(t)
	ctx := t.Context()
	long := strings.Repeat("ñ", 150)
	ins := []Input{
		{Name: "push", Channel: notify.ChannelPush, Title: "Hi {{name}}", Body: "You saved {{amount}}", Labels: []string{"energy"},
			Variations: map[string]notify.Variation{"es": {Title: "Hola", Body: "Ahorraste"}}},
		{Name: "sms", Channel: notify.ChannelSMS, Body: long, Labels: []string{"energy", "long"}, Status: notify.TemplateDraft},
		{Name: "sms 2", Channel: notify.ChannelSMS, Body: "Exactly short"},
	}
	ids := make([]string, len(ins))
	for i, in := range ins {
		c.t = start.Add(time.Duration(i) * time.Minute)
		tpl, err := s.Create(ctx, "ws1", in)
		if err != nil {
			t.Fatalf("Create(%s): %v", in.Name, err)
		}
		ids[i] = tpl.ID
	}
	// A template saved before drafts existed, without a status.
	legacy := notify.Template{WorkspaceID: "ws1", ID: "tpl_legacy", Name: "legacy", Channel: notify.ChannelEmail, Body: "Dear {{name}}",
		Email: &notify.EmailExtras{Subject: "News"}, Version: 1, Variables: []string{"name"}, CreatedAt: start.UTC().Add(-time.Hour), UpdatedAt: start.UTC()}
	if err := store.SaveTemplate(ctx, legacy); err != nil {
		t.Fatal(err)
	}

	type item struct {
		ID      string
		Status  notify.TemplateStatus
		Preview Excerpt
	}
	tests := []struct {
		name string
		f    notify.TemplateFilter
		want []item
	}{
		{"all, newest first", notify.TemplateFilter{}, []item{
			{ids[2], notify.TemplatePublished, Excerpt{Body: "Exactly short"}},
			{ids[1], notify.TemplateDraft, Excerpt{Body: strings.Repeat("ñ", 139) + "…"}},
			{ids[0], notify.TemplatePublished, Excerpt{Title: "Hi {{name}}", Body: "You saved {{amount}}"}},
			{"tpl_legacy", notify.TemplatePublished, Excerpt{Body: "Dear {{name}}"}},
		}},
		{"by channel", notify.TemplateFilter{Channel: notify.ChannelSMS}, []item{
			{ids[2], notify.TemplatePublished, Excerpt{Body: "Exactly short"}},
			{ids[1], notify.TemplateDraft, Excerpt{Body: strings.Repeat("ñ", 139) + "…"}},
		}},
		{"by label", notify.TemplateFilter{Label: "energy"}, []item{
			{ids[1], notify.TemplateDraft, Excerpt{Body: strings.Repeat("ñ", 139) + "…"}},
			{ids[0], notify.TemplatePublished, Excerpt{Title: "Hi {{name}}", Body: "You saved {{amount}}"}},
		}},
		{"by channel and label", notify.TemplateFilter{Channel: notify.ChannelPush, Label: "long"}, []item{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, next, err := s.List(ctx, "ws1", tt.f, notify.Page{Limit: 10})
			if err != nil {
				t.Fatalf("List(%+v): %v", tt.f, err)
			}
			got := []item{}
			for _, it := range items {
				got = append(got, item{it.ID, it.Status, it.Preview})
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("List(%+v) mismatch (-want +got):\n%s", tt.f, d)
			}
			if next != "" {
				t.Errorf("List(%+v) next = %q on the last page, want none", tt.f, next)
			}
		})
	}

	t.Run("paging", func(t *testing.T) {
		var got []string
		p := notify.Page{Limit: 3}
		for range 3 {
			items, next, err := s.List(ctx, "ws1", notify.TemplateFilter{}, p)
			if err != nil {
				t.Fatalf("List(cursor %q): %v", p.Cursor, err)
			}
			for _, it := range items {
				got = append(got, it.ID)
			}
			if next == "" {
				break
			}
			p.Cursor = next
		}
		if d := cmp.Diff([]string{ids[2], ids[1], ids[0], "tpl_legacy"}, got); d != "" {
			t.Errorf("pages of 3 mismatch (-want +got):\n%s", d)
		}
	})
}

func TestListErrors(t *testing.T) {
	s, _, _ := newService(t)
	tests := []struct {
		name string
		f    notify.TemplateFilter
		p    notify.Page
		want notify.FieldError
	}{
		{"unknown channel", notify.TemplateFilter{Channel: "fax"}, notify.Page{Limit: 10}, notify.FieldError{Field: "channel", Problem: "must be push, webpush, sms, email, whatsapp or inapp"}},
		{"foreign cursor", notify.TemplateFilter{}, notify.Page{Limit: 10, Cursor: "not-a-cursor"}, notify.FieldError{Field: "cursor", Problem: "not a cursor this API returned"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.List(t.Context(), "ws1", tt.f, tt.p)
			if d := cmp.Diff([]notify.FieldError{tt.want}, details(t, err)); d != "" {
				t.Errorf("List details mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestPreview(t *testing.T) {
	s, _, _ := newService(t)
	ctx := t.Context()
	push, err := s.Create(ctx, "ws1", Input{Name: "push", Channel: notify.ChannelPush, Title: "Hi {{name}}", Body: "You owe {{amount}} {{amount}}", Route: "bills",
		Variations: map[string]notify.Variation{"es": {Title: "Hola {{name}}", Body: "Debes {{amount}}"}, "fr": {Body: "Vous devez {{amount}}"}}})
	if err != nil {
		t.Fatal(err)
	}
	email, err := s.Create(ctx, "ws1", Input{Name: "email", Channel: notify.ChannelEmail, Body: "Dear {{name}}",
		Email: &notify.EmailExtras{Subject: "News for {{name}}", HTML: "<p>Dear {{name}}, {{news}}</p>"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		id       string
		language string
		vars     map[string]string
		want     Rendered
	}{
		{"every variable given", push.ID, "", map[string]string{"name": "Ana", "amount": "5 €"},
			Rendered{Title: "Hi Ana", Body: "You owe 5 € 5 €", Subject: "Hi Ana", Route: "bills", Missing: []string{}}},
		{"a missing variable named once", push.ID, "", map[string]string{"name": "Ana"},
			Rendered{Title: "Hi Ana", Body: "You owe  ", Subject: "Hi Ana", Route: "bills", Missing: []string{"amount"}}},
		{"the variation of a regional language", push.ID, "es-MX", map[string]string{"name": "Ana", "amount": "5 €"},
			Rendered{Title: "Hola Ana", Body: "Debes 5 €", Subject: "Hola Ana", Route: "bills", Language: "es", Missing: []string{}}},
		{"a variation without a title keeps the default title", push.ID, "fr", map[string]string{"amount": "5 €"},
			Rendered{Title: "Hi ", Body: "Vous devez 5 €", Subject: "Hi ", Route: "bills", Language: "fr", Missing: []string{"name"}}},
		{"a language without a variation", push.ID, "de", map[string]string{"name": "Ana", "amount": "5"},
			Rendered{Title: "Hi Ana", Body: "You owe 5 5", Subject: "Hi Ana", Route: "bills", Missing: []string{}}},
		{"an email's subject and html", email.ID, "", map[string]string{"name": "Ana"},
			Rendered{Body: "Dear Ana", Subject: "News for Ana", HTML: "<p>Dear Ana, </p>", Route: "home", Missing: []string{"news"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Preview(ctx, "ws1", tt.id, tt.language, tt.vars)
			if err != nil {
				t.Fatalf("Preview: %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Preview(%q, %v) mismatch (-want +got):\n%s", tt.language, tt.vars, d)
			}
		})
	}
	_, err = s.Preview(ctx, "ws1", "tpl_missing", "", nil)
	wantCode(t, "Preview(missing)", err, notify.CodeNotFound)
}
