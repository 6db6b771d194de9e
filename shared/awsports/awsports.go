// Package awsports opens the AWS adapters of Herald's ports from
// configuration: what every function hands to package wiring on AWS, and
// what the invoke tool's -backend aws uses, so that both are built the
// same way. Each port has its own method, so a function links only the
// adapters it opens (the authorizer links DynamoDB's and nothing else).
package awsports

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/composemodel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/emf"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/provider"
	"github.com/heraldhq/herald/shared/s3blob"
	"github.com/heraldhq/herald/shared/secrets"
	heraldsns "github.com/heraldhq/herald/shared/sns"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/webhook"
	"github.com/heraldhq/herald/shared/wiring"
)

// Opener opens AWS adapters with one AWS configuration; clients are made
// once per execution environment, when first asked for.
type Opener struct {
	cfg config.Config
	aws aws.Config
	sqs *sqs.Client
}

// New returns an Opener for cfg with the AWS SDK configuration awsCfg.
func New(cfg config.Config, awsCfg aws.Config) *Opener {
	return &Opener{cfg: cfg, aws: awsCfg}
}

// LoadSecrets reads the providers' secrets from SSM Parameter Store into
// cfg (HERALD_SECRETS_PATH), for the functions that send or verify.
func LoadSecrets(ctx context.Context, cfg *config.Config, awsCfg aws.Config) error {
	return secrets.Load(ctx, cfg, ssm.NewFromConfig(awsCfg))
}

// Store is the DynamoDB table.
func (o *Opener) Store() *dynamo.Store {
	return dynamo.New(dynamodb.NewFromConfig(o.aws), o.cfg.Table)
}

// Queue is the SQS queue at url, or nil when url is empty.
func (o *Opener) Queue(url string) notify.Queue {
	if url == "" {
		return nil
	}
	if o.sqs == nil {
		o.sqs = sqs.NewFromConfig(o.aws)
	}
	return sqsqueue.New(o.sqs, url)
}

// Scheduler is EventBridge Scheduler's group of the stack, or nil when it
// is not configured.
func (o *Opener) Scheduler() notify.Scheduler {
	if !o.cfg.Scheduler.Configured() {
		return nil
	}
	return ebscheduler.New(scheduler.NewFromConfig(o.aws), ebscheduler.ConfigFrom(o.cfg.Scheduler))
}

// Uploads is the uploads bucket, reached by presigned URLs, or nil
// without one.
func (o *Opener) Uploads() (*httpapi.Uploads, notify.Blobs) {
	if o.cfg.UploadsBucket == "" {
		return nil, nil
	}
	blobs := s3blob.New(s3.NewFromConfig(o.aws), o.cfg.UploadsBucket)
	return &httpapi.Uploads{
		Blobs: blobs,
		PresignPut: func(ctx context.Context, key string, expires time.Duration) (string, error) {
			return blobs.PresignPut(ctx, key, expires, "")
		},
		PresignGet: blobs.PresignGet,
	}, blobs
}

// Senders are the queues, scheduler and uploads bucket of the functions
// that start sends (api, scheduler).
func (o *Opener) Senders() wiring.Ports {
	p := wiring.Ports{Store: o.Store(), Dispatch: o.Queue(o.cfg.DispatchQueue), Audience: o.Queue(o.cfg.AudienceQueue),
		Scheduler: o.Scheduler(), Repairs: o.Queue(o.cfg.Scheduler.RepairQueue)}
	p.Uploads, p.Blobs = o.Uploads()
	return p
}

// Channels are the configured providers of every channel; a channel with
// none goes to the sandbox, which records the delivery and sends nothing.
func (o *Opener) Channels(ctx context.Context, log *slog.Logger) (provider.Channels, error) {
	return provider.Senders(ctx, o.cfg, channel.NewSandbox(log), "sandbox", func(context.Context) (aws.Config, error) { return o.aws, nil })
}

// Model is the configured AI model, or nil when composition is off.
func (o *Opener) Model(ctx context.Context) (compose.Model, error) {
	m, err := composemodel.New(ctx, o.cfg.Compose, func(context.Context) (aws.Config, error) { return o.aws, nil })
	if err != nil || m == nil {
		return nil, err
	}
	return m, nil
}

// PushEndpoints are SNS's platform endpoints, which the push webhook
// disables when SNS says a device is gone.
func (o *Opener) PushEndpoints() webhook.PushEndpoints {
	return heraldsns.NewEndpoints(sns.NewFromConfig(o.aws))
}

// Figures write the delivery figures to out (the function's log) as
// CloudWatch embedded metric format lines, in the stack's namespace.
func (o *Opener) Figures(out io.Writer) *emf.Writer {
	return emf.New(out, emf.Options{Namespace: o.cfg.MetricsNamespace, Stage: o.cfg.Stage})
}
