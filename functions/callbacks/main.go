// Command callbacks is the Lambda behind the HTTP API's routes that carry
// no API key: the provider webhooks (each provider's signature), which move
// deliveries forward as providers report them, and the one-click
// unsubscribe links of marketing email (a signed token). CloudWatch Logs
// subscriptions invoke it too, with SNS's SMS delivery-status records, and
// SNS may hand it the notifications of the stack's topics directly.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/heraldhq/herald/shared/awsports"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/webhook"
	"github.com/heraldhq/herald/shared/wiring"
)

func main() {
	ctx := context.Background()
	cfg, aws, err := config.ForLambda(ctx, os.Getenv, false)
	if err == nil {
		err = awsports.LoadSecrets(ctx, &cfg, aws)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	open := awsports.New(cfg, aws)
	// The figures of what providers report: CloudWatch embedded metric
	// format lines on stdout, flushed at the end of each invocation.
	figures := open.Figures(os.Stdout)
	ports := wiring.Ports{Store: open.Store(), Figures: figures, PushEndpoints: open.PushEndpoints()}
	c := wiring.New(cfg, ports, log).Callbacks()
	// API Gateway requests, the SMS status logs subscription and SNS alike.
	lambda.Start(webhook.NewLambda(webhook.LambdaConfig{HTTP: c.HTTP, SMSLogs: c.SMS, SNS: c.SNS, Log: log, Metrics: figures}))
}
