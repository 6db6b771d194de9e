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
	if err == nil {
		err = secrets.Load(ctx, &cfg, ssm.NewFromConfig(aws))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	// A channel whose provider is not configured goes to the sandbox, which
	// records the delivery and sends nothing.
	channels, err := provider.Senders(ctx, cfg, channel.NewSandbox(log), "sandbox", func(context.Context) (awssdk.Config, error) { return aws, nil })
	if err != nil {
		fmt.Fprintln(os.Stderr, "providers:", err)
		os.Exit(1)
	}
	log.Info("channels", "providers", channels.Used)
	// The delivery figures: CloudWatch embedded metric format lines on
	// stdout (the function's log), a few per invocation.
	ports := wiring.Ports{Store: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table), Dispatch: sqsqueue.New(sqs.NewFromConfig(aws), cfg.DispatchQueue),
		Figures:  emf.New(os.Stdout, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage}),
		Channels: channels.Senders, Rates: channels.Rates, RetryHints: channels.RetryHints}
	lambda.Start(newHandler(wiring.Dispatcher(wiring.New(cfg, ports, log))))
}
