package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
	tpl "github.com/heraldhq/herald/shared/template"
)

// tplEnv is the console's env with the template service over its store,
// to set up what the console then shows.
type tplEnv struct {
	*env
	svc *tpl.Service
}

func newTplEnv(t *testing.T) tplEnv {
	e := newEnv(t, 0)
	return tplEnv{env: e, svc: &tpl.Service{Store: e.store, IDs: &notify.IDs{}, Now: e.clock.Now}}
}

func (e tplEnv) create(ws string, in tpl.Input) notify.Template {
	e.t.Helper()
	t, err := e.svc.Create(context.Background(), ws, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e tplEnv) get(ws, id string) (notify.Template, error) {
	return e.svc.Get(context.Background(), ws, id)
}

// audited is the workspace's audit trail as "action target" lines.
func (e tplEnv) audited(ws string) []string {
	e.t.Helper()
	entries, _, err := e.store.ListAudit(context.Background(), ws, notify.Page{Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range entries {
		if strings.HasPrefix(a.Action, "template.") {
			out = append(out, a.Action+" "+a.Target+" by "+a.Actor)
		}
	}
	return out
}

// gallerySet is one template of every channel in ws_a and one in ws_b.
type gallerySet struct {
	push, webpush, whatsapp, sms, gsm, email, draft, other notify.Template
}

const emailHTML = `<html><body><h1 style="color:#333">Hi {{name}}</h1><img src="https://cdn.example.com/logo.png" alt="Logo" width="40"><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="dot"><script>alert(1)</script></body></html>`

func (e tplEnv) gallery() gallerySet {
	var g gallerySet
	g.push = e.create("ws_a", tpl.Input{Name: "Spring offer", Channel: notify.ChannelPush, Title: "Spring is here, {{name}}", Body: "20% off everything today.",
		Push: &notify.PushExtras{Icon: "https://cdn.example.com/icon.png", Image: "https://cdn.example.com/img/banner.png",
			Buttons: []notify.Button{{ID: "shop", Label: "Shop now"}, {ID: "later", Label: "Later"}}},
		Variations: map[string]notify.Variation{"es": {Title: "Llegó la primavera, {{name}}", Body: "20% en todo hoy."}}, Labels: []string{"promo", "spring"}})
	g.webpush = e.create("ws_a", tpl.Input{Name: "Price drop", Channel: notify.ChannelWebPush, Title: "Price drop", Body: "Your saved item is cheaper.",
		Push: &notify.PushExtras{Buttons: []notify.Button{{ID: "a", Label: "View"}, {ID: "b", Label: "Save"}, {ID: "c", Label: "Mute"}}}, Labels: []string{"promo"}})
	g.whatsapp = e.create("ws_a", tpl.Input{Name: "Appointment", Channel: notify.ChannelWhatsApp, Body: "Hola {{1}}, ¿confirmas tu cita?",
		WhatsApp: &notify.WhatsAppTemplate{Name: "appointment_confirm", Language: "es", Category: "utility", Parameters: []string{"name"},
			Buttons: []notify.Button{{ID: "yes", Label: "Sí, confirmo"}, {ID: "no", Label: "Cambiar"}}}})
	g.sms = e.create("ws_a", tpl.Input{Name: "Cobrança", Channel: notify.ChannelSMS, Body: strings.Repeat("ção ", 20), Labels: []string{"billing"}})
	g.gsm = e.create("ws_a", tpl.Input{Name: "Code ready", Channel: notify.ChannelSMS, Body: "Your code is ready"})
	g.email = e.create("ws_a", tpl.Input{Name: "Invoice", Channel: notify.ChannelEmail, Body: "Hi {{name}}, your invoice is ready.",
		Email: &notify.EmailExtras{Subject: "Your invoice", HTML: emailHTML}, Labels: []string{"billing"}})
	g.draft = e.create("ws_a", tpl.Input{Name: "Welcome draft", Channel: notify.ChannelPush, Title: "Welcome", Body: "Glad you are here.", Status: notify.TemplateDraft})
	g.other = e.create("ws_b", tpl.Input{Name: "Other workspace secret", Channel: notify.ChannelSMS, Body: "Not yours"})
	return g
}

// cards are the names of the gallery's cards, in order.
var cardName = regexp.MustCompile(`<h2 id="name-[^"]+">([^<]+)</h2>`)

func cards(body string) []string {
	var out []string
	for _, m := range cardName.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestTemplatesGalleryPreviews(t *testing.T) {
	e := newTplEnv(t)
	g := e.gallery()
	p := e.as("viewer@a.example").get("/templates")
	want(t, p, http.StatusOK,
		// Push: title, body, image and buttons as the phone shows them,
		// and what some phones leave out.
		"Spring is here, {{name}}", "20% off everything today.", `Image: <a href="https://cdn.example.com/img/banner.png"`, ">banner.png</a>", "from cdn.example.com",
		"<li>Shop now</li><li>Later</li>", "Not every device shows everything",
		"<strong>iOS</strong> shows the image only if the app has a notification service extension",
		"<strong>iOS</strong> shows the buttons only if the app registered the notification category herald.shop.later.",
		"<strong>iOS</strong> always shows the app&#39;s icon",
		"Also in <span lang=\"es\">es</span>",
		// Web push with three buttons.
		"<strong>Chrome and Edge</strong> show the first 2 buttons only.", "<strong>Firefox and Safari (macOS, iPhone and iPad)</strong> do not show buttons.",
		// WhatsApp: the bubble, its quick replies and what fills {{1}}.
		`<div class="tp-bubble">`, "Hola {{1}}, ¿confirmas tu cita?", "Approved template <strong>appointment_confirm</strong> · es · utility",
		`<ul class="tp-replies" aria-label="Quick replies"><li>Sí, confirmo</li><li>Cambiar</li></ul>`, "<code>{{1}}</code> is filled with <code>{{name}}</code>",
		// SMS: its encoding and segments.
		"UCS-2 · 80 characters · 2 segments", "GSM-7 · 18 characters (septets) · 1 segment",
		// Email: subject, and the HTML in a sandboxed frame of its own.
		`<span class="tp-k">Subject</span> Your invoice`,
		`<iframe class="tp-frame" sandbox src="/templates/`+g.email.ID+`/email-preview" name="email-`+g.email.ID+`"`,
		"1 remote image is not loaded.", `<a href="/templates/`+g.email.ID+`/email-preview?images=1" target="email-`+g.email.ID+`">Load remote images</a>`,
		// Draft and published.
		`<span class="badge st-draft">Draft</span>`, "A draft cannot be sent until it is published.",
	)
	if strings.Contains(p.body, "Other workspace secret") {
		t.Error("the gallery shows another workspace's template")
	}
	if strings.Contains(p.body, "<img") || strings.Contains(p.body, "allow-scripts") || strings.Contains(p.body, "allow-same-origin") {
		t.Error("the gallery loads a remote image or lets the email's frame run script")
	}
	if strings.Contains(p.body, "/publish") || strings.Contains(p.body, "/sends/new?template") || strings.Contains(p.body, "Create template") {
		t.Error("a viewer is offered to publish, send or create")
	}
	if diff := cmp.Diff([]string{"Welcome draft", "Invoice", "Code ready", "Cobrança", "Appointment", "Price drop", "Spring offer"}, cards(p.body)); diff != "" {
		t.Errorf("gallery cards, newest first (-want +got):\n%s", diff)
	}

	ed := e.as("editor@a.example").get("/templates")
	want(t, ed, http.StatusOK, `action="/templates/`+g.draft.ID+`/publish"`, `<a href="/sends/new?template=`+g.push.ID+`">Send<span class="visually-hidden"> Spring offer</span></a>`,
		`<a href="/templates/`+g.push.ID+`/edit">Edit<span class="visually-hidden"> Spring offer</span></a>`, "Create template")
	if strings.Contains(ed.body, "/sends/new?template="+g.draft.ID) {
		t.Error("a draft is offered to send")
	}
}

func TestTemplatesGalleryFilters(t *testing.T) {
	e := newTplEnv(t)
	e.gallery()
	b := e.as("viewer@a.example")
	tests := []struct {
		query string
		want  []string
	}{
		{"channel=whatsapp", []string{"Appointment"}},
		{"channel=sms", []string{"Code ready", "Cobrança"}},
		{"label=promo", []string{"Price drop", "Spring offer"}},
		{"label=billing&channel=email", []string{"Invoice"}},
		{"q=SPRING", []string{"Spring offer"}},
		{"q=cobranca", []string{"Cobrança"}}, // accents and case do not matter
		{"status=draft", []string{"Welcome draft"}},
		{"status=published&channel=push", []string{"Spring offer"}},
		{"q=nothing+like+this", nil},
	}
	for _, tt := range tests {
		p := b.get("/templates?" + tt.query)
		want(t, p, http.StatusOK)
		if diff := cmp.Diff(tt.want, cards(p.body)); diff != "" {
			t.Errorf("/templates?%s (-want +got):\n%s", tt.query, diff)
		}
	}
	// The label filter offers the workspace's labels, and says what matched.
	p := b.get("/templates?label=billing")
	want(t, p, http.StatusOK, `<option value="billing" selected>billing</option>`, `<option value="promo">promo</option>`, "2 of 7 templates match")
	want(t, b.get("/templates?q=nothing"), http.StatusOK, "No template matches")
}

func TestTemplatesCreateWithVariationsAndLabels(t *testing.T) {
	e := newTplEnv(t)
	b := e.as("editor@a.example")
	want(t, b.get("/templates/new"), http.StatusOK, "New template", `<label for="name">Name</label>`, "Content variations", "Add language", "Add button")
	form := url.Values{"name": {"Black Friday"}, "channel": {"push"}, "title": {"Hi {{name}}"}, "body": {"Deals inside."}, "route": {"home"},
		"labels": {"promo, seasonal, promo"}, "icon": {"https://cdn.example.com/i.png"}, "image": {"https://cdn.example.com/b.png"},
		"button.label": {"Shop now", "", "Más tarde"}, "button.id": {"", "", ""}, "button.route": {"", "", "home"},
		"variation.language": {"es", ""}, "variation.title": {"Hola {{name}}", ""}, "variation.body": {"Ofertas dentro.", ""},
		"status": {"draft"}}
	p := b.post("/templates/new", form)
	m := regexp.MustCompile(`^/templates/(tpl_[a-z0-9]+)/edit\?done=template-created$`).FindStringSubmatch(p.loc)
	if p.status != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %q\n%s", p.status, p.loc, p.body)
	}
	got, err := e.get("ws_a", m[1])
	if err != nil {
		t.Fatal(err)
	}
	wantT := notify.Template{Name: "Black Friday", Channel: notify.ChannelPush, Title: "Hi {{name}}", Body: "Deals inside.", Route: "home",
		Push: &notify.PushExtras{Icon: "https://cdn.example.com/i.png", Image: "https://cdn.example.com/b.png",
			Buttons: []notify.Button{{ID: "shop-now", Label: "Shop now"}, {ID: "m-s-tarde", Label: "Más tarde", Route: "home"}}},
		Variations: map[string]notify.Variation{"es": {Title: "Hola {{name}}", Body: "Ofertas dentro."}},
		Labels:     []string{"promo", "seasonal"}, Status: notify.TemplateDraft, Version: 1}
	got.ID, got.WorkspaceID, got.Variables, got.CreatedAt, got.UpdatedAt = "", "", nil, wantT.CreatedAt, wantT.UpdatedAt
	if diff := cmp.Diff(wantT, got); diff != "" {
		t.Errorf("created template (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"template.create " + m[1] + " by operator editor@a.example"}, e.audited("ws_a")); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	// The editor opens it again as it was saved, with its preview.
	want(t, b.get(p.loc), http.StatusOK, "Template created.", "Edit template Black Friday", `value="promo, seasonal"`, `name="variation.language" value="es"`,
		`<label for="variation-title-0">Variation <span data-n>1</span> title</label>`, "Ofertas dentro.</textarea>", `value="Más tarde"`,
		"Variation <span lang=\"es\">es</span>", "Save draft", "Publish")
}

func TestTemplatesValidationKeepsInput(t *testing.T) {
	e := newTplEnv(t)
	b := e.as("editor@a.example")
	form := url.Values{"name": {" "}, "channel": {"push"}, "title": {""}, "body": {"Text I typed {{name}}"}, "labels": {"keep-me"},
		"variation.language": {"not a language!"}, "variation.title": {""}, "variation.body": {"Texto que escribí"},
		"button.label": {"Go"}, "button.id": {""}, "button.route": {"/evil"}}
	p := b.post("/templates/new", form)
	want(t, p, http.StatusUnprocessableEntity, "Text I typed {{name}}</textarea>", `value="keep-me"`, "Texto que escribí</textarea>",
		`value="not a language!"`, `value="Go"`, "must be one of the workspace&#39;s destinations")
	// Once the route is fixed, the service's own problems are shown at
	// their fields, and what was typed is kept.
	form.Set("button.route", "")
	p = b.post("/templates/new", form)
	want(t, p, http.StatusUnprocessableEntity, `role="alert"`, "Text I typed {{name}}</textarea>", "Texto que escribí</textarea>",
		`<code>name</code> required, at most 200 characters`, `<p class="field-error">required for push</p>`, "key must be a BCP 47 language tag")
	items, _, err := e.svc.List(context.Background(), "ws_a", notify.TemplateFilter{}, notify.Page{})
	if err != nil || len(items) != 0 {
		t.Fatalf("a refused template was stored: %v %v", items, err)
	}
	// Without the script, rows are added and removed by the server, and
	// the preview is made by it, keeping what was typed.
	form.Set("op", "add-variation")
	want(t, b.post("/templates/new", form), http.StatusOK, "Variation <span data-n>2</span> language", "Texto que escribí</textarea>")
	form.Set("op", "remove-variation-0")
	p = b.post("/templates/new", form)
	want(t, p, http.StatusOK, "Text I typed {{name}}</textarea>")
	if strings.Contains(p.body, "Texto que escribí") {
		t.Error("Remove variation 1 kept the variation")
	}
	form.Set("op", "preview")
	want(t, b.post("/templates/new", form), http.StatusOK, `<p class="tp-body">Text I typed {{name}}</p>`)
}

func TestTemplatesLivePreview(t *testing.T) {
	e := newTplEnv(t)
	b := e.as("editor@a.example")
	p := b.post("/templates/preview", url.Values{"channel": {"sms"}, "body": {strings.Repeat("a", 161)}, "variation.language": {"pt"}, "variation.body": {"ção"}})
	want(t, p, http.StatusOK, "GSM-7 · 161 characters (septets) · 2 segments", "UCS-2 · 3 characters · 1 segment", "Variation <span lang=\"pt\">pt</span>")
	if strings.Contains(p.body, "<html") {
		t.Error("the live preview is a whole page, want the previews only")
	}
	p = b.post("/templates/preview", url.Values{"channel": {"webpush"}, "title": {"T"}, "body": {"B"}, "image": {"https://x.example/a.png"}})
	want(t, p, http.StatusOK, "<strong>Firefox and Safari</strong> do not show the image.")
	// A typed email is shown under the same sandbox policy as a saved one.
	p = b.post("/templates/email-preview", url.Values{"channel": {"email"}, "subject": {"S"}, "html": {emailHTML}})
	checkEmailPolicy(t, p, false)
	want(t, e.as("viewer@a.example").post("/templates/preview", url.Values{"channel": {"sms"}, "body": {"x"}}), http.StatusForbidden)
}

func checkEmailPolicy(t *testing.T, p page, images bool) {
	t.Helper()
	csp := p.header.Get("Content-Security-Policy")
	img := "img-src data:;"
	if images {
		img = "img-src data: https:;"
	}
	for _, w := range []string{"default-src 'none'", "style-src 'unsafe-inline'", img, "frame-ancestors 'self'", "sandbox"} {
		if !strings.Contains(csp, w) {
			t.Errorf("email preview CSP %q lacks %q", csp, w)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "allow-") {
		t.Errorf("email preview CSP %q lets script run", csp)
	}
	if p.header.Get("X-Frame-Options") != "SAMEORIGIN" || p.header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("email preview headers: %v", p.header)
	}
	if got := strings.Contains(p.body, `src="https://cdn.example.com/logo.png"`); got != images {
		t.Errorf("remote image in the email preview: %v, want %v:\n%s", got, images, p.body)
	}
	if !strings.Contains(p.body, `src="data:image/gif;base64,R0lGODlhAQABAAAAACw="`) {
		t.Errorf("the email's data: image is gone:\n%s", p.body)
	}
}

func TestTemplatesEmailPreviewSandbox(t *testing.T) {
	e := newTplEnv(t)
	g := e.gallery()
	b := e.as("viewer@a.example")
	p := b.get("/templates/" + g.email.ID + "/email-preview")
	want(t, p, http.StatusOK, `<h1 style="color:#333">Hi {{name}}</h1>`, `alt="Logo"`)
	checkEmailPolicy(t, p, false)
	p = b.get("/templates/" + g.email.ID + "/email-preview?images=1")
	checkEmailPolicy(t, p, true)
	// The console's own pages may frame it, and nothing else.
	csp := b.get("/templates").header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("console CSP %q: want frame-src 'self' and still frame-ancestors 'none'", csp)
	}
	want(t, b.get("/templates/"+g.sms.ID+"/email-preview"), http.StatusNotFound)
}

func TestTemplatesRoles(t *testing.T) {
	e := newTplEnv(t)
	g := e.gallery()
	v := e.as("viewer@a.example")
	form := url.Values{"name": {"X"}, "channel": {"sms"}, "body": {"x"}, "base": {"1"}}
	for _, path := range []string{"/templates/new", "/templates/" + g.gsm.ID + "/edit", "/templates/" + g.draft.ID + "/publish",
		"/templates/" + g.gsm.ID + "/delete", "/templates/email-preview"} {
		want(t, v.post(path, form), http.StatusForbidden, "Your role (viewer) cannot do this")
	}
	want(t, v.get("/templates/new"), http.StatusForbidden)
	// A viewer reads a template and its versions, and cannot change it.
	p := v.get("/templates/" + g.gsm.ID + "/edit")
	want(t, p, http.StatusOK, "can read templates but not change them", `<fieldset class="bare" disabled>`, "Versions")
	for _, s := range []string{"Save changes", "Delete template", "Preview email"} {
		if strings.Contains(p.body, s) {
			t.Errorf("a viewer is offered %q", s)
		}
	}
	if got, _ := e.get("ws_a", g.draft.ID); got.Status != notify.TemplateDraft {
		t.Error("a viewer published")
	}
	if _, err := e.get("ws_a", g.gsm.ID); err != nil || len(e.audited("ws_a")) != 0 {
		t.Errorf("a viewer changed something: %v %v", err, e.audited("ws_a"))
	}
}

func TestTemplatesOtherWorkspace(t *testing.T) {
	e := newTplEnv(t)
	g := e.gallery()
	b := e.as("admin@a.example")
	id := g.other.ID
	want(t, b.get("/templates/"+id+"/edit"), http.StatusNotFound)
	want(t, b.get("/templates/"+id+"/email-preview"), http.StatusNotFound)
	want(t, b.post("/templates/"+id+"/edit", url.Values{"name": {"Mine now"}, "channel": {"sms"}, "body": {"x"}, "base": {"1"}}), http.StatusNotFound)
	want(t, b.post("/templates/"+id+"/publish", nil), http.StatusNotFound)
	want(t, b.post("/templates/"+id+"/delete", nil), http.StatusNotFound)
	if got, err := e.get("ws_b", id); err != nil || got.Name != "Other workspace secret" || got.Version != 1 {
		t.Fatalf("ws_b's template after ws_a's attempts: %+v %v", got, err)
	}
}

func TestTemplatesPublishEditVersions(t *testing.T) {
	e := newTplEnv(t)
	g := e.gallery()
	b := e.as("editor@a.example")
	b.get("/templates?label=promo")
	// One click publishes a draft and comes back to the same view.
	p := b.post("/templates/"+g.draft.ID+"/publish", url.Values{"label": {"promo"}})
	if p.status != http.StatusSeeOther || p.loc != "/templates?done=template-published&label=promo" {
		t.Fatalf("publish: %d %q\n%s", p.status, p.loc, p.body)
	}
	got, _ := e.get("ws_a", g.draft.ID)
	if got.Status != notify.TemplatePublished || got.Version != 2 || got.Body != g.draft.Body {
		t.Fatalf("published: %+v", got)
	}
	want(t, b.get(p.loc), http.StatusOK, "Template published: it can be sent.")

	// An edit is the next version; the editor lists every version with its date.
	edit := b.get("/templates/" + g.draft.ID + "/edit")
	want(t, edit, http.StatusOK, `name="base" value="2"`, "Save changes")
	form := url.Values{"name": {"Welcome"}, "channel": {"push"}, "title": {"Welcome!"}, "body": {"Glad you are here, {{name}}."}, "route": {"home"}, "base": {"2"}}
	p = b.post("/templates/"+g.draft.ID+"/edit", form)
	if p.status != http.StatusSeeOther || p.loc != "/templates/"+g.draft.ID+"/edit?done=template-saved" {
		t.Fatalf("save: %d %q\n%s", p.status, p.loc, p.body)
	}
	edit = b.get(p.loc)
	when := e.clock.Now().UTC().Format("2006-01-02 15:04 UTC")
	want(t, edit, http.StatusOK, "Template saved as a new version.", "Version 3 · saved "+when,
		`<td data-label="Version">3 (latest)</td>`, `<td data-label="Saved">`+when+`</td>`, "Shown above",
		`<a href="/templates/`+g.draft.ID+`/edit?version=2">Open version 2</a>`, `<a href="/templates/`+g.draft.ID+`/edit?version=1">Open version 1</a>`,
		`<td data-label="Status">Draft</td>`)
	// An old version opens in the editor: saving it makes it the latest.
	old := b.get("/templates/" + g.draft.ID + "/edit?version=1")
	want(t, old, http.StatusOK, "You are looking at version 1 of 3", `value="Welcome draft"`, `name="base" value="3"`)
	want(t, b.get("/templates/"+g.draft.ID+"/edit?version=9"), http.StatusNotFound)

	// Saving over a version someone saved meanwhile is refused, keeping the text.
	form.Set("body", "My edit that must not be lost")
	p = b.post("/templates/"+g.draft.ID+"/edit", form)
	want(t, p, http.StatusConflict, "Someone saved version 3 of this template after you opened version 2", "My edit that must not be lost</textarea>")

	wantAudit := []string{
		"template.update " + g.draft.ID + " by operator editor@a.example",
		"template.publish " + g.draft.ID + " by operator editor@a.example",
	}
	if diff := cmp.Diff(wantAudit, e.audited("ws_a")); diff != "" {
		t.Errorf("audit, newest first (-want +got):\n%s", diff)
	}
}

func TestTemplatesDelete(t *testing.T) {
	e := newTplEnv(t)
	g := e.gallery()
	b := e.as("editor@a.example")
	want(t, b.get("/templates/"+g.gsm.ID+"/edit"), http.StatusOK, "Delete this template", "Deleting removes “Code ready” and its 1 version.")
	p := b.post("/templates/"+g.gsm.ID+"/delete", nil)
	if p.status != http.StatusSeeOther || p.loc != "/templates?done=template-deleted" {
		t.Fatalf("delete: %d %q", p.status, p.loc)
	}
	if _, err := e.get("ws_a", g.gsm.ID); !notify.IsCode(err, notify.CodeNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if diff := cmp.Diff([]string{"template.delete " + g.gsm.ID + " by operator editor@a.example"}, e.audited("ws_a")); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	want(t, b.get("/templates/"+g.gsm.ID+"/edit"), http.StatusNotFound)
}

func TestTemplatesWhatsAppEditor(t *testing.T) {
	e := newTplEnv(t)
	b := e.as("editor@a.example")
	form := url.Values{"name": {"Confirm"}, "channel": {"whatsapp"}, "body": {"Hola {{1}}, tu cita es el {{2}}."}, "route": {"home"},
		"wa.name": {"appointment_confirm"}, "wa.language": {"es"}, "wa.category": {"utility"}, "wa.parameters": {"name\n{{date}}\n"},
		"button.label": {"Sí", "No"}, "button.id": {"yes", ""}, "button.route": {"home", ""}, "status": {"published"}}
	p := b.post("/templates/new", form)
	m := regexp.MustCompile(`/templates/(tpl_[a-z0-9]+)/edit`).FindStringSubmatch(p.loc)
	if p.status != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %q\n%s", p.status, p.loc, p.body)
	}
	got, _ := e.get("ws_a", m[1])
	wantWA := &notify.WhatsAppTemplate{Name: "appointment_confirm", Language: "es", Category: "utility", Parameters: []string{"name", "date"},
		Buttons: []notify.Button{{ID: "yes", Label: "Sí"}, {ID: "no", Label: "No"}}}
	if diff := cmp.Diff(wantWA, got.WhatsApp); diff != "" || got.Push != nil || got.Status != notify.TemplatePublished {
		t.Errorf("WhatsApp template (-want +got):\n%s\npush %v status %s", diff, got.Push, got.Status)
	}
	want(t, b.get(p.loc), http.StatusOK, `<ul class="tp-replies" aria-label="Quick replies"><li>Sí</li><li>No</li></ul>`,
		"<code>{{2}}</code> is filled with <code>{{date}}</code>", "name\ndate</textarea>")
}
