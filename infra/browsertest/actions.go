package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Visit loads url in the tab and waits for its load event. A url that
// starts with "/" is resolved against the page the tab shows.
func (b *Browser) Visit(rawURL string) {
	b.t.Helper()
	if err := b.visit(rawURL); err != nil {
		b.t.Fatalf("browsertest: Visit(%q): %v", rawURL, err)
	}
}

func (b *Browser) visit(rawURL string) error {
	if strings.HasPrefix(rawURL, "/") {
		cur, err := url.Parse(b.location())
		if err != nil || cur.Host == "" {
			return fmt.Errorf("a path needs a page to resolve it against, and the tab shows %q", b.location())
		}
		ref, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("parse the path: %w", err)
		}
		rawURL = cur.ResolveReference(ref).String()
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.loadTimeout())
	defer cancel()
	return chromedp.Do(ctx, chromedp.Navigate(rawURL))
}

// found is page.js's answer to find.
type found struct {
	State    string   `json:"state"`
	What     string   `json:"what"`
	By       string   `json:"by"`
	Element  string   `json:"element"`
	Seen     []string `json:"seen"`
	Also     []string `json:"also"`
	Count    int      `json:"count"`
	X        float64  `json:"x"`
	Y        float64  `json:"y"`
	Covered  string   `json:"covered"`
	Typed    bool     `json:"typed"`
	ReadOnly bool     `json:"readOnly"`
	File     bool     `json:"file"`
	IsSelect bool     `json:"isSelect"`
	Set      bool     `json:"set"`
	Checked  bool     `json:"checked"`
}

// find waits until exactly one visible thing of the kind has the name, and
// is enabled and not covered, and returns it. arg goes to page.js (the text
// of a field set by value, the option of a select). Its error says what it
// looked for and lists what the page has.
func (b *Browser) find(kind, name string, arg any) (found, error) {
	var f found
	args := []any{kind, name}
	if arg != nil {
		args = append(args, arg)
	}
	err := b.poll(b.timeout, func(ctx context.Context) (bool, error) {
		f = found{}
		if err := b.call(ctx, &f, "find", args...); err != nil {
			return false, err
		}
		return f.State == "found" && f.Covered == "", nil
	})
	if err == nil {
		return f, nil
	}
	switch f.State {
	case "missing":
		also := ""
		if len(f.Also) > 0 {
			also = fmt.Sprintf(" (there is a %s with that name)", strings.Join(f.Also, ", a "))
		}
		return f, fmt.Errorf("no %s with the %s %q after %v%s; the %ss on the page: %s", f.What, f.By, name, b.timeout, also, f.By, list(f.Seen))
	case "ambiguous":
		return f, fmt.Errorf("%d %ss with the %s %q: a person cannot tell them apart", f.Count, f.What, f.By, name)
	case "disabled":
		return f, fmt.Errorf("the %s %q (%s) is still disabled after %v", f.What, name, f.Element, b.timeout)
	case "nooption":
		return f, fmt.Errorf("the %s %q has no option %q; its options: %s", f.What, name, arg, list(f.Seen))
	case "found":
		return f, fmt.Errorf("the %s %q (%s) is covered by %s", f.What, name, f.Element, f.Covered)
	}
	return f, fmt.Errorf("looking for the %s %q: %w", kind, name, err)
}

