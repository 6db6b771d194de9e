// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload 2.0).
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	_ "time/tzdata" // user and campaign time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/s3blob"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/ssmparam"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
)

func main() {
	ctx := context.Background()
	cfg, aws, err := config.ForLambda(ctx, os.Getenv, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	client := sqs.NewFromConfig(aws)
	ports := wiring.Ports{Store: store, Dispatch: sqsqueue.New(client, cfg.DispatchQueue),
		// The link secret is read when a request first needs one (user
		// tokens, preference links), not by every cold start.
		Secrets: func(ctx context.Context) (config.Config, error) {
			c := cfg
			err := loadLinkSecret(ctx, &c, ssmparam.Reader{Config: aws})
			return c, err
		}}
	if cfg.AudienceQueue != "" {
		ports.Audience = sqsqueue.New(client, cfg.AudienceQueue)
	}
	if cfg.Scheduler.Configured() {
		ports.Scheduler = ebscheduler.New(scheduler.NewFromConfig(aws), ebscheduler.ConfigFrom(cfg.Scheduler))
		if cfg.Scheduler.RepairQueue != "" {
			ports.Repairs = sqsqueue.New(client, cfg.Scheduler.RepairQueue)
		}
	}
	api := &wiringapi.Set{Graph: wiring.New(cfg, ports, cfg.Logger(os.Stdout))}
	if cfg.UploadsBucket != "" {
		blobs, err := s3blob.New(aws, cfg.UploadsBucket, s3blob.Options{Endpoint: s3blob.EndpointFromEnv(os.Getenv)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		api.Uploads = &httpapi.Uploads{Blobs: blobs, PresignGet: blobs.PresignGet,
			PresignPut: func(ctx context.Context, key string, expires time.Duration) (string, error) {
				return blobs.PresignPut(ctx, key, expires, "")
			}}
	}
	// The console shares the function: API Gateway routes /v1 through the
	// authorizer and the console's paths straight here (it checks its own
	// sessions). Behind API Gateway every request came over https.
	lambda.Start(newHandler(wiringapi.Root(wiringapi.API(api), wiringapi.SDK(api, false), wiringapi.Console(api, true))).Serve)
}
