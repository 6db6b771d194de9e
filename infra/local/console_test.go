package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/browsertest"
)

// The console's journeys (../shared/CONSOLE.md 1–4, 9, and the operator's
// side of 11 and 12), walked in a real Chromium against the local server
// as a person does: by labels, button names and text. Every screen is
// saved under build/screenshots/ and checked for accessibility basics and
// console errors (a CSP violation is one).

const (
	adminEmail    = "admin@herald.local"
	adminPassword = "correct horse battery staple"
)

// consoleServer runs the local server with an admin and a short Undo.
func consoleServer(t *testing.T, extra map[string]string) *localServer {
	t.Helper()
	env := map[string]string{"HERALD_ADMIN_EMAIL": adminEmail, "HERALD_ADMIN_PASSWORD": adminPassword, "HERALD_CONSOLE_UNDO": "2s"}
	for k, v := range extra {
		env[k] = v
	}
	return startLocal(t, t.TempDir(), env)
}

// signIn opens the console and signs in.
func signIn(t *testing.T, s *localServer, email, password string) *browsertest.Browser {
	t.Helper()
	b := browsertest.Start(t)
	b.Visit(s.base + "/")
	if !strings.Contains(b.URL(), "/login") {
		t.Fatalf("the console's root opened %s, want the sign-in page", b.URL())
	}
	b.FillLabel("Email", email)
	b.FillLabel("Password", password)
	b.ClickButton("Sign in")
	b.WaitText("Sign out", 0)
	return b
}

// screen checks the page a person sees and saves it. Pages that answer a
// mistake with its status (401 for a wrong password, 422 for a bad form)
// are logged by Chromium as failed loads: those are expected; any other
// console error (a script error, a CSP violation, a missing asset) fails.
func screen(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	b.CheckAccessible()
	b.Screenshot(name)
	for _, e := range b.ConsoleErrors() {
		if !expectedStatus.MatchString(e) {
			t.Fatalf("console error on %s: %s\npage:\n%s", name, e, b.Text())
		}
	}
}

var expectedStatus = regexp.MustCompile(`^network: Failed to load resource: the server responded with a status of (401|403|404|409|422|429) .*\(http://127\.0\.0\.1:\d+/(login|send|sends|users|history|settings|invite|reset|setup|templates|campaigns|conversations|preferences)`)

func (s *localServer) users(users ...map[string]any) {
	s.t.Helper()
	for _, u := range users {
		s.must(200, "PUT", "/v1/users/"+u["id"].(string), u)
	}
}

// waitStatus waits for a notification's status through the API.
func (s *localServer) waitStatus(id, status string) map[string]any {
	return s.waitFor("notification "+id+" "+status, func() map[string]any {
		return s.must(200, "GET", "/v1/notifications/"+id, nil)
	}, func(n map[string]any) bool { return n["status"] == status })
}

var historyID = regexp.MustCompile(`/history/([0-9A-Z]{26})`)

func TestConsoleSignIn(t *testing.T) {
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_SESSION_TTL": "6s"})
	b := browsertest.Start(t)
	b.Visit(s.base + "/users")
	b.WaitText("Sign in to Herald", 0)
	// The email field has the focus, and the keyboard alone reaches the
	// rest of the form, in order.
	if got := []string{b.Focused(), b.Tab(), b.Tab()}; got[0] != "Email" || got[1] != "Password" || got[2] != "Sign in" {
		t.Errorf("focus and tab order on the sign-in page: %q", got)
	}
	screen(t, b, "console-sign-in")
	b.FillLabel("Email", adminEmail)
	b.FillLabel("Password", "not the password")
	b.ClickButton("Sign in")
	b.WaitText("The email or password is wrong", 0)
	screen(t, b, "console-sign-in-wrong-password")
	b.FillLabel("Password", adminPassword)
	b.ClickButton("Sign in")
	b.WaitText("Sign out", 0)
	if !strings.HasSuffix(b.URL(), "/users") {
		t.Errorf("after sign-in: %s, want back to /users", b.URL())
	}
	for _, c := range b.Cookies() {
		if c.Name == "herald_session" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode) {
			t.Errorf("session cookie %+v: want HttpOnly and SameSite=Lax", c)
		}
	}
	// A state-changing request without the form's token is refused.
	var status int
	b.Eval(`fetch("/send/confirm", {method: "POST", body: new URLSearchParams({user: "u1", channel: "sms", body: "x", expectedCount: "1"})}).then(r => r.status)`, &status)
	if status != 403 {
		t.Errorf("POST without the CSRF token answered %d, want 403", status)
	}
	// The session ends by itself.
	time.Sleep(7 * time.Second)
	b.Visit(s.base + "/history")
	b.WaitText("Your session has ended", 0)
	screen(t, b, "console-session-ended")
}

