// Package httpapi is Herald's HTTP API, written once as a net/http handler:
// the local server serves it directly and the api Lambda adapts API Gateway
// events to it.
package httpapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/inbox"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/template"
)

//go:embed openapi.json
var openapiDoc []byte

// Enqueuer puts messages on a queue (the dispatch or the audience queue).
type Enqueuer = send.Enqueuer

// Outbox lists what the local outbox delivered; only the local mode has one.
type Outbox interface {
	ListOutbox(ctx context.Context, workspaceID string, ch notify.Channel, address string, p notify.Page) ([]notify.OutboxEntry, string, error)
}

// Config holds the API's limits and settings.
type Config struct {
	// MaxBodyBytes bounds a request body (default 5 MiB: 10,000 user ids of
	// 128 characters fit, and it stays under Lambda's 6 MB payload); larger → 413.
	MaxBodyBytes int64
	// VAPIDPublicKey is the Web Push application server key the page that
	// subscribes needs; empty when Web Push is not configured.
	VAPIDPublicKey string
	// LinkSecret signs the links to the users' preference pages
	// (HERALD_UNSUBSCRIBE_SECRET, as the console checks them), and the
	// workspaces' keys of the browser SDK's user tokens derive from it;
	// empty answers POST /v1/users/{id}/preference-link, .../sdk-token and
	// GET /v1/sdk/signing-key with 503 not_configured.
	LinkSecret []byte
	// ReadLinkSecret, when set, reads LinkSecret instead, when a route
	// first needs it (the api function reads it from SSM Parameter Store
	// then, not at start); a failed read answers 500 and is tried again
	// by the next such request.
	ReadLinkSecret func(context.Context) ([]byte, error)
	// PublicURL is where people reach Herald (HERALD_PUBLIC_URL): the
	// preference links start with it. Empty is the https origin a request
	// came to, as behind API Gateway, whose own domain serves the page.
	PublicURL string
}

// Server serves the API.
type Server struct {
	store   Store
	uploads *Uploads
	// users and keys hold the rules about users and API keys; the
	// handlers of users.go only decode, call them and encode.
	users *profile.Service
	keys  *apikey.Keys
	// composer writes AI text; nil answers POST /v1/compose with 503.
	composer *compose.Composer
	sender   *send.Sender
	// templates keeps the workspace's templates (built in New from the
	// store, for now).
	templates *template.Service
	// campaigns keeps campaigns and scheduled sends; nil (no scheduler)
	// answers their routes with 503 not_configured.
	campaigns *campaign.Service
	outbox    Outbox
	metrics   Metrics
	ids       *notify.IDs
	now       func() time.Time
	log       *slog.Logger
	cfg       Config
	audit     func(ctx context.Context, e notify.AuditEntry)
	mux       *http.ServeMux
	// inbox keeps the users' in-app inboxes.
	inbox *inbox.Service
}

// Services are what the API serves. The rules live in them, so that they
// hold the same whoever calls (the API, a campaign's run, the console);
// the handlers decode a request, check its scopes, call a service and
// encode its answer. Package wiring builds them.
type Services struct {
	// Store answers what the handlers read as it is stored (the history,
	// uploads, keys by hash, idempotency records).
	Store Store
	Sends *send.Sender
	Users *profile.Service
	Keys  *apikey.Keys
	// Templates keeps the workspace's templates.
	Templates *template.Service
	// Campaigns keeps campaigns and scheduled sends; nil (no scheduler)
	// answers their routes with 503 not_configured.
	Campaigns *campaign.Service
	// Compose writes AI text; nil answers POST /v1/compose with 503
	// not_configured (the options and usage routes still work).
	Compose *compose.Composer
	// Inbox keeps the users' in-app inboxes.
	Inbox *inbox.Service
}

