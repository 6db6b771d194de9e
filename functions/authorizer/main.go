// Command authorizer is the API Gateway Lambda authorizer: it checks the API
// key once per key and cache period, so the API function does not.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	if err == nil {
		err = cfg.RequireAWS(false)
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
	a := &apikey.Authorizer{Keys: dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table), Log: cfg.Logger(os.Stdout)}
	lambda.Start(a.Handle)
}
