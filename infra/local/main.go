// Command local runs all of Herald in one process with embedded adapters:
// the API on HERALD_ADDR, the dispatch workers and the local outbox, with its
// data under HERALD_DATA_DIR. No AWS account, no Docker. `make run` starts it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "time/tzdata" // user time zones must resolve on any machine

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/heraldhq/herald/infra/embedded"
	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/boltscheduler"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/composemodel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/memmetrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
	"github.com/heraldhq/herald/shared/provider"
	"github.com/heraldhq/herald/shared/sdkapi"
	heraldsns "github.com/heraldhq/herald/shared/sns"
	"github.com/heraldhq/herald/shared/webhook"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
	"github.com/heraldhq/herald/shared/wiring/callbacks"
	"github.com/heraldhq/herald/shared/wiring/services"
)

// WorkspaceID is the workspace the local mode creates on first start.
const WorkspaceID = "ws_local"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC(os.Getenv)
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
	}
}

// tuneGC sets the garbage collector for a server that sends: a message
// allocates ~17 KB and keeps almost none of it, so the default GOGC=100
// collects over and over a small live heap (~15% of a send's CPU). At 400
// the heap may grow to five times what is live (email through SES: 9.4 →
// ~7 CPU-seconds per 100,000, make bench's part sender), and the soft
// memory limit makes the collector work harder before the process nears
// it, so a 1,000,000-recipient send keeps within its memory budget. GOGC
// and GOMEMLIMIT in the environment win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}

