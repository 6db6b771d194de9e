// Package console is the operators' web console: server-rendered pages
// (html/template) over the same services as the HTTP API, with small
// plain-JS enhancements (live counts, previews, AI variants) and forms that
// work without them. Assets are embedded and served under content-hashed
// names with immutable caching; nothing is loaded from another origin.
//
// Security: sessions in the store behind HttpOnly, SameSite=Lax cookies
// (Secure over https), a per-session CSRF token on every state-changing
// request beside the browser's own cross-origin check
// (http.CrossOriginProtection), a strict Content-Security-Policy with no
// inline script, frame-ancestors 'none', and roles checked on every route.
package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/send"
	heraldtemplate "github.com/heraldhq/herald/shared/template"
	"github.com/heraldhq/herald/shared/upload"
)

// Store is what the console reads directly: the history and its
// deliveries (the services do the writing).
type Store interface {
	notify.Notifications
	notify.Deliveries
	GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]notify.User, error)
	ListOperators(ctx context.Context, workspaceID string) ([]notify.Operator, error)
	ListAudit(ctx context.Context, workspaceID string, p notify.Page) ([]notify.AuditEntry, string, error)
	GetComposeSettings(ctx context.Context, workspaceID string) (notify.ComposeSettings, error)
	// Campaigns and their runs, read for the campaigns pages (the
	// campaign service writes them).
	GetCampaign(ctx context.Context, workspaceID, id string) (notify.Campaign, error)
	ListCampaigns(ctx context.Context, workspaceID, kind string, p notify.Page) ([]notify.Campaign, string, error)
	ListRuns(ctx context.Context, workspaceID, campaignID string, p notify.Page) ([]notify.CampaignRun, string, error)
	// Settings: AI composition's settings and usage, the workspace's
	// destinations.
	PutComposeSettings(ctx context.Context, s notify.ComposeSettings) error
	ListComposeUsage(ctx context.Context, workspaceID, from, to string) ([]notify.ComposeUsage, error)
	notify.Settings
	// Templates: New send's gallery and sample sheets, the editor's
	// versions (a console built without Services.Templates keeps them
	// through its own template.Service).
	notify.Templates
}

// Services are the services the console drives; the API drives the same.
type Services struct {
	Store     Store
	Operators *operator.Service
	Users     *profile.Service
	Sends     *send.Sender
	// Campaigns schedules a send's grace period (the Undo) and keeps the
	// campaigns of the Campaigns pages; nil sends at once, without Undo,
	// and the Campaigns pages say that a scheduler is needed.
	Campaigns *campaign.Service
	// Compose writes text with AI; nil explains how to configure a model.
	Compose *compose.Composer
	// Reports writes result sheets.
	Reports ingest.Reporter
	// Templates keeps the workspace's templates (WhatsApp templates
	// reopen expired conversations).
	Templates *heraldtemplate.Service
	// Keys makes and revokes API keys with the API's rules (Settings).
	Keys *apikey.Keys
	// Uploads make New send's spreadsheet uploads, as the API's; nil
	// explains that uploads are not configured.
	Uploads *upload.Service
}

// Destination is an in-app route a push may open.
type Destination struct {
	Route string
	Label string
}

// Options tune the console.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
	// Grace is how long a send waits, with Undo, before it is queued
	// (DefaultGrace when 0; none when negative).
	Grace time.Duration
	// Destinations are the routes offered in the send form (Home when
	// empty).
	Destinations []Destination
	// Prices are the workspace's provider prices per message (per SMS
	// segment), by channel, in US dollars; the confirmation estimates the
	// cost of a send with them.
	Prices map[notify.Channel]float64
	// SecureCookies marks cookies Secure on every request (behind a TLS
	// terminator such as API Gateway); otherwise only over https.
	SecureCookies bool
	// ComposeHelp says how to configure an AI model, shown when there is
	// none.
	ComposeHelp string
	// Channels say what delivers each channel and what configures the
	// others, for Settings (never a secret).
	Channels []ChannelSetup
	// ComposeRate is each workspace's limit of AI requests per minute
	// (HERALD_COMPOSE_RATE_PER_MINUTE), shown in Settings.
	ComposeRate int
	// DemoURL is make run's sample customer site using the browser SDK;
	// the navigation links to it when set.
	DemoURL string
	// UploadOrigin is the origin New send's script PUTs spreadsheets to
	// when it is not the console's own (the uploads bucket's, on AWS): the
	// Content-Security-Policy lets the page's script connect to it.
	UploadOrigin string
	// LinkSecret checks the signed links of the recipients' preference
	// page (HERALD_UNSUBSCRIBE_SECRET, which signs them); without it every
	// such link is refused.
	LinkSecret []byte
	// ReadLinkSecret, when set, reads LinkSecret instead, when a page
	// first needs it (the api function reads it from SSM Parameter Store
	// then, not at start); a failed read fails that page, and the next
	// such request reads again.
	ReadLinkSecret func(context.Context) ([]byte, error)
}

