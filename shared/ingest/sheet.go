package ingest

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/address"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// rejection is a problem with a whole upload: nothing in it is used.
// final says that the upload takes no other file: its file unpacks to far
// more than any spreadsheet (spreadsheet.Error's Inflated), and another
// would be read only to waste the same work.
type rejection struct {
	errs  []notify.RowError
	final bool
}

func (r *rejection) Error() string {
	msgs := make([]string, len(r.errs))
	for i, e := range r.errs {
		msgs[i] = e.Message
	}
	return strings.Join(msgs, "; ")
}

func reject(row int, column, format string, args ...any) *rejection {
	return &rejection{errs: []notify.RowError{{Row: row, Column: column, Message: fmt.Sprintf(format, args...)}}}
}

// fileProblem turns a *spreadsheet.Error, a file that may not be used, into
// a rejection; other errors (reading the copy, io.EOF) pass through.
func fileProblem(err error) error {
	se, ok := err.(*spreadsheet.Error)
	if !ok {
		return err
	}
	if se.Inflated {
		r := reject(se.Row, se.Column, "%s. This upload takes no other file: create a new upload", strings.TrimSuffix(se.Message, "."))
		r.final = true
		return r
	}
	return reject(se.Row, se.Column, "%s", se.Message)
}

// column is a template variable and the column that fills it.
type column struct {
	variable string
	index    int
}

// sendSheet reads the rows of a send: the first column is the address, the
// columns named after the template's variables fill them. It is read once
// to validate and once more to queue (and again for the report), and gives
// the same verdict on every row each time.
type sendSheet struct {
	r      *spreadsheet.Reader
	header []string
	kind   string
	region string
	cols   []column
	// seen holds the valid addresses, to report duplicates.
	seen *firstRows
}

// row is one data row and its verdict.
type row struct {
	n       int
	cells   []string
	address string
	err     *notify.RowError
}

// openSend opens the file for a send of t on channel ch and checks its
// columns against the template's variables. seen, emptied, holds the
// addresses met: the passes over a file share one, so that the second
// grows none of its own beside the first's (a million rows take 40 MB).
func openSend(f *os.File, size int64, lim spreadsheet.Limits, t notify.Template, ch notify.Channel, region string, seen *firstRows) (*sendSheet, error) {
	r, header, err := open(f, size, lim)
	if err != nil {
		return nil, err
	}
	seen.reset()
	s := &sendSheet{r: r, header: header, kind: ch.AddressKind(), region: region, seen: seen}
	var missing []string
	for _, v := range render.Required(t) {
		i := findColumn(header[1:], v)
		if i < 0 {
			missing = append(missing, v)
			continue
		}
		s.cols = append(s.cols, column{variable: v, index: i + 1})
	}
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, v := range missing {
			names[i] = "{{" + v + "}}"
		}
		noun := "variable"
		if len(missing) > 1 {
			noun = "variables"
		}
		return nil, reject(1, missing[0], "the file has no column for the template's %s %s; add a column with that header (the columns are: %s)",
			noun, strings.Join(names, ", "), strings.Join(header, ", "))
	}
	return s, nil
}

// open opens the file and reads its header, which must name every column,
// each once.
func open(f *os.File, size int64, lim spreadsheet.Limits) (*spreadsheet.Reader, []string, error) {
	r, err := spreadsheet.Open(f, size, lim)
	if err != nil {
		return nil, nil, fileProblem(err)
	}
	header := r.Header()
	if err := uniqueHeader(header); err != nil {
		return nil, nil, err
	}
	return r, header, nil
}

// uniqueHeader refuses empty or repeated column names: a value could not
// be told to belong to one variable.
func uniqueHeader(header []string) error {
	seen := map[string]int{}
	for i, h := range header {
		if h == "" {
			return reject(1, spreadsheet.ColumnLetter(i), "column %s has no header; every column needs a name in row 1", spreadsheet.ColumnLetter(i))
		}
		k := strings.ToLower(h)
		if j, ok := seen[k]; ok {
			return reject(1, h, "columns %s and %s are both named %q; give each column its own name", spreadsheet.ColumnLetter(j), spreadsheet.ColumnLetter(i), h)
		}
		seen[k] = i
	}
	return nil
}

// findColumn finds the header equal to name, ignoring case; -1 when none.
func findColumn(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(h, name) {
			return i
		}
	}
	return -1
}

// next reads the next row and judges it; io.EOF at the end. A row is
// refused for the first problem found: cells beyond the header, its
// address, an empty variable, or an address seen on an earlier row.
func (s *sendSheet) next() (row, error) {
	cells, n, err := s.r.Next()
	if err != nil {
		return row{}, fileProblem(err)
	}
	out := row{n: n, cells: cells}
	if e := extraCells(cells, len(s.header), n); e != nil {
		out.err = e
		return out, nil
	}
	first := ""
	if len(cells) > 0 {
		first = cells[0]
	}
	addr, aerr := address.Normalize(s.kind, first, s.region)
	if aerr != nil {
		out.err = &notify.RowError{Row: n, Column: s.header[0], Message: describeAddressError(s.kind, first, aerr)}
		return out, nil
	}
	for _, c := range s.cols {
		if c.index >= len(cells) || cells[c.index] == "" {
			out.err = &notify.RowError{Row: n, Column: s.header[c.index], Message: fmt.Sprintf("is empty; the template needs {{%s}}", c.variable)}
			return out, nil
		}
	}
	if first, dup := s.seen.add(addr, n); dup {
		out.err = &notify.RowError{Row: n, Column: s.header[0], Message: fmt.Sprintf("%s is a duplicate of row %d", addr, first)}
		return out, nil
	}
	out.address = addr
	return out, nil
}

