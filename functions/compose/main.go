// Command compose is the AI composition Lambda: API Gateway routes the
// /v1/compose routes here (the API key checked by the authorizer), and it
// writes text with the Bedrock Converse API.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/shared/composemodel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
)

func main() {
	ctx := context.Background()
	cfg, aws, err := config.ForLambda(ctx, os.Getenv, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	model, err := composemodel.New(ctx, cfg.Compose, func(context.Context) (awssdk.Config, error) { return aws, nil })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ports := wiring.Ports{Store: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)}
	svc := &wiringapi.Set{Graph: wiring.New(cfg, ports, cfg.Logger(os.Stdout)), Model: model}
	lambda.Start(newHandler(wiringapi.API(svc, httpapi.ComposeRoutes...)).Serve)
}
