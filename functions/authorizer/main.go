// Command authorizer is the API Gateway Lambda authorizer: it checks the API
// key once per key and cache period, so the API function does not.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/wiring"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ports := wiring.Ports{Store: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)}
	lambda.Start(newHandler(wiring.Authorizer(wiring.New(cfg, ports, cfg.Logger(os.Stdout)))))
}
