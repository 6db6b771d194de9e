package ingest

import (
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/address"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// rejection is a problem with a whole upload: nothing in it is used.
type rejection struct{ errs []notify.RowError }

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
	// seen maps a hash of each valid address to its row, to report
	// duplicates: 16 bytes a row rather than the address itself.
	seen map[[16]byte]int32
}

// row is one data row and its verdict.
type row struct {
	n       int
	cells   []string
	address string
	err     *notify.RowError
}

// openSend opens the file for a send of t on channel ch and checks its
// columns against the template's variables.
func openSend(f *os.File, size int64, lim spreadsheet.Limits, t notify.Template, ch notify.Channel, region string) (*sendSheet, error) {
	r, err := open(f, size, lim)
	if err != nil {
		return nil, err
	}
	header := r.Header()
	if err := uniqueHeader(header); err != nil {
		return nil, err
	}
	s := &sendSheet{r: r, header: header, kind: ch.AddressKind(), region: region, seen: map[[16]byte]int32{}}
	var missing []string
	for _, v := range requiredVariables(t) {
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

func open(f *os.File, size int64, lim spreadsheet.Limits) (*spreadsheet.Reader, error) {
	r, err := spreadsheet.Open(f, size, lim)
	if se, ok := err.(*spreadsheet.Error); ok {
		return nil, reject(se.Row, se.Column, "%s", se.Message)
	}
	return r, err
}

// uniqueHeader refuses empty or repeated column names: a value could not
// be told to belong to one variable.
func uniqueHeader(header []string) error {
	seen := map[string]int{}
	for i, h := range header {
		if h == "" {
			return reject(1, columnLetter(i), "column %s has no header; every column needs a name in row 1", columnLetter(i))
		}
		k := strings.ToLower(h)
		if j, ok := seen[k]; ok {
			return reject(1, h, "columns %s and %s are both named %q; give each column its own name", columnLetter(j), columnLetter(i), h)
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

// requiredVariables lists the variables a template needs filled: those its
// text uses and, for an approved WhatsApp template, those its numbered
// parameters map to (in place of the numbers).
func requiredVariables(t notify.Template) []string {
	var out []string
	numbered := t.WhatsApp != nil && len(t.WhatsApp.Parameters) > 0
	for _, v := range t.Variables {
		if _, err := strconv.Atoi(v); err == nil && numbered {
			continue
		}
		out = append(out, v)
	}
	if t.WhatsApp != nil {
		for _, p := range t.WhatsApp.Parameters {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// columnLetter names column i (0-based) as spreadsheets do: A, B, … AA.
func columnLetter(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}

// next reads the next row and judges it; io.EOF at the end. A row is
// refused for the first problem found: cells beyond the header, its
// address, an empty variable, or an address seen on an earlier row.
func (s *sendSheet) next() (row, error) {
	cells, n, err := s.r.Next()
	if err != nil {
		if se, ok := err.(*spreadsheet.Error); ok {
			return row{}, reject(se.Row, se.Column, "%s", se.Message)
		}
		return row{}, err
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
	h := fnv.New128a()
	h.Write([]byte(addr))
	var key [16]byte
	h.Sum(key[:0])
	if first, ok := s.seen[key]; ok {
		out.err = &notify.RowError{Row: n, Column: s.header[0], Message: fmt.Sprintf("%s is a duplicate of row %d", addr, first)}
		return out, nil
	}
	s.seen[key] = int32(n)
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
			return &notify.RowError{Row: n, Column: columnLetter(i),
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

// counter tallies rows and keeps the first errors.
type counter struct {
	rows   notify.UploadRows
	errors []notify.RowError
}

func (c *counter) add(r row) {
	c.rows.Total++
	if r.err == nil {
		c.rows.Valid++
		return
	}
	c.rows.Invalid++
	if len(c.errors) < notify.MaxUploadErrors {
		// Bounded, so that 500 of them keep the upload's item small
		// (DynamoDB items are at most 400 KB).
		e := *r.err
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