// run serves until ctx is done. It reports the address it listens on to
// ready, when given (tests listen on port 0).
func run(ctx context.Context, getenv func(string) string, stdout, logOut io.Writer, ready chan<- string) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := cfg.Logger(logOut)
	// The scheduler fires campaigns with the graph's own campaign service,
	// which exists once the graph does (below, before the scheduler runs).
	var campaigns *campaign.Service
	backend, err := embedded.Open(cfg, log, func(ctx context.Context, f boltscheduler.Firing) error {
		_, err := campaigns.Run(ctx, campaign.Invocation{WorkspaceID: f.Target.WorkspaceID, CampaignID: f.Target.CampaignID, ScheduledAt: f.ScheduledAt, Missed: f.Missed})
		return err
	})
	if err != nil {
		return err
	}
	defer backend.Close()
	created, err := bootstrap(ctx, backend.Store, cfg, time.Now())
	if err != nil {
		return err
	}
	cfg.UnsubscribeSecret = backend.Secret
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	base := "http://" + ln.Addr().String()
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	if cfg.TestAllowPrivateEndpoints {
		log.Warn("HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS is on: Web Push endpoints may be private addresses; for tests only")
	}
	ports, model, used, push, err := localPorts(ctx, cfg, backend)
	if err != nil {
		return err
	}
	svc := &wiringapi.Set{Graph: wiring.New(cfg, ports, log), Model: model, Uploads: backend.Uploads(cfg.PublicURL), Used: used, DemoURL: "/demo/"}
	campaigns = services.Campaigns(svc.Graph)
	srv := &http.Server{Handler: newBodyPace(httpapi.CleanPathsOnly(rootMux(svc, push))), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	signIn, err := operators(ctx, wiringapi.Operators(svc), cfg, base)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Herald is running at %s (data in %s)\n%s\n", base, cfg.DataDir, signIn)
	greet(stdout, cfg, base, created, used, model)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	wg := startWorkers(workCtx, cfg, svc, backend, log)
	if addr := getenv("HERALD_PPROF_ADDR"); addr != "" {
		// Profiling for benchmarks and debugging, on its own listener so it
		// is never reachable through the API's address.
		go func() {
			if err := http.ListenAndServe(addr, pprofMux()); err != nil {
				log.Warn("pprof listener", "err", err.Error())
			}
		}()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	stopWork()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// localPorts are the embedded backend's ports with the local mode's
// providers (the outbox for every channel no provider is configured for),
// the AI model when one is configured, and the delivery figures in memory
// (GET /v1/metrics serves them). used names what delivers each channel.
func localPorts(ctx context.Context, cfg config.Config, backend *embedded.Backend) (ports wiring.Ports, model compose.Model, used map[string]string, push webhook.PushEndpoints, err error) {
	ports = backend.Ports()
	loadAWS := func(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) }
	channels, err := provider.Senders(ctx, cfg, channel.NewOutbox(backend.Store, time.Now), "local outbox", loadAWS)
	if err != nil {
		return ports, nil, nil, nil, err
	}
	ports.Channels, ports.Rates, ports.RetryHints = channels.Senders, channels.Rates, channels.RetryHints
	if model, err = composemodel.New(ctx, cfg.Compose, loadAWS); err != nil {
		return ports, nil, nil, nil, err
	}
	figures := memmetrics.New(time.Now())
	ports.Figures, ports.Snapshots = figures, figures
	if cfg.SNSTestCert != "" {
		// Scripted callbacks are signed locally with this certificate,
		// whatever the (still SNS-looking) SigningCertURL says.
		pem, err := os.ReadFile(cfg.SNSTestCert)
		if err != nil {
			return ports, nil, nil, nil, fmt.Errorf("HERALD_SNS_TEST_CERT: %w", err)
		}
		ports.SNSCerts = func(context.Context, string) ([]byte, error) { return pem, nil }
	}
	if len(cfg.PushEventTopics) > 0 && cfg.SNSEnabled {
		awsCfg, err := loadAWS(ctx)
		if err != nil {
			return ports, nil, nil, nil, fmt.Errorf("aws config for push events: %w", err)
		}
		push = heraldsns.NewEndpoints(sns.NewFromConfig(awsCfg))
	}
	return ports, model, channels.Used, push, nil
}

// rootMux serves the API and, beside it, the routes API Gateway sends to
// the callbacks function (provider webhooks, unsubscribe links), which
// carry no API key.
func rootMux(svc *wiringapi.Set, push webhook.PushEndpoints) *http.ServeMux {
	root := callbacks.New(svc.Graph, push).HTTP
	root.Handle("/", wiringapi.Root(wiringapi.API(svc), wiringapi.SDK(svc, true), wiringapi.Console(svc, false)))
	root.Handle("/demo/", &demo{users: wiringapi.Users(svc), secret: []byte(svc.Graph.Config.UnsubscribeSecret), sw: sdkapi.ServiceWorker()})
	return root
}

// operators readies the console's sign-in and says how to sign in:
// HERALD_ADMIN_EMAIL and HERALD_ADMIN_PASSWORD create or reset that admin;
// otherwise, while the workspace has no operator, a one-time link that
// creates the first admin (a new one at every start until it is used).
func operators(ctx context.Context, ops *operator.Service, cfg config.Config, base string) (string, error) {
	if c := cfg.Console; c.AdminEmail != "" {
		if _, err := ops.EnsureAdmin(ctx, WorkspaceID, c.AdminEmail, c.AdminPassword); err != nil {
			return "", fmt.Errorf("HERALD_ADMIN_EMAIL: %w", err)
		}
		return fmt.Sprintf("Console: %s/ (sign in as %s with HERALD_ADMIN_PASSWORD)", base, strings.ToLower(c.AdminEmail)), nil
	}
	link, err := ops.SetupLink(ctx, WorkspaceID)
	if notify.IsCode(err, notify.CodeConflict) {
		return fmt.Sprintf("Console: %s/", base), nil
	}
	if err != nil {
		return "", fmt.Errorf("console setup link: %w", err)
	}
	return fmt.Sprintf("Console: %s/\nCreate the first admin (one-time link, valid 24 hours):\n  %s/setup/%s", base, base, link.Secret), nil
}

// greet prints where Herald runs, its admin key and what delivers each
// channel.
func greet(stdout io.Writer, cfg config.Config, base, created string, used map[string]string, model compose.Model) {
	switch {
	case created != "":
		fmt.Fprintf(stdout, "Admin API key (shown once, also saved to %s):\n  %s\n", filepath.Join(cfg.DataDir, "admin-key"), created)
	case cfg.APIKey != "":
		fmt.Fprintln(stdout, "Admin API key: the one in HERALD_API_KEY")
	default:
		fmt.Fprintf(stdout, "Admin API key: see %s\n", filepath.Join(cfg.DataDir, "admin-key"))
	}
	fmt.Fprintf(stdout, "Channels: push → %s, webpush → %s, sms → %s, email → %s, whatsapp → %s\n",
		used["push"], used["webpush"], used["sms"], used["email"], used["whatsapp"])
	if model != nil {
		fmt.Fprintf(stdout, "AI composition: %s (%s)\n", model.ID(), cfg.Compose.Provider)
	} else {
		fmt.Fprintln(stdout, "AI composition: off (set HERALD_COMPOSE_PROVIDER; see the README)")
	}
	fmt.Fprintf(stdout, "Try: curl -s %s/v1/health\n", base)
}

// startWorkers runs, until ctx is done, what the SQS-triggered functions
// and EventBridge Scheduler do on AWS: dispatch workers, the dead-letter
// settling, audience walks, spreadsheet ingestion, the scheduler and the
// schedule repairs.
func startWorkers(ctx context.Context, cfg config.Config, svc *wiringapi.Set, backend *embedded.Backend, log *slog.Logger) *sync.WaitGroup {
	var wg sync.WaitGroup
	d := wiring.Dispatcher(svc.Graph)
	for i := 0; i < cfg.Workers; i++ {
		wg.Go(func() {
			(&dispatch.Worker{Queue: backend.Dispatch, Dispatcher: d, Visibility: cfg.VisibilityTime, Log: log}).Run(ctx)
		})
	}
	// What dies on its last receive (a crash, a store that failed) is
	// settled from the dead-letter queue, so its counts still add up and
	// its notification completes; the dispatch function does the same on
	// AWS.
	wg.Go(func() {
		(&dispatch.Worker{Queue: backend.Dispatch.DeadLetter(), Dispatcher: d, DeadLetter: true, Visibility: cfg.VisibilityTime, Log: log}).Run(ctx)
	})
	// Audience walks: every segment in parallel, as the audience function
	// does on AWS.
	walker := wiring.Walker(svc.Graph)
	for range audience.Segments {
		wg.Go(func() { walker.Run(ctx, backend.Audience) })
	}
	// Spreadsheets: two at a time, as a few ingest functions would run.
	ingester := wiringapi.Ingester(svc)
	for range 2 {
		wg.Go(func() { ingester.Run(ctx, backend.Ingest) })
	}
	wg.Go(func() {
		if err := backend.Scheduler.Run(ctx); err != nil {
			log.Error("scheduler stopped", "err", err.Error())
		}
	})
	wg.Go(func() { services.Campaigns(svc.Graph).RunRepairs(ctx, backend.Repairs) })
	return &wg
}

// bootstrap creates the local workspace and makes sure an admin key exists:
// the one in HERALD_API_KEY, or a new one on first start, which it returns
// (and saves under the data dir) so it can be shown once.
func bootstrap(ctx context.Context, store *boltstore.Store, cfg config.Config, now time.Time) (string, error) {
	now = now.UTC().Truncate(time.Millisecond)
	if _, err := store.GetWorkspace(ctx, WorkspaceID); notify.IsCode(err, notify.CodeNotFound) {
		if err := store.CreateWorkspace(ctx, notify.Workspace{ID: WorkspaceID, Name: "Local", CreatedAt: now}); err != nil {
			return "", fmt.Errorf("create workspace: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("load workspace: %w", err)
	}
	newKey := func(secret, name, id string) (notify.APIKey, error) {
		k := notify.APIKey{ID: id, WorkspaceID: WorkspaceID, Name: name, Scopes: []notify.Scope{notify.ScopeAdmin},
			Hash: apikey.Hash(secret), Prefix: apikey.Display(secret), CreatedAt: now}
		return k, store.CreateAPIKey(ctx, k)
	}
	if cfg.APIKey != "" {
		if len(cfg.APIKey) < 16 {
			return "", fmt.Errorf("HERALD_API_KEY is too short: use at least 16 characters")
		}
		if _, err := store.GetAPIKeyByHash(ctx, apikey.Hash(cfg.APIKey)); err == nil {
			return "", nil
		}
		if _, err := newKey(cfg.APIKey, "admin (HERALD_API_KEY)", "key_env_"+apikey.Hash(cfg.APIKey)[:12]); err != nil {
			return "", fmt.Errorf("store HERALD_API_KEY: %w", err)
		}
		return "", nil
	}
	keys, err := store.ListAPIKeys(ctx, WorkspaceID)
	if err != nil {
		return "", fmt.Errorf("list keys: %w", err)
	}
	for _, k := range keys {
		if k.ID == "key_admin" {
			return "", nil
		}
	}
	secret := apikey.New()
	// Saved before it is stored: a crash in between leaves a file with an
	// unused key, never a stored key nobody can read.
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "admin-key"), []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save admin key: %w", err)
	}
	if _, err := newKey(secret, "admin (generated on first start)", "key_admin"); err != nil {
		return "", fmt.Errorf("create admin key: %w", err)
	}
	return secret, nil
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return mux
}
