package dynamo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// operatorItem is one operator; version is for optimistic concurrency.
type operatorItem struct {
	PK           string     `dynamodbav:"pk"`
	SK           string     `dynamodbav:"sk"`
	Kind         string     `dynamodbav:"kind"`
	WorkspaceID  string     `dynamodbav:"ws"`
	ID           string     `dynamodbav:"id"`
	Email        string     `dynamodbav:"email"`
	Name         string     `dynamodbav:"name,omitempty"`
	Role         string     `dynamodbav:"role"`
	PasswordHash string     `dynamodbav:"passwordHash,omitempty"`
	CreatedAt    time.Time  `dynamodbav:"createdAt"`
	UpdatedAt    time.Time  `dynamodbav:"updatedAt"`
	LastLoginAt  *time.Time `dynamodbav:"lastLoginAt,omitempty"`
	Version      int64      `dynamodbav:"version"`
}

func newOperatorItem(o notify.Operator, version int64) operatorItem {
	pk, sk := operatorKey(o.WorkspaceID, o.ID)
	return operatorItem{
		PK: pk, SK: sk, Kind: "operator", WorkspaceID: o.WorkspaceID, ID: o.ID, Email: o.Email,
		Name: o.Name, Role: string(o.Role), PasswordHash: o.PasswordHash,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, LastLoginAt: o.LastLoginAt, Version: version,
	}
}

func (it operatorItem) operator() notify.Operator {
	return notify.Operator{
		ID: it.ID, WorkspaceID: it.WorkspaceID, Email: it.Email, Name: it.Name, Role: notify.Role(it.Role),
		PasswordHash: it.PasswordHash, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, LastLoginAt: it.LastLoginAt,
	}
}

// operatorEmailItem claims an email for one operator and names it.
type operatorEmailItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Kind        string `dynamodbav:"kind"`
	WorkspaceID string `dynamodbav:"ws"`
	OperatorID  string `dynamodbav:"operatorId"`
}

// CreateOperator writes the operator and the claim on its (lower-cased)
// email in one transaction, each on condition that it does not exist: a
// taken email or id cancels both.
func (s *Store) CreateOperator(ctx context.Context, o notify.Operator) error {
	o.Email = strings.ToLower(o.Email)
	op, err := attributevalue.MarshalMap(newOperatorItem(o, 1))
	if err != nil {
		return fmt.Errorf("encode operator %s: %w", o.ID, err)
	}
	pk, sk := operatorEmailKey(o.Email)
	claim, err := attributevalue.MarshalMap(operatorEmailItem{PK: pk, SK: sk, Kind: "operatoremail", WorkspaceID: o.WorkspaceID, OperatorID: o.ID})
	if err != nil {
		return fmt.Errorf("encode email claim of operator %s: %w", o.ID, err)
	}
	var puts []types.TransactWriteItem
	for _, item := range []map[string]types.AttributeValue{op, claim} {
		puts = append(puts, types.TransactWriteItem{Put: &types.Put{
			TableName:           aws.String(s.table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: puts})
	if transactionConditionFailed(err) {
		return notify.Errorf(notify.CodeConflict, "operator %q or an operator with this email exists", o.ID)
	}
	if err != nil {
		return fmt.Errorf("put operator %s: %w", o.ID, err)
	}
	return nil
}

func (s *Store) getOperatorItem(ctx context.Context, workspaceID, id string) (operatorItem, error) {
	pk, sk := operatorKey(workspaceID, id)
	var it operatorItem
	err := s.getItem(ctx, pk, sk, &it, "operator", id)
	return it, err
}

// GetOperator reads one operator with a strongly consistent read.
func (s *Store) GetOperator(ctx context.Context, workspaceID, id string) (notify.Operator, error) {
	it, err := s.getOperatorItem(ctx, workspaceID, id)
	if err != nil {
		return notify.Operator{}, err
	}
	return it.operator(), nil
}

// GetOperatorByEmail reads the email's claim, then the operator it names:
// two GetItems, once a sign-in.
func (s *Store) GetOperatorByEmail(ctx context.Context, email string) (notify.Operator, error) {
	pk, sk := operatorEmailKey(strings.ToLower(email))
	var claim operatorEmailItem
	if err := s.getItem(ctx, pk, sk, &claim, "operator", ""); err != nil {
		return notify.Operator{}, err
	}
	it, err := s.getOperatorItem(ctx, claim.WorkspaceID, claim.OperatorID)
	if err != nil {
		return notify.Operator{}, err
	}
	return it.operator(), nil
}

// ListOperators queries the operators of the workspace's partition and
// sorts them, oldest first, in memory: a workspace has a handful.
func (s *Store) ListOperators(ctx context.Context, workspaceID string) ([]notify.Operator, error) {
	pk, _ := operatorKey(workspaceID, "")
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":prefix": str(operatorPrefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	ops := []notify.Operator{}
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list operators of %s: %w", workspaceID, err)
		}
		var items []operatorItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &items); err != nil {
			return nil, fmt.Errorf("decode operators of %s: %w", workspaceID, err)
		}
		for _, it := range items {
			ops = append(ops, it.operator())
		}
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if !ops[i].CreatedAt.Equal(ops[j].CreatedAt) {
			return ops[i].CreatedAt.Before(ops[j].CreatedAt)
		}
		return ops[i].ID < ops[j].ID
	})
	return ops, nil
}