// Store is what the handlers read and write of the store themselves:
// what has no rule beyond being stored.
type Store interface {
	apikey.Getter
	notify.Idempotency
	notify.Uploads
	// ReportStore writes the result spreadsheets of uploads.
	ingest.ReportStore
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	ListNotifications(ctx context.Context, workspaceID string, q notify.NotificationQuery, p notify.Page) ([]notify.Notification, string, error)
	SetNotificationStatus(ctx context.Context, workspaceID, id string, to notify.Status, from ...notify.Status) (notify.Notification, error)
	GetTemplate(ctx context.Context, workspaceID, id string) (notify.Template, error)
	GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]notify.User, error)
	GetCampaign(ctx context.Context, workspaceID, id string) (notify.Campaign, error)
	ListCampaigns(ctx context.Context, workspaceID, kind string, p notify.Page) ([]notify.Campaign, string, error)
	ListRuns(ctx context.Context, workspaceID, campaignID string, p notify.Page) ([]notify.CampaignRun, string, error)
	// Settings keep the browser SDK's allowed origins (beside the
	// console's destinations).
	notify.Settings
	GetComposeSettings(ctx context.Context, workspaceID string) (notify.ComposeSettings, error)
	PutComposeSettings(ctx context.Context, s notify.ComposeSettings) error
	ListComposeUsage(ctx context.Context, workspaceID, from, to string) ([]notify.ComposeUsage, error)
}

// Options are a Server's edge collaborators; Outbox is nil outside local
// mode.
type Options struct {
	// Uploads serve spreadsheet sends and imports; without them the upload
	// routes answer 503 not_configured.
	Uploads *Uploads
	// Routes, when set, limits the server to the routes whose path starts
	// with one of these prefixes (the compose function serves
	// ComposeRoutes); the others answer 404.
	Routes []string
	Outbox Outbox
	// Metrics serves GET /v1/metrics (the local mode's figures); without
	// it the route answers 503 not_configured, saying where they are.
	Metrics Metrics
	IDs     *notify.IDs
	Now     func() time.Time
	Log     *slog.Logger
	Config  Config
	// Audit adds the changes made through the API (keys, templates, sends,
	// campaigns) to the workspace's audit trail, beside the console's own;
	// nil keeps none.
	Audit func(ctx context.Context, e notify.AuditEntry)
}

