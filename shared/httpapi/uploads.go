package httpapi

import (
	"context"
	"crypto/hmac"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/spreadsheet"
	"github.com/heraldhq/herald/shared/upload"
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

// uploadService is the upload service over this server's store, built
// at each call from s.uploads, whose fields may be set after New (the
// public URL is known once the server listens).
func (s *Server) uploadService() *upload.Service {
	return s.uploads.Service(s.store, s.ids, s.now)
}

// Service is the upload service these collaborators make over store: the
// API's, and the console's, which makes the same uploads. Nil when u is.
func (u *Uploads) Service(store upload.Store, ids *notify.IDs, now func() time.Time) *upload.Service {
	if u == nil {
		return nil
	}
	return &upload.Service{Store: store, Blobs: u.Blobs, PresignPut: u.PresignPut, Received: u.Received, URLSecret: u.URLSecret,
		PublicURL: u.PublicURL, Ingest: u.Ingest, URLTTL: u.URLTTL, IDs: ids, Now: now}
}

func (s *Server) uploadsConfigured() error {
	return s.uploadService().Configured()
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, k notify.APIKey) error {
	if err := s.uploadsConfigured(); err != nil {
		return err
	}
	var in uploadInput
	if err := decode(r, &in); err != nil {
		return err
	}
	up, url, err := s.uploadService().Create(r.Context(), k.WorkspaceID, k.Name+" ("+k.ID+")", upload.Input{Origin: notify.OriginAPI, Purpose: in.Purpose, TemplateID: in.TemplateID,
		Channel: in.Channel, Filename: in.Filename, DefaultRegion: in.DefaultRegion, Category: in.Category})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, uploadView{Upload: up, UploadURL: url})
	return nil
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

// settle shows a queued send as completed once its notification is done
// (upload.Service.Settle), with or without uploads configured.
func (s *Server) settle(ctx context.Context, up notify.Upload) (notify.Upload, error) {
	return (&upload.Service{Store: s.store}).Settle(ctx, up)
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
	svc := s.uploadService()
	q := r.URL.Query()
	ws, id, exp := q.Get("workspace"), r.PathValue("id"), q.Get("expires")
	if !hmac.Equal([]byte(q.Get("signature")), []byte(svc.Signature(ws, id, exp))) {
		return notify.Errorf(notify.CodeForbidden, "this upload URL is not valid: use the uploadUrl POST /v1/uploads returned, whole")
	}
	up, err := svc.PutFile(r.Context(), ws, id, r.Body, r.ContentLength)
	if err != nil {
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