// UpdateOperator applies fn to the stored operator and writes the result if
// its version has not moved, retrying with a fresh read when it has. The
// email claim is not touched: fn may not change the email.
func (s *Store) UpdateOperator(ctx context.Context, workspaceID, id string, fn func(*notify.Operator) error) (notify.Operator, error) {
	it, err := updateVersioned(ctx,
		func() (operatorItem, error) { return s.getOperatorItem(ctx, workspaceID, id) },
		func(it *operatorItem) error {
			o := it.operator()
			if err := fn(&o); err != nil {
				return err
			}
			if err := operatorIdentityKept(o, workspaceID, id, it.Email); err != nil {
				return err
			}
			*it = newOperatorItem(o, it.Version)
			return nil
		},
		func(cur operatorItem, next *operatorItem) int64 {
			next.Version = cur.Version + 1
			return cur.Version
		},
		func(next operatorItem, prev int64) error { return s.putVersioned(ctx, next, prev, "operator", id) })
	if err != nil {
		return notify.Operator{}, err
	}
	return it.operator(), nil
}

// operatorIdentityKept refuses an update that changed what the port says
// an update may not: the id, the workspace, the email.
func operatorIdentityKept(o notify.Operator, workspaceID, id, email string) error {
	switch {
	case o.ID != id:
		return notify.Invalid(notify.FieldError{Field: "id", Problem: "an operator's id cannot change"})
	case o.WorkspaceID != workspaceID:
		return notify.Invalid(notify.FieldError{Field: "workspaceId", Problem: "an operator's workspace cannot change"})
	case o.Email != email:
		return notify.Invalid(notify.FieldError{Field: "email", Problem: "an operator's email cannot change"})
	}
	return nil
}

// DeleteOperator deletes the operator and its email claim in one
// transaction, then the operator's sessions. GetSession checks the
// operator, so the sessions are over from the transaction on; deleting them
// afterwards only frees the space (and a crash before it leaves sessions
// TTL removes).
func (s *Store) DeleteOperator(ctx context.Context, workspaceID, id string) error {
	it, err := s.getOperatorItem(ctx, workspaceID, id)
	if err != nil {
		return err
	}
	opPK, opSK := operatorKey(workspaceID, id)
	emailPK, emailSK := operatorEmailKey(it.Email)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{
			TableName:           aws.String(s.table),
			Key:                 key(opPK, opSK),
			ConditionExpression: aws.String("attribute_exists(pk)"),
		}},
		{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       key(emailPK, emailSK),
			ConditionExpression:       aws.String("ws = :ws AND operatorId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":ws": str(workspaceID), ":id": str(id)},
		}},
	}})
	if transactionConditionFailed(err) {
		return notify.NotFound("operator", id)
	}
	if err != nil {
		return fmt.Errorf("delete operator %s: %w", id, err)
	}
	if err := s.DeleteOperatorSessions(ctx, workspaceID, id); err != nil {
		return fmt.Errorf("operator %s is deleted, its sessions not yet: %w", id, err)
	}
	return nil
}