// New returns a Server.
func New(svc Services, o Options) *Server {
	if o.IDs == nil {
		o.IDs = &notify.IDs{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Config.MaxBodyBytes <= 0 {
		o.Config.MaxBodyBytes = 5 << 20
	}
	s := &Server{store: svc.Store, users: svc.Users, keys: svc.Keys, sender: svc.Sends, templates: svc.Templates, campaigns: svc.Campaigns,
		composer: svc.Compose, uploads: o.Uploads, outbox: o.Outbox, metrics: o.Metrics, ids: o.IDs, now: o.Now, log: o.Log, cfg: o.Config, audit: o.Audit, mux: http.NewServeMux(), inbox: svc.Inbox}
	for _, rt := range s.routes() {
		if serves(o.Routes, rt.pattern) {
			s.mux.Handle(rt.pattern, s.endpoint(rt))
		}
	}
	return s
}

// Campaigns is the service behind the campaign routes (nil without a
// scheduler): the local mode's in-process scheduler runs campaigns with it.
func (s *Server) Campaigns() *campaign.Service { return s.campaigns }

// serves reports whether a server limited to prefixes serves pattern
// ("METHOD /path"); no prefixes serve everything.
func serves(prefixes []string, pattern string) bool {
	if len(prefixes) == 0 {
		return true
	}
	_, path, _ := strings.Cut(pattern, " ")
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// route is one operation of the API. A nil scope means no key is needed.
type route struct {
	pattern string
	scope   notify.Scope
	public  bool
	// maxBody overrides Config.MaxBodyBytes (the upload of a file).
	maxBody int64
	handle  func(w http.ResponseWriter, r *http.Request, k notify.APIKey) error
	// audit names the action a success of this route adds to the
	// workspace's audit trail (Options.Audit), such as "key.create".
	audit string
}

// routes is the whole API, in one table; the OpenAPI document is checked
// against it by a test.
func (s *Server) routes() []route {
	return []route{
		{pattern: "GET /{$}", public: true, handle: s.index},
		{pattern: "GET /v1", public: true, handle: s.index},
		{pattern: "GET /v1/health", public: true, handle: s.health},
		{pattern: "GET /v1/openapi.json", public: true, handle: s.openapi},

		{pattern: "POST /v1/keys", scope: notify.ScopeAdmin, handle: s.createKey, audit: "key.create"},
		{pattern: "GET /v1/keys", scope: notify.ScopeAdmin, handle: s.listKeys},
		{pattern: "DELETE /v1/keys/{id}", scope: notify.ScopeAdmin, handle: s.revokeKey, audit: "key.revoke"},

		{pattern: "PUT /v1/users/{id}", scope: notify.ScopeSend, handle: s.putUser},
		{pattern: "POST /v1/users:batch", scope: notify.ScopeSend, handle: s.batchUsers},
		{pattern: "GET /v1/users/{id}", scope: notify.ScopeRead, handle: s.getUser},
		{pattern: "DELETE /v1/users/{id}", scope: notify.ScopeSend, handle: s.deleteUser, audit: "user.delete"},
		{pattern: "GET /v1/users", scope: notify.ScopeRead, handle: s.listUsers},
		{pattern: "POST /v1/users/{id}/devices", scope: notify.ScopeSend, handle: s.addDevice},
		{pattern: "DELETE /v1/users/{id}/devices/{deviceId}", scope: notify.ScopeSend, handle: s.removeDevice},
		{pattern: "PUT /v1/users/{id}/push-permission", scope: notify.ScopeSend, handle: s.putPushPermission},
		{pattern: "GET /v1/users/{id}/preferences", scope: notify.ScopeRead, handle: s.getPreferences},
		{pattern: "PUT /v1/users/{id}/preferences", scope: notify.ScopeSend, handle: s.putPreferences},
		{pattern: "POST /v1/users/{id}/preference-link", scope: notify.ScopeSend, handle: s.createPreferenceLink},
		{pattern: "POST /v1/users/{id}/presence", scope: notify.ScopeSend, handle: s.postPresence},
		{pattern: "GET /v1/users/{id}/conversation", scope: notify.ScopeRead, handle: s.getConversation},
		{pattern: "POST /v1/users/{id}/sdk-token", scope: notify.ScopeSend, handle: s.createSDKToken},

		{pattern: "GET /v1/sdk/settings", scope: notify.ScopeRead, handle: s.getSDKSettings},
		{pattern: "PUT /v1/sdk/settings", scope: notify.ScopeAdmin, handle: s.putSDKSettings, audit: "sdk.settings"},
		{pattern: "GET /v1/sdk/signing-key", scope: notify.ScopeAdmin, handle: s.sdkSigningKey, audit: "sdk.signing-key"}, // a secret shown: on the record
		{pattern: "GET /v1/users/{id}/inbox", scope: notify.ScopeRead, handle: s.getInbox},
		{pattern: "POST /v1/users/{id}/inbox/{messageId}", scope: notify.ScopeSend, handle: s.postInboxMessage},

		{pattern: "POST /v1/templates", scope: notify.ScopeAdmin, handle: s.createTemplate, audit: "template.create"},
		{pattern: "GET /v1/templates", scope: notify.ScopeRead, handle: s.listTemplates},
		{pattern: "GET /v1/templates/{id}", scope: notify.ScopeRead, handle: s.getTemplate},
		{pattern: "PUT /v1/templates/{id}", scope: notify.ScopeAdmin, handle: s.putTemplate, audit: "template.update"},
		{pattern: "DELETE /v1/templates/{id}", scope: notify.ScopeAdmin, handle: s.deleteTemplate, audit: "template.delete"},
		{pattern: "POST /v1/templates/{id}/preview", scope: notify.ScopeRead, handle: s.previewTemplate},

		{pattern: "POST /v1/notifications", scope: notify.ScopeSend, handle: s.sendNotification, audit: "notification.send"},
		{pattern: "POST /v1/notifications:dryRun", scope: notify.ScopeSend, handle: s.dryRun},
		{pattern: "GET /v1/notifications", scope: notify.ScopeRead, handle: s.listNotifications},
		{pattern: "GET /v1/notifications/{id}", scope: notify.ScopeRead, handle: s.getNotification},
		{pattern: "GET /v1/notifications/{id}/deliveries", scope: notify.ScopeRead, handle: s.listDeliveries},
		{pattern: "POST /v1/notifications/{id}/cancel", scope: notify.ScopeSend, handle: s.cancelNotification, audit: "notification.cancel"},

		{pattern: "POST /v1/campaigns", scope: notify.ScopeSend, handle: s.createCampaign, audit: "campaign.create"},
		{pattern: "GET /v1/campaigns", scope: notify.ScopeRead, handle: s.listCampaigns},
		{pattern: "GET /v1/campaigns/{id}", scope: notify.ScopeRead, handle: s.getCampaign},
		{pattern: "PUT /v1/campaigns/{id}", scope: notify.ScopeSend, handle: s.putCampaign, audit: "campaign.update"},
		{pattern: "DELETE /v1/campaigns/{id}", scope: notify.ScopeSend, handle: s.deleteCampaign, audit: "campaign.delete"},
		{pattern: "POST /v1/campaigns/{id}/pause", scope: notify.ScopeSend, handle: s.pauseCampaign, audit: "campaign.pause"},
		{pattern: "POST /v1/campaigns/{id}/resume", scope: notify.ScopeSend, handle: s.resumeCampaign, audit: "campaign.resume"},
		{pattern: "GET /v1/campaigns/{id}/runs", scope: notify.ScopeRead, handle: s.listRuns},

		{pattern: "GET /v1/notifications/{id}/report", scope: notify.ScopeRead, handle: s.report},

		{pattern: "POST /v1/uploads", scope: notify.ScopeSend, handle: s.createUpload},
		{pattern: "GET /v1/uploads", scope: notify.ScopeRead, handle: s.listUploads},
		{pattern: "GET /v1/uploads/{id}", scope: notify.ScopeRead, handle: s.getUpload},
		{pattern: "PUT /v1/uploads/{id}/file", public: true, maxBody: -1, handle: s.putUploadFile},

		{pattern: "POST /v1/compose", scope: notify.ScopeSend, handle: s.compose},
		{pattern: "GET /v1/compose/options", scope: notify.ScopeRead, handle: s.getComposeOptions},
		{pattern: "PUT /v1/compose/options", scope: notify.ScopeAdmin, handle: s.putComposeOptions, audit: "compose.options"},
		{pattern: "GET /v1/compose/usage", scope: notify.ScopeRead, handle: s.composeUsage},

		{pattern: "GET /v1/outbox", scope: notify.ScopeRead, handle: s.listOutbox},
		{pattern: "GET /v1/metrics", scope: notify.ScopeRead, handle: s.getMetrics},

		{pattern: "GET /v1/webpush/vapid-public-key", scope: notify.ScopeRead, handle: s.vapidPublicKey},
	}
}

// ServeHTTP serves the API with request ids, panic recovery, access logs
// and JSON errors for unknown routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	reqID := r.Header.Get("X-Request-Id")
	if reqID == "" || len(reqID) > 128 {
		reqID = s.ids.New(start)
	}
	w.Header().Set("X-Request-Id", reqID)
	rec := &StatusRecorder{ResponseWriter: w, Status: http.StatusOK}
	info := &requestInfo{id: reqID}
	r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "requestId", reqID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rec.Wrote {
				writeError(rec, notify.Errorf(notify.CodeInternal, "internal error"))
			}
		}
		s.log.Info("request", "requestId", reqID, "method", r.Method, "route", info.route,
			"status", rec.Status, "workspaceId", info.workspace, "ms", s.now().Sub(start).Milliseconds())
	}()
	if refusedUnclean(rec, r) {
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.noRoute(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

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
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: "method " + r.Method + " is not allowed here"}})
		return
	}
	writeError(w, notify.Errorf(notify.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
}

type requestInfoKey struct{}

type requestInfo struct {
	id, route, workspace string
}

type principalKey struct{}

// WithPrincipal returns a context carrying an already authenticated key, as
// the api Lambda does with what the API Gateway authorizer verified. A
// request whose context carries one skips the key lookup.
func WithPrincipal(ctx context.Context, k notify.APIKey) context.Context {
	return context.WithValue(ctx, principalKey{}, k)
}

func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := r.Context().Value(requestInfoKey{}).(*requestInfo)
		if info != nil {
			info.route = rt.pattern
		}
		var key notify.APIKey
		if !rt.public {
			var err error
			key, err = s.authenticate(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if info != nil {
				info.workspace = key.WorkspaceID
			}
			if !key.Allows(rt.scope) {
				s.fail(w, r, notify.Errorf(notify.CodeForbidden, "this key lacks the %q scope", rt.scope))
				return
			}
		}
		// An id no item can have is not found, before any store key is made
		// of it; the upsert of a user says what is wrong with its id.
		if rt.pattern != "PUT /v1/users/{id}" {
			for _, name := range []string{"id", "deviceId"} {
				if v := r.PathValue(name); v != "" && profile.ValidID(name, v) != nil {
					s.fail(w, r, notify.Errorf(notify.CodeNotFound, "no item with the id %q", v))
					return
				}
			}
		}
		if rt.maxBody == 0 {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		if rt.audit != "" && s.audit != nil {
			ar := &auditRecorder{ResponseWriter: w}
			w = ar
			defer s.recordAudit(r, key, rt, ar)
		}
		if err := rt.handle(w, r, key); err != nil {
			s.fail(w, r, err)
		}
	})
}

