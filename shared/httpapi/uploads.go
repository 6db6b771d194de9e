package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// Uploads are the spreadsheet sends' collaborators.
type Uploads struct {
	Blobs notify.Blobs
	// PresignPut returns a URL that takes a PUT of key's file until
	// expires. Nil in local mode: the upload URL is then PUT
	// /v1/uploads/{id}/file on this server.
	PresignPut func(ctx context.Context, key string, expires time.Duration) (string, error)
	// PresignGet returns a URL to download key. When set, reports are
	// stored as blobs and answered with a 303 to it (API Gateway cannot
	// return a large body); nil in local mode, where they are streamed.
	PresignGet func(ctx context.Context, key string, expires time.Duration) (string, error)
	// Received is told of a file stored through the local route; local
	// mode starts ingestion with it (S3's event does on AWS).
	Received func(ctx context.Context, key string) error
	// URLSecret signs the local route's upload URLs, which, like S3's
	// presigned URLs, are the credential: the same client code PUTs to
	// either without an API key.
	URLSecret []byte
	// PublicURL is where clients reach this server (HERALD_PUBLIC_URL,
	// by default its listen address), which the local route's upload URLs
	// start with. Never the request's Host header: whoever sends the
	// request chooses that, and would have an upload URL, a credential,
	// handed out pointing at their own server.
	PublicURL string
	// Ingest holds the limits and the default region ingestion uses.
	Ingest ingest.Config
	// URLTTL is how long an upload URL takes the file (1 hour when 0).
	URLTTL time.Duration
}

// uploadInput is the body of POST /v1/uploads.
type uploadInput struct {
	Purpose       string         `json:"purpose"`
	TemplateID    string         `json:"templateId"`
	Channel       notify.Channel `json:"channel"`
	Filename      string         `json:"filename"`
	DefaultRegion string         `json:"defaultRegion"`
	Category      string         `json:"category"`
}

// uploadView is an upload as the API shows it.
type uploadView struct {
	notify.Upload
	UploadURL string `json:"uploadUrl,omitempty"`
}

func (s *Server) uploadsConfigured() error {
	if s.uploads == nil || s.uploads.Blobs == nil {
		return notify.Errorf(notify.CodeNotConfigured, "spreadsheet uploads need an uploads bucket, which this deployment lacks")
	}
	return nil
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.uploadsConfigured(); err != nil {
		return err
	}
	var in uploadInput
	if err := decode(r, &in); err != nil {
		return err
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
		t, err := s.store.GetTemplate(r.Context(), k.WorkspaceID, in.TemplateID)
		switch {
		case notify.IsCode(err, notify.CodeNotFound):
			add("templateId", "no such template")
		case err != nil:
			return err
		case t.Channel != in.Channel:
			add("templateId", fmt.Sprintf("the template is for %s, not %s", t.Channel, in.Channel))
		case t.SendProblem() != "":
			add("templateId", t.SendProblem())
		}
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	ttl := s.uploads.URLTTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	id := s.ids.New(now)
	up := notify.Upload{
		WorkspaceID: k.WorkspaceID, ID: id, Purpose: in.Purpose, TemplateID: in.TemplateID, Channel: in.Channel,
		Filename: in.Filename, DefaultRegion: in.DefaultRegion, Category: in.Category, Status: notify.UploadWaiting, Errors: []notify.RowError{},
		ObjectKey: ingest.ObjectKey(k.WorkspaceID, id), CreatedBy: k.Name + " (" + k.ID + ")",
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(ttl),
	}
	url, err := s.uploadURL(r.Context(), up, ttl)
	if err != nil {
		return err
	}
	if err := s.store.CreateUpload(r.Context(), up); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, uploadView{Upload: up, UploadURL: url})
	return nil
}

