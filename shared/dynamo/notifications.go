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
	"github.com/heraldhq/herald/shared/search"
)

// notificationItem is a notification without its content and its counts.
// An UpdateItem costs the size of the whole item, not of what changed, and
// this item carries title, body and variables (tens of KB at most) and is
// copied to the history index; so the content (a template, possibly tens of
// KB of email HTML) is a separate item in the same partition, and so are the
// counters (countsItem), which a send updates once per chunk or batch. This
// item changes only when the status does.
type notificationItem struct {
	PK              string            `dynamodbav:"pk"`
	SK              string            `dynamodbav:"sk"`
	GSI1PK          string            `dynamodbav:"gsi1pk"`
	GSI1SK          string            `dynamodbav:"gsi1sk"`
	Kind            string            `dynamodbav:"kind"`
	WorkspaceID     string            `dynamodbav:"ws"`
	ID              string            `dynamodbav:"id"`
	Channel         string            `dynamodbav:"channel"`
	Fallback        []string          `dynamodbav:"fallback,omitempty"`
	Source          string            `dynamodbav:"source"`
	Origin          string            `dynamodbav:"origin,omitempty"`
	RecipientType   string            `dynamodbav:"recipientType,omitempty"`
	Title           string            `dynamodbav:"title,omitempty"`
	Body            string            `dynamodbav:"body"`
	Route           string            `dynamodbav:"route"`
	TemplateID      string            `dynamodbav:"templateId,omitempty"`
	TemplateVersion int               `dynamodbav:"templateVersion,omitempty"`
	Variables       map[string]string `dynamodbav:"variables,omitempty"`
	Category        string            `dynamodbav:"category,omitempty"`
	Urgent          bool              `dynamodbav:"urgent"`
	IgnorePresence  bool              `dynamodbav:"ignorePresence"`
	ScheduleAt      *time.Time        `dynamodbav:"scheduleAt,omitempty"`
	AudienceKind    string            `dynamodbav:"audienceKind"`
	AudienceCount   int               `dynamodbav:"audienceCount"`
	AudienceUpload  string            `dynamodbav:"audienceUpload,omitempty"`
	Status          string            `dynamodbav:"status"`
	CreatedAt       time.Time         `dynamodbav:"createdAt"`
	UpdatedAt       time.Time         `dynamodbav:"updatedAt"`
	CreatedBy       string            `dynamodbav:"createdBy"`
}

func newNotificationItem(n notify.Notification) notificationItem {
	pk, sk := notificationKey(n.WorkspaceID, n.ID)
	gpk, gsk := historyIndexKey(n.WorkspaceID, n.ID)
	it := notificationItem{
		PK: pk, SK: sk, GSI1PK: gpk, GSI1SK: gsk, Kind: "notification",
		WorkspaceID: n.WorkspaceID, ID: n.ID, Channel: string(n.Channel), Source: string(n.Source), Origin: string(n.Origin),
		RecipientType: n.RecipientType, Title: n.Title, Body: n.Body, Route: n.Route,
		TemplateID: n.TemplateID, TemplateVersion: n.TemplateVersion, Variables: n.Variables,
		Category: n.Category, Urgent: n.Urgent, IgnorePresence: n.IgnorePresence,
		ScheduleAt: n.ScheduleAt, AudienceKind: n.Audience.Kind, AudienceCount: n.Audience.Count, AudienceUpload: n.Audience.UploadID,
		Status: string(n.Status), CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, CreatedBy: n.CreatedBy,
	}
	for _, c := range n.Fallback {
		it.Fallback = append(it.Fallback, string(c))
	}
	return it
}

func (it notificationItem) notification() notify.Notification {
	n := notify.Notification{
		WorkspaceID: it.WorkspaceID, ID: it.ID, Channel: notify.Channel(it.Channel),
		Source: notify.Source(it.Source), Origin: notify.Origin(it.Origin), RecipientType: it.RecipientType, Title: it.Title,
		Body: it.Body, Route: it.Route, TemplateID: it.TemplateID, TemplateVersion: it.TemplateVersion,
		Variables: it.Variables, Category: it.Category, Urgent: it.Urgent,
		IgnorePresence: it.IgnorePresence, ScheduleAt: it.ScheduleAt,
		Audience:  notify.Audience{Kind: it.AudienceKind, Count: it.AudienceCount, UploadID: it.AudienceUpload},
		Status:    notify.Status(it.Status),
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, CreatedBy: it.CreatedBy,
	}
	for _, c := range it.Fallback {
		n.Fallback = append(n.Fallback, notify.Channel(c))
	}
	return n
}