// variables returns the row's values of the template's variables.
func (s *sendSheet) variables(cells []string) map[string]string {
	vars := make(map[string]string, len(s.cols))
	for _, c := range s.cols {
		vars[c.variable] = cells[c.index]
	}
	return vars
}

// extraCells refuses a row with non-empty cells beyond the header: its
// values are out of line with the columns (a stray delimiter or quote), so
// none of them can be trusted. Empty trailing cells are harmless.
func extraCells(cells []string, columns, n int) *notify.RowError {
	for i := len(cells) - 1; i >= columns; i-- {
		if cells[i] != "" {
			return &notify.RowError{Row: n, Column: spreadsheet.ColumnLetter(i),
				Message: fmt.Sprintf("has %d cells but the header has %d columns; check the row for a stray delimiter or quote", i+1, columns)}
		}
	}
	return nil
}

func describeAddressError(kind, v string, err error) string {
	if v == "" {
		if kind == address.KindEmail {
			return "the email address is empty"
		}
		return "the phone number is empty"
	}
	return fmt.Sprintf("%q: %s", v, err.Error())
}

// firstRows remembers the row each value was first seen on, by a 96-bit
// fingerprint of the value (two of a million values share one with a
// probability of 10^-17): 16 bytes a slot rather than the value itself. It
// is open-addressed in shards, so that it takes some 28 MB for a million
// rows where a Go map of 128-bit keys takes 42, and grows a shard at a
// time rather than doubling all at once. The fingerprints are keyed with
// seeds of its own, as a Go map's hashes are, so that nobody can choose
// values (user ids are any text) that crowd one slot and make each add
// walk all of them. Use newFirstRows; the passes over one file share one,
// so that they give each row the same verdict.
type firstRows struct {
	seeds  [2]maphash.Seed
	shards [firstRowsShards]firstRowsShard
}

const firstRowsShards = 256

type firstRowsShard struct {
	slots []firstRowsSlot // a power of two of them, or none
	used  int
}

// firstRowsSlot is a fingerprint and its row; row 0 is an empty slot (rows
// are numbered from 1).
type firstRowsSlot struct {
	key   uint64
	check uint32
	row   int32
}

func newFirstRows() *firstRows {
	return &firstRows{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// reset forgets every value and keeps the memory, for the next pass over
// the same file.
func (m *firstRows) reset() {
	for i := range m.shards {
		clear(m.shards[i].slots)
		m.shards[i].used = 0
	}
}

// add records v as seen on row n, unless it was seen before: then it
// returns the row it was first seen on, and true.
func (m *firstRows) add(v string, n int) (int, bool) {
	key, check := maphash.String(m.seeds[0], v), uint32(maphash.String(m.seeds[1], v))
	sh := &m.shards[key>>56]
	if 4*(sh.used+1) > 3*len(sh.slots) {
		sh.grow()
	}
	mask := uint64(len(sh.slots) - 1)
	for i := key & mask; ; i = (i + 1) & mask {
		s := &sh.slots[i]
		switch {
		case s.row == 0:
			*s = firstRowsSlot{key: key, check: check, row: int32(n)}
			sh.used++
			return 0, false
		case s.key == key && s.check == check:
			return int(s.row), true
		}
	}
}

// grow doubles a shard's slots (16 to start with) and puts its entries back.
func (sh *firstRowsShard) grow() {
	old := sh.slots
	sh.slots = make([]firstRowsSlot, max(16, 2*len(old)))
	mask := uint64(len(sh.slots) - 1)
	for _, s := range old {
		if s.row == 0 {
			continue
		}
		i := s.key & mask
		for sh.slots[i].row != 0 {
			i = (i + 1) & mask
		}
		sh.slots[i] = s
	}
}

// judged is a row with its verdict: nil, or why it is refused.
type judged interface{ verdict() *notify.RowError }

func (r row) verdict() *notify.RowError { return r.err }

// tally reads every row through next, counting the verdicts, before any row
// is used: a file with no rows, or none valid, is rejected. use says what
// becomes of a valid row ("sent", "imported").
func tally[R judged](ctx context.Context, next func() (R, error), use string) (counter, error) {
	var c counter
	for {
		if c.rows.Total%4096 == 0 && ctx.Err() != nil {
			return c, ctx.Err()
		}
		r, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, err
		}
		c.add(r.verdict())
	}
	if c.rows.Total == 0 {
		return c, reject(2, "", "the file has a header but no rows")
	}
	if c.rows.Valid == 0 {
		return c, &rejection{errs: append([]notify.RowError{{Message: fmt.Sprintf("none of the %s can be %s; fix the rows below and upload the file again", notify.Quantity(c.rows.Total, "row", "rows"), use)}}, c.errors...)}
	}
	return c, nil
}

// counter tallies rows and keeps the first errors.
type counter struct {
	rows   notify.UploadRows
	errors []notify.RowError
}

// add counts a row of verdict rerr.
func (c *counter) add(rerr *notify.RowError) {
	c.rows.Total++
	if rerr == nil {
		c.rows.Valid++
		return
	}
	c.rows.Invalid++
	if len(c.errors) < notify.MaxUploadErrors {
		// Bounded, so that 500 of them keep the upload's item small
		// (DynamoDB items are at most 400 KB).
		e := *rerr
		e.Column, e.Message = clip(e.Column, 100), clip(e.Message, 300)
		c.errors = append(c.errors, e)
	}
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
