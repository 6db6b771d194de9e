package spreadsheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// maxLine bounds a physical CSV line: binary junk without newlines must not
// be buffered whole.
const maxLine = 1 << 20

// maxSheetCells is the most cells a row of a spreadsheet program has
// (Excel's 16,384 columns): a row may end in empty cells up to it, which
// the reader drops, but no further. encoding/csv holds a row's cells and
// their positions at once, 40 bytes a cell, so a line of a million
// delimiters would take 40 MB.
const maxSheetCells = 16_384

// csvSource reads CSV rows through encoding/csv.
type csvSource struct {
	cr *csv.Reader
	// embedded counts the newlines inside quoted cells read so far: the
	// physical lines that are not rows of their own, which turn a line
	// number into the row number Excel shows.
	embedded int
}

// openCSV opens the CSV text of r, which starts with head.
func openCSV(r io.ReaderAt, size int64, head []byte, lim Limits) (*csvSource, error) {
	start := int64(0)
	if bytes.HasPrefix(head, []byte(utf8BOM)) {
		start = int64(len(utf8BOM))
	}
	delim, skip, err := detectDelimiter(io.NewSectionReader(r, start, size-start))
	if err != nil {
		return nil, err
	}
	start += skip
	g := &lineGuard{
		src:       io.NewSectionReader(r, start, size-start),
		maxRecord: max(maxLine, lim.MaxColumns*(2*lim.MaxCellBytes+3)),
		delim:     byte(delim),
		maxCells:  max(lim.MaxColumns, maxSheetCells),
		row:       1,
	}
	// A *bufio.Reader of at least 4 KiB is used by csv.NewReader as it is,
	// so the file is read 64 KiB at a time.
	cr := csv.NewReader(bufio.NewReaderSize(g, 64<<10))
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	// Cells are trimmed anyway; this lets `a, "b"` parse. With a tab
	// delimiter it would swallow empty cells.
	cr.TrimLeadingSpace = delim != '\t'
	return &csvSource{cr: cr}, nil
}

func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		if e, ok := errors.AsType[*csv.ParseError](err); ok {
			return nil, 0, s.parseError(e)
		}
		return nil, 0, ioError(err)
	}
	line, _ := s.cr.FieldPos(0)
	row := line - s.embedded
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return nil, 0, rowError(row, "row %d is not UTF-8 text; save the file as CSV UTF-8 (in Excel: Save As, \"CSV UTF-8 (Comma delimited)\"; Excel's plain \"CSV\" on Windows writes Windows-1252 text, which is not UTF-8)", row)
		}
		if strings.IndexByte(f, 0) >= 0 {
			return nil, 0, rowError(row, "row %d holds binary content (a NUL byte); this is not a CSV file of text", row)
		}
		s.embedded += strings.Count(f, "\n")
	}
	return rec, row, nil
}

func (s *csvSource) parseError(e *csv.ParseError) *Error {
	row := e.StartLine - s.embedded
	switch {
	case errors.Is(e.Err, csv.ErrBareQuote):
		return rowError(row, "row %d has a quote (\") inside a cell that does not start with one; put the whole cell in quotes and double the quotes inside it (\"\"), or save the file again from your spreadsheet program", row)
	case errors.Is(e.Err, csv.ErrQuote):
		return rowError(row, "row %d has a quoted cell that is never closed, or text after a closing quote (\"); check the quotes in that row, or save the file again from your spreadsheet program", row)
	default:
		return rowError(row, "row %d is not valid CSV (%v); save the file again from your spreadsheet program", row, e.Err)
	}
}

// detectDelimiter finds the delimiter of the header line: the one of , ; and
// tab found most often outside quotes (a tie goes to the comma). Excel's
// "sep=;" first line names it instead, and is skipped (skip is its length).
func detectDelimiter(r io.Reader) (delim rune, skip int64, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := br.Peek(len("sep=;\r\n"))
	if err != nil && err != io.EOF {
		return 0, 0, ioError(err)
	}
	if line, _, ok := bytes.Cut(first, []byte("\n")); ok && bytes.HasPrefix(line, []byte("sep=")) {
		sep := bytes.TrimSuffix(line[len("sep="):], []byte("\r"))
		if len(sep) == 1 && strings.IndexByte(",;\t|", sep[0]) >= 0 {
			return rune(sep[0]), int64(len(line) + 1), nil
		}
	}
	var comma, semi, tab int
	quoted, content := false, false
	for n := 0; n < 4*maxLine; n++ {
		c, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, ioError(err)
		}
		switch {
		case c == '"':
			quoted = !quoted
			content = true
		case quoted:
		case c == ',':
			comma++
		case c == ';':
			semi++
		case c == '\t':
			tab++
		case c == '\n' || c == '\r':
			if content {
				return pick(comma, semi, tab), 0, nil
			}
			comma, semi, tab = 0, 0, 0
		case c != ' ':
			content = true
		}
	}
	return pick(comma, semi, tab), 0, nil
}

func pick(comma, semi, tab int) rune {
	switch {
	case semi > comma && semi >= tab:
		return ';'
	case tab > comma && tab > semi:
		return '\t'
	default:
		return ','
	}
}

// lineGuard sits between the file and encoding/csv. It bounds physical lines,
// logical rows and the cells of a row, so binary junk, a quote left open or
// a line of delimiters cannot make the parser buffer the rest of the file,
// and it turns the lone carriage returns of old Mac files into newlines. It
// follows quotes to know which newlines end rows and which delimiters end
// cells, so its errors name the row Excel shows.
type lineGuard struct {
	src       io.Reader
	maxRecord int
	delim     byte
	maxCells  int
	line      int // bytes in the current physical line
	record    int // bytes in the current row
	delims    int // delimiters of the current row so far
	row       int // row number of the byte being read
	quoted    bool
	cr        bool // the last byte was a carriage return, sent as a newline
	err       error
}

func (g *lineGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	for {
		n, err := g.src.Read(p)
		w := 0
		for i := 0; i < n; {
			c := p[i]
			if g.cr {
				g.cr = false
				if c == '\n' {
					i++
					continue
				}
			}
			switch c {
			case '\r':
				c = '\n'
				g.cr = true
			case '"':
				g.quoted = !g.quoted
			case g.delim:
				if !g.quoted {
					// The delimiters of a row are one fewer than its
					// cells.
					if g.delims++; g.delims >= g.maxCells {
						g.err = rowError(g.row, "row %d has more than %s columns, more than any spreadsheet has; check that the file is a CSV file of text", g.row, group(g.maxCells))
						return w, g.err
					}
				}
			}
			if c == '\n' {
				p[w] = '\n'
				w++
				i++
				g.line = 0
				if !g.quoted {
					g.row++
					g.record = 0
					g.delims = 0
				}
				continue
			}
			j := i + 1
			for j < n && p[j] != '"' && p[j] != '\n' && p[j] != '\r' && p[j] != g.delim {
				j++
			}
			if w != i {
				copy(p[w:], p[i:j])
			}
			w += j - i
			g.line += j - i
			g.record += j - i
			i = j
			switch {
			case g.line > maxLine:
				g.err = rowError(g.row, "row %d has a line longer than 1 MiB; check that the file is a CSV file of text", g.row)
			case g.record > g.maxRecord:
				g.err = rowError(g.row, "row %d is longer than %s bytes; check for a quote (\") that is opened but never closed", g.row, group(g.maxRecord))
			}
			if g.err != nil {
				return w, g.err
			}
		}
		if w > 0 || n == 0 || err != nil {
			return w, err
		}
	}
}
