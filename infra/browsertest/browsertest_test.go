package browsertest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) { Main(m) }

// The pages of the tests, served with the Content Security Policy the
// console will have (no inline script), so that what works here works there.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'"

func htmlDoc(title, body string) string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + title + `</title></head>
<body>` + body + `</body></html>`
}

const formPage = `<h1>Contact</h1>
<form method="post" action="/submit">
  <label for="name">Name</label> <input id="name" name="name" value="old name">
  <label>Email <input type="email" name="email" value="old@example.com"></label>
  <label for="msg">Message</label> <textarea id="msg" name="message"></textarea>
  <label for="plan">Plan</label>
  <select id="plan" name="plan"><option value="free">Free</option><option value="pro">Pro plan</option></select>
  <fieldset><legend>Digest</legend>
    <label><input type="radio" name="digest" value="daily" checked> Daily</label>
    <label><input type="radio" name="digest" value="weekly"> Weekly</label>
  </fieldset>
  <input type="checkbox" id="terms" name="terms" value="yes"> <label for="terms">I agree to the terms</label>
  <input type="checkbox" id="news" name="news" value="yes" style="position:absolute;opacity:0;width:1px;height:1px">
  <label for="news" style="padding:4px;border:1px solid">Send me news</label>
  <label for="start">Start date</label> <input type="date" id="start" name="start">
  <button type="submit">Send</button>
</form>
<a href="/buttons">Buttons</a>`

const buttonsPage = `<h1>Users</h1>
<p id="count">0 users added</p>
<button type="button" id="add"><img src="/plus.svg" alt=""> Add <span>user</span></button>
<div role="button" tabindex="0" id="reset">Reset count</div>
<button type="button" disabled>Delete everything</button>
<button type="button" hidden>Secret</button>
<a href="/form">Back to the form</a>
<a href="/export.csv">Export CSV</a>
<a href="/nothing">Nothing here</a>
<script src="/buttons.js"></script>`

const buttonsJS = `
let n = 0;
const count = document.getElementById("count");
document.getElementById("add").addEventListener("click", () => { n++; count.textContent = n + " user" + (n === 1 ? "" : "s") + " added"; });
document.getElementById("reset").addEventListener("click", () => { n = 0; count.textContent = "0 users added"; });
`

const plusSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="12" height="12"><path d="M5 0h2v12H5zM0 5h12v2H0z"/></svg>`

// A page that passes every accessibility check; each case of
// TestAccessibilityRules breaks exactly one.
const goodPage = `<header><h1>Keys</h1></header>
<main>
  <h2>Create a key</h2>
  <form><label for="k">Key name</label> <input id="k" name="k">
  <label>Scope <select name="s"><option>read</option></select></label>
  <button type="submit">Create key</button></form>
  <h2>Your keys</h2>
  <table><thead><tr><th scope="col">Name</th><th scope="col">Created</th></tr></thead>
  <tbody><tr><td>ci</td><td>today</td></tr></tbody></table>
  <h3>Old keys</h3>
  <p style="color:#767676">Grey text that still reads (4.54:1).</p>
  <p style="background:#1a1a1a;color:#fff">Light on dark.</p>
  <p style="color:#949494;font-size:24px">Large grey text (3:1 is enough).</p>
  <img src="/plus.svg" alt="Plus">
  <a href="/form">Contact</a>
