package console

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
)

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request, _ *session) error {
	if s, err := c.session(r); err == nil && s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	q := r.URL.Query()
	c.render(w, r, nil, http.StatusOK, "login", map[string]any{"Title": "Sign in", "Ended": q.Get("ended") != "",
		"Next": safeNext(q.Get("next")), "Email": "", "Error": ""})
	return nil
}

func (c *Console) login(w http.ResponseWriter, r *http.Request, _ *session) error {
	email, password, next := r.PostFormValue("email"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	in, err := c.svc.Operators.SignIn(r.Context(), email, password, clientAddress(r))
	if err != nil {
		var e *notify.Error
		if !errors.As(err, &e) {
			return err
		}
		c.render(w, r, nil, e.HTTPStatus(), "login", map[string]any{"Title": "Sign in", "Email": email, "Next": next, "Error": e.Message})
		return nil
	}
	setSessionCookie(w, r, c.secure(r), in.Secret, in.Session.ExpiresAt)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-sign-in redirect on this site: a path, never
// another origin ("//evil", "/\evil", "https:…").
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/users"
	}
	return next
}

// clientAddress is the caller's network address for sign-in throttling:
// the connection's peer (on Lambda, API Gateway's source IP; forwarding
// headers are never trusted). An IPv6 address counts as its /64, the
// block one subscriber gets.
func clientAddress(r *http.Request) string {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if ip.Is6() && !ip.Is4In6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.Unmap().String()
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	ck, _ := r.Cookie(sessionCookie)
	if ck != nil {
		if err := c.svc.Operators.SignOut(r.Context(), ck.Value); err != nil {
			return err
		}
	}
	clearCookie(w, r, c.opts.SecureCookies)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// linkKind is what each link route does.
func linkKind(r *http.Request) notify.TokenKind {
	switch {
	case strings.HasPrefix(r.URL.Path, "/setup/"):
		return notify.TokenSetup
	case strings.HasPrefix(r.URL.Path, "/invite/"):
		return notify.TokenInvite
	}
	return notify.TokenReset
}

func (c *Console) linkForm(w http.ResponseWriter, r *http.Request, _ *session) error {
	t, err := c.svc.Operators.PeekLink(r.Context(), r.PathValue("token"))
	if err == nil && t.Kind != linkKind(r) {
		err = notify.Errorf(notify.CodeNotFound, "this link was used already or has expired; ask an admin for a new one")
	}
	if err != nil {
		return err
	}
	c.render(w, r, nil, http.StatusOK, "link", linkPage(t, "", "", nil))
	return nil
}

func linkPage(t notify.OperatorToken, email, name string, err *notify.Error) map[string]any {
	d := map[string]any{"Email": t.Email, "Name": name, "Error": err}
	switch t.Kind {
	case notify.TokenSetup:
		d["Title"], d["Intro"], d["Button"] = "Create the first admin", "This workspace has no operator yet. Choose the email and password of its first admin.", "Create admin and sign in"
		d["AskEmail"], d["AskName"], d["Email"] = true, true, email
	case notify.TokenInvite:
		d["Title"], d["Intro"], d["Button"] = "Join Herald", "You were invited as "+string(t.Role)+". Choose your name and a password.", "Join and sign in"
		d["AskName"] = true
	default:
		d["Title"], d["Intro"], d["Button"] = "Choose a new password", "Choose a new password; your other sessions will be signed out.", "Set password and sign in"
	}
	return d
}

func (c *Console) useLink(w http.ResponseWriter, r *http.Request, _ *session) error {
	secret := r.PathValue("token")
	t, err := c.svc.Operators.PeekLink(r.Context(), secret)
	if err == nil && t.Kind != linkKind(r) {
		err = notify.Errorf(notify.CodeNotFound, "this link was used already or has expired; ask an admin for a new one")
	}
	if err != nil {
		return err
	}
	email, name, password := r.PostFormValue("email"), r.PostFormValue("name"), r.PostFormValue("password")
	var in operator.SignedIn
	if t.Kind == notify.TokenSetup {
		in, err = c.svc.Operators.Setup(r.Context(), secret, email, name, password)
	} else {
		in, err = c.svc.Operators.UseLink(r.Context(), secret, name, password)
	}
	if err != nil {
		var e *notify.Error
		if errors.As(err, &e) && (e.Code == notify.CodeValidation) {
			c.render(w, r, nil, e.HTTPStatus(), "link", linkPage(t, email, name, e))
			return nil
		}
		return err
	}
	setSessionCookie(w, r, c.secure(r), in.Secret, in.Session.ExpiresAt)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
