// Command ingest is the Lambda that S3 starts when a spreadsheet lands in
// the uploads bucket: it validates the file and queues a send of its valid
// rows, or imports its users (package ingest).
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
	"github.com/heraldhq/herald/shared/s3blob"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, true)
	if err == nil && cfg.UploadsBucket == "" {
		err = fmt.Errorf("HERALD_UPLOADS_BUCKET is not set")
	}
	var blobs *s3blob.Store
	if err == nil {
		blobs, err = s3blob.New(aws, cfg.UploadsBucket, s3blob.Options{Endpoint: s3blob.EndpointFromEnv(os.Getenv)})
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ports := wiring.Ports{Store: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table),
		Blobs: blobs, Dispatch: sqsqueue.New(sqs.NewFromConfig(aws), cfg.DispatchQueue)}
	lambda.Start(newHandler(wiringapi.Ingester(&wiringapi.Set{Graph: wiring.New(cfg, ports, cfg.Logger(os.Stdout))})))
}
