// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload 2.0).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	_ "time/tzdata" // user time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/sqsqueue"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	if err == nil {
		err = cfg.RequireAWS(true)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
	aws, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "aws config:", err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	queue := sqsqueue.New(sqs.NewFromConfig(aws), cfg.DispatchQueue)
	api := httpapi.New(store, queue, httpapi.Options{Log: log, Config: httpapi.Config{MaxBodyBytes: cfg.MaxBodyBytes, DefaultRegion: cfg.DefaultRegion}})
	lambda.Start(httpapi.LambdaHandler(api))
}
