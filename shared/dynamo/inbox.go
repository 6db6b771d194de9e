package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// The users' in-app inboxes: a partition per user (keys.go, DESIGN.md).
// The state item keeps the version and the unread counts by day of
// arrival, so a poll is one GetItem of a small item whatever the inbox
// holds; every write that moves a count writes the state item in the same
// transaction, so the counts are exact.

// inboxItem is one message. Times are Unix nanoseconds, 0 (absent) when
// unset, so that a list's filter is attribute_exists on them; mv is the
// message's own version, the condition of a change.
type inboxItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Kind      string `dynamodbav:"kind"`
	ID        string `dynamodbav:"id"`
	N         string `dynamodbav:"n"`
	Title     string `dynamodbav:"title,omitempty"`
	Body      string `dynamodbav:"body,omitempty"`
	Route     string `dynamodbav:"route,omitempty"`
	Category  string `dynamodbav:"cat,omitempty"`
	Icon      string `dynamodbav:"icon,omitempty"`
	Image     string `dynamodbav:"image,omitempty"`
	Buttons   string `dynamodbav:"buttons,omitempty"`
	Created   int64  `dynamodbav:"t"`
	Read      int64  `dynamodbav:"rd,omitempty"`
	Seen      int64  `dynamodbav:"sn,omitempty"`
	Archived  int64  `dynamodbav:"ar,omitempty"`
	Version   int64  `dynamodbav:"mv"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// inboxNoteItem says which message a notification left.
type inboxNoteItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Kind      string `dynamodbav:"kind"`
	ID        string `dynamodbav:"id"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

func newInboxItem(m notify.InboxMessage, version int64) (inboxItem, error) {
	pk, sk := inboxMessageKey(m.WorkspaceID, m.UserID, m.ID)
	it := inboxItem{PK: pk, SK: sk, Kind: "inbox", ID: m.ID, N: m.NotificationID,
		Title: m.Title, Body: m.Body, Route: m.Route, Category: m.Category, Icon: m.Icon, Image: m.Image,
		Created: nanos(m.CreatedAt), Read: nanosOf(m.ReadAt), Seen: nanosOf(m.SeenAt), Archived: nanosOf(m.ArchivedAt),
		Version: version, ExpiresAt: ttlSeconds(notify.InboxExpiry(m.CreatedAt))}
	var err error
	if it.Buttons, err = toJSON(m.Buttons); err != nil {
		return it, fmt.Errorf("encode buttons of inbox message %s: %w", m.ID, err)
	}
	return it, nil
}

func (it inboxItem) message(ws, user string) (notify.InboxMessage, error) {
	m := notify.InboxMessage{WorkspaceID: ws, UserID: user, ID: it.ID, NotificationID: it.N,
		Title: it.Title, Body: it.Body, Route: it.Route, Category: it.Category, Icon: it.Icon, Image: it.Image,
		CreatedAt: fromNanos(it.Created), ReadAt: timeOf(it.Read), SeenAt: timeOf(it.Seen), ArchivedAt: timeOf(it.Archived)}
	if err := fromJSON(it.Buttons, &m.Buttons); err != nil {
		return m, fmt.Errorf("decode buttons of inbox message %s: %w", it.ID, err)
	}
	return m, nil
}

func nanosOf(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return nanos(*t)
}

func timeOf(n int64) *time.Time {
	if n == 0 {
		return nil
	}
	t := fromNanos(n)
	return &t
}

// unreadOne is 1 for an unread message, 0 otherwise: what it adds to its
// day's count.
func unreadOne(m notify.InboxMessage) int64 {
	if m.Unread() {
		return 1
	}
	return 0
}

// inboxState is the state item as read: its attributes, the unread counts
// of every day among them.
type inboxState struct {
	state notify.InboxState
	// stale are the unread count attributes of days whose messages have
	// expired: the next put removes them, so the item stays small.
	stale []string
}

