package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/infra/browsertest"
)

// Journey 10 (../shared/CONSOLE.md; seeds 002 and 003): the template
// gallery with each channel's preview, and the editor of push assets with
// content variations, labels and buttons, as a person uses them.

var editedID = regexp.MustCompile(`/templates/(tpl_[a-z0-9]+)/edit`)

// cardsShown are the names of the gallery's cards on the page.
func cardsShown(t *testing.T, b *browsertest.Browser) []string {
	t.Helper()
	var names []string
	b.Eval(`[...document.querySelectorAll('.card h2')].map(h => h.textContent.trim())`, &names)
	return names
}

func wantCards(t *testing.T, b *browsertest.Browser, what string, want ...string) {
	t.Helper()
	if got := cardsShown(t, b); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: the gallery shows %q, want %q", what, got, want)
	}
}

func TestConsoleTemplates(t *testing.T) {
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_DESTINATIONS": "home=Home,offers=Offers"})
	// A draft, as AI composition leaves one, an email and an SMS, made
	// through the API.
	draft := s.must(201, "POST", "/v1/templates", map[string]any{"name": "Welcome draft", "channel": "push", "title": "Welcome", "body": "Glad you are here.", "status": "draft"})
	if draft["status"] != "draft" {
		t.Fatalf("the API made %v, want a draft", draft)
	}
	email := s.must(201, "POST", "/v1/templates", map[string]any{"name": "Invoice", "channel": "email", "body": "Hi {{name}}, your invoice is ready.", "labels": []string{"billing"},
		"email": map[string]any{"subject": "Your invoice", "html": `<div style="font-family:sans-serif;padding:12px;border-top:6px solid #0b5cad"><h1 style="color:#14243a">Hi {{name}}</h1>` +
			`<p style="color:#333">Your invoice for <b>{{month}}</b> is ready.</p><img src="https://cdn.example.com/logo.png" alt="Company logo" width="120" height="40"></div>`}})
	s.must(201, "POST", "/v1/templates", map[string]any{"name": "Cobrança", "channel": "sms", "body": "Olá {{name}}, sua fatura de março está disponível. Pague até sexta para evitar a suspensão do serviço.", "labels": []string{"billing"}})

	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("Templates")
	b.WaitText("3 templates", 0)

	// A push resource: name, title, message, icon, image, buttons, a
	// Spanish variation and labels, previewed as it is typed.
	b.ClickLink("Create template")
	b.WaitText("New template", 0)
	b.FillLabel("Name", "Spring offer")
	b.Select("Channel", "Mobile push")
	b.FillLabel("Labels", "promo, spring")
	b.FillLabel("Title", "Spring is here, {{name}}")
	b.FillLabel("Message", "20% off everything today.")
	b.FillLabel("Icon URL", "https://cdn.example.com/icon.png")
	b.FillLabel("Image URL", "https://cdn.example.com/img/banner.png")
	b.ClickButton("Add button")
	b.FillLabel("Button 1 text", "Shop now")
	b.ClickButton("Add button")
	b.FillLabel("Button 2 text", "Later")
	b.Select("Button 2 destination", "Offers")
	b.ClickButton("Add language")
	b.FillLabel("Variation 1 language", "es")
	b.FillLabel("Variation 1 title", "Llegó la primavera, {{name}}")
	b.FillLabel("Variation 1 message", "20% en todo hoy.")
	b.WaitText("Llegó la primavera, {{name}}", 0) // the live preview
	b.WaitText("iOS shows the image only if the app has a notification service extension that downloads it.", 0)
	b.WaitText("iOS shows the buttons only if the app registered the notification category herald.shop-now.later.", 0)
	screen(t, b, "console-templates-editor-push")
	b.ClickButton("Publish")
	b.WaitText("Template created.", 0)
	m := editedID.FindStringSubmatch(b.URL())
	if m == nil {
		t.Fatalf("after creating, the page is %s", b.URL())
	}
	got := s.must(200, "GET", "/v1/templates/"+m[1], nil)
	es, _ := got["variations"].(map[string]any)["es"].(map[string]any)
	push, _ := got["push"].(map[string]any)
	if got["status"] != "published" || es["body"] != "20% en todo hoy." || strings.Join(anyStrings(got["labels"]), ",") != "promo,spring" ||
		push["image"] != "https://cdn.example.com/img/banner.png" || len(push["buttons"].([]any)) != 2 {
		t.Errorf("the console's template through the API: %v", got)
	}

	// The gallery shows it as the phone does, with what some phones leave out.
	b.ClickLink("Templates")
	b.WaitText("Spring is here, {{name}}", 0)
	for _, want := range []string{"banner.png", "from cdn.example.com", "Shop now", "Later", "Also in es.", "Not every device shows everything",
		"iOS always shows the app's icon", "UCS-2", "Subject Your invoice", "1 remote image is not loaded."} {
		if !strings.Contains(b.Text(), want) {
			t.Errorf("the gallery lacks %q:\n%s", want, b.Text())
		}
	}
	screen(t, b, "console-templates-gallery")

	// Filters: by label, by channel; search by name.
	b.Select("Label", "promo")
	b.ClickButton("Filter")
	b.WaitText("1 of 4 templates match", 0)
	wantCards(t, b, "label promo", "Spring offer")
	b.Select("Label", "billing")
	b.Select("Channel", "SMS")
	b.ClickButton("Filter")
	b.WaitText("1 of 4 templates match", 0)
	wantCards(t, b, "label billing, SMS", "Cobrança")
	b.WaitText("UCS-2 · 102 characters · 2 segments", 0)
	screen(t, b, "console-templates-sms")
	b.ClickLink("Clear")
	b.WaitText("4 templates", 0)
	b.FillLabel("Search by name", "SPRING")
	b.ClickButton("Filter")
	b.WaitText("1 of 4 templates match", 0)
	wantCards(t, b, "search SPRING", "Spring offer")
	screen(t, b, "console-templates-search")

	// The email's HTML in a sandbox of its own: no script, no remote image
	// until asked.
	b.ClickLink("Clear")
	b.Select("Channel", "Email")
	b.ClickButton("Filter")
	b.WaitText("1 remote image is not loaded.", 0)
	var frame struct {
		Sandbox string `json:"sandbox"`
		Src     string `json:"src"`
		CSP     string `json:"csp"`
	}
	b.Eval(`(async () => {
		const f = document.querySelector('iframe.tp-frame');
		const r = await fetch(f.src);
		return {sandbox: f.getAttribute('sandbox'), src: f.getAttribute('src'), csp: r.headers.get('content-security-policy')};
	})()`, &frame)
	if frame.Sandbox != "" || frame.Src != "/templates/"+email["id"].(string)+"/email-preview" ||
		!strings.Contains(frame.CSP, "img-src data:;") || !strings.Contains(frame.CSP, "sandbox") || strings.Contains(frame.CSP, "script-src") {
		t.Errorf("the email's frame: %+v", frame)
	}
	screen(t, b, "console-templates-email")

	// What the frame holds: images off, only the placeholder.
	if html := framedEmail(t, b, "Hi {{name}}"); strings.Contains(html, "cdn.example.com") || !strings.Contains(html, `src="data:image/svg+xml`) {
		t.Errorf("the gallery's email frame loads the remote image:\n%s", html)
	}

	// In the editor the email is previewed as it is typed, in the same
	// sandbox, without adding a page to the browser's history each time;
	// a script in the email does not run.
	b.ClickLink("Edit Invoice")
	b.WaitText("The email's HTML", 0)
	var pages, pagesAfter int
	b.Eval(`history.length`, &pages)
	b.FillLabel("HTML", `<p style="color:#b3261e;font-size:20px">Changed for {{name}}</p><script>document.body.append("SCRIPT RAN")</script>`)
	if html := framedEmail(t, b, "Changed for {{name}}"); strings.Contains(html, "SCRIPT RAN</body>") {
		t.Errorf("the email's script ran in the preview:\n%s", html)
	}
	b.Eval(`history.length`, &pagesAfter)
	if pagesAfter != pages {
		t.Errorf("typing added %d pages to the history", pagesAfter-pages)
	}
	// Without the script the button does the same. (Headless Chromium
	// repaints a frame of another process on input: this also makes the
	// screenshot show what the frame holds.)
	b.FillLabel("Subject", "Your invoice is ready")
	b.WaitText("Subject Your invoice is ready", 0)
	b.ClickButton("Preview email")
	framedEmail(t, b, "Changed for {{name}}")
	screen(t, b, "console-templates-editor-email")
	b.ClickLink("All templates")
	b.WaitText("4 templates", 0)

	// A WhatsApp template with quick replies, seen as its bubble.
	b.ClickLink("Create template")
	b.WaitText("New template", 0)
	b.FillLabel("Name", "Appointment")
	b.Select("Channel", "WhatsApp")
	b.FillLabel("Message", "Hola {{1}}, ¿confirmas tu cita del {{2}}?")
	b.FillLabel("Approved template name", "appointment_confirm")
	b.FillLabel("Template language", "es")
	b.Select("Template category", "Utility")
	b.FillLabel("Parameters", "name\ndate")
	b.ClickButton("Add button")
	b.FillLabel("Button 1 text", "Sí, confirmo")
	b.ClickButton("Add button")
	b.FillLabel("Button 2 text", "Cambiar")
	b.WaitText("{{2}} is filled with {{date}}", 0)
	b.WaitText("Approved template appointment_confirm · es · utility", 0)
	screen(t, b, "console-templates-editor-whatsapp")
	b.ClickButton("Publish")
	b.WaitText("Template created.", 0)
	b.ClickLink("Templates")
	b.Select("Channel", "WhatsApp")
	b.ClickButton("Filter")
	b.WaitText("1 of 5 templates match", 0)
	var replies []string
	b.Eval(`[...document.querySelectorAll('.tp-replies li')].map(li => li.textContent)`, &replies)
	if strings.Join(replies, "|") != "Sí, confirmo|Cambiar" {
		t.Errorf("the bubble's quick replies: %q", replies)
	}
	screen(t, b, "console-templates-whatsapp")

	// A draft is published in one click, and its versions are listed.
	b.ClickLink("Clear")
	b.Select("Status", "Draft")
	b.ClickButton("Filter")
	b.WaitText("A draft cannot be sent until it is published.", 0)
	b.ClickButton("Publish Welcome draft")
	b.WaitText("Template published: it can be sent.", 0)
	if got := s.must(200, "GET", "/v1/templates/"+draft["id"].(string), nil); got["status"] != "published" || got["version"] != 2.0 {
		t.Errorf("after Publish: %v", got)
	}
	screen(t, b, "console-templates-published")
	b.ClickLink("Clear")
	b.ClickLink("Edit Welcome draft")
	b.WaitText("Versions", 0)
	b.WaitText("Open version 1", 0)
	screen(t, b, "console-templates-versions")

	// At a phone's width the gallery is one column of cards.
	b.Phone()
	b.ClickLink("All templates")
	b.WaitText("5 templates", 0)
	screen(t, b, "console-templates-gallery-phone")
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// framedEmail waits until the email preview's frame (a frame of another
// process: sandboxed, it has an origin of its own) holds want, and
// returns its HTML.
func framedEmail(t *testing.T, b *browsertest.Browser, want string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	last := "(no email preview frame)"
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(b.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			if info.Type != "iframe" || !strings.Contains(info.URL, "/email-preview") {
				continue
			}
			ctx, cancel := chromedp.NewContext(b.Context(), chromedp.WithTargetID(info.TargetID), chromedp.WithDetachOnCancel())
			html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
			cancel()
			if err == nil && strings.Contains(html, want) {
				return html
			}
			last = html
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the email preview frame does not show %q; it holds:\n%s", want, last)
	return ""
}