// decodeNotification decodes a notification item alone: no content, zero
// counts (see notificationParts).
func decodeNotification(item map[string]types.AttributeValue) (notify.Notification, error) {
	var it notificationItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return notify.Notification{}, fmt.Errorf("decode notification: %w", err)
	}
	return it.notification(), nil
}

// countsItem is a notification's counters, alone in a small item (about 200
// bytes: one write unit) with no index key, so that a counter update costs
// the same whatever the size of the title, body and variables. UpdatedAt is
// when the counts last moved; a notification's updatedAt is the later of its
// own and this one, so the history shows when a send last progressed.
type countsItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	Total     int64     `dynamodbav:"cTotal"`
	Queued    int64     `dynamodbav:"cQueued"`
	Sent      int64     `dynamodbav:"cSent"`
	Delivered int64     `dynamodbav:"cDelivered"`
	Read      int64     `dynamodbav:"cRead"`
	Failed    int64     `dynamodbav:"cFailed"`
	Skipped   int64     `dynamodbav:"cSkipped"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

func newCountsItem(n notify.Notification) countsItem {
	pk, sk := notificationCountsKey(n.WorkspaceID, n.ID)
	c := n.Counts
	return countsItem{
		PK: pk, SK: sk, Total: c.Total, Queued: c.Queued, Sent: c.Sent, Delivered: c.Delivered,
		Read: c.Read, Failed: c.Failed, Skipped: c.Skipped, UpdatedAt: n.UpdatedAt,
	}
}

func (it countsItem) counts() notify.Counts {
	return notify.Counts{
		Total: it.Total, Queued: it.Queued, Sent: it.Sent, Delivered: it.Delivered,
		Read: it.Read, Failed: it.Failed, Skipped: it.Skipped,
	}
}

// notificationParts are the items of one notification's partition as read:
// the notification item (head), its content and its counts.
type notificationParts struct {
	head, content, counts map[string]types.AttributeValue
}

// add files item under its sort key; other items are ignored.
func (p *notificationParts) add(item map[string]types.AttributeValue) {
	sk, _ := item[attrSK].(*types.AttributeValueMemberS)
	if sk == nil {
		return
	}
	switch sk.Value {
	case skNotification:
		p.head = item
	case skContent:
		p.content = item
	case skCounts:
		p.counts = item
	}
}

// notification joins the parts; without a head the notification is missing.
func (p notificationParts) notification(id string) (notify.Notification, error) {
	if p.head == nil {
		return notify.Notification{}, notify.NotFound("notification", id)
	}
	n, err := decodeNotification(p.head)
	if err != nil {
		return notify.Notification{}, err
	}
	if err := p.complete(&n); err != nil {
		return notify.Notification{}, err
	}
	return n, nil
}

// complete sets n's content and counts from the parts, and its updatedAt to
// the later of the head's and the counts'. The counts item is written in the
// same transaction as the head and is never deleted, so it is missing only
// from a partial read; there are no notifications from before the counts
// had their own item (there was no deployed data).
func (p notificationParts) complete(n *notify.Notification) error {
	if p.counts != nil {
		var c countsItem
		if err := attributevalue.UnmarshalMap(p.counts, &c); err != nil {
			return fmt.Errorf("decode counts of notification %s: %w", n.ID, err)
		}
		n.Counts = c.counts()
		if c.UpdatedAt.After(n.UpdatedAt) {
			n.UpdatedAt = c.UpdatedAt
		}
	}
	if p.content != nil {
		t, err := decodeTemplate(p.content)
		if err != nil {
			return fmt.Errorf("decode content of notification %s: %w", n.ID, err)
		}
		n.Content = t
	}
	return nil
}

// CreateNotification writes the search terms first (unconditional, cheap
// BatchWriteItem, harmless if the rest fails: a search re-checks every
// candidate's text), then the notification, its content and its counts in
// one transaction that fails with conflict when the id exists.
func (s *Store) CreateNotification(ctx context.Context, n notify.Notification) error {
	var terms []types.WriteRequest
	for _, term := range search.Terms(n.Title, n.Body) {
		pk, sk := termKey(n.WorkspaceID, term, n.ID)
		terms = append(terms, types.WriteRequest{PutRequest: &types.PutRequest{Item: key(pk, sk)}})
	}
	if err := s.batchWrite(ctx, terms); err != nil {
		return fmt.Errorf("index notification %s: %w", n.ID, err)
	}

	head, err := attributevalue.MarshalMap(newNotificationItem(n))
	if err != nil {
		return fmt.Errorf("encode notification %s: %w", n.ID, err)
	}
	content, err := newTemplateItem(n.Content, "content")
	if err != nil {
		return err
	}
	content.PK, content.SK = notificationContentKey(n.WorkspaceID, n.ID)
	contentAV, err := attributevalue.MarshalMap(content)
	if err != nil {
		return fmt.Errorf("encode content of notification %s: %w", n.ID, err)
	}
	counts, err := attributevalue.MarshalMap(newCountsItem(n))
	if err != nil {
		return fmt.Errorf("encode counts of notification %s: %w", n.ID, err)
	}
	put := func(item map[string]types.AttributeValue) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{
			TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		put(head), put(contentAV), put(counts),
	}})
	if transactionConditionFailed(err) {
		return notify.Errorf(notify.CodeConflict, "notification %q exists", n.ID)
	}
	if err != nil {
		return fmt.Errorf("put notification %s: %w", n.ID, err)
	}
	return nil
}

// GetNotification reads the notification, its content and its counts with
// one Query of their partition.
func (s *Store) GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(notificationPK(workspaceID, id))},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return notify.Notification{}, fmt.Errorf("get notification %s: %w", id, err)
	}
	var p notificationParts
	for _, item := range res.Items {
		p.add(item)
	}
	return p.notification(id)
}

// SetNotificationStatus moves the status with a conditional UpdateItem of
// the notification item; the item as it was on failure tells a missing
// notification from a status that is not one of from.
func (s *Store) SetNotificationStatus(ctx context.Context, workspaceID, id string, to notify.Status, from ...notify.Status) (notify.Notification, error) {
	pk, sk := notificationKey(workspaceID, id)
	cond := "attribute_exists(pk)"
	values := map[string]types.AttributeValue{":to": str(string(to)), ":now": s.stamp()}
	if len(from) > 0 {
		cond += " AND #status IN ("
		for i, f := range from {
			if i > 0 {
				cond += ", "
			}
			ph := fmt.Sprintf(":from%d", i)
			cond += ph
			values[ph] = str(string(f))
		}
		cond += ")"
	}
	return s.updateNotification(ctx, workspaceID, id, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String("SET #status = :to, updatedAt = :now"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
	})
}

func statusOf(item map[string]types.AttributeValue) string {
	if s, ok := item["status"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return "unknown"
}

// AddNotificationCounts adds delta with one UpdateItem (ADD) of the counts
// item: one write unit, whatever the size of the notification. The counts
// item exists exactly when the notification does (one transaction creates
// both), so its existence is the condition.
func (s *Store) AddNotificationCounts(ctx context.Context, workspaceID, id string, delta notify.Counts) (notify.Notification, error) {
	pk, sk := notificationCountsKey(workspaceID, id)
	return s.updateNotification(ctx, workspaceID, id, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       key(pk, sk),
		UpdateExpression:          aws.String(addCounts),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: s.countValues(delta),
	})
}

// addCounts adds the count values of countValues to the counters of the
// counts item and stamps it.
const addCounts = "ADD cTotal :total, cQueued :queued, cSent :sent, cDelivered :delivered, " +
	"cRead :read, cFailed :failed, cSkipped :skipped SET updatedAt = :now"

func (s *Store) countValues(d notify.Counts) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":now":   s.stamp(),
		":total": num(d.Total), ":queued": num(d.Queued), ":sent": num(d.Sent),
		":delivered": num(d.Delivered), ":read": num(d.Read), ":failed": num(d.Failed),
		":skipped": num(d.Skipped),
	}
}

// updateNotification runs a conditional UpdateItem (ALL_NEW) of one item of
// a notification's partition (the notification item or its counts) while
// reading the other two with one BatchGetItem, and joins the three. The
// content never changes after creation; the notification item and the
// counts move independently of each other anyway, so reading them alongside
// loses nothing. A failed condition on a missing item is not_found, on an
// existing one conflict.
func (s *Store) updateNotification(ctx context.Context, workspaceID, id string, in *dynamodb.UpdateItemInput) (notify.Notification, error) {
	in.ReturnValues = types.ReturnValueAllNew
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	updated := in.Key[attrSK].(*types.AttributeValueMemberS).Value
	var others []map[string]types.AttributeValue
	for _, sk := range []string{skNotification, skContent, skCounts} {
		if sk != updated {
			others = append(others, key(notificationPK(workspaceID, id), sk))
		}
	}
	var read []map[string]types.AttributeValue
	readErr := make(chan error, 1)
	go func() {
		var err error
		read, err = s.batchGet(ctx, others)
		readErr <- err
	}()
	res, err := s.db.UpdateItem(ctx, in)
	rerr := <-readErr
	if old, ok := conditionFailed(err); ok {
		if len(old) == 0 {
			return notify.Notification{}, notify.NotFound("notification", id)
		}
		return notify.Notification{}, notify.Errorf(notify.CodeConflict, "notification %q is %s", id, statusOf(old))
	}
	if err != nil {
		return notify.Notification{}, fmt.Errorf("update notification %s: %w", id, err)
	}
	if rerr != nil {
		return notify.Notification{}, fmt.Errorf("read notification %s: %w", id, rerr)
	}
	var p notificationParts
	for _, item := range read {
		p.add(item)
	}
	p.add(res.Attributes)
	return p.notification(id)
}

// withContentsAndCounts reads the contents and counts of ns (a page of a
// list) with one BatchGetItem (two keys a notification, 100 a request: a
// page of 50 is one request) and sets them. The reads are strongly consistent: a listed
// notification's head was found, so its transaction committed and its
// counts item is there to read.
func (s *Store) withContentsAndCounts(ctx context.Context, workspaceID string, ns []notify.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	keys := make([]map[string]types.AttributeValue, 0, 2*len(ns))
	for _, n := range ns {
		keys = append(keys, key(notificationContentKey(workspaceID, n.ID)), key(notificationCountsKey(workspaceID, n.ID)))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return fmt.Errorf("read contents and counts of notifications: %w", err)
	}
	byPK := make(map[string]*notificationParts, len(ns))
	for _, item := range items {
		pk := item[attrPK].(*types.AttributeValueMemberS).Value
		p := byPK[pk]
		if p == nil {
			p = &notificationParts{}
			byPK[pk] = p
		}
		p.add(item)
	}
	for i := range ns {
		if p := byPK[notificationPK(workspaceID, ns[i].ID)]; p != nil {
			if err := p.complete(&ns[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// searchBudget bounds the candidates one search page reads (each costs an
// item read of the notification) before it returns a cursor.
const searchBudget = 1000

// ListNotifications answers the history newest first. Without words it reads
// the history index; with words it reads the inverted index of one word (the
// longest: long words are rare) and checks each candidate for the other words
// and the filters. From/To become bounds on the ULID sort keys, so neither
// path reads outside the date range. The cursor is the last id examined.
//
// The contents and counts of the page are read last, with one BatchGetItem,
// for the notifications returned only (the index and the search candidates
// hold notification items, which carry neither).
func (s *Store) ListNotifications(ctx context.Context, workspaceID string, q notify.NotificationQuery, p notify.Page) ([]notify.Notification, string, error) {
	ns, next, err := s.listNotifications(ctx, workspaceID, q, p)
	if err != nil {
		return nil, "", err
	}
	if err := s.withContentsAndCounts(ctx, workspaceID, ns); err != nil {
		return nil, "", fmt.Errorf("list notifications of %s: %w", workspaceID, err)
	}
	return ns, next, nil
}

func (s *Store) listNotifications(ctx context.Context, workspaceID string, q notify.NotificationQuery, p notify.Page) ([]notify.Notification, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageSize(p)
	terms := search.Terms(q.Q)
	filtered := q.Channel != "" || q.RecipientType != "" || q.Source != "" || q.Origin != "" || q.Status != "" || len(terms) > 1

	lo, hi := "", c.After
	if !q.From.IsZero() {
		lo = ulidTimePrefix(q.From)
	}
	if !q.To.IsZero() {
		if to := ulidTimePrefix(q.To); hi == "" || to < hi {
			hi = to
		}
	}

	in := &dynamodb.QueryInput{TableName: aws.String(s.table), ScanIndexForward: aws.Bool(false)}
	var pkName, skName string
	var budget int
	if len(terms) == 0 {
		in.IndexName = aws.String(gsi1Name)
		pkName, skName = attrGSI1PK, attrGSI1SK
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": str(historyPK(workspaceID))}
		budget = readBudget
	} else {
		pkName, skName = attrPK, attrSK
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": str(termPK(workspaceID, longest(terms)))}
		in.ProjectionExpression = aws.String(attrSK)
		budget = searchBudget
	}

	found := []notify.Notification{}
	examined := 0
	for {
		if examined >= budget {
			return found, cursor{After: hi}.encode(), nil
		}
		cond := pkName + " = :pk"
		delete(in.ExpressionAttributeValues, ":lo")
		delete(in.ExpressionAttributeValues, ":hi")
		// hi (To or the cursor) is exclusive, lo (From) inclusive. A key
		// condition has one range operator, and BETWEEN is inclusive at both
		// ends: with both bounds, ask for one more item than needed and skip
		// the one equal to hi.
		upper := hi
		extra := int32(0)
		switch {
		case lo != "" && hi != "":
			cond += " AND " + skName + " BETWEEN :lo AND :hi"
			in.ExpressionAttributeValues[":lo"], in.ExpressionAttributeValues[":hi"] = str(lo), str(hi)
			extra = 1
		case hi != "":
			cond += " AND " + skName + " < :hi"
			in.ExpressionAttributeValues[":hi"] = str(hi)
		case lo != "":
			cond += " AND " + skName + " >= :lo"
			in.ExpressionAttributeValues[":lo"] = str(lo)
		}
		in.KeyConditionExpression = aws.String(cond)
		in.Limit = aws.Int32(int32(queryLimit(limit-len(found), filtered)))
		if len(terms) > 0 {
			in.Limit = aws.Int32(min(*in.Limit, batchGetSize-1))
		}
		*in.Limit += extra
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list notifications of %s: %w", workspaceID, err)
		}
		before := hi
		var page []notify.Notification
		if len(terms) == 0 {
			for _, item := range res.Items {
				n, err := decodeNotification(item)
				if err != nil {
					return nil, "", err
				}
				page = append(page, n)
			}
		} else if page, err = s.candidates(ctx, workspaceID, res.Items); err != nil {
			return nil, "", err
		}
		for _, n := range page {
			if n.ID == upper {
				continue
			}
			examined++
			hi = n.ID
			if matchNotification(n, q, terms) {
				found = append(found, n)
				if len(found) == limit {
					return found, cursor{After: hi}.encode(), nil
				}
			}
		}
		if res.LastEvaluatedKey == nil {
			return found, "", nil
		}
		if len(terms) > 0 && len(res.Items) > 0 {
			// Candidates whose notification is missing were skipped above;
			// resume after the last term read, not the last one found.
			hi = res.Items[len(res.Items)-1][attrSK].(*types.AttributeValueMemberS).Value
		}
		// A page that moved no bound (only the skipped upper item) must
		// still make progress: continue from where DynamoDB stopped.
		in.ExclusiveStartKey = nil
		if hi == before {
			in.ExclusiveStartKey = res.LastEvaluatedKey
		}
	}
}

// candidates reads the notifications a page of term items points to, in the
// page's order, skipping ids whose notification is missing.
func (s *Store) candidates(ctx context.Context, workspaceID string, termItems []map[string]types.AttributeValue) ([]notify.Notification, error) {
	ids := make([]string, 0, len(termItems))
	keys := make([]map[string]types.AttributeValue, 0, len(termItems))
	for _, item := range termItems {
		id := item[attrSK].(*types.AttributeValueMemberS).Value
		ids = append(ids, id)
		keys = append(keys, key(notificationKey(workspaceID, id)))
	}
	items, err := s.batchGetEventual(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("read search candidates: %w", err)
	}
	byID := make(map[string]notify.Notification, len(items))
	for _, item := range items {
		n, err := decodeNotification(item)
		if err != nil {
			return nil, err
		}
		byID[n.ID] = n
	}
	out := make([]notify.Notification, 0, len(ids))
	for _, id := range ids {
		if n, ok := byID[id]; ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// longest picks the term whose index a search reads.
func longest(terms []string) string {
	best := terms[0]
	for _, t := range terms[1:] {
		if len(t) > len(best) {
			best = t
		}
	}
	return best
}

func matchNotification(n notify.Notification, q notify.NotificationQuery, terms []string) bool {
	if q.Channel != "" && n.Channel != q.Channel {
		return false
	}
	if q.RecipientType != "" && n.RecipientType != q.RecipientType {
		return false
	}
	if q.Source != "" && n.Source != q.Source {
		return false
	}
	if q.Origin != "" && n.Origin != q.Origin {
		return false
	}
	if q.Status != "" && n.Status != q.Status {
		return false
	}
	return search.Matches(terms, n.Title, n.Body)
}

// stamp is the current time as the notification and counts items store
// updatedAt.
func (s *Store) stamp() types.AttributeValue {
	return str(s.now().UTC().Format(time.RFC3339Nano))
}
