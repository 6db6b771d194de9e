// Package sdkapi is the HTTP edge of Herald's browser SDK: the routes under
// /sdk/v1 that a customer's web page calls as one of its users, with a
// short-lived user token (never an API key) and only from the workspace's
// allowed origins (CORS). It serves the SDK's files too. A token lets its
// holder act only as its one user: their devices, push permission,
// presence, inbox and preferences.
package sdkapi

import (
	"net/http"

	"github.com/heraldhq/herald/shared/inbox"
)

// Server serves /sdk/v1.
type Server struct {
	mux *http.ServeMux
	// inbox keeps the users' in-app inboxes (inbox.go).
	inbox *inbox.Service
}

// Services are what the SDK's routes act through.
type Services struct {
	// Inbox keeps the users' in-app inboxes (inbox.go), as it does for
	// the API.
	Inbox *inbox.Service
}

// Options are the SDK's settings.
type Options struct{}

// routeFunc registers one route of the SDK API.
type routeFunc func(pattern string, h http.Handler)

// New builds the SDK API.
func New(svc Services, o Options) *Server {
	s := &Server{mux: http.NewServeMux(), inbox: svc.Inbox}
	route := func(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }
	s.identityRoutes(route)
	s.inboxRoutes(route)
	return s
}

// ServeHTTP serves an SDK request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// identityRoutes registers the token, CORS, device, permission, presence,
// preference and event routes (identity.go).
func (s *Server) identityRoutes(route routeFunc) {}