// sessionItem is one session. expiresAt is the table's TTL; expiresNs is
// the exact expiry reads compare, since TTL deletion lags by up to days.
type sessionItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Kind        string    `dynamodbav:"kind"`
	ID          string    `dynamodbav:"id"`
	WorkspaceID string    `dynamodbav:"ws"`
	OperatorID  string    `dynamodbav:"operatorId"`
	CSRF        string    `dynamodbav:"csrf"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	ExpiresAt   int64     `dynamodbav:"expiresAt"`
	ExpiresNs   int64     `dynamodbav:"expiresNs"`
}

func (it sessionItem) session() notify.Session {
	return notify.Session{
		ID: it.ID, WorkspaceID: it.WorkspaceID, OperatorID: it.OperatorID, CSRF: it.CSRF,
		CreatedAt: it.CreatedAt, ExpiresAt: fromNanos(it.ExpiresNs),
	}
}

// operatorSessionItem lists a session under its operator: the session's id
// and the same TTL, nothing else.
type operatorSessionItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Kind      string `dynamodbav:"kind"`
	ID        string `dynamodbav:"id"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// CreateSession writes the session and its entry in the operator's list in
// one transaction; conflict when the session's id exists.
func (s *Store) CreateSession(ctx context.Context, sess notify.Session) error {
	pk, sk := sessionKey(sess.ID)
	ttl := ttlSeconds(sess.ExpiresAt)
	item, err := attributevalue.MarshalMap(sessionItem{
		PK: pk, SK: sk, Kind: "session", ID: sess.ID, WorkspaceID: sess.WorkspaceID, OperatorID: sess.OperatorID,
		CSRF: sess.CSRF, CreatedAt: sess.CreatedAt, ExpiresAt: ttl, ExpiresNs: nanos(sess.ExpiresAt),
	})
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	entryPK, entrySK := operatorSessionKey(sess.WorkspaceID, sess.OperatorID, sess.ID)
	entry, err := attributevalue.MarshalMap(operatorSessionItem{PK: entryPK, SK: entrySK, Kind: "operatorsession", ID: sess.ID, ExpiresAt: ttl})
	if err != nil {
		return fmt.Errorf("encode session entry: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: entry}},
	}})
	if transactionConditionFailed(err) {
		return notify.Errorf(notify.CodeConflict, "session exists")
	}
	if err != nil {
		return fmt.Errorf("put session of operator %s: %w", sess.OperatorID, err)
	}
	return nil
}

// GetSession reads the session and then checks that its operator exists
// (a GetItem of its key alone): a deleted operator's sessions are over even
// before DeleteOperator has deleted them.
func (s *Store) GetSession(ctx context.Context, id string) (notify.Session, error) {
	pk, sk := sessionKey(id)
	var it sessionItem
	if err := s.getItem(ctx, pk, sk, &it, "session", ""); err != nil {
		return notify.Session{}, err
	}
	if it.ExpiresNs <= nanos(s.now()) {
		return notify.Session{}, notify.Errorf(notify.CodeNotFound, "session not found")
	}
	opPK, opSK := operatorKey(it.WorkspaceID, it.OperatorID)
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.table),
		Key:                  key(opPK, opSK),
		ProjectionExpression: aws.String("pk"),
		ConsistentRead:       aws.Bool(true),
	})
	if err != nil {
		return notify.Session{}, fmt.Errorf("get operator %s of a session: %w", it.OperatorID, err)
	}
	if res.Item == nil {
		return notify.Session{}, notify.Errorf(notify.CodeNotFound, "session not found")
	}
	return it.session(), nil
}

// DeleteSession deletes the session, then its entry in the operator's
// list (named by the deleted item). An entry left behind by a crash
// between the two is harmless: ending the operator's sessions deletes a
// missing session without complaint, and TTL removes the entry.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	pk, sk := sessionKey(id)
	res, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:    aws.String(s.table),
		Key:          key(pk, sk),
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if len(res.Attributes) == 0 {
		return nil
	}
	var it sessionItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return fmt.Errorf("decode deleted session: %w", err)
	}
	entryPK, entrySK := operatorSessionKey(it.WorkspaceID, it.OperatorID, id)
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(entryPK, entrySK)}); err != nil {
		return fmt.Errorf("delete session entry of operator %s: %w", it.OperatorID, err)
	}
	return nil
}

