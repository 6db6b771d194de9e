package sqsqueue

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/queuetest"
)

// endpointEnv names the SQS emulator the integration test runs against;
// infra/sqs-emulator.sh starts one.
const endpointEnv = "HERALD_TEST_SQS_ENDPOINT"

func TestContract(t *testing.T) {
	endpoint := os.Getenv(endpointEnv)
	if endpoint == "" {
		t.Skipf("%s is unset: start an emulator with infra/sqs-emulator.sh start and set %s=http://127.0.0.1:5000", endpointEnv, endpointEnv)
	}
	var meter Meter
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}, meter.Register)
	queuetest.Run(t, func(t *testing.T, visibility time.Duration, maxReceives int) (notify.Queue, notify.Queue) {
		q, dlq := createPair(t, client, visibility, maxReceives)
		return New(client, q), New(client, dlq)
	}, queuetest.Skip("ConcurrentReceivers",
		"moto 5.2.1 does not lock ReceiveMessage: two requests on its server threads can both take the same visible message "+
			"(seen about once in ten runs), so this case would be flaky; real SQS hides a received message from other receivers, barring the rare duplicate a standard queue allows"))
	t.Cleanup(func() {
		if meter.Counts()["SendMessageBatch"] == 0 {
			t.Errorf("meter counted no SendMessageBatch: %v", meter.Counts())
		}
		t.Logf("SQS requests by operation: %v", meter.Counts())
	})
}

var unsafeQueueChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// createPair makes a fresh queue with its own dead-letter queue and deletes
// both when the test ends.
func createPair(t *testing.T, client *sqs.Client, visibility time.Duration, maxReceives int) (queueURL, dlqURL string) {
	t.Helper()
	ctx := context.Background()
	name := unsafeQueueChars.ReplaceAllString(t.Name(), "-")
	if len(name) > 50 {
		name = name[len(name)-50:]
	}
	name = fmt.Sprintf("herald-%s-%d", name, rand.Uint32())

	create := func(name string, attrs map[string]string) string {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatalf("create queue %s: %v", name, err)
		}
		url := aws.ToString(out.QueueUrl)
		t.Cleanup(func() {
			if _, err := client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url}); err != nil {
				t.Errorf("delete queue %s: %v", name, err)
			}
		})
		return url
	}
	dlqURL = create(name+"-dlq", nil)
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &dlqURL,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("get dead-letter queue ARN: %v", err)
	}
	redrive, err := json.Marshal(map[string]string{
		"deadLetterTargetArn": attrs.Attributes[string(types.QueueAttributeNameQueueArn)],
		"maxReceiveCount":     strconv.Itoa(maxReceives),
	})
	if err != nil {
		t.Fatal(err)
	}
	queueURL = create(name, map[string]string{
		string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(visibility / time.Second)),
		string(types.QueueAttributeNameRedrivePolicy):     string(redrive),
	})
	return queueURL, dlqURL
}
