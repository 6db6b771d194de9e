// Command compose is the AI composition Lambda: API Gateway routes the
// /v1/compose routes here (the API key checked by the authorizer), and it
// writes text with the Bedrock Converse API.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/composemodel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/httpapi"
)

func main() {
	ctx := context.Background()
	cfg, awsCfg, err := config.ForLambda(ctx, os.Getenv, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := cfg.Logger(os.Stdout)
	store := dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table)
	model, err := composemodel.New(ctx, cfg.Compose, func(context.Context) (aws.Config, error) { return awsCfg, nil })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	opts := httpapi.Options{Log: log, Routes: httpapi.ComposeRoutes, Config: httpapi.Config{MaxBodyBytes: cfg.MaxBodyBytes}}
	if model != nil {
		opts.Compose = compose.New(model, store, compose.Config{RatePerMinute: cfg.Compose.RatePerMinute, MaxTokens: cfg.Compose.MaxTokens}, nil, log)
	}
	lambda.Start(newHandler(httpapi.New(store, nil, opts)).Serve)
}
