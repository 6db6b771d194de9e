// Package wiring builds Herald's object graph (its services and the edges
// that serve them) once, from configuration and the ports an environment
// provides. It is the one place that knows how the pieces fit: the Lambda
// functions (AWS adapters), the local server and the invoke tool (embedded
// adapters, or AWS ones) all call it, so a rule or an option set here holds
// in every one of them.
//
// It imports services and ports, never an adapter: the environment opens
// its adapters and hands them over in Ports, so no embedded adapter is
// linked into a Lambda. Each part is built by its own method, so a function
// links only the parts it asks for.
package wiring

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/template"
	"github.com/heraldhq/herald/shared/unsubscribe"
	"github.com/heraldhq/herald/shared/webhook"
)

// Figures is what counts the delivery figures: CloudWatch embedded metric
// format lines on AWS, memory locally.
type Figures interface {
	dispatch.Metrics
	webhook.Metrics
}

// Ports are what an environment provides. Nil optional ports turn their
// feature off the way each service documents (503 not_configured, a
// filter audience refused, …).
type Ports struct {
	// Store is required.
	Store notify.Store
	// Dispatch is the dispatch queue: required by everything that sends.
	Dispatch notify.Queue
	// Audience is the audience queue, where filter sends walk.
	Audience notify.Queue
	// Scheduler keeps campaigns and scheduled sends; Repairs takes the
	// schedule changes it refused.
	Scheduler notify.Scheduler
	Repairs   notify.Queue
	// Uploads stores spreadsheets and says how clients reach them
	// (presigned S3 URLs, or the local signed route); wiring sets its
	// Ingest limits from the configuration.
	Uploads *httpapi.Uploads
	// Blobs is where uploads are read back by ingestion.
	Blobs notify.Blobs
	// Channels deliver each channel (provider.Senders builds them).
	Channels dispatch.Senders
	// RetryHints and Rates come with the channels.
	RetryHints map[notify.Channel]func(error) (time.Duration, bool)
	Rates      map[notify.Channel]float64
	// Model writes AI text; nil turns composition off.
	Model compose.Model
	// Outbox is the local outbox GET /v1/outbox reads (local mode only).
	Outbox httpapi.Outbox
	// Figures counts delivery figures; MetricsView serves GET /v1/metrics.
	Figures     Figures
	MetricsView httpapi.Metrics
	// PushEndpoints answer SNS's push endpoint events (nil: no push
	// webhook).
	PushEndpoints webhook.PushEndpoints
	// SNSCerts, when set, replaces SNS's certificate fetch (tests and the
	// local mode's HERALD_SNS_TEST_CERT).
	SNSCerts func(ctx context.Context, url string) ([]byte, error)
}

// Graph is Herald's object graph for one configuration. Its parts are
// built on first use and shared: the API and the scheduler run campaigns
// with the same service, which sends with the same sender.
type Graph struct {
	cfg   config.Config
	ports Ports
	log   *slog.Logger
	ids   *notify.IDs
	now   func() time.Time

	sendsOnce     sync.Once
	sends         *send.Sender
	campaignsOnce sync.Once
	campaigns     *campaign.Service
	composerOnce  sync.Once
	composer      *compose.Composer
}

// New returns the graph of cfg over ports, logging to log.
func New(cfg config.Config, ports Ports, log *slog.Logger) *Graph {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Graph{cfg: cfg, ports: ports, log: log, ids: &notify.IDs{}, now: time.Now}
}

// Config is the configuration the graph was built from.
func (g *Graph) Config() config.Config { return g.cfg }

// Sends is the send service: it prepares and starts every send, from the
// API, a campaign's run or the console.
func (g *Graph) Sends() *send.Sender {
	g.sendsOnce.Do(func() {
		g.sends = &send.Sender{Store: g.ports.Store, IDs: g.ids, Now: g.now, Log: g.log, DefaultRegion: g.cfg.DefaultRegion}
		// A nil queue must stay a nil interface: the sender refuses a
		// filter audience when it has no audience queue.
		if g.ports.Dispatch != nil {
			g.sends.Dispatch = g.ports.Dispatch
		}
		if g.ports.Audience != nil {
			g.sends.Steps = g.ports.Audience
		}
	})
	return g.sends
}

