// Command api is the HTTP API Lambda behind API Gateway (HTTP API, payload 2.0).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	_ "time/tzdata" // user and campaign time zones must resolve on provided.al2023

	"github.com/heraldhq/herald/shared/awsports"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/wiring"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ports := awsports.New(cfg, aws).Senders()
	lambda.Start(httpapi.LambdaHandler(wiring.New(cfg, ports, cfg.Logger(os.Stdout)).API()))
}
