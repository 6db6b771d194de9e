// Command invoke runs one function's Lambda handler in process on a sample
// event, through the same JSON round trip as the Lambda runtime, against the
// embedded backends (the local data dir) or the AWS ones (real or emulated,
// as the AWS SDK's environment says).
//
//	go run ./infra/invoke -fn dispatch -event events/dispatch-batch.json
//	go run ./infra/invoke -fn api -event events/api-health.json -backend aws
//	go run ./infra/invoke -fn scheduler -event events/scheduler-run.json
//	go run ./infra/invoke -fn audience -event events/audience-step.json
//	go run ./infra/invoke -fn ingest -event events/ingest-upload.json
//
// The functions' own handlers (functions/<fn>/handler.go) are in their
// main packages, which cannot be imported: each case below builds the
// same handler from the same pieces (package lambdaedge and the service),
// and the functions' handler tests run the sample events through the
// handlers themselves.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltqueue"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/composemodel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/emf"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/lambdaedge"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/s3blob"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/webhook"
)

func main() {
	fn := flag.String("fn", "", "function: api, compose, dispatch, authorizer, callbacks, scheduler, audience or ingest")
	event := flag.String("event", "", "event file, e.g. events/api-health.json")
	backend := flag.String("backend", "embedded", "embedded (HERALD_DATA_DIR) or aws (HERALD_TABLE, HERALD_DISPATCH_QUEUE_URL and the AWS SDK's environment)")
	flag.Parse()
	if err := run(context.Background(), *fn, *event, *backend, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

type backends struct {
	store  notify.Store
	queue  notify.Queue
	outbox interface {
		dispatch.PushSender
		dispatch.WebPushSender
		dispatch.SMSSender
		dispatch.EmailSender
		dispatch.WhatsAppSender
	}
	listOutbox httpapi.Outbox
	// steps is the audience queue and blobs the uploads' files: the local
	// server's (embedded), or HERALD_AUDIENCE_QUEUE_URL's and
	// HERALD_UPLOADS_BUCKET's (aws); nil when not set.
	steps notify.Queue
	blobs notify.Blobs
	close func()
}

func open(ctx context.Context, backend string, cfg config.Config, log *slog.Logger) (backends, error) {
	switch backend {
	case "embedded":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return backends{}, err
		}
		store, err := boltstore.Open(filepath.Join(cfg.DataDir, "herald.db"))
		if err != nil {
			return backends{}, fmt.Errorf("%w (is `make run` using %s? stop it first)", err, cfg.DataDir)
		}
		queue, err := boltqueue.Open(filepath.Join(cfg.DataDir, "queue.db"), boltqueue.Options{Visibility: cfg.VisibilityTime, MaxReceives: cfg.MaxReceives})
		if err != nil {
			store.Close()
			return backends{}, err
		}
		steps, err := boltqueue.Open(filepath.Join(cfg.DataDir, "audience.db"), boltqueue.Options{Visibility: cfg.VisibilityTime, MaxReceives: cfg.MaxReceives})
		if err != nil {
			queue.Close()
			store.Close()
			return backends{}, err
		}
		blobs, err := blobfs.Open(filepath.Join(cfg.DataDir, "blobs"))
		if err != nil {
			steps.Close()
			queue.Close()
			store.Close()
			return backends{}, err
		}
		return backends{store: store, queue: queue, outbox: channel.NewOutbox(store, time.Now), listOutbox: store, steps: steps, blobs: blobs,
			close: func() { steps.Close(); queue.Close(); store.Close() }}, nil
	case "aws":
		if err := cfg.RequireAWS(false); err != nil {
			return backends{}, err
		}
		aws, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return backends{}, err
		}
		b := backends{store: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table), outbox: channel.NewSandbox(log), close: func() {}}
		if cfg.DispatchQueue != "" {
			b.queue = sqsqueue.New(sqs.NewFromConfig(aws), cfg.DispatchQueue)
		}
		if cfg.AudienceQueue != "" {
			b.steps = sqsqueue.New(sqs.NewFromConfig(aws), cfg.AudienceQueue)
		}
		if cfg.UploadsBucket != "" {
			b.blobs = s3blob.New(s3.NewFromConfig(aws), cfg.UploadsBucket)
		}
		return b, nil
	}
	return backends{}, fmt.Errorf("-backend %q: want embedded or aws", backend)
}