// Campaigns is the campaign service, or nil when there is no scheduler.
func (g *Graph) Campaigns() *campaign.Service {
	g.campaignsOnce.Do(func() {
		if g.ports.Scheduler == nil {
			return
		}
		g.campaigns = &campaign.Service{Store: g.ports.Store, Scheduler: g.ports.Scheduler, Sender: g.Sends(), IDs: g.ids, Now: g.now, Log: g.log}
		if g.ports.Repairs != nil {
			g.campaigns.Repairs = g.ports.Repairs
		}
	})
	return g.campaigns
}

// Composer writes text with the configured model, or is nil when
// composition is off.
func (g *Graph) Composer() *compose.Composer {
	g.composerOnce.Do(func() {
		if g.ports.Model == nil {
			return
		}
		g.composer = compose.New(g.ports.Model, g.ports.Store, compose.Config{RatePerMinute: g.cfg.Compose.RatePerMinute, MaxTokens: g.cfg.Compose.MaxTokens}, g.now, g.log)
	})
	return g.composer
}

// IngestConfig is how spreadsheets are bounded and read.
func (g *Graph) IngestConfig() ingest.Config {
	return ingest.NewConfig(g.cfg.UploadMaxBytes, g.cfg.UploadMaxRows, g.cfg.UploadMaxColumns, g.cfg.DefaultRegion)
}

// Users is the user service: profiles, devices, permission, preferences,
// presence.
func (g *Graph) Users() *profile.Service {
	return &profile.Service{Store: g.ports.Store, DefaultRegion: g.cfg.DefaultRegion, AllowPrivateEndpoints: g.cfg.TestAllowPrivateEndpoints, Now: g.now}
}

// Keys keeps the workspaces' API keys.
func (g *Graph) Keys() *apikey.Keys {
	return &apikey.Keys{Store: g.ports.Store, IDs: g.ids, Now: g.now}
}

// Templates is the template service.
func (g *Graph) Templates() *template.Service {
	return &template.Service{Store: g.ports.Store, IDs: g.ids, Now: g.now}
}

// API is the HTTP API: every route, or only those under routes when given
// (the compose function serves httpapi.ComposeRoutes).
func (g *Graph) API(routes ...string) *httpapi.Server {
	svc := httpapi.Services{Store: g.ports.Store, Sends: g.Sends(), Users: g.Users(), Keys: g.Keys(), Templates: g.Templates(),
		Campaigns: g.Campaigns(), Compose: g.Composer()}
	opts := httpapi.Options{
		Outbox: g.ports.Outbox, Metrics: g.ports.MetricsView, Routes: routes, IDs: g.ids, Now: g.now, Log: g.log,
		Config: httpapi.Config{MaxBodyBytes: g.cfg.MaxBodyBytes, DefaultRegion: g.cfg.DefaultRegion, VAPIDPublicKey: g.cfg.VAPID.PublicKey,
			AllowPrivateEndpoints: g.cfg.TestAllowPrivateEndpoints},
	}
	if g.ports.Uploads != nil {
		u := *g.ports.Uploads
		u.Ingest = g.IngestConfig()
		opts.Uploads = &u
	}
	return httpapi.New(svc, opts)
}