// DefaultGrace is how long a console send can be undone.
const DefaultGrace = 10 * time.Second

// Console serves the console's pages.
type Console struct {
	svc   Services
	opts  Options
	mux   *http.ServeMux
	pages map[string]func() *template.Template
	csrf  *http.CrossOriginProtection
	// paths are the routes' paths (RoutePaths).
	paths []string
}

// New builds the console.
func New(svc Services, opts Options) *Console {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if len(opts.Destinations) == 0 {
		opts.Destinations = []Destination{{Route: render.DefaultRoute, Label: "Home"}}
	}
	if svc.Templates == nil && svc.Store != nil {
		svc.Templates = &heraldtemplate.Service{Store: svc.Store, IDs: &notify.IDs{}, Now: opts.Now}
	}
	c := &Console{svc: svc, opts: opts, mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection()}
	c.csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, nil, notify.Errorf(notify.CodeForbidden, "this request came from another site and was refused; open the console and try again"))
	}))
	c.pages = parsePages()
	c.routes()
	return c
}

// RoutePaths are the paths of the console's routes, as ServeMux patterns
// without their method ("/users/{id}"): the deployment routes exactly
// these to the console (events/template_test.go checks template.yaml).
func RoutePaths() []string {
	c := &Console{mux: http.NewServeMux()}
	c.routes()
	return c.paths
}

// access is who may use a route.
type access int

const (
	public access = iota // no session needed (sign-in, links, assets)
	viewer
	editor
	admin
)

// handler is a route's function: it gets the signed-in operator (zero on
// public routes) and returns an error to show.
type handler func(w http.ResponseWriter, r *http.Request, s *session) error

// session is the signed-in operator of a request.
type session struct {
	notify.Session
	Operator notify.Operator
}

// routeFunc registers one route: its pattern, who may use it, its handler.
type routeFunc func(pattern string, who access, h handler)

func (c *Console) routes() {
	route := func(pattern string, who access, h handler) {
		c.mux.Handle(pattern, c.wrap(who, h))
		_, path, _ := strings.Cut(pattern, " ")
		if !slices.Contains(c.paths, path) {
			c.paths = append(c.paths, path)
		}
	}
	route("GET /{$}", public, c.home)
	route("GET /login", public, c.loginForm)
	route("POST /login", public, c.login)
	route("POST /logout", viewer, c.logout)
	route("GET /setup/{token}", public, c.linkForm)
	route("POST /setup/{token}", public, c.useLink)
	route("GET /invite/{token}", public, c.linkForm)
	route("POST /invite/{token}", public, c.useLink)
	route("GET /reset/{token}", public, c.linkForm)
	route("POST /reset/{token}", public, c.useLink)

	route("GET /users", viewer, c.users)
	route("GET /users/count", viewer, c.usersCount)
	route("GET /users/{id}", viewer, c.user)
	route("POST /users/{id}/preferences", editor, c.savePreferences)

	route("GET /send", viewer, c.sendForm)
	route("POST /send/check", viewer, c.sendCheck)
	route("POST /send", editor, c.review)
	route("POST /send/confirm", editor, c.confirm)
	route("POST /compose", editor, c.compose)

	route("GET /history", viewer, c.history)
	route("GET /history/{id}", viewer, c.notification)
	route("GET /history/{id}/status", viewer, c.notificationStatus)
	route("GET /history/{id}/report.csv", viewer, c.report)
	route("POST /history/{id}/cancel", editor, c.cancel)

	route("GET /settings/operators", admin, c.operators)
	route("POST /settings/operators/invite", admin, c.invite)
	route("POST /settings/operators/{id}/role", admin, c.setRole)
	route("POST /settings/operators/{id}/reset", admin, c.resetLink)
	route("POST /settings/operators/{id}/remove", admin, c.removeOperator)
	route("GET /settings/audit", admin, c.audit)

	// The screens of the console's second part, each in its own file.
	c.templateRoutes(route)
	c.sendsRoutes(route)
	c.campaignRoutes(route)
	c.conversationRoutes(route)
	c.settingsRoutes(route)
	c.preferenceRoutes(route)

	c.mux.Handle("GET /assets/{name}", http.HandlerFunc(serveAsset))
	c.paths = append(c.paths, "/assets/{name}")
	c.mux.Handle("/", c.wrap(public, func(w http.ResponseWriter, r *http.Request, _ *session) error {
		return notify.Errorf(notify.CodeNotFound, "there is no such page in the console")
	}))
}

