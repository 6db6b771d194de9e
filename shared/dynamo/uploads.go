package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/heraldhq/herald/shared/notify"
)

// uploadItem is one spreadsheet upload. The row errors are a JSON document
// in one attribute: nothing queries inside them, and the caller keeps at
// most notify.MaxUploadErrors, which bounds the item (DESIGN.md). The URL's
// expiry is urlExpiresAt, not expiresAt: that name is the table's TTL and
// would delete the upload when its URL expires.
type uploadItem struct {
	PK             string    `dynamodbav:"pk"`
	SK             string    `dynamodbav:"sk"`
	Kind           string    `dynamodbav:"kind"`
	WorkspaceID    string    `dynamodbav:"ws"`
	ID             string    `dynamodbav:"id"`
	Purpose        string    `dynamodbav:"purpose"`
	TemplateID     string    `dynamodbav:"templateId,omitempty"`
	Channel        string    `dynamodbav:"channel,omitempty"`
	Filename       string    `dynamodbav:"filename"`
	DefaultRegion  string    `dynamodbav:"defaultRegion,omitempty"`
	Category       string    `dynamodbav:"category,omitempty"`
	Status         string    `dynamodbav:"status"`
	RowsTotal      int       `dynamodbav:"rowsTotal"`
	RowsValid      int       `dynamodbav:"rowsValid"`
	RowsInvalid    int       `dynamodbav:"rowsInvalid"`
	Errors         string    `dynamodbav:"errors,omitempty"`
	NotificationID string    `dynamodbav:"notificationId,omitempty"`
	ObjectKey      string    `dynamodbav:"objectKey,omitempty"`
	ETag           string    `dynamodbav:"etag,omitempty"`
	Size           int64     `dynamodbav:"size,omitempty"`
	Version        int64     `dynamodbav:"version"`
	CreatedBy      string    `dynamodbav:"createdBy,omitempty"`
	Origin         string    `dynamodbav:"origin,omitempty"`
	CreatedAt      time.Time `dynamodbav:"createdAt"`
	UpdatedAt      time.Time `dynamodbav:"updatedAt"`
	URLExpiresAt   time.Time `dynamodbav:"urlExpiresAt"`
}

func newUploadItem(u notify.Upload) (uploadItem, error) {
	pk, sk := uploadKey(u.WorkspaceID, u.ID)
	it := uploadItem{
		PK: pk, SK: sk, Kind: "upload", WorkspaceID: u.WorkspaceID, ID: u.ID,
		Purpose: u.Purpose, TemplateID: u.TemplateID, Channel: string(u.Channel), Filename: u.Filename,
		DefaultRegion: u.DefaultRegion, Category: u.Category, Status: string(u.Status),
		RowsTotal: u.Rows.Total, RowsValid: u.Rows.Valid, RowsInvalid: u.Rows.Invalid,
		NotificationID: u.NotificationID, ObjectKey: u.ObjectKey, ETag: u.ETag, Size: u.Size,
		Version: u.Version, CreatedBy: u.CreatedBy, Origin: string(u.Origin),
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, URLExpiresAt: u.ExpiresAt,
	}
	var err error
	if it.Errors, err = toJSON(u.Errors); err != nil {
		return it, fmt.Errorf("encode errors of upload %s: %w", u.ID, err)
	}
	return it, nil
}

func (it uploadItem) upload() (notify.Upload, error) {
	u := notify.Upload{
		WorkspaceID: it.WorkspaceID, ID: it.ID, Purpose: it.Purpose, TemplateID: it.TemplateID,
		Channel: notify.Channel(it.Channel), Filename: it.Filename, DefaultRegion: it.DefaultRegion,
		Category: it.Category, Status: notify.UploadStatus(it.Status),
		Rows:           notify.UploadRows{Total: it.RowsTotal, Valid: it.RowsValid, Invalid: it.RowsInvalid},
		NotificationID: it.NotificationID, ObjectKey: it.ObjectKey, ETag: it.ETag, Size: it.Size,
		Version: it.Version, CreatedBy: it.CreatedBy, Origin: notify.Origin(it.Origin),
		CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, ExpiresAt: it.URLExpiresAt,
	}
	if err := fromJSON(it.Errors, &u.Errors); err != nil {
		return u, fmt.Errorf("decode errors of upload %s: %w", it.ID, err)
	}
	return u, nil
}

// putUploadVersion writes u if the stored version is still prev (0: the
// upload must not exist); a lost race is a conflict.
func (s *Store) putUploadVersion(ctx context.Context, u notify.Upload, prev int64) error {
	it, err := newUploadItem(u)
	if err != nil {
		return err
	}
	return s.putVersioned(ctx, it, prev, "upload", u.ID)
}

// CreateUpload stores u at Version 1, its first write; conflict when the id
// exists.
func (s *Store) CreateUpload(ctx context.Context, u notify.Upload) error {
	u.Version = 1
	return s.putUploadVersion(ctx, u, 0)
}

// GetUpload reads one upload with a strongly consistent read, as optimistic
// concurrency needs.
func (s *Store) GetUpload(ctx context.Context, workspaceID, id string) (notify.Upload, error) {
	pk, sk := uploadKey(workspaceID, id)
	var it uploadItem
	if err := s.getItem(ctx, pk, sk, &it, "upload", id); err != nil {
		return notify.Upload{}, err
	}
	return it.upload()
}

// UpdateUpload applies fn to the stored upload and writes the result if the
// upload's version has not moved, retrying with a fresh read when it has.
// An error from fn is returned as it is, and nothing is written.
func (s *Store) UpdateUpload(ctx context.Context, workspaceID, id string, fn func(*notify.Upload) error) (notify.Upload, error) {
	return updateVersioned(ctx,
		func() (notify.Upload, error) { return s.GetUpload(ctx, workspaceID, id) },
		fn,
		func(cur notify.Upload, next *notify.Upload) int64 {
			next.WorkspaceID, next.ID, next.Version = workspaceID, id, cur.Version+1
			return cur.Version
		},
		func(next notify.Upload, prev int64) error { return s.putUploadVersion(ctx, next, prev) })
}

// ListUploads queries the uploads of the workspace's partition newest first
// (ULID ids sort by time); the cursor is the last id returned, from which
// the next page starts exclusively.
func (s *Store) ListUploads(ctx context.Context, workspaceID string, p notify.Page) ([]notify.Upload, string, error) {
	c, err := decodeCursor(p.Cursor)
	if err != nil {
		return nil, "", err
	}
	limit := pageSize(p)
	pk, _ := uploadKey(workspaceID, "")
	in := s.newestFirst(pk, uploadPrefix, c.After)
	uploads, next, err := queryPage(ctx, s.db, in, limit, decodeUpload, func(u notify.Upload) string { return u.ID })
	if err != nil {
		return nil, "", fmt.Errorf("list uploads of %s: %w", workspaceID, err)
	}
	return uploads, next, nil
}

// decodeUpload reads an upload item.
func decodeUpload(item map[string]types.AttributeValue) (notify.Upload, error) {
	var it uploadItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return notify.Upload{}, fmt.Errorf("decode upload: %w", err)
	}
	return it.upload()
}