// auditRecorder keeps a route's status and the start of its answer, for
// the audit trail.
type auditRecorder struct {
	http.ResponseWriter
	status int
	head   []byte
}

func (a *auditRecorder) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *auditRecorder) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if room := 4096 - len(a.head); room > 0 {
		a.head = append(a.head, b[:min(room, len(b))]...)
	}
	return a.ResponseWriter.Write(b)
}

// recordAudit adds a successful change to the audit trail: who (the key),
// what (the route's action), to what (the path's id or the new item's),
// and how many it reached (a send's recipients).
func (s *Server) recordAudit(r *http.Request, k notify.APIKey, rt route, a *auditRecorder) {
	if a.status < 200 || a.status > 299 {
		return
	}
	var out struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Recipients int    `json:"recipients"`
	}
	_ = json.Unmarshal(a.head, &out) // a long answer is cut: only what parsed
	target := r.PathValue("id")
	if target == "" {
		target = out.ID
	}
	s.audit(r.Context(), notify.AuditEntry{WorkspaceID: k.WorkspaceID, Actor: "key " + by(k), Action: rt.audit, Target: target, Detail: out.Name, Count: out.Recipients})
}

// authenticate returns the request's key: the one API Gateway's authorizer
// verified (and recorded the use of), or else the one the request's
// header names, whose use it records (hourly: apikey.Keys.Used).
func (s *Server) authenticate(r *http.Request) (notify.APIKey, error) {
	if k, ok := r.Context().Value(principalKey{}).(notify.APIKey); ok && k.WorkspaceID != "" {
		return k, nil
	}
	k, err := apikey.Authenticate(r.Context(), s.store, r.Header.Get("Authorization"))
	if err == nil && s.keys != nil {
		if uerr := s.keys.Used(r.Context(), k); uerr != nil {
			s.log.Warn("last use of a key not recorded", "workspaceId", k.WorkspaceID, "err", uerr.Error())
		}
	}
	return k, err
}

