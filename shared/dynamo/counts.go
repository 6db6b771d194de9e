package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// maxTransactItems is DynamoDB's limit of items in one transaction.
const maxTransactItems = 100

// markerTTL is how long a count marker is kept (TTL on expiresAt).
const markerTTL = 15 * 24 * time.Hour

// ApplyCounts adds each part's delta to the notification's counts exactly
// once per marker, however often a part is applied: every part puts a marker
// item (attribute_not_exists) in the same transaction as one ADD of the sum
// of the parts' deltas on the counts item (which exists exactly when the
// notification does: its condition tells a missing notification). When some
// markers exist already, the transaction is cancelled and retried without
// them. Returns the updated notification.
//
// Dispatch applies the parts of one queue batch (up to ten chunks of 100
// recipients) at once: ten 1-unit markers and one 1-unit counts update, each
// doubled by the transaction, 0.022 write units per recipient; a batch of one
// chunk costs 4 units, 0.04 a recipient. Neither depends on the size of the
// notification's text: the counts item is small and has no index copy.
func (s *Store) ApplyCounts(ctx context.Context, workspaceID, id string, parts []notify.CountPart) (notify.Notification, error) {
	seen := map[string]bool{}
	var pending []notify.CountPart
	for _, p := range parts {
		if !seen[p.Marker] {
			seen[p.Marker] = true
			pending = append(pending, p)
		}
	}
	for start := 0; start < len(pending); start += maxTransactItems - 1 {
		if err := s.applyCounts(ctx, workspaceID, id, pending[start:min(start+maxTransactItems-1, len(pending))]); err != nil {
			return notify.Notification{}, err
		}
	}
	return s.GetNotification(ctx, workspaceID, id)
}

func (s *Store) applyCounts(ctx context.Context, workspaceID, id string, parts []notify.CountPart) error {
	for attempt := 0; len(parts) > 0; attempt++ {
		var sum notify.Counts
		items := make([]types.TransactWriteItem, 0, len(parts)+1)
		for _, p := range parts {
			sum = sum.Add(p.Delta)
			pk, sk := countMarkerKey(workspaceID, id, p.Marker)
			marker := key(pk, sk)
			// A marker only has to outlive the retries of its chunk: SQS
			// keeps a message at most 14 days.
			marker[attrExpiresAt] = num(s.now().Add(markerTTL).Unix())
			items = append(items, types.TransactWriteItem{Put: &types.Put{
				TableName:           aws.String(s.table),
				Item:                marker,
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}})
		}
		pk, sk := notificationCountsKey(workspaceID, id)
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       key(pk, sk),
			UpdateExpression:          aws.String(addCounts),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: s.countValues(sum),
		}})
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) || attempt+1 == maxUpdateAttempts {
			return fmt.Errorf("apply counts to notification %s: %w", id, err)
		}
		reasons := tce.CancellationReasons
		if len(reasons) == len(items) && aws.ToString(reasons[len(parts)].Code) == "ConditionalCheckFailed" {
			return notify.NotFound("notification", id)
		}
		var left []notify.CountPart
		for i, p := range parts {
			if i < len(reasons) && aws.ToString(reasons[i].Code) == "ConditionalCheckFailed" {
				continue // applied before
			}
			left = append(left, p)
		}
		if len(left) == len(parts) {
			// Cancelled by a conflicting transaction or a throttle: retry.
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		parts = left
	}
	return nil
}
