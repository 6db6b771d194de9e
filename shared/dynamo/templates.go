package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// templateItem is a template's latest version (with index keys), one kept
// version (without), or a notification's content (without).
type templateItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	GSI1PK      string    `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK      string    `dynamodbav:"gsi1sk,omitempty"`
	Kind        string    `dynamodbav:"kind"`
	WorkspaceID string    `dynamodbav:"ws"`
	ID          string    `dynamodbav:"id"`
	Name        string    `dynamodbav:"name,omitempty"`
	Channel     string    `dynamodbav:"channel"`
	Title       string    `dynamodbav:"title,omitempty"`
	Body        string    `dynamodbav:"body"`
	Route       string    `dynamodbav:"route,omitempty"`
	Push        string    `dynamodbav:"push,omitempty"`
	Email       string    `dynamodbav:"email,omitempty"`
	WhatsApp    string    `dynamodbav:"whatsapp,omitempty"`
	Variations  string    `dynamodbav:"variations,omitempty"`
	Labels      []string  `dynamodbav:"labels,omitempty"`
	Status      string    `dynamodbav:"status,omitempty"`
	Version     int       `dynamodbav:"version"`
	Variables   []string  `dynamodbav:"variables"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
	UpdatedAt   time.Time `dynamodbav:"updatedAt"`
}

func newTemplateItem(t notify.Template, kind string) (templateItem, error) {
	it := templateItem{
		Kind: kind, WorkspaceID: t.WorkspaceID, ID: t.ID, Name: t.Name, Channel: string(t.Channel),
		Title: t.Title, Body: t.Body, Route: t.Route, Labels: t.Labels, Status: string(t.Status), Version: t.Version,
		Variables: t.Variables, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
	for _, f := range []struct {
		dst *string
		v   any
	}{{&it.Push, t.Push}, {&it.Email, t.Email}, {&it.WhatsApp, t.WhatsApp}, {&it.Variations, t.Variations}} {
		s, err := toJSON(f.v)
		if err != nil {
			return it, fmt.Errorf("encode template %s: %w", t.ID, err)
		}
		*f.dst = s
	}
	return it, nil
}

func (it templateItem) template() (notify.Template, error) {
	t := notify.Template{
		WorkspaceID: it.WorkspaceID, ID: it.ID, Name: it.Name, Channel: notify.Channel(it.Channel),
		Title: it.Title, Body: it.Body, Route: it.Route, Labels: it.Labels, Status: notify.TemplateStatus(it.Status), Version: it.Version,
		Variables: it.Variables, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
	}
	for _, f := range []struct {
		src string
		dst any
	}{{it.Push, &t.Push}, {it.Email, &t.Email}, {it.WhatsApp, &t.WhatsApp}, {it.Variations, &t.Variations}} {
		if err := fromJSON(f.src, f.dst); err != nil {
			return t, fmt.Errorf("decode template %s: %w", it.ID, err)
		}
	}
	return t, nil
}

func decodeTemplate(item map[string]types.AttributeValue) (notify.Template, error) {
	var it templateItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return notify.Template{}, fmt.Errorf("decode template: %w", err)
	}
	return it.template()
}

// SaveTemplate writes the latest item and the version item in one
// transaction: the latest item's condition (absent for version 1, previous
// version otherwise) guards both, so versions are never skipped or lost.
func (s *Store) SaveTemplate(ctx context.Context, t notify.Template) error {
	latest, err := newTemplateItem(t, "template")
	if err != nil {
		return err
	}
	latest.PK, latest.SK = templateKey(t.WorkspaceID, t.ID)
	latest.GSI1PK, latest.GSI1SK = templateIndexKey(t.WorkspaceID, t.ID, t.CreatedAt)
	version := latest
	version.Kind = "templateVersion"
	version.PK, version.SK = templateVersionKey(t.WorkspaceID, t.ID, t.Version)
	version.GSI1PK, version.GSI1SK = "", ""

	latestAV, err := attributevalue.MarshalMap(latest)
	if err != nil {
		return fmt.Errorf("encode template %s: %w", t.ID, err)
	}
	versionAV, err := attributevalue.MarshalMap(version)
	if err != nil {
		return fmt.Errorf("encode template %s: %w", t.ID, err)
	}
	put := &types.Put{TableName: aws.String(s.table), Item: latestAV}
	switch {
	case t.Version == 1:
		put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	case t.Version > 1:
		put.ConditionExpression = aws.String("version = :prev")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(int64(t.Version - 1))}
	default:
		return notify.Errorf(notify.CodeConflict, "template %q: version %d", t.ID, t.Version)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: put},
		{Put: &types.Put{
			TableName:           aws.String(s.table),
			Item:                versionAV,
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}},
	}})
	if transactionConditionFailed(err) {
		return notify.Errorf(notify.CodeConflict, "template %q is not at version %d", t.ID, t.Version-1)
	}
	if err != nil {
		return fmt.Errorf("put template %s: %w", t.ID, err)
	}
	return nil
}

