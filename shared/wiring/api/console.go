package api

import (
	"net/http"
	"strings"

	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/console"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/wiring"
	"github.com/heraldhq/herald/shared/wiring/services"
)

// Operators is the service of the console's people.
func Operators(s *Set) *operator.Service {
	g := s.Graph
	return wiring.Shared(g, "operators", func() *operator.Service {
		return &operator.Service{Store: g.Ports.Store, IDs: g.IDs, Now: g.Now, Log: g.Log, SessionTTL: g.Config.Console.SessionTTL}
	})
}

// Console is the operators' console over the same services as the API.
// secure marks its cookies Secure on every request (behind API Gateway,
// which speaks only https).
func Console(s *Set, secure bool) *console.Console {
	g := s.Graph
	cc := g.Config.Console
	svc := console.Services{Store: g.Ports.Store, Operators: Operators(s), Users: Users(s), Sends: services.Sends(g), Compose: Composer(s),
		Reports: ingest.Reporter{Store: g.Ports.Store, Blobs: g.Ports.Blobs, Config: IngestConfig(s)}, Templates: Templates(s)}
	if g.Ports.Scheduler != nil {
		svc.Campaigns = services.Campaigns(g)
	}
	opts := console.Options{Now: g.Now, Log: g.Log, Grace: cc.Grace, SecureCookies: secure,
		ComposeHelp: compose.NotConfigured,
		Prices:      map[notify.Channel]float64{}}
	if cc.Grace == 0 {
		opts.Grace = -1
	}
	for ch, p := range cc.Prices {
		opts.Prices[notify.Channel(ch)] = p
	}
	for _, d := range cc.Destinations {
		opts.Destinations = append(opts.Destinations, console.Destination{Route: d.Route, Label: d.Label})
	}
	return console.New(svc, opts)
}

// Root serves the API under /v1 and the console everywhere else. The
// path / is both: the console for a browser (which asks for text/html),
// the API's index for everyone else.
func Root(api, consoleHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1", api)
	mux.Handle("/v1/", api)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && !strings.Contains(r.Header.Get("Accept"), "text/html") {
			api.ServeHTTP(w, r)
			return
		}
		consoleHandler.ServeHTTP(w, r)
	}))
	return mux
}
