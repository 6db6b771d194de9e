package config

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// ForLambda reads the configuration of a Lambda function and builds the
// AWS SDK's from the Lambda environment: AWS_REGION and the execution role's
// credentials, which the runtime puts in AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN for the life of the execution
// environment. That is what config.LoadDefaultConfig would find there too;
// building it directly keeps its SSO, STS and IMDS providers, which a
// function never uses, out of every binary (about 5 MB each). needQueue
// says whether the function enqueues dispatch messages. Secrets come
// separately (package secrets).
func ForLambda(_ context.Context, getenv func(string) string, needQueue bool) (Config, aws.Config, error) {
	c, err := Load(getenv)
	c.SNSTestCert = "" // local mode only: on AWS, SNS's own certificates
	// Local tests only: on AWS, push services on the public internet.
	c.TestAllowPrivateEndpoints = false
	if err == nil {
		err = c.RequireAWS(needQueue)
	}
	if err != nil {
		return c, aws.Config{}, fmt.Errorf("config: %w", err)
	}
	region := getenv("AWS_REGION")
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || id == "" || secret == "" {
		return c, aws.Config{}, fmt.Errorf("aws config: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (the Lambda runtime sets them)")
	}
	awsCfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
	}
	return c, awsCfg, nil
}
