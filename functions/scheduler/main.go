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

	_ "time/tzdata" // campaign time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/awsports"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/wiring"
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
	ports := awsports.New(cfg, aws).Senders()
	lambda.Start(wiring.New(cfg, ports, cfg.Logger(os.Stdout)).Campaigns().HandleEvent)
}
