// Package browsertest drives a real headless Chromium from Go tests the way a
// person uses a page: by the labels, button and link names and text they
// see, with real mouse clicks and key presses. The operator console is
// server-rendered HTML; its tests must show that a person can use it (find
// the field by its label, reach the button with the keyboard, read the
// result), not that some CSS selector exists, and they save a screenshot of
// every screen.
//
// One Chromium serves the whole test binary; every Start opens a fresh tab
// in a fresh browser context (no cookies or storage shared between tests).
// Chromium is found through HERALD_CHROMIUM, /usr/bin/chromium or PATH; `make
// test` installs it (infra/chromium.sh). Without it the tests skip, except
// under CI, where they fail.
//
// Only tests import this package (it pulls in chromedp), so no binary that
// ships links it.
package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultTimeout is how long a helper waits for what it looks for before it
// fails the test: long enough for a page to load and a form to post on a
// busy CI machine, short enough that a broken page fails fast.
const DefaultTimeout = 5 * time.Second

//go:embed page.js
var pageJS string

// The one browser of the test binary. A package variable because a test
// binary has one life: the first Start launches Chromium, every test of the
// binary shares it, and Main (or the process's end) stops it.
var shared struct {
	once    sync.Once
	err     error
	skip    string
	ctx     context.Context // the browser's root context: new tabs are its children
	cancel  context.CancelFunc
	dataDir string
}

// Browser is one test's tab. Its methods fail the test (t.Fatalf) when what
// they look for does not show up within the timeout, saying what they looked
// for and what the page has instead.
type Browser struct {
	t       testing.TB
	ctx     context.Context
	timeout time.Duration
	events  *events
	close   context.CancelFunc // NewTab's
}

// Start gives the test a fresh tab of the shared headless Chromium and
// closes it when the test ends. It skips the test when no Chromium is
// installed, unless the environment variable CI is set: there a missing
// browser is a broken build, not a reason to skip.
func Start(t testing.TB) *Browser {
	t.Helper()
	shared.once.Do(launch)
	if shared.skip != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("browsertest: %s (CI is set, so this fails instead of skipping)", shared.skip)
		}
		t.Skipf("browsertest: %s", shared.skip)
	}
	if shared.err != nil {
		t.Fatalf("browsertest: start chromium: %v", shared.err)
	}
	ev := newEvents()
	ctx, cancel := chromedp.NewContext(shared.ctx,
		chromedp.WithNewBrowserContext(),
		chromedp.WithListener(ev.listen),
	)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	// A test that clicks a download link must not leave files behind.
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorDeny,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	})
	if err != nil {
		cancel()
		t.Fatalf("browsertest: deny downloads: %v", err)
	}
	// The main frame of a tab has the tab's id.
	ev.mu.Lock()
	ev.mainFrame = string(chromedp.FromContext(ctx).Target.TargetID)
	ev.mu.Unlock()
	t.Cleanup(cancel)
	return &Browser{t: t, ctx: ctx, timeout: DefaultTimeout, events: ev}
}

// NewTab opens another tab in the same browser context as b (the same
// cookies, storage and service workers: another tab of the same person),
// closed when the test ends or by Close.
func (b *Browser) NewTab() *Browser {
	b.t.Helper()
	ev := newEvents()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(ev.listen))
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		b.t.Fatalf("browsertest: open another tab: %v", err)
	}
	ev.mu.Lock()
	ev.mainFrame = string(chromedp.FromContext(ctx).Target.TargetID)
	ev.mu.Unlock()
	b.t.Cleanup(cancel)
	return &Browser{t: b.t, ctx: ctx, timeout: b.timeout, events: ev, close: cancel}
}

// Close closes a tab opened by NewTab: its pages go away as when a person
// closes it (pagehide runs).
func (b *Browser) Close() {
	if b.close != nil {
		b.close()
	}
}

// Main runs the tests of a package and then stops the shared browser and
// removes its profile. Use it from TestMain where a package uses Start:
//
//	func TestMain(m *testing.M) { browsertest.Main(m) }
//
// (testing exits with m.Run's code when TestMain returns.) Without it the
// kernel kills Chromium when the test binary exits (chromedp sets the
// parent-death signal), and the next run removes the profile left behind.
func Main(m *testing.M) {
	defer Close()
	m.Run()
}

// Close stops the shared browser, if one runs, and removes its profile. For
// a TestMain that does more than Main; a Start after it fails.
func Close() {
	if shared.cancel == nil {
		return
	}
	_ = chromedp.Cancel(shared.ctx)
	shared.cancel()
	shared.cancel = nil
	shared.err = errors.New("the shared browser was closed (browsertest.Close)")
	removeProfile(shared.dataDir)
}

// Chromium returns the path of the Chromium the tests use, or "" when none
// is installed: HERALD_CHROMIUM, then /usr/bin/chromium, then chromium,
// chromium-browser or google-chrome in PATH.
func Chromium() string {
	if p := os.Getenv("HERALD_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// profilePrefix names the profile directories of this package, with the
// owner's pid, so that a run can remove the ones of runs that died.
const profilePrefix = "herald-browsertest-"

func launch() {
	path := Chromium()
	if path == "" {
		shared.skip = "no Chromium found (set HERALD_CHROMIUM, or install it: infra/chromium.sh install, which make test runs)"
		return
	}
	if _, err := os.Stat(path); err != nil {
		// Only HERALD_CHROMIUM can name a file that is not there: a
		// setting that is wrong fails rather than skips.
		shared.err = fmt.Errorf("HERALD_CHROMIUM: %w", err)
		return
	}
	removeStaleProfiles()
	dir, err := os.MkdirTemp("", profilePrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		shared.err = fmt.Errorf("profile directory: %w", err)
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-search-engine-choice-screen", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(30 * time.Second):
		err = errors.New("no answer within 30 s")
	}
	if err != nil {
		cancelCtx()
		cancelAlloc()
		removeProfile(dir)
		shared.err = fmt.Errorf("%s: %w", path, err)
		return
	}
	shared.ctx = ctx
	shared.dataDir = dir
	shared.cancel = func() {
		cancelCtx()
		cancelAlloc()
	}
}

// removeStaleProfiles removes the profiles that earlier test binaries left
// when they died without Main.
func removeStaleProfiles() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), profilePrefix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), profilePrefix)
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			continue // its test binary still runs
		}
		removeProfile(m)
	}
}

