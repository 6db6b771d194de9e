// Command audience is the SQS-triggered Lambda that walks filter
// audiences: each message is one step of one segment, which enqueues
// dispatch messages for a run of users and hands the rest of its segment
// over to a new step (package audience).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/heraldhq/herald/shared/awsports"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/wiring"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, true)
	if err == nil && cfg.AudienceQueue == "" {
		err = fmt.Errorf("HERALD_AUDIENCE_QUEUE_URL is not set")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	open := awsports.New(cfg, aws)
	ports := wiring.Ports{Store: open.Store(), Dispatch: open.Queue(cfg.DispatchQueue), Audience: open.Queue(cfg.AudienceQueue)}
	lambda.Start(wiring.New(cfg, ports, cfg.Logger(os.Stdout)).Walker().HandleSQS)
}
