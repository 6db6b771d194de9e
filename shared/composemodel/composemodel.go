// Package composemodel picks the model of AI composition from the
// configuration, so that the local server, the compose function and the
// invoke tool build it the same way.
package composemodel

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/heraldhq/herald/shared/bedrock"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/openai"
)

// New returns the model c names, or nil when it names none (AI
// composition off). loadAWS gives the AWS SDK configuration Bedrock is
// called with; it is called only for Bedrock.
func New(ctx context.Context, c config.ComposeConfig, loadAWS func(context.Context) (aws.Config, error)) (compose.Model, error) {
	switch c.Provider {
	case "":
		return nil, nil
	case "openai":
		m, err := openai.New(openai.Config{BaseURL: c.OpenAIBaseURL, Model: c.OpenAIModel, APIKey: c.OpenAIAPIKey})
		if err != nil {
			return nil, fmt.Errorf("AI composition: %w", err)
		}
		return m, nil
	case "bedrock":
		awsCfg, err := loadAWS(ctx)
		if err != nil {
			return nil, fmt.Errorf("AI composition: aws config for Bedrock: %w", err)
		}
		if c.BedrockRegion != "" {
			awsCfg.Region = c.BedrockRegion
		}
		if awsCfg.Region == "" {
			return nil, fmt.Errorf("AI composition: Bedrock needs a region: set HERALD_BEDROCK_REGION or AWS_REGION")
		}
		client := bedrockruntime.NewFromConfig(awsCfg, func(o *bedrockruntime.Options) {
			// Two attempts: API Gateway gives up after 30 s, and a
			// throttled account is better told to retry than kept waiting.
			o.RetryMaxAttempts = 2
		})
		m, err := bedrock.New(client, bedrock.Config{ModelID: c.BedrockModelID, GuardrailID: c.BedrockGuardrailID, GuardrailVersion: c.BedrockGuardrailVersion})
		if err != nil {
			return nil, fmt.Errorf("AI composition: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("AI composition: provider %q: want bedrock or openai", c.Provider)
}
