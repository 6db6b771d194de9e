// Package spreadsheet reads the CSV and XLSX files operators upload and
// writes the result reports made of them, in constant memory: a file of a
// million rows is read one row at a time, twice (a validation pass and a
// queueing pass), without ever holding its rows.
//
// Everything a file can do wrong is a *Error with a message the operator can
// act on ("save it as CSV UTF-8"); any other error is an I/O failure of the
// io.ReaderAt and may be retried. Only the standard library is used, so the
// Lambda binaries stay small.
package spreadsheet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/notify"
)

// Default limits: the most an upload may hold.
const (
	DefaultMaxRows      = 1_000_000
	DefaultMaxColumns   = 256
	DefaultMaxCellBytes = 4096
)

// Limits bound what a file may hold. Zero fields take the defaults.
type Limits struct {
	// MaxRows counts data rows: the header and blank rows are not rows.
	MaxRows int
	// MaxColumns counts columns up to the last non-empty cell.
	MaxColumns int
	// MaxCellBytes bounds one cell, before its spaces are trimmed.
	MaxCellBytes int
}

func (l Limits) withDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultMaxColumns
	}
	if l.MaxCellBytes <= 0 {
		l.MaxCellBytes = DefaultMaxCellBytes
	}
	return l
}

// Format is a kind of spreadsheet file.
type Format string

// The formats read and written. Reading tells them apart by content, never
// by file name: operators rename files.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// Error is a problem with the file as a whole: it cannot be read safely, so
// nothing in it may be used. Message is a whole sentence for the operator
// that names the row and column itself and says what to do.
type Error struct {
	// Row is the row number a spreadsheet program shows (the header is
	// usually row 1), or 0 when the problem is not about one row.
	Row int
	// Column is the header of the column at fault, or its letter ("C")
	// when it has none; empty when the problem is not about one cell.
	Column  string
	Message string
	// Inflated says that the file holds or unpacks to far more than any
	// real spreadsheet does (a zip bomb): reading it again would waste the
	// same work, so a caller may refuse to take another file in its place.
	Inflated bool
}

// Error returns the message, which is meant for the operator as it is.
func (e *Error) Error() string { return e.Message }

