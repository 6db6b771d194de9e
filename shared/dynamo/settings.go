package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/heraldhq/herald/shared/notify"
)

// consoleSettingsItem is what a workspace's admins set in the console. The
// destinations are one JSON string: nothing queries inside them. The SDK's
// origins are a list, kept in order (absent when none).
type consoleSettingsItem struct {
	PK           string    `dynamodbav:"pk"`
	SK           string    `dynamodbav:"sk"`
	Kind         string    `dynamodbav:"kind"`
	WorkspaceID  string    `dynamodbav:"ws"`
	Destinations string    `dynamodbav:"destinations,omitempty"`
	SDKOrigins   []string  `dynamodbav:"sdkOrigins,omitempty"`
	UpdatedAt    time.Time `dynamodbav:"updatedAt"`
}

// GetConsoleSettings reads the workspace's console settings item (strongly
// consistent: an admin sees what they just saved).
func (s *Store) GetConsoleSettings(ctx context.Context, workspaceID string) (notify.ConsoleSettings, error) {
	pk, sk := consoleSettingsKey(workspaceID)
	var it consoleSettingsItem
	if err := s.getItem(ctx, pk, sk, &it, "console settings", workspaceID); err != nil {
		return notify.ConsoleSettings{}, err
	}
	cs := notify.ConsoleSettings{WorkspaceID: workspaceID, UpdatedAt: it.UpdatedAt}
	if len(it.SDKOrigins) > 0 {
		cs.SDKOrigins = it.SDKOrigins
	}
	if err := fromJSON(it.Destinations, &cs.Destinations); err != nil {
		return notify.ConsoleSettings{}, fmt.Errorf("decode console destinations of %s: %w", workspaceID, err)
	}
	return cs, nil
}

// PutConsoleSettings replaces the settings item with one PutItem.
func (s *Store) PutConsoleSettings(ctx context.Context, cs notify.ConsoleSettings) error {
	pk, sk := consoleSettingsKey(cs.WorkspaceID)
	it := consoleSettingsItem{PK: pk, SK: sk, Kind: "consolesettings", WorkspaceID: cs.WorkspaceID, SDKOrigins: cs.SDKOrigins, UpdatedAt: cs.UpdatedAt}
	var err error
	if it.Destinations, err = toJSON(cs.Destinations); err != nil {
		return fmt.Errorf("encode console destinations of %s: %w", cs.WorkspaceID, err)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode console settings of %s: %w", cs.WorkspaceID, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put console settings of %s: %w", cs.WorkspaceID, err)
	}
	return nil
}