// Dispatcher delivers the recipients of dispatch messages. On AWS a
// record's last receive (cfg.MaxReceives) settles what still fails, and
// records of the dead-letter queue (cfg.DispatchDLQ) are settled.
func (g *Graph) Dispatcher() *dispatch.Dispatcher {
	opts := dispatch.Options{Concurrency: g.cfg.SendConcurrent, Log: g.log, Rates: g.ports.Rates, RetryHints: g.ports.RetryHints,
		MaxReceives: g.cfg.MaxReceives, DeadLetterARN: g.cfg.DispatchDLQ}
	if g.ports.Dispatch != nil {
		opts.Requeue = g.ports.Dispatch
		opts.Retry = g.ports.Dispatch
	}
	if g.ports.Figures != nil {
		opts.Metrics = g.ports.Figures
	}
	return dispatch.New(g.ports.Store, g.ports.Channels, opts)
}

// Walker walks filter audiences, a step at a time.
func (g *Graph) Walker() *audience.Walker {
	return &audience.Walker{Store: g.ports.Store, Dispatch: g.ports.Dispatch, Steps: g.ports.Audience, Log: g.log}
}

// Ingester validates uploaded spreadsheets and queues their sends.
func (g *Graph) Ingester() *ingest.Ingester {
	return &ingest.Ingester{Store: g.ports.Store, Blobs: g.ports.Blobs, Dispatch: g.ports.Dispatch, Config: g.IngestConfig(), IDs: g.ids, Log: g.log}
}

// Callbacks are the routes that carry no API key: the providers' webhooks
// and the unsubscribe links.
type Callbacks struct {
	// HTTP routes /webhooks/… and /unsubscribe/.
	HTTP *http.ServeMux
	// SMS is the SMS status endpoint, which also reads the CloudWatch Logs
	// subscription records of SNS's SMS delivery status.
	SMS *webhook.SMS
	// SNS are the endpoints that take SNS notifications, each for the
	// topics it is configured with.
	SNS []webhook.SNSReceiver
}

// Callbacks builds the callback routes the configuration turns on: the
// WhatsApp webhook always, the SNS endpoints of the topics configured, and
// the unsubscribe links when there is a secret.
func (g *Graph) Callbacks() Callbacks {
	cfg, store, log := g.cfg, g.ports.Store, g.log
	var figures webhook.Metrics
	if g.ports.Figures != nil {
		figures = g.ports.Figures
	}
	// SNSOptions holds a certificate cache, so each endpoint's is filled
	// in place rather than copied.
	sns := func(o *webhook.SNSOptions, topics []string) {
		o.TopicARNs = topics
		if g.ports.SNSCerts != nil {
			o.Certs = g.ports.SNSCerts
		}
	}
	c := Callbacks{HTTP: http.NewServeMux()}
	c.HTTP.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken,
		ReplySecret: []byte(cfg.UnsubscribeSecret), Store: store, Log: log, Metrics: figures})
	c.SMS = &webhook.SMS{Store: store, Log: log, Metrics: figures}
	sns(&c.SMS.SNSOptions, cfg.SMSStatusTopics)
	if len(cfg.SMSStatusTopics) > 0 {
		c.HTTP.Handle("/webhooks/sms", c.SMS)
		c.SNS = append(c.SNS, c.SMS)
	}
	if len(cfg.SESEventTopics) > 0 {
		ses := &webhook.SES{Store: store, Log: log, Metrics: figures}
		sns(&ses.SNSOptions, cfg.SESEventTopics)
		c.HTTP.Handle("/webhooks/ses", ses)
		c.SNS = append(c.SNS, ses)
	}
	if len(cfg.PushEventTopics) > 0 && g.ports.PushEndpoints != nil {
		push := &webhook.Push{Store: store, Endpoints: g.ports.PushEndpoints, Log: log, Metrics: figures}
		sns(&push.SNSOptions, cfg.PushEventTopics)
		c.HTTP.Handle("/webhooks/push", push)
		c.SNS = append(c.SNS, push)
	}
	if cfg.UnsubscribeSecret != "" {
		c.HTTP.Handle("/unsubscribe/", &unsubscribe.Handler{Secret: []byte(cfg.UnsubscribeSecret), Users: store, Log: log})
	}
	return c
}
