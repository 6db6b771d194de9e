// Command callbacks is the Lambda behind the HTTP API's routes that carry
// no API key: the provider webhooks (each provider's signature), which move
// deliveries forward as providers report them, and the one-click
// unsubscribe links of marketing email (a signed token). CloudWatch Logs
// subscriptions invoke it too, with SNS's SMS delivery-status records, and
// SNS may hand it the notifications of the stack's topics directly.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/emf"
	"github.com/heraldhq/herald/shared/secrets"
	heraldsns "github.com/heraldhq/herald/shared/sns"
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
	log := cfg.Logger(os.Stdout)
	// The figures of what providers report: CloudWatch embedded metric
	// format lines on stdout, flushed at the end of each invocation.
	figures := emf.New(os.Stdout, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", &webhook.WhatsApp{AppSecret: cfg.WhatsApp.AppSecret, VerifyToken: cfg.WhatsApp.VerifyToken,
		ReplySecret: []byte(cfg.UnsubscribeSecret), Store: store, Log: log, Metrics: figures})
	// The SNS endpoints take their topics' notifications both ways: posted
	// to their route by an HTTPS subscription, or handed to the function
	// by SNS itself (a lambda subscription, a replay).
	var receivers []webhook.SNSReceiver
	if len(cfg.SESEventTopics) > 0 {
		ses := &webhook.SES{Store: store, Log: log, Metrics: figures, SNSOptions: webhook.SNSOptions{TopicARNs: cfg.SESEventTopics}}
		mux.Handle("/webhooks/ses", ses)
		receivers = append(receivers, ses)
	}
	sms := &webhook.SMS{Store: store, Log: log, Metrics: figures, SNSOptions: webhook.SNSOptions{TopicARNs: cfg.SMSStatusTopics}}
	if len(cfg.SMSStatusTopics) > 0 {
		mux.Handle("/webhooks/sms", sms)
		receivers = append(receivers, sms)
	}
	if len(cfg.PushEventTopics) > 0 {
		push := &webhook.Push{Store: store, Endpoints: heraldsns.NewEndpoints(sns.NewFromConfig(aws)), Log: log, Metrics: figures,
			SNSOptions: webhook.SNSOptions{TopicARNs: cfg.PushEventTopics}}
		mux.Handle("/webhooks/push", push)
		receivers = append(receivers, push)
	}
	if cfg.UnsubscribeSecret != "" {
		mux.Handle("/unsubscribe/", &unsubscribe.Handler{Secret: []byte(cfg.UnsubscribeSecret), Users: store, Log: log})
	}
	// API Gateway requests, the SMS status logs subscription and SNS alike.
	lambda.Start(newHandler(callbacks{HTTP: mux, SMSLogs: sms, SNS: webhook.NewSNSRouter(log, receivers...), Log: log, Metrics: figures}))
}
