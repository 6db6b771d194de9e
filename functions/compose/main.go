// Command compose is the AI composition Lambda: API Gateway routes the
// /v1/compose routes here (the API key checked by the authorizer), and it
// writes text with the Bedrock Converse API.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/heraldhq/herald/shared/awsports"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/wiring"
)

func main() {
	ctx := context.Background()
	cfg, aws, err := config.ForLambda(ctx, os.Getenv, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	open := awsports.New(cfg, aws)
	model, err := open.Model(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ports := wiring.Ports{Store: open.Store(), Model: model}
	lambda.Start(httpapi.LambdaHandler(wiring.New(cfg, ports, cfg.Logger(os.Stdout)).API(httpapi.ComposeRoutes...)))
}
