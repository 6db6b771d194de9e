package console

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/usertoken"
)

// sdkPage is the Browser SDK tab: the workspace's client id, the origins
// whose pages may use the SDK (PUT /v1/sdk/settings's list), the snippet
// to paste, and the signing key of user tokens, shown on request.
type sdkPage struct {
	ClientID   string
	HeraldURL  string
	Origins    string // one a line, as the form has them
	Saved      []string
	SigningKey string // only in the answer to "Show the signing key"
	NoSecret   bool
	Local      bool
	Error      *notify.Error
}

func (sdkPage) PageTitle() string { return "Browser SDK" }

func (c *Console) sdkPage(w http.ResponseWriter, r *http.Request, s *session, status int, p sdkPage) error {
	cs, err := c.svc.Store.GetConsoleSettings(r.Context(), s.WorkspaceID)
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		return fmt.Errorf("console settings of %s: %w", s.WorkspaceID, err)
	}
	secret, err := c.linkSecret(r.Context())
	if err != nil {
		return err
	}
	p.ClientID, p.Saved, p.NoSecret, p.Local = s.WorkspaceID, cs.SDKOrigins, len(secret) == 0, c.opts.DemoURL != ""
	if p.Error == nil {
		p.Origins = strings.Join(cs.SDKOrigins, "\n")
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	p.HeraldURL = scheme + "://" + r.Host
	if p.SigningKey != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	c.render(w, r, s, status, "settings_sdk", p)
	return nil
}

func (c *Console) sdkSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.sdkPage(w, r, s, http.StatusOK, sdkPage{})
}

// saveSDKOrigins replaces the allowed origins with the form's (one a
// line), as PUT /v1/sdk/settings does, keeping the destinations.
func (c *Console) saveSDKOrigins(w http.ResponseWriter, r *http.Request, s *session) error {
	text := r.PostForm.Get("origins")
	var lines []string
	for l := range strings.Lines(text) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	origins, err := notify.NormalizeOrigins("origins", lines)
	if err != nil {
		var e *notify.Error
		if !errors.As(err, &e) {
			return err
		}
		shown := *e
		for i, d := range shown.Details { // origins[2] is the third line
			if n, ok := strings.CutPrefix(d.Field, "origins["); ok {
				if k, err := strconv.Atoi(strings.TrimSuffix(n, "]")); err == nil && k < len(lines) {
					shown.Details[i].Field = "Line " + strconv.Itoa(k+1) + " (" + clip(lines[k], 80) + ")"
				}
			}
		}
		return c.sdkPage(w, r, s, e.HTTPStatus(), sdkPage{Origins: text, Error: &shown})
	}
	cs, err := c.svc.Store.GetConsoleSettings(r.Context(), s.WorkspaceID)
	switch {
	case notify.IsCode(err, notify.CodeNotFound):
		cs = notify.ConsoleSettings{WorkspaceID: s.WorkspaceID}
	case err != nil:
		return fmt.Errorf("console settings of %s: %w", s.WorkspaceID, err)
	}
	cs.SDKOrigins, cs.UpdatedAt = origins, c.opts.Now().UTC().Truncate(time.Millisecond)
	if len(origins) == 0 {
		cs.SDKOrigins = nil
	}
	if err := c.svc.Store.PutConsoleSettings(r.Context(), cs); err != nil {
		return fmt.Errorf("save the SDK's origins of %s: %w", s.WorkspaceID, err)
	}
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "console.sdk.origins", Detail: clip(strings.Join(origins, ", "), 500)})
	http.Redirect(w, r, "/settings/sdk?done=sdk-origins", http.StatusSeeOther)
	return nil
}

// showSigningKey answers the page with the workspace's signing key of
// user tokens (GET /v1/sdk/signing-key's), on a POST so that it is never
// a link, a cached page or a prefetch; every showing is in the audit trail.
func (c *Console) showSigningKey(w http.ResponseWriter, r *http.Request, s *session) error {
	secret, err := c.linkSecret(r.Context())
	if err != nil {
		return err
	}
	if len(secret) == 0 {
		return c.sdkPage(w, r, s, http.StatusServiceUnavailable, sdkPage{Error: notify.Errorf(notify.CodeNotConfigured,
			"user tokens need Herald's signing secret (HERALD_UNSUBSCRIBE_SECRET)")})
	}
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "console.sdk.signing-key", Detail: "shown"})
	return c.sdkPage(w, r, s, http.StatusOK, sdkPage{SigningKey: hex.EncodeToString(usertoken.SigningKey(secret, s.WorkspaceID))})
}

func init() {
	flashes["sdk-origins"] = "Allowed origins saved: pages there may use the SDK within a minute."
}
