package main

import (
	"embed"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/usertoken"
)

//go:embed demo/index.html demo/demo.js demo/demo.css
var demoFiles embed.FS

// demo serves make run's sample customer site at /demo/: a page that uses
// Herald's browser SDK as a customer's would, and its "backend", which
// signs a user in by minting an SDK user token for them (creating the user
// when new). It exists only in local mode, answers only this machine, and
// is not part of the product's API: a real backend mints tokens with its
// API key (POST /v1/users/{id}/sdk-token) or its signing key.
type demo struct {
	users  *profile.Service
	secret []byte
	sw     []byte // the SDK's service worker, served under /demo/ so its scope is the demo
}

func (d *demo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err != nil || !net.ParseIP(host).IsLoopback() {
		http.Error(w, "the demo answers this machine only", http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	switch p := r.URL.Path; {
	case p == "/demo/token" && r.Method == http.MethodPost:
		d.token(w, r)
	case p == "/demo/herald-sw.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(d.sw)
	case p == "/demo/" || p == "/demo":
		d.file(w, "demo/index.html", "text/html; charset=utf-8")
	case p == "/demo/demo.js":
		d.file(w, "demo/demo.js", "text/javascript; charset=utf-8")
	case p == "/demo/demo.css":
		d.file(w, "demo/demo.css", "text/css; charset=utf-8")
	default:
		http.NotFound(w, r)
	}
}

func (d *demo) file(w http.ResponseWriter, name, contentType string) {
	b, err := demoFiles.ReadFile(name)
	if err != nil {
		http.NotFound(w, nil)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(b)
}

// token signs the demo's visitor in as a user of the local workspace.
func (d *demo) token(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.URL.Query().Get("user"))
	if err := profile.ValidID("user", id); err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	if _, err := d.users.Get(r.Context(), WorkspaceID, id); notify.IsCode(err, notify.CodeNotFound) {
		name := "Demo " + id
		if _, err := d.users.Put(r.Context(), WorkspaceID, id, profile.Input{Name: &name}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	} else if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	tok := usertoken.Mint(usertoken.SigningKey(d.secret, WorkspaceID), usertoken.Claims{WorkspaceID: WorkspaceID, UserID: id, Expires: exp})
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "clientId": WorkspaceID, "expiresAt": exp})
}
