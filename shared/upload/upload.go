// Package upload starts spreadsheet uploads and takes their files: the
// rules of POST /v1/uploads (what an upload may be, where its file goes)
// and of the local server's signed PUT route, in one place, so that the
// HTTP API (with an API key) and the operators' console (with a session)
// make the same uploads and give the same answers. Ingestion (package
// ingest) takes over once the file is stored.
package upload

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
)

// Store is what uploads need of the store: the template a send names,
// the uploads, and the notification a send made (to tell when it is done).
type Store interface {
	GetTemplate(ctx context.Context, workspaceID, id string) (notify.Template, error)
	CreateUpload(ctx context.Context, u notify.Upload) error
	GetUpload(ctx context.Context, workspaceID, id string) (notify.Upload, error)
	UpdateUpload(ctx context.Context, workspaceID, id string, fn func(*notify.Upload) error) (notify.Upload, error)
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
}

// Service creates uploads and stores their files.
type Service struct {
	Store Store
	Blobs notify.Blobs
	// PresignPut returns a URL that takes a PUT of key's file until
	// expires. Nil in local mode: the upload URL is then PUT
	// /v1/uploads/{id}/file on the local server (Signature signs it).
	PresignPut func(ctx context.Context, key string, expires time.Duration) (string, error)
	// Received is told of a file stored by PutFile; local mode starts
	// ingestion with it (S3's event does on AWS).
	Received func(ctx context.Context, key string) error
	// URLSecret signs the local route's upload URLs, which, like S3's
	// presigned URLs, are the credential.
	URLSecret []byte
	// PublicURL is where clients reach the local server, which its upload
	// URLs start with (never a request's Host: whoever sends the request
	// chooses that).
	PublicURL string
	// Ingest holds the limits (the largest file) ingestion uses.
	Ingest ingest.Config
	// URLTTL is how long an upload URL takes the file (1 hour when 0).
	URLTTL time.Duration
	IDs    *notify.IDs
	Now    func() time.Time
}

// Input is what an upload is for, as POST /v1/uploads takes it.
type Input struct {
	// Origin is where the upload is made (the API or the console); its
	// send's notification keeps it.
	Origin        notify.Origin
	Purpose       string
	TemplateID    string
	Channel       notify.Channel
	Filename      string
	DefaultRegion string
	Category      string
}

// Configured refuses uploads where there is nowhere to store their files.
func (s *Service) Configured() error {
	if s == nil || s.Blobs == nil {
		return notify.Errorf(notify.CodeNotConfigured, "spreadsheet uploads need an uploads bucket, which this deployment lacks")
	}
	return nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

// Create checks in and stores a new upload of workspace ws made by by
// (shown as its createdBy), waiting for its file, and returns it with the
// URL the file goes to. Every problem of in is reported at once, as a
// validation error.
func (s *Service) Create(ctx context.Context, ws, by string, in Input) (notify.Upload, string, error) {
	if err := s.Configured(); err != nil {
		return notify.Upload{}, "", err
	}
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: f, Problem: p}) }
	if in.Purpose == "" {
		in.Purpose = notify.UploadPurposeSend
	}
	switch in.Purpose {
	case notify.UploadPurposeSend:
		if in.Channel.AddressKind() == "" {
			add("channel", "must be sms, whatsapp or email: a spreadsheet's first column is a phone number or an email address")
		}
		if in.TemplateID == "" {
			add("templateId", "required: the template every row is sent")
		}
	case notify.UploadPurposeUsers:
		if in.TemplateID != "" || in.Channel != "" {
			add("purpose", "a users import takes no templateId or channel")
		}
	default:
		add("purpose", "must be send or users")
	}
	in.Filename = strings.TrimSpace(in.Filename)
	if in.Filename == "" || len(in.Filename) > 255 || strings.ContainsAny(in.Filename, "/\\\x00") {
		add("filename", "required: the file's name, 1–255 characters without / or \\")
	}
	in.DefaultRegion = strings.ToUpper(strings.TrimSpace(in.DefaultRegion))
	if in.DefaultRegion != "" && (len(in.DefaultRegion) != 2 || strings.Trim(in.DefaultRegion, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		add("defaultRegion", "an ISO 3166 country code such as ES")
	}
	if len(in.Category) > 64 {
		add("category", "at most 64 characters")
	}
	if len(bad) == 0 && in.Purpose == notify.UploadPurposeSend {
		t, err := s.Store.GetTemplate(ctx, ws, in.TemplateID)
		switch {
		case notify.IsCode(err, notify.CodeNotFound):
			add("templateId", "no such template")
		case err != nil:
			return notify.Upload{}, "", err
		case t.Channel != in.Channel:
			add("templateId", fmt.Sprintf("the template is for %s, not %s", t.Channel, in.Channel))
		case t.SendProblem() != "":
			add("templateId", t.SendProblem())
		}
	}
	if len(bad) > 0 {
		return notify.Upload{}, "", notify.Invalid(bad...)
	}
	now := s.now()
	ttl := s.URLTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	id := s.IDs.New(now)
	up := notify.Upload{
		WorkspaceID: ws, ID: id, Purpose: in.Purpose, TemplateID: in.TemplateID, Channel: in.Channel,
		Filename: in.Filename, DefaultRegion: in.DefaultRegion, Category: in.Category, Status: notify.UploadWaiting, Errors: []notify.RowError{},
		ObjectKey: ingest.ObjectKey(ws, id), CreatedBy: by, Origin: in.Origin,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(ttl),
	}
	u, err := s.url(ctx, up, ttl)
	if err != nil {
		return notify.Upload{}, "", err
	}
	if err := s.Store.CreateUpload(ctx, up); err != nil {
		return notify.Upload{}, "", err
	}
	return up, u, nil
}

