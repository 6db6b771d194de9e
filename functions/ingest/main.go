// Command ingest is the Lambda that S3 starts when a spreadsheet lands in
// the uploads bucket: it validates the file and queues a send of its valid
// rows, or imports its users (package ingest).
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
	if err == nil && cfg.UploadsBucket == "" {
		err = fmt.Errorf("HERALD_UPLOADS_BUCKET is not set")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	open := awsports.New(cfg, aws)
	_, blobs := open.Uploads()
	ports := wiring.Ports{Store: open.Store(), Dispatch: open.Queue(cfg.DispatchQueue), Blobs: blobs}
	lambda.Start(wiring.New(cfg, ports, cfg.Logger(os.Stdout)).Ingester().HandleS3)
}
