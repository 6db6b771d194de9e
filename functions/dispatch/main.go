// Command dispatch is the SQS-triggered Lambda that delivers each recipient
// of the dispatch messages it receives, and settles those of the dispatch
// dead-letter queue.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	_ "time/tzdata" // user time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/emf"
	"github.com/heraldhq/herald/shared/provider"
	"github.com/heraldhq/herald/shared/secrets"
	"github.com/heraldhq/herald/shared/sqsqueue"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, true)
	if err == nil {
		err = secrets.Load(context.Background(), &cfg, ssm.NewFromConfig(aws))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	// A channel whose provider is not configured goes to the sandbox, which
	// records the delivery and sends nothing.
	channels, err := provider.Senders(context.Background(), cfg, channel.NewSandbox(log), "sandbox", func(context.Context) (awssdk.Config, error) { return aws, nil })
	if err != nil {
		fmt.Fprintln(os.Stderr, "providers:", err)
		os.Exit(1)
	}
	log.Info("channels", "providers", channels.Used)
	requeue := sqsqueue.New(sqs.NewFromConfig(aws), cfg.DispatchQueue)
	// The delivery figures: CloudWatch embedded metric format lines on
	// stdout (the function's log), a few per invocation.
	figures := emf.New(os.Stdout, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	// MaxReceives is the queue's maxReceiveCount (the template sets both):
	// a record's last receive settles what still fails. Records of the
	// dead-letter queue (a second event source) are settled.
	d := dispatch.New(store, channels.Senders, dispatch.Options{Concurrency: cfg.SendConcurrent, Log: log, Requeue: requeue, Retry: requeue,
		Rates: channels.Rates, RetryHints: channels.RetryHints, MaxReceives: cfg.MaxReceives, DeadLetterARN: cfg.DispatchDLQ, Metrics: figures})
	lambda.Start(newHandler(d))
}