// url is where the file of up goes: a presigned S3 PUT, or the local
// server's own route, under its configured public URL.
func (s *Service) url(ctx context.Context, up notify.Upload, ttl time.Duration) (string, error) {
	if s.PresignPut != nil {
		return s.PresignPut(ctx, up.ObjectKey, ttl)
	}
	base := strings.TrimRight(s.PublicURL, "/")
	if base == "" {
		return "", notify.Errorf(notify.CodeNotConfigured, "upload URLs of the local server need its public address (HERALD_PUBLIC_URL)")
	}
	exp := strconv.FormatInt(up.ExpiresAt.Unix(), 10)
	q := url.Values{"workspace": {up.WorkspaceID}, "expires": {exp}, "signature": {s.Signature(up.WorkspaceID, up.ID, exp)}}
	return base + "/v1/uploads/" + up.ID + "/file?" + q.Encode(), nil
}

// Signature signs a local upload URL: the workspace, the upload and the
// expiry. The local route compares it (hmac.Equal) with the URL's.
func (s *Service) Signature(ws, id, expires string) string {
	m := hmac.New(sha256.New, s.URLSecret)
	m.Write([]byte(ws + "\n" + id + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

// Get reads an upload as it is shown (Settle).
func (s *Service) Get(ctx context.Context, ws, id string) (notify.Upload, error) {
	up, err := s.Store.GetUpload(ctx, ws, id)
	if err != nil {
		return up, err
	}
	return s.Settle(ctx, up)
}

// Settle shows a queued send as completed once its notification is done:
// the notification is the one place that knows.
func (s *Service) Settle(ctx context.Context, up notify.Upload) (notify.Upload, error) {
	if up.Errors == nil {
		up.Errors = []notify.RowError{}
	}
	if up.Status != notify.UploadQueued || up.NotificationID == "" {
		return up, nil
	}
	n, err := s.Store.GetNotification(ctx, up.WorkspaceID, up.NotificationID)
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		return up, err
	}
	if err == nil && n.Status.Final() {
		up.Status = notify.UploadCompleted
	}
	return up, nil
}

// errTooBig ends a file longer than the largest accepted.
var errTooBig = errors.New("the file is over the largest accepted")

// limited reads r and fails with errTooBig past n bytes.
type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errTooBig
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		return k, errTooBig
	}
	return k, err
}

// PutFile stores body, the file of upload id of workspace ws (size bytes,
// or -1 when unknown), for ingestion, and returns the upload as it is
// then. Only a waiting upload takes a file, or a rejected one that is not
// Closed, while its URL lasts; a file over the largest accepted is
// refused (payload_too_large) and a new file of a rejected upload clears
// what was said of the last one.
func (s *Service) PutFile(ctx context.Context, ws, id string, body io.Reader, size int64) (notify.Upload, error) {
	if err := s.Configured(); err != nil {
		return notify.Upload{}, err
	}
	up, err := s.Store.GetUpload(ctx, ws, id)
	if err != nil {
		return up, err
	}
	switch {
	case up.Status != notify.UploadWaiting && up.Status != notify.UploadRejected:
		shown, err := s.Settle(ctx, up)
		if err != nil {
			return up, err
		}
		return up, notify.Errorf(notify.CodeConflict, "upload %s is %s: it takes no other file; create a new upload", up.ID, shown.Status)
	case ingest.Closed(up):
		return up, ClosedError(up.ID)
	case s.now().After(up.ExpiresAt):
		return up, notify.Errorf(notify.CodeConflict, "the upload URL expired at %s; create a new upload", up.ExpiresAt.Format(time.RFC3339))
	}
	max := s.Ingest.MaxFileBytes()
	if size > max {
		return up, notify.Errorf(notify.CodePayloadTooLarge, "the file is %d bytes; files may be at most %d bytes (%d MB): split it", size, max, max/1e6)
	}
	if _, err := s.Blobs.Put(ctx, up.ObjectKey, &limited{r: body, n: max}, -1); err != nil {
		if errors.Is(err, errTooBig) {
			return up, notify.Errorf(notify.CodePayloadTooLarge, "the file is over %d bytes (%d MB): split it", max, max/1e6)
		}
		return up, fmt.Errorf("store the file of upload %s: %w", up.ID, err)
	}
	// A new file: what was said of the last one no longer holds.
	if up.Status == notify.UploadRejected {
		if _, err := s.Store.UpdateUpload(ctx, ws, up.ID, func(u *notify.Upload) error {
			// Closed meanwhile (a file put at the same time was refused as
			// a whole): it stays closed, whatever this file is.
			if ingest.Closed(*u) {
				return ClosedError(u.ID)
			}
			if u.Status == notify.UploadRejected {
				u.Status, u.Rows, u.Errors, u.UpdatedAt = notify.UploadWaiting, notify.UploadRows{}, nil, s.now()
			}
			return nil
		}); err != nil {
			return up, err
		}
	}
	if s.Received != nil {
		if err := s.Received(ctx, up.ObjectKey); err != nil {
			return up, fmt.Errorf("start ingestion of upload %s: %w", up.ID, err)
		}
	}
	return s.Get(ctx, ws, up.ID)
}

// ClosedError is the answer to a file put to an upload that a file
// refused as a whole has closed.
func ClosedError(id string) error {
	return notify.Errorf(notify.CodeConflict, "upload %s was rejected and takes no other file (its errors say why); create a new upload", id)
}
