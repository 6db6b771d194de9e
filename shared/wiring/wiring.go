// Package wiring builds Herald's object graph once, from configuration and
// the ports an environment provides. It is the one place that knows how the
// pieces fit: the Lambda functions (with AWS adapters), the local server and
// the invoke tool (with embedded adapters, or AWS ones) all build their
// handlers here, so an option set here holds in every one of them.
//
// It is four packages, for the size of the functions, since a function
// links every package it imports, with its initialisation (phone number
// metadata, AWS service schemas), whether it calls it or not:
//   - wiring (this one): the ports, the graph, and the workers that know
//     nothing of users or HTTP (dispatch, the audience walk, the authorizer);
//   - wiring/services: the send and campaign services (the scheduler);
//   - wiring/api: the HTTP API with the services only it uses, and
//     spreadsheet ingestion (the api, compose and ingest functions);
//   - wiring/callbacks: the webhooks and unsubscribe links (callbacks).
//
// None imports an adapter: the environment opens its adapters and hands
// them over as Ports, so no embedded adapter is linked into a Lambda.
// Builders are functions rather than methods, so that a function links only
// the builders it calls.
package wiring

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/unsubscribe"
)

// Figures counts the delivery figures: CloudWatch embedded metric format
// lines on AWS, memory locally. Dispatch records deliveries; the callbacks
// record what providers report.
type Figures interface {
	dispatch.Metrics
	Callback(ch notify.Channel, outcome metrics.Outcome, reason string)
}

// Snapshots answer the delivery figures counted so far (the local mode's
// figures in memory, served at GET /v1/metrics).
type Snapshots interface {
	Snapshot() metrics.Snapshot
}

// Ports are what an environment provides. A nil optional port turns its
// feature off the way each service documents (503 not_configured, a
// filter audience refused, …). Ports are interfaces, so a nil one stays nil
// in the services' own narrower interfaces; an environment leaves a port
// it lacks unset rather than setting a nil pointer.
type Ports struct {
	// Store is required.
	Store notify.Store
	// Dispatch is the dispatch queue, required by everything that sends;
	// Audience the audience queue, where filter sends walk.
	Dispatch notify.Queue
	Audience notify.Queue
	// Scheduler keeps campaigns and scheduled sends; Repairs takes the
	// schedule changes it refused.
	Scheduler notify.Scheduler
	Repairs   notify.Queue
	// Blobs is where ingestion reads uploaded spreadsheets.
	Blobs notify.Blobs
	// Channels deliver each channel (provider.Senders builds them, with
	// their retry hints and rates).
	Channels   dispatch.Senders
	RetryHints map[notify.Channel]func(error) (time.Duration, bool)
	Rates      map[notify.Channel]float64
	// Outbox is the local outbox GET /v1/outbox reads (local mode only).
	Outbox notify.Outbox
	// Figures counts delivery figures; Snapshots, when set, serves them
	// at GET /v1/metrics.
	Figures   Figures
	Snapshots Snapshots
	// SNSCerts, when set, replaces SNS's certificate fetch (the local
	// mode's HERALD_SNS_TEST_CERT).
	SNSCerts func(ctx context.Context, url string) ([]byte, error)
	// Secrets, when set, returns the configuration with its secrets read
	// (the Lambda functions read them from SSM Parameter Store): the parts
	// that need a secret ask for it when a request first needs one, so a
	// request that needs none, and a cold start, do not wait for the read.
	// Nil: the configuration holds its secrets already (local mode).
	Secrets func(context.Context) (config.Config, error)
}

// Graph is Herald's object graph for one configuration: the configuration,
// the ports, and the parts built so far, shared (the API and the scheduler
// run campaigns with the same service, which sends with the same sender).
type Graph struct {
	Config config.Config
	Ports  Ports
	Log    *slog.Logger
	IDs    *notify.IDs
	Now    func() time.Time

	mu    sync.Mutex
	parts map[string]any
}

// New returns the graph of cfg over ports, logging to log.
func New(cfg config.Config, ports Ports, log *slog.Logger) *Graph {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Graph{Config: cfg, Ports: ports, Log: log, IDs: &notify.IDs{}, Now: time.Now, parts: map[string]any{}}
}

// Shared returns the graph's part named name, building it on first use,
// so that every caller gets the same one. A part's build may ask for other
// parts (campaigns send with the sends part); only the same part waits.
func Shared[T any](g *Graph, name string, build func() T) T {
	g.mu.Lock()
	p, ok := g.parts[name]
	if !ok {
		p = &part{}
		g.parts[name] = p
	}
	g.mu.Unlock()
	pt := p.(*part)
	pt.once.Do(func() { pt.value = build() })
	return pt.value.(T)
}

// part is one shared part of a graph, built once.
type part struct {
	once  sync.Once
	value any
}

