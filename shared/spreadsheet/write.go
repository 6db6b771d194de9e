package spreadsheet

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Neutralise returns cell as it is safe to write into a file an operator
// will open in a spreadsheet program: no part of it can be read as a
// formula ("=HYPERLINK(…)", "+cmd|' /C calc'!A0").
//
// A formula starts with =, +, - or @, or with their full-width forms, which
// East Asian input methods type and Excel takes as the same. A program may
// see one at the start of the cell; after the spaces it trims (Google
// Sheets trims them on import, and a quote a reader drops); and, in a CSV
// file opened with another delimiter than it was written with (a Spanish
// Excel splits on ;, a file written with , holds "x;=1+1;y") or by a
// program that ignores quotes, at the start of any piece the cell splits
// into after a comma, a semicolon, a tab or a line break. Each of those
// starts gets a single quote before its first character, as OWASP's
// guidance on CSV injection says: "=1+1" becomes "'=1+1", " =1" becomes
// " '=1", "x;=1+1;y" becomes "x;'=1+1;y". A cell that starts with a tab
// or a carriage return, which some programs drop, gets one at its start.
//
// The exception is a piece that is a plain number: an optional + or -,
// then digits in groups separated by single spaces, then optionally a
// decimal part after one . or , ("+34600000000", "-12.5", "+34 600 000
// 000"). A spreadsheet program reads those as numbers, never as formulas,
// and phone numbers must stay readable. It must be one however the piece
// ends: in a program that splits on semicolons a comma is a decimal mark,
// so "-1,1+HYPERLINK(…)" is a formula there although "-1" is a number.
func Neutralise(cell string) string { return neutralise(cell, false) }

// neutralise is Neutralise; more says that the cell is followed by others
// on its line of a CSV file, which a program splitting on another
// delimiter reads as part of the cell's last piece: "+34600000000" then
// ",5+WEBSERVICE(B3&C4)" is a formula in a Spanish Excel, where the comma
// is a decimal mark. A number that ends the cell is then no exception.
func neutralise(cell string, more bool) string {
	if cell == "" {
		return cell
	}
	var out []byte // nil until a quote is added
	done := 0      // cell[:done] is in out
	if cell[0] == '\t' || cell[0] == '\r' {
		out = append(out, '\'')
	}
	piece := true // at the start of a piece, spaces skipped
	first := true // in the cell's first piece
	for i := 0; i < len(cell); {
		r, size := utf8.DecodeRuneInString(cell[i:])
		switch {
		case isPieceEnd(r):
			piece, first = true, false
		case !piece, unicode.IsSpace(r), r == '"':
		default:
			piece = false
			if startsFormula(cell[i:], first, more) {
				out = append(append(out, cell[done:i]...), '\'')
				done = i
			}
		}
		i += size
	}
	if out == nil {
		return cell
	}
	return string(append(out, cell[done:]...))
}

// isPieceEnd reports whether r ends a piece of a cell as some program may
// split it: a delimiter of CSV (, ; tab) or a line break.
func isPieceEnd(r rune) bool {
	return r == ',' || r == ';' || r == '\t' || r == '\n' || r == '\r'
}

// startsFormula reports whether the piece at the start of s, the rest of a
// cell, starts a formula; first says it is the cell's first piece, which a
// program that keeps quoted cells whole reads to the end of the cell, and
// more that the cell is followed by others on its line (see neutralise).
func startsFormula(s string, first, more bool) bool {
	r, size := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '@', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20': // and ＝ ＋ － ＠
		return true
	case '+', '-':
		rest := s[size:]
		// Only the run of what numbers are made of can be a number:
		// looking no further keeps a cell of many pieces linear.
		run := 0
		for run < len(rest) && (rest[run] >= '0' && rest[run] <= '9' || rest[run] == ' ' || rest[run] == '.' || rest[run] == ',') {
			run++
		}
		// Where the piece ends when the file is split on each delimiter.
		for _, delim := range []byte{',', ';', '\t'} {
			end := strings.IndexByte(rest[:run], delim)
			if end < 0 {
				switch {
				case run == len(rest) && more:
					return true
				case run == len(rest), rest[run] == delim, rest[run] == '\r', rest[run] == '\n':
					end = run
				default:
					return true // the piece goes on past the number
				}
			}
			if !isPlainNumber(rest[:end]) {
				return true
			}
		}
		return first && (run < len(rest) || !isPlainNumber(rest))
	}
	return false
}

// isPlainNumber reports whether s is digits in groups separated by single
// spaces, then optionally one . or , and more digits.
func isPlainNumber(s string) bool {
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = true
		case c == ' ':
			if !digits || i+1 == len(s) || s[i+1] < '0' || s[i+1] > '9' {
				return false
			}
		case c == '.' || c == ',':
			if !digits || i+1 == len(s) {
				return false
			}
			for _, d := range []byte(s[i+1:]) {
				if d < '0' || d > '9' {
					return false
				}
			}
			return true
		default:
			return false
		}
	}
	return digits
}