// readInboxState reads the state item and sums the unread counts of the
// days not expired at now. Consistent reads the latest write.
func (s *Store) readInboxState(ctx context.Context, ws, user string, now time.Time, consistent bool) (inboxState, error) {
	pk, sk := inboxStateKey(ws, user)
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return inboxState{}, fmt.Errorf("get inbox state of %s: %w", user, err)
	}
	var out inboxState
	horizon := notify.InboxHorizon(now)
	for name, v := range res.Item {
		n, ok := v.(*types.AttributeValueMemberN)
		var value int64
		if ok {
			if value, err = strconv.ParseInt(n.Value, 10, 64); err != nil {
				return inboxState{}, fmt.Errorf("decode inbox state of %s: %s: %w", user, name, err)
			}
		}
		switch {
		case name == "v":
			out.state.Version = value
		case name == "updatedAt":
			out.state.UpdatedAt = fromNanos(value)
		case name == "latest":
			if sv, ok := v.(*types.AttributeValueMemberS); ok {
				out.state.Latest = sv.Value
			}
		case strings.HasPrefix(name, inboxUnreadPrefix):
			day, err := time.Parse("20060102", strings.TrimPrefix(name, inboxUnreadPrefix))
			if err != nil {
				continue // not a day's count
			}
			if day.Before(horizon) {
				out.stale = append(out.stale, name)
				continue
			}
			out.state.Unread += int(value)
		}
	}
	return out, nil
}

// InboxState reads the state item, strongly consistent (1 read unit): a
// client polls with the ETag made of it.
func (s *Store) InboxState(ctx context.Context, workspaceID, userID string) (notify.InboxState, error) {
	st, err := s.readInboxState(ctx, workspaceID, userID, s.now(), true)
	return st.state, err
}

// stateUpdate is the state item's part of a transaction: the version moves
// on, the days' unread counts by delta, and at now is when.
func (s *Store) stateUpdate(ws, user string, delta map[string]int64, now time.Time, extra string, values map[string]types.AttributeValue) *types.Update {
	pk, sk := inboxStateKey(ws, user)
	names := map[string]string{"#v": "v", "#k": "kind", "#u": "updatedAt"}
	if values == nil {
		values = map[string]types.AttributeValue{}
	}
	values[":one"] = num(1)
	values[":now"] = num(nanos(now))
	add := []string{"#v :one"}
	i := 0
	for attr, d := range delta {
		if d == 0 {
			continue
		}
		names[fmt.Sprintf("#d%d", i)] = attr
		values[fmt.Sprintf(":d%d", i)] = num(d)
		add = append(add, fmt.Sprintf("#d%d :d%d", i, i))
		i++
	}
	expr := "ADD " + strings.Join(add, ", ") + " SET #k = :kind, #u = :now" + extra
	values[":kind"] = str("inboxstate")
	return &types.Update{TableName: aws.String(s.table), Key: key(pk, sk), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values}
}

// PutInbox writes the note, the message and the state in one transaction,
// the note and the message on attribute_not_exists: a second message of
// the same notification cancels it, and the one kept is read back. The
// state item is read first (eventually consistent, half a unit) to remove
// the counts of expired days.
func (s *Store) PutInbox(ctx context.Context, m notify.InboxMessage) (notify.InboxMessage, bool, error) {
	ws, user := m.WorkspaceID, m.UserID
	now := s.now()
	st, err := s.readInboxState(ctx, ws, user, now, false)
	if err != nil {
		return notify.InboxMessage{}, false, err
	}
	it, err := newInboxItem(m, 1)
	if err != nil {
		return notify.InboxMessage{}, false, err
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return notify.InboxMessage{}, false, fmt.Errorf("encode inbox message %s: %w", m.ID, err)
	}
	notePK, noteSK := inboxNoteKey(ws, user, m.NotificationID)
	note, err := attributevalue.MarshalMap(inboxNoteItem{PK: notePK, SK: noteSK, Kind: "inboxnote", ID: m.ID, ExpiresAt: it.ExpiresAt})
	if err != nil {
		return notify.InboxMessage{}, false, fmt.Errorf("encode inbox note %s: %w", m.NotificationID, err)
	}
	day := inboxUnreadAttr(m.CreatedAt)
	extra := ", #l = :id"
	values := map[string]types.AttributeValue{":id": str(m.ID)}
	var remove []string
	for _, name := range st.stale {
		if name != day {
			remove = append(remove, name)
		}
	}
	upd := s.stateUpdate(ws, user, map[string]int64{day: unreadOne(m)}, now, extra, values)
	upd.ExpressionAttributeNames["#l"] = "latest"
	if len(remove) > 0 {
		for i, name := range remove {
			upd.ExpressionAttributeNames[fmt.Sprintf("#x%d", i)] = name
			remove[i] = fmt.Sprintf("#x%d", i)
		}
		upd.UpdateExpression = aws.String(*upd.UpdateExpression + " REMOVE " + strings.Join(remove, ", "))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: note, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: upd},
	}})
	if transactionConditionFailed(err) {
		kept, err := s.notedMessage(ctx, ws, user, m.NotificationID)
		return kept, false, err
	}
	if err != nil {
		return notify.InboxMessage{}, false, fmt.Errorf("put inbox message of %s: %w", m.NotificationID, err)
	}
	return m, true, nil
}

