// Package sdkapi is the HTTP edge of Herald's browser SDK: the routes under
// /sdk/v1 that a customer's web page calls as one of its users, with a
// short-lived user token (never an API key) and only from the workspace's
// allowed origins (CORS). It serves the SDK's files too. A token lets its
// holder act only as its one user: their devices, push permission,
// presence, inbox and preferences.
//
// Every request under /sdk/v1 names its workspace with the X-Herald-Client
// header (the client id: the workspace's id, which is public) and comes
// from a browser: one without an Origin header, or from an origin the
// workspace does not allow, is refused with 403 and no CORS headers, so
// the page cannot read anything. Routes under /sdk/v1/me/ also need
// Authorization: Bearer <user token> of that workspace (package
// usertoken); the handlers act on the token's user alone. Errors are the
// API's (package httpapi's shape).
package sdkapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/inbox"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/usertoken"
)

// Server serves /sdk/v1.
type Server struct {
	mux     *http.ServeMux
	users   *profile.Service
	store   Store
	opts    Options
	origins *originCache
	// inbox keeps the users' in-app inboxes (inbox.go).
	inbox *inbox.Service
}

// Services are what the SDK's routes act through: the user service holds
// the rules about the user's devices, permission, presence and
// preferences, as it does for the API.
type Services struct {
	Users *profile.Service
	Store Store
	// Inbox keeps the users' in-app inboxes (inbox.go), as it does for
	// the API.
	Inbox *inbox.Service
}

// Store is what the SDK's routes read and write of the store themselves:
// the workspace's allowed origins, and the deliveries its events move.
type Store interface {
	GetConsoleSettings(ctx context.Context, workspaceID string) (notify.ConsoleSettings, error)
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	GetDeliveries(ctx context.Context, workspaceID, notificationID string, keys []string) (map[string]notify.Delivery, error)
	UpdateDeliveryStatus(ctx context.Context, u notify.DeliveryUpdate) (bool, error)
	RecordAnswer(ctx context.Context, a notify.DeliveryAnswer) (bool, error)
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error)
}

// Options are the SDK's settings.
type Options struct {
	// Secret is Herald's signing secret (HERALD_UNSUBSCRIBE_SECRET): each
	// workspace's key of user tokens derives from it. Empty answers every
	// /sdk/v1/me route 503 not_configured.
	Secret []byte
	// ReadSecret, when set, reads Secret instead, when a request first
	// needs it (the api function reads it from SSM Parameter Store then,
	// not at start); a failed read answers 500 and is tried again by the
	// next request.
	ReadSecret func(context.Context) ([]byte, error)
	// VAPIDPublicKey is what the page subscribes to Web Push with; empty
	// (Web Push not configured) is answered as "", and the SDK offers no
	// push.
	VAPIDPublicKey string
	// Local is the local mode: a workspace that lists no origins allows
	// pages served from this machine (notify.ConsoleSettings.SDKAllows).
	Local bool
	// OriginsTTL is how long a workspace's allowed origins are kept in
	// memory between reads of the store: every SDK request checks them,
	// and a page polls. A change (PUT /v1/sdk/settings) reaches the SDK's
	// routes within it. Zero reads the store on every request.
	OriginsTTL time.Duration
	// InboxPoll is the interval the SDK polls the inbox at unless the page
	// sets its own (GET /sdk/v1/config's inboxPollMs): 10 s by default
	// (DESIGN.md prices it); make run suggests 1 s.
	InboxPoll time.Duration
	// MaxBodyBytes bounds a request body (default 64 KiB: the SDK's
	// bodies are small).
	MaxBodyBytes int64
	Now          func() time.Time
	Log          *slog.Logger
}

// routeFunc registers one route of the SDK API.
type routeFunc func(pattern string, h http.Handler)

