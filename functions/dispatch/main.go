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
	"github.com/heraldhq/herald/shared/wiring"
)

func main() {
	ctx := context.Background()
	cfg, aws, err := config.ForLambda(ctx, os.Getenv, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	// The delivery figures: CloudWatch embedded metric format lines on
	// stdout (the function's log), a few per invocation.
	figures := emf.New(os.Stdout, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	store, queue := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table), sqsqueue.New(sqs.NewFromConfig(aws), cfg.DispatchQueue)
	// The secrets and the senders made with them on the first batch, not
	// at start (later).
	dispatcher := wiring.Lazy(func(ctx context.Context) (*dispatch.Dispatcher, error) {
		cfg := cfg
		if err := secrets.Load(ctx, &cfg, ssm.NewFromConfig(aws)); err != nil {
			return nil, err
		}
		// A channel whose provider is not configured goes to the sandbox,
		// which records the delivery and sends nothing.
		channels, err := provider.Senders(ctx, cfg, channel.NewSandbox(log), "sandbox", func(context.Context) (awssdk.Config, error) { return aws, nil })
		if err != nil {
			return nil, fmt.Errorf("providers: %w", err)
		}
		log.Info("channels", "providers", channels.Used)
		ports := wiring.Ports{Store: store, Dispatch: queue, Figures: figures,
			Channels: channels.Senders, Rates: channels.Rates, RetryHints: channels.RetryHints}
		return wiring.Dispatcher(wiring.New(cfg, ports, log)), nil
	})
	lambda.Start(newHandler(later{dispatcher: dispatcher, log: log}))
}