// fail writes err as the API's error shape; errors without a code are
// logged and reported as "internal" with no details.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *notify.Error
	if !errors.As(err, &e) {
		reqID := ""
		if info, _ := r.Context().Value(requestInfoKey{}).(*requestInfo); info != nil {
			reqID = info.id
		}
		s.log.Error("internal error", "requestId", reqID, "err", err.Error())
		e = notify.Errorf(notify.CodeInternal, "internal error")
	}
	writeError(w, e)
}

type errorDetail struct {
	Code         string              `json:"code"`
	Message      string              `json:"message"`
	Details      []notify.FieldError `json:"details,omitempty"`
	CurrentCount *int                `json:"currentCount,omitempty"`
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

// maxDetails bounds the problems one error lists: a request with 10,000
// bad items must not earn an answer 10,000 problems long. The first ones
// are enough to fix, and the message says how many there were.
const maxDetails = 20

func writeError(w http.ResponseWriter, e *notify.Error) {
	details, msg := e.Details, e.Message
	if n := len(details); n > maxDetails {
		details = details[:maxDetails]
		msg = fmt.Sprintf("%s (and %d more problems; the first %d are listed)", msg, n-1, maxDetails)
	}
	status := e.HTTPStatus()
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	writeJSON(w, status, errorBody{Error: errorDetail{Code: e.Code, Message: msg, Details: details, CurrentCount: e.CurrentCount}})
}

// writeJSON encodes v before it writes anything, so that a value that
// cannot be encoded is a 500 in the API's error shape, never a success
// with an empty body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status, buf = http.StatusInternalServerError, bytes.Buffer{}
		_ = json.NewEncoder(&buf).Encode(errorBody{Error: errorDetail{Code: notify.CodeInternal, Message: "internal error"}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// StatusRecorder keeps the status an answer was written with, for the
// request log (the API's and the SDK's edges).
type StatusRecorder struct {
	http.ResponseWriter
	// Status is the answer's status (set it to 200 at start: Write
	// without WriteHeader answers 200); Wrote says anything was written.
	Status int
	Wrote  bool
}

// WriteHeader records the first status.
func (r *StatusRecorder) WriteHeader(code int) {
	if !r.Wrote {
		r.Status, r.Wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write records that the answer started.
func (r *StatusRecorder) Write(b []byte) (int, error) {
	r.Wrote = true
	return r.ResponseWriter.Write(b)
}

// readBody reads the whole body within the size limit.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, notify.Errorf(notify.CodePayloadTooLarge, "request body exceeds %d bytes", mbe.Limit)
	}
	if err != nil {
		return nil, notify.Errorf(notify.CodeBadRequest, "read body: %v", err)
	}
	return b, nil
}

// decode reads a JSON object into v: malformed JSON is 400, well-formed JSON
// with unknown fields or wrong types is 422 naming the field, too large 413.
func decode(r *http.Request, v any) error {
	b, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return notify.Errorf(notify.CodeBadRequest, "request body is empty: a JSON object is required")
	}
	if !json.Valid(b) {
		return notify.Errorf(notify.CodeBadRequest, "request body is not valid JSON")
	}
	if t := bytes.TrimSpace(b); t[0] != '{' {
		return notify.Invalid(notify.FieldError{Field: "body", Problem: "must be a JSON object"})
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			field := jsonPath(te.Field)
			if field == "" {
				field = "body"
			}
			return notify.Invalid(notify.FieldError{Field: field, Problem: "must be " + jsonKind(te.Type)})
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return notify.Invalid(notify.FieldError{Field: "body", Problem: "a time is not in RFC 3339 format, such as 2026-12-01T09:00:00Z"})
		}
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
			return notify.Invalid(notify.FieldError{Field: field, Problem: "unknown field"})
		}
		return notify.Invalid(notify.FieldError{Field: "body", Problem: err.Error()})
	}
	return notify.CheckText(v, "")
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another type"
}