// ServeHTTP serves a console page.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; connect-src 'self'"+c.uploadSource()+"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	// Pages are personal: never cached (assets override it with their
	// immutable caching).
	h.Set("Cache-Control", "no-store")
	if c.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.mux.ServeHTTP(w, r)
}

const (
	sessionCookie = "herald_session"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
	// maxForm bounds a form body.
	maxForm = 256 << 10
)

// streamed, added to a route's access (editor|streamed), marks a route
// whose handler reads a multipart body itself, as it arrives (a
// spreadsheet streamed to the blob store): wrap neither bounds nor parses
// such a body, nor looks for its CSRF token, which the handler checks
// (checkToken) before it reads the rest. Other bodies are wrapped as on
// any route.
const streamed access = 1 << 8

func (c *Console) wrap(who access, h handler) http.Handler {
	stream := who&streamed != 0
	who &^= streamed
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
		multipart := stream && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
		if unsafe && multipart {
			// Refused cross-site before anything else, as every request.
			if err := c.csrf.Check(r); err != nil {
				c.fail(w, r, nil, notify.Errorf(notify.CodeForbidden, "this request came from another site and was refused; open the console and try again"))
				return
			}
		} else if unsafe {
			// Browsers say where a request came from; a cross-site one is
			// refused before anything else (sign-in included).
			if err := c.csrf.Check(r); err != nil {
				c.fail(w, r, nil, notify.Errorf(notify.CodeForbidden, "this request came from another site and was refused; open the console and try again"))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					c.fail(w, r, nil, notify.Errorf(notify.CodePayloadTooLarge, "the form is larger than %d KB", maxForm>>10))
					return
				}
				c.fail(w, r, nil, notify.Errorf(notify.CodeBadRequest, "the form could not be read"))
				return
			}
		}
		var s *session
		if who != public || r.URL.Path == "/" {
			var err error
			s, err = c.session(r)
			if err != nil && who != public {
				if operator.IsUnauthorized(err) {
					c.toLogin(w, r, err)
					return
				}
				c.fail(w, r, nil, err)
				return
			}
		}
		if s != nil && unsafe && !multipart {
			if !c.tokenOK(r, s) {
				c.fail(w, r, s, notify.Errorf(notify.CodeForbidden, "the form's security token is missing or out of date; reload the page and try again"))
				return
			}
		}
		if s != nil && who > viewer && !s.Operator.Role.Allows(roleFor(who)) {
			c.fail(w, r, s, notify.Errorf(notify.CodeForbidden, "your role (%s) cannot do this; ask an admin", s.Operator.Role))
			return
		}
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
}

func roleFor(a access) notify.Role {
	switch a {
	case admin:
		return notify.RoleAdmin
	case editor:
		return notify.RoleEditor
	}
	return notify.RoleViewer
}

// tokenOK checks the CSRF token of a state-changing request: a form field
// or, for the scripts' fetches, a header.
func (c *Console) tokenOK(r *http.Request, s *session) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && got == s.CSRF
}

func (c *Console) session(r *http.Request) (*session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, notify.Errorf(notify.CodeUnauthorized, "sign in to use the console")
	}
	sess, o, err := c.svc.Operators.Session(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	return &session{Session: sess, Operator: o}, nil
}

