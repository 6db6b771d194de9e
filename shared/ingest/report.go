package ingest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// ReportStore is what a report needs of the store.
type ReportStore interface {
	GetUpload(ctx context.Context, workspaceID, id string) (notify.Upload, error)
	GetDeliveries(ctx context.Context, workspaceID, notificationID string, keys []string) (map[string]notify.Delivery, error)
	ListDeliveries(ctx context.Context, workspaceID, notificationID string, status notify.DeliveryStatus, p notify.Page) ([]notify.Delivery, string, error)
}

// Reporter writes result sheets.
type Reporter struct {
	Store  ReportStore
	Blobs  notify.Blobs
	Config Config
}

// Report statuses of rows that never became deliveries.
const (
	// RowInvalid is a row that validation skipped; its reason says why.
	RowInvalid = "invalid"
)

// Report writes the result sheet of notification n in format f. A send
// from a spreadsheet gets the file's own rows, in order, each with its
// status, reason and provider message id (rows that were not valid say
// why); any other send gets one row per delivery.
//
// A CSV report of a CSV file separated by semicolons is separated by
// semicolons too: the operator's spreadsheet program is set to them (as
// Excel is where a comma is the decimal mark, in Spain), and opens a file
// separated by commas as one column. Other CSV reports use commas.
func (rp *Reporter) Report(ctx context.Context, w io.Writer, f spreadsheet.Format, n notify.Notification) error {
	if n.Source == notify.SourceSpreadsheet && n.Audience.UploadID != "" {
		return rp.sheetReport(ctx, w, f, n)
	}
	out, err := spreadsheet.NewWriter(w, f)
	if err != nil {
		return err
	}
	if err := rp.deliveriesReport(ctx, out, n); err != nil {
		return err
	}
	return out.Close()
}

// sheetReport reads the upload's file again, judges every row as ingestion
// did, and looks up the deliveries of the valid rows a hundred at a time.
func (rp *Reporter) sheetReport(ctx context.Context, w io.Writer, f spreadsheet.Format, n notify.Notification) error {
	up, err := rp.Store.GetUpload(ctx, n.WorkspaceID, n.Audience.UploadID)
	if err != nil {
		return fmt.Errorf("the upload of notification %s: %w", n.ID, err)
	}
	file, size, err := copyBlob(ctx, rp.Blobs, up.ObjectKey, rp.Config)
	if notify.IsCode(err, notify.CodeNotFound) {
		return notify.Errorf(notify.CodeNotFound, "the file of upload %s is no longer kept (uploads expire after 30 days); GET /v1/notifications/%s/deliveries still lists every recipient", up.ID, n.ID)
	}
	if err != nil {
		return err
	}
	defer removeTemp(file)
	s, err := openSend(file, size, rp.Config.Limits, n.Content, n.Channel, rp.Config.region(up), newFirstRows())
	if err != nil {
		return fmt.Errorf("read upload %s again: %w", up.ID, err)
	}
	var out *spreadsheet.Writer
	if f == spreadsheet.CSV && s.r.Delimiter() == ';' {
		out, err = spreadsheet.NewCSVWriter(w, ';')
	} else {
		out, err = spreadsheet.NewWriter(w, f)
	}
	if err != nil {
		return err
	}
	if err := out.Write(append(slices.Clone(s.header), "status", "reason", "provider_message_id")); err != nil {
		return err
	}
	var pending []row
	flush := func() error {
		var keys []string
		for _, r := range pending {
			if r.err == nil {
				keys = append(keys, notify.Recipient{Address: r.address}.Key())
			}
		}
		ds := map[string]notify.Delivery{}
		if len(keys) > 0 {
			if ds, err = rp.Store.GetDeliveries(ctx, n.WorkspaceID, n.ID, keys); err != nil {
				return err
			}
		}
		for _, r := range pending {
			// Cells beyond the header (a refused row's) would push the
			// status columns out of line; the reason names them.
			cells := padTo(r.cells[:min(len(r.cells), len(s.header))], len(s.header))
			switch d, ok := ds[notify.Recipient{Address: r.address}.Key()]; {
			case r.err != nil:
				cells = append(cells, RowInvalid, r.err.Message, "")
			case ok:
				cells = append(cells, string(d.Status), d.Reason, d.ProviderMessageID)
			default:
				cells = append(cells, string(notify.DeliveryQueued), "", "")
			}
			if err := out.Write(cells); err != nil {
				return err
			}
		}
		pending = pending[:0]
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
		r.cells = slices.Clone(r.cells)
		pending = append(pending, r)
		if len(pending) == 100 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return out.Close()
}

// padTo returns cells with as many cells as the header at least, so the
// status columns line up.
func padTo(cells []string, n int) []string {
	for len(cells) < n {
		cells = append(cells, "")
	}
	return cells
}

// deliveriesReport lists every delivery of a send made through the API.
func (rp *Reporter) deliveriesReport(ctx context.Context, out *spreadsheet.Writer, n notify.Notification) error {
	if err := out.Write([]string{"user_id", "address", "channel", "status", "reason", "provider_message_id", "updated_at"}); err != nil {
		return err
	}
	cursor := ""
	for {
		ds, next, err := rp.Store.ListDeliveries(ctx, n.WorkspaceID, n.ID, "", notify.Page{Limit: notify.MaxPageSize, Cursor: cursor})
		if err != nil {
			return err
		}
		for _, d := range ds {
			addr := d.Address
			if d.UserID != "" {
				// Users' addresses are sealed with their key; the report
				// names them by id.
				addr = ""
			}
			if err := out.Write([]string{d.UserID, addr, string(d.Channel), string(d.Status), d.Reason, d.ProviderMessageID, d.UpdatedAt.UTC().Format(time.RFC3339)}); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