// page reads ?limit= and ?cursor=.
func page(r *http.Request) (notify.Page, error) {
	p := notify.Page{Limit: notify.DefaultPageSize, Cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > notify.MaxPageSize {
			return p, notify.Invalid(notify.FieldError{Field: "limit", Problem: fmt.Sprintf("must be an integer from 1 to %d", notify.MaxPageSize)})
		}
		p.Limit = n
	}
	if len(p.Cursor) > 4096 {
		return p, notify.Invalid(notify.FieldError{Field: "cursor", Problem: "not a cursor this API returned"})
	}
	return p, nil
}

// listBody is the shape of every list answer.
type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

func writeList[T any](w http.ResponseWriter, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, listBody[T]{Items: items, NextCursor: next})
}

// index answers the roots (/ and /v1) with where the documentation is, so
// that whoever opens the server's address finds the API.
func (s *Server) index(w http.ResponseWriter, _ *http.Request, _ notify.APIKey) error {
	writeJSON(w, http.StatusOK, map[string]string{
		"name":    "Herald",
		"about":   "Multi-channel notifications: push, web push, SMS, email and WhatsApp. Every /v1 route but these takes Authorization: Bearer <API key>.",
		"openapi": "/v1/openapi.json",
		"guide":   "shared/httpapi/API.md in the Herald repository",
		"health":  "/v1/health",
	})
	return nil
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request, _ notify.APIKey) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, _ *http.Request, _ notify.APIKey) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(openapiDoc)
	return err
}

// vapidPublicKey answers the key a browser passes to
// PushManager.subscribe as applicationServerKey.
func (s *Server) vapidPublicKey(w http.ResponseWriter, _ *http.Request, _ notify.APIKey) error {
	if s.cfg.VAPIDPublicKey == "" {
		return notify.Errorf(notify.CodeNotConfigured, "Web Push is not configured: set HERALD_VAPID_PUBLIC_KEY, HERALD_VAPID_PRIVATE_KEY and HERALD_VAPID_SUBJECT")
	}
	writeJSON(w, http.StatusOK, map[string]string{"publicKey": s.cfg.VAPIDPublicKey})
	return nil
}

// jsonPath is a decoding error's field as the client wrote it: without the
// Go names of embedded structs (Request.variants → variants). Every JSON
// name of the API starts in lower case.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	kept := parts[:0]
	for _, p := range parts {
		if p != "" && !(p[0] >= 'A' && p[0] <= 'Z') {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ".")
}