// Journeys 2 and 9: filter users, see N, send to N, held to the count,
// Undo available, then watch it complete in History.
func TestConsoleSendToManyUsers(t *testing.T) {
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_DESTINATIONS": "home=Home,offers=Offers,bills=My bills"})
	for i := range 5 {
		status := "active"
		if i == 4 {
			status = "inactive"
		}
		s.users(map[string]any{"id": fmt.Sprintf("c%d", i), "name": fmt.Sprintf("Cliente %d", i), "email": fmt.Sprintf("c%d@example.com", i), "status": status})
	}
	// Two with a device and push allowed: the push-enabled segment.
	for _, id := range []string{"c0", "c1"} {
		s.must(201, "POST", "/v1/users/"+id+"/devices", map[string]any{"kind": "fcm", "token": "tok-" + id})
		s.must(200, "PUT", "/v1/users/"+id+"/push-permission", map[string]any{"status": "allowed"})
	}
	b := signIn(t, s, adminEmail, adminPassword)
	b.WaitText("Cliente 4", 0)
	screen(t, b, "console-users")

	b.FillLabel("Status", "active")
	b.Select("Channel", "Email")
	b.WaitText("Send notification to 4 users", 0)
	b.Select("Push enabled", "Yes")
	b.Select("Channel", "Mobile push")
	b.WaitText("Send notification to 2 users", 0)
	b.Select("Push enabled", "Any")
	b.Select("Channel", "Email")
	b.WaitText("Send notification to 4 users", 0)
	b.ClickButton("Apply filters")
	b.WaitText("Send notification to 4 users", 0)
	if strings.Contains(b.Text(), "Cliente 4") {
		t.Error("the inactive user is listed under status active")
	}
	screen(t, b, "console-users-filtered")

	b.ClickLink("Send notification to 4 users")
	b.WaitText("Audience: Users: status active", 0)
	b.FillLabel("Title", "Ahorra en tu factura")
	b.FillLabel("Message", "Hola {{name}}, mira tu consumo por horas en la función nueva.")
	b.Select("Destination", "My bills")
	b.WaitText("Hola Cliente ", 0) // the preview for a sample recipient
	screen(t, b, "console-send-many")
	b.ClickButton("Send notification to 4 users")
	b.WaitText("This notification goes to 4 users", 0)
	b.WaitText("Once sent, this action cannot be undone.", 0)
	screen(t, b, "console-send-confirm")

	// Someone joins the segment before the operator confirms.
	s.users(map[string]any{"id": "c5", "name": "Cliente 5", "email": "c5@example.com", "status": "active"})
	b.ClickButton("Send notification")
	b.WaitText("The audience changed since you looked: it is now 5 users.", 0)
	screen(t, b, "console-send-audience-changed")
	b.ClickButton("Send notification")
	b.WaitText("Undo", 0)
	screen(t, b, "console-send-undo")
	m := historyID.FindStringSubmatch(b.URL())
	if m == nil {
		t.Fatalf("after sending the page is %s, want /history/<id>", b.URL())
	}
	n := s.waitStatus(m[1], "completed")
	if n["audience"].(map[string]any)["count"] != 5.0 || n["route"] != "bills" || n["createdBy"] != "operator "+adminEmail {
		t.Errorf("the console's send: %v", n)
	}
	b.WaitText("completed", 10*time.Second) // the page follows the send live
	b.WaitText("c5@example.com", 10*time.Second)
	screen(t, b, "console-notification")
	out := s.must(200, "GET", "/v1/outbox?channel=email", nil)
	if got := len(out["items"].([]any)); got != 5 {
		t.Errorf("outbox has %d emails, want 5", got)
	}
	// History finds it by a word of its message written without the
	// accent and in capitals.
	b.ClickLink("History")
	b.FillLabel("Search", "FUNCION")
	b.ClickButton("Search")
	b.WaitText("Ahorra en tu factura", 0)
}