// toLogin sends a person without a session to the sign-in page, back to
// where they were going afterwards. Scripts get a 401 instead.
func (c *Console) toLogin(w http.ResponseWriter, r *http.Request, err error) {
	if wantsJSON(r) {
		c.fail(w, r, nil, err)
		return
	}
	_, cerr := r.Cookie(sessionCookie)
	hadSession := cerr == nil
	if hadSession {
		clearCookie(w, r, c.opts.SecureCookies)
	}
	next := ""
	if r.Method == http.MethodGet {
		next = r.URL.RequestURI()
	}
	q := url.Values{}
	if next != "" && next != "/" {
		q.Set("next", next)
	}
	if hadSession {
		q.Set("ended", "1")
	}
	target := "/login"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (c *Console) secure(r *http.Request) bool {
	return c.opts.SecureCookies || r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setSessionCookie keeps the cookie a day past the session's end, so
// that a person coming back is told their session ended (the store, not
// the cookie, decides whether it has).
func setSessionCookie(w http.ResponseWriter, r *http.Request, secure bool, secret string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteLaxMode, Expires: expires.Add(24 * time.Hour)})
}

func clearCookie(w http.ResponseWriter, r *http.Request, always bool) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: always || r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// fail shows err: a page for people, the API's error shape for scripts.
// Errors without a code are logged and shown as an internal error.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var e *notify.Error
	if !errors.As(err, &e) {
		c.opts.Log.Error("console internal error", "path", r.URL.Path, "err", err.Error())
		e = notify.Errorf(notify.CodeInternal, "something went wrong on our side; try again, and if it keeps happening look at Herald's log")
	}
	status := e.HTTPStatus()
	if wantsJSON(r) {
		writeJSON(w, status, map[string]any{"error": map[string]any{"code": e.Code, "message": e.Message, "details": e.Details, "currentCount": e.CurrentCount}})
		return
	}
	c.render(w, r, s, status, "error", map[string]any{"Title": errorTitle(status), "Error": e})
}

func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	}
	if status >= 500 {
		return "Something went wrong"
	}
	return "That did not work"
}

// flashes are the messages a redirect may ask a page to show (?done=…):
// a fixed set, so that a link cannot make the console say anything else.
var flashes = map[string]string{
	"cancelled": "Cancelled: nothing more will be sent.",
	"role":      "Role changed; the operator's open sessions follow it at once.",
	"removed":   "Operator removed; their sessions are signed out.",
}

// page is what every template gets.
type page struct {
	Title    string
	Nav      string
	Operator notify.Operator
	CSRF     string
	Flash    string
	Data     any
	// DemoURL is the SDK demo's address (local mode), linked from the
	// navigation.
	DemoURL string
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name string, data any) {
	parsed, ok := c.pages[name]
	if !ok {
		panic(fmt.Sprintf("console: no page %q", name))
	}
	t := parsed()
	p := page{Data: data, Nav: name, Flash: flashes[r.URL.Query().Get("done")], DemoURL: c.opts.DemoURL}
	if m, ok := data.(map[string]any); ok {
		if title, ok := m["Title"].(string); ok {
			p.Title = title
		}
	}
	if tp, ok := data.(interface{ PageTitle() string }); ok {
		p.Title = tp.PageTitle()
	}
	if s != nil {
		p.Operator, p.CSRF = s.Operator, s.CSRF
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.opts.Log.Error("console render", "page", name, "err", err.Error())
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) error {
	if s == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

// linkSecret is Options.LinkSecret, or what Options.ReadLinkSecret reads.
func (c *Console) linkSecret(ctx context.Context) ([]byte, error) {
	if c.opts.ReadLinkSecret == nil {
		return c.opts.LinkSecret, nil
	}
	secret, err := c.opts.ReadLinkSecret(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the link secret: %w", err)
	}
	return secret, nil
}

// parsePages returns each page by name, parsed from the embedded templates
// (the page file with the layout and the partials, html/_*.html) on its
// first use and kept: parsing every page when the console is built was a
// good part of the api function's cold start (~7 ms here), and most of
// its requests (the API's) render none. A page that does not parse panics, on every use,
// with the template's error; TestEveryPageParses parses them all.
func parsePages() map[string]func() *template.Template {
	names, err := fs.Glob(htmlFS, "html/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]func() *template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "html/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue // the layout and the partials go with every page
		}
		out[base] = sync.OnceValue(func() *template.Template {
			return template.Must(template.New(base).Funcs(funcs).ParseFS(htmlFS, "html/layout.html", "html/_*.html", n))
		})
	}
	return out
}