// New builds the SDK API.
func New(svc Services, o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.InboxPoll <= 0 {
		o.InboxPoll = 10 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	s := &Server{mux: http.NewServeMux(), users: svc.Users, store: svc.Store, opts: o,
		origins: &originCache{ttl: o.OriginsTTL, entries: map[string]cachedOrigins{}}, inbox: svc.Inbox}
	route := func(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }
	s.identityRoutes(route)
	s.inboxRoutes(route)
	return s
}

// Options are the settings the server was built with (defaults filled
// in), for the wiring's tests.
func (s *Server) Options() Options { return s.opts }

// What the SDK's CORS answers allow: the methods of its routes and the
// headers the SDK sends; ETag and Retry-After are for the page to read.
const (
	allowMethods  = "GET, POST, PUT, DELETE"
	allowHeaders  = "authorization, content-type, x-herald-client, if-none-match"
	exposeHeaders = "ETag, Retry-After"
	preflightAge  = "600"
	clientHeader  = "X-Herald-Client"
	mePrefix      = "/sdk/v1/me/"
)

// ServeHTTP checks a request's origin against its workspace's, and the
// user token of the /sdk/v1/me routes, before any route sees it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.opts.Now()
	rec := &httpapi.StatusRecorder{ResponseWriter: w, Status: http.StatusOK}
	info := &requestInfo{}
	defer func() {
		s.opts.Log.Info("sdk request", "method", r.Method, "route", info.route, "status", rec.Status,
			"workspaceId", info.workspace, "ms", s.opts.Now().Sub(start).Milliseconds())
	}()
	w = rec
	w.Header().Add("Vary", "Origin")
	if !strings.HasPrefix(r.URL.Path, "/sdk/v1/") {
		httpapi.WriteError(w, notify.Errorf(notify.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
		return
	}
	if serveFile(w, r) {
		info.route = "GET " + r.URL.Path
		return
	}
	if r.Method == http.MethodOptions {
		s.preflight(w, r)
		return
	}
	origin, client := r.Header.Get("Origin"), r.Header.Get(clientHeader)
	// A browser sends no Origin with a GET to its page's own origin: a
	// page served by Herald itself (make run's demo, on AWS the console's
	// domain), which needs no CORS. Sec-Fetch-Site says so.
	sameOrigin := origin == "" && r.Header.Get("Sec-Fetch-Site") == "same-origin"
	switch {
	case origin == "" && !sameOrigin:
		httpapi.WriteError(w, notify.Errorf(notify.CodeForbidden, "the SDK's routes answer browsers only: no Origin header"))
		return
	case profile.ValidID(clientHeader, client) != nil:
		httpapi.WriteError(w, notify.Errorf(notify.CodeForbidden, "%s must name the workspace (its client id)", clientHeader))
		return
	}
	info.workspace = client
	allowed := sameOrigin
	if !sameOrigin {
		var err error
		if allowed, err = s.allowed(r.Context(), client, origin); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if !allowed {
		httpapi.WriteError(w, notify.Errorf(notify.CodeForbidden, "origin %s may not use this workspace's SDK: add it with PUT /v1/sdk/settings", clip(origin)))
		return
	}
	h := w.Header()
	if !sameOrigin {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", exposeHeaders)
	}
	ctx := r.Context()
	if strings.HasPrefix(r.URL.Path, mePrefix) {
		p, err := s.authenticate(r, client)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ctx = context.WithValue(ctx, principalKey{}, p)
	}
	r = r.WithContext(ctx)
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		s.noRoute(w, r)
		return
	}
	info.route = pattern
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes)
	s.mux.ServeHTTP(w, r)
}

// preflight answers a browser's CORS preflight. A preflight carries no
// header values, so it cannot say which workspace asks (X-Herald-Client is
// only named in it): it answers, for any web origin, which methods and
// headers the SDK's routes take, and the request that follows is checked
// against its workspace's origins, refused (403, no CORS headers) when
// the origin is not one of them.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if _, ok := notify.NormalizeOrigin(origin); !ok {
		httpapi.WriteError(w, notify.Errorf(notify.CodeForbidden, "a CORS preflight needs the Origin of a web page"))
		return
	}
	if m := r.Header.Get("Access-Control-Request-Method"); !slices.Contains(strings.Split(allowMethods, ", "), m) {
		httpapi.WriteError(w, notify.Errorf(notify.CodeForbidden, "method %s is not one of the SDK's", clip(m)))
		return
	}
	for _, name := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "" && !slices.Contains(strings.Split(allowHeaders, ", "), name) {
			httpapi.WriteError(w, notify.Errorf(notify.CodeForbidden, "header %s is not one the SDK sends", clip(name)))
			return
		}
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", allowMethods)
	h.Set("Access-Control-Allow-Headers", allowHeaders)
	h.Set("Access-Control-Max-Age", preflightAge)
	w.WriteHeader(http.StatusNoContent)
}

