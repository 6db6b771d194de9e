package browsertest

import (
	"strings"

	"github.com/chromedp/chromedp"
)

// Violation is one accessibility problem CheckAccessible found.
type Violation struct {
	// Rule names the check: html-lang, control-name, button-name,
	// link-name, image-alt, one-h1, heading-order, table-header, tabindex,
	// contrast.
	Rule string `json:"rule"`
	// Element describes the element at fault (tag#id.class[name] "text"), ""
	// for a rule about the whole page.
	Element string `json:"element"`
	// Detail says what is wrong, in words.
	Detail string `json:"detail"`
}

// String is the violation as a line of a failure message.
func (v Violation) String() string {
	if v.Element == "" {
		return v.Rule + ": " + v.Detail
	}
	return v.Rule + ": " + v.Element + ": " + v.Detail
}

// Violations runs the accessibility checks on the page the tab shows and
// returns what they find (nil when the page passes). The checks are a
// small, axe-like subset that catches what server-rendered forms get wrong:
//
//   - html-lang: <html lang> is set;
//   - control-name: every input, select and textarea (not hidden, submit,
//     button, reset or image) has a <label>, aria-label or aria-labelledby;
//   - button-name, link-name: every button and link has an accessible name;
//   - image-alt: every <img> has an alt attribute;
//   - one-h1: exactly one <h1>;
//   - heading-order: heading levels go down one at a time (h1, h2, h3; never
//     h2 then h4);
//   - table-header: every table has a <th>;
//   - tabindex: no positive tabindex;
//   - contrast: visible text has a contrast ratio of at least 4.5:1 against
//     the nearest opaque background (3:1 for large text: 24px, or 18.66px
//     bold), computed from the computed styles; text over a background
//     image is not judged.
func (b *Browser) Violations() []Violation {
	b.t.Helper()
	var vs []Violation
	if err := b.call(b.ctx, &vs, "audit"); err != nil {
		b.t.Fatalf("browsertest: accessibility checks: %v", err)
	}
	return vs
}

// CheckAccessible fails the test with the list of violations when the page
// the tab shows breaks one of the accessibility checks (see Violations).
func (b *Browser) CheckAccessible() {
	b.t.Helper()
	if vs := b.Violations(); len(vs) > 0 {
		lines := make([]string, len(vs))
		for i, v := range vs {
			lines[i] = "  " + v.String()
		}
		b.t.Fatalf("browsertest: %s is not accessible, %d violations:\n%s", b.location(), len(vs), strings.Join(lines, "\n"))
	}
}

// ConsoleErrors are the errors the tab's pages reported since the test
// started: console.error and console.assert calls, uncaught exceptions and
// unhandled rejections, and the browser's own errors (a Content Security
// Policy violation, a failed load of a script, a 404 for a stylesheet).
func (b *Browser) ConsoleErrors() []string {
	b.t.Helper()
	// A round trip to the page: the listener has seen every event Chromium
	// sent before the answer.
	if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void]("0")); err != nil {
		b.t.Fatalf("browsertest: read the console: %v", err)
	}
	b.events.mu.Lock()
	defer b.events.mu.Unlock()
	return append([]string(nil), b.events.errs...)
}

// NoConsoleErrors fails the test when the tab's pages reported an error
// (see ConsoleErrors).
func (b *Browser) NoConsoleErrors() {
	b.t.Helper()
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		b.t.Fatalf("browsertest: %d console errors:\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
}
