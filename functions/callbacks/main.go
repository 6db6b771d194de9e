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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/emf"
	"github.com/heraldhq/herald/shared/secrets"
	heraldsns "github.com/heraldhq/herald/shared/sns"
	"github.com/heraldhq/herald/shared/webhook"
	"github.com/heraldhq/herald/shared/wiring"
	callbackroutes "github.com/heraldhq/herald/shared/wiring/callbacks"
)

func main() {
	ctx := context.Background()
	cfg, aws, err := config.ForLambda(ctx, os.Getenv, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	// The figures of what providers report: CloudWatch embedded metric
	// format lines on stdout, flushed at the end of each invocation.
	figures := emf.New(os.Stdout, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	ports := wiring.Ports{Store: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table), Figures: figures,
		// The secrets are read when a route that needs one (WhatsApp's,
		// the unsubscribe links) is first requested, not by every cold
		// start: the delivery reports need none.
		Secrets: func(ctx context.Context) (config.Config, error) {
			c := cfg
			err := secrets.Load(ctx, &c, ssm.NewFromConfig(aws))
			return c, err
		}}
	routes := callbackroutes.New(wiring.New(cfg, ports, log), heraldsns.NewEndpoints(sns.NewFromConfig(aws)))
	// API Gateway requests, the SMS status logs subscription and SNS alike.
	lambda.Start(newHandler(callbacks{HTTP: routes.HTTP, SMSLogs: routes.SMS, SNS: webhook.NewSNSRouter(log, routes.SNS...), Log: log, Metrics: figures}))
}