</main>`

func TestAccessibilityRules(t *testing.T) {
	srv := serve(t)
	b := Start(t)

	b.Visit(srv.URL + "/a11y")
	if vs := b.Violations(); len(vs) != 0 {
		t.Fatalf("Violations() on the good page = %v, want none", vs)
	}
	b.CheckAccessible()

	tests := []struct {
		rule    string
		html    string // replaces <main>…</main> of the good page, or is added to it
		element string // a part of the described element
	}{
		{"html-lang", `<!-- lang removed below -->`, ""},
		{"control-name", `<input name="unlabelled" placeholder="Search">`, `input[name="unlabelled"]`},
		{"control-name", `<textarea name="notes"></textarea>`, `textarea[name="notes"]`},
		{"button-name", `<button type="button"><svg width="8" height="8"></svg></button>`, `button`},
		{"button-name", `<div role="button" tabindex="0"></div>`, `div`},
		{"link-name", `<a href="/x"><img src="/plus.svg" alt=""></a>`, `a`},
		{"image-alt", `<img src="/plus.svg">`, `img`},
		{"one-h1", `<h1>Second title</h1>`, `h1 "Second title"`},
		{"heading-order", `<h5>Too deep</h5>`, `h5 "Too deep"`},
		{"table-header", `<table id="bare"><tr><td>1</td></tr></table>`, `table#bare`},
		{"tabindex", `<a href="/y" tabindex="2">Jump</a>`, `a "Jump"`},
		{"contrast", `<p class="faint" style="color:#999">Faint grey on white (2.85:1).</p>`, `p.faint`},
		{"contrast", `<div style="background:#333"><span id="dark" style="color:#666">Dark on dark</span></div>`, `span#dark`},
		{"contrast", `<p id="alpha" style="color:rgba(0,0,0,0.3)">See-through text</p>`, `p#alpha`},
		{"contrast", `<p id="faded" style="opacity:0.3">Faded paragraph</p>`, `p#faded`},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			q := url.Values{"add": {tt.html}}
			if tt.rule == "html-lang" {
				q.Set("nolang", "1")
			}
			b.Visit(srv.URL + "/a11y?" + q.Encode())
			vs := b.Violations()
			var rules []string
			for _, v := range vs {
				rules = append(rules, v.Rule)
			}
			rules = slices.Compact(rules)
			if diff := cmp.Diff([]string{tt.rule}, rules); diff != "" {
				t.Fatalf("rules broken by %s (-want +got):\n%s\nviolations: %v", tt.html, diff, vs)
			}
			if !strings.Contains(vs[0].Element, tt.element) {
				t.Errorf("violation %v names %q, want it to name %q", vs[0], vs[0].Element, tt.element)
			}

			fake := &fakeTB{TB: t}
			fb := *b
			fb.t = fake
			fake.run(fb.CheckAccessible)
			if !strings.Contains(fake.msg, tt.rule+": ") || !strings.Contains(fake.msg, "not accessible") {
				t.Errorf("CheckAccessible failed with %q, want the violation of %s listed", fake.msg, tt.rule)
			}
		})
	}
}

func TestFormFilledAndSubmitted(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.Visit(srv.URL + "/form")
	if got, want := b.Title(), "Contact form"; got != want {
		t.Errorf("Title() = %q, want %q", got, want)
	}

	b.FillLabel("Name", "Ada Lovelace") // replaces "old name"
	b.FillLabel("Email", "ada@example.com")
	b.FillLabel("Message", "Zoë says hi\nBye")
	b.Select("Plan", "Pro plan")
	b.FillLabel("Start date", "2026-03-01")
	b.Check("Weekly")
	b.Check("I agree to the terms")
	b.Check("Send me news") // its input is hidden behind its styled label
	b.Check("Send me news") // a ticked box stays ticked
	if got := b.Value("Name"); got != "Ada Lovelace" {
		t.Errorf("Value(Name) after FillLabel = %q", got)
	}
	b.ClickButton("Send")

	// No WaitText: ClickButton waits for the page the form leads to.
	if got, want := b.URL(), srv.URL+"/submit"; got != want {
		t.Errorf("URL() after Send = %q, want %q", got, want)
	}
	if !strings.Contains(b.Text(), "Thanks, Ada Lovelace") {
		t.Errorf("Text() after Send = %q, want the thank-you page", b.Text())
	}
	want := url.Values{
		"name":    {"Ada Lovelace"},
		"email":   {"ada@example.com"},
		"message": {"Zoë says hi\r\nBye"},
		"plan":    {"pro"},
		"start":   {"2026-03-01"},
		"digest":  {"weekly"},
		"terms":   {"yes"},
		"news":    {"yes"},
	}
	if diff := cmp.Diff(want, srv.lastForm()); diff != "" {
		t.Errorf("form the server received (-want +got):\n%s", diff)
	}
	b.NoConsoleErrors()
}

