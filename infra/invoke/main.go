// Command invoke runs one function's Lambda handler in process on a sample
// event, through the same JSON round trip as the Lambda runtime, against the
// embedded backends (the local data dir) or the AWS ones (real or emulated,
// as the AWS SDK's environment says).
//
//	go run ./infra/invoke -fn dispatch -event events/dispatch-batch.json
//	go run ./infra/invoke -fn api -event events/api-health.json -backend aws
//	go run ./infra/invoke -fn scheduler -event events/scheduler-run.json
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
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/infra/embedded"
	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/boltscheduler"
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
	"github.com/heraldhq/herald/shared/provider"
	"github.com/heraldhq/herald/shared/s3blob"
	heraldsns "github.com/heraldhq/herald/shared/sns"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/webhook"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
	"github.com/heraldhq/herald/shared/wiring/callbacks"
	"github.com/heraldhq/herald/shared/wiring/services"
)

func main() {
	fn := flag.String("fn", "", "function: "+functions)
	event := flag.String("event", "", "event file, e.g. events/api-health.json")
	backend := flag.String("backend", "embedded", "embedded (HERALD_DATA_DIR) or aws (HERALD_TABLE, HERALD_DISPATCH_QUEUE_URL and the AWS SDK's environment)")
	flag.Parse()
	if err := run(context.Background(), *fn, *event, *backend, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
}

// open opens the backend's ports: the data directory's embedded adapters
// (with the local outbox for every channel), or the AWS ones as the
// functions open them (with the sandbox for channels no provider is
// configured for).
func open(ctx context.Context, backend string, cfg *config.Config, log *slog.Logger) (wiring.Ports, *httpapi.Uploads, func(), error) {
	switch backend {
	case "embedded":
		b, err := embedded.Open(*cfg, log, func(context.Context, boltscheduler.Firing) error {
			return fmt.Errorf("invoke runs no scheduler; make run fires campaigns")
		})
		if err != nil {
			return wiring.Ports{}, nil, nil, fmt.Errorf("%w (is `make run` using %s? stop it first)", err, cfg.DataDir)
		}
		// Signed as make run signs them (unsubscribe links, quick replies).
		cfg.UnsubscribeSecret = b.Secret
		ports := b.Ports()
		channels, err := provider.Senders(ctx, *cfg, channel.NewOutbox(b.Store, time.Now), "local outbox", loadAWS)
		if err != nil {
			b.Close()
			return wiring.Ports{}, nil, nil, err
		}
		ports.Channels, ports.Rates, ports.RetryHints = channels.Senders, channels.Rates, channels.RetryHints
		return ports, b.Uploads(cfg.PublicURL), func() { b.Close() }, nil
	case "aws":
		if err := cfg.RequireAWS(false); err != nil {
			return wiring.Ports{}, nil, nil, err
		}
		awsCfg, err := loadAWS(ctx)
		if err != nil {
			return wiring.Ports{}, nil, nil, err
		}
		// As the functions open them (functions/*/main.go).
		client := sqs.NewFromConfig(awsCfg)
		queue := func(url string) notify.Queue {
			if url == "" {
				return nil
			}
			return sqsqueue.New(client, url)
		}
		ports := wiring.Ports{Store: dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table), Dispatch: queue(cfg.DispatchQueue),
			Audience: queue(cfg.AudienceQueue), Repairs: queue(cfg.Scheduler.RepairQueue)}
		if cfg.Scheduler.Configured() {
			ports.Scheduler = ebscheduler.New(scheduler.NewFromConfig(awsCfg), ebscheduler.ConfigFrom(cfg.Scheduler))
		}
		var uploads *httpapi.Uploads
		if cfg.UploadsBucket != "" {
			blobs, err := s3blob.New(awsCfg, cfg.UploadsBucket, s3blob.Options{Endpoint: s3blob.EndpointFromEnv(os.Getenv)})
			if err != nil {
				return wiring.Ports{}, nil, nil, err
			}
			ports.Blobs = blobs
			uploads = &httpapi.Uploads{Blobs: blobs, PresignGet: blobs.PresignGet,
				PresignPut: func(ctx context.Context, key string, expires time.Duration) (string, error) {
					return blobs.PresignPut(ctx, key, expires, "")
				}}
		}
		channels, err := provider.Senders(ctx, *cfg, channel.NewSandbox(log), "sandbox", loadAWS)
		if err != nil {
			return wiring.Ports{}, nil, nil, err
		}
		ports.Channels, ports.Rates, ports.RetryHints = channels.Senders, channels.Rates, channels.RetryHints
		return ports, uploads, func() {}, nil
	}
	return wiring.Ports{}, nil, nil, fmt.Errorf("-backend %q: want embedded or aws", backend)
}