// Writer writes a result sheet, a row at a time, in constant memory. Every
// cell is cleaned (StripControls, invalid UTF-8 made U+FFFD) and passed
// through Neutralise.
type Writer struct {
	format Format
	out    *bufio.Writer // CSV
	comma  byte
	zip    *zip.Writer
	sheet  *bufio.Writer
	row    int
	buf    []byte
	err    error
}

// Excel's bounds: a sheet of more rows or columns, or a cell of more
// characters (UTF-16 units), does not open.
const (
	maxSheetRows    = 1_048_576
	maxSheetColumns = 16_384
	maxCellChars    = 32_767
)

// NewWriter starts a sheet of format f on w. CSV is UTF-8 with a byte order
// mark (so that Excel opens it as UTF-8), comma-separated, CRLF-terminated.
// XLSX is a one-sheet workbook, "Report", whose first row is bold: the
// header.
func NewWriter(w io.Writer, f Format) (*Writer, error) {
	switch f {
	case CSV:
		return NewCSVWriter(w, ',')
	case XLSX:
		zw := zip.NewWriter(w)
		for _, p := range xlsxParts() {
			pw, err := zw.Create(p.name)
			if err != nil {
				return nil, fmt.Errorf("write spreadsheet: %w", err)
			}
			if _, err := io.WriteString(pw, p.body); err != nil {
				return nil, fmt.Errorf("write spreadsheet: %w", err)
			}
		}
		sw, err := zw.Create("xl/worksheets/sheet1.xml")
		if err != nil {
			return nil, fmt.Errorf("write spreadsheet: %w", err)
		}
		bw := bufio.NewWriterSize(sw, 64<<10)
		bw.WriteString(xml.Header + `<worksheet xmlns="` + nsMain + `"><sheetData>`)
		return &Writer{format: f, zip: zw, sheet: bw}, nil
	}
	return nil, fmt.Errorf("write spreadsheet: unknown format %q", f)
}

