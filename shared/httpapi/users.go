package httpapi

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/unsubscribe"
)

// The rules about users and keys live in s.users (package profile) and
// s.keys (package apikey); these handlers decode, call and encode.

// keyView is an API key as lists show it.
type keyView struct {
	ID         string         `json:"id"`
	Key        string         `json:"key,omitempty"`
	Name       string         `json:"name"`
	Scopes     []notify.Scope `json:"scopes"`
	Prefix     string         `json:"prefix"`
	CreatedAt  time.Time      `json:"createdAt"`
	RevokedAt  *time.Time     `json:"revokedAt,omitempty"`
	LastUsedAt *time.Time     `json:"lastUsedAt,omitempty"`
}

func viewKey(k notify.APIKey) keyView {
	return keyView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, Prefix: k.Prefix, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, caller notify.APIKey) error {
	var in struct {
		Name   string         `json:"name"`
		Scopes []notify.Scope `json:"scopes"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k, secret, err := s.keys.Create(r.Context(), caller.WorkspaceID, in.Name, in.Scopes)
	if err != nil {
		return err
	}
	v := viewKey(k)
	v.Key = secret
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, caller notify.APIKey) error {
	keys, err := s.keys.List(r.Context(), caller.WorkspaceID)
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
	if err := s.keys.Revoke(r.Context(), caller.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) putUser(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in profile.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := s.users.Put(r.Context(), k.WorkspaceID, r.PathValue("id"), in)
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
		res, err := s.users.Batch(r.Context(), k.WorkspaceID, in.Users)
		if err != nil {
			return 0, nil, err
		}
		out := struct {
			Upserted int          `json:"upserted"`
			Errors   []batchError `json:"errors"`
		}{Upserted: res.Upserted, Errors: make([]batchError, len(res.Errors))}
		for i, e := range res.Errors {
			out.Errors[i] = batchError{e.Index, e.Code, e.Message}
		}
		return http.StatusOK, out, nil
	})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	u, err := s.users.Get(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userView(u))
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.users.Delete(r.Context(), k.WorkspaceID, r.PathValue("id")); err != nil {
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
	users, next, err := s.users.List(r.Context(), k.WorkspaceID, f, p)
	if err != nil {
		return notify.CursorError(err)
	}
	for i := range users {
		users[i] = userView(users[i])
	}
	writeList(w, users, next)
	return nil
}

func (s *Server) addDevice(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in profile.DeviceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := s.users.AddDevice(r.Context(), k.WorkspaceID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) removeDevice(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.users.RemoveDevice(r.Context(), k.WorkspaceID, r.PathValue("id"), r.PathValue("deviceId")); err != nil {
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
	u, err := s.users.SetPushPermission(r.Context(), k.WorkspaceID, r.PathValue("id"), in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, userAnswer(k, u))
	return nil
}

func (s *Server) getPreferences(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := s.users.Preferences(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prefsView(p))
	return nil
}

// prefsView makes nil maps empty so the JSON always has objects.
func prefsView(p notify.Preferences) notify.Preferences {
	if p.Channels == nil {
		p.Channels = map[notify.Channel]bool{}
	}
	if p.Categories == nil {
		p.Categories = map[string]bool{}
	}
	return p
}

// Preference links work a month unless the caller asks otherwise, from
// a minute to a year.
const (
	defaultLinkTTL = 30 * 24 * time.Hour
	minLinkTTL     = time.Minute
	maxLinkTTL     = 365 * 24 * time.Hour
)

// createPreferenceLink signs a link to the user's preference page for the
// customer's app to show: whoever holds it may change the user's
// preferences, so it ends (ttlSeconds) and names one user of one
// workspace.
func (s *Server) createPreferenceLink(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
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
	ttl := defaultLinkTTL
	if in.TTLSeconds != nil {
		if *in.TTLSeconds < int64(minLinkTTL/time.Second) || *in.TTLSeconds > int64(maxLinkTTL/time.Second) {
			return notify.Invalid(notify.FieldError{Field: "ttlSeconds", Problem: "must be from 60 (a minute) to 31536000 (a year)"})
		}
		ttl = time.Duration(*in.TTLSeconds) * time.Second
	}
	secret, err := s.linkSecret(r.Context())
	if err != nil {
		return err
	}
	if len(secret) == 0 {
		return notify.Errorf(notify.CodeNotConfigured, "preference links need Herald's signing secret (HERALD_UNSUBSCRIBE_SECRET, or unsubscribe-secret in the secrets path)")
	}
	id := r.PathValue("id")
	u, err := s.users.Get(r.Context(), k.WorkspaceID, id)
	if err != nil {
		return err
	}
	base := s.cfg.PublicURL
	if base == "" {
		base = "https://" + r.Host
	}
	expires := s.now().UTC().Add(ttl).Truncate(time.Second)
	writeJSON(w, http.StatusOK, struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expiresAt"`
	}{unsubscribe.PreferencesURL(base, secret, k.WorkspaceID, id, unsubscribe.Generation(u.SealKey), expires), expires})
	return nil
}

func (s *Server) putPreferences(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in notify.Preferences
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.users.SetPreferences(r.Context(), k.WorkspaceID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prefsView(p))
	return nil
}

func (s *Server) postPresence(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	var in profile.PresenceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.users.SetPresence(r.Context(), k.WorkspaceID, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Active bool       `json:"active"`
		Until  *time.Time `json:"until,omitempty"`
	}{p.Active, p.Until})
	return nil
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	c, err := s.users.Conversation(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	type state struct {
		State     string     `json:"state"`
		OpenUntil *time.Time `json:"openUntil,omitempty"`
	}
	writeJSON(w, http.StatusOK, map[string]state{"whatsapp": {c.WhatsApp.State, c.WhatsApp.OpenUntil}})
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