// GetTemplate reads a template's latest version.
func (s *Store) GetTemplate(ctx context.Context, workspaceID, id string) (notify.Template, error) {
	pk, sk := templateKey(workspaceID, id)
	var it templateItem
	if err := s.getItem(ctx, pk, sk, &it, "template", id); err != nil {
		return notify.Template{}, err
	}
	return it.template()
}

// GetTemplateVersion reads one kept version of a template.
func (s *Store) GetTemplateVersion(ctx context.Context, workspaceID, id string, version int) (notify.Template, error) {
	pk, sk := templateVersionKey(workspaceID, id, version)
	var it templateItem
	if err := s.getItem(ctx, pk, sk, &it, "template version", fmt.Sprintf("%s@%d", id, version)); err != nil {
		return notify.Template{}, err
	}
	return it.template()
}

// ListTemplates reads the template index newest first (by creation time)
// and filters in memory; the cursor is the last index sort key examined.
func (s *Store) ListTemplates(ctx context.Context, workspaceID string, f notify.TemplateFilter, p notify.Page) ([]notify.Template, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageSize(p)
	filtered := f.Channel != "" || f.Label != ""
	pk := templateIndexPK(workspaceID)
	templates := []notify.Template{}
	examined := 0
	after := c.After
	for {
		if examined >= readBudget {
			return templates, cursor{After: after}.encode(), nil
		}
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(gsi1Name),
			KeyConditionExpression:    aws.String("gsi1pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
			ScanIndexForward:          aws.Bool(false),
			Limit:                     aws.Int32(int32(queryLimit(limit-len(templates), filtered))),
		}
		if after != "" {
			in.KeyConditionExpression = aws.String("gsi1pk = :pk AND gsi1sk < :after")
			in.ExpressionAttributeValues[":after"] = str(after)
		}
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("list templates of %s: %w", workspaceID, err)
		}
		for _, item := range res.Items {
			var it templateItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, "", fmt.Errorf("decode template: %w", err)
			}
			examined++
			after = it.GSI1SK
			t, err := it.template()
			if err != nil {
				return nil, "", err
			}
			if (f.Channel != "" && t.Channel != f.Channel) || (f.Label != "" && !slices.Contains(t.Labels, f.Label)) {
				continue
			}
			templates = append(templates, t)
			if len(templates) == limit {
				return templates, cursor{After: after}.encode(), nil
			}
		}
		if res.LastEvaluatedKey == nil {
			return templates, "", nil
		}
	}
}

// DeleteTemplate deletes the latest item and every version item.
func (s *Store) DeleteTemplate(ctx context.Context, workspaceID, id string) error {
	pk := templatePK(workspaceID, id)
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ProjectionExpression:      aws.String("pk, sk"),
		ConsistentRead:            aws.Bool(true),
	})
	var deletes []types.WriteRequest
	for p.HasMorePages() {
		res, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list versions of template %s: %w", id, err)
		}
		for _, item := range res.Items {
			deletes = append(deletes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: item}})
		}
	}
	if len(deletes) == 0 {
		return notify.NotFound("template", id)
	}
	// The latest item (sk "T") sorts before the versions ("V#…"); delete it
	// last so an interrupted delete leaves a template that can be deleted again.
	deletes = append(deletes[1:], deletes[0])
	if err := s.batchWrite(ctx, deletes); err != nil {
		return fmt.Errorf("delete template %s: %w", id, err)
	}
	return nil
}