// DeleteOperatorSessions queries the operator's list of sessions a page at
// a time and deletes, with BatchWriteItem, the page's sessions and then
// their entries: an interrupted call leaves entries whose sessions may be
// gone, never a session no entry lists, so a second call finishes it.
func (s *Store) DeleteOperatorSessions(ctx context.Context, workspaceID, operatorID string) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(operatorSessionsPK(workspaceID, operatorID)), ":prefix": str(sessionPrefix),
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list sessions of operator %s: %w", operatorID, err)
		}
		var entries []operatorSessionItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &entries); err != nil {
			return fmt.Errorf("decode sessions of operator %s: %w", operatorID, err)
		}
		sessions := make([]types.WriteRequest, 0, len(entries))
		listed := make([]types.WriteRequest, 0, len(entries))
		for _, e := range entries {
			pk, sk := sessionKey(e.ID)
			sessions = append(sessions, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(pk, sk)}})
			listed = append(listed, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key(e.PK, e.SK)}})
		}
		if err := s.batchWrite(ctx, sessions); err != nil {
			return fmt.Errorf("delete sessions of operator %s: %w", operatorID, err)
		}
		if err := s.batchWrite(ctx, listed); err != nil {
			return fmt.Errorf("delete session entries of operator %s: %w", operatorID, err)
		}
	}
	return nil
}

