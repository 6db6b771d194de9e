package config

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// ForLambda reads the configuration of a Lambda function and the AWS SDK's
// own (region, credentials, AWS_ENDPOINT_URL_* endpoints). needQueue says
// whether the function enqueues dispatch messages.
func ForLambda(ctx context.Context, getenv func(string) string, needQueue bool) (Config, aws.Config, error) {
	c, err := Load(getenv)
	if err == nil {
		err = c.RequireAWS(needQueue)
	}
	if err != nil {
		return c, aws.Config{}, fmt.Errorf("config: %w", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return c, aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	return c, awsCfg, nil
}
