package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/egress"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/send"
)

// Limits on what one call may carry.
const (
	maxDevices        = 20
	maxBatchUsers     = 1000
	maxShortString    = 128
	maxAttributeValue = profile.MaxAttributeValue
)

func validID(field, id string) error { return profile.ValidID(field, id) }

// keyView is an API key as lists show it.
type keyView struct {
	ID        string         `json:"id"`
	Key       string         `json:"key,omitempty"`
	Name      string         `json:"name"`
	Scopes    []notify.Scope `json:"scopes"`
	Prefix    string         `json:"prefix"`
	CreatedAt time.Time      `json:"createdAt"`
	RevokedAt *time.Time     `json:"revokedAt,omitempty"`
}

func viewKey(k notify.APIKey) keyView {
	return keyView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Prefix: k.Prefix, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, caller notify.APIKey) error {
	var in struct {
		Name   string         `json:"name"`
		Scopes []notify.Scope `json:"scopes"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	var bad []notify.FieldError
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > maxShortString {
		bad = append(bad, notify.FieldError{Field: "name", Problem: "required, at most 128 characters"})
	}
	if len(in.Scopes) == 0 {
		bad = append(bad, notify.FieldError{Field: "scopes", Problem: "at least one of send, read, admin"})
	}
	for i, sc := range in.Scopes {
		if sc != notify.ScopeSend && sc != notify.ScopeRead && sc != notify.ScopeAdmin {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("scopes[%d]", i), Problem: "must be send, read or admin"})
		}
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	secret := apikey.New()
	now := s.now().UTC().Truncate(time.Millisecond)
	k := notify.APIKey{
		ID: "key_" + strings.ToLower(s.ids.New(now)), WorkspaceID: caller.WorkspaceID, Name: in.Name,
		Scopes: dedupeScopes(in.Scopes), Hash: apikey.Hash(secret), Prefix: apikey.Display(secret), CreatedAt: now,
	}
	if err := s.store.CreateAPIKey(r.Context(), k); err != nil {
		return err
	}
	v := viewKey(k)
	v.Key = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func dedupeScopes(in []notify.Scope) []notify.Scope {
	seen := map[notify.Scope]bool{}
	var out []notify.Scope
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, caller notify.APIKey) error {
	keys, err := s.store.ListAPIKeys(r.Context(), caller.WorkspaceID)
	if err != nil {
		return err
	}
	views := make([]keyView, len(keys))
	for i, k := range keys {
		views[i] = viewKey(k)
	}
	writeList(w, views, "")
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, caller notify.APIKey) error {
	if err := s.keepsAnAdmin(r, caller.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	if err := s.store.RevokeAPIKey(r.Context(), caller.WorkspaceID, r.PathValue("id"), s.now().UTC()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// keepsAnAdmin refuses to revoke the workspace's last working admin key:
// without one nobody can make keys again, and the workspace is locked out.
// (Two admins revoking each other at the same instant can still both
// succeed; `go run ./infra/admin` makes a new key from outside the API.)
func (s *Server) keepsAnAdmin(r *http.Request, workspaceID, id string) error {
	keys, err := s.store.ListAPIKeys(r.Context(), workspaceID)
	if err != nil {
		return err
	}
	revoking, others := false, 0
	for _, k := range keys {
		if k.RevokedAt != nil || !slices.Contains(k.Scopes, notify.ScopeAdmin) {
			continue
		}
		if k.ID == id {
			revoking = true
		} else {
			others++
		}
	}
	if revoking && others == 0 {
		return notify.Errorf(notify.CodeConflict, "key %s is the workspace's last admin key: create another admin key before revoking it", id)
	}
	return nil
}

func (s *Server) putUser(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in profile.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if in.ID != nil && *in.ID != id {
		return notify.Invalid(notify.FieldError{Field: "id", Problem: "must match the id in the path"})
	}
	u, err := profile.Upsert(r.Context(), s.store, k.WorkspaceID, id, in, s.cfg.DefaultRegion, "", s.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userAnswer(k, u))
	return nil
}

// userView makes nil slices empty so the JSON always has arrays.
func userView(u notify.User) notify.User {
	devices := make([]notify.Device, len(u.Devices))
	for i, d := range u.Devices {
		d.Endpoint = "" // an internal detail of the SNS sender
		devices[i] = d
	}
	u.Devices = devices
	if u.PushPermission == "" {
		u.PushPermission = notify.PermissionAsk
	}
	return u
}

type batchError struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *Server) batchUsers(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	return s.idempotent(w, r, k, func(body []byte) (int, any, error) {
		var in struct {
			Users []profile.Input `json:"users"`
		}
		if err := decodeBytes(body, &in); err != nil {
			return 0, nil, err
		}
		if in.Users == nil {
			return 0, nil, notify.Invalid(notify.FieldError{Field: "users", Problem: "required"})
		}
		if len(in.Users) > maxBatchUsers {
			return 0, nil, notify.Invalid(notify.FieldError{Field: "users", Problem: fmt.Sprintf("at most %d users per request", maxBatchUsers)})
		}
		out := struct {
			Upserted int          `json:"upserted"`
			Errors   []batchError `json:"errors"`
		}{Errors: []batchError{}}
		seen := map[string]int{}
		for i, u := range in.Users {
			prefix := fmt.Sprintf("users[%d].", i)
			if u.ID == nil {
				out.Errors = append(out.Errors, batchError{i, notify.CodeValidation, prefix + "id: required"})
				continue
			}
			if j, dup := seen[*u.ID]; dup {
				out.Errors = append(out.Errors, batchError{i, notify.CodeValidation, fmt.Sprintf("%sid: duplicate of users[%d]", prefix, j)})
				continue
			}
			seen[*u.ID] = i
			if _, err := profile.Upsert(r.Context(), s.store, k.WorkspaceID, *u.ID, u, s.cfg.DefaultRegion, prefix, s.now()); err != nil {
				code := notify.ErrorCode(err)
				if code == notify.CodeInternal {
					return 0, nil, err
				}
				var e *notify.Error
				errors.As(err, &e)
				out.Errors = append(out.Errors, batchError{i, code, e.Message})
				continue
			}
			out.Upserted++
		}
		return http.StatusOK, out, nil
	})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	u, err := s.store.GetUser(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.store.DeleteUser(r.Context(), k.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func boolParam(q url.Values, name string) (*bool, error) {
	v := q.Get(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, notify.Invalid(notify.FieldError{Field: name, Problem: "must be true or false"})
	}
	return &b, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	f, err := filterFromQuery(r.URL.Query())
	if err != nil {
		return err
	}
	users, next, err := s.store.ListUsers(r.Context(), k.WorkspaceID, f, p)
	if err != nil {
		return cursorError(err)
	}
	for i := range users {
		users[i] = userView(users[i])
	}
	writeList(w, users, next)
	return nil
}

func (s *Server) addDevice(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in struct {
		Kind         string                      `json:"kind"`
		Token        string                      `json:"token"`
		Subscription *notify.WebPushSubscription `json:"subscription"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	d := notify.Device{Kind: in.Kind, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	var identity string
	switch in.Kind {
	case notify.DeviceFCM, notify.DeviceAPNs:
		if in.Subscription != nil {
			return notify.Invalid(notify.FieldError{Field: "subscription", Problem: "only for kind webpush"})
		}
		tok := strings.TrimSpace(in.Token)
		if tok == "" || len(tok) > 4096 || strings.ContainsAny(tok, " \t\r\n") {
			return notify.Invalid(notify.FieldError{Field: "token", Problem: "required: the device's push token"})
		}
		d.Token, identity = tok, tok
	case notify.DeviceWebPush:
		if in.Token != "" {
			return notify.Invalid(notify.FieldError{Field: "token", Problem: "webpush takes a subscription, not a token"})
		}
		if err := validSubscription(in.Subscription, s.cfg.AllowPrivateEndpoints); err != nil {
			return err
		}
		d.Subscription, identity = in.Subscription, in.Subscription.Endpoint
	default:
		return notify.Invalid(notify.FieldError{Field: "kind", Problem: "must be fcm, apns or webpush"})
	}
	sum := sha256.Sum256([]byte(d.Kind + "\x00" + identity))
	d.ID = "dev_" + hex.EncodeToString(sum[:8])
	var stored notify.Device
	_, err := s.store.UpdateUser(r.Context(), k.WorkspaceID, r.PathValue("id"), func(u *notify.User) error {
		kept := u.Devices[:0:0]
		for _, have := range u.Devices {
			if have.ID == d.ID {
				continue // re-registering the same token replaces it
			}
			kept = append(kept, have)
		}
		if len(kept) >= maxDevices {
			kept = kept[len(kept)-maxDevices+1:] // the oldest registration goes
		}
		u.Devices = append(kept, d)
		u.UpdatedAt = d.CreatedAt
		stored = d
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, stored)
	return nil
}

// maxEndpoint bounds a Web Push endpoint; push services' are a few
// hundred characters.
const maxEndpoint = 2048

// validSubscription checks a Web Push subscription before it is stored.
// Herald will POST to the endpoint on the say-so of whoever holds a send
// key, so it must be an https URL without user info on the public
// internet (egress.CheckURL: literal private addresses in any spelling and
// local names; names resolving to private addresses are refused when the
// push is sent). allowPrivate lifts the last rule for tests.
func validSubscription(sub *notify.WebPushSubscription, allowPrivate bool) error {
	if sub == nil {
		return notify.Invalid(notify.FieldError{Field: "subscription", Problem: "required for kind webpush"})
	}
	u, err := url.Parse(sub.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(sub.Endpoint) > maxEndpoint {
		return notify.Invalid(notify.FieldError{Field: "subscription.endpoint", Problem: "must be the https URL of the push service"})
	}
	if !allowPrivate {
		if err := egress.CheckURL(u); err != nil {
			return notify.Invalid(notify.FieldError{Field: "subscription.endpoint", Problem: "must be a push service on the public internet, not a private, loopback or local address"})
		}
	}
	for field, v := range map[string]string{"subscription.keys.p256dh": sub.Keys.P256dh, "subscription.keys.auth": sub.Keys.Auth} {
		if _, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil || v == "" || len(v) > 256 {
			return notify.Invalid(notify.FieldError{Field: field, Problem: "must be the base64url key from the browser"})
		}
	}
	return nil
}

func (s *Server) removeDevice(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	id := r.PathValue("deviceId")
	_, err := s.store.UpdateUser(r.Context(), k.WorkspaceID, r.PathValue("id"), func(u *notify.User) error {
		for i, d := range u.Devices {
			if d.ID == id {
				u.Devices = append(u.Devices[:i:i], u.Devices[i+1:]...)
				u.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
				return nil
			}
		}
		return notify.NotFound("device", id)
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putPushPermission(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in struct {
		Status notify.PushPermission `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	switch in.Status {
	case notify.PermissionAsk, notify.PermissionAllowed, notify.PermissionBlocked:
	default:
		return notify.Invalid(notify.FieldError{Field: "status", Problem: "must be ask, allowed or blocked"})
	}
	u, err := s.store.UpdateUser(r.Context(), k.WorkspaceID, r.PathValue("id"), func(u *notify.User) error {
		u.PushPermission = in.Status
		u.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userAnswer(k, u))
	return nil
}

func (s *Server) getPreferences(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	u, err := s.store.GetUser(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prefsView(u.Preferences))
	return nil
}

func prefsView(p notify.Preferences) notify.Preferences {
	if p.Channels == nil {
		p.Channels = map[notify.Channel]bool{}
	}
	if p.Categories == nil {
		p.Categories = map[string]bool{}
	}
	return p
}

var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (s *Server) putPreferences(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in notify.Preferences
	if err := decode(r, &in); err != nil {
		return err
	}
	var bad []notify.FieldError
	for ch := range in.Channels {
		if !ch.Valid() {
			bad = append(bad, notify.FieldError{Field: "channels." + string(ch), Problem: "not a channel: push, webpush, sms, email or whatsapp"})
		}
	}
	if len(in.Categories) > 100 {
		bad = append(bad, notify.FieldError{Field: "categories", Problem: "at most 100 categories"})
	}
	for c := range in.Categories {
		if c == "" || len(c) > 64 {
			bad = append(bad, notify.FieldError{Field: "categories", Problem: "names must be 1–64 characters"})
			break
		}
	}
	if q := in.QuietHours; q != nil {
		if !clockPattern.MatchString(q.Start) {
			bad = append(bad, notify.FieldError{Field: "quietHours.start", Problem: "must be HH:MM"})
		}
		if !clockPattern.MatchString(q.End) {
			bad = append(bad, notify.FieldError{Field: "quietHours.end", Problem: "must be HH:MM"})
		}
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	u, err := s.store.UpdateUser(r.Context(), k.WorkspaceID, r.PathValue("id"), func(u *notify.User) error {
		u.Preferences = in
		u.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prefsView(u.Preferences))
	return nil
}

func (s *Server) postPresence(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in struct {
		Active     *bool `json:"active"`
		TTLSeconds *int  `json:"ttlSeconds"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Active == nil {
		return notify.Invalid(notify.FieldError{Field: "active", Problem: "required"})
	}
	ttl := 120
	if in.TTLSeconds != nil {
		ttl = *in.TTLSeconds
		if ttl < 1 || ttl > 86400 {
			return notify.Invalid(notify.FieldError{Field: "ttlSeconds", Problem: "must be from 1 to 86400"})
		}
	}
	var until *time.Time
	if *in.Active {
		t := s.now().UTC().Add(time.Duration(ttl) * time.Second).Truncate(time.Millisecond)
		until = &t
	}
	_, err := s.store.UpdateUser(r.Context(), k.WorkspaceID, r.PathValue("id"), func(u *notify.User) error {
		u.PresenceUntil = until
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Active bool       `json:"active"`
		Until  *time.Time `json:"until,omitempty"`
	}{*in.Active, until})
	return nil
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	u, err := s.store.GetUser(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	type state struct {
		State     string     `json:"state"`
		OpenUntil *time.Time `json:"openUntil,omitempty"`
	}
	st := state{State: "none"}
	if last := u.WhatsAppLastInbound; last != nil {
		until := last.Add(24 * time.Hour)
		st.State = "expired"
		if s.now().Before(until) {
			st.State, st.OpenUntil = "open", &until
		}
	}
	writeJSON(w, http.StatusOK, map[string]state{"whatsapp": st})
	return nil
}

// filterFromQuery reads a user filter from GET /v1/users's query: status
// and tags comma separated, attr.<name>=<value> for attributes, and
// createdAfter/createdBefore as RFC 3339 times.
func filterFromQuery(q url.Values) (notify.UserFilter, error) {
	f := notify.UserFilter{Type: q.Get("type"), Tag: q.Get("tag"), Language: q.Get("language"), Q: q.Get("q"),
		Status: csv(q.Get("status")), Tags: csv(q.Get("tags"))}
	var err error
	if f.PushEnabled, err = boolParam(q, "pushEnabled"); err != nil {
		return f, err
	}
	if f.HasEmail, err = boolParam(q, "hasEmail"); err != nil {
		return f, err
	}
	if f.HasPhone, err = boolParam(q, "hasPhone"); err != nil {
		return f, err
	}
	for name, vs := range q {
		if attr, ok := strings.CutPrefix(name, "attr."); ok && attr != "" {
			if f.Attributes == nil {
				f.Attributes = map[string]string{}
			}
			f.Attributes[attr] = vs[0]
		}
	}
	for _, p := range []struct {
		name string
		dst  **time.Time
	}{{"createdAfter", &f.CreatedAfter}, {"createdBefore", &f.CreatedBefore}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, notify.Invalid(notify.FieldError{Field: p.name, Problem: "must be an RFC 3339 time, such as 2026-01-31T00:00:00Z"})
			}
			*p.dst = &t
		}
	}
	return f, send.ValidFilter(f, "")
}

func csv(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