// operatorTokenItem is one one-time link. Its kind is tokenKind (kind names
// the item's entity, as on every item); expiresAt is the TTL and expiresNs
// the exact expiry.
type operatorTokenItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Kind        string    `dynamodbav:"kind"`
	Hash        string    `dynamodbav:"hash"`
	WorkspaceID string    `dynamodbav:"ws"`
	TokenKind   string    `dynamodbav:"tokenKind"`
	Email       string    `dynamodbav:"email,omitempty"`
	Role        string    `dynamodbav:"role,omitempty"`
	OperatorID  string    `dynamodbav:"operatorId,omitempty"`
	CreatedBy   string    `dynamodbav:"createdBy,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	ExpiresAt   int64     `dynamodbav:"expiresAt"`
	ExpiresNs   int64     `dynamodbav:"expiresNs"`
}

func (it operatorTokenItem) token() notify.OperatorToken {
	return notify.OperatorToken{
		Hash: it.Hash, WorkspaceID: it.WorkspaceID, Kind: notify.TokenKind(it.TokenKind), Email: it.Email,
		Role: notify.Role(it.Role), OperatorID: it.OperatorID, CreatedBy: it.CreatedBy,
		CreatedAt: it.CreatedAt, ExpiresAt: fromNanos(it.ExpiresNs),
	}
}

// CreateOperatorToken puts the link on condition that its hash is new.
func (s *Store) CreateOperatorToken(ctx context.Context, t notify.OperatorToken) error {
	pk, sk := operatorTokenKey(t.Hash)
	item, err := attributevalue.MarshalMap(operatorTokenItem{
		PK: pk, SK: sk, Kind: "operatortoken", Hash: t.Hash, WorkspaceID: t.WorkspaceID, TokenKind: string(t.Kind),
		Email: t.Email, Role: string(t.Role), OperatorID: t.OperatorID, CreatedBy: t.CreatedBy,
		CreatedAt: t.CreatedAt, ExpiresAt: ttlSeconds(t.ExpiresAt), ExpiresNs: nanos(t.ExpiresAt),
	})
	if err != nil {
		return fmt.Errorf("encode one-time link: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if _, ok := conditionFailed(err); ok {
		return notify.Errorf(notify.CodeConflict, "one-time link exists")
	}
	if err != nil {
		return fmt.Errorf("put one-time link: %w", err)
	}
	return nil
}

// UseOperatorToken is one DeleteItem on condition that the link exists and
// has not expired at now, returning what it deleted: of two uses, DynamoDB
// lets exactly one delete it. An expired link stays until TTL removes it.
func (s *Store) UseOperatorToken(ctx context.Context, hash string, now time.Time) (notify.OperatorToken, error) {
	pk, sk := operatorTokenKey(hash)
	res, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(pk, sk),
		ConditionExpression:       aws.String("attribute_exists(pk) AND expiresNs > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": num(nanos(now))},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if _, ok := conditionFailed(err); ok {
		return notify.OperatorToken{}, notify.Errorf(notify.CodeNotFound, "one-time link not found")
	}
	if err != nil {
		return notify.OperatorToken{}, fmt.Errorf("use one-time link: %w", err)
	}
	var it operatorTokenItem
	if err := attributevalue.UnmarshalMap(res.Attributes, &it); err != nil {
		return notify.OperatorToken{}, fmt.Errorf("decode used one-time link: %w", err)
	}
	return it.token(), nil
}

// PeekOperatorToken reads the link with a strongly consistent read, so a
// link just used is not shown.
func (s *Store) PeekOperatorToken(ctx context.Context, hash string, now time.Time) (notify.OperatorToken, error) {
	pk, sk := operatorTokenKey(hash)
	var it operatorTokenItem
	if err := s.getItem(ctx, pk, sk, &it, "one-time link", ""); err != nil {
		return notify.OperatorToken{}, err
	}
	if it.ExpiresNs <= nanos(now) {
		return notify.OperatorToken{}, notify.Errorf(notify.CodeNotFound, "one-time link not found")
	}
	return it.token(), nil
}

// auditItem is one entry of the audit trail. It has no TTL: the trail is
// kept (DESIGN.md).
type auditItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Kind        string    `dynamodbav:"kind"`
	ID          string    `dynamodbav:"id"`
	WorkspaceID string    `dynamodbav:"ws"`
	At          time.Time `dynamodbav:"at"`
	Actor       string    `dynamodbav:"actor"`
	Action      string    `dynamodbav:"action"`
	Target      string    `dynamodbav:"target,omitempty"`
	Detail      string    `dynamodbav:"detail,omitempty"`
	Count       int       `dynamodbav:"count,omitempty"`
}

func (it auditItem) entry() notify.AuditEntry {
	return notify.AuditEntry{
		ID: it.ID, WorkspaceID: it.WorkspaceID, At: it.At, Actor: it.Actor, Action: it.Action,
		Target: it.Target, Detail: it.Detail, Count: it.Count,
	}
}

func decodeAudit(item map[string]types.AttributeValue) (notify.AuditEntry, error) {
	var it auditItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return notify.AuditEntry{}, fmt.Errorf("decode audit entry: %w", err)
	}
	return it.entry(), nil
}

// AppendAudit puts the entry on condition that its id is new.
func (s *Store) AppendAudit(ctx context.Context, e notify.AuditEntry) error {
	pk, sk := auditKey(e.WorkspaceID, e.ID)
	item, err := attributevalue.MarshalMap(auditItem{
		PK: pk, SK: sk, Kind: "audit", ID: e.ID, WorkspaceID: e.WorkspaceID, At: e.At,
		Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Count: e.Count,
	})
	if err != nil {
		return fmt.Errorf("encode audit entry %s: %w", e.ID, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.table),
		Item:                item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if _, ok := conditionFailed(err); ok {
		return notify.Errorf(notify.CodeConflict, "audit entry %q exists", e.ID)
	}
	if err != nil {
		return fmt.Errorf("put audit entry %s: %w", e.ID, err)
	}
	return nil
}

// ListAudit queries the workspace's audit partition newest first (ULID
// sort keys); the cursor is the last id returned, from which the next page
// starts exclusively.
func (s *Store) ListAudit(ctx context.Context, workspaceID string, p notify.Page) ([]notify.AuditEntry, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	pk := auditPK(workspaceID)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
	}
	if c.After != "" {
		in.ExclusiveStartKey = key(auditKey(workspaceID, c.After))
	}
	entries, next, err := queryPage(ctx, s.db, in, pageSize(p), decodeAudit, func(e notify.AuditEntry) string { return e.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list audit of %s: %w", workspaceID, err)
	}
	return entries, next, nil
}
