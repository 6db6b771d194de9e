// Package sdkapi is the HTTP edge of Herald's browser SDK: the routes under
// /sdk/v1 that a customer's web page calls as one of its users, with a
// short-lived user token (never an API key) and only from the workspace's
// allowed origins (CORS). It serves the SDK's files too. A token lets its
// holder act only as its one user: their devices, push permission,
// presence, inbox and preferences.
package sdkapi

import (
	"net/http"
)

// Server serves /sdk/v1.
type Server struct {
	mux *http.ServeMux
}

// routeFunc registers one route of the SDK API.
type routeFunc func(pattern string, h http.Handler)

// New builds the SDK API.
func New() *Server {
	s := &Server{mux: http.NewServeMux()}
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

// inboxRoutes registers the in-app inbox routes (inbox.go).
func (s *Server) inboxRoutes(route routeFunc) {}
