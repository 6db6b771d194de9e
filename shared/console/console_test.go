package console_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/console"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/schedulertest"
	"github.com/heraldhq/herald/shared/send"
	heraldtemplate "github.com/heraldhq/herald/shared/template"
)

// queue records what the sender enqueues.
type queue struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (q *queue) Send(_ context.Context, bodies [][]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bodies = append(q.bodies, bodies...)
	return nil
}

func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.bodies)
}

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	store *boltstore.Store
	ops   *operator.Service
	users *profile.Service
	queue *queue
	steps *queue
	sched *schedulertest.Memory
	clock *clock
	srv   *httptest.Server
	// templates is the template service the console is given.
	templates *heraldtemplate.Service
}

// newEnv serves a console over a bbolt store with two workspaces, ws_a and
// ws_b, and an admin, an editor and a viewer in ws_a and an admin in ws_b.
func newEnv(t *testing.T, grace time.Duration) *env {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{t: t, store: store, queue: &queue{}, steps: &queue{}, sched: schedulertest.NewMemory(), clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}}
	ids := &notify.IDs{}
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	for _, ws := range []string{"ws_a", "ws_b"} {
		if err := store.CreateWorkspace(ctx, notify.Workspace{ID: ws, Name: ws, CreatedAt: e.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	e.ops = &operator.Service{Store: store, IDs: ids, Now: e.clock.Now, Log: log}
	e.users = &profile.Service{Store: store, Now: e.clock.Now}
	sends := &send.Sender{Store: store, Dispatch: e.queue, Steps: e.steps, IDs: ids, Now: e.clock.Now, Log: log}
	e.templates = &heraldtemplate.Service{Store: store, IDs: ids, Now: e.clock.Now}
	svc := console.Services{Store: store, Operators: e.ops, Users: e.users, Sends: sends,
		Campaigns: &campaign.Service{Store: store, Scheduler: e.sched, Sender: sends, IDs: ids, Now: e.clock.Now, Log: log}, Templates: e.templates}
	if grace == 0 {
		grace = -1 // none
	}
	e.srv = httptest.NewServer(console.New(svc, console.Options{Now: e.clock.Now, Log: log, Grace: grace,
		Prices: map[notify.Channel]float64{notify.ChannelSMS: 0.01}}))
	t.Cleanup(e.srv.Close)
	for _, o := range []struct{ ws, email string }{{"ws_a", "admin@a.example"}, {"ws_b", "admin@b.example"}} {
		if _, err := e.ops.EnsureAdmin(ctx, o.ws, o.email, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []struct {
		email string
		role  notify.Role
	}{{"editor@a.example", notify.RoleEditor}, {"viewer@a.example", notify.RoleViewer}} {
		admin, err := store.GetOperatorByEmail(ctx, "admin@a.example")
		if err != nil {
			t.Fatal(err)
		}
		l, err := e.ops.Invite(ctx, admin, o.email, o.role)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ops.UseLink(ctx, l.Secret, strings.Split(o.email, "@")[0], "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// person is a user's profile; empty fields are left out.
type person struct{ Name, Email, Phone, Status string }

func (e *env) putUser(ws, id string, p person) notify.User {
	e.t.Helper()
	var in profile.Input
	for _, f := range []struct {
		v   string
		dst **string
	}{{p.Name, &in.Name}, {p.Email, &in.Email}, {p.Phone, &in.Phone}, {p.Status, &in.Status}} {
		if f.v != "" {
			v := f.v
			*f.dst = &v
		}
	}
	u, err := e.users.Put(context.Background(), ws, id, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// browser is a client with cookies that does not follow redirects.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	body   string
	loc    string
	header http.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	if req.Header.Get("Sec-Fetch-Site") == "" {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{status: res.StatusCode, body: string(body), loc: res.Header.Get("Location"), header: res.Header}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string) page {
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	req.Header.Set("Accept", "text/html")
	return b.do(req)
}

// post sends a form with the page's CSRF token unless the form has one.
func (b *browser) post(path string, form url.Values) page {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) signIn(email string) *browser {
	b.e.t.Helper()
	p := b.post("/login", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if p.status != http.StatusSeeOther || p.loc != "/users" {
		b.e.t.Fatalf("sign in as %s: %d %s\n%s", email, p.status, p.loc, p.body)
	}
	b.get("/users") // picks up the session's CSRF token
	return b
}

func (e *env) as(email string) *browser { return e.browser().signIn(email) }

func want(t *testing.T, p page, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.body)
		}
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser()
	if p := b.get("/users"); p.status != http.StatusSeeOther || p.loc != "/login?next=%2Fusers" {
		t.Fatalf("signed out /users: %d %q", p.status, p.loc)
	}
	want(t, b.get("/login"), http.StatusOK, "Sign in to Herald", `<label for="email">Email</label>`)
	want(t, b.post("/login", url.Values{"email": {"admin@a.example"}, "password": {"wrong password!"}}), http.StatusUnauthorized, "The email or password is wrong")
	want(t, b.post("/login", url.Values{"email": {"nobody@a.example"}, "password": {"wrong password!"}}), http.StatusUnauthorized, "The email or password is wrong")
	p := b.post("/login", url.Values{"email": {"Admin@A.example"}, "password": {"correct horse battery"}, "next": {"/history"}})
	if p.status != http.StatusSeeOther || p.loc != "/history" {
		t.Fatalf("sign in: %d %q", p.status, p.loc)
	}
	var ck *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "herald_session" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
		t.Fatalf("session cookie over http: %+v", ck)
	}
	want(t, b.get("/history"), http.StatusOK, "History", "admin@a.example")
	want(t, b.post("/logout", nil), http.StatusSeeOther)
	if p := b.get("/history"); p.status != http.StatusSeeOther {
		t.Fatalf("after sign-out /history: %d", p.status)
	}
	// The secret of a signed-out session opens nothing.
	b2 := e.browser()
	u, _ := url.Parse(e.srv.URL)
	b2.c.Jar.SetCookies(u, []*http.Cookie{{Name: "herald_session", Value: ck.Value}})
	if p := b2.get("/users"); p.status != http.StatusSeeOther {
		t.Fatalf("signed-out secret reused: %d", p.status)
	}
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	e := newEnv(t, 0)
	b := e.browser()
	form := url.Values{"email": {"admin@a.example"}, "password": {"correct horse battery"}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	p := b.do(req)
	if !strings.Contains(p.header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("cookie over https lacks Secure: %s", p.header.Get("Set-Cookie"))
	}
}

func TestRedirectAfterSignInStaysHere(t *testing.T) {
	e := newEnv(t, 0)
	for _, next := range []string{"//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)"} {
		p := e.browser().post("/login", url.Values{"email": {"admin@a.example"}, "password": {"correct horse battery"}, "next": {next}})
		if p.loc != "/users" {
			t.Errorf("next %q redirected to %q", next, p.loc)
		}
	}
}

func TestSignInThrottled(t *testing.T) {
	e := newEnv(t, 0)
	for i := 0; i < operator.AttemptsPerAccount; i++ {
		want(t, e.browser().post("/login", url.Values{"email": {"admin@a.example"}, "password": {fmt.Sprintf("guess number %d", i)}}), http.StatusUnauthorized)
	}
	// Even the right password waits now: a guesser learns nothing.
	want(t, e.browser().post("/login", url.Values{"email": {"admin@a.example"}, "password": {"correct horse battery"}}), http.StatusTooManyRequests, "Too many sign-in attempts")
	// Another account from the same address is not locked by it.
	e.as("editor@a.example")
	e.clock.Add(operator.ThrottleWindow)
	e.as("admin@a.example")
}

func TestSessionExpires(t *testing.T) {
	e := newEnv(t, 0)
	b := e.as("admin@a.example")
	e.clock.Add(operator.DefaultSessionTTL + time.Second)
	p := b.get("/users")
	if p.status != http.StatusSeeOther || !strings.Contains(p.loc, "ended=1") {
		t.Fatalf("expired session: %d %q", p.status, p.loc)
	}
	want(t, b.get(p.loc), http.StatusOK, "Your session has ended")
	// Scripts get the API's error shape instead of a redirect.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/users/count", nil)
	req.Header.Set("Accept", "application/json")
	want(t, e.browser().do(req), http.StatusUnauthorized, `"code":"unauthorized"`)
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	b := e.as("editor@a.example")
	form := url.Values{"user": {"u1"}, "channel": {"email"}, "title": {"Hi"}, "body": {"Hello"}, "expectedCount": {"1"}}
	// No token.
	form.Set("csrf", "")
	want(t, b.post("/send/confirm", form), http.StatusForbidden, "security token")
	// Another session's token.
	other := e.as("admin@a.example")
	form.Set("csrf", other.csrf)
	want(t, b.post("/send/confirm", form), http.StatusForbidden, "security token")
	// The right token from another site.
	form.Set("csrf", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/send/confirm", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	want(t, b.do(req), http.StatusForbidden, "another site")
	if e.queue.len() != 0 {
		t.Fatalf("refused requests enqueued %d messages", e.queue.len())
	}
	// The right token from here sends.
	want(t, b.post("/send/confirm", form), http.StatusSeeOther)
	if e.queue.len() != 1 {
		t.Fatalf("send enqueued %d messages, want 1", e.queue.len())
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	viewer := e.as("viewer@a.example")
	p := viewer.get("/users/u1")
	want(t, p, http.StatusOK, "Ana")
	if strings.Contains(p.body, `href="/send?user=u1"`) {
		t.Fatal("a viewer is offered Send notification")
	}
	form := url.Values{"user": {"u1"}, "channel": {"email"}, "title": {"Hi"}, "body": {"Hello"}, "expectedCount": {"1"}}
	want(t, viewer.post("/send/confirm", form), http.StatusForbidden, "Your role (viewer) cannot do this")
	want(t, viewer.post("/send", form), http.StatusForbidden)
	want(t, viewer.post("/users/u1/preferences", url.Values{"channel.email": {"on"}}), http.StatusForbidden)
	want(t, viewer.get("/settings/operators"), http.StatusForbidden)
	if e.queue.len() != 0 {
		t.Fatal("a viewer sent")
	}
	editor := e.as("editor@a.example")
	want(t, editor.get("/settings/operators"), http.StatusForbidden)
	want(t, editor.post("/settings/operators/invite", url.Values{"email": {"x@a.example"}, "role": {"admin"}}), http.StatusForbidden)
	want(t, editor.get("/users/u1"), http.StatusOK, `href="/send?user=u1"`, "Send notification")
	want(t, e.as("admin@a.example").get("/settings/operators"), http.StatusOK, "editor@a.example", "viewer@a.example")
}

func TestAnotherWorkspaceSeesNothing(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	a := e.as("admin@a.example")
	p := a.post("/send/confirm", url.Values{"user": {"u1"}, "channel": {"email"}, "title": {"Secret plans"}, "body": {"Hello"}, "expectedCount": {"1"}})
	want(t, p, http.StatusSeeOther)
	nid := strings.TrimPrefix(strings.Split(p.loc, "?")[0], "/history/")
	want(t, a.get("/history/"+nid), http.StatusOK, "Secret plans")

	b := e.as("admin@b.example")
	want(t, b.get("/history/"+nid), http.StatusNotFound)
	want(t, b.get("/history/"+nid+"/status"), http.StatusNotFound)
	want(t, b.get("/history/"+nid+"/report.csv"), http.StatusNotFound)
	want(t, b.post("/history/"+nid+"/cancel", nil), http.StatusNotFound)
	want(t, b.get("/users/u1"), http.StatusNotFound)
	want(t, b.post("/users/u1/preferences", url.Values{}), http.StatusNotFound)
	if p := b.get("/history?q=secret"); strings.Contains(p.body, "Secret plans") {
		t.Fatal("another workspace's search finds the notification")
	}
	if p := b.get("/users?q=ana"); strings.Contains(p.body, "ana@example.com") {
		t.Fatal("another workspace's users list shows the user")
	}
	// An operator id of the other workspace.
	ops, _ := e.store.ListOperators(context.Background(), "ws_a")
	want(t, b.post("/settings/operators/"+ops[1].ID+"/remove", nil), http.StatusNotFound)
	want(t, b.post("/settings/operators/"+ops[1].ID+"/role", url.Values{"role": {"viewer"}}), http.StatusNotFound)
	if _, err := e.store.GetOperator(context.Background(), "ws_a", ops[1].ID); err != nil {
		t.Fatal("the other workspace removed an operator:", err)
	}
}

// A filter send shows N, is held to it, comes back with the new N when the
// audience changed, and with a grace period can be undone before anything
// is queued.
func TestSendToManyHeldToCountAndUndo(t *testing.T) {
	e := newEnv(t, 10*time.Second)
	for i := range 3 {
		e.putUser("ws_a", fmt.Sprintf("u%d", i), person{Name: fmt.Sprintf("User %d", i), Email: fmt.Sprintf("u%d@example.com", i), Status: "active"})
	}
	e.putUser("ws_a", "nomail", person{Name: "No mail", Status: "active"})
	e.putUser("ws_a", "off", person{Name: "Off", Email: "off@example.com", Status: "inactive"})
	b := e.as("editor@a.example")

	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/users/count?status=active&channel=email", nil)
	req.Header.Set("Accept", "application/json")
	want(t, b.do(req), http.StatusOK, `"users":4`, `"recipients":3`, `"label":"Send notification to 3 users"`)
	want(t, b.get("/send?status=active&channel=email"), http.StatusOK, "Audience: <strong>Users: status active</strong>")
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/send/check", strings.NewReader("status=active&channel=email&count=1&body=Hi+{{name}}"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	want(t, b.do(req), http.StatusOK, `"label":"Send notification to 3 users"`, `"body":"Hi User `)

	form := url.Values{"status": {"active"}, "channel": {"email"}, "title": {"Spring offer"}, "body": {"Hello {{name}}, 20% off"}}
	p := b.post("/send", form)
	want(t, p, http.StatusOK, "This notification goes to 3 users", "cannot be undone", "10 seconds", "Hello User ", ", 20% off", "Hello {{name}}, 20% off",
		`name="expectedCount" value="3"`)

	e.putUser("ws_a", "late", person{Name: "Late", Email: "late@example.com", Status: "active"})
	form.Set("expectedCount", "3")
	p = b.post("/send/confirm", form)
	want(t, p, http.StatusOK, "The audience changed", "4 users", `name="expectedCount" value="4"`)
	if e.queue.len()+e.steps.len() != 0 {
		t.Fatal("a changed audience was sent")
	}

	form.Set("expectedCount", "4")
	p = b.post("/send/confirm", form)
	want(t, p, http.StatusSeeOther)
	nid := strings.TrimPrefix(strings.Split(p.loc, "?")[0], "/history/")
	n, err := e.store.GetNotification(context.Background(), "ws_a", nid)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != notify.StatusScheduled || n.ScheduleAt == nil || n.ScheduleAt.Sub(e.clock.Now()) < 10*time.Second || n.CreatedBy != "operator editor@a.example" {
		t.Fatalf("console send: %+v", n)
	}
	want(t, b.get(p.loc), http.StatusOK, "Undo", "Hello {{name}}, 20% off")
	p = b.post("/history/"+nid+"/cancel", nil)
	want(t, p, http.StatusSeeOther)
	if n, _ = e.store.GetNotification(context.Background(), "ws_a", nid); n.Status != notify.StatusCancelled {
		t.Fatalf("after Undo: %s", n.Status)
	}
	if e.queue.len()+e.steps.len() != 0 {
		t.Fatal("an undone send was queued")
	}
	want(t, b.post("/history/"+nid+"/cancel", nil), http.StatusConflict, "can no longer be cancelled")

	audit := e.as("admin@a.example").get("/settings/audit")
	want(t, audit, http.StatusOK, "notification.send", "notification.cancel", "operator editor@a.example", "Spring offer")
}

func TestSendToOne(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Phone: "+34600123456"})
	b := e.as("editor@a.example")
	want(t, b.get("/send?user=u1"), http.StatusOK, "Send notification to Ana", "This notification goes to one person")
	form := url.Values{"user": {"u1"}, "channel": {"sms"}, "body": {"Your bill is ready, {{name}} ć"}}
	p := b.post("/send", form)
	want(t, p, http.StatusOK, "This notification goes to Ana", "1 segment per message (UCS-2)", "Estimated provider cost: <strong>$0.01</strong>")
	p = b.post("/send/confirm", url.Values{"user": {"u1"}, "channel": {"sms"}, "body": {"Your bill is ready, {{name}} ć"}, "expectedCount": {"1"}})
	want(t, p, http.StatusSeeOther)
	if e.queue.len() != 1 {
		t.Fatalf("enqueued %d, want 1", e.queue.len())
	}
	want(t, b.get(p.loc), http.StatusOK, "Accepted", "Your bill is ready, {{name}} ć")
}

func TestSendProblemsShowOnTheForm(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	b := e.as("editor@a.example")
	want(t, b.post("/send", url.Values{"user": {"u1"}, "channel": {"email"}, "title": {"Hi"}, "body": {"bad \x1b escape"}}), http.StatusUnprocessableEntity, "control character")
	want(t, b.post("/send", url.Values{"user": {"u1"}, "channel": {"email"}, "title": {"Hi"}, "body": {"x"}, "variables": {"no equals sign"}}), http.StatusUnprocessableEntity, "must be name=value")
	want(t, b.post("/send", url.Values{"status": {"nobody"}, "channel": {"email"}, "title": {"Hi"}, "body": {"x"}}), http.StatusOK, "This notification goes to 0 users", "Nobody can be reached")
	want(t, b.get("/send?user=ghost"), http.StatusNotFound)
	long := strings.Repeat("a", 60)
	want(t, b.post("/send", url.Values{"user": {"u1"}, "channel": {"push"}, "title": {long}, "body": {"x"}}), http.StatusOK, "The title has 60 characters: most phones show about 50")
}

func TestOperatorsLinks(t *testing.T) {
	e := newEnv(t, 0)
	admin := e.as("admin@a.example")
	p := admin.post("/settings/operators/invite", url.Values{"email": {"New@A.example"}, "role": {"viewer"}})
	want(t, p, http.StatusOK, "Invitation for new@a.example as viewer")
	link := regexp.MustCompile(`value="(http[^"]+/invite/[^"]+)"`).FindStringSubmatch(p.body)
	if link == nil {
		t.Fatal("no invitation link on the page")
	}
	path := strings.TrimPrefix(link[1], e.srv.URL)
	nb := e.browser()
	want(t, nb.get(path), http.StatusOK, "You were invited as viewer", "new@a.example")
	want(t, nb.post(path, url.Values{"name": {"New"}, "password": {"short"}}), http.StatusUnprocessableEntity, "at least 12 characters")
	p = nb.post(path, url.Values{"name": {"New"}, "password": {"a long enough password"}})
	if p.status != http.StatusSeeOther || p.loc != "/users" {
		t.Fatalf("join: %d %q %s", p.status, p.loc, p.body)
	}
	want(t, nb.get("/users"), http.StatusOK, "new@a.example")
	// A link works once.
	want(t, e.browser().get(path), http.StatusNotFound, "used already or has expired")
	want(t, e.browser().post(path, url.Values{"name": {"Again"}, "password": {"a long enough password"}}), http.StatusNotFound)

	o, err := e.store.GetOperatorByEmail(context.Background(), "new@a.example")
	if err != nil || o.Role != notify.RoleViewer {
		t.Fatalf("invited operator: %+v %v", o, err)
	}
	// A reset link signs out the operator's sessions.
	p = admin.post("/settings/operators/"+o.ID+"/reset", nil)
	reset := regexp.MustCompile(`value="http[^"]+(/reset/[^"]+)"`).FindStringSubmatch(p.body)
	if reset == nil {
		t.Fatalf("no reset link:\n%s", p.body)
	}
	want(t, e.browser().post(reset[1], url.Values{"password": {"another long password"}}), http.StatusSeeOther)
	if p := nb.get("/users"); p.status != http.StatusSeeOther {
		t.Fatalf("a session survived the password reset: %d", p.status)
	}
	// Role change and removal, by an admin, never of oneself.
	want(t, admin.post("/settings/operators/"+o.ID+"/role", url.Values{"role": {"editor"}}), http.StatusSeeOther)
	me, _ := e.store.GetOperatorByEmail(context.Background(), "admin@a.example")
	want(t, admin.post("/settings/operators/"+me.ID+"/remove", nil), http.StatusConflict, "cannot remove yourself")
	want(t, admin.post("/settings/operators/"+me.ID+"/role", url.Values{"role": {"viewer"}}), http.StatusConflict, "cannot lower your own role")
	want(t, admin.post("/settings/operators/"+o.ID+"/remove", nil), http.StatusSeeOther)
	if _, err := e.store.GetOperatorByEmail(context.Background(), "new@a.example"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Fatalf("removed operator still found: %v", err)
	}
	want(t, admin.get("/settings/audit"), http.StatusOK, "operator.invite", "operator.join", "operator.reset_link", "operator.password_reset", "operator.role", "viewer → editor", "operator.remove")
}

func TestSetupLink(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	if err := e.store.CreateWorkspace(ctx, notify.Workspace{ID: "ws_c", Name: "c", CreatedAt: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	l, err := e.ops.SetupLink(ctx, "ws_c")
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	want(t, b.get("/setup/"+l.Secret), http.StatusOK, "Create the first admin")
	// The setup route does not take an invitation's secret, nor an invitation route a setup one.
	want(t, b.get("/invite/"+l.Secret), http.StatusNotFound)
	want(t, b.post("/setup/"+l.Secret, url.Values{"email": {"admin@a.example"}, "name": {"Taken"}, "password": {"a long enough password"}}), http.StatusConflict)
	want(t, b.post("/setup/"+l.Secret, url.Values{"email": {"first@c.example"}, "name": {"First"}, "password": {"a long enough password"}}), http.StatusSeeOther)
	if _, err := e.ops.SetupLink(ctx, "ws_c"); !notify.IsCode(err, notify.CodeConflict) {
		t.Fatalf("a second setup link for a workspace with an admin: %v", err)
	}
}

func TestHeadersAndAssets(t *testing.T) {
	e := newEnv(t, 0)
	p := e.browser().get("/login")
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.body, "<script>") || strings.Contains(p.body, " onclick=") {
		t.Error("inline script allowed or used")
	}
	if p.header.Get("X-Frame-Options") != "DENY" || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers: %v", p.header)
	}
	m := regexp.MustCompile(`src="(/assets/console\.[0-9a-f]{12}\.js)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no hashed script on the page:\n%s", p.body)
	}
	a := e.browser().get(m[1])
	if a.status != http.StatusOK || a.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("asset: %d %v", a.status, a.header)
	}
	if a := e.browser().get("/assets/console.000000000000.js"); a.status != http.StatusNotFound {
		t.Fatalf("unknown asset: %d", a.status)
	}
}

func TestPreferencesByAnOperator(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	b := e.as("editor@a.example")
	p := b.post("/users/u1/preferences", url.Values{"channel.push": {"on"}, "channel.email": {"on"}, "newCategory": {"offers"}})
	want(t, p, http.StatusSeeOther)
	prefs, err := e.users.Preferences(context.Background(), "ws_a", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if prefs.Channels[notify.ChannelSMS] || !prefs.Channels[notify.ChannelEmail] || prefs.Categories["offers"] {
		t.Fatalf("preferences: %+v", prefs)
	}
	want(t, b.get("/users/u1"), http.StatusOK, `id="cat-offers" name="category.offers">`, `id="ch-email" name="channel.email" checked`)
}

// The history's "Sent from" filter: a console send (through its grace
// period, so scheduled) is a console send, listed under Console and not
// under API; the origin stays in the paging links and shows on the
// notification's page.
func TestHistorySentFrom(t *testing.T) {
	e := newEnv(t, 10*time.Second)
	ctx := context.Background()
	e.putUser("ws_a", "u1", person{Name: "Ana", Phone: "+34600123456"})
	b := e.as("editor@a.example")
	p := b.post("/send/confirm", url.Values{"user": {"u1"}, "channel": {"sms"}, "body": {"Console hello {{name}}"}, "expectedCount": {"1"}})
	want(t, p, http.StatusSeeOther)
	nid := strings.TrimPrefix(strings.Split(p.loc, "?")[0], "/history/")
	if n, err := e.store.GetNotification(ctx, "ws_a", nid); err != nil || n.Origin != notify.OriginConsole {
		t.Fatalf("console send origin = %q, %v; want console", n.Origin, err)
	}
	// More API sends than a page holds, stored as the API stores them,
	// oldest first (ids grow with time); apiIDs[0] is the newest.
	var ids notify.IDs
	var apiIDs []string
	for i := 51; i > 0; i-- {
		at := e.clock.Now().Add(-time.Duration(i) * time.Minute)
		n := notify.Notification{WorkspaceID: "ws_a", ID: ids.New(at), Channel: notify.ChannelSMS, Source: notify.SourceSingle, Origin: notify.OriginAPI,
			Body: fmt.Sprintf("API bill %d", i), Route: "home", Status: notify.StatusCompleted, Audience: notify.Audience{Kind: "addresses", Count: 1},
			CreatedAt: at, UpdatedAt: at, CreatedBy: "billing (k1)"}
		if err := e.store.CreateNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		apiIDs = append([]string{n.ID}, apiIDs...)
	}

	console := b.get("/history?origin=console")
	want(t, console, http.StatusOK, "/history/"+nid, `<option value="console" selected>Console</option>`, `<td data-label="From">Console</td>`)
	if strings.Contains(console.body, apiIDs[0]) {
		t.Errorf("/history?origin=console lists the API send %s", apiIDs[0])
	}
	api := b.get("/history?origin=api")
	want(t, api, http.StatusOK, "/history/"+apiIDs[0], `<td data-label="From">API</td>`, `&amp;origin=api" rel="next">Older</a>`)
	if strings.Contains(api.body, nid) {
		t.Errorf("/history?origin=api lists the console send %s", nid)
	}
	// The next page is still API sends only: the oldest one.
	m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(api.body)
	if m == nil {
		t.Fatal("no link to the older API sends")
	}
	older := b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	want(t, older, http.StatusOK, "/history/"+apiIDs[50], `<option value="api" selected>API</option>`)
	if n := strings.Count(older.body, `<td data-label="From">`); n != 1 {
		t.Errorf("the second page of API sends has %d rows, want 1", n)
	}
	if strings.Contains(b.get("/history?origin=campaign").body, "/history/"+nid) {
		t.Errorf("/history?origin=campaign lists the console send %s", nid)
	}
	want(t, b.get("/history"), http.StatusOK, "/history/"+nid, "/history/"+apiIDs[0])
	want(t, b.get("/history?origin=operator"), http.StatusUnprocessableEntity, "origin: must be api, console or campaign")
	want(t, b.get("/history/"+nid), http.StatusOK, "by operator editor@a.example, from the console")
	want(t, b.get("/history/"+apiIDs[0]), http.StatusOK, "by billing (k1), from the API")
}

// What a crafted request may not do: make a page say something else,
// send people to a route the workspace does not offer, or post a form too
// big to read.
func TestCraftedRequests(t *testing.T) {
	e := newEnv(t, 0)
	e.putUser("ws_a", "u1", person{Name: "Ana", Email: "ana@example.com"})
	b := e.as("editor@a.example")
	if p := b.get("/users?done=Session+expired:+sign+in+at+https://evil.example"); strings.Contains(p.body, "evil.example") {
		t.Fatal("a link's ?done= text is shown on the page")
	}
	if p := b.get("/no/such/page/evil.example"); p.status != http.StatusNotFound || strings.Contains(p.body, "evil.example") {
		t.Fatalf("the 404 page echoes the path: %d", p.status)
	}
	for _, field := range []string{"route", "button1route"} {
		form := url.Values{"user": {"u1"}, "channel": {"push"}, "title": {"Hi"}, "body": {"x"}, "expectedCount": {"0"}, field: {"https://evil.example/phish"}}
		want(t, b.post("/send/confirm", form), http.StatusUnprocessableEntity, "must be one of the workspace")
	}
	big := url.Values{"user": {"u1"}, "body": {strings.Repeat("x", 300<<10)}}
	want(t, b.post("/send", big), http.StatusRequestEntityTooLarge, "larger than")
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/send/confirm", strings.NewReader("csrf="+b.csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.status != http.StatusForbidden || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("a cross-site refusal: %d %v", p.status, p.header)
	}
	if e.queue.len() != 0 {
		t.Fatal("a crafted request sent")
	}
}