// notedMessage reads the message a notification left in the inbox.
func (s *Store) notedMessage(ctx context.Context, ws, user, notificationID string) (notify.InboxMessage, error) {
	pk, sk := inboxNoteKey(ws, user, notificationID)
	var note inboxNoteItem
	if err := s.getItem(ctx, pk, sk, &note, "inbox note", notificationID); err != nil {
		if notify.IsCode(err, notify.CodeNotFound) {
			// The condition failed on the message, not the note: an id
			// used twice.
			return notify.InboxMessage{}, notify.Errorf(notify.CodeConflict, "inbox message of notification %s: its id is taken", notificationID)
		}
		return notify.InboxMessage{}, err
	}
	it, err := s.getInboxItem(ctx, ws, user, note.ID)
	if err != nil {
		return notify.InboxMessage{}, fmt.Errorf("inbox message of notification %s: %w", notificationID, err)
	}
	return it.message(ws, user)
}

func (s *Store) getInboxItem(ctx context.Context, ws, user, id string) (inboxItem, error) {
	pk, sk := inboxMessageKey(ws, user, id)
	var it inboxItem
	err := s.getItem(ctx, pk, sk, &it, "inbox message", id)
	return it, err
}

// inboxFilters are the lists' filters: a list reads the user's messages
// not expired and keeps those of its status.
var inboxFilters = map[notify.InboxStatus]string{
	notify.InboxUnread:   "attribute_not_exists(rd) AND attribute_not_exists(ar)",
	notify.InboxAll:      "attribute_not_exists(ar)",
	notify.InboxArchived: "attribute_exists(ar)",
}

// inboxQuery is the Query of a user's messages of status that arrived at
// or after the horizon of now, newest first.
func (s *Store) inboxQuery(ws, user string, status notify.InboxStatus, now time.Time) *dynamodb.QueryInput {
	lo, hi := inboxMessageRange(notify.InboxHorizon(now))
	return &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		FilterExpression:       aws.String(inboxFilters[status]),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(inboxPK(ws, user)), ":lo": str(lo), ":hi": str(hi),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	}
}

// ListInbox queries the user's partition newest first between the
// horizon and the cursor, with the status as a filter: a user's inbox is
// 90 days of messages, so a filter reads at most that. Each request asks
// for twice what the page still needs; the cursor is the last id listed.
func (s *Store) ListInbox(ctx context.Context, workspaceID, userID string, status notify.InboxStatus, p notify.Page) ([]notify.InboxMessage, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	if !status.Valid() {
		return nil, "", notify.Invalid(notify.FieldError{Field: "status", Problem: "must be unread, all or archived"})
	}
	in := s.inboxQuery(workspaceID, userID, status, s.now())
	if c.After != "" {
		start := inboxMessagePrefix + c.After
		if lo := in.ExpressionAttributeValues[":lo"].(*types.AttributeValueMemberS).Value; start <= lo {
			return []notify.InboxMessage{}, "", nil // the rest has expired
		}
		in.ExclusiveStartKey = key(inboxPK(workspaceID, userID), start)
	}
	limit := pageSize(p)
	out := []notify.InboxMessage{}
	for {
		in.Limit = aws.Int32(int32(min(2*(limit-len(out))+1, 1000)))
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list inbox of %s: %w", userID, err)
		}
		for _, raw := range res.Items {
			var it inboxItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, "", fmt.Errorf("decode inbox message of %s: %w", userID, err)
			}
			m, err := it.message(workspaceID, userID)
			if err != nil {
				return nil, "", err
			}
			out = append(out, m)
			if len(out) == limit {
				return out, cursor{After: m.ID}.encode(), nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return out, "", nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// UpdateInbox reads the message (consistent), makes the change and writes
// it back on its version in one transaction with the state item (the
// version and, when unread-ness changed, the count of the message's day);
// a lost race reads again.
func (s *Store) UpdateInbox(ctx context.Context, workspaceID, userID, id string, c notify.InboxChange) (notify.InboxMessage, error) {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt == maxUpdateAttempts {
				return notify.InboxMessage{}, notify.Errorf(notify.CodeConflict, "inbox message %s changed %d times while being changed", id, attempt)
			}
			if err := backoff(ctx, attempt); err != nil {
				return notify.InboxMessage{}, err
			}
		}
		now := s.now()
		old, err := s.getInboxItem(ctx, workspaceID, userID, id)
		if err != nil {
			return notify.InboxMessage{}, err
		}
		was, err := old.message(workspaceID, userID)
		if err != nil {
			return notify.InboxMessage{}, err
		}
		if was.CreatedAt.Before(notify.InboxHorizon(now)) {
			return notify.InboxMessage{}, notify.NotFound("inbox message", id)
		}
		m := c.Apply(was)
		it, err := newInboxItem(m, old.Version+1)
		if err != nil {
			return notify.InboxMessage{}, err
		}
		item, err := attributevalue.MarshalMap(it)
		if err != nil {
			return notify.InboxMessage{}, fmt.Errorf("encode inbox message %s: %w", id, err)
		}
		delta := map[string]int64{inboxUnreadAttr(m.CreatedAt): unreadOne(m) - unreadOne(was)}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("mv = :prev"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":prev": num(old.Version)}}},
			{Update: s.stateUpdate(workspaceID, userID, delta, now, "", nil)},
		}})
		if transactionConditionFailed(err) {
			continue
		}
		if err != nil {
			return notify.InboxMessage{}, fmt.Errorf("update inbox message %s: %w", id, err)
		}
		return m, nil
	}
}

