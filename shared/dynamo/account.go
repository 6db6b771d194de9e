package dynamo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

type workspaceItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	Kind      string    `dynamodbav:"kind"`
	ID        string    `dynamodbav:"id"`
	Name      string    `dynamodbav:"name"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

// CreateWorkspace stores w; conflict when its id exists.
func (s *Store) CreateWorkspace(ctx context.Context, w notify.Workspace) error {
	pk, sk := workspaceKey(w.ID)
	item, err := attributevalue.MarshalMap(workspaceItem{PK: pk, SK: sk, Kind: "workspace", ID: w.ID, Name: w.Name, CreatedAt: w.CreatedAt})
	if err != nil {
		return fmt.Errorf("encode workspace %s: %w", w.ID, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if _, ok := conditionFailed(err); ok {
		return notify.Errorf(notify.CodeConflict, "workspace %q exists", w.ID)
	}
	if err != nil {
		return fmt.Errorf("put workspace %s: %w", w.ID, err)
	}
	return nil
}

// GetWorkspace reads a workspace.
func (s *Store) GetWorkspace(ctx context.Context, id string) (notify.Workspace, error) {
	pk, sk := workspaceKey(id)
	var it workspaceItem
	if err := s.getItem(ctx, pk, sk, &it, "workspace", id); err != nil {
		return notify.Workspace{}, err
	}
	return notify.Workspace{ID: it.ID, Name: it.Name, CreatedAt: it.CreatedAt}, nil
}

// apiKeyItem is stored twice: by hash (what authentication reads) and by id
// under the workspace (what lists and revokes read). Both copies are written
// and revoked in one transaction.
type apiKeyItem struct {
	PK          string     `dynamodbav:"pk"`
	SK          string     `dynamodbav:"sk"`
	Kind        string     `dynamodbav:"kind"`
	ID          string     `dynamodbav:"id"`
	WorkspaceID string     `dynamodbav:"ws"`
	Name        string     `dynamodbav:"name"`
	Scopes      []string   `dynamodbav:"scopes"`
	Hash        string     `dynamodbav:"hash"`
	Prefix      string     `dynamodbav:"prefix"`
	CreatedAt   time.Time  `dynamodbav:"createdAt"`
	RevokedAt   *time.Time `dynamodbav:"revokedAt,omitempty"`
	LastUsedAt  *time.Time `dynamodbav:"lastUsedAt,omitempty"`
}

func (it apiKeyItem) apiKey() notify.APIKey {
	k := notify.APIKey{
		ID: it.ID, WorkspaceID: it.WorkspaceID, Name: it.Name, Hash: it.Hash,
		Prefix: it.Prefix, CreatedAt: it.CreatedAt, RevokedAt: it.RevokedAt, LastUsedAt: it.LastUsedAt,
	}
	for _, sc := range it.Scopes {
		k.Scopes = append(k.Scopes, notify.Scope(sc))
	}
	return k
}

// CreateAPIKey stores k by hash and by id; conflict when either exists.
func (s *Store) CreateAPIKey(ctx context.Context, k notify.APIKey) error {
	it := apiKeyItem{
		Kind: "apikey", ID: k.ID, WorkspaceID: k.WorkspaceID, Name: k.Name, Hash: k.Hash,
		Prefix: k.Prefix, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt,
	}
	for _, sc := range k.Scopes {
		it.Scopes = append(it.Scopes, string(sc))
	}
	hashPK, hashSK := apiKeyByHashKey(k.Hash)
	idPK, idSK := apiKeyByIDKey(k.WorkspaceID, k.ID)
	var puts []types.TransactWriteItem
	for _, at := range [][2]string{{hashPK, hashSK}, {idPK, idSK}} {
		it.PK, it.SK = at[0], at[1]
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return fmt.Errorf("encode api key %s: %w", k.ID, err)
		}
		puts = append(puts, types.TransactWriteItem{Put: &types.Put{
			TableName:           aws.String(s.table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: puts})
	if transactionConditionFailed(err) {
		return notify.Errorf(notify.CodeConflict, "api key %q exists", k.ID)
	}
	if err != nil {
		return fmt.Errorf("put api key %s: %w", k.ID, err)
	}
	return nil
}

// GetAPIKeyByHash finds a key by the hash of its secret.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (notify.APIKey, error) {
	pk, sk := apiKeyByHashKey(hash)
	var it apiKeyItem
	if err := s.getItem(ctx, pk, sk, &it, "api key", ""); err != nil {
		return notify.APIKey{}, err
	}
	return it.apiKey(), nil
}

// ListAPIKeys lists a workspace's keys, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context, workspaceID string) ([]notify.APIKey, error) {
	pk, _ := workspaceKey(workspaceID)
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":prefix": str(apiKeyIDPrefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	keys := []notify.APIKey{}
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list api keys of %s: %w", workspaceID, err)
		}
		var items []apiKeyItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return nil, fmt.Errorf("decode api keys of %s: %w", workspaceID, err)
		}
		for _, it := range items {
			keys = append(keys, it.apiKey())
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if !keys[i].CreatedAt.Equal(keys[j].CreatedAt) {
			return keys[i].CreatedAt.Before(keys[j].CreatedAt)
		}
		return keys[i].ID < keys[j].ID
	})
	return keys, nil
}

// RevokeAPIKey marks both copies of a key revoked; a key already revoked
// keeps its first revocation time.
func (s *Store) RevokeAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error {
	pk, sk := apiKeyByIDKey(workspaceID, id)
	var it apiKeyItem
	if err := s.getItem(ctx, pk, sk, &it, "api key", id); err != nil {
		return err
	}
	revokedAt, err := attributevalue.Marshal(at)
	if err != nil {
		return fmt.Errorf("encode revocation of api key %s: %w", id, err)
	}
	hashPK, hashSK := apiKeyByHashKey(it.Hash)
	var updates []types.TransactWriteItem
	for _, k := range [][2]string{{pk, sk}, {hashPK, hashSK}} {
		updates = append(updates, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       key(k[0], k[1]),
			UpdateExpression:          aws.String("SET revokedAt = if_not_exists(revokedAt, :at)"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":at": revokedAt},
		}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: updates})
	if transactionConditionFailed(err) {
		return notify.NotFound("api key", id)
	}
	if err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	}
	return nil
}

// TouchAPIKey sets lastUsedAt on both copies of a key in one transaction,
// as revoking does; callers write it at most hourly per key, so its cost
// (a read and a two-item transaction) does not grow with the requests.
func (s *Store) TouchAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error {
	pk, sk := apiKeyByIDKey(workspaceID, id)
	var it apiKeyItem
	if err := s.getItem(ctx, pk, sk, &it, "api key", id); err != nil {
		return err
	}
	usedAt, err := attributevalue.Marshal(at)
	if err != nil {
		return fmt.Errorf("encode last use of api key %s: %w", id, err)
	}
	hashPK, hashSK := apiKeyByHashKey(it.Hash)
	var updates []types.TransactWriteItem
	for _, k := range [][2]string{{pk, sk}, {hashPK, hashSK}} {
		updates = append(updates, types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       key(k[0], k[1]),
			UpdateExpression:          aws.String("SET lastUsedAt = :at"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":at": usedAt},
		}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: updates})
	if transactionConditionFailed(err) {
		return notify.NotFound("api key", id)
	}
	if err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

// idempotencyItem remembers one Idempotency-Key. expiresAt (epoch seconds)
// drives TTL deletion, which is lazy (up to days late), so claims compare
// expiresNs with the claim's time instead of trusting the item to be gone.
type idempotencyItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Kind        string    `dynamodbav:"kind"`
	WorkspaceID string    `dynamodbav:"ws"`
	Key         string    `dynamodbav:"key"`
	RequestHash string    `dynamodbav:"requestHash"`
	Done        bool      `dynamodbav:"done"`
	StatusCode  int       `dynamodbav:"statusCode,omitempty"`
	Response    []byte    `dynamodbav:"response,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	ExpiresAt   int64     `dynamodbav:"expiresAt"`
	ExpiresNs   int64     `dynamodbav:"expiresNs"`
}

