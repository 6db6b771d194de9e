package template

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

// start is the test clock's first reading: not in UTC and with
// nanoseconds, so that the stamps show the service's UTC milliseconds.
var start = time.Date(2026, 11, 20, 10, 15, 30, 123456789, time.FixedZone("CET", 3600))

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// hookStore is a bbolt store that runs beforeSave ahead of every
// SaveTemplate: a save may fail, or another edit may win a race.
type hookStore struct {
	*boltstore.Store
	beforeSave func(t notify.Template) error
}

func (h *hookStore) SaveTemplate(ctx context.Context, t notify.Template) error {
	if h.beforeSave != nil {
		if err := h.beforeSave(t); err != nil {
			return err
		}
	}
	return h.Store.SaveTemplate(ctx, t)
}

func newService(t *testing.T) (*Service, *hookStore, *clock) {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, ws := range []string{"ws1", "ws2"} {
		if err := db.CreateWorkspace(t.Context(), notify.Workspace{ID: ws, Name: ws, CreatedAt: start}); err != nil {
			t.Fatal(err)
		}
	}
	store, c := &hookStore{Store: db}, &clock{t: start}
	return &Service{Store: store, IDs: &notify.IDs{}, Now: c.now}, store, c
}

// details returns the field errors of a validation error, failing the
// test when err is not one.
func details(t *testing.T, err error) []notify.FieldError {
	t.Helper()
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != notify.CodeValidation {
		t.Fatalf("err = %v, want a %s error", err, notify.CodeValidation)
	}
	return e.Details
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if !notify.IsCode(err, code) {
		t.Errorf("%s: err = %v, want code %s", what, err, code)
	}
}

func sms(name, body string) Input {
	return Input{Name: name, Channel: notify.ChannelSMS, Body: body}
}

