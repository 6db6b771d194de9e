// Package services builds, from a wiring.Graph, Herald's services (sends,
// campaigns, users, keys, templates, AI composition) and the fronts that
// serve them: the HTTP API and spreadsheet ingestion.
// It is the heavy half of package wiring (see there): the functions that
// know nothing of users import only wiring.
package services

import (
	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/template"
	"github.com/heraldhq/herald/shared/wiring"
)

// Set is a graph with the ports only the services use, whose types
// belong to the services' own packages.
type Set struct {
	Graph *wiring.Graph
	// Model writes AI text; nil turns composition off.
	Model compose.Model
}

// New returns the services of g with a model (nil: composition off).
func New(g *wiring.Graph, model compose.Model) *Set {
	return &Set{Graph: g, Model: model}
}

// Sends is the send service: it prepares and starts every send, from the
// API, a campaign's run or the console.
func Sends(s *Set) *send.Sender {
	g := s.Graph
	return wiring.Shared(g, "sends", func() *send.Sender {
		s := &send.Sender{Store: g.Ports.Store, IDs: g.IDs, Now: g.Now, Log: g.Log, DefaultRegion: g.Config.DefaultRegion}
		// A nil queue must stay a nil interface: the sender refuses a
		// filter audience when it has no audience queue.
		if g.Ports.Dispatch != nil {
			s.Dispatch = g.Ports.Dispatch
		}
		if g.Ports.Audience != nil {
			s.Steps = g.Ports.Audience
		}
		return s
	})
}

// Campaigns is the campaign service, or nil when there is no scheduler.
func Campaigns(s *Set) *campaign.Service {
	g := s.Graph
	return wiring.Shared(g, "campaigns", func() *campaign.Service {
		if g.Ports.Scheduler == nil {
			return nil
		}
		c := &campaign.Service{Store: g.Ports.Store, Scheduler: g.Ports.Scheduler, Sender: Sends(s), IDs: g.IDs, Now: g.Now, Log: g.Log}
		if g.Ports.Repairs != nil {
			c.Repairs = g.Ports.Repairs
		}
		return c
	})
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

// snapshot serves a graph's Snapshot port as httpapi.Metrics.
type snapshot func() metrics.Snapshot

func (f snapshot) Snapshot() metrics.Snapshot { return f() }

// API is the HTTP API: every route, or only those under routes when given
// (the compose function serves httpapi.ComposeRoutes).
func API(s *Set, routes ...string) *httpapi.Server {
	g := s.Graph
	svc := httpapi.Services{Store: g.Ports.Store, Sends: Sends(s), Users: Users(s), Keys: Keys(s), Templates: Templates(s),
		Campaigns: Campaigns(s), Compose: Composer(s)}
	cfg := g.Config
	opts := httpapi.Options{Routes: routes, IDs: g.IDs, Now: g.Now, Log: g.Log,
		Config: httpapi.Config{MaxBodyBytes: cfg.MaxBodyBytes, DefaultRegion: cfg.DefaultRegion, VAPIDPublicKey: cfg.VAPID.PublicKey,
			AllowPrivateEndpoints: cfg.TestAllowPrivateEndpoints}}
	if g.Ports.Outbox != nil {
		opts.Outbox = g.Ports.Outbox
	}
	if g.Ports.Snapshot != nil {
		opts.Metrics = snapshot(g.Ports.Snapshot)
	}
	if u := g.Ports.Uploads; u != nil {
		opts.Uploads = &httpapi.Uploads{Blobs: u.Blobs, PresignPut: u.PresignPut, PresignGet: u.PresignGet, Received: u.Received,
			URLSecret: u.URLSecret, PublicURL: u.PublicURL, Ingest: IngestConfig(s)}
	}
	return httpapi.New(svc, opts)
}