func newIdempotencyItem(rec notify.IdempotencyRecord) idempotencyItem {
	pk, sk := idempotencyKey(rec.WorkspaceID, rec.Key)
	return idempotencyItem{
		PK: pk, SK: sk, Kind: "idempotency", WorkspaceID: rec.WorkspaceID, Key: rec.Key,
		RequestHash: rec.RequestHash, Done: rec.Done, StatusCode: rec.StatusCode,
		Response: rec.Response, CreatedAt: rec.CreatedAt,
		ExpiresAt: rec.ExpiresAt.Unix(), ExpiresNs: nanos(rec.ExpiresAt),
	}
}

func (it idempotencyItem) record() notify.IdempotencyRecord {
	return notify.IdempotencyRecord{
		WorkspaceID: it.WorkspaceID, Key: it.Key, RequestHash: it.RequestHash, Done: it.Done,
		StatusCode: it.StatusCode, Response: it.Response, CreatedAt: it.CreatedAt,
		ExpiresAt: fromNanos(it.ExpiresNs),
	}
}

// ClaimIdempotencyKey stores rec unless a record of the same key that has
// not expired at rec.CreatedAt exists. A failed claim returns the stored
// record read in the same request (ReturnValuesOnConditionCheckFailure).
func (s *Store) ClaimIdempotencyKey(ctx context.Context, rec notify.IdempotencyRecord) (notify.IdempotencyRecord, bool, error) {
	item, err := attributevalue.MarshalMap(newIdempotencyItem(rec))
	if err != nil {
		return notify.IdempotencyRecord{}, false, fmt.Errorf("encode idempotency key %s: %w", rec.Key, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(pk) OR expiresNs <= :now"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":now": num(nanos(rec.CreatedAt))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		var it idempotencyItem
		if old == nil {
			pk, sk := idempotencyKey(rec.WorkspaceID, rec.Key)
			if err := s.getItem(ctx, pk, sk, &it, "idempotency key", rec.Key); err != nil {
				return notify.IdempotencyRecord{}, false, err
			}
		} else if err := attributevalue.UnmarshalMap(old, &it); err != nil {
			return notify.IdempotencyRecord{}, false, fmt.Errorf("decode idempotency key %s: %w", rec.Key, err)
		}
		return it.record(), false, nil
	}
	if err != nil {
		return notify.IdempotencyRecord{}, false, fmt.Errorf("put idempotency key %s: %w", rec.Key, err)
	}
	return rec, true, nil
}

// CompleteIdempotencyKey saves the response of a claimed key: not_found when
// the claim is gone, conflict when another request's claim holds the key.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, rec notify.IdempotencyRecord) error {
	item, err := attributevalue.MarshalMap(newIdempotencyItem(rec))
	if err != nil {
		return fmt.Errorf("encode idempotency key %s: %w", rec.Key, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String("requestHash = :hash"),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":hash": str(rec.RequestHash)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, ok := conditionFailed(err); ok {
		if old == nil {
			return notify.NotFound("idempotency key", rec.Key)
		}
		return notify.Errorf(notify.CodeConflict, "idempotency key %q is held by another request", rec.Key)
	}
	if err != nil {
		return fmt.Errorf("put idempotency key %s: %w", rec.Key, err)
	}
	return nil
}

// ReleaseIdempotencyKey deletes a claim; releasing a missing claim is not an
// error, so a retried release succeeds.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, workspaceID, k string) error {
	pk, sk := idempotencyKey(workspaceID, k)
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(pk, sk)})
	if err != nil {
		return fmt.Errorf("delete idempotency key %s: %w", k, err)
	}
	return nil
}