func TestButtonsAndLinks(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.Visit(srv.URL + "/buttons")

	b.ClickButton("Add user") // its name spans an image with alt="" and a <span>
	b.ClickButton("Add user")
	b.WaitText("2 users added", 0)
	b.ClickButton("Reset count") // role=button
	b.WaitText("0 users added", time.Second)

	// Links that lead to no new page (a download, a 204): the click does
	// not wait for a load that never comes.
	b.ClickLink("Export CSV")
	b.ClickLink("Nothing here")
	if got, want := b.URL(), srv.URL+"/buttons"; got != want {
		t.Errorf("URL() after a download and a 204 = %q, want %q", got, want)
	}

	b.ClickLink("Back to the form")
	if got, want := b.URL(), srv.URL+"/form"; got != want {
		t.Errorf("URL() after ClickLink = %q, want %q", got, want)
	}
	b.Visit("/buttons") // resolved against the page shown
	if got, want := b.URL(), srv.URL+"/buttons"; got != want {
		t.Errorf("URL() after Visit(/buttons) = %q, want %q", got, want)
	}
	b.NoConsoleErrors()
}

func TestHelpersFailWithWhatThePageHas(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.SetTimeout(100 * time.Millisecond)
	b.Visit(srv.URL + "/form")

	tests := []struct {
		name string
		act  func(b *Browser)
		want []string // parts of the failure message
	}{
		{"missing label", func(b *Browser) { b.FillLabel("Phone", "123") }, []string{
			`FillLabel("Phone", "123")`, `no field with the label "Phone"`,
			`"Name", "Email", "Message", "Plan", "Start date"`,
		}},
		{"missing button", func(b *Browser) { b.ClickButton("Save") }, []string{
			`no button with the name "Save"`, `the names on the page: "Send"`,
		}},
		{"missing link", func(b *Browser) { b.ClickLink("Help") }, []string{`no link with the name "Help"`, `"Buttons"`}},
		{"missing option", func(b *Browser) { b.Select("Plan", "Enterprise") }, []string{
			`has no option "Enterprise"`, `its options: "Free", "Pro plan"`,
		}},
		{"checkbox is not a field", func(b *Browser) { b.FillLabel("I agree to the terms", "x") }, []string{
			`no field with the label "I agree to the terms"`, `(there is a checkbox or radio button with that name)`,
		}},
		{"text never shows", func(b *Browser) { b.WaitText("Thanks", 0) }, []string{`WaitText("Thanks")`, "the page reads:", "Contact"}},
		{"bad key", func(b *Browser) { b.Press("Hyper+Q") }, []string{`unknown modifier "Hyper"`}},
		{"text field is not a select", func(b *Browser) { b.Select("Name", "Ada") }, []string{
			`no select with the label "Name"`, `(there is a field with that name)`, `the labels on the page: "Plan"`,
		}},
		{"select is not typed into", func(b *Browser) { b.FillLabel("Plan", "Pro plan") }, []string{`is a <select>: choose its option with Select`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeTB{TB: t}
			fb := *b
			fb.t = fake
			fake.run(func() { tt.act(&fb) })
			if fake.msg == "" {
				t.Fatal("the helper did not fail")
			}
			for _, w := range tt.want {
				if !strings.Contains(fake.msg, w) {
					t.Errorf("failure message %q does not contain %q", fake.msg, w)
				}
			}
		})
	}

	t.Run("disabled and hidden buttons", func(t *testing.T) {
		b.Visit(srv.URL + "/buttons")
		if _, err := b.find("button", "Delete everything", nil); err == nil || !strings.Contains(err.Error(), "still disabled") {
			t.Errorf("find(disabled button) error = %v, want it to say the button is disabled", err)
		}
		_, err := b.find("button", "Secret", nil)
		if err == nil || !strings.Contains(err.Error(), `no button with the name "Secret"`) {
			t.Errorf("find(hidden button) error = %v, want not found", err)
		}
		if strings.Contains(err.Error(), `"Secret"; the`) || strings.Contains(err.Error(), `, "Secret"`) {
			t.Errorf("a hidden button is listed as one a person sees: %v", err)
		}
	})
	t.Run("two buttons with one name", func(t *testing.T) {
		b.Visit(srv.URL + "/twice")
		_, err := b.find("button", "Delete", nil)
		if err == nil || !strings.Contains(err.Error(), `2 buttons with the name "Delete"`) {
			t.Errorf("find(ambiguous) error = %v", err)
		}
	})
}

