package httpapi

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/usertoken"
)

// The routes of the browser SDK's identity, for the customer's backend: it
// mints a user token for the page of one of its users (or reads the key to
// mint them itself), and sets the origins whose pages may use the SDK. The
// SDK's own routes (/sdk/v1) are package sdkapi's.

// defaultTokenTTL is a user token's life when the caller does not say:
// an hour, a session's worth of page views.
const defaultTokenTTL = time.Hour

// sdkSecretMissing answers the SDK's identity routes when Herald has no
// secret to derive the workspaces' signing keys from.
var sdkSecretMissing = notify.Errorf(notify.CodeNotConfigured, "user tokens need Herald's signing secret (HERALD_UNSUBSCRIBE_SECRET, or unsubscribe-secret in the secrets path)")

// createSDKToken mints a user token for user id: whoever holds it may call
// the SDK's routes as that user, from the workspace's allowed origins,
// until it expires. The user must exist (404 otherwise, as for a
// preference link): a token for nobody is a mistake the backend should
// hear of now, not from its users' pages. A token minted with the
// signing key may name a user still to come; the SDK's routes answer 404
// until it exists.
func (s *Server) createSDKToken(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in struct {
		TTLSeconds *int64 `json:"ttlSeconds"`
	}
	b, err := readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) > 0 { // the body is optional
		if err := decodeBytes(b, &in); err != nil {
			return err
		}
	}
	ttl := defaultTokenTTL
	if in.TTLSeconds != nil {
		if *in.TTLSeconds < int64(usertoken.MinTTL/time.Second) || *in.TTLSeconds > int64(usertoken.MaxTTL/time.Second) {
			return notify.Invalid(notify.FieldError{Field: "ttlSeconds", Problem: "must be from 60 (a minute) to 86400 (a day)"})
		}
		ttl = time.Duration(*in.TTLSeconds) * time.Second
	}
	secret, err := s.linkSecret(r.Context())
	if err != nil {
		return err
	}
	if len(secret) == 0 {
		return sdkSecretMissing
	}
	id := r.PathValue("id")
	if _, err := s.users.Get(r.Context(), k.WorkspaceID, id); err != nil {
		return err
	}
	c := usertoken.Claims{WorkspaceID: k.WorkspaceID, UserID: id, Expires: s.now().UTC().Add(ttl).Truncate(time.Second)}
	writeJSON(w, http.StatusCreated, struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expiresAt"`
		ClientID  string    `json:"clientId"`
	}{usertoken.Mint(usertoken.SigningKey(secret, k.WorkspaceID), c), c.Expires, k.WorkspaceID})
	return nil
}

// sdkSigningKey answers the workspace's signing key of user tokens, for a
// backend that mints them itself (API.md shows how): as powerful as a send
// key for the SDK's routes, so only an admin key reads it.
func (s *Server) sdkSigningKey(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	secret, err := s.linkSecret(r.Context())
	if err != nil {
		return err
	}
	if len(secret) == 0 {
		return sdkSecretMissing
	}
	writeJSON(w, http.StatusOK, struct {
		ClientID  string `json:"clientId"`
		Key       string `json:"key"`
		Algorithm string `json:"algorithm"`
	}{k.WorkspaceID, hex.EncodeToString(usertoken.SigningKey(secret, k.WorkspaceID)), "HMAC-SHA256"})
	return nil
}

// linkSecret is Config.LinkSecret, or what Config.ReadLinkSecret reads.
func (s *Server) linkSecret(ctx context.Context) ([]byte, error) {
	if s.cfg.ReadLinkSecret == nil {
		return s.cfg.LinkSecret, nil
	}
	secret, err := s.cfg.ReadLinkSecret(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the link secret: %w", err)
	}
	return secret, nil
}

// sdkSettingsView is the SDK's settings as the API shows them: the client
// id the SDK is set up with, and the origins it is allowed from.
type sdkSettingsView struct {
	ClientID       string     `json:"clientId"`
	AllowedOrigins []string   `json:"allowedOrigins"`
	UpdatedAt      *time.Time `json:"updatedAt,omitempty"`
}

// consoleSettings are the workspace's stored settings, or none.
func (s *Server) consoleSettings(r *http.Request, ws string) (notify.ConsoleSettings, bool, error) {
	cs, err := s.store.GetConsoleSettings(r.Context(), ws)
	if notify.IsCode(err, notify.CodeNotFound) {
		return notify.ConsoleSettings{WorkspaceID: ws}, false, nil
	}
	return cs, err == nil, err
}

func (s *Server) getSDKSettings(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	cs, saved, err := s.consoleSettings(r, k.WorkspaceID)
	if err != nil {
		return err
	}
	v := sdkSettingsView{ClientID: k.WorkspaceID, AllowedOrigins: cs.SDKOrigins}
	if v.AllowedOrigins == nil {
		v.AllowedOrigins = []string{}
	}
	if saved {
		v.UpdatedAt = &cs.UpdatedAt
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// putSDKSettings replaces the workspace's allowed origins, keeping the
// rest of its settings (the console's destinations) as stored.
func (s *Server) putSDKSettings(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in struct {
		AllowedOrigins []string `json:"allowedOrigins"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.AllowedOrigins == nil {
		return notify.Invalid(notify.FieldError{Field: "allowedOrigins", Problem: "required: a list of origins, such as [\"https://shop.example\"], or [] for none"})
	}
	origins, err := notify.NormalizeOrigins("allowedOrigins", in.AllowedOrigins)
	if err != nil {
		return err
	}
	cs, _, err := s.consoleSettings(r, k.WorkspaceID)
	if err != nil {
		return err
	}
	cs.SDKOrigins, cs.UpdatedAt = origins, s.now().UTC().Truncate(time.Millisecond)
	if len(origins) == 0 {
		cs.SDKOrigins = nil
	}
	if err := s.store.PutConsoleSettings(r.Context(), cs); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sdkSettingsView{ClientID: k.WorkspaceID, AllowedOrigins: origins, UpdatedAt: &cs.UpdatedAt})
	return nil
}
