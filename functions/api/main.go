// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload 2.0).
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	_ "time/tzdata" // user and campaign time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/s3blob"
	"github.com/heraldhq/herald/shared/sqsqueue"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	client := sqs.NewFromConfig(aws)
	queue := sqsqueue.New(client, cfg.DispatchQueue)
	opts := httpapi.Options{Log: cfg.Logger(os.Stdout), Config: httpapi.Config{MaxBodyBytes: cfg.MaxBodyBytes, DefaultRegion: cfg.DefaultRegion, VAPIDPublicKey: cfg.VAPID.PublicKey}}
	if cfg.AudienceQueue != "" {
		opts.Audience = sqsqueue.New(client, cfg.AudienceQueue)
	}
	if cfg.Scheduler.Configured() {
		opts.Scheduler = ebscheduler.New(scheduler.NewFromConfig(aws), ebscheduler.ConfigFrom(cfg.Scheduler))
		if cfg.Scheduler.RepairQueue != "" {
			opts.Repairs = sqsqueue.New(client, cfg.Scheduler.RepairQueue)
		}
	}
	if cfg.UploadsBucket != "" {
		blobs := s3blob.New(s3.NewFromConfig(aws), cfg.UploadsBucket)
		opts.Uploads = &httpapi.Uploads{
			Blobs: blobs,
			PresignPut: func(ctx context.Context, key string, expires time.Duration) (string, error) {
				return blobs.PresignPut(ctx, key, expires, "")
			},
			PresignGet: blobs.PresignGet,
			Ingest:     ingest.NewConfig(cfg.UploadMaxBytes, cfg.UploadMaxRows, cfg.UploadMaxColumns, cfg.DefaultRegion),
		}
	}
	lambda.Start(newHandler(httpapi.New(store, queue, opts)).Serve)
}
