// Package unsubscribe makes the links marketing email carries in
// List-Unsubscribe and serves them: a one-click POST (RFC 8058) turns the
// user's email preference off; a GET only shows a page with a button, so
// that link scanners that fetch every URL of a mail unsubscribe nobody.
// It also signs, under another label, the links to a user's preference
// page (preferences.go), which every email's footer carries.
package unsubscribe

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// Token is the unguessable part of a user's unsubscribe link: the
// workspace and user ids with an HMAC over them.
func Token(secret []byte, workspaceID, userID string) string {
	payload := workspaceID + "\x00" + userID
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + base64.RawURLEncoding.EncodeToString(mac(secret, labelUnsubscribe, payload))
}

// Parse checks a token and returns what it names.
func Parse(secret []byte, token string) (workspaceID, userID string, ok bool) {
	p, m, found := strings.Cut(token, ".")
	if !found || len(secret) == 0 {
		return "", "", false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sig, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, mac(secret, labelUnsubscribe, string(payload))) {
		return "", "", false
	}
	ws, user, found := strings.Cut(string(payload), "\x00")
	return ws, user, found && ws != "" && user != ""
}

// Labels of what a token is for: the same secret signs both kinds, and
// the label keeps a token of one kind from being taken for the other.
const (
	labelUnsubscribe = "herald-unsubscribe"
	labelPreferences = "herald-preferences"
)

func mac(secret []byte, label, payload string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(label + "\x00" + payload))
	return h.Sum(nil)[:16]
}

// Users is what the handler needs of the store.
type Users interface {
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error)
}

// Handler serves /unsubscribe/{token}.
type Handler struct {
	Secret []byte
	Users  Users
	Log    *slog.Logger
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Unsubscribe</title></head><body style="font-family: sans-serif; max-width: 32rem; margin: 4rem auto">
{{if .Done}}<h1>You are unsubscribed</h1><p>You will get no more email from us.</p>
{{else}}<h1>Unsubscribe from our email?</h1>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>{{end}}
</body></html>`))

// ServeHTTP shows the confirmation page (GET) or unsubscribes (POST).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, user, ok := Parse(h.Secret, strings.TrimPrefix(r.URL.Path, "/unsubscribe/"))
	if !ok {
		http.Error(w, "this unsubscribe link is not valid", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet:
		_ = page.Execute(w, struct{ Done bool }{false})
	case http.MethodPost:
		_, err := h.Users.UpdateUser(r.Context(), ws, user, func(u *notify.User) error {
			if u.Preferences.Channels == nil {
				u.Preferences.Channels = map[notify.Channel]bool{}
			}
			u.Preferences.Channels[notify.ChannelEmail] = false
			return nil
		})
		switch {
		case notify.IsCode(err, notify.CodeNotFound):
			// The user was deleted: nothing to send them anyway.
		case err != nil:
			h.Log.Error("unsubscribe", "workspaceId", ws, "err", err.Error())
			http.Error(w, "please try again", http.StatusInternalServerError)
			return
		default:
			h.Log.Info("unsubscribed from email", "workspaceId", ws)
		}
		_ = page.Execute(w, struct{ Done bool }{true})
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
