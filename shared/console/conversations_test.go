package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	heraldtemplate "github.com/heraldhq/herald/shared/template"
)

// Journey 7: the contacts whose WhatsApp window is closed, a template to
// reopen one, and their answer.
func TestConversations(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	e.putUser("ws_a", "never", person{Name: "Nora Never", Phone: "+34600000001"})
	e.putUser("ws_a", "expired", person{Name: "Eva Expired", Phone: "+34600000002"})
	e.putUser("ws_a", "open", person{Name: "Olga Open", Phone: "+34600000003"})
	e.putUser("ws_a", "nophone", person{Name: "Ned Nophone", Email: "ned@example.com"})
	e.putUser("ws_b", "other", person{Name: "Otto Other", Phone: "+34600000009"})
	wrote := func(id string, at time.Time, answer string) {
		if _, err := e.store.UpdateUser(ctx, "ws_a", id, func(u *notify.User) error {
			u.WhatsAppLastInbound = &at
			if answer != "" {
				u.LastAnswer = &notify.Answer{NotificationID: "N1", Answer: answer, At: at}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	now := e.clock.Now()
	wrote("expired", now.Add(-49*time.Hour), "No")
	wrote("open", now.Add(-time.Hour), "")
	tpl, err := e.templates.Create(ctx, "ws_a", heraldtemplate.Input{Name: "Reactivate", Channel: notify.ChannelWhatsApp, Body: "Hola {{1}}, ¿seguimos hablando?",
		WhatsApp: &notify.WhatsAppTemplate{Name: "reactivate", Language: "es", Category: "marketing", Parameters: []string{"name"},
			Buttons: []notify.Button{{ID: "yes", Label: "Sí"}, {ID: "no", Label: "No"}}}})
	if err != nil {
		t.Fatal(err)
	}

	viewer := e.as("viewer@a.example")
	p := viewer.get("/conversations")
	want(t, p, http.StatusOK, "Nora Never", "Never wrote", "Eva Expired", "Expired", "“No”")
	for _, absent := range []string{"Olga Open", "Ned Nophone", "Otto Other"} {
		if strings.Contains(p.body, absent) {
			t.Errorf("the closed conversations list %q", absent)
		}
	}
	if p := viewer.get("/conversations?state=never"); strings.Contains(p.body, "Eva Expired") || !strings.Contains(p.body, "Nora Never") {
		t.Errorf("never wrote filter: %s", p.body)
	}
	want(t, viewer.get("/conversations?state=all"), http.StatusOK, "Olga Open", "Open")
	want(t, viewer.get("/conversations/expired?template="+tpl.ID), http.StatusOK, "Hola Eva Expired, ¿seguimos hablando?", `<div class="wa-button">Sí</div>`)
	want(t, viewer.post("/conversations/expired/send", url.Values{"template": {tpl.ID}}), http.StatusForbidden)

	editor := e.as("editor@a.example")
	p = editor.post("/conversations/expired/review", url.Values{"template": {tpl.ID}})
	want(t, p, http.StatusOK, "This template goes to Eva Expired (&#43;34600000002)", "cannot be undone")
	p = editor.post("/conversations/expired/send", url.Values{"template": {tpl.ID}})
	want(t, p, http.StatusSeeOther)
	if e.queue.len() != 1 {
		t.Fatalf("enqueued %d, want the template to Eva", e.queue.len())
	}
	nid := strings.TrimPrefix(strings.Split(p.loc, "?")[0], "/history/")
	n, err := e.store.GetNotification(ctx, "ws_a", nid)
	if err != nil || n.Channel != notify.ChannelWhatsApp || n.TemplateID != tpl.ID || n.Audience.Count != 1 {
		t.Fatalf("the reactivation: %+v %v", n, err)
	}
	// Nobody to send to: refused before anything is sent.
	before := e.queue.len()
	want(t, editor.post("/conversations/ghost/send", url.Values{"template": {tpl.ID}}), http.StatusNotFound)
	want(t, editor.post("/conversations/nophone/send", url.Values{"template": {tpl.ID}}), http.StatusUnprocessableEntity, "has no phone")
	if e.queue.len() != before {
		t.Fatal("a refused reactivation was queued")
	}
	// Another workspace's contact, a template of another channel.
	want(t, e.as("admin@b.example").get("/conversations/expired"), http.StatusNotFound)
	push, _ := e.templates.Create(ctx, "ws_a", heraldtemplate.Input{Name: "Push", Channel: notify.ChannelPush, Title: "x", Body: "y"})
	want(t, editor.post("/conversations/expired/send", url.Values{"template": {push.ID}}), http.StatusUnprocessableEntity)
}