// Lazy returns build's result, built by the first call that needs it
// rather than when the function starts: a Lambda function's cold start
// waits for everything built before its first request, needed or not.
// The first successful build is kept and shared, concurrent callers wait
// for the build under way, and a failed build returns its error to its
// caller and is tried again by the next (a throttled read is not kept for
// the life of the process).
func Lazy[T any](build func(context.Context) (T, error)) func(context.Context) (T, error) {
	var (
		mu    sync.Mutex
		built atomic.Bool
		value T
	)
	return func(ctx context.Context) (T, error) {
		if built.Load() {
			return value, nil
		}
		mu.Lock()
		defer mu.Unlock()
		if built.Load() {
			return value, nil
		}
		v, err := build(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		value = v
		built.Store(true)
		return value, nil
	}
}

// Secrets returns the configuration with its secrets: the graph's own, or
// the one Ports.Secrets reads, once it has been read.
func Secrets(g *Graph) func(context.Context) (config.Config, error) {
	return Shared(g, "secrets", func() func(context.Context) (config.Config, error) {
		if g.Ports.Secrets == nil {
			return func(context.Context) (config.Config, error) { return g.Config, nil }
		}
		return Lazy(g.Ports.Secrets)
	})
}

// ReadLinkSecret reads the unsubscribe secret, which signs links and user
// tokens, when the graph's secrets are read on first need
// (Ports.Secrets); nil when the configuration holds it already. The API,
// the SDK's routes and the console take it beside the configuration's.
func ReadLinkSecret(g *Graph) func(context.Context) ([]byte, error) {
	if g.Ports.Secrets == nil {
		return nil
	}
	secrets := Secrets(g)
	return func(ctx context.Context) ([]byte, error) {
		cfg, err := secrets(ctx)
		if err != nil {
			return nil, err
		}
		return []byte(cfg.UnsubscribeSecret), nil
	}
}

// Dispatcher delivers the recipients of dispatch messages. A record's last
// receive (Config.MaxReceives) settles what still fails, and records of
// the dead-letter queue (Config.DispatchDLQ, AWS) are settled.
func Dispatcher(g *Graph) *dispatch.Dispatcher {
	return dispatch.New(g.Ports.Store, Channels(g), dispatch.Options{Concurrency: g.Config.SendConcurrent, Log: g.Log,
		Requeue: g.Ports.Dispatch, Retry: g.Ports.Dispatch, Rates: g.Ports.Rates, RetryHints: g.Ports.RetryHints,
		MaxReceives: g.Config.MaxReceives, DeadLetterARN: g.Config.DispatchDLQ, Metrics: g.Ports.Figures,
		EmailFooter: EmailFooter(g.Config, g.Now)})
}

// Channels are the senders of every channel: the ports' providers and,
// unless the ports give one, the in-app channel's, which writes into the
// users' inboxes in the store (on AWS as locally: the inbox is the
// destination, not a stand-in for a provider).
func Channels(g *Graph) dispatch.Senders {
	s := g.Ports.Channels
	if s.InApp == nil {
		s.InApp = channel.NewInbox(g.Ports.Store, g.IDs, g.Now)
	}
	return s
}

// EmailLinkLifetime is how long the preference link of an email's footer
// works: a person may open a mail months after it came.
const EmailLinkLifetime = 365 * 24 * time.Hour

// EmailFooter ends every email to a user with a link to their preference
// page under the public URL (HERALD_PUBLIC_URL), signed with the
// unsubscribe secret; without both, emails get no footer.
func EmailFooter(cfg config.Config, now func() time.Time) func(env channel.Envelope, u notify.User) (text, html string) {
	if cfg.UnsubscribeSecret == "" || cfg.PublicURL == "" {
		return nil
	}
	secret, base := []byte(cfg.UnsubscribeSecret), cfg.PublicURL
	return func(env channel.Envelope, u notify.User) (string, string) {
		if env.UserID == "" {
			return "", ""
		}
		// A day's emails to a user carry the same link.
		expires := now().UTC().Truncate(24 * time.Hour).Add(EmailLinkLifetime)
		return unsubscribe.EmailFooter(unsubscribe.PreferencesURL(base, secret, env.WorkspaceID, env.UserID, unsubscribe.Generation(u.SealKey), expires), u.Language)
	}
}

// Walker walks filter audiences, a step at a time.
func Walker(g *Graph) *audience.Walker {
	return &audience.Walker{Store: g.Ports.Store, Dispatch: g.Ports.Dispatch, Steps: g.Ports.Audience, Log: g.Log}
}

// Authorizer checks API keys for API Gateway and records their last use.
func Authorizer(g *Graph) *apikey.Authorizer {
	return &apikey.Authorizer{Keys: g.Ports.Store, LastUse: &apikey.Keys{Store: g.Ports.Store, IDs: g.IDs, Now: g.Now}, Log: g.Log}
}