func TestCreateValidation(t *testing.T) {
	labels := func(n int) []string {
		ls := make([]string, n)
		for i := range ls {
			ls[i] = "l" + strings.Repeat("x", i)
		}
		return ls
	}
	tests := []struct {
		name string
		in   Input
		want []notify.FieldError
	}{
		{"blank name", sms(" \t ", "B"), []notify.FieldError{{Field: "name", Problem: "required, at most 200 characters"}}},
		{"name of 201 characters", sms(strings.Repeat("é", 201), "B"), []notify.FieldError{{Field: "name", Problem: "required, at most 200 characters"}}},
		{"21 labels", Input{Name: "n", Channel: notify.ChannelSMS, Body: "B", Labels: labels(21)}, []notify.FieldError{{Field: "labels", Problem: "at most 20 labels"}}},
		{"empty and long labels", Input{Name: "n", Channel: notify.ChannelSMS, Body: "B", Labels: []string{"ok", "", strings.Repeat("a", 65)}}, []notify.FieldError{
			{Field: "labels[1]", Problem: "must be 1–64 characters"},
			{Field: "labels[2]", Problem: "must be 1–64 characters"},
		}},
		{"unknown status", Input{Name: "n", Channel: notify.ChannelSMS, Body: "B", Status: "archived"}, []notify.FieldError{{Field: "status", Problem: "must be draft or published"}}},
		{"content problems come first", Input{Name: "", Channel: "fax", Status: "x"}, []notify.FieldError{
			{Field: "channel", Problem: "must be push, webpush, sms, email, whatsapp or inapp"},
			{Field: "body", Problem: "required"},
			{Field: "name", Problem: "required, at most 200 characters"},
			{Field: "status", Problem: "must be draft or published"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, _ := newService(t)
			_, err := s.Create(t.Context(), "ws1", tt.in)
			if d := cmp.Diff(tt.want, details(t, err)); d != "" {
				t.Errorf("Create(%s) details mismatch (-want +got):\n%s", tt.name, d)
			}
			if ts, _, _ := store.ListTemplates(t.Context(), "ws1", notify.TemplateFilter{}, notify.Page{Limit: 10}); len(ts) != 0 {
				t.Errorf("an invalid template was stored: %+v", ts)
			}
		})
	}
}

func TestCreateStampsAndDefaults(t *testing.T) {
	stamp := start.UTC().Truncate(time.Millisecond)
	tests := []struct {
		name   string
		status notify.TemplateStatus
		want   notify.TemplateStatus
	}{
		{"published by default", "", notify.TemplatePublished},
		{"draft when asked", notify.TemplateDraft, notify.TemplateDraft},
		{"published when asked", notify.TemplatePublished, notify.TemplatePublished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, _ := newService(t)
			in := Input{Name: "  Bill due  ", Channel: notify.ChannelPush, Title: "Hi {{name}}", Body: "You owe {{amount}}", Labels: []string{"billing"}, Status: tt.status}
			got, err := s.Create(t.Context(), "ws1", in)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if !strings.HasPrefix(got.ID, "tpl_") || got.ID != strings.ToLower(got.ID) || len(got.ID) != len("tpl_")+26 {
				t.Errorf("ID = %q, want tpl_ and a lowercase id", got.ID)
			}
			want := notify.Template{
				WorkspaceID: "ws1", ID: got.ID, Name: "Bill due", Channel: notify.ChannelPush,
				Title: "Hi {{name}}", Body: "You owe {{amount}}", Labels: []string{"billing"}, Status: tt.want,
				Version: 1, Variables: []string{"amount", "name"}, CreatedAt: stamp, UpdatedAt: stamp,
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Create mismatch (-want +got):\n%s", d)
			}
			stored, err := store.GetTemplate(t.Context(), "ws1", got.ID)
			if err != nil {
				t.Fatalf("GetTemplate: %v", err)
			}
			if d := cmp.Diff(want, stored); d != "" {
				t.Errorf("stored template mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestCreateStoreFailure(t *testing.T) {
	s, store, _ := newService(t)
	boom := errors.New("disk full")
	store.beforeSave = func(notify.Template) error { return boom }
	if _, err := s.Create(t.Context(), "ws1", sms("n", "B")); !errors.Is(err, boom) {
		t.Errorf("Create with a failing store: err = %v, want %v", err, boom)
	}
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name    string
		created notify.TemplateStatus
		sent    notify.TemplateStatus
		want    notify.TemplateStatus
	}{
		{"a draft stays a draft", notify.TemplateDraft, "", notify.TemplateDraft},
		{"a published one stays published", notify.TemplatePublished, "", notify.TemplatePublished},
		{"a draft is published", notify.TemplateDraft, notify.TemplatePublished, notify.TemplatePublished},
		{"a published one goes back to draft", notify.TemplatePublished, notify.TemplateDraft, notify.TemplateDraft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, c := newService(t)
			in := sms("Reminder", "Hi {{name}}")
			in.Status = tt.created
			v1, err := s.Create(t.Context(), "ws1", in)
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			c.t = start.Add(time.Hour)
			got, err := s.Update(t.Context(), "ws1", v1.ID, Input{Name: "Reminder 2", Channel: notify.ChannelSMS, Body: "Bye {{who}}", Status: tt.sent})
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			want := notify.Template{
				WorkspaceID: "ws1", ID: v1.ID, Name: "Reminder 2", Channel: notify.ChannelSMS, Body: "Bye {{who}}",
				Status: tt.want, Version: 2, Variables: []string{"who"},
				CreatedAt: v1.CreatedAt, UpdatedAt: c.t.UTC().Truncate(time.Millisecond),
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("Update mismatch (-want +got):\n%s", d)
			}
			stored, err := store.GetTemplate(t.Context(), "ws1", v1.ID)
			if err != nil {
				t.Fatalf("GetTemplate: %v", err)
			}
			if d := cmp.Diff(want, stored); d != "" {
				t.Errorf("stored template mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestUpdateLegacy: a template saved before drafts existed has no status;
// it is shown published and an edit that sends none leaves it so.
func TestUpdateLegacy(t *testing.T) {
	s, store, _ := newService(t)
	old := notify.Template{WorkspaceID: "ws1", ID: "tpl_old", Name: "Old", Channel: notify.ChannelSMS, Body: "B", Version: 1, Variables: []string{}, CreatedAt: start.UTC(), UpdatedAt: start.UTC()}
	if err := store.SaveTemplate(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(t.Context(), "ws1", "tpl_old")
	if err != nil || got.Status != notify.TemplatePublished {
		t.Errorf("Get(legacy) = %q, %v; want status published", got.Status, err)
	}
	got, err = s.Update(t.Context(), "ws1", "tpl_old", sms("Old", "B2"))
	if err != nil || got.Status != notify.TemplatePublished || got.Version != 2 {
		t.Errorf("Update(legacy) = status %q version %d, %v; want published version 2", got.Status, got.Version, err)
	}
}

func TestUpdateErrors(t *testing.T) {
	s, _, _ := newService(t)
	v1, err := s.Create(t.Context(), "ws1", sms("n", "B"))
	if err != nil {
		t.Fatal(err)
	}
	// A missing template is not found even when the input is invalid.
	_, err = s.Update(t.Context(), "ws1", "tpl_missing", Input{})
	wantCode(t, "Update(missing, invalid)", err, notify.CodeNotFound)

	_, err = s.Update(t.Context(), "ws1", v1.ID, sms("", "B"))
	if d := cmp.Diff([]notify.FieldError{{Field: "name", Problem: "required, at most 200 characters"}}, details(t, err)); d != "" {
		t.Errorf("Update(blank name) details mismatch (-want +got):\n%s", d)
	}
	if got, _ := s.Get(t.Context(), "ws1", v1.ID); got.Version != 1 {
		t.Errorf("an invalid update changed the template to version %d", got.Version)
	}
}

// TestUpdateConflict: an edit saved between this one's read and its save
// wins, and this one is told to read the template again.
func TestUpdateConflict(t *testing.T) {
	s, store, _ := newService(t)
	v1, err := s.Create(t.Context(), "ws1", sms("n", "first"))
	if err != nil {
		t.Fatal(err)
	}
	raced := false
	store.beforeSave = func(notify.Template) error {
		if raced {
			return nil
		}
		raced = true
		if _, err := s.Update(t.Context(), "ws1", v1.ID, sms("n", "theirs")); err != nil {
			t.Errorf("the racing Update: %v", err)
		}
		return nil
	}
	_, err = s.Update(t.Context(), "ws1", v1.ID, sms("n", "mine"))
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != notify.CodeConflict {
		t.Fatalf("Update that lost the race: err = %v, want a conflict", err)
	}
	if want := "template " + v1.ID + " changed while it was being saved; read it again and retry"; e.Message != want {
		t.Errorf("conflict message = %q, want %q", e.Message, want)
	}
	got, err := s.Get(t.Context(), "ws1", v1.ID)
	if err != nil || got.Body != "theirs" || got.Version != 2 {
		t.Errorf("after the race: body %q version %d, %v; want the winner's (theirs, 2)", got.Body, got.Version, err)
	}
}

func TestDelete(t *testing.T) {
	s, _, _ := newService(t)
	v1, err := s.Create(t.Context(), "ws1", sms("n", "B"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), "ws1", v1.ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = s.Get(t.Context(), "ws1", v1.ID)
	wantCode(t, "Get after Delete", err, notify.CodeNotFound)
	wantCode(t, "Delete again", s.Delete(t.Context(), "ws1", v1.ID), notify.CodeNotFound)
}

// TestOtherWorkspace: a template is not found through another workspace,
// whatever the call, and such calls leave it as it was.
func TestOtherWorkspace(t *testing.T) {
	s, _, _ := newService(t)
	v1, err := s.Create(t.Context(), "ws1", sms("n", "Hi {{name}}"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "ws2", v1.ID); return err }},
		{"Update", func() error { _, err := s.Update(ctx, "ws2", v1.ID, sms("n", "B")); return err }},
		{"Delete", func() error { return s.Delete(ctx, "ws2", v1.ID) }},
		{"Preview", func() error { _, err := s.Preview(ctx, "ws2", v1.ID, "", nil); return err }},
	}
	for _, c := range calls {
		wantCode(t, c.name+" through ws2", c.call(), notify.CodeNotFound)
	}
	items, _, err := s.List(ctx, "ws2", notify.TemplateFilter{}, notify.Page{Limit: 10})
	if err != nil || len(items) != 0 {
		t.Errorf("List(ws2) = %d items, %v; want none", len(items), err)
	}
	got, err := s.Get(ctx, "ws1", v1.ID)
	if err != nil {
		t.Fatalf("Get(ws1): %v", err)
	}
	if d := cmp.Diff(v1, got); d != "" {
		t.Errorf("ws2's calls changed the template (-want +got):\n%s", d)
	}
}

// TestCreateRefusesControlCharacters: the service holds the API's rule on
// control characters itself, for callers that are not the API.
func TestCreateRefusesControlCharacters(t *testing.T) {
	s, _, _ := newService(t)
	_, err := s.Create(t.Context(), "ws1", sms("T", "Hola\x1b[31m {{name}}"))
	if got := details(t, err); len(got) != 1 || got[0].Field != "body" || !strings.Contains(got[0].Problem, "control character") {
		t.Errorf("Create with ESC in the body: %v, want body's control character named", got)
	}
}
