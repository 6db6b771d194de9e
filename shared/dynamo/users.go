package dynamo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// userItem is one user with everything their apps reported embedded, so
// the dispatcher decides a delivery from one read. Devices and preferences
// are JSON documents: nothing queries inside them.
type userItem struct {
	PK                  string            `dynamodbav:"pk"`
	SK                  string            `dynamodbav:"sk"`
	GSI1PK              string            `dynamodbav:"gsi1pk"`
	GSI1SK              string            `dynamodbav:"gsi1sk"`
	GSI2PK              string            `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK              string            `dynamodbav:"gsi2sk,omitempty"`
	Kind                string            `dynamodbav:"kind"`
	WorkspaceID         string            `dynamodbav:"ws"`
	ID                  string            `dynamodbav:"id"`
	Name                string            `dynamodbav:"name,omitempty"`
	Email               string            `dynamodbav:"email,omitempty"`
	Phone               string            `dynamodbav:"phone,omitempty"`
	Status              string            `dynamodbav:"status,omitempty"`
	Type                string            `dynamodbav:"type,omitempty"`
	Language            string            `dynamodbav:"language,omitempty"`
	Timezone            string            `dynamodbav:"timezone,omitempty"`
	Attributes          map[string]string `dynamodbav:"attributes,omitempty"`
	Tags                []string          `dynamodbav:"tags,omitempty"`
	PushPermission      string            `dynamodbav:"pushPermission,omitempty"`
	Devices             string            `dynamodbav:"devices,omitempty"`
	Preferences         string            `dynamodbav:"preferences,omitempty"`
	PresenceUntil       *time.Time        `dynamodbav:"presenceUntil,omitempty"`
	WhatsAppLastInbound *time.Time        `dynamodbav:"whatsappLastInboundAt,omitempty"`
	LastAnswer          string            `dynamodbav:"lastAnswer,omitempty"`
	SealKey             []byte            `dynamodbav:"sealKey,omitempty"`
	Version             int64             `dynamodbav:"version"`
	CreatedAt           time.Time         `dynamodbav:"createdAt"`
	UpdatedAt           time.Time         `dynamodbav:"updatedAt"`
}

func newUserItem(u notify.User) (userItem, error) {
	pk, sk := userKey(u.WorkspaceID, u.ID)
	gpk, gsk := userIndexKey(u.WorkspaceID, u.ID)
	it := userItem{
		PK: pk, SK: sk, GSI1PK: gpk, GSI1SK: gsk, Kind: "user",
		WorkspaceID: u.WorkspaceID, ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone,
		Status: u.Status, Type: u.Type, Language: u.Language, Timezone: u.Timezone,
		Attributes: u.Attributes, Tags: u.Tags, PushPermission: string(u.PushPermission),
		PresenceUntil: u.PresenceUntil, WhatsAppLastInbound: u.WhatsAppLastInbound,
		SealKey: u.SealKey, Version: u.Version, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	if u.Phone != "" {
		it.GSI2PK, it.GSI2SK = userPhoneKey(u.Phone, u.WorkspaceID, u.ID)
	}
	var err error
	if it.Devices, err = toJSON(u.Devices); err != nil {
		return it, fmt.Errorf("encode devices of user %s: %w", u.ID, err)
	}
	if it.Preferences, err = toJSON(u.Preferences); err != nil {
		return it, fmt.Errorf("encode preferences of user %s: %w", u.ID, err)
	}
	if u.LastAnswer != nil {
		if it.LastAnswer, err = toJSON(u.LastAnswer); err != nil {
			return it, fmt.Errorf("encode last answer of user %s: %w", u.ID, err)
		}
	}
	return it, nil
}

func (it userItem) user() (notify.User, error) {
	u := notify.User{
		WorkspaceID: it.WorkspaceID, ID: it.ID, Name: it.Name, Email: it.Email, Phone: it.Phone,
		Status: it.Status, Type: it.Type, Language: it.Language, Timezone: it.Timezone,
		Attributes: it.Attributes, Tags: it.Tags, PushPermission: notify.PushPermission(it.PushPermission),
		PresenceUntil: it.PresenceUntil, WhatsAppLastInbound: it.WhatsAppLastInbound,
		SealKey: it.SealKey, Version: it.Version, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}
	if err := fromJSON(it.Devices, &u.Devices); err != nil {
		return u, fmt.Errorf("decode devices of user %s: %w", it.ID, err)
	}
	if err := fromJSON(it.Preferences, &u.Preferences); err != nil {
		return u, fmt.Errorf("decode preferences of user %s: %w", it.ID, err)
	}
	if it.LastAnswer != "" {
		u.LastAnswer = new(notify.Answer)
		if err := fromJSON(it.LastAnswer, u.LastAnswer); err != nil {
			return u, fmt.Errorf("decode last answer of user %s: %w", it.ID, err)
		}
	}
	return u, nil
}

func decodeUser(item map[string]types.AttributeValue) (notify.User, error) {
	var it userItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return notify.User{}, fmt.Errorf("decode user: %w", err)
	}
	return it.user()
}

// getUser reads a user with a strongly consistent read, as optimistic
// concurrency needs.
func (s *Store) getUser(ctx context.Context, workspaceID, id string) (notify.User, error) {
	pk, sk := userKey(workspaceID, id)
	var it userItem
	if err := s.getItem(ctx, pk, sk, &it, "user", id); err != nil {
		return notify.User{}, err
	}
	return it.user()
}

// putUserVersion writes u if the stored version is still prev (0: the user
// must not exist); a lost race is a conflict.
func (s *Store) putUserVersion(ctx context.Context, u notify.User, prev int64) error {
	it, err := newUserItem(u)
	if err != nil {
		return err
	}
	return s.putVersioned(ctx, it, prev, "user", u.ID)
}

// putVersioned writes item (of kind, named id) if the stored item's
// version is still prev, or, with prev 0, if there is none; otherwise it
// is a conflict.
func (s *Store) putVersioned(ctx context.Context, item any, prev int64, kind, id string) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", kind, id, err)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}
	if prev == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("version = :prev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(prev)}
	}
	_, err = s.db.PutItem(ctx, in)
	if _, ok := conditionFailed(err); ok {
		if prev == 0 {
			return notify.Errorf(notify.CodeConflict, "%s %q exists", kind, id)
		}
		return notify.Errorf(notify.CodeConflict, "%s %q changed concurrently", kind, id)
	}
	if err != nil {
		return fmt.Errorf("put %s %s: %w", kind, id, err)
	}
	return nil
}

// PutUser creates or updates a user's profile and keeps what their apps
// reported; see notify.Store.
func (s *Store) PutUser(ctx context.Context, u notify.User) (notify.User, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.getUser(ctx, u.WorkspaceID, u.ID)
		var next notify.User
		switch {
		case notify.IsCode(err, notify.CodeNotFound):
			next = notify.User{
				SealKey: u.SealKey, PushPermission: u.PushPermission, CreatedAt: u.CreatedAt,
			}
			if next.PushPermission == "" {
				next.PushPermission = notify.PermissionAsk
			}
		case err != nil:
			return notify.User{}, err
		default:
			next = cur
		}
		next.WorkspaceID, next.ID = u.WorkspaceID, u.ID
		next.Name, next.Email, next.Phone = u.Name, u.Email, u.Phone
		next.Status, next.Type, next.Language, next.Timezone = u.Status, u.Type, u.Language, u.Timezone
		next.Attributes, next.Tags = u.Attributes, u.Tags
		next.UpdatedAt = u.UpdatedAt
		next.Version = cur.Version + 1
		err = s.putUserVersion(ctx, next, cur.Version)
		if notify.IsCode(err, notify.CodeConflict) && attempt+1 < maxUpdateAttempts {
			if err := backoff(ctx, attempt); err != nil {
				return notify.User{}, err
			}
			continue
		}
		if err != nil {
			return notify.User{}, err
		}
		return next, nil
	}
}

// GetUser reads one user.
func (s *Store) GetUser(ctx context.Context, workspaceID, id string) (notify.User, error) {
	return s.getUser(ctx, workspaceID, id)
}

// GetUsers reads the users among ids that exist, 100 a request.
func (s *Store) GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]notify.User, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		keys = append(keys, key(userKey(workspaceID, id)))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("get users of %s: %w", workspaceID, err)
	}
	users := make(map[string]notify.User, len(items))
	for _, item := range items {
		u, err := decodeUser(item)
		if err != nil {
			return nil, err
		}
		users[u.ID] = u
	}
	return users, nil
}

// UpdateUser applies fn to the stored user and writes the result if the
// user's version has not moved, retrying with a fresh read when it has.
func (s *Store) UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error) {
	return updateVersioned(ctx,
		func() (notify.User, error) { return s.getUser(ctx, workspaceID, id) },
		fn,
		func(cur notify.User, next *notify.User) int64 {
			next.WorkspaceID, next.ID, next.Version = workspaceID, id, cur.Version+1
			return cur.Version
		},
		func(next notify.User, prev int64) error { return s.putUserVersion(ctx, next, prev) })
}

// updateVersioned is optimistic concurrency: it reads an item with get,
// applies fn, lets prepare set the new version (returning the one read),
// and writes with put on condition of that version; a conflict reads
// again, with backoff, up to maxUpdateAttempts. An error from fn is
// returned as it is and nothing is written.
func updateVersioned[T any](ctx context.Context, get func() (T, error), fn func(*T) error, prepare func(cur T, next *T) int64, put func(next T, prev int64) error) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		cur, err := get()
		if err != nil {
			return zero, err
		}
		next := cur
		if err := fn(&next); err != nil {
			return zero, err
		}
		err = put(next, prepare(cur, &next))
		if notify.IsCode(err, notify.CodeConflict) && attempt+1 < maxUpdateAttempts {
			if err := backoff(ctx, attempt); err != nil {
				return zero, err
			}
			continue
		}
		if err != nil {
			return zero, err
		}
		return next, nil
	}
}

// DeleteUser deletes the user item, and with it the user's seal key, which
// makes the addresses sealed on their deliveries unreadable.
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) error {
	// The inbox first: a crash between the two leaves the user, and
	// deleting them again finishes the job.
	if err := s.deleteInbox(ctx, workspaceID, id); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	pk, sk := userKey(workspaceID, id)
	res, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    aws.String(s.table),
		Key:          key(pk, sk),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	if len(res.Attributes) == 0 {
		return notify.NotFound("user", id)
	}
	return nil
}

// ListUsers walks the user index shard by shard (00..15), each in id order,
// and filters in memory. A page stops when full or after readBudget users
// were examined; the cursor holds the shard and the last id examined.
func (s *Store) ListUsers(ctx context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	if c.Shard >= userShards {
		return []notify.User{}, "", nil
	}
	limit := pageSize(p)
	if p.Segments > 1 && p.Limit > limit {
		limit = min(p.Limit, notify.MaxSegmentPageSize)
	}
	users := []notify.User{}
	examined := 0
	for shard := c.Shard; shard < userShards; shard++ {
		if p.Segments > 1 && shard%p.Segments != p.Segment {
			continue // another segment's shard
		}
		after := ""
		if shard == c.Shard {
			after = c.After
		}
		for {
			if examined >= readBudget {
				return users, cursor{Shard: shard, After: after}.encode(), nil
			}
			in := &dynamodb.QueryInput{
				TableName:                 aws.String(s.table),
				IndexName:                 aws.String(gsi1Name),
				KeyConditionExpression:    aws.String("gsi1pk = :pk"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userShardPK(workspaceID, shard))},
				Limit:                     aws.Int32(int32(queryLimit(limit-len(users), !f.IsZero()))),
			}
			if after != "" {
				in.KeyConditionExpression = aws.String("gsi1pk = :pk AND gsi1sk > :after")
				in.ExpressionAttributeValues[":after"] = str(after)
			}
			res, err := s.db.Query(ctx, in)
			if err != nil {
				return nil, "", fmt.Errorf("list users of %s: %w", workspaceID, err)
			}
			for _, item := range res.Items {
				u, err := decodeUser(item)
				if err != nil {
					return nil, "", err
				}
				examined++
				after = u.ID
				if f.Matches(u) {
					users = append(users, u)
					if len(users) == limit {
						return users, cursor{Shard: shard, After: after}.encode(), nil
					}
				}
			}
			if res.LastEvaluatedKey == nil {
				break
			}
		}
	}
	return users, "", nil
}

// queryLimit is how many items to ask for when want more are needed: just
// those, so that a page never reads items it then drops (the next page
// would read them again); with a filter at least 100, so that a selective
// filter does not crawl, at the cost of at most 100 items read twice.
func queryLimit(want int, filtered bool) int {
	if filtered {
		return min(max(want, 100), notify.MaxSegmentPageSize)
	}
	return want
}

// FindUsersByPhone implements notify.Store with a Query of GSI2 (keys only,
// eventually consistent).
func (s *Store) FindUsersByPhone(ctx context.Context, phone string) ([]notify.UserRef, error) {
	pk, _ := userPhoneKey(phone, "", "")
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(gsi2Name),
		KeyConditionExpression:    aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
	}
	var refs []notify.UserRef
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("find users by phone: %w", err)
		}
		for _, item := range page.Items {
			sk, _ := item[attrGSI2SK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			if ws, id, ok := strings.Cut(sk.Value, "#"); ok {
				refs = append(refs, notify.UserRef{WorkspaceID: ws, ID: id})
			}
		}
	}
	return refs, nil
}