// Journey 1 with the Undo: a mistake caught at once sends nothing.
func TestConsoleSendToOneAndUndo(t *testing.T) {
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_UNDO": "10s"})
	s.users(map[string]any{"id": "u1", "name": "Ana Pérez", "phone": "+34600123456", "email": "ana@example.com"})
	b := signIn(t, s, adminEmail, adminPassword)
	b.ClickLink("u1")
	b.WaitText("Ana Pérez", 0)
	screen(t, b, "console-user")
	b.ClickLink("Send notification")
	b.WaitText("This notification goes to one person", 0)
	// With the keyboard alone: every control of the form in order, then
	// the message typed and the form sent with Enter.
	var order []string
	for range 40 {
		name := b.Tab()
		order = append(order, name)
		if name == "Send notification" {
			break
		}
	}
	joined := strings.Join(order, " | ")
	for _, want := range []string{"Channel", "Title", "Message", "Generate with AI", "Destination", "Image URL", "Icon URL", "Button 1 text", "Kind of notification", "Variables", "Send notification"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Tab never reaches %q on the send form: %s", want, joined)
		}
	}
	b.Select("Channel", "SMS")
	for b.Focused() != "Message" {
		b.Tab()
	}
	b.Press("H") // typed, not set: the preview follows the keys
	b.FillLabel("Message", "Hola {{name}}, tu factura ya está disponible ✓")
	b.WaitText("Hola Ana Pérez, tu factura ya está disponible ✓", 0)
	b.WaitText("1 SMS segment (UCS-2)", 0)
	b.Phone()
	screen(t, b, "console-send-one-phone")
	b.SetViewport(1280, 900)
	for b.Focused() != "Send notification" {
		b.Tab()
	}
	b.Press("Enter")
	b.WaitText("This notification goes to Ana Pérez", 0)
	b.ClickButton("Send notification")
	b.WaitText("Undo", 0)
	b.ClickButton("Undo")
	b.WaitText("Cancelled: nothing more will be sent.", 0)
	m := historyID.FindStringSubmatch(b.URL())
	if m == nil {
		t.Fatalf("after Undo: %s", b.URL())
	}
	time.Sleep(11 * time.Second) // past the time it would have gone
	n := s.must(200, "GET", "/v1/notifications/"+m[1], nil)
	if n["status"] != "cancelled" {
		t.Errorf("undone send is %v, want cancelled", n["status"])
	}
	if out := s.must(200, "GET", "/v1/outbox?channel=sms", nil); len(out["items"].([]any)) != 0 {
		t.Errorf("an undone send reached the outbox: %v", out)
	}
}

// Journeys 3 and 4: Generate with AI with a fake model, then find the send
// in History by a word without its accent and open it: recipients with
// their addresses, the content with its variables unrendered.
func TestConsoleAIAndHistory(t *testing.T) {
	// Three variants: what the console asks for.
	args, _ := json.Marshal(`{"language":"es","variants":[{"title":"{{name}}, mira tu consumo","body":"Descubre a qué horas gastas más y ahorra en la factura."},` +
		`{"title":"Tu consumo, hora a hora","body":"{{name}}, ya puedes verlo en la app."},{"title":"Nuevo: consumo por horas","body":"Entra en la app, {{name}}."}]}`)
	fake := &modelFake{answer: `{"choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"submit_variants","arguments":` +
		string(args) + `}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":800,"completion_tokens":90}}`}
	model := httptest.NewServer(fake)
	defer model.Close()
	s := consoleServer(t, map[string]string{"HERALD_COMPOSE_PROVIDER": "openai", "HERALD_OPENAI_BASE_URL": model.URL + "/v1", "HERALD_OPENAI_MODEL": "llama3.2", "HERALD_CONSOLE_UNDO": "0s"})
	s.users(map[string]any{"id": "u1", "name": "Ana", "email": "ana@example.com"}, map[string]any{"id": "u2", "name": "Luis", "email": "luis@example.com"})
	b := signIn(t, s, adminEmail, adminPassword)
	b.Visit(s.base + "/send?channel=email")
	b.FillLabel("Message", "Hola {{name}}") // variables written are kept in what the AI writes
	b.ClickButton("Generate with AI")       // the <summary> opens the panel
	b.Select("Tone", "Activation")
	b.Select("Category", "Energy savings")
	b.FillLabel("What is it about?", "Nueva función: consumo por horas")
	b.FillLabel("Language", "es")
	b.ClickButton("Generate notification")
	b.WaitText("Tu consumo, hora a hora", 0)
	screen(t, b, "console-ai-variants")
	if len(fake.requests) != 1 {
		t.Fatalf("the model was asked %d times", len(fake.requests))
	}
	// The second variant into the form with one click.
	b.Eval(`document.querySelectorAll("#variants button")[1].click(), true`, nil)
	if got := b.Value("Title"); got != "Tu consumo, hora a hora" {
		t.Fatalf("after Use this text the title is %q", got)
	}
	b.ClickButton("Send notification to 2 users")
	b.WaitText("This notification goes to 2 users", 0)
	b.ClickButton("Send notification")
	b.WaitText("Accepted", 0)
	id := historyID.FindStringSubmatch(b.URL())[1]
	s.waitStatus(id, "completed")

	b.ClickLink("History")
	b.FillLabel("Search", "TU CONSUMO")
	b.ClickButton("Search")
	b.WaitText("Tu consumo, hora a hora", 0)
	b.FillLabel("Search", "inexistente")
	b.ClickButton("Search")
	b.WaitText("Nothing matches", 0)
	b.FillLabel("Search", "hora")
	b.Select("Type", "Email")
	b.ClickButton("Search")
	b.WaitText("Tu consumo, hora a hora", 0)
	screen(t, b, "console-history")
	b.ClickLink("Tu consumo, hora a hora")
	b.WaitText("luis@example.com", 0)
	text := b.Text()
	for _, want := range []string{"ana@example.com", "{{name}}, ya puedes verlo en la app.", "Recipients\n2", "Download the result spreadsheet"} {
		if !strings.Contains(text, want) {
			t.Errorf("the notification's page lacks %q:\n%s", want, text)
		}
	}
	screen(t, b, "console-history-notification")
	// A phone's width.
	b.Phone()
	b.Visit(s.base + "/history")
	screen(t, b, "console-history-phone")
}

