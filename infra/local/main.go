// Command local runs all of Herald in one process with embedded adapters:
// the API on HERALD_ADDR, the dispatch workers and the local outbox, with its
// data under HERALD_DATA_DIR. No AWS account, no Docker. `make run` starts it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "time/tzdata" // user time zones must resolve on any machine

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/boltscheduler"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/composemodel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/memmetrics"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/provider"
	heraldsns "github.com/heraldhq/herald/shared/sns"
	"github.com/heraldhq/herald/shared/unsubscribe"
	"github.com/heraldhq/herald/shared/webhook"
)

// WorkspaceID is the workspace the local mode creates on first start.
const WorkspaceID = "ws_local"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "herald:", err)
		os.Exit(1)
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
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	var storeOpts []boltstore.Option
	if !cfg.Fsync {
		storeOpts = append(storeOpts, boltstore.WithNoSync())
	}
	store, err := boltstore.Open(filepath.Join(cfg.DataDir, "herald.db"), storeOpts...)
	if err != nil {
		return fmt.Errorf("open store (is another Herald running on %s?): %w", cfg.DataDir, err)
	}
	defer store.Close()
	queue, err := boltqueue.Open(filepath.Join(cfg.DataDir, "queue.db"), boltqueue.Options{
		Visibility: cfg.VisibilityTime, MaxReceives: cfg.MaxReceives, NoSync: !cfg.Fsync,
	})
	if err != nil {
		return fmt.Errorf("open queue: %w", err)
	}
	defer queue.Close()
	steps, err := boltqueue.Open(filepath.Join(cfg.DataDir, "audience.db"), boltqueue.Options{
		Visibility: cfg.VisibilityTime, MaxReceives: cfg.MaxReceives, NoSync: !cfg.Fsync,
	})
	if err != nil {
		return fmt.Errorf("open audience queue: %w", err)
	}
	defer steps.Close()
	if _, err := steps.RequeueInFlight(); err != nil {
		return fmt.Errorf("requeue in-flight audience steps: %w", err)
	}
	ingestQ, err := boltqueue.Open(filepath.Join(cfg.DataDir, "ingest.db"), boltqueue.Options{
		Visibility: cfg.VisibilityTime, MaxReceives: cfg.MaxReceives, NoSync: !cfg.Fsync,
	})
	if err != nil {
		return fmt.Errorf("open ingest queue: %w", err)
	}
	defer ingestQ.Close()
	if _, err := ingestQ.RequeueInFlight(); err != nil {
		return fmt.Errorf("requeue in-flight uploads: %w", err)
	}
	repairs, err := boltqueue.Open(filepath.Join(cfg.DataDir, "repairs.db"), boltqueue.Options{
		Visibility: cfg.VisibilityTime, MaxReceives: cfg.MaxReceives, NoSync: !cfg.Fsync,
	})
	if err != nil {
		return fmt.Errorf("open schedule repair queue: %w", err)
	}
	defer repairs.Close()
	if _, err := repairs.RequeueInFlight(); err != nil {
		return fmt.Errorf("requeue in-flight schedule repairs: %w", err)
	}
	blobs, err := blobfs.Open(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return fmt.Errorf("open blobs: %w", err)
	}
	// No consumer from before a crash is alive: what it had in flight is
	// visible again at once, and dispatch's dedupe keeps anyone from getting
	// a message twice.
	if n, err := queue.RequeueInFlight(); err != nil {
		return fmt.Errorf("requeue in-flight messages: %w", err)
	} else if n > 0 {
		log.Info("resuming unfinished sends", "messages", n)
	}
	if _, err := queue.DeadLetter().RequeueInFlight(); err != nil {
		return fmt.Errorf("requeue in-flight dead letters: %w", err)
	}

	created, err := bootstrap(ctx, store, cfg, time.Now())
	if err != nil {
		return err
	}

	if cfg.UnsubscribeSecret == "" {
		if cfg.UnsubscribeSecret, err = localSecret(filepath.Join(cfg.DataDir, "unsubscribe-secret")); err != nil {
			return err
		}
	}
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
	outbox := channel.NewOutbox(store, time.Now)
	channels, err := provider.Senders(ctx, cfg, outbox, "local outbox", func(ctx context.Context) (aws.Config, error) {
		return awsconfig.LoadDefaultConfig(ctx)
	})
	if err != nil {
		return err
	}
	used := channels.Used
	// The delivery figures, in memory since this start: the dispatch
	// workers and the webhooks count them, GET /v1/metrics serves them.
	figures := memmetrics.New(time.Now())
	d := dispatch.New(store, channels.Senders, dispatch.Options{Concurrency: cfg.SendConcurrent, Log: log, Requeue: queue,
		Rates: channels.Rates, RetryHints: channels.RetryHints, MaxReceives: cfg.MaxReceives, Metrics: figures})
	ingestCfg := ingest.NewConfig(cfg.UploadMaxBytes, cfg.UploadMaxRows, cfg.UploadMaxColumns, cfg.DefaultRegion)
	ids := &notify.IDs{}
	ingester := &ingest.Ingester{Store: store, Blobs: blobs, Dispatch: queue, Config: ingestCfg, IDs: ids, Log: log}
	// The local route stands in for S3: a stored file is an event on the
	// ingest queue, as S3's ObjectCreated starts the ingest function.
	received := func(ctx context.Context, key string) error {
		b, err := json.Marshal(ingest.Event{Key: key})
		if err != nil {
			return err
		}
		return ingestQ.Send(ctx, [][]byte{b})
	}
	model, err := composemodel.New(ctx, cfg.Compose, func(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) })
	if err != nil {
		return err
	}
	var composer *compose.Composer
	if model != nil {
		composer = compose.New(model, store, compose.Config{RatePerMinute: cfg.Compose.RatePerMinute, MaxTokens: cfg.Compose.MaxTokens}, nil, log)
	}
	// Campaigns: the in-process scheduler stands in for EventBridge
	// Scheduler and the scheduler function, running campaigns with the
	// API's own service (set below, before the scheduler runs).
	var campaigns *campaign.Service
	sched, err := boltscheduler.Open(filepath.Join(cfg.DataDir, "scheduler.db"), boltscheduler.Options{
		Grace: cfg.ScheduleGrace, NoSync: !cfg.Fsync, Log: log,
		Fire: func(ctx context.Context, f boltscheduler.Firing) error {
			_, err := campaigns.Run(ctx, campaign.Invocation{WorkspaceID: f.Target.WorkspaceID, CampaignID: f.Target.CampaignID, ScheduledAt: f.ScheduledAt, Missed: f.Missed})
			return err
		},
	})
	if err != nil {
		return fmt.Errorf("open scheduler: %w", err)
	}
	defer sched.Close()
	api := httpapi.New(store, queue, httpapi.Options{
		Audience: steps, Outbox: store, Metrics: figures, Log: log, IDs: ids, Compose: composer, Scheduler: sched, Repairs: repairs,
		Uploads: &httpapi.Uploads{Blobs: blobs, Received: received, Ingest: ingestCfg,
			URLSecret: []byte("upload-url\n" + cfg.UnsubscribeSecret), PublicURL: cfg.PublicURL},
		Config: httpapi.Config{MaxBodyBytes: cfg.MaxBodyBytes, DefaultRegion: cfg.DefaultRegion, VAPIDPublicKey: cfg.VAPID.PublicKey,
			AllowPrivateEndpoints: cfg.TestAllowPrivateEndpoints},
	})
	campaigns = api.Campaigns()

	// Provider webhooks (no API key: the provider's signature) beside the API,
	// as API Gateway routes them to the callbacks function.
	root := http.NewServeMux()
	root.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken,
		ReplySecret: []byte(cfg.UnsubscribeSecret), Store: store, Log: log, Metrics: figures})
	snsOpts, err := snsOptions(cfg)
	if err != nil {
		return err
	}
	if len(cfg.SESEventTopics) > 0 {
		root.Handle("/webhooks/ses", &webhook.SES{Store: store, Log: log, Metrics: figures, SNSOptions: snsOpts(cfg.SESEventTopics)})
	}
	if len(cfg.SMSStatusTopics) > 0 {
		root.Handle("/webhooks/sms", &webhook.SMS{Store: store, Log: log, Metrics: figures, SNSOptions: snsOpts(cfg.SMSStatusTopics)})
	}
	if len(cfg.PushEventTopics) > 0 && cfg.SNSEnabled {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("aws config for push events: %w", err)
		}
		root.Handle("/webhooks/push", &webhook.Push{Store: store, Endpoints: heraldsns.NewEndpoints(sns.NewFromConfig(awsCfg)), Log: log, Metrics: figures,
			SNSOptions: snsOpts(cfg.PushEventTopics)})
	}
	root.Handle("/unsubscribe/", &unsubscribe.Handler{Secret: []byte(cfg.UnsubscribeSecret), Users: store, Log: log})
	root.Handle("/", api)
	// Slow clients are cut off: headers within 10 s, bodies at a pace
	// (bodyPace), idle keep-alive connections after 2 minutes. The root
	// mux would redirect //v1/… and other uncleaned paths (HTML 307)
	// before the API could answer them in its error shape.
	srv := &http.Server{Handler: newBodyPace(httpapi.CleanPathsOnly(root)), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(stdout, "Herald is running at %s (data in %s)\n", base, cfg.DataDir)
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
	if ready != nil {
		ready <- ln.Addr().String()
	}

	workCtx, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			(&dispatch.Worker{Queue: queue, Dispatcher: d, Visibility: cfg.VisibilityTime, Log: log}).Run(workCtx)
		}()
	}
	// What dies on its last receive (a crash, a store that failed) is
	// settled from the dead-letter queue, so its counts still add up and
	// its notification completes; the dispatch function does the same on
	// AWS.
	wg.Add(1)
	go func() {
		defer wg.Done()
		(&dispatch.Worker{Queue: queue.DeadLetter(), Dispatcher: d, DeadLetter: true, Visibility: cfg.VisibilityTime, Log: log}).Run(workCtx)
	}()
	// Audience walks: every segment in parallel, as the audience function
	// does on AWS.
	walker := &audience.Walker{Store: store, Dispatch: queue, Steps: steps, Log: log}
	for range audience.Segments {
		wg.Add(1)
		go func() {
			defer wg.Done()
			walker.Run(workCtx, steps)
		}()
	}
	// Spreadsheets: two at a time, as a few ingest functions would run.
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ingester.Run(workCtx, ingestQ)
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := sched.Run(workCtx); err != nil {
			log.Error("scheduler stopped", "err", err.Error())
		}
	}()
	go func() {
		defer wg.Done()
		campaigns.RunRepairs(workCtx, repairs)
	}()
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

// localSecret reads a secret kept in the data dir, making it on first use.
func localSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	secret := apikey.New()
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save %s: %w", filepath.Base(path), err)
	}
	return secret, nil
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return mux
}

// snsOptions returns how the SNS webhooks authenticate messages of topics:
// by SNS's own certificates, or, with HERALD_SNS_TEST_CERT, by that PEM
// certificate whatever the (still SNS-looking) SigningCertURL says, so
// that scripted callbacks can be signed locally.
func snsOptions(cfg config.Config) (func(topics []string) webhook.SNSOptions, error) {
	var certs func(context.Context, string) ([]byte, error)
	if cfg.SNSTestCert != "" {
		pem, err := os.ReadFile(cfg.SNSTestCert)
		if err != nil {
			return nil, fmt.Errorf("HERALD_SNS_TEST_CERT: %w", err)
		}
		certs = func(context.Context, string) ([]byte, error) { return pem, nil }
	}
	return func(topics []string) webhook.SNSOptions {
		return webhook.SNSOptions{TopicARNs: topics, Certs: certs}
	}, nil
}
