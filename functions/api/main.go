// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload 2.0).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	_ "time/tzdata" // user time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/httpapi"
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
	lambda.Start(httpapi.LambdaHandler(httpapi.New(store, queue, opts)))
}
