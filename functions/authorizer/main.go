// Command authorizer is the API Gateway Lambda authorizer: it checks the API
// key once per key and cache period, so the API function does not.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/awsports"
	"github.com/heraldhq/herald/shared/config"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	a := &apikey.Authorizer{Keys: awsports.New(cfg, aws).Store(), Log: cfg.Logger(os.Stdout)}
	lambda.Start(a.Handle)
}
