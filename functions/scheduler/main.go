// Command scheduler is the Lambda EventBridge Scheduler invokes at each
// campaign's scheduled time (and a scheduled send's): it turns the run into
// a notification, once per scheduled time (package campaign). It also
// consumes the repair queue, which retries the schedule changes EventBridge
// Scheduler did not take.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	_ "time/tzdata" // campaign time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/wiring"
	"github.com/heraldhq/herald/shared/wiring/services"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, true)
	if err == nil && !cfg.Scheduler.Configured() {
		err = fmt.Errorf("HERALD_SCHEDULER_TARGET_ARN and HERALD_SCHEDULER_ROLE_ARN are not set")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	client := sqs.NewFromConfig(aws)
	ports := wiring.Ports{Store: store, Dispatch: sqsqueue.New(client, cfg.DispatchQueue),
		Scheduler: ebscheduler.New(scheduler.NewFromConfig(aws), ebscheduler.ConfigFrom(cfg.Scheduler))}
	if cfg.AudienceQueue != "" {
		ports.Audience = sqsqueue.New(client, cfg.AudienceQueue)
	}
	if cfg.Scheduler.RepairQueue != "" {
		ports.Repairs = sqsqueue.New(client, cfg.Scheduler.RepairQueue)
	}
	graph := wiring.New(cfg, ports, cfg.Logger(os.Stdout))
	lambda.Start(newHandler(services.Campaigns(graph), graph.Log))
}
