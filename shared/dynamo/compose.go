package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// composeSettingsItem is what a workspace changed of AI composition. The
// categories are one JSON string: nothing queries inside them, and JSON
// keeps nil (the defaults) apart from a list.
type composeSettingsItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Kind        string    `dynamodbav:"kind"`
	WorkspaceID string    `dynamodbav:"ws"`
	Categories  string    `dynamodbav:"categories,omitempty"`
	Brand       string    `dynamodbav:"brand,omitempty"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
}

// composeUsageItem is one day and model of a workspace's AI composition
// usage. It is only ever written by AddComposeUsage's UpdateItem (ADD), so
// this struct only decodes it; the attribute names here and in
// addComposeUsage must agree.
type composeUsageItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	Kind         string `dynamodbav:"kind"`
	WorkspaceID  string `dynamodbav:"ws"`
	Day          string `dynamodbav:"day"`
	Model        string `dynamodbav:"model"`
	Requests     int64  `dynamodbav:"requests"`
	InputTokens  int64  `dynamodbav:"inputTokens"`
	OutputTokens int64  `dynamodbav:"outputTokens"`
}

// addComposeUsage adds to the three totals and (re)sets the attributes that
// name the item, so a list decodes it without parsing its key. day and
// model are reserved words, hence the names.
const addComposeUsage = "SET #kind = :kind, #ws = :ws, #day = :day, #model = :model " +
	"ADD #requests :requests, #inputTokens :inputTokens, #outputTokens :outputTokens"

// GetComposeSettings reads the workspace's settings item (strongly
// consistent: an operator sees what they just saved).
func (s *Store) GetComposeSettings(ctx context.Context, workspaceID string) (notify.ComposeSettings, error) {
	pk, sk := composeSettingsKey(workspaceID)
	var it composeSettingsItem
	if err := s.getItem(ctx, pk, sk, &it, "compose settings", workspaceID); err != nil {
		return notify.ComposeSettings{}, err
	}
	cs := notify.ComposeSettings{WorkspaceID: workspaceID, Brand: it.Brand, UpdatedAt: it.UpdatedAt}
	if err := fromJSON(it.Categories, &cs.Categories); err != nil {
		return notify.ComposeSettings{}, fmt.Errorf("decode compose categories of %s: %w", workspaceID, err)
	}
	return cs, nil
}

// PutComposeSettings replaces the settings item with one PutItem.
func (s *Store) PutComposeSettings(ctx context.Context, cs notify.ComposeSettings) error {
	pk, sk := composeSettingsKey(cs.WorkspaceID)
	it := composeSettingsItem{
		PK: pk, SK: sk, Kind: "composesettings", WorkspaceID: cs.WorkspaceID,
		Brand: cs.Brand, UpdatedAt: cs.UpdatedAt,
	}
	var err error
	if it.Categories, err = toJSON(cs.Categories); err != nil {
		return fmt.Errorf("encode compose categories of %s: %w", cs.WorkspaceID, err)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("encode compose settings of %s: %w", cs.WorkspaceID, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	if err != nil {
		return fmt.Errorf("put compose settings of %s: %w", cs.WorkspaceID, err)
	}
	return nil
}

// AddComposeUsage adds u with one UpdateItem (ADD), which DynamoDB applies
// atomically: concurrent adds all count, and the first one creates the
// item. One write unit.
func (s *Store) AddComposeUsage(ctx context.Context, u notify.ComposeUsage) error {
	if err := notify.CheckDay("day", u.Day); err != nil {
		return err
	}
	pk, sk := composeUsageKey(u.WorkspaceID, u.Day, u.Model)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(s.table),
		Key:              key(pk, sk),
		UpdateExpression: aws.String(addComposeUsage),
		ExpressionAttributeNames: map[string]string{
			"#kind": "kind", "#ws": "ws", "#day": "day", "#model": "model",
			"#requests": "requests", "#inputTokens": "inputTokens", "#outputTokens": "outputTokens",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":kind": str("composeusage"), ":ws": str(u.WorkspaceID), ":day": str(u.Day), ":model": str(u.Model),
			":requests": num(u.Requests), ":inputTokens": num(u.InputTokens), ":outputTokens": num(u.OutputTokens),
		},
	})
	if err != nil {
		return fmt.Errorf("add compose usage of %s on %s: %w", u.WorkspaceID, u.Day, err)
	}
	return nil
}

// ListComposeUsage queries the days from..to of the workspace's partition
// with one key condition (sort keys order by day then model), paging until
// DynamoDB has returned them all: a year of a few models is a few hundred
// small items.
func (s *Store) ListComposeUsage(ctx context.Context, workspaceID, from, to string) ([]notify.ComposeUsage, error) {
	if err := notify.CheckDay("from", from); err != nil {
		return nil, err
	}
	if err := notify.CheckDay("to", to); err != nil {
		return nil, err
	}
	usage := []notify.ComposeUsage{}
	if from > to {
		return usage, nil // BETWEEN with lo > hi is a validation error
	}
	pk, lo, hi := composeUsageRange(workspaceID, from, to)
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":lo": str(lo), ":hi": str(hi),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list compose usage of %s: %w", workspaceID, err)
		}
		for _, item := range res.Items {
			var it composeUsageItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, fmt.Errorf("decode compose usage of %s: %w", workspaceID, err)
			}
			usage = append(usage, notify.ComposeUsage{
				WorkspaceID: workspaceID, Day: it.Day, Model: it.Model,
				Requests: it.Requests, InputTokens: it.InputTokens, OutputTokens: it.OutputTokens,
			})
		}
	}
	return usage, nil
}

// TakeRate counts with one conditional UpdateItem: ADD one to the window's
// counter unless it has reached limit. DynamoDB evaluates the condition and
// applies the ADD atomically, so concurrent takes never pass the limit, and
// a refused take writes nothing (it still costs its write unit). The
// counter carries the table's TTL (rateExpiresAt), so old windows go away
// by themselves.
func (s *Store) TakeRate(ctx context.Context, workspaceID, name string, window time.Time, limit int) (bool, error) {
	if limit <= 0 {
		return false, nil // the condition would let the first take create the counter
	}
	pk, sk := rateKey(workspaceID, name, window)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(pk, sk),
		UpdateExpression:         aws.String("ADD n :one SET #expiresAt = :expiresAt"),
		ConditionExpression:      aws.String("attribute_not_exists(n) OR n < :limit"),
		ExpressionAttributeNames: map[string]string{"#expiresAt": attrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":limit": num(int64(limit)), ":expiresAt": num(rateExpiresAt(window)),
		},
	})
	if _, ok := conditionFailed(err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take rate %s of %s: %w", name, workspaceID, err)
	}
	return true, nil
}