// A viewer sees everything and can change nothing; invitations by link.
func TestConsoleViewerAndInvitation(t *testing.T) {
	s := consoleServer(t, nil)
	s.users(map[string]any{"id": "u1", "name": "Ana", "email": "ana@example.com"})
	admin := signIn(t, s, adminEmail, adminPassword)
	admin.ClickLink("Settings")
	admin.ClickLink("Operators")
	admin.FillLabel("Email", "viewer@herald.local")
	admin.Select("Role", "viewer")
	admin.ClickButton("Create invitation link")
	admin.WaitText("Invitation for viewer@herald.local as viewer", 0)
	screen(t, admin, "console-operators")
	link := admin.Value("Link")

	v := browsertest.Start(t)
	v.Visit(link)
	v.WaitText("You were invited as viewer", 0)
	v.FillLabel("Your name", "Vera")
	v.FillLabel("New password", "a long enough password")
	v.ClickButton("Join and sign in")
	v.WaitText("Sign out", 0)
	v.ClickLink("u1")
	v.WaitText("Ana", 0)
	if strings.Contains(v.Text(), "Send notification") || strings.Contains(v.Text(), "Save preferences") {
		t.Error("a viewer is offered sending or saving")
	}
	screen(t, v, "console-user-viewer")
	var status int
	v.Eval(`fetch("/send/confirm", {method: "POST", headers: {"X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content},
		body: new URLSearchParams({user: "u1", channel: "email", title: "x", body: "x", expectedCount: "1"})}).then(r => r.status)`, &status)
	if status != 403 {
		t.Errorf("a viewer's send answered %d, want 403", status)
	}
	admin.Visit(s.base + "/settings/audit")
	admin.WaitText("operator.invite", 0)
	admin.WaitText("operator.join", 0)
	screen(t, admin, "console-audit")
}

// Journeys 11 and 12 from the operator's side: the user's switches, read
// and edited, and a person active in the app holds other channels back,
// which the user's page and the delivery both say.
func TestConsolePreferencesAndPresence(t *testing.T) {
	s := consoleServer(t, map[string]string{"HERALD_CONSOLE_UNDO": "0s"})
	s.users(map[string]any{"id": "u1", "name": "Ana", "email": "ana@example.com"})
	s.must(200, "POST", "/v1/users/u1/presence", map[string]any{"active": true, "ttlSeconds": 600})
	b := signIn(t, s, adminEmail, adminPassword)
	b.Visit(s.base + "/users/u1")
	b.WaitText("Active now", 0)
	b.Uncheck("SMS")
	b.ClickButton("Save preferences")
	b.WaitText("Preferences saved.", 0)
	screen(t, b, "console-user-preferences")
	prefs := s.must(200, "GET", "/v1/users/u1/preferences", nil)
	if ch := prefs["channels"].(map[string]any); ch["sms"] != false || ch["email"] != true {
		t.Errorf("preferences after the console saved them: %v", prefs)
	}
	b.ClickLink("Send notification")
	b.Select("Channel", "Email")
	b.FillLabel("Title", "Recordatorio")
	b.FillLabel("Message", "Tu cita es mañana")
	b.ClickButton("Send notification")
	b.WaitText("This notification goes to Ana", 0)
	b.ClickButton("Send notification")
	id := historyID.FindStringSubmatch(b.URL())[1]
	s.waitStatus(id, "completed")
	b.Visit(s.base + "/history/" + id)
	b.WaitText("skipped", 0)
	b.WaitText("active in the app", 0)
	b.Visit(s.base + "/users/u1")
	b.WaitText("Recordatorio", 0)
	screen(t, b, "console-user-history")
}