// uploadURL is where the file of up goes: a presigned S3 PUT, or this
// server's own route in local mode, under its configured public URL.
func (s *Server) uploadURL(ctx context.Context, up notify.Upload, ttl time.Duration) (string, error) {
	if s.uploads.PresignPut != nil {
		return s.uploads.PresignPut(ctx, up.ObjectKey, ttl)
	}
	base := strings.TrimRight(s.uploads.PublicURL, "/")
	if base == "" {
		return "", notify.Errorf(notify.CodeNotConfigured, "upload URLs of the local server need its public address (HERALD_PUBLIC_URL)")
	}
	exp := strconv.FormatInt(up.ExpiresAt.Unix(), 10)
	q := url.Values{"workspace": {up.WorkspaceID}, "expires": {exp}, "signature": {s.uploadSignature(up.WorkspaceID, up.ID, exp)}}
	return base + "/v1/uploads/" + up.ID + "/file?" + q.Encode(), nil
}

// uploadSignature signs a local upload URL: the workspace, the upload and
// the expiry.
func (s *Server) uploadSignature(ws, id, expires string) string {
	m := hmac.New(sha256.New, s.uploads.URLSecret)
	m.Write([]byte(ws + "\n" + id + "\n" + expires))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) getUpload(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	up, err := s.store.GetUpload(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if up, err = s.settle(r.Context(), up); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, uploadView{Upload: up})
	return nil
}

func (s *Server) listUploads(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	ups, next, err := s.store.ListUploads(r.Context(), k.WorkspaceID, p)
	if err != nil {
		return notify.CursorError(err)
	}
	views := make([]uploadView, len(ups))
	for i, up := range ups {
		if up, err = s.settle(r.Context(), up); err != nil {
			return err
		}
		views[i] = uploadView{Upload: up}
	}
	writeList(w, views, next)
	return nil
}

// settle shows a queued send as completed once its notification is done:
// the notification is the one place that knows.
func (s *Server) settle(ctx context.Context, up notify.Upload) (notify.Upload, error) {
	if up.Errors == nil {
		up.Errors = []notify.RowError{}
	}
	if up.Status != notify.UploadQueued || up.NotificationID == "" {
		return up, nil
	}
	n, err := s.store.GetNotification(ctx, up.WorkspaceID, up.NotificationID)
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		return up, err
	}
	if err == nil && n.Status.Final() {
		up.Status = notify.UploadCompleted
	}
	return up, nil
}

