package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// deliveryItem is one recipient of one notification. It is the item a mass
// send writes a million times, so it is kept far under 1 KB (one write unit):
// one-letter attribute names (names count toward the item size), times as
// Unix nanoseconds, and neither workspace nor notification id, which the
// partition key already carries.
type deliveryItem struct {
	PK                string `dynamodbav:"pk"`
	SK                string `dynamodbav:"sk"` // Delivery.Key
	UserID            string `dynamodbav:"u,omitempty"`
	Address           string `dynamodbav:"a,omitempty"`
	Channel           string `dynamodbav:"c"`
	Status            string `dynamodbav:"s"`
	Reason            string `dynamodbav:"r,omitempty"`
	ProviderMessageID string `dynamodbav:"p,omitempty"`
	Chunk             string `dynamodbav:"k,omitempty"`
	Encoding          string `dynamodbav:"e,omitempty"`
	Segments          int    `dynamodbav:"g,omitempty"`
	CreatedAt         int64  `dynamodbav:"t,omitempty"`
	UpdatedAt         int64  `dynamodbav:"m,omitempty"`
}

func newDeliveryItem(d notify.Delivery) deliveryItem {
	pk, sk := deliveryKey(d.WorkspaceID, d.NotificationID, d.Key)
	return deliveryItem{
		PK: pk, SK: sk, UserID: d.UserID, Address: d.Address, Channel: string(d.Channel),
		Status: string(d.Status), Reason: d.Reason, ProviderMessageID: d.ProviderMessageID,
		Chunk: d.Chunk, Encoding: d.Encoding, Segments: d.Segments, CreatedAt: nanos(d.CreatedAt), UpdatedAt: nanos(d.UpdatedAt),
	}
}

func (it deliveryItem) delivery(workspaceID, notificationID string) notify.Delivery {
	return notify.Delivery{
		WorkspaceID: workspaceID, NotificationID: notificationID, Key: it.SK, UserID: it.UserID,
		Address: it.Address, Channel: notify.Channel(it.Channel), Status: notify.DeliveryStatus(it.Status),
		Reason: it.Reason, ProviderMessageID: it.ProviderMessageID, Chunk: it.Chunk, Encoding: it.Encoding, Segments: it.Segments,
		CreatedAt: fromNanos(it.CreatedAt), UpdatedAt: fromNanos(it.UpdatedAt),
	}
}

// RecordDeliveries inserts each delivery with a conditional PutItem
// (attribute_not_exists), writeParallelism at a time. A conditional put costs
// one write unit whether it succeeds or not; a transaction would cost two a
// delivery, and BatchWriteItem cannot carry a condition.
func (s *Store) RecordDeliveries(ctx context.Context, ds []notify.Delivery) ([]bool, error) {
	created := make([]bool, len(ds))
	err := parallel(ctx, len(ds), writeParallelism, func(ctx context.Context, i int) error {
		d := ds[i]
		item, err := attributevalue.MarshalMap(newDeliveryItem(d))
		if err != nil {
			return fmt.Errorf("encode delivery %s of notification %s: %w", d.Key, d.NotificationID, err)
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(s.table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		if _, ok := conditionFailed(err); ok {
			return nil
		}
		if err != nil {
			return fmt.Errorf("put delivery %s of notification %s: %w", d.Key, d.NotificationID, err)
		}
		created[i] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// GetDeliveries reads the deliveries among keys that exist, 100 a request.
func (s *Store) GetDeliveries(ctx context.Context, workspaceID, notificationID string, keys []string) (map[string]notify.Delivery, error) {
	var ks []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		ks = append(ks, key(deliveryKey(workspaceID, notificationID, k)))
	}
	items, err := s.batchGet(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("get deliveries of notification %s: %w", notificationID, err)
	}
	out := make(map[string]notify.Delivery, len(items))
	for _, item := range items {
		var it deliveryItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode delivery of notification %s: %w", notificationID, err)
		}
		out[it.SK] = it.delivery(workspaceID, notificationID)
	}
	return out, nil
}

// ListDeliveries walks the notification's 32 delivery shards in order, each
// in key order. A status becomes a FilterExpression; the query keeps paging
// until the page is full or readBudget deliveries were examined, and the
// cursor holds the shard and the last key examined.
func (s *Store) ListDeliveries(ctx context.Context, workspaceID, notificationID string, status notify.DeliveryStatus, p notify.Page) ([]notify.Delivery, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	if c.Shard >= deliveryShards {
		return []notify.Delivery{}, "", nil
	}
	limit := pageSize(p)
	out := []notify.Delivery{}
	examined := 0
	for shard := c.Shard; shard < deliveryShards; shard++ {
		after := ""
		if shard == c.Shard {
			after = c.After
		}
		for {
			if examined >= readBudget {
				return out, cursor{Shard: shard, After: after}.encode(), nil
			}
			in := &dynamodb.QueryInput{
				TableName:                 aws.String(s.table),
				KeyConditionExpression:    aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(deliveryShardPK(workspaceID, notificationID, shard))},
				Limit:                     aws.Int32(int32(queryLimit(limit-len(out), status != ""))),
				ConsistentRead:            aws.Bool(true),
			}
			if after != "" {
				in.KeyConditionExpression = aws.String("pk = :pk AND sk > :after")
				in.ExpressionAttributeValues[":after"] = str(after)
			}
			if status != "" {
				in.FilterExpression = aws.String("s = :status")
				in.ExpressionAttributeValues[":status"] = str(string(status))
			}
			res, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, "", fmt.Errorf("list deliveries of notification %s: %w", notificationID, err)
			}
			examined += int(res.ScannedCount)
			for _, item := range res.Items {
				var it deliveryItem
				if err := attributevalue.UnmarshalMap(item, &it); err != nil {
					return nil, "", fmt.Errorf("decode delivery of notification %s: %w", notificationID, err)
				}
				after = it.SK
				out = append(out, it.delivery(workspaceID, notificationID))
				if len(out) == limit {
					return out, cursor{Shard: shard, After: after}.encode(), nil
				}
			}
			if res.LastEvaluatedKey == nil {
				break
			}
			after = res.LastEvaluatedKey[attrSK].(*types.AttributeValueMemberS).Value
		}
	}
	return out, "", nil
}