func loadAWS(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) }

// functions names the functions invoke can run.
const functions = "api, compose, dispatch, audience, ingest, authorizer, callbacks or scheduler"

func run(ctx context.Context, fn, eventFile, backend string, stdout, stderr io.Writer) error {
	if fn == "" || eventFile == "" {
		return fmt.Errorf("usage: invoke -fn api|compose|dispatch|audience|ingest|authorizer|callbacks|scheduler -event events/<file>.json [-backend embedded|aws]")
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
	ports, uploads, closePorts, err := open(ctx, backend, &cfg, log)
	if err != nil {
		return err
	}
	defer closePorts()
	// The figures' EMF lines go with the logs, as in the function's log.
	figures := emf.New(stderr, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	ports.Figures = figures
	var model compose.Model // nil unless the compose function has a model
	if fn == "compose" {
		if model, err = composemodel.New(ctx, cfg.Compose, loadAWS); err != nil {
			return err
		}
	}
	if fn != "compose" && fn != "callbacks" && fn != "authorizer" && ports.Dispatch == nil {
		return fmt.Errorf("the %s function needs HERALD_DISPATCH_QUEUE_URL with -backend aws", fn)
	}
	// The same graph as the functions build: package wiring.
	graph := wiring.New(cfg, ports, log)
	var handler any
	switch fn {
	case "api":
		set := &wiringapi.Set{Graph: graph, Uploads: uploads}
		handler = apiHandler(wiringapi.Root(wiringapi.API(set), wiringapi.SDK(set, false), wiringapi.Console(set, true))).Serve
	case "compose":
		handler = apiHandler(wiringapi.API(&wiringapi.Set{Graph: graph, Model: model}, httpapi.ComposeRoutes...)).Serve
	case "dispatch":
		// As the function: the last receive settles, and with
		// HERALD_DISPATCH_DLQ_ARN (events/dispatch-deadletter.json's
		// eventSourceARN) the dead-letter records are settled.
		handler = dispatchHandler(wiring.Dispatcher(graph))
	case "audience":
		if ports.Audience == nil {
			return fmt.Errorf("the audience function needs HERALD_AUDIENCE_QUEUE_URL with -backend aws")
		}
		w := wiring.Walker(graph)
		handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return lambdaedge.EachRecord(ctx, ev, log, "audience step", w.HandleMessage), nil
		}
	case "ingest":
		if ports.Blobs == nil {
			return fmt.Errorf("the ingest function needs HERALD_UPLOADS_BUCKET with -backend aws")
		}
		handler = ingestHandler(wiringapi.Ingester(&wiringapi.Set{Graph: graph}))
	case "authorizer":
		handler = authorizerHandler(wiring.Authorizer(graph))
	case "callbacks":
		// SNS's platform endpoints answer the push webhook, as in the
		// function (the embedded backend has no SNS).
		var push webhook.PushEndpoints
		if backend == "aws" {
			awsCfg, err := loadAWS(ctx)
			if err != nil {
				return err
			}
			push = heraldsns.NewEndpoints(sns.NewFromConfig(awsCfg))
		}
		c := callbacks.New(graph, push)
		handler = callbacksHandler(c, log)
	case "scheduler":
		campaigns := services.Campaigns(graph)
		if campaigns == nil {
			return fmt.Errorf("the scheduler function needs HERALD_SCHEDULER_TARGET_ARN and HERALD_SCHEDULER_ROLE_ARN with -backend aws")
		}
		handler = schedulerHandler(campaigns, log)
	default:
		return fmt.Errorf("-fn %q: want %s", fn, functions)
	}
	out, err := lambda.NewHandler(handler).Invoke(ctx, payload)
	// As the functions do at the end of each invocation.
	figures.Flush()
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
// (functions/callbacks/handler.go), with the SNS endpoints of the topics
// configured.
func callbacksHandler(c callbacks.Routes, log *slog.Logger) lambdaedge.Sources {
	router := webhook.NewSNSRouter(log, c.SNS...)
	mux, sms := c.HTTP, c.SMS
	notification := func(ctx context.Context, e events.SNSEntity) error {
		return router.Apply(ctx, webhook.Notification{Type: e.Type, MessageID: e.MessageID, TopicArn: e.TopicArn, Subject: e.Subject,
			Message: e.Message, Timestamp: e.Timestamp})
	}
	return lambdaedge.Sources{
		HTTP: lambdaedge.HTTP{Handler: mux, CleanPathsOnly: true}.Serve,
		Logs: sms.ApplyLogs,
		SNS:  notification,
		SQS:  lambdaedge.NotificationsFromQueue(notification, log),
		Log:  log,
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
				log.Error("scheduler function: not an invocation", "err", err.Error())
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
