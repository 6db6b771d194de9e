package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// importWorkers is how many users an import writes at once.
const importWorkers = 16

// The columns a users import knows; any other column is an attribute.
var profileColumns = []string{"name", "email", "phone", "status", "type", "language", "timezone", "tags"}

// usersSheet reads the rows of a users import: a column named id (or
// userId, user_id) and any of profileColumns; the other columns are
// attributes. An empty cell leaves the user's value as it is.
type usersSheet struct {
	r      *spreadsheet.Reader
	header []string
	id     int
	fields map[int]string // column → profile field
	attrs  map[int]string // column → attribute name
	region string
	seen   *firstRows // the valid ids, to report repeats
}

// openUsers opens the file of a users import; seen is as openSend's.
func openUsers(f *os.File, size int64, lim spreadsheet.Limits, region string, seen *firstRows) (*usersSheet, error) {
	r, header, err := open(f, size, lim)
	if err != nil {
		return nil, err
	}
	seen.reset()
	s := &usersSheet{r: r, header: header, id: -1, fields: map[int]string{}, attrs: map[int]string{}, region: region, seen: seen}
	for i, h := range header {
		k := strings.ToLower(h)
		switch {
		case k == "id" || k == "userid" || k == "user_id":
			s.id = i
		case slices.Contains(profileColumns, k):
			s.fields[i] = k
		case len(h) > 64:
			return nil, reject(1, h, "column %s's header is an attribute name, and those are at most 64 characters", spreadsheet.ColumnLetter(i))
		default:
			s.attrs[i] = h
		}
	}
	if s.id < 0 {
		return nil, reject(1, "", "the file has no id column; name the column of user ids \"id\" (the columns are: %s)", strings.Join(header, ", "))
	}
	if len(s.attrs) > profile.MaxAttributes {
		return nil, reject(1, "", "the file has %d attribute columns; a user may have at most %d attributes", len(s.attrs), profile.MaxAttributes)
	}
	return s, nil
}

// userRow is one row of an import and its verdict.
type userRow struct {
	n   int
	id  string
	in  profile.Input
	err *notify.RowError
}

func (r userRow) verdict() *notify.RowError { return r.err }

// next reads the next row and judges it: cells beyond the header, the id,
// every field as the API would, and ids seen on an earlier row.
func (s *usersSheet) next() (userRow, error) {
	cells, n, err := s.r.Next()
	if err != nil {
		return userRow{}, fileProblem(err)
	}
	out := userRow{n: n}
	if e := extraCells(cells, len(s.header), n); e != nil {
		out.err = e
		return out, nil
	}
	cell := func(i int) string {
		if i < len(cells) {
			return cells[i]
		}
		return ""
	}
	out.id = cell(s.id)
	if out.id == "" {
		out.err = &notify.RowError{Row: n, Column: s.header[s.id], Message: "the user id is empty"}
		return out, nil
	}
	if profile.ValidID("id", out.id) != nil {
		out.err = &notify.RowError{Row: n, Column: s.header[s.id], Message: fmt.Sprintf("%q is not a valid user id: 1–128 letters, digits and . _ : @ + -", out.id)}
		return out, nil
	}
	in := profile.Input{MergeAttributes: true}
	for i, field := range s.fields {
		v := cell(i)
		if v == "" {
			continue
		}
		switch field {
		case "name":
			in.Name = &v
		case "email":
			in.Email = &v
		case "phone":
			in.Phone = &v
		case "status":
			in.Status = &v
		case "type":
			in.Type = &v
		case "language":
			in.Language = &v
		case "timezone":
			in.Timezone = &v
		case "tags":
			tags := strings.FieldsFunc(v, func(r rune) bool { return r == '|' || r == ',' })
			in.Tags = &tags
		}
	}
	attrs := map[string]string{}
	for i, name := range s.attrs {
		if v := cell(i); v != "" {
			attrs[name] = v
		}
	}
	if len(attrs) > 0 {
		in.Attributes = &attrs
	}
	// Apply to a blank user: the same checks as PUT /v1/users/{id}.
	var scratch notify.User
	if err := in.Apply(&scratch, s.region, ""); err != nil {
		out.err = s.fieldError(n, err)
		return out, nil
	}
	if first, dup := s.seen.add(out.id, n); dup {
		out.err = &notify.RowError{Row: n, Column: s.header[s.id], Message: fmt.Sprintf("user %s is also on row %d", out.id, first)}
		return out, nil
	}
	out.in = in
	return out, nil
}

// fieldError turns the first problem Apply found into a row error on the
// column it came from.
func (s *usersSheet) fieldError(n int, err error) *notify.RowError {
	var ne *notify.Error
	if !errors.As(err, &ne) || len(ne.Details) == 0 {
		return &notify.RowError{Row: n, Message: err.Error()}
	}
	d := ne.Details[0]
	field, _, _ := strings.Cut(d.Field, "[")
	if name, ok := strings.CutPrefix(field, "attributes."); ok {
		return &notify.RowError{Row: n, Column: name, Message: d.Problem}
	}
	for i, f := range s.fields {
		if f == field {
			return &notify.RowError{Row: n, Column: s.header[i], Message: d.Problem}
		}
	}
	return &notify.RowError{Row: n, Column: field, Message: d.Problem}
}

// importUsers validates every row, then writes the valid ones (creating
// users that are new, merging into those that exist). Writing a row twice
// gives the same user, so a retried run simply writes them again.
func (g *Ingester) importUsers(ctx context.Context, up notify.Upload, f *os.File, size int64, log *slog.Logger) error {
	region := g.Config.region(up)
	seen := newFirstRows()
	openSheet := func() (*usersSheet, error) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return openUsers(f, size, g.Config.Limits, region, seen)
	}
	s, err := openSheet()
	if err != nil {
		return err
	}
	c, err := tally(ctx, s.next, "imported")
	if err != nil {
		return err
	}
	if err := g.finish(ctx, up, func(u *notify.Upload) {
		u.Status, u.Rows, u.Errors = notify.UploadQueued, c.rows, c.errors
	}); err != nil {
		return err
	}

	if s, err = openSheet(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan userRow, importWorkers*4)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range importWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				if _, err := profile.Upsert(ctx, g.Store, up.WorkspaceID, r.id, r.in, region, "", g.now()); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("row %d, user %s: %w", r.n, r.id, err)
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
	var readErr error
	for readErr == nil && ctx.Err() == nil {
		r, err := s.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if r.err == nil {
			work <- r
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if readErr != nil {
		return readErr
	}
	log.Info("users imported", "rows", c.rows.Total, "valid", c.rows.Valid, "invalid", c.rows.Invalid)
	return g.finish(ctx, up, func(u *notify.Upload) { u.Status = notify.UploadCompleted })
}
