// Package dynamo implements notify.Store on one DynamoDB table (single-table
// design). Every key and index format lives in keys.go; DESIGN.md explains
// the layout, the access patterns and the write-unit arithmetic. The client
// is made by main and passed in; this package never loads AWS configuration.
package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// Store is the DynamoDB notify.Store. It is safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	now   func() time.Time // stamps updatedAt on status and count changes
}

var _ notify.Store = (*Store)(nil)

// New returns a Store on table, which must have the layout CreateTable makes
// (and template.yaml declares).
func New(client *dynamodb.Client, table string) *Store {
	return &Store{db: client, table: table, now: time.Now}
}

// Tuning of the adapter's loops.
const (
	// writeParallelism bounds the conditional puts RecordDeliveries has in
	// flight at once: 100 recipients at ~10 ms a put finish in ~60 ms.
	writeParallelism = 16
	// batchGetSize and batchWriteSize are DynamoDB's per-request maxima.
	batchGetSize   = 100
	batchWriteSize = 25
	// readBudget bounds the items one list call evaluates when a filter
	// drops most of them; past it the call returns what it has and a cursor.
	readBudget = 5000
	// maxBatchAttempts bounds the retries of unprocessed batch items.
	maxBatchAttempts = 8
	// maxUpdateAttempts bounds optimistic-concurrency retries.
	maxUpdateAttempts = 10
)

// CreateTable creates table as template.yaml declares it: string keys pk/sk,
// index gsi1 on gsi1pk/gsi1sk projecting all attributes, on-demand capacity,
// and TTL on expiresAt. It waits until the table is active. Tests and local
// tooling use it; deployed stacks get the table from CloudFormation.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	str := types.ScalarAttributeTypeS
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(attrPK), AttributeType: str},
			{AttributeName: aws.String(attrSK), AttributeType: str},
			{AttributeName: aws.String(attrGSI1PK), AttributeType: str},
			{AttributeName: aws.String(attrGSI1SK), AttributeType: str},
			{AttributeName: aws.String(attrGSI2PK), AttributeType: str},
			{AttributeName: aws.String(attrGSI2SK), AttributeType: str},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(gsi1Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI1PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI1SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}, {
			IndexName: aws.String(gsi2Name),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(attrGSI2PK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(attrGSI2SK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", table, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable ttl on table %s: %w", table, err)
	}
	return nil
}

// key builds a primary key value.
func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

// conditionFailed reports whether err is a failed condition of a single-item
// write, and returns the item as it was when the request asked for it.
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

// transactionConditionFailed reports whether a transaction was cancelled by
// a failed condition (rather than a conflict with another transaction, which
// the SDK retries, or a throttle).
func transactionConditionFailed(err error) bool {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return false
	}
	for _, r := range tce.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// getItem reads one item into out; a missing item is not_found of kind/id
// (of kind alone when id is empty, for items found by a secret's hash).
func (s *Store) getItem(ctx context.Context, pk, sk string, out any, kind, id string) error {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(pk, sk),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("get %s %s: %w", kind, id, err)
	}
	if res.Item == nil {
		if id == "" {
			return notify.Errorf(notify.CodeNotFound, "%s not found", kind)
		}
		return notify.NotFound(kind, id)
	}
	if err := attributevalue.UnmarshalMap(res.Item, out); err != nil {
		return fmt.Errorf("decode %s %s: %w", kind, id, err)
	}
	return nil
}

// batchGet reads the items of keys with strongly consistent reads, 100 a
// request, retrying unprocessed keys with backoff. Missing items are simply
// absent from the result.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	return s.batchGetItems(ctx, keys, true)
}

// batchGetEventual is batchGet with eventually consistent reads, at half the
// read units, for searches.
func (s *Store) batchGetEventual(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	return s.batchGetItems(ctx, keys, false)
}

func (s *Store) batchGetItems(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += batchGetSize {
		pending := keys[start:min(start+batchGetSize, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt == maxBatchAttempts {
					return nil, fmt.Errorf("batch get: %d keys still unprocessed after %d attempts", len(pending), attempt)
				}
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{
					s.table: {Keys: pending, ConsistentRead: aws.Bool(consistent)},
				},
			})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			items = append(items, res.Responses[s.table]...)
			pending = res.UnprocessedKeys[s.table].Keys
		}
	}
	return items, nil
}

// batchWrite applies puts and deletes, 25 a request, retrying unprocessed
// items with backoff. Unconditional: only for items nothing else races on.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for start := 0; start < len(reqs); start += batchWriteSize {
		pending := reqs[start:min(start+batchWriteSize, len(reqs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if attempt == maxBatchAttempts {
					return fmt.Errorf("batch write: %d items still unprocessed after %d attempts", len(pending), attempt)
				}
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			res, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{s.table: pending},
			})
			if err != nil {
				return fmt.Errorf("batch write: %w", err)
			}
			pending = res.UnprocessedItems[s.table]
		}
	}
	return nil
}

// backoff sleeps 50 ms × 2^attempt (capped at 3.2 s) with full jitter.
func backoff(ctx context.Context, attempt int) error {
	d := 50 * time.Millisecond << min(attempt, 6)
	t := time.NewTimer(rand.N(d) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// parallel runs fn(0..n-1) with at most limit in flight and returns the
// first error.
func parallel(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		sem   = make(chan struct{}, limit)
	)
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return first
}

// cursor is the position a list stopped at: the shard it was reading (for
// sharded lists) and the last sort key it consumed. Every list's sort keys
// are unique within a partition, so "after this sort key" is a complete
// position and no LastEvaluatedKey needs to travel.
type cursor struct {
	Shard int    `json:"s,omitempty"`
	After string `json:"a"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Shard < 0 {
		return cursor{}, notify.Errorf(notify.CodeBadRequest, "invalid cursor")
	}
	return c, nil
}

// pageSize applies the page size defaults and bounds.
func pageSize(p notify.Page) int {
	switch {
	case p.Limit <= 0:
		return notify.DefaultPageSize
	case p.Limit > notify.MaxPageSize:
		return notify.MaxPageSize
	}
	return p.Limit
}

// toJSON stores a nested value (devices, preferences, extras) as one JSON
// string attribute: DynamoDB never queries inside them, and JSON keeps nil
// and empty apart exactly as the API does.
func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return "", nil
	}
	return string(b), nil
}

func fromJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// queryPage runs in, following LastEvaluatedKey, until it holds limit items
// or the query is done: a query reads at most 1 MB, which a few large items
// fill, so one page may take several. A full page's cursor is after of its
// last item; the last page has none.
func queryPage[T any](ctx context.Context, db *dynamodb.Client, in *dynamodb.QueryInput, limit int,
	decode func(map[string]types.AttributeValue) (T, error), after func(T) string) ([]T, string, error) {
	items := []T{}
	for {
		in.Limit = aws.Int32(int32(limit - len(items)))
		res, err := db.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		for _, raw := range res.Items {
			it, err := decode(raw)
			if err != nil {
				return nil, "", err
			}
			items = append(items, it)
			if len(items) == limit {
				return items, cursor{After: after(it)}.encode(), nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return items, "", nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
