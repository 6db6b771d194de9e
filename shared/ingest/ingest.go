// Package ingest turns an uploaded spreadsheet into work: a send of a
// template to every valid row (queued as packed dispatch messages, like any
// other send), or an import of users. It runs on the S3 ObjectCreated event
// of the upload's object on AWS (the ingest function) and on the local
// server's upload route locally.
//
// The file is read twice, from a local copy: once to validate every row,
// and, only when the whole file is sound, once more to queue the valid
// rows. Nothing is sent from a file that is rejected, and a rejected upload
// takes a fixed file again. A run that crashes is retried (S3 events and
// Lambda's async retries are at least once) and queues the same chunks
// again, which dispatch records and counts once.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// Defaults of Config.
const (
	DefaultMaxBytes = 50_000_000
	// staleClaim is how long a validating upload may go without news
	// before another run takes it over: longer than a Lambda can run.
	staleClaim = 16 * time.Minute
)

// sendGroupSize is how many dispatch messages go to the queue per call
// (the SQS adapter sends them in parallel batches of ten).
var sendGroupSize = 500

// Config bounds what an upload may be.
type Config struct {
	// MaxBytes is the largest file accepted (DefaultMaxBytes when 0).
	MaxBytes int64
	// Limits bound rows, columns and cells (spreadsheet defaults when 0).
	Limits spreadsheet.Limits
	// DefaultRegion reads national phone numbers when an upload names no
	// region of its own.
	DefaultRegion string
	// TempDir holds the local copy of a file while it is read ("" is the
	// system's temporary directory; /tmp on Lambda).
	TempDir string
}

// MaxFileBytes is the largest file accepted.
func (c Config) MaxFileBytes() int64 {
	if c.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return c.MaxBytes
}

// region is the region an upload's national phone numbers are read in:
// its own, or the configured default.
func (c Config) region(up notify.Upload) string {
	if up.DefaultRegion != "" {
		return up.DefaultRegion
	}
	return c.DefaultRegion
}

// Store is what ingestion needs of the store.
type Store interface {
	GetUpload(ctx context.Context, workspaceID, id string) (notify.Upload, error)
	UpdateUpload(ctx context.Context, workspaceID, id string, fn func(*notify.Upload) error) (notify.Upload, error)
	GetTemplate(ctx context.Context, workspaceID, id string) (notify.Template, error)
	CreateNotification(ctx context.Context, n notify.Notification) error
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	GetUser(ctx context.Context, workspaceID, id string) (notify.User, error)
	PutUser(ctx context.Context, u notify.User) (notify.User, error)
}

// Ingester validates and queues uploads.
type Ingester struct {
	Store Store
	Blobs notify.Blobs
	// Dispatch is the queue dispatch reads.
	Dispatch notify.Queue
	Config   Config
	IDs      *notify.IDs
	Now      func() time.Time
	Log      *slog.Logger
}

// ObjectKey is where the file of upload id of workspace ws is stored.
func ObjectKey(ws, id string) string { return "uploads/" + ws + "/" + id }

