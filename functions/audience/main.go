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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/sqsqueue"
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
	client := sqs.NewFromConfig(aws)
	ports := wiring.Ports{Store: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table),
		Dispatch: sqsqueue.New(client, cfg.DispatchQueue), Audience: sqsqueue.New(client, cfg.AudienceQueue)}
	graph := wiring.New(cfg, ports, cfg.Logger(os.Stdout))
	lambda.Start(newHandler(wiring.Walker(graph), graph.Log))
}
