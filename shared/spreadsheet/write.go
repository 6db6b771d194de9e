package spreadsheet

import (
	"archive/zip"
	"bufio"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Neutralise returns cell as it is safe to write into a file an operator
// will open in a spreadsheet program. A cell that begins with =, +, -, @, a
// tab or a carriage return could run as a formula ("=HYPERLINK(…)",
// "+cmd|' /C calc'!A0"), so it gets a leading single quote, as OWASP's
// guidance on CSV injection says.
//
// The exception is a cell that is a plain number: an optional + or -, then
// digits in groups separated by single spaces, then optionally a decimal
// part after one . or , ("+34600000000", "-12.5", "+34 600 000 000"). A
// spreadsheet program reads those as numbers, never as formulas, and phone
// numbers must stay readable.
func Neutralise(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '@', '\t', '\r':
		return "'" + cell
	case '+', '-':
		if !isPlainNumber(cell[1:]) {
			return "'" + cell
		}
	}
	return cell
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
// cell is passed through Neutralise.
type Writer struct {
	format Format
	csv    *csv.Writer
	zip    *zip.Writer
	sheet  *bufio.Writer
	row    int
	buf    []byte
	cells  []string
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
		if _, err := io.WriteString(w, utf8BOM); err != nil {
			return nil, fmt.Errorf("write spreadsheet: %w", err)
		}
		cw := csv.NewWriter(w)
		cw.UseCRLF = true
		return &Writer{format: f, csv: cw}, nil
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

// Write writes a row, every cell through Neutralise. In CSV, invalid UTF-8
// becomes U+FFFD and a carriage return inside a cell a line break. In XLSX,
// characters XML 1.0 cannot hold are dropped, a cell is cut to the 32,767
// characters Excel holds, and a row beyond Excel's 1,048,576 rows or 16,384
// columns is an error.
func (w *Writer) Write(cells []string) error {
	if w.err != nil {
		return w.err
	}
	w.row++
	switch w.format {
	case CSV:
		w.cells = w.cells[:0]
		for _, c := range cells {
			if !utf8.ValidString(c) {
				c = strings.ToValidUTF8(c, "\uFFFD")
			}
			c = Neutralise(c)
			if strings.IndexByte(c, '\r') >= 0 {
				// encoding/csv drops a carriage return that is
				// not part of a line end (and writes newlines as
				// CRLF): keep the line break.
				c = strings.ReplaceAll(strings.ReplaceAll(c, "\r\n", "\n"), "\r", "\n")
			}
			w.cells = append(w.cells, c)
		}
		if err := w.csv.Write(w.cells); err != nil {
			w.err = fmt.Errorf("write spreadsheet: %w", err)
		}
	case XLSX:
		w.err = w.writeRow(cells)
	}
	return w.err
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
		c = cutCell(Neutralise(xmlText(c)))
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
		w.csv.Flush()
		if err := w.csv.Error(); err != nil {
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
