package dynamo

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// campaignItem is one campaign. The send it runs is kept as the operator's
// JSON text in one string attribute, byte for byte: nothing queries inside
// it. The campaign's kind is campaignKind, since kind names the item's
// entity as on every item of the table; it is also the GSI1 partition
// (DESIGN.md).
type campaignItem struct {
	PK             string     `dynamodbav:"pk"`
	SK             string     `dynamodbav:"sk"`
	GSI1PK         string     `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK         string     `dynamodbav:"gsi1sk,omitempty"`
	Kind           string     `dynamodbav:"kind"`
	WorkspaceID    string     `dynamodbav:"ws"`
	ID             string     `dynamodbav:"id"`
	CampaignKind   string     `dynamodbav:"campaignKind"`
	Name           string     `dynamodbav:"name"`
	Schedule       string     `dynamodbav:"schedule"`
	Timezone       string     `dynamodbav:"timezone,omitempty"`
	Notification   string     `dynamodbav:"notification,omitempty"`
	NotificationID string     `dynamodbav:"notificationId,omitempty"`
	Status         string     `dynamodbav:"status"`
	SyncState      string     `dynamodbav:"syncState,omitempty"`
	SyncError      string     `dynamodbav:"syncError,omitempty"`
	SyncAt         time.Time  `dynamodbav:"syncAt"`
	LastRunAt      *time.Time `dynamodbav:"lastRunAt,omitempty"`
	CreatedBy      string     `dynamodbav:"createdBy,omitempty"`
	CreatedAt      time.Time  `dynamodbav:"createdAt"`
	UpdatedAt      time.Time  `dynamodbav:"updatedAt"`
	Version        int64      `dynamodbav:"version"`
}

func newCampaignItem(c notify.Campaign) campaignItem {
	pk, sk := campaignKey(c.WorkspaceID, c.ID)
	it := campaignItem{
		PK: pk, SK: sk, Kind: "campaign", WorkspaceID: c.WorkspaceID, ID: c.ID,
		CampaignKind: c.Kind, Name: c.Name, Schedule: c.Schedule, Timezone: c.Timezone,
		Notification: string(c.Notification), NotificationID: c.NotificationID, Status: string(c.Status),
		SyncState: string(c.Sync.State), SyncError: c.Sync.Error, SyncAt: c.Sync.At,
		LastRunAt: c.LastRunAt, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Version: c.Version,
	}
	// A campaign of no kind is listed only with every kind: it needs no
	// index entry (the index is sparse).
	if c.Kind != "" {
		it.GSI1PK, it.GSI1SK = campaignKindIndexKey(c.WorkspaceID, c.Kind, c.ID)
	}
	return it
}

func (it campaignItem) campaign() notify.Campaign {
	c := notify.Campaign{
		WorkspaceID: it.WorkspaceID, ID: it.ID, Kind: it.CampaignKind, Name: it.Name,
		Schedule: it.Schedule, Timezone: it.Timezone, NotificationID: it.NotificationID,
		Status:    notify.CampaignStatus(it.Status),
		Sync:      notify.ScheduleSync{State: notify.SyncState(it.SyncState), Error: it.SyncError, At: it.SyncAt},
		LastRunAt: it.LastRunAt, CreatedBy: it.CreatedBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
		Version: it.Version,
	}
	if it.Notification != "" {
		c.Notification = json.RawMessage(it.Notification)
	}
	return c
}

func decodeCampaign(item map[string]types.AttributeValue) (notify.Campaign, error) {
	var it campaignItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return notify.Campaign{}, fmt.Errorf("decode campaign: %w", err)
	}
	return it.campaign(), nil
}

// CreateCampaign stores c at Version 1, its first write; conflict when the
// id exists.
func (s *Store) CreateCampaign(ctx context.Context, c notify.Campaign) error {
	c.Version = 1
	return s.putVersioned(ctx, newCampaignItem(c), 0, "campaign", c.ID)
}

// GetCampaign reads one campaign with a strongly consistent read, as
// optimistic concurrency needs.
func (s *Store) GetCampaign(ctx context.Context, workspaceID, id string) (notify.Campaign, error) {
	pk, sk := campaignKey(workspaceID, id)
	var it campaignItem
	if err := s.getItem(ctx, pk, sk, &it, "campaign", id); err != nil {
		return notify.Campaign{}, err
	}
	return it.campaign(), nil
}

// UpdateCampaign applies fn to the stored campaign and writes the result if
// the campaign's version has not moved, retrying with a fresh read when it
// has. An error from fn is returned as it is, and nothing is written.
func (s *Store) UpdateCampaign(ctx context.Context, workspaceID, id string, fn func(*notify.Campaign) error) (notify.Campaign, error) {
	return updateVersioned(ctx,
		func() (notify.Campaign, error) { return s.GetCampaign(ctx, workspaceID, id) },
		fn,
		func(cur notify.Campaign, next *notify.Campaign) int64 {
			next.WorkspaceID, next.ID, next.Version = workspaceID, id, cur.Version+1
			return cur.Version
		},
		func(next notify.Campaign, prev int64) error {
			return s.putVersioned(ctx, newCampaignItem(next), prev, "campaign", id)
		})
}

// DeleteCampaign deletes the campaign's runs, a Query page at a time with
// BatchWriteItem, and then the campaign item. The campaign goes last so
// that an interrupted delete leaves a campaign that is still listed and
// read as before, short of some runs, and that DeleteCampaign can finish;
// deleting it first would leave runs nothing can reach or delete (a second
// DeleteCampaign would say not_found).
func (s *Store) DeleteCampaign(ctx context.Context, workspaceID, id string) error {
	pk, sk := campaignKey(workspaceID, id)
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:            aws.String(s.table),
		Key:                  key(pk, sk),
		ProjectionExpression: aws.String("pk"),
		ConsistentRead:       aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("delete campaign %s: %w", id, err)
	}
	if res.Item == nil {
		return notify.NotFound("campaign", id)
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(runPK(workspaceID, id)), ":prefix": str(runPrefix)},
		ProjectionExpression:      aws.String("pk, sk"),
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list runs of campaign %s: %w", id, err)
		}
		deletes := make([]types.WriteRequest, 0, len(page.Items))
		for _, item := range page.Items {
			deletes = append(deletes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: item}})
		}
		if err := s.batchWrite(ctx, deletes); err != nil {
			return fmt.Errorf("delete runs of campaign %s: %w", id, err)
		}
	}
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(pk, sk),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if _, ok := conditionFailed(err); ok {
		return notify.NotFound("campaign", id) // deleted by a concurrent call
	}
	if err != nil {
		return fmt.Errorf("delete campaign %s: %w", id, err)
	}
	return nil
}

// ListCampaigns lists newest first (ULID ids sort by creation). Every kind
// is a Query of the workspace's partition, strongly consistent; one kind is
// a Query of that kind's GSI1 partition, which reads nothing of the other
// kinds but, as every index, may miss a write of the last moment. The
// cursor is the last id returned, from which the next page starts
// exclusively.
func (s *Store) ListCampaigns(ctx context.Context, workspaceID, kind string, p notify.Page) ([]notify.Campaign, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageSize(p)
	var in *dynamodb.QueryInput
	if kind == "" {
		pk, _ := campaignKey(workspaceID, "")
		in = s.newestFirst(pk, campaignPrefix, c.After)
	} else {
		in = &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(gsi1Name),
			KeyConditionExpression:    aws.String("gsi1pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(campaignKindPK(workspaceID, kind))},
			ScanIndexForward:          aws.Bool(false),
		}
		if c.After != "" {
			in.KeyConditionExpression = aws.String("gsi1pk = :pk AND gsi1sk < :after")
			in.ExpressionAttributeValues[":after"] = str(c.After)
		}
	}
	campaigns, next, err := queryPage(ctx, s.db, in, limit, decodeCampaign, func(c notify.Campaign) string { return c.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list campaigns of %s: %w", workspaceID, err)
	}
	return campaigns, next, nil
}

// runItem is one run of a campaign: small (a few hundred bytes), one write
// unit a write.
type runItem struct {
	PK             string     `dynamodbav:"pk"`
	SK             string     `dynamodbav:"sk"`
	Kind           string     `dynamodbav:"kind"`
	WorkspaceID    string     `dynamodbav:"ws"`
	CampaignID     string     `dynamodbav:"campaignId"`
	ScheduledAt    time.Time  `dynamodbav:"scheduledAt"`
	Status         string     `dynamodbav:"status"`
	NotificationID string     `dynamodbav:"notificationId,omitempty"`
	Recipients     int        `dynamodbav:"recipients"`
	Error          string     `dynamodbav:"error,omitempty"`
	Attempts       int        `dynamodbav:"attempts"`
	StartedAt      time.Time  `dynamodbav:"startedAt"`
	FinishedAt     *time.Time `dynamodbav:"finishedAt,omitempty"`
	// ExpiresAt (TTL, epoch seconds) is set once the run is finished: a
	// rate(1 minute) campaign would otherwise pile up half a million runs a
	// year, which its delete would have to remove one by one.
	ExpiresAt int64 `dynamodbav:"expiresAt,omitempty"`
}

// RunRetention is how long a finished run is kept in the history. The
// scheduler never calls again for a time that old, so the dedupe it
// provides is not needed by then.
const RunRetention = 180 * 24 * time.Hour

func runExpiry(finished *time.Time) int64 {
	if finished == nil {
		return 0
	}
	return finished.Add(RunRetention).Unix()
}

func newRunItem(r notify.CampaignRun) runItem {
	pk, sk := runKey(r.WorkspaceID, r.CampaignID, r.ScheduledAt)
	return runItem{
		PK: pk, SK: sk, Kind: "campaignrun", WorkspaceID: r.WorkspaceID, CampaignID: r.CampaignID,
		ScheduledAt: r.ScheduledAt, Status: string(r.Status), NotificationID: r.NotificationID,
		Recipients: r.Recipients, Error: r.Error, Attempts: r.Attempts,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, ExpiresAt: runExpiry(r.FinishedAt),
	}
}

func (it runItem) run() notify.CampaignRun {
	return notify.CampaignRun{
		WorkspaceID: it.WorkspaceID, CampaignID: it.CampaignID, ScheduledAt: it.ScheduledAt,
		Status: notify.RunStatus(it.Status), NotificationID: it.NotificationID,
		Recipients: it.Recipients, Error: it.Error, Attempts: it.Attempts,
		StartedAt: it.StartedAt, FinishedAt: it.FinishedAt,
	}
}

func decodeRun(item map[string]types.AttributeValue) (notify.CampaignRun, error) {
	var it runItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return notify.CampaignRun{}, fmt.Errorf("decode campaign run: %w", err)
	}
	return it.run(), nil
}

// runName names a run in errors.
func runName(r notify.CampaignRun) string {
	return r.CampaignID + "@" + runTime(r.ScheduledAt)
}

// StartRun puts the run on condition that none exists. A failed condition
// returns the stored run in the same request (ALL_OLD); a run still
// running then gets ADD attempts, conditioned on it still running, which
// returns the run as it ends up (ALL_NEW), or as it was if it finished in
// between. Concurrent starts of one scheduled time: one put wins, every
// other call adds its attempt. A run deleted between two of these requests
// (by DeleteCampaign) starts again from the put.
func (s *Store) StartRun(ctx context.Context, r notify.CampaignRun) (notify.CampaignRun, bool, error) {
	r.Attempts = 1
	item, err := attributevalue.MarshalMap(newRunItem(r))
	if err != nil {
		return notify.CampaignRun{}, false, fmt.Errorf("encode run %s: %w", runName(r), err)
	}
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                           aws.String(s.table),
			Item:                                item,
			ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		old, exists := conditionFailed(err)
		if !exists {
			if err != nil {
				return notify.CampaignRun{}, false, fmt.Errorf("put run %s: %w", runName(r), err)
			}
			return r, true, nil
		}
		if old == nil { // an endpoint that does not return the item
			if old, err = s.getRun(ctx, r); err != nil {
				return notify.CampaignRun{}, false, err
			}
			if old == nil {
				continue
			}
		}
		stored, err := decodeRun(old)
		if err != nil {
			return notify.CampaignRun{}, false, err
		}
		if stored.Status != notify.RunRunning {
			return stored, false, nil
		}
		res, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           aws.String(s.table),
			Key:                                 key(runKey(r.WorkspaceID, r.CampaignID, r.ScheduledAt)),
			UpdateExpression:                    aws.String("ADD #attempts :one"),
			ConditionExpression:                 aws.String("#status = :running"),
			ExpressionAttributeNames:            map[string]string{"#attempts": "attempts", "#status": "status"},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":one": num(1), ":running": str(string(notify.RunRunning))},
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if old, ok := conditionFailed(err); ok {
			if old == nil {
				if old, err = s.getRun(ctx, r); err != nil {
					return notify.CampaignRun{}, false, err
				}
			}
			if old == nil {
				continue // deleted in between
			}
			stored, err := decodeRun(old) // finished in between: no retry to count
			return stored, false, err
		}
		if err != nil {
			return notify.CampaignRun{}, false, fmt.Errorf("add attempt to run %s: %w", runName(r), err)
		}
		stored, err = decodeRun(res.Attributes)
		return stored, false, err
	}
	return notify.CampaignRun{}, false, notify.Errorf(notify.CodeConflict, "run %s was deleted and started concurrently %d times", runName(r), maxUpdateAttempts)
}

// getRun reads a run's item with a strongly consistent read; nil when there
// is none.
func (s *Store) getRun(ctx context.Context, r notify.CampaignRun) (map[string]types.AttributeValue, error) {
	res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key(runKey(r.WorkspaceID, r.CampaignID, r.ScheduledAt)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", runName(r), err)
	}
	return res.Item, nil
}

// FinishRun sets the outcome's attributes (removing the empty ones, so a
// run finished again holds only the last outcome) on condition that the
// run exists; Attempts and StartedAt stay as StartRun left them.
func (s *Store) FinishRun(ctx context.Context, r notify.CampaignRun) error {
	values := map[string]types.AttributeValue{
		":status": str(string(r.Status)), ":recipients": num(int64(r.Recipients)),
	}
	set := "SET #status = :status, #recipients = :recipients"
	var remove []string
	for _, f := range []struct {
		name, placeholder string
		value             types.AttributeValue
		empty             bool
	}{
		{"notificationId", ":notificationId", str(r.NotificationID), r.NotificationID == ""},
		{"error", ":error", str(r.Error), r.Error == ""},
		{"finishedAt", ":finishedAt", finishedAtValue(r.FinishedAt), r.FinishedAt == nil},
		{"expiresAt", ":expiresAt", num(runExpiry(r.FinishedAt)), r.FinishedAt == nil},
	} {
		if f.empty {
			remove = append(remove, "#"+f.name)
			continue
		}
		set += fmt.Sprintf(", #%s = %s", f.name, f.placeholder)
		values[f.placeholder] = f.value
	}
	expr := set
	for i, name := range remove {
		if i == 0 {
			expr += " REMOVE "
		} else {
			expr += ", "
		}
		expr += name
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key(runKey(r.WorkspaceID, r.CampaignID, r.ScheduledAt)),
		UpdateExpression:    aws.String(expr),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeNames: map[string]string{
			"#status": "status", "#recipients": "recipients", "#notificationId": "notificationId",
			"#error": "error", "#finishedAt": "finishedAt", "#expiresAt": attrExpiresAt,
		},
		ExpressionAttributeValues: values,
	})
	if _, ok := conditionFailed(err); ok {
		return notify.NotFound("campaign run", runName(r))
	}
	if err != nil {
		return fmt.Errorf("finish run %s: %w", runName(r), err)
	}
	return nil
}

// finishedAtValue encodes a finish time as the item's finishedAt is
// encoded; nil (no finish time) encodes as nothing.
func finishedAtValue(t *time.Time) types.AttributeValue {
	if t == nil {
		return nil
	}
	v, _ := attributevalue.Marshal(*t) // a time always encodes
	return v
}

// ListRuns queries the campaign's runs partition newest scheduled time
// first; the cursor is the last run's time as its sort key spells it, from
// which the next page starts exclusively.
func (s *Store) ListRuns(ctx context.Context, workspaceID, campaignID string, p notify.Page) ([]notify.CampaignRun, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageSize(p)
	in := s.newestFirst(runPK(workspaceID, campaignID), runPrefix, c.After)
	runs, next, err := queryPage(ctx, s.db, in, limit, decodeRun, func(r notify.CampaignRun) string { return runTime(r.ScheduledAt) })
	if err != nil {
		return nil, "", fmt.Errorf("list runs of campaign %s: %w", campaignID, err)
	}
	return runs, next, nil
}

// newestFirst is a strongly consistent Query of the items of partition pk
// whose sort keys start with prefix, last sort key first: the lists whose
// cursor is the last sort key without its prefix (after; "" from the top).
func (s *Store) newestFirst(pk, prefix, after string) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":prefix": str(prefix),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	}
	if after != "" {
		in.ExclusiveStartKey = key(pk, prefix+after)
	}
	return in
}
