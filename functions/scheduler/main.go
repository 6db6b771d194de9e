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

	_ "time/tzdata" // campaigns' time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/sqsqueue"
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
	log := cfg.Logger(os.Stdout)
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	client := sqs.NewFromConfig(aws)
	ids := &notify.IDs{}
	sender := &send.Sender{Store: store, Dispatch: sqsqueue.New(client, cfg.DispatchQueue), IDs: ids, Log: log, DefaultRegion: cfg.DefaultRegion}
	if cfg.AudienceQueue != "" {
		sender.Steps = sqsqueue.New(client, cfg.AudienceQueue)
	}
	svc := &campaign.Service{
		Store: store, Sender: sender, IDs: ids, Log: log,
		Scheduler: ebscheduler.New(scheduler.NewFromConfig(aws), ebscheduler.ConfigFrom(cfg.Scheduler)),
	}
	if cfg.Scheduler.RepairQueue != "" {
		svc.Repairs = sqsqueue.New(client, cfg.Scheduler.RepairQueue)
	}
	lambda.Start(newHandler(svc, log))
}