func list(names []string) string {
	if len(names) == 0 {
		return "(none)"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// FillLabel types text into the field whose <label> reads label (exactly,
// white space collapsed), replacing what it held: it clicks the field,
// selects its content and types, key by key. A date, time, colour or range
// input gets the value set and the input and change events its picker
// fires.
func (b *Browser) FillLabel(label, text string) {
	b.t.Helper()
	if err := b.fillLabel(label, text); err != nil {
		b.t.Fatalf("browsertest: FillLabel(%q, %q): %v", label, text, err)
	}
}

func (b *Browser) fillLabel(label, text string) error {
	f, err := b.find("field", label, text)
	if err != nil {
		return err
	}
	switch {
	case f.ReadOnly:
		return fmt.Errorf("the field %q (%s) is read-only", label, f.Element)
	case f.File:
		return fmt.Errorf("the field %q (%s) is a file input; FillLabel cannot choose a file", label, f.Element)
	case f.IsSelect:
		return fmt.Errorf("the field %q (%s) is a <select>: choose its option with Select", label, f.Element)
	case f.Set:
		return nil
	}
	if err := b.click(f.X, f.Y); err != nil {
		return fmt.Errorf("click the field %q: %w", label, err)
	}
	var focused string
	if err := b.call(b.ctx, &focused, "selectAll"); err != nil {
		return err
	}
	if focused != f.Element {
		return fmt.Errorf("clicking the field %q (%s) put the focus on %s", label, f.Element, focused)
	}
	keys := text
	if keys == "" {
		keys = kb.Delete
	}
	if err := chromedp.Do(b.ctx, chromedp.KeyEvent(keys)); err != nil {
		return fmt.Errorf("type into %q: %w", label, err)
	}
	return nil
}

// Value is the value of the field with that label, as the form would send
// it (a select's option value; "true" or "false" for a checkbox), for a test
// that checks what a form kept.
func (b *Browser) Value(label string) string {
	b.t.Helper()
	for _, kind := range []string{"field", "check"} {
		var v *string
		if err := b.call(b.ctx, &v, "value", kind, label); err != nil {
			b.t.Fatalf("browsertest: Value(%q): %v", label, err)
		}
		if v != nil {
			return *v
		}
	}
	b.t.Fatalf("browsertest: Value(%q): no one field with that label", label)
	return ""
}

// Select picks the option that reads optionText in the <select> whose label
// reads label, and fires the input and change events a person's choice
// fires.
func (b *Browser) Select(label, optionText string) {
	b.t.Helper()
	if _, err := b.find("select", label, optionText); err != nil {
		b.t.Fatalf("browsertest: Select(%q, %q): %v", label, optionText, err)
	}
}

// Check ticks the checkbox or radio button whose label reads label, by
// clicking it (or its label, where the input itself is hidden by styling).
// A box already ticked stays ticked.
func (b *Browser) Check(label string) {
	b.t.Helper()
	if err := b.setChecked(label, true); err != nil {
		b.t.Fatalf("browsertest: Check(%q): %v", label, err)
	}
}

// Uncheck clears the checkbox whose label reads label, by clicking it.
func (b *Browser) Uncheck(label string) {
	b.t.Helper()
	if err := b.setChecked(label, false); err != nil {
		b.t.Fatalf("browsertest: Uncheck(%q): %v", label, err)
	}
}

func (b *Browser) setChecked(label string, want bool) error {
	f, err := b.find("check", label, nil)
	if err != nil {
		return err
	}
	if f.Checked == want {
		return nil
	}
	if err := b.click(f.X, f.Y); err != nil {
		return fmt.Errorf("click %q: %w", label, err)
	}
	var v *string
	if err := b.call(b.ctx, &v, "value", "check", label); err != nil {
		return err
	}
	if v == nil || *v != fmt.Sprint(want) {
		return fmt.Errorf("clicking %s did not change it", f.Element)
	}
	return nil
}

// ClickButton clicks the button (<button>, input type submit, button or
// image, or role=button) whose accessible name is text, and waits for the
// page it leads to, if it leads to one.
func (b *Browser) ClickButton(text string) {
	b.t.Helper()
	if err := b.clickNamed("button", text); err != nil {
		b.t.Fatalf("browsertest: ClickButton(%q): %v", text, err)
	}
}

// ClickLink clicks the link whose accessible name is text and waits for
// the page it leads to.
func (b *Browser) ClickLink(text string) {
	b.t.Helper()
	if err := b.clickNamed("link", text); err != nil {
		b.t.Fatalf("browsertest: ClickLink(%q): %v", text, err)
	}
}

func (b *Browser) clickNamed(kind, text string) error {
	f, err := b.find(kind, text, nil)
	if err != nil {
		return err
	}
	return b.settle(func() error { return b.click(f.X, f.Y) })
}

func (b *Browser) click(x, y float64) error {
	return chromedp.Do(b.ctx, chromedp.MouseClickXY(x, y))
}

// navigationGrace is how long after a click or key press settle waits for a
// navigation to begin. A form's submission or a link's navigation begins
// within a few milliseconds; a script that navigates later is for WaitText.
const navigationGrace = 150 * time.Millisecond

// settle runs act and, if it starts a navigation of the page, waits for the
// new page's load event (or for the navigation to end without a page, as a
// download does), so that the next helper reads the new page and not the
// old one.
func (b *Browser) settle(act func() error) error {
	navs, ends, _ := b.events.snapshot()
	if err := act(); err != nil {
		return err
	}
	grace := time.After(navigationGrace)
	deadline := time.After(b.loadTimeout())
	navigating := false
	for {
		n, l, ch := b.events.snapshot()
		if n > navs {
			navigating = true
		}
		if navigating && l > ends {
			return nil
		}
		select {
		case <-ch:
		case <-grace:
			if !navigating {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("the page it led to did not load within %v", b.loadTimeout())
		case <-b.ctx.Done():
			return b.ctx.Err()
		}
	}
}

// Press presses a key on the element that has the focus: a key name as the
// DOM spells it ("Enter", "Escape", "Tab", "ArrowDown", "Backspace", "Space"
// or a single character), optionally with modifiers: "Shift+Tab",
// "Control+a". After Enter or Space it waits, like a click, for the page
// they lead to.
func (b *Browser) Press(key string) {
	b.t.Helper()
	if err := b.press(key); err != nil {
		b.t.Fatalf("browsertest: Press(%q): %v", key, err)
	}
}

func (b *Browser) press(key string) error {
	parts := strings.Split(key, "+")
	if strings.HasSuffix(key, "++") { // "Control++"
		parts = append(strings.Split(strings.TrimSuffix(key, "++"), "+"), "+")
	}
	name := parts[len(parts)-1]
	var mods []chromedp.Modifier
	for _, m := range parts[:len(parts)-1] {
		switch m {
		case "Shift":
			mods = append(mods, chromedp.ModifierShift)
		case "Control", "Ctrl":
			mods = append(mods, chromedp.ModifierCtrl)
		case "Alt":
			mods = append(mods, chromedp.ModifierAlt)
		case "Meta":
			mods = append(mods, chromedp.ModifierMeta)
		default:
			return fmt.Errorf("unknown modifier %q (Shift, Control, Alt, Meta)", m)
		}
	}
	r, ok := keyRune(name)
	if !ok {
		return fmt.Errorf("unknown key %q (DOM key names such as Enter, Escape, Tab, ArrowDown, Space, or one character)", name)
	}
	var opts []chromedp.KeyOption
	if len(mods) > 0 {
		opts = append(opts, chromedp.KeyModifiers(mods...))
	}
	do := func() error { return chromedp.Do(b.ctx, chromedp.KeyEvent(string(r), opts...)) }
	if r != '\r' && r != ' ' {
		// Only Enter and Space submit forms and follow links.
		return do()
	}
	return b.settle(do)
}

// keyRune maps a DOM key name to the rune chromedp's kb package encodes it
// with.
func keyRune(name string) (rune, bool) {
	if name == "Space" {
		return ' ', true
	}
	if rs := []rune(name); len(rs) == 1 {
		return rs[0], true
	}
	for r, k := range kb.Keys {
		if k.Key == name {
			return r, true
		}
	}
	return 0, false
}

// Tab presses Tab and returns the accessible name of the element that has
// the focus then, as a screen reader would announce it ("" when the focus
// is on the page itself).
func (b *Browser) Tab() string {
	b.t.Helper()
	if err := b.press("Tab"); err != nil {
		b.t.Fatalf("browsertest: Tab(): %v", err)
	}
	return b.Focused()
}

// ShiftTab presses Shift+Tab and returns the name of the focused element.
func (b *Browser) ShiftTab() string {
	b.t.Helper()
	if err := b.press("Shift+Tab"); err != nil {
		b.t.Fatalf("browsertest: ShiftTab(): %v", err)
	}
	return b.Focused()
}

// Focused is the accessible name of the element that has the focus.
func (b *Browser) Focused() string {
	b.t.Helper()
	var name string
	if err := b.call(b.ctx, &name, "focused"); err != nil {
		b.t.Fatalf("browsertest: Focused(): %v", err)
	}
	return name
}

// Text is the text of the page as a person reads it (document.body's
// innerText: hidden elements left out, blocks on their own lines).
func (b *Browser) Text() string {
	b.t.Helper()
	var s string
	if err := b.call(b.ctx, &s, "bodyText"); err != nil {
		b.t.Fatalf("browsertest: Text(): %v", err)
	}
	return s
}

// WaitText waits until the page's visible text contains substr, for at
// most timeout (0: the tab's timeout).
func (b *Browser) WaitText(substr string, timeout time.Duration) {
	b.t.Helper()
	if err := b.waitText(substr, timeout); err != nil {
		b.t.Fatalf("browsertest: WaitText(%q): %v", substr, err)
	}
}

func (b *Browser) waitText(substr string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = b.timeout
	}
	var text string
	err := b.poll(timeout, func(ctx context.Context) (bool, error) {
		if err := b.call(ctx, &text, "bodyText"); err != nil {
			return false, err
		}
		return strings.Contains(text, substr), nil
	})
	if err != nil {
		const most = 2000
		if len(text) > most {
			text = text[:most] + "…"
		}
		return fmt.Errorf("not on the page after %v; the page reads:\n%s", timeout, text)
	}
	return nil
}

// Title is the page's <title>.
func (b *Browser) Title() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Title())
	if err != nil {
		b.t.Fatalf("browsertest: Title(): %v", err)
	}
	return s
}