func TestKeyboard(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.Visit(srv.URL + "/form")

	var got []string
	for range 6 {
		got = append(got, b.Tab())
	}
	// One stop for the radio group (its checked button), and the date
	// field last: its segments (month, day, year) are stops of their own.
	want := []string{"Name", "Email", "Message", "Plan", "Daily", "I agree to the terms"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("names reached by Tab (-want +got):\n%s", diff)
	}
	if got := b.ShiftTab(); got != "Daily" {
		t.Errorf("ShiftTab() = %q, want %q", got, "Daily")
	}

	b.Visit(srv.URL + "/form")
	b.FillLabel("Name", "Grace")
	b.Press("Enter") // submits the form, and waits for the page it leads to
	if got := b.Text(); !strings.Contains(got, "Thanks, Grace") {
		t.Errorf("Text() after Enter = %q", got)
	}
}

func TestScreenshot(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.Visit(srv.URL + "/form")

	path := b.Screenshot("browsertest-form")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "build", "screenshots", "browsertest-form.png"); path != want {
		t.Errorf("Screenshot path = %q, want %q", path, want)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("repository root %s has no go.mod: %v", root, err)
	}
	img := readPNG(t, path)
	if w := img.Bounds().Dx(); w != 1280 {
		t.Errorf("screenshot width = %d, want 1280", w)
	}

	// Full page: a page taller than the window is captured whole.
	b.Visit(srv.URL + "/tall")
	img = readPNG(t, b.Screenshot("browsertest-tall"))
	if h := img.Bounds().Dy(); h < 3000 {
		t.Errorf("full-page screenshot height = %d, want at least the page's 3000px", h)
	}

	fake := &fakeTB{TB: t}
	fb := *b
	fb.t = fake
	fake.run(func() { fb.Screenshot("../escape") })
	if !strings.Contains(fake.msg, "the name must be") {
		t.Errorf("Screenshot(../escape) failed with %q, want a refused name", fake.msg)
	}
}

func TestViewport(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.Visit(srv.URL + "/form")

	var w int
	b.Eval("window.innerWidth", &w)
	if w != 1280 {
		t.Errorf("window.innerWidth at start = %d, want 1280", w)
	}
	b.SetViewport(390, 844)
	b.Eval("window.innerWidth", &w)
	if w != 390 {
		t.Errorf("window.innerWidth after SetViewport(390, 844) = %d, want 390", w)
	}
	img := readPNG(t, b.Screenshot("browsertest-narrow"))
	if got := img.Bounds().Dx(); got != 390 {
		t.Errorf("screenshot width at 390 = %d", got)
	}

	b.Phone()
	b.Visit(srv.URL + "/form") // has <meta name=viewport>
	b.Eval("window.innerWidth", &w)
	if w != 390 {
		t.Errorf("window.innerWidth on a phone = %d, want 390", w)
	}
	var touch bool
	b.Eval("navigator.maxTouchPoints > 0", &touch)
	if !touch {
		t.Error("Phone() did not turn touch on")
	}
	b.FillLabel("Name", "Thumb") // the helpers still work at phone width
	if got := b.Value("Name"); got != "Thumb" {
		t.Errorf("Value(Name) on a phone = %q", got)
	}
}

func TestConsoleErrors(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.Visit(srv.URL + "/form")
	b.NoConsoleErrors()

	b.Visit(srv.URL + "/broken")
	b.WaitText("loaded", 0)
	errs := b.ConsoleErrors()
	for _, want := range []string{
		"console.error: the count is wrong 42",       // console.error
		"exception: Uncaught Error: boom",            // an uncaught exception
		"Content Security Policy",                    // the inline script CSP blocks
		"404",                                        // a script that is not there
		"exception: Uncaught (in promise) rejected!", // an unhandled rejection
	} {
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("ConsoleErrors() = %q, want one with %q", errs, want)
		}
	}

	fake := &fakeTB{TB: t}
	fb := *b
	fb.t = fake
	fake.run(fb.NoConsoleErrors)
	if !strings.Contains(fake.msg, "console errors") || !strings.Contains(fake.msg, "boom") {
		t.Errorf("NoConsoleErrors failed with %q, want the errors listed", fake.msg)
	}
}