// putUploadFile takes an upload's file in local mode (on AWS the file goes
// to S3 by the presigned URL). It answers 202: ingestion runs in the
// background, as it does on AWS; GET /v1/uploads/{id} shows how it went.
func (s *Server) putUploadFile(w http.ResponseWriter, r *http.Request, _ notify.APIKey) error {
	if err := s.uploadsConfigured(); err != nil {
		return err
	}
	if s.uploads.PresignPut != nil {
		return notify.Errorf(notify.CodeNotFound, "files go to the uploadUrl POST /v1/uploads returned, not to this API")
	}
	q := r.URL.Query()
	ws, id, exp := q.Get("workspace"), r.PathValue("id"), q.Get("expires")
	want := s.uploadSignature(ws, id, exp)
	if !hmac.Equal([]byte(q.Get("signature")), []byte(want)) {
		return notify.Errorf(notify.CodeForbidden, "this upload URL is not valid: use the uploadUrl POST /v1/uploads returned, whole")
	}
	up, err := s.store.GetUpload(r.Context(), ws, id)
	if err != nil {
		return err
	}
	now := s.now()
	switch {
	case up.Status != notify.UploadWaiting && up.Status != notify.UploadRejected:
		shown, err := s.settle(r.Context(), up)
		if err != nil {
			return err
		}
		return notify.Errorf(notify.CodeConflict, "upload %s is %s: it takes no other file; create a new upload", up.ID, shown.Status)
	case ingest.Closed(up):
		return closedUpload(up.ID)
	case now.After(up.ExpiresAt):
		return notify.Errorf(notify.CodeConflict, "the upload URL expired at %s; create a new upload", up.ExpiresAt.Format(time.RFC3339))
	}
	max := s.uploads.Ingest.MaxFileBytes()
	if r.ContentLength > max {
		return notify.Errorf(notify.CodePayloadTooLarge, "the file is %d bytes; files may be at most %d bytes (%d MB): split it", r.ContentLength, max, max/1e6)
	}
	body := http.MaxBytesReader(w, r.Body, max)
	if _, err := s.uploads.Blobs.Put(r.Context(), up.ObjectKey, body, -1); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return notify.Errorf(notify.CodePayloadTooLarge, "the file is over %d bytes (%d MB): split it", max, max/1e6)
		}
		return fmt.Errorf("store the file of upload %s: %w", up.ID, err)
	}
	// A new file: what was said of the last one no longer holds.
	if up.Status == notify.UploadRejected {
		if _, err := s.store.UpdateUpload(r.Context(), ws, up.ID, func(u *notify.Upload) error {
			// Closed meanwhile (a file put at the same time was refused as
			// a whole): it stays closed, whatever this file is.
			if ingest.Closed(*u) {
				return closedUpload(u.ID)
			}
			if u.Status == notify.UploadRejected {
				u.Status, u.Rows, u.Errors, u.UpdatedAt = notify.UploadWaiting, notify.UploadRows{}, nil, s.now().UTC().Truncate(time.Millisecond)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if s.uploads.Received != nil {
		if err := s.uploads.Received(r.Context(), up.ObjectKey); err != nil {
			return fmt.Errorf("start ingestion of upload %s: %w", up.ID, err)
		}
	}
	if up, err = s.store.GetUpload(r.Context(), ws, up.ID); err != nil {
		return err
	}
	if up, err = s.settle(r.Context(), up); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, uploadView{Upload: up})
	return nil
}

// report answers GET /v1/notifications/{id}/report?format=csv|xlsx.
func (s *Server) report(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	format := spreadsheet.Format(r.URL.Query().Get("format"))
	if format == "" {
		format = spreadsheet.CSV
	}
	if format != spreadsheet.CSV && format != spreadsheet.XLSX {
		return notify.Invalid(notify.FieldError{Field: "format", Problem: "must be csv or xlsx"})
	}
	n, err := s.store.GetNotification(r.Context(), k.WorkspaceID, r.PathValue("id"))
	if err != nil {
		return err
	}
	if n.Source == notify.SourceSpreadsheet {
		if err := s.uploadsConfigured(); err != nil {
			return err
		}
	}
	var blobs notify.Blobs
	var cfg ingest.Config
	if s.uploads != nil {
		blobs, cfg = s.uploads.Blobs, s.uploads.Ingest
	}
	rp := ingest.Reporter{Store: s.store, Blobs: blobs, Config: cfg}
	filename := fmt.Sprintf("herald-%s.%s", n.ID, format)
	contentType := "text/csv; charset=utf-8"
	if format == spreadsheet.XLSX {
		contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	// Written to a file first, so a failure midway is a clean error rather
	// than half a sheet with a 200.
	f, err := os.CreateTemp(cfg.TempDir, "herald-report-*")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	if err := rp.Report(r.Context(), f, format, n); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if s.uploads == nil || s.uploads.PresignGet == nil {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.WriteHeader(http.StatusOK)
		_, err = io.Copy(w, f)
		return err
	}
	key := fmt.Sprintf("reports/%s/%s/%s", k.WorkspaceID, n.ID, filename)
	if _, err := s.uploads.Blobs.Put(r.Context(), key, f, size); err != nil {
		return fmt.Errorf("store report: %w", err)
	}
	url, err := s.uploads.PresignGet(r.Context(), key, 15*time.Minute)
	if err != nil {
		return err
	}
	w.Header().Set("Location", url)
	writeJSON(w, http.StatusSeeOther, map[string]string{"url": url})
	return nil
}

// closedUpload is the answer to a file put to an upload that a file
// refused as a whole has closed.
func closedUpload(id string) error {
	return notify.Errorf(notify.CodeConflict, "upload %s was rejected and takes no other file (its errors say why); create a new upload", id)
}
