// Command dispatch is the SQS-triggered Lambda that delivers each recipient
// of the dispatch messages it receives, and settles those of the dispatch
// dead-letter queue.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	_ "time/tzdata" // user time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/awsports"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/wiring"
)

func main() {
	ctx := context.Background()
	cfg, aws, err := config.ForLambda(ctx, os.Getenv, true)
	if err == nil {
		err = awsports.LoadSecrets(ctx, &cfg, aws)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	open := awsports.New(cfg, aws)
	channels, err := open.Channels(ctx, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "providers:", err)
		os.Exit(1)
	}
	log.Info("channels", "providers", channels.Used)
	// The delivery figures: CloudWatch embedded metric format lines on
	// stdout (the function's log), a few per invocation.
	ports := wiring.Ports{Store: open.Store(), Dispatch: open.Queue(cfg.DispatchQueue), Figures: open.Figures(os.Stdout),
		Channels: channels.Senders, Rates: channels.Rates, RetryHints: channels.RetryHints}
	lambda.Start(wiring.New(cfg, ports, log).Dispatcher().HandleSQS)
}