// allowed reports whether the workspace's pages may call from origin.
func (s *Server) allowed(ctx context.Context, workspaceID, origin string) (bool, error) {
	cs, err := s.origins.get(workspaceID, s.opts.Now(), func() (notify.ConsoleSettings, error) {
		cs, err := s.store.GetConsoleSettings(ctx, workspaceID)
		if notify.IsCode(err, notify.CodeNotFound) {
			return notify.ConsoleSettings{WorkspaceID: workspaceID}, nil
		}
		return cs, err
	})
	if err != nil {
		return false, err
	}
	return cs.SDKAllows(origin, s.opts.Local), nil
}

// principal is who a /sdk/v1/me request acts as: the token's user, in the
// workspace the request names.
type principal struct {
	WorkspaceID string
	UserID      string
}

type principalKey struct{}

// principalOf is the user a /sdk/v1/me request acts as; ServeHTTP put it
// there from the token, before any route.
func principalOf(r *http.Request) (principal, bool) {
	p, ok := r.Context().Value(principalKey{}).(principal)
	return p, ok && p.WorkspaceID != "" && p.UserID != ""
}

// authenticate checks the request's user token: signed with the key of
// the workspace it names, which must be the client's, and not expired.
func (s *Server) authenticate(r *http.Request, client string) (principal, error) {
	secret := s.opts.Secret
	if s.opts.ReadSecret != nil {
		var err error
		if secret, err = s.opts.ReadSecret(r.Context()); err != nil {
			return principal{}, fmt.Errorf("read the signing secret: %w", err)
		}
	}
	if len(secret) == 0 {
		return principal{}, notify.Errorf(notify.CodeNotConfigured, "user tokens need Herald's signing secret (HERALD_UNSUBSCRIBE_SECRET)")
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return principal{}, notify.Errorf(notify.CodeUnauthorized, "Authorization: Bearer <user token> is required (POST /v1/users/{id}/sdk-token mints one)")
	}
	c, err := usertoken.Verify(strings.TrimSpace(token), func(ws string) []byte { return usertoken.SigningKey(secret, ws) }, s.opts.Now())
	if err != nil {
		return principal{}, err
	}
	if c.WorkspaceID != client {
		return principal{}, notify.Errorf(notify.CodeUnauthorized, "the user token is for another client id than %s", client)
	}
	if profile.ValidID("u", c.UserID) != nil {
		return principal{}, notify.Errorf(notify.CodeUnauthorized, "the user token names no valid user id")
	}
	return principal{WorkspaceID: c.WorkspaceID, UserID: c.UserID}, nil
}

// me adapts a route that acts as the token's user.
func (s *Server) me(h func(w http.ResponseWriter, r *http.Request, p principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principalOf(r)
		if !ok { // a /me route registered outside mePrefix: a bug, never a pass
			s.fail(w, r, errors.New("sdk route without a user: register it under "+mePrefix))
			return
		}
		if err := h(w, r, p); err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail writes err in the API's error shape; an error without a code is
// logged and answered "internal error".
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *notify.Error
	if !errors.As(err, &e) {
		s.opts.Log.Error("sdk internal error", "method", r.Method, "path", r.URL.Path, "err", err.Error())
		e = notify.Errorf(notify.CodeInternal, "internal error")
	}
	httpapi.WriteError(w, e)
}

// noRoute answers a path no route serves (404) or a method its route
// does not take (405), in the API's shape.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.mux.Handler(r2); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		httpapi.WriteJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{"code": "method_not_allowed", "message": "method " + r.Method + " is not allowed here"}})
		return
	}
	httpapi.WriteError(w, notify.Errorf(notify.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
}

// clip quotes what a request said, at most 100 bytes of it, for an
// answer that repeats it.
func clip(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return strconv.Quote(s)
}

// originCache keeps workspaces' settings for ttl, so that a page's polls
// do not read them every time. It holds at most maxCachedWorkspaces.
type originCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cachedOrigins
}

type cachedOrigins struct {
	settings notify.ConsoleSettings
	at       time.Time
}

const maxCachedWorkspaces = 10000

func (c *originCache) get(ws string, now time.Time, load func() (notify.ConsoleSettings, error)) (notify.ConsoleSettings, error) {
	if c.ttl <= 0 {
		return load()
	}
	c.mu.Lock()
	e, ok := c.entries[ws]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.settings, nil
	}
	cs, err := load()
	if err != nil {
		return cs, err
	}
	c.mu.Lock()
	if len(c.entries) >= maxCachedWorkspaces {
		clear(c.entries)
	}
	c.entries[ws] = cachedOrigins{settings: cs, at: now}
	c.mu.Unlock()
	return cs, nil
}

type requestInfo struct {
	route, workspace string
}