// markChunk is how many messages one transaction of MarkInboxRead marks,
// beside the state item: 25 items a transaction, which every DynamoDB
// (Local included) takes.
const markChunk = 24

// MarkInboxRead queries the unread messages and marks them in
// transactions of markChunk, each message on the condition that it is
// still unread, with the state item's counts. A transaction a concurrent
// change cancelled is left to the next round, which queries what is still
// unread.
func (s *Store) MarkInboxRead(ctx context.Context, workspaceID, userID string, at time.Time) ([]notify.InboxMessage, error) {
	yes := true
	read := notify.InboxChange{Read: &yes, At: at}
	marked := []notify.InboxMessage{}
	for round := 0; ; round++ {
		if round == maxUpdateAttempts {
			return marked, notify.Errorf(notify.CodeConflict, "the inbox of %s changed %d times while being marked read", userID, round)
		}
		now := s.now()
		var unread []notify.InboxMessage
		p := dynamodb.NewQueryPaginator(s.db, s.inboxQuery(workspaceID, userID, notify.InboxUnread, now))
		for p.HasMorePages() {
			res, err := p.NextPage(ctx)
			if err != nil {
				return marked, fmt.Errorf("list unread inbox of %s: %w", userID, err)
			}
			for _, raw := range res.Items {
				var it inboxItem
				if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
					return marked, fmt.Errorf("decode inbox message of %s: %w", userID, err)
				}
				m, err := it.message(workspaceID, userID)
				if err != nil {
					return marked, err
				}
				unread = append(unread, m)
			}
		}
		if len(unread) == 0 {
			return marked, nil
		}
		raced := false
		for start := 0; start < len(unread); start += markChunk {
			chunk := unread[start:min(start+markChunk, len(unread))]
			items := make([]types.TransactWriteItem, 0, len(chunk)+1)
			delta := map[string]int64{}
			for _, m := range chunk {
				pk, sk := inboxMessageKey(workspaceID, userID, m.ID)
				items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: key(pk, sk),
					UpdateExpression:          aws.String("SET rd = :at, sn = if_not_exists(sn, :at) ADD mv :one"),
					ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(rd) AND attribute_not_exists(ar)"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":at": num(nanos(at)), ":one": num(1)}}})
				delta[inboxUnreadAttr(m.CreatedAt)]--
			}
			items = append(items, types.TransactWriteItem{Update: s.stateUpdate(workspaceID, userID, delta, now, "", nil)})
			_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			if transactionConditionFailed(err) {
				raced = true
				continue
			}
			if err != nil {
				return marked, fmt.Errorf("mark inbox of %s read: %w", userID, err)
			}
			for _, m := range chunk {
				marked = append(marked, read.Apply(m))
			}
		}
		if !raced {
			return marked, nil
		}
	}
}

// deleteInbox deletes every item of a user's inbox partition, a Query
// page at a time (keys only).
func (s *Store) deleteInbox(ctx context.Context, ws, user string) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(inboxPK(ws, user))},
		ProjectionExpression:      aws.String("pk, sk"),
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list inbox of %s: %w", user, err)
		}
		reqs := make([]types.WriteRequest, len(res.Items))
		for i, k := range res.Items {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		if err := s.batchWrite(ctx, reqs); err != nil {
			return fmt.Errorf("delete inbox of %s: %w", user, err)
		}
	}
	return nil
}
