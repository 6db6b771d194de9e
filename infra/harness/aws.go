package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/sqsqueue"
)

// AWS is a fresh table and dispatch queue (with its dead-letter queue) on
// the emulators, with the production adapters on them and meters counting
// every SDK call.
type AWS struct {
	Config   aws.Config
	DDB      *dynamodb.Client
	SQS      *sqs.Client
	Table    string
	QueueURL string
	DLQURL   string
	Store    *dynamo.Store
	Queue    *sqsqueue.Queue
	DDBMeter *dynamo.Meter
	SQSMeter *sqsqueue.Meter
}

// NewAWS creates the table and queues; close deletes them.
func NewAWS(ctx context.Context, ddbURL, sqsURL string, maxReceives int) (*AWS, func(), error) {
	a := &AWS{
		Config:   aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		DDBMeter: dynamo.NewMeter(),
		SQSMeter: &sqsqueue.Meter{},
	}
	a.DDB = dynamodb.NewFromConfig(a.Config, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) }, a.DDBMeter.Instrument)
	a.SQS = sqs.NewFromConfig(a.Config, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) }, a.SQSMeter.Register)
	suffix := fmt.Sprint(time.Now().UnixNano())
	a.Table = "herald-" + suffix
	if err := dynamo.CreateTable(ctx, a.DDB, a.Table); err != nil {
		return nil, nil, err
	}
	var cleanups []func()
	closeAll := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	cleanups = append(cleanups, func() {
		a.DDB.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(a.Table)})
	})
	dlq, err := a.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("herald-dlq-" + suffix)})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	a.DLQURL = *dlq.QueueUrl
	cleanups = append(cleanups, func() { a.SQS.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: dlq.QueueUrl}) })
	attrs, err := a.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	q, err := a.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("herald-dispatch-" + suffix), Attributes: map[string]string{
		string(sqstypes.QueueAttributeNameVisibilityTimeout): "30",
		string(sqstypes.QueueAttributeNameRedrivePolicy):     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, attrs.Attributes["QueueArn"], maxReceives),
	}})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	a.QueueURL = *q.QueueUrl
	cleanups = append(cleanups, func() { a.SQS.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}) })
	a.Store = dynamo.New(a.DDB, a.Table)
	a.Queue = sqsqueue.New(a.SQS, a.QueueURL)
	return a, closeAll, nil
}