func TestCookiesEvalAndFreshContexts(t *testing.T) {
	srv := serve(t)
	b := Start(t)
	b.Visit(srv.URL + "/login")

	var names []string
	for _, c := range b.Cookies() {
		names = append(names, c.Name)
		if c.Name == "session" && (!c.HttpOnly || c.Value != "s3cret") {
			t.Errorf("cookie session = %+v, want HttpOnly with value s3cret", c)
		}
	}
	if !slices.Contains(names, "session") {
		t.Errorf("Cookies() names = %q, want session", names)
	}

	// fetch from the page carries the page's cookies.
	var who struct {
		Status  int    `json:"status"`
		Session string `json:"session"`
	}
	b.Eval(`fetch("/whoami").then(async r => ({status: r.status, session: await r.text()}))`, &who)
	if who.Status != 200 || who.Session != "s3cret" {
		t.Errorf("fetch /whoami from the page = %+v, want 200 s3cret", who)
	}

	// Another Start is another browser context: no cookies shared.
	other := Start(t)
	other.Visit(srv.URL + "/form")
	if cs := other.Cookies(); len(cs) != 0 {
		t.Errorf("a second tab sees cookies %v, want none", cs)
	}
}

// server is the httptest server of the test pages; it remembers the last
// form posted to /submit.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	form url.Values
}

func (s *server) lastForm() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.form
}

func serve(t *testing.T) *server {
	t.Helper()
	s := &server{}
	html := func(w http.ResponseWriter, title, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, htmlDoc(title, body))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) { html(w, "Contact form", formPage) })
	mux.HandleFunc("POST /submit", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.form = r.PostForm
		s.mu.Unlock()
		html(w, "Thanks", "<h1>Thanks, "+template(r.PostForm.Get("name"))+"</h1>")
	})
	mux.HandleFunc("GET /buttons", func(w http.ResponseWriter, r *http.Request) { html(w, "Users", buttonsPage) })
	mux.HandleFunc("GET /buttons.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, buttonsJS)
	})
	mux.HandleFunc("GET /plus.svg", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		fmt.Fprint(w, plusSVG)
	})
	mux.HandleFunc("GET /export.csv", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		w.Header().Set("Content-Disposition", `attachment; filename="users.csv"`)
		fmt.Fprint(w, "name\nAda\n")
	})
	mux.HandleFunc("GET /nothing", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /twice", func(w http.ResponseWriter, r *http.Request) {
		html(w, "Twice", `<h1>Keys</h1><button>Delete</button><button>Delete</button>`)
	})
	mux.HandleFunc("GET /tall", func(w http.ResponseWriter, r *http.Request) {
		html(w, "Tall", `<h1>Tall</h1><div style="height:3000px">long</div><p>end</p>`)
	})
	mux.HandleFunc("GET /a11y", func(w http.ResponseWriter, r *http.Request) {
		body := strings.Replace(goodPage, "</main>", r.URL.Query().Get("add")+"</main>", 1)
		doc := htmlDoc("Keys", body)
		if r.URL.Query().Get("nolang") != "" {
			doc = strings.Replace(doc, `<html lang="en">`, "<html>", 1)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", csp)
		fmt.Fprint(w, doc)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		html(w, "Broken", `<h1>Broken</h1><p id="state">loading</p>
<script>document.title = "inline ran";</script>
<script src="/missing.js"></script>
<script src="/broken.js"></script>`)
	})
	mux.HandleFunc("GET /broken.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `
console.error("the count is wrong", 42);
Promise.reject("rejected!");
setTimeout(() => { document.getElementById("state").textContent = "loaded"; throw new Error("boom"); }, 0);
`)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		html(w, "Signed in", "<h1>Signed in</h1>")
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("session")
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, c.Value)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func template(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the screenshot: %v", err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("%s is not a PNG", path)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// fakeTB stands in for a test to catch a helper's failure: Fatalf records
// the message and ends the helper's goroutine, as testing does.
type fakeTB struct {
	testing.TB
	msg string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run runs fn in its own goroutine, as testing runs a test, so that Fatalf
// can end it.
func (f *fakeTB) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}