func run(ctx context.Context, fn, eventFile, backend string, stdout, stderr io.Writer) error {
	if fn == "" || eventFile == "" {
		return fmt.Errorf("usage: invoke -fn api|compose|dispatch|authorizer|callbacks|scheduler|audience|ingest -event events/<file>.json [-backend embedded|aws]")
	}
	payload, err := os.ReadFile(eventFile)
	if err != nil {
		return err
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	// The figures' EMF lines go with the logs, as in the function's log.
	figures := emf.New(stderr, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	b, err := open(ctx, backend, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()

	var handler any
	switch fn {
	case "api":
		if b.queue == nil {
			return fmt.Errorf("the api function needs HERALD_DISPATCH_QUEUE_URL with -backend aws")
		}
		handler = apiHandler(httpapi.New(b.store, b.queue, httpapi.Options{Outbox: b.listOutbox, Log: log})).Serve
	case "compose":
		model, err := composemodel.New(ctx, cfg.Compose, func(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) })
		if err != nil {
			return err
		}
		opts := httpapi.Options{Log: log, Routes: httpapi.ComposeRoutes}
		if model != nil {
			opts.Compose = compose.New(model, b.store, compose.Config{RatePerMinute: cfg.Compose.RatePerMinute, MaxTokens: cfg.Compose.MaxTokens}, nil, log)
		}
		handler = apiHandler(httpapi.New(b.store, nil, opts)).Serve
	case "dispatch":
		s := dispatch.Senders{Push: b.outbox, WebPush: b.outbox, SMS: b.outbox, Email: b.outbox, WhatsApp: b.outbox}
		// As the function: the last receive settles, and with
		// HERALD_DISPATCH_DLQ_ARN (events/dispatch-deadletter.json's
		// eventSourceARN) the dead-letter records are settled.
		opts := dispatch.Options{Log: log, MaxReceives: cfg.MaxReceives, DeadLetterARN: cfg.DispatchDLQ, Metrics: figures}
		if b.queue != nil {
			opts.Requeue = b.queue
		}
		handler = dispatchHandler(dispatch.New(b.store, s, opts))
	case "authorizer":
		handler = authorizerHandler(&apikey.Authorizer{Keys: b.store, Log: log})
	case "callbacks":
		mux := http.NewServeMux()
		mux.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken, Store: b.store, Log: log, Metrics: figures})
		handler = callbacksHandler(mux, &webhook.SMS{Store: b.store, Log: log, Metrics: figures}, log)
		defer figures.Flush()
	case "scheduler":
		if b.queue == nil {
			return fmt.Errorf("the scheduler function needs HERALD_DISPATCH_QUEUE_URL with -backend aws")
		}
		svc, err := campaignService(ctx, backend, cfg, b, log)
		if err != nil {
			return err
		}
		handler = schedulerHandler(svc, log)
	case "audience":
		if b.queue == nil || b.steps == nil {
			return fmt.Errorf("the audience function needs HERALD_DISPATCH_QUEUE_URL and HERALD_AUDIENCE_QUEUE_URL with -backend aws")
		}
		w := &audience.Walker{Store: b.store, Dispatch: b.queue, Steps: b.steps, Log: log}
		handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return lambdaedge.EachRecord(ctx, ev, log, "audience step", w.HandleMessage), nil
		}
	case "ingest":
		if b.queue == nil || b.blobs == nil {
			return fmt.Errorf("the ingest function needs HERALD_DISPATCH_QUEUE_URL and HERALD_UPLOADS_BUCKET with -backend aws")
		}
		handler = ingestHandler(&ingest.Ingester{Store: b.store, Blobs: b.blobs, Dispatch: b.queue, IDs: &notify.IDs{}, Log: log,
			Config: ingest.NewConfig(cfg.UploadMaxBytes, cfg.UploadMaxRows, cfg.UploadMaxColumns, cfg.DefaultRegion)})
	default:
		return fmt.Errorf("-fn %q: want api, compose, dispatch, authorizer, callbacks, scheduler, audience or ingest", fn)
	}
	out, err := lambda.NewHandler(handler).Invoke(ctx, payload)
	if err != nil {
		return fmt.Errorf("%s handler: %w", fn, err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	_, err = fmt.Fprintln(stdout, pretty.String())
	return err
}

// campaignService wires the scheduler function's service as
// functions/scheduler does. With -backend aws it keeps schedules in
// EventBridge Scheduler (HERALD_SCHEDULER_* as the stack sets them); the
// embedded backend has none (noScheduler), so a run that must write its
// campaign's schedule fails.
func campaignService(ctx context.Context, backend string, cfg config.Config, b backends, log *slog.Logger) (*campaign.Service, error) {
	ids := &notify.IDs{}
	sender := &send.Sender{Store: b.store, Dispatch: b.queue, IDs: ids, Log: log, DefaultRegion: cfg.DefaultRegion}
	svc := &campaign.Service{Store: b.store, Sender: sender, IDs: ids, Log: log, Scheduler: noScheduler{}}
	if backend != "aws" {
		return svc, nil
	}
	if !cfg.Scheduler.Configured() {
		return nil, fmt.Errorf("the scheduler function needs HERALD_SCHEDULER_TARGET_ARN and HERALD_SCHEDULER_ROLE_ARN with -backend aws")
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	svc.Scheduler = ebscheduler.New(scheduler.NewFromConfig(awsCfg), ebscheduler.ConfigFrom(cfg.Scheduler))
	client := sqs.NewFromConfig(awsCfg)
	if cfg.AudienceQueue != "" {
		sender.Steps = sqsqueue.New(client, cfg.AudienceQueue)
	}
	if cfg.Scheduler.RepairQueue != "" {
		svc.Repairs = sqsqueue.New(client, cfg.Scheduler.RepairQueue)
	}
	return svc, nil
}

// noScheduler is the embedded backend's notify.Scheduler: it keeps no
// schedule, so every one is missing (GetSchedule is not_found, and
// DeleteSchedule has nothing to do, as the port allows), and PutSchedule
// says so rather than pretend.
type noScheduler struct{}

func (noScheduler) PutSchedule(_ context.Context, s notify.ScheduleSpec) error {
	return fmt.Errorf("put schedule %s: -backend embedded has no scheduler; use -backend aws", s.Name)
}

func (noScheduler) GetSchedule(_ context.Context, name string) (notify.ScheduleSpec, error) {
	return notify.ScheduleSpec{}, notify.NotFound("schedule", name)
}

func (noScheduler) DeleteSchedule(context.Context, string) error { return nil }

// apiHandler is the api and compose functions' handler
// (functions/api/handler.go).
func apiHandler(api http.Handler) lambdaedge.HTTP {
	return lambdaedge.HTTP{Handler: api, Refuse: httpapi.Refuse, WithPrincipal: httpapi.WithPrincipal}
}

// dispatchHandler is the dispatch function's handler
// (functions/dispatch/handler.go).
func dispatchHandler(d *dispatch.Dispatcher) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		batch := make([]dispatch.Received, len(ev.Records))
		for i, r := range ev.Records {
			batch[i] = dispatch.Received{
				Message: dispatch.Message{ID: r.MessageId, Body: []byte(r.Body), ReceiveCount: lambdaedge.ReceiveCount(r), SentAt: lambdaedge.SentAt(r)},
				Receipt: r.ReceiptHandle,
				Queue:   r.EventSourceARN,
			}
		}
		return lambdaedge.BatchResponse(ev, d.HandleSQS(ctx, batch)), nil
	}
}

