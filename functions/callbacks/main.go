// Command callbacks is the Lambda behind the HTTP API's routes that carry
// no API key: the provider webhooks (each provider's signature), which move
// deliveries forward as providers report them, and the one-click
// unsubscribe links of marketing email (a signed token).
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/secrets"
	"github.com/heraldhq/herald/shared/unsubscribe"
	"github.com/heraldhq/herald/shared/webhook"
)

func main() {
	cfg, aws, err := config.ForLambda(context.Background(), os.Getenv, false)
	if err == nil {
		err = secrets.Load(context.Background(), &cfg, ssm.NewFromConfig(aws))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.Table)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken, Store: store, Log: cfg.Logger(os.Stdout)})
	if len(cfg.SESEventTopics) > 0 {
		mux.Handle("/webhooks/ses", &webhook.SES{Store: store, Log: cfg.Logger(os.Stdout), SNSOptions: webhook.SNSOptions{TopicARNs: cfg.SESEventTopics}})
	}
	if cfg.UnsubscribeSecret != "" {
		mux.Handle("/unsubscribe/", &unsubscribe.Handler{Secret: []byte(cfg.UnsubscribeSecret), Users: store, Log: cfg.Logger(os.Stdout)})
	}
	lambda.Start(httpadapter.NewV2(mux).ProxyWithContext)
}