// URL is the address the tab shows.
func (b *Browser) URL() string {
	b.t.Helper()
	return b.location()
}

func (b *Browser) location() string {
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browsertest: read the location: %v", err)
	}
	return s
}

var screenshotName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Screenshot saves a full-page PNG of the tab as build/screenshots/<name>.png
// under the repository root, for a person to look at what the tests saw,
// and returns its path. name is a file name without extension (letters,
// digits, '.', '_', '-').
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	path, err := b.screenshot(name)
	if err != nil {
		b.t.Fatalf("browsertest: Screenshot(%q): %v", name, err)
	}
	return path
}

func (b *Browser) screenshot(name string) (string, error) {
	if !screenshotName.MatchString(name) {
		return "", errors.New("the name must be letters, digits, '.', '_' or '-'")
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "build", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("screenshot directory: %w", err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", fmt.Errorf("capture: %w", err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("write the screenshot: %w", err)
	}
	return path, nil
}

// repoRoot is the directory of the go.mod above the working directory (go
// test runs a package's tests in the package's directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// SetViewport resizes the tab's viewport to width×height CSS pixels, as a
// desktop window of that size (window.innerWidth is width).
func (b *Browser) SetViewport(width, height int) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		b.t.Fatalf("browsertest: SetViewport(%d, %d): %v", width, height, err)
	}
}