// authorizerHandler is the authorizer function's handler
// (functions/authorizer/handler.go).
func authorizerHandler(a *apikey.Authorizer) func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		header := ev.Headers["authorization"]
		if header == "" && len(ev.IdentitySource) > 0 {
			header = ev.IdentitySource[0]
		}
		k, verified, err := a.Authorize(ctx, header, ev.RequestContext.RequestID)
		if err != nil {
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, err
		}
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: lambdaedge.AuthorizerContext(k, verified)}, nil
	}
}

// callbacksHandler is the callbacks function's handler
// (functions/callbacks/handler.go) without its SNS endpoints: every SNS
// notification is refused, as no topic is configured here.
func callbacksHandler(mux http.Handler, sms *webhook.SMS, log *slog.Logger) lambdaedge.Sources {
	router := webhook.NewSNSRouter(log)
	return lambdaedge.Sources{
		HTTP: lambdaedge.HTTP{Handler: mux, CleanPathsOnly: true}.Serve,
		Logs: sms.ApplyLogs,
		SNS: func(ctx context.Context, e events.SNSEntity) error {
			return router.Apply(ctx, webhook.Notification{Type: e.Type, MessageID: e.MessageID, TopicArn: e.TopicArn, Subject: e.Subject,
				Message: e.Message, Timestamp: e.Timestamp})
		},
		Log: log,
	}
}

// schedulerHandler is the scheduler function's handler
// (functions/scheduler/handler.go).
func schedulerHandler(svc *campaign.Service, log *slog.Logger) lambdaedge.Sources {
	return lambdaedge.Sources{
		SQS: func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
			return lambdaedge.EachRecord(ctx, ev, log, "schedule repair", svc.Repair)
		},
		Other: func(ctx context.Context, payload []byte) (any, error) {
			inv, err := ebscheduler.ParseInvocation(payload)
			if err != nil {
				return nil, err
			}
			run, err := svc.RunScheduled(ctx, campaign.Invocation{WorkspaceID: inv.WorkspaceID, CampaignID: inv.CampaignID, ScheduledAt: inv.ScheduledTime,
				Attempt: inv.Attempt, ExecutionID: inv.ExecutionID})
			if err != nil {
				return nil, err
			}
			return runResult{Status: run.Status, NotificationID: run.NotificationID, Recipients: run.Recipients}, nil
		},
		Log: log,
	}
}

// runResult is what a scheduler invocation answers.
type runResult struct {
	Status         notify.RunStatus `json:"status"`
	NotificationID string           `json:"notificationId,omitempty"`
	Recipients     int              `json:"recipients"`
}

// ingestHandler is the ingest function's handler
// (functions/ingest/handler.go).
func ingestHandler(g *ingest.Ingester) func(context.Context, events.S3Event) error {
	return func(ctx context.Context, ev events.S3Event) error {
		var errs []error
		for _, r := range ev.Records {
			if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
				continue
			}
			if err := g.Ingest(ctx, r.S3.Object.URLDecodedKey); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