func fileError(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

func rowError(row int, format string, args ...any) *Error {
	return &Error{Row: row, Message: fmt.Sprintf(format, args...)}
}

// What the start of a file says it is.
const (
	zipMagic = "PK\x03\x04"
	zipEmpty = "PK\x05\x06"
	oleMagic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1" // Office 97-2003, and encrypted Office files
	utf16LE  = "\xFF\xFE"
	utf16BE  = "\xFE\xFF"
	utf8BOM  = "\xEF\xBB\xBF"
	// sniffSize is how much of a file is looked at to tell what it is.
	sniffSize = 8 << 10
)

// Reader reads a spreadsheet's rows in order, one at a time.
type Reader struct {
	format Format
	lim    Limits
	src    rowSource
	header []string
	rows   int
	err    error
}

// rowSource yields a format's rows untrimmed, with their row numbers; the
// Reader applies the rules common to both formats.
type rowSource interface {
	next() (cells []string, row int, err error)
}

// Open sniffs the content of r (size bytes; never the file name) and reads
// the header row: the first row that is not blank. A file that holds only a
// header is not an error: Next returns io.EOF at once.
func Open(r io.ReaderAt, size int64, lim Limits) (*Reader, error) {
	lim = lim.withDefaults()
	if size <= 0 {
		return nil, fileError("the file is empty")
	}
	head := make([]byte, min(size, int64(sniffSize)))
	if n, err := r.ReadAt(head, 0); n < len(head) {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read spreadsheet: %w", err)
	}
	rd := &Reader{lim: lim}
	switch start := string(head[:min(len(head), 8)]); {
	case strings.HasPrefix(start, zipMagic), strings.HasPrefix(start, zipEmpty):
		src, err := openXLSX(r, size, lim)
		if err != nil {
			return nil, err
		}
		rd.format, rd.src = XLSX, src
	case strings.HasPrefix(start, oleMagic):
		return nil, fileError("this is an old Excel 97-2003 .xls file (or a password-protected workbook); save it as .xlsx or as CSV UTF-8, without a password")
	case strings.HasPrefix(start, utf16LE), strings.HasPrefix(start, utf16BE):
		return nil, fileError("this file is UTF-16 text (Excel's \"Unicode Text\"); save it as CSV UTF-8")
	default:
		if err := sniffText(head); err != nil {
			return nil, err
		}
		src, err := openCSV(r, size, head, lim)
		if err != nil {
			return nil, err
		}
		rd.format, rd.src = CSV, src
	}
	for {
		cells, _, err := rd.read()
		if err == io.EOF {
			return nil, fileError("the file is empty")
		}
		if err != nil {
			return nil, err
		}
		if cells == nil {
			continue
		}
		rd.header = slices.Clone(cells)
		return rd, nil
	}
}

// sniffText rejects what cannot be CSV text, judging by the start of the
// file.
func sniffText(head []byte) error {
	head = bytes.TrimPrefix(head, []byte(utf8BOM))
	// PDF, PNG, GIF, JPEG, gzip, 7-Zip, RAR, bzip2.
	for _, magic := range []string{"%PDF-", "\x89PNG", "GIF8", "\xFF\xD8\xFF", "\x1F\x8B", "7z\xBC\xAF", "Rar!", "BZh"} {
		if bytes.HasPrefix(head, []byte(magic)) {
			return fileError("this is not a CSV or XLSX file (binary content)")
		}
	}
	var nul [2]int
	control := 0
	for i, c := range head {
		switch {
		case c == 0:
			nul[i%2]++
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1A:
			control++
		}
	}
	if nul[0]+nul[1] > 0 {
		// UTF-16 without a byte order mark: every other byte of ASCII
		// text is a zero.
		half := len(head) / 2
		if half >= 4 && (nul[0]*10 > half*4 && nul[1]*20 < half || nul[1]*10 > half*4 && nul[0]*20 < half) {
			return fileError("this file is UTF-16 text (Excel's \"Unicode Text\"); save it as CSV UTF-8")
		}
		return fileError("this is not a CSV or XLSX file (binary content)")
	}
	if control*100 > len(head) {
		return fileError("this is not a CSV or XLSX file (binary content)")
	}
	return nil
}

// Format is the format the content was found to be.
func (r *Reader) Format() Format { return r.format }

// Delimiter is the delimiter of a CSV file (a comma, a semicolon, a tab or
// a bar), or 0 for a workbook.
func (r *Reader) Delimiter() rune {
	if s, ok := r.src.(*csvSource); ok {
		return s.cr.Comma
	}
	return 0
}

// Header returns the header row: its cells trimmed of surrounding spaces,
// without the empty cells that trail it. Columns without a header are "".
func (r *Reader) Header() []string { return slices.Clone(r.header) }

// Next returns the next data row that is not blank, and its row number: the
// one a spreadsheet program shows (the header is usually row 1, so the first
// data row is usually row 2; blank rows keep their numbers, so rows after
// them are numbered as the operator sees them). Cells are trimmed of
// surrounding spaces and empty cells at the end are dropped, so a row may
// have fewer cells than the header, or more; the caller decides what that
// means. The slice is reused by the next call; the strings are not.
//
// Next returns io.EOF after the last row. A *Error means the file may not be
// used at all; once Next has returned an error it returns it again.
func (r *Reader) Next() (cells []string, row int, err error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	for {
		cells, row, err := r.read()
		if err != nil {
			r.err = err
			return nil, 0, err
		}
		if cells == nil {
			continue
		}
		r.rows++
		if r.rows > r.lim.MaxRows {
			r.err = rowError(row, "the file has more than %s rows; split it into files of at most %[1]s rows", group(r.lim.MaxRows))
			return nil, 0, r.err
		}
		return cells, row, nil
	}
}

// read returns the next row with its cells trimmed of spaces and control
// characters and its trailing empty cells dropped, or nil cells for a blank
// row.
func (r *Reader) read() ([]string, int, error) {
	cells, row, err := r.src.next()
	if err != nil {
		return nil, 0, err
	}
	last := -1
	for i, c := range cells {
		if len(c) > r.lim.MaxCellBytes {
			col, shown := r.column(i)
			return nil, 0, &Error{Row: row, Column: col, Message: fmt.Sprintf(
				"row %d, column %s has a cell of %s bytes; at most %s are allowed, shorten it",
				row, shown, group(len(c)), group(r.lim.MaxCellBytes))}
		}
		c = strings.TrimSpace(StripControls(c))
		cells[i] = c
		if c != "" {
			last = i
		}
	}
	if last < 0 {
		return nil, row, nil
	}
	if last >= r.lim.MaxColumns {
		return nil, 0, tooManyColumns(row, last+1, r.lim.MaxColumns)
	}
	return cells[:last+1], row, nil
}

func tooManyColumns(row, n, max int) *Error {
	return &Error{Row: row, Column: ColumnLetter(n - 1), Message: fmt.Sprintf(
		"the file has %d columns; at most %d are allowed (row %d has a value in column %s); delete the extra columns",
		n, max, row, ColumnLetter(n-1))}
}

// column names column i (0-based): its header, or its letter when it has
// none (or while the header itself is read), and that name as a message
// shows it.
func (r *Reader) column(i int) (name, shown string) {
	if i < len(r.header) && r.header[i] != "" {
		return r.header[i], strconv.Quote(r.header[i])
	}
	l := ColumnLetter(i)
	return l, l
}

// StripControls returns s without the control characters a cell may not
// carry into a message or a report, the ones the API refuses in a JSON
// body (notify.IsBadControl): those below U+0020 other than tab, line feed
// and carriage return, DEL, and C1 (U+0080 to U+009F).
//
// They are removed rather than refused, row by row: no spreadsheet program
// shows them or lets them be typed, so the operator cannot have meant them
// (they come from text pasted out of terminals, PDFs or old databases, or
// from the _x001B_ escapes of a workbook), and cannot see which cells to
// fix; removing them changes nothing the operator sees. A NUL in a CSV file
// is the exception, refused before this: it says the file is not text.
func StripControls(s string) string {
	i := strings.IndexFunc(s, notify.IsBadControl)
	if i < 0 {
		return s
	}
	b := make([]byte, i, len(s))
	copy(b, s)
	for i < len(s) {
		// Bytes that are not UTF-8 are kept as they are: what they are is
		// for the reader's and the writer's own rules to say.
		r, size := utf8.DecodeRuneInString(s[i:])
		if !notify.IsBadControl(r) {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// ColumnLetter returns the letters a spreadsheet program names column i
// (0-based) with: A, …, Z, AA, ….
func ColumnLetter(i int) string {
	var b [8]byte
	n := len(b)
	for i++; i > 0; i = (i - 1) / 26 {
		n--
		b[n] = byte('A' + (i-1)%26)
	}
	return string(b[n:])
}

// group writes n with thousands separators: 1,000,000.
func group(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// ioError wraps a failure to read the underlying file, which is not the
// file's fault; *Error values pass through.
func ioError(err error) error {
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	return fmt.Errorf("read spreadsheet: %w", err)
}
