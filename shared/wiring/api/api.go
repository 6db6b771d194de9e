// Package api builds, from a wiring.Graph, the HTTP API with the services
// only it uses (users, keys, templates, AI composition), the browser SDK's
// routes and spreadsheet ingestion. It is the heaviest part of package
// wiring (see there): only the api, compose and ingest functions import it.
package api

import (
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/inbox"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/sdkapi"
	"github.com/heraldhq/herald/shared/template"
	"github.com/heraldhq/herald/shared/wiring"
	"github.com/heraldhq/herald/shared/wiring/services"
)

// Set is a graph with the ports only the services use, whose types
// belong to the API's own packages (wiring imports neither).
type Set struct {
	Graph *wiring.Graph
	// Model writes AI text; nil turns composition off.
	Model compose.Model
	// Uploads take spreadsheets (presigned S3 URLs, or the local signed
	// route); nil answers the upload routes with 503 not_configured. The
	// API sets their Ingest limits from the configuration.
	Uploads *httpapi.Uploads
	// Used names what delivers each channel, as provider.Senders chose
	// (local mode); nil judges it from the configuration, where what is
	// not configured falls back to the sandbox (the Lambda functions).
	Used map[string]string
	// DemoURL is where make run serves its sample customer site for the
	// browser SDK; the console links to it. Empty elsewhere.
	DemoURL string
}

// Composer writes text with the configured model, or is nil when
// composition is off.
func Composer(s *Set) *compose.Composer {
	g := s.Graph
	return wiring.Shared(g, "composer", func() *compose.Composer {
		if s.Model == nil {
			return nil
		}
		return compose.New(s.Model, g.Ports.Store, compose.Config{RatePerMinute: g.Config.Compose.RatePerMinute, MaxTokens: g.Config.Compose.MaxTokens}, g.Now, g.Log)
	})
}

// Users is the user service: profiles, devices, permission, preferences,
// presence.
func Users(s *Set) *profile.Service {
	g := s.Graph
	return &profile.Service{Store: g.Ports.Store, DefaultRegion: g.Config.DefaultRegion, AllowPrivateEndpoints: g.Config.TestAllowPrivateEndpoints, Now: g.Now}
}

// Inbox keeps the users' in-app inboxes, for the API and the SDK.
func Inbox(s *Set) *inbox.Service {
	g := s.Graph
	return &inbox.Service{Store: g.Ports.Store, Now: g.Now, Log: g.Log}
}

// Keys keeps the workspaces' API keys.
func Keys(s *Set) *apikey.Keys {
	g := s.Graph
	return &apikey.Keys{Store: g.Ports.Store, IDs: g.IDs, Now: g.Now}
}

// Templates is the template service.
func Templates(s *Set) *template.Service {
	g := s.Graph
	return &template.Service{Store: g.Ports.Store, IDs: g.IDs, Now: g.Now}
}

// IngestConfig is how spreadsheets are bounded and read.
func IngestConfig(s *Set) ingest.Config {
	g := s.Graph
	c := g.Config
	return ingest.NewConfig(c.UploadMaxBytes, c.UploadMaxRows, c.UploadMaxColumns, c.DefaultRegion)
}

// Ingester validates uploaded spreadsheets and queues their sends.
func Ingester(s *Set) *ingest.Ingester {
	g := s.Graph
	return &ingest.Ingester{Store: g.Ports.Store, Blobs: g.Ports.Blobs, Dispatch: g.Ports.Dispatch, Config: IngestConfig(s), IDs: g.IDs, Log: g.Log}
}

// API is the HTTP API: every route, or only those under routes when given
// (the compose function serves httpapi.ComposeRoutes).
func API(s *Set, routes ...string) *httpapi.Server {
	g := s.Graph
	svc := httpapi.Services{Store: g.Ports.Store, Sends: services.Sends(g), Users: Users(s), Keys: Keys(s), Templates: Templates(s),
		Campaigns: services.Campaigns(g), Compose: Composer(s), Inbox: Inbox(s)}
	cfg := g.Config
	opts := httpapi.Options{Outbox: g.Ports.Outbox, Metrics: g.Ports.Snapshots, Routes: routes, IDs: g.IDs, Now: g.Now, Log: g.Log, Audit: Operators(s).Audit,
		Config: httpapi.Config{MaxBodyBytes: cfg.MaxBodyBytes, VAPIDPublicKey: cfg.VAPID.PublicKey,
			LinkSecret: []byte(cfg.UnsubscribeSecret), ReadLinkSecret: wiring.ReadLinkSecret(g), PublicURL: cfg.PublicURL}}
	if s.Uploads != nil {
		u := *s.Uploads
		u.Ingest = IngestConfig(s)
		opts.Uploads = &u
	}
	return httpapi.New(svc, opts)
}

// sdkOriginsTTL is how long the api function keeps a workspace's allowed
// origins between reads: a page polls its inbox every few seconds, and a
// change of the origins may take this long to count.
const sdkOriginsTTL = 30 * time.Second

// SDK is the browser SDK's routes (/sdk/v1) over the same user service as
// the API. local is the local mode: a workspace that lists no origins
// allows this machine's pages, and origins are read on every request.
func SDK(s *Set, local bool) *sdkapi.Server {
	g := s.Graph
	cfg := g.Config
	o := sdkapi.Options{Secret: []byte(cfg.UnsubscribeSecret), ReadSecret: wiring.ReadLinkSecret(g), VAPIDPublicKey: cfg.VAPID.PublicKey, Local: local, Now: g.Now, Log: g.Log}
	if local {
		o.InboxPoll = time.Second // a bbolt read: a new message shows within 2 s
	} else {
		o.OriginsTTL = sdkOriginsTTL
	}
	return sdkapi.New(sdkapi.Services{Users: Users(s), Store: g.Ports.Store, Inbox: Inbox(s)}, o)
}