// removeProfile removes a profile directory. Chromium's helper processes can
// still write in it for a moment after the browser exits, hence the retries.
func removeProfile(dir string) {
	for i := 0; i < 20; i++ {
		if err := os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SetTimeout changes how long the helpers of this tab wait for what they
// look for (DefaultTimeout otherwise). A page load waits at least
// DefaultTimeout whatever it is: a short timeout is for failing fast on a
// missing label, not for slow loads.
func (b *Browser) SetTimeout(d time.Duration) { b.timeout = d }

func (b *Browser) loadTimeout() time.Duration { return max(b.timeout, DefaultTimeout) }

// Context is the chromedp context of the tab, for what the helpers do not
// cover. A test that uses it drives the browser by selectors: prefer the
// helpers.
func (b *Browser) Context() context.Context { return b.ctx }

// call evaluates page.js's function fn with args and decodes its answer
// into out.
func (b *Browser) call(ctx context.Context, out any, fn string, args ...any) error {
	enc := make([]string, len(args))
	for i, a := range args {
		j, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode argument of %s: %w", fn, err)
		}
		enc[i] = string(j)
	}
	expr := "(" + pageJS + ")." + fn + "(" + strings.Join(enc, ",") + ")"
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		return fmt.Errorf("%s in the page: %w", fn, err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode the answer of %s: %w", fn, err)
	}
	return nil
}

// poll calls try until it reports done or the timeout passes; an error of
// try (a page that is between documents) counts as not done. try always
// runs at least once to its end, so that a failure can say what the page
// had even with a short timeout. poll returns errTimeout, with try's last
// error when there was one.
func (b *Browser) poll(timeout time.Duration, try func(ctx context.Context) (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ctx, cancel := context.WithTimeout(b.ctx, b.loadTimeout())
		done, err := try(ctx)
		cancel()
		if err == nil && done {
			return nil
		}
		last = err
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("%w (last error: %v)", errTimeout, last)
			}
			return errTimeout
		}
		select {
		case <-b.ctx.Done():
			return b.ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var errTimeout = errors.New("timed out")

// events is what the tab's listener records: the console errors and the
// navigations of the main frame. The listener runs in chromedp's read loop,
// in the order Chromium sent the events.
type events struct {
	mu        sync.Mutex
	mainFrame string
	navs      int // cross-document navigations started in the main frame
	loads     int // load events of the main frame
	stops     int // times the main frame stopped loading
	errs      []string
	changed   chan struct{} // closed and replaced on every navigation or load
}

func newEvents() *events { return &events{changed: make(chan struct{})} }

func (e *events) listen(ev any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch ev := ev.(type) {
	case *page.EventFrameStartedNavigating:
		if string(ev.FrameID) != e.mainFrame {
			return
		}
		switch ev.NavigationType {
		case page.FrameStartedNavigatingNavigationTypeSameDocument, page.FrameStartedNavigatingNavigationTypeHistorySameDocument:
			return
		}
		e.navs++
		e.signal()
	case *page.EventLoadEventFired:
		e.loads++
		e.signal()
	case *page.EventFrameStoppedLoading:
		// A navigation that ends without a new page (a download, a 204)
		// stops loading with no load event.
		if string(ev.FrameID) == e.mainFrame {
			e.stops++
			e.signal()
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			e.errs = append(e.errs, "console."+string(ev.Type)+": "+consoleArgs(ev.Args)+at(ev.StackTrace))
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if x := d.Exception; x != nil {
			// An Error has a description (its stack); a rejected
			// primitive only a value.
			if x.Description != "" {
				desc, _, _ := strings.Cut(x.Description, "\n")
				text += " " + desc
			} else if len(x.Value) > 0 {
				text += " " + consoleArgs([]*runtime.RemoteObject{x})
			}
		}
		e.errs = append(e.errs, "exception: "+text+place(d.URL, d.LineNumber))
	case *log.EventEntryAdded:
		// The browser asks every site for /favicon.ico by itself: its 404 is
		// not the page's error.
		if ev.Entry.Source == log.EntrySourceNetwork && strings.HasSuffix(ev.Entry.URL, "/favicon.ico") {
			return
		}
		if ev.Entry.Level == log.EntryLevelError {
			e.errs = append(e.errs, string(ev.Entry.Source)+": "+ev.Entry.Text+place(ev.Entry.URL, ev.Entry.LineNumber))
		}
	}
}

func (e *events) signal() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *events) snapshot() (navs, ends int, changed <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.navs, e.loads + e.stops, e.changed
}

func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		var s string
		if a.Type == runtime.RemoteObjectTypeString && json.Unmarshal(a.Value, &s) == nil {
			parts = append(parts, s)
			continue
		}
		switch {
		case a.Description != "":
			parts = append(parts, a.Description)
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

func at(st *runtime.StackTrace) string {
	if st == nil || len(st.CallFrames) == 0 {
		return ""
	}
	f := st.CallFrames[0]
	return place(f.URL, f.LineNumber)
}

func place(url string, line int64) string {
	if url == "" {
		return ""
	}
	return fmt.Sprintf(" (%s:%d)", url, line+1)
}