// ParseObjectKey reads an object key made by ObjectKey.
func ParseObjectKey(key string) (ws, id string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] != "uploads" || parts[1] == "" || parts[2] == "" {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// errSkip says an upload needs nothing from this run.
var errSkip = errors.New("nothing to do")

// Ingest processes the object at key: an upload's file that was just
// stored. Keys that name no upload, uploads that are past validation and
// objects that are gone are logged and left alone (nil): retrying would
// change nothing. The error is for what a retry may fix.
func (g *Ingester) Ingest(ctx context.Context, key string) error {
	ws, id, ok := ParseObjectKey(key)
	if !ok {
		g.log().Warn("ingest: not an upload key", "key", key)
		return nil
	}
	info, err := g.Blobs.Stat(ctx, key)
	if notify.IsCode(err, notify.CodeNotFound) {
		g.log().Warn("ingest: object is gone", "key", key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("ingest %s: %w", key, err)
	}
	up, err := g.claim(ctx, ws, id, info)
	if errors.Is(err, errSkip) || notify.IsCode(err, notify.CodeNotFound) {
		g.log().Info("ingest: nothing to do", "workspaceId", ws, "uploadId", id, "reason", err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("ingest %s: %w", key, err)
	}
	log := g.log().With("workspaceId", ws, "uploadId", id)
	err = g.run(ctx, up, info, log)
	var rej *rejection
	if errors.As(err, &rej) {
		log.Info("upload rejected", "problem", rej.Error())
		errs := make([]notify.RowError, 0, min(len(rej.errs), notify.MaxUploadErrors))
		for _, e := range rej.errs[:cap(errs)] {
			e.Column, e.Message = clip(e.Column, 100), clip(e.Message, 1000)
			errs = append(errs, e)
		}
		return g.finish(ctx, up, func(u *notify.Upload) {
			u.Status, u.Errors, u.NotificationID = notify.UploadRejected, errs, ""
			if rej.final {
				// The upload URL ends here; see Closed.
				u.ExpiresAt = u.UpdatedAt
			}
		})
	}
	if err != nil {
		return fmt.Errorf("ingest upload %s: %w", id, err)
	}
	return nil
}

// Closed reports whether a rejected upload takes no other file: its URL
// had expired when it was rejected. A file that unpacks to far more than
// any spreadsheet (a zip bomb) expires it at once, so that nobody holding
// the URL (which is its own credential, as S3's presigned URLs are, and
// on AWS cannot be revoked) makes ingestion read bomb after bomb; any
// other rejection leaves it to take a fixed file until it expires.
func Closed(up notify.Upload) bool {
	return up.Status == notify.UploadRejected && !up.ExpiresAt.After(up.UpdatedAt)
}

// claim moves the upload to validating for this version of its file. A
// waiting or rejected upload is claimed fresh, unless it is Closed; one
// validating this same version is a retry of a run that did not finish
// and resumes with the same notification id; one validating another
// version is taken over only when its run has gone quiet for longer than
// a run can last.
func (g *Ingester) claim(ctx context.Context, ws, id string, info notify.BlobInfo) (notify.Upload, error) {
	now := g.now()
	return g.Store.UpdateUpload(ctx, ws, id, func(u *notify.Upload) error {
		switch {
		case Closed(*u):
			return fmt.Errorf("%w: upload is rejected and takes no other file", errSkip)
		case u.Status == notify.UploadWaiting, u.Status == notify.UploadRejected,
			u.Status == notify.UploadValidating && u.ETag != info.ETag && now.Sub(u.UpdatedAt) > staleClaim:
			u.NotificationID = ""
			if u.Purpose == notify.UploadPurposeSend {
				u.NotificationID = g.IDs.New(now)
			}
		case u.Status == notify.UploadValidating && u.ETag == info.ETag,
			// An import that stopped while writing users writes them again.
			u.Status == notify.UploadQueued && u.Purpose == notify.UploadPurposeUsers && u.ETag == info.ETag:
		default:
			return fmt.Errorf("%w: upload is %s", errSkip, u.Status)
		}
		u.Status, u.ETag, u.Size = notify.UploadValidating, info.ETag, info.Size
		u.Rows, u.Errors = notify.UploadRows{}, nil
		u.UpdatedAt = now
		return nil
	})
}

// finish writes the outcome of a run, unless another run has claimed the
// upload for a newer file since. set sees the time of the outcome in
// UpdatedAt.
func (g *Ingester) finish(ctx context.Context, up notify.Upload, set func(*notify.Upload)) error {
	_, err := g.Store.UpdateUpload(ctx, up.WorkspaceID, up.ID, func(u *notify.Upload) error {
		if u.ETag != up.ETag || u.Status != notify.UploadValidating && u.Status != notify.UploadQueued {
			return errSkip
		}
		u.UpdatedAt = g.now()
		set(u)
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// run copies the file and processes it by the upload's purpose.
func (g *Ingester) run(ctx context.Context, up notify.Upload, info notify.BlobInfo, log *slog.Logger) error {
	max := g.Config.MaxFileBytes()
	if info.Size > max {
		return reject(0, "", "the file is %s; files may be at most %s: split it into smaller files", megabytes(info.Size), megabytes(max))
	}
	f, size, err := copyBlob(ctx, g.Blobs, up.ObjectKey, g.Config)
	if err != nil {
		return err
	}
	defer removeTemp(f)
	if up.Purpose == notify.UploadPurposeUsers {
		return g.importUsers(ctx, up, f, size, log)
	}
	return g.send(ctx, up, f, size, log)
}

// copyBlob downloads the object to a temporary file in cfg.TempDir: XLSX
// needs random access, and both passes must read the same bytes. A file
// over cfg's limit is a rejection.
func copyBlob(ctx context.Context, blobs notify.Blobs, key string, cfg Config) (*os.File, int64, error) {
	max := cfg.MaxFileBytes()
	body, _, err := blobs.Open(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	defer body.Close()
	f, err := os.CreateTemp(cfg.TempDir, "herald-upload-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, io.LimitReader(body, max+1))
	if err == nil && n > max {
		err = reject(0, "", "the file is over %s; files may be at most %s: split it into smaller files", megabytes(max), megabytes(max))
	}
	if err != nil {
		removeTemp(f)
		return nil, 0, err
	}
	return f, n, nil
}

// removeTemp closes and removes a temporary file.
func removeTemp(f *os.File) {
	f.Close()
	_ = os.Remove(f.Name())
}

func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

// send validates the rows of a send and, when the file is sound and some
// row is valid, creates the notification and queues the valid rows.
func (g *Ingester) send(ctx context.Context, up notify.Upload, f *os.File, size int64, log *slog.Logger) error {
	t, err := g.Store.GetTemplate(ctx, up.WorkspaceID, up.TemplateID)
	if notify.IsCode(err, notify.CodeNotFound) {
		return reject(0, "", "the template %s no longer exists; create a new upload with an existing template", up.TemplateID)
	}
	if err != nil {
		return err
	}
	if t.Channel != up.Channel {
		return reject(0, "", "the template %s is now for %s, not %s; create a new upload", t.ID, t.Channel, up.Channel)
	}
	if p := t.SendProblem(); p != "" {
		return reject(0, "", "%s; then upload the file again", p)
	}
	region := g.Config.region(up)
	seen := newFirstRows()
	openSheet := func() (*sendSheet, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return openSend(f, size, g.Config.Limits, t, up.Channel, region, seen)
	}

	// Pass 1: validate everything before anything is queued.
	s, err := openSheet()
	if err != nil {
		return err
	}
	c, err := tally(ctx, s.next, "sent")
	if err != nil {
		return err
	}

	n := g.notification(up, t, c.rows.Valid)
	if err := g.Store.CreateNotification(ctx, n); err != nil && !notify.IsCode(err, notify.CodeConflict) {
		return fmt.Errorf("create notification: %w", err)
	}

	// Pass 2: the same rows, the same verdicts; queue the valid ones in
	// chunks whose ids depend only on their place in the file.
	if s, err = openSheet(); err != nil {
		return err
	}
	var (
		bodies [][]byte
		batch  []notify.Recipient
		chunk  int
		queued int
	)
	flushChunk := func() error {
		if len(batch) == 0 {
			return nil
		}
		b, err := json.Marshal(notify.DispatchMessage{WorkspaceID: n.WorkspaceID, NotificationID: n.ID,
			Chunk: fmt.Sprintf("%s:%d", n.ID, chunk), Recipients: batch})
		if err != nil {
			return err
		}
		bodies = append(bodies, b)
		queued += len(batch)
		chunk++
		batch = nil
		return nil
	}
	flushSend := func() error {
		if len(bodies) == 0 {
			return nil
		}
		if err := g.Dispatch.Send(ctx, bodies); err != nil {
			return fmt.Errorf("queue chunks up to %d: %w", chunk, err)
		}
		bodies = bodies[:0]
		return nil
	}
	for {
		r, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if r.err != nil {
			continue
		}
		batch = append(batch, notify.Recipient{Address: r.address, Variables: s.variables(r.cells)})
		if len(batch) == notify.RecipientsPerMessage {
			if err := flushChunk(); err != nil {
				return err
			}
			if len(bodies) == sendGroupSize {
				if err := flushSend(); err != nil {
					return err
				}
			}
		}
	}
	if err := flushChunk(); err != nil {
		return err
	}
	if err := flushSend(); err != nil {
		return err
	}
	if queued != c.rows.Valid {
		// The file cannot have changed (it is a local copy): a mismatch is
		// a bug, and queueing nothing more is the safe answer.
		return fmt.Errorf("the second pass found %d valid rows, the first %d", queued, c.rows.Valid)
	}
	log.Info("upload queued", "notificationId", n.ID, "rows", c.rows.Total, "valid", c.rows.Valid, "invalid", c.rows.Invalid)
	return g.finish(ctx, up, func(u *notify.Upload) {
		u.Status, u.Rows, u.Errors = notify.UploadQueued, c.rows, c.errors
	})
}

// notification is the send an upload makes: the template as it is now, to
// the valid rows. Uploads are made only through the API (POST
// /v1/uploads), so its origin is the API's.
func (g *Ingester) notification(up notify.Upload, t notify.Template, valid int) notify.Notification {
	now := g.now()
	route := t.Route
	if route == "" {
		route = render.DefaultRoute
		t.Route = route
	}
	n := notify.Notification{
		WorkspaceID: up.WorkspaceID, ID: up.NotificationID, Channel: up.Channel, Source: notify.SourceSpreadsheet, Origin: originOf(up),
		Route: route, TemplateID: t.ID, TemplateVersion: t.Version,
		Category:  up.Category,
		Audience:  notify.Audience{Kind: "upload", Count: valid, UploadID: up.ID},
		Status:    notify.StatusQueued,
		Counts:    notify.Counts{Total: int64(valid), Queued: int64(valid)},
		CreatedAt: now, UpdatedAt: now, CreatedBy: up.CreatedBy,
		Content: t,
	}
	n.Title, n.Body = t.Summary()
	return n
}

func (g *Ingester) now() time.Time {
	if g.Now != nil {
		return g.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

func (g *Ingester) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Event is the body of a local ingest message: what S3's ObjectCreated
// event says on AWS.
type Event struct {
	Key string `json:"key"`
}

// Run ingests the keys sent to q until ctx is done (local mode): a failed
// run's message comes back after the queue's visibility timeout, as the
// Lambda's async retries do on AWS.
func (g *Ingester) Run(ctx context.Context, q notify.Queue) {
	notify.Consume(ctx, q, 1, "ingest", g.log(), func(ctx context.Context, body []byte) error {
		var e Event
		if err := json.Unmarshal(body, &e); err != nil {
			g.log().Error("ingest: bad message, dropped", "err", err.Error())
			return nil
		}
		return g.Ingest(ctx, e.Key)
	})
}

// NewConfig is the Config of the settings Herald reads (config.Config's
// upload limits and default region).
func NewConfig(maxBytes int64, maxRows, maxColumns int, region string) Config {
	return Config{MaxBytes: maxBytes, Limits: spreadsheet.Limits{MaxRows: maxRows, MaxColumns: maxColumns}, DefaultRegion: region}
}

// originOf is where an upload was made: uploads from before origins were
// kept came through the API.
func originOf(up notify.Upload) notify.Origin {
	if up.Origin != "" {
		return up.Origin
	}
	return notify.OriginAPI
}
