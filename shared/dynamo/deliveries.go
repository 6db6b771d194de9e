package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	Answer            string `dynamodbav:"q,omitempty"`
	AnsweredAt        int64  `dynamodbav:"qt,omitempty"`
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
	d := notify.Delivery{
		WorkspaceID: workspaceID, NotificationID: notificationID, Key: it.SK, UserID: it.UserID,
		Address: it.Address, Channel: notify.Channel(it.Channel), Status: notify.DeliveryStatus(it.Status),
		Reason: it.Reason, ProviderMessageID: it.ProviderMessageID, Chunk: it.Chunk, Encoding: it.Encoding, Segments: it.Segments,
		Answer:    it.Answer,
		CreatedAt: fromNanos(it.CreatedAt), UpdatedAt: fromNanos(it.UpdatedAt),
	}
	if it.AnsweredAt != 0 {
		at := fromNanos(it.AnsweredAt)
		d.AnsweredAt = &at
	}
	return d
}

// messageIDItem finds a delivery by its provider's message id. It expires
// after messageIDTTL: SNS reports an SMS's fate within 72 hours.
type messageIDItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	WorkspaceID    string `dynamodbav:"w"`
	NotificationID string `dynamodbav:"n"`
	Key            string `dynamodbav:"k"`
	ExpiresAt      int64  `dynamodbav:"expiresAt"`
}

const (
	messageIDTTL = 7 * 24 * time.Hour
	// maxMessageID bounds an id looked up; SNS ids are 36-character UUIDs.
	maxMessageID = 512
)

// putMessageID indexes d by its provider message id when its channel needs
// it. It is written before the delivery: an index entry whose delivery was
// never recorded finds nothing, while a delivery without its entry would
// never learn its fate.
func (s *Store) putMessageID(ctx context.Context, d notify.Delivery) error {
	if !notify.TrackedByMessageID(d.Channel) || d.ProviderMessageID == "" {
		return nil
	}
	pk, sk := messageIDKey(string(d.Channel), d.ProviderMessageID)
	item, err := attributevalue.MarshalMap(messageIDItem{PK: pk, SK: sk, WorkspaceID: d.WorkspaceID,
		NotificationID: d.NotificationID, Key: d.Key, ExpiresAt: s.now().Add(messageIDTTL).Unix()})
	if err != nil {
		return fmt.Errorf("encode message id of delivery %s: %w", d.Key, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("put message id of delivery %s of notification %s: %w", d.Key, d.NotificationID, err)
	}
	return nil
}

// FindDeliveryByMessageID implements notify.Store with one eventually
// consistent GetItem (half a read unit): provider news arrives seconds to
// days after the send.
func (s *Store) FindDeliveryByMessageID(ctx context.Context, ch notify.Channel, messageID string) (notify.DeliveryRef, error) {
	if messageID == "" || len(messageID) > maxMessageID {
		return notify.DeliveryRef{}, notify.NotFound("message", messageID)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(messageIDKey(string(ch), messageID))})
	if err != nil {
		return notify.DeliveryRef{}, fmt.Errorf("find delivery of %s message %s: %w", ch, messageID, err)
	}
	if out.Item == nil {
		return notify.DeliveryRef{}, notify.NotFound("message", messageID)
	}
	var it messageIDItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return notify.DeliveryRef{}, fmt.Errorf("decode message id %s: %w", messageID, err)
	}
	if it.ExpiresAt != 0 && s.now().Unix() > it.ExpiresAt {
		return notify.DeliveryRef{}, notify.NotFound("message", messageID) // expired, not yet deleted
	}
	return notify.DeliveryRef{WorkspaceID: it.WorkspaceID, NotificationID: it.NotificationID, Key: it.Key}, nil
}

// RecordAnswer implements notify.Store with one conditional UpdateItem.
func (s *Store) RecordAnswer(ctx context.Context, a notify.DeliveryAnswer) (bool, error) {
	pk, sk := deliveryKey(a.WorkspaceID, a.NotificationID, a.Key)
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk),
		UpdateExpression:    aws.String("SET q = :q, qt = :at"),
		ConditionExpression: aws.String("attribute_exists(pk) AND (attribute_not_exists(qt) OR qt < :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q": str(a.Answer), ":at": num(nanos(a.At)),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if item, ok := conditionFailed(err); ok {
		if item == nil {
			return false, notify.NotFound("delivery", a.Key)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record answer on delivery %s of %s: %w", a.Key, a.NotificationID, err)
	}
	return true, nil
}

// RecordDeliveries inserts each delivery with a conditional PutItem
// (attribute_not_exists), writeParallelism at a time. A conditional put costs
// one write unit whether it succeeds or not; a transaction would cost two a
// delivery, and BatchWriteItem cannot carry a condition.
func (s *Store) RecordDeliveries(ctx context.Context, ds []notify.Delivery) ([]bool, error) {
	created := make([]bool, len(ds))
	err := parallel(ctx, len(ds), writeParallelism, func(ctx context.Context, i int) error {
		d := ds[i]
		if err := s.putMessageID(ctx, d); err != nil {
			return err
		}
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

// UpdateDeliveryStatus implements notify.Store with a read and one
// transaction: the delivery's update, conditioned on the status it was read
// with, and the counts item's ADD of the move (minus one of the old status,
// plus one of the new). A concurrent change fails the condition and the
// update is decided again on a fresh read. Callbacks are not the send path:
// the transaction's 4 write units are spent once per piece of news.
func (s *Store) UpdateDeliveryStatus(ctx context.Context, u notify.DeliveryUpdate) (bool, error) {
	pk, sk := deliveryKey(u.WorkspaceID, u.NotificationID, u.Key)
	cpk, csk := notificationCountsKey(u.WorkspaceID, u.NotificationID)
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return false, fmt.Errorf("read delivery %s of %s: %w", u.Key, u.NotificationID, err)
		}
		if out.Item == nil {
			return false, notify.NotFound("delivery", u.Key)
		}
		var it deliveryItem
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return false, fmt.Errorf("decode delivery %s: %w", u.Key, err)
		}
		old := notify.DeliveryStatus(it.Status)
		if u.Status.Rank() <= old.Rank() {
			return false, nil
		}
		set := "SET s = :new, m = :at"
		values := map[string]types.AttributeValue{":new": str(string(u.Status)), ":old": str(string(old)), ":at": num(nanos(u.At))}
		if u.Reason != "" {
			set += ", r = :reason"
			values[":reason"] = str(u.Reason)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName: aws.String(s.table), Key: key(pk, sk),
				UpdateExpression: aws.String(set), ConditionExpression: aws.String("s = :old"),
				ExpressionAttributeValues: values,
			}},
			{Update: &types.Update{
				TableName: aws.String(s.table), Key: key(cpk, csk),
				UpdateExpression: aws.String(addCounts), ConditionExpression: aws.String("attribute_exists(pk)"),
				ExpressionAttributeValues: s.countValues(u.Status.Counts().Sub(old.Counts())),
			}},
		}})
		if err == nil {
			return true, nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			return false, fmt.Errorf("update delivery %s of %s: %w", u.Key, u.NotificationID, err)
		}
		if r := tce.CancellationReasons; len(r) == 2 && aws.ToString(r[1].Code) == "ConditionalCheckFailed" {
			return false, notify.NotFound("notification", u.NotificationID)
		}
		// The status moved meanwhile: decide again.
	}
	return false, notify.Errorf(notify.CodeConflict, "delivery %s of %s kept changing", u.Key, u.NotificationID)
}
