// Command callbacks is the Lambda behind the provider webhook routes of the
// HTTP API (no API key: each provider's signature): it moves deliveries
// forward as providers report them.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/webhook"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken, Store: store, Log: cfg.Logger(os.Stdout)})
	lambda.Start(httpadapter.NewV2(mux).ProxyWithContext)
}