// Phone makes the tab a phone: a 390×844 viewport with touch, that honours
// <meta name="viewport"> as a phone does (a page without it is laid out 980
// pixels wide and shrunk, which is how it would look on a phone).
func (b *Browser) Phone() {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		b.t.Fatalf("browsertest: Phone(): %v", err)
	}
}

// Cookies are the cookies the browser holds for the page the tab shows.
func (b *Browser) Cookies() []*http.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		b.t.Fatalf("browsertest: Cookies(): %v", err)
	}
	out := make([]*http.Cookie, 0, len(res.Cookies))
	for _, c := range res.Cookies {
		hc := &http.Cookie{
			Name:     c.Name,
			Value:    c.Value,
			Domain:   c.Domain,
			Path:     c.Path,
			HttpOnly: c.HTTPOnly,
			Secure:   c.Secure,
		}
		if !c.Session && c.Expires > 0 {
			hc.Expires = time.Unix(int64(c.Expires), 0)
		}
		switch c.SameSite {
		case network.CookieSameSiteStrict:
			hc.SameSite = http.SameSiteStrictMode
		case network.CookieSameSiteLax:
			hc.SameSite = http.SameSiteLaxMode
		case network.CookieSameSiteNone:
			hc.SameSite = http.SameSiteNoneMode
		}
		out = append(out, hc)
	}
	return out
}

// Eval runs the JavaScript expression js in the page, awaits it if it is a
// promise, and decodes its JSON value into out (nil: ignore it). It is how a
// test calls fetch() with the page's cookies:
//
//	var status int
//	b.Eval(`fetch("/v1/keys", {method: "POST"}).then(r => r.status)`, &status)
func (b *Browser) Eval(js string, out any) {
	b.t.Helper()
	if err := b.eval(js, out); err != nil {
		b.t.Fatalf("browsertest: Eval(%q): %v", js, err)
	}
}

func (b *Browser) eval(js string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if len(raw) == 0 {
		raw = []byte("null")
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode %s: %w", raw, err)
	}
	return nil
}