// NewCSVWriter starts a CSV sheet on w, as NewWriter does, separated by
// comma: a comma, a semicolon (what Excel uses where the decimal mark is a
// comma, as in Spain) or a tab. A cell that holds any of the three is
// quoted whatever the file's delimiter, so that no program splits it.
func NewCSVWriter(w io.Writer, comma rune) (*Writer, error) {
	if comma != ',' && comma != ';' && comma != '\t' {
		return nil, fmt.Errorf("write spreadsheet: delimiter %q is not a comma, a semicolon or a tab", comma)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(utf8BOM)
	return &Writer{format: CSV, out: bw, comma: byte(comma)}, nil
}

// Write writes a row. Every cell is cleaned: control characters other than
// tab and line breaks removed (StripControls), invalid UTF-8 made U+FFFD,
// then passed through Neutralise. In CSV, a line break inside a cell is
// written CRLF, and a number that starts with + or - gets a quote too
// unless it is the row's last cell (see neutralise): in a spreadsheet
// program that shows "'+34600000000" as the text it is, where without it
// a phone number would turn into 3.46E+10. In XLSX, characters XML 1.0 cannot hold are dropped too, a
// cell is cut to the 32,767 characters Excel holds, and a row beyond
// Excel's 1,048,576 rows or 16,384 columns is an error.
func (w *Writer) Write(cells []string) error {
	if w.err != nil {
		return w.err
	}
	w.row++
	switch w.format {
	case CSV:
		w.err = w.writeCSV(cells)
	case XLSX:
		w.err = w.writeRow(cells)
	}
	return w.err
}

// clean returns a cell as Write writes it, before what a format adds; more
// says that other cells follow it on its line of a CSV file.
func clean(c string, more bool) string {
	if !utf8.ValidString(c) {
		c = strings.ToValidUTF8(c, "\uFFFD")
	}
	return neutralise(StripControls(c), more)
}

func (w *Writer) writeCSV(cells []string) error {
	b := w.buf[:0]
	for i, c := range cells {
		if i > 0 {
			b = append(b, w.comma)
		}
		c = clean(c, i+1 < len(cells))
		if !csvNeedsQuotes(c) {
			b = append(b, c...)
			continue
		}
		b = append(b, '"')
		for j := 0; j < len(c); j++ {
			switch ch := c[j]; ch {
			case '"':
				b = append(b, '"', '"')
			case '\r':
				// A line break, however it is written, is CRLF.
				if j+1 < len(c) && c[j+1] == '\n' {
					j++
				}
				b = append(b, '\r', '\n')
			case '\n':
				b = append(b, '\r', '\n')
			default:
				b = append(b, ch)
			}
		}
		b = append(b, '"')
	}
	b = append(b, '\r', '\n')
	w.buf = b
	if _, err := w.out.Write(b); err != nil {
		return fmt.Errorf("write spreadsheet: %w", err)
	}
	return nil
}

// csvNeedsQuotes reports whether a CSV cell must be quoted: it holds a
// quote, a line break or any of the three delimiters (not only the file's:
// see NewCSVWriter), or it starts with a space, which some readers trim.
func csvNeedsQuotes(c string) bool {
	if c == "" {
		return false
	}
	if strings.ContainsAny(c, "\",;\t\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(c)
	return unicode.IsSpace(r)
}

func (w *Writer) writeRow(cells []string) error {
	if w.row > maxSheetRows {
		return fmt.Errorf("write spreadsheet: more than %s rows", group(maxSheetRows))
	}
	if len(cells) > maxSheetColumns {
		return fmt.Errorf("write spreadsheet: row %d has %d cells, more than %d", w.row, len(cells), maxSheetColumns)
	}
	b := append(w.buf[:0], `<row r="`...)
	b = strconv.AppendInt(b, int64(w.row), 10)
	b = append(b, `">`...)
	for i, c := range cells {
		c = cutCell(clean(xmlText(c), false))
		if c == "" {
			continue
		}
		b = append(b, `<c r="`...)
		b = append(b, ColumnLetter(i)...)
		b = strconv.AppendInt(b, int64(w.row), 10)
		if w.row == 1 {
			b = append(b, `" s="1`...)
		}
		b = append(b, `" t="inlineStr"><is><t xml:space="preserve">`...)
		b = appendEscaped(b, c)
		b = append(b, `</t></is></c>`...)
	}
	b = append(b, `</row>`...)
	w.buf = b
	if _, err := w.sheet.Write(b); err != nil {
		return fmt.Errorf("write spreadsheet: %w", err)
	}
	return nil
}

// Close finishes the file: it flushes a CSV, and ends the sheet and the zip
// of an XLSX. It does not close the io.Writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	w.err = errors.New("write spreadsheet: writer is closed")
	switch w.format {
	case CSV:
		if err := w.out.Flush(); err != nil {
			return fmt.Errorf("write spreadsheet: %w", err)
		}
	case XLSX:
		w.sheet.WriteString(`</sheetData></worksheet>`)
		if err := w.sheet.Flush(); err != nil {
			return fmt.Errorf("write spreadsheet: %w", err)
		}
		if err := w.zip.Close(); err != nil {
			return fmt.Errorf("write spreadsheet: %w", err)
		}
	}
	return nil
}

// xmlText returns s without what XML 1.0 cannot hold: control characters
// other than tab, newline and carriage return; U+FFFE and U+FFFF; invalid
// UTF-8.
func xmlText(s string) string {
	clean := utf8.ValidString(s)
	for _, r := range s {
		if !xmlChar(r) {
			clean = false
			break
		}
	}
	if !clean {
		var b strings.Builder
		for i, r := range s {
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
					continue
				}
			}
			if xmlChar(r) {
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	return s
}

// cutCell cuts s to the characters (UTF-16 units) an Excel cell holds.
func cutCell(s string) string {
	if len(s) <= maxCellChars {
		return s
	}
	units := 0
	for i, r := range s {
		units++
		if r >= 0x10000 {
			units++
		}
		if units > maxCellChars {
			return s[:i]
		}
	}
	return s
}

func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return r <= utf8.MaxRune
}

// appendEscaped appends s escaped as XML text. A carriage return is written
// as a reference so that XML's newline rules keep it; "_x" that would read
// as an Office _xHHHH_ escape is itself escaped.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '\r':
			b = append(b, "&#13;"...)
		case '_':
			if _, ok := escapeAt(s, i); ok {
				b = append(b, "_x005F_"...)
			} else {
				b = append(b, '_')
			}
		default:
			b = append(b, c)
		}
	}
	return b
}

const (
	nsMain = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
)

// xlsxParts returns the parts of a written workbook other than its sheet.
func xlsxParts() []struct{ name, body string } {
	return []struct{ name, body string }{
		{"[Content_Types].xml", xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
			`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
			`</Types>`},
		{"_rels/.rels", xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + nsRels + `/officeDocument" Target="xl/workbook.xml"/>` +
			`</Relationships>`},
		{"xl/workbook.xml", xml.Header + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRels + `">` +
			`<sheets><sheet name="Report" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="` + nsRels + `/worksheet" Target="worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="` + nsRels + `/styles" Target="styles.xml"/>` +
			`</Relationships>`},
		{"xl/styles.xml", xml.Header + `<styleSheet xmlns="` + nsMain + `">` +
			`<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>` +
			`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
			`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
			`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
			`<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
			`<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>` +
			`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
			`</styleSheet>`},
	}
}
