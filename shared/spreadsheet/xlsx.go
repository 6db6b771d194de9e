package spreadsheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"
)

// Bounds on what a workbook may hold and unpack to, so that a zip bomb
// fails within a moment with a message instead of taking the function's
// memory and minutes of CPU. Each is what a real workbook within Limits
// needs, with room to spare; see partBounds for the ones computed from
// Limits.
const (
	// maxParts: Excel workbooks have tens of parts, one per sheet, table,
	// chart and image beyond a handful of fixed ones.
	maxParts = 10_000
	// maxDirectoryBytes bounds the zip's central directory, which
	// archive/zip reads whole into memory: an entry of a real workbook
	// takes under 300 bytes (46 fixed, the part name, a few extra fields).
	maxDirectoryBytes = maxParts * 1024
	// sheetBytesPerRow is what a row of the sheet may take in XML, on
	// average over the sheet: Excel-like writers take 120 to 550 bytes for
	// rows of 3 to 10 cells (measured on 100,000-row files), and wider
	// rows at the row limit could not be uploaded anyway: at about 3.7
	// compressed bytes a cell, a 50 MB file holds some 13 million cells,
	// 0.7 GB of XML.
	sheetBytesPerRow = 1024
	// minSheetBytes is the least the sheet is allowed, for small row
	// limits.
	minSheetBytes = 64 << 20
	// maxRatio is the most the sheet and the table of text may inflate:
	// real ones inflate 7 to 25 times (measured, rows of Excel-like XML
	// with cell references), Apache POI refuses more than 100 (its
	// ZipSecureFile's default), and a deflate bomb inflates up to 1,032
	// times. A part first unpacks ratioGrace bytes before its ratio
	// counts, so that small parts, which compress better, are not judged
	// on it.
	maxRatio   = 100
	ratioGrace = 1 << 20
	// maxOtherBytes bounds what is read of the other parts: the list of
	// parts, the list of sheets and the styles, each read only up to what
	// is needed (the styles up to the cell formats: Excel's 65,490 of
	// under 256 bytes each, and as many again of cell style formats).
	maxOtherBytes = 40 << 20
	// maxStyles is Excel's own limit on cell formats in a workbook.
	maxStyles = 65_490
	// maxToken bounds a token of a part (a text, a tag, a comment):
	// xmlScanner buffers one whole. A cell of Excel's 32,767 characters
	// takes at most 330 KB of XML, every character escaped (&#x10FFFF;).
	maxToken = 1 << 20
	// stringsMemory bounds the table of text held while the sheet is
	// read: its text plus 4 bytes an entry. It is the one part of a
	// workbook held whole, and an upload's peak memory must stay under
	// 150 MB with the garbage collector letting the heap reach twice what
	// is live, beside ingestion's duplicate check of a million rows (28
	// MB) and what streams (under 10 MB). A million rows of a unique name
	// each fit; a workbook of more text is refused with the advice to save
	// it as CSV, which is read as it streams.
	stringsMemory = 32 << 20
	// maxStringsXML bounds the XML of the table of text: escapes, rich
	// text runs and phonetic guides make it up to several times its text.
	maxStringsXML = 256 << 20
)

// xlsxBounds are the bounds of a workbook computed from Limits.
type xlsxBounds struct {
	// sheetBytes bounds the XML of the sheet: sheetBytesPerRow for each
	// row allowed (and the header).
	sheetBytes int64
	// maxStrings bounds the entries of the table of text: a cell uses at
	// most one, so a sheet within Limits uses at most MaxColumns for each
	// row and the header; and each entry takes 4 bytes of stringsMemory.
	maxStrings int
	// cellCap is how much of one cell's XML text is kept: a cell longer
	// than MaxCellBytes is refused whatever it holds beyond, and its XML
	// may spell a character in up to 8 bytes (&#x1F600; for 4).
	cellCap int
}

func boundsOf(lim Limits) xlsxBounds {
	return xlsxBounds{
		// In whole MiB, so that messages say it simply.
		sheetBytes: max(minSheetBytes, (int64(lim.MaxRows+1)*sheetBytesPerRow+1<<20-1)&^(1<<20-1)),
		maxStrings: int(min(int64(lim.MaxRows+1)*int64(lim.MaxColumns), stringsMemory/4)),
		cellCap:    8*lim.MaxCellBytes + 8,
	}
}

// xlsxSource streams the rows of a workbook's first worksheet.
type xlsxSource struct {
	sc       *xmlScanner
	strs     *sharedStrings
	kinds    []numKind // by style (cellXfs) index
	date1904 bool
	maxCols  int
	cellCap  int // bytes of one cell's XML text kept; beyond, it is too long anyway

	cells  []string
	row    int
	inData bool
	done   bool

	// The cell being read.
	col     int
	typ     string
	style   int
	inV     bool
	inIs    bool
	inT     bool
	phon    int // depth of <rPh>: phonetic guides are not the cell's text
	v, t    []byte
	tooLong bool
}

func openXLSX(r io.ReaderAt, size int64, lim Limits) (*xlsxSource, error) {
	if err := checkZipDirectory(r, size); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(offsetGuard{r}, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) || errors.Is(err, zip.ErrChecksum) ||
			errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errBadOffset) {
			return nil, fileError("this file is a damaged zip file, not a readable Excel workbook; save it again as .xlsx or as CSV UTF-8")
		}
		return nil, ioError(err)
	}
	pkg := &xlsxPackage{parts: make(map[string]*zip.File, len(zr.File))}
	// Deflate through a counter of the compressed bytes, so that a part's
	// ratio is judged on what it really takes in the file, not on the
	// sizes its zip entry declares. f.Open calls this as it opens a part.
	zr.RegisterDecompressor(zip.Deflate, func(r io.Reader) io.ReadCloser {
		pkg.packed = &countingReader{r: r}
		return flate.NewReader(pkg.packed)
	})
	for _, f := range zr.File {
		name := strings.ToLower(strings.TrimPrefix(f.Name, "/"))
		if _, dup := pkg.parts[name]; !dup {
			pkg.parts[name] = f
		}
	}

	wbPath := "xl/workbook.xml"
	if rels, err := pkg.rels("_rels/.rels", ""); err != nil {
		return nil, err
	} else if t, ok := rels.target("/officeDocument"); ok {
		wbPath = t
	}
	wbRels, err := pkg.rels(path.Join(path.Dir(wbPath), "_rels", path.Base(wbPath)+".rels"), path.Dir(wbPath))
	if err != nil {
		return nil, err
	}
	wb, err := pkg.workbook(wbPath)
	if err != nil {
		return nil, err
	}

	sheet := firstSheet(wb, wbRels)
	if sheet == "" || pkg.parts[strings.ToLower(sheet)] == nil {
		sheet = "xl/worksheets/sheet1.xml"
	}

	b := boundsOf(lim)
	src := &xlsxSource{date1904: wb.date1904, maxCols: lim.MaxColumns, cellCap: b.cellCap}
	ssPath, ok := wbRels.target("/sharedStrings")
	if !ok {
		ssPath = "xl/sharedStrings.xml"
	}
	if src.strs, err = pkg.sharedStrings(ssPath, lim.MaxCellBytes, b); err != nil {
		return nil, err
	}
	stylesPath, ok := wbRels.target("/styles")
	if !ok {
		stylesPath = "xl/styles.xml"
	}
	if src.kinds, err = pkg.styles(stylesPath); err != nil {
		return nil, err
	}
	pr, ok, err := pkg.open(sheet, partBounds{limit: b.sheetBytes, whole: true, ratio: true, maxRun: max(maxToken, b.cellCap+64)}, "the first sheet")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fileError("the workbook has no worksheet; save it again from Excel as .xlsx, or as CSV UTF-8")
	}
	src.sc = newXMLScanner(pr, max(maxToken, b.cellCap+64), func() error { return pr.(*partReader).tooLong() })
	return src, nil
}

// firstSheet returns the part of the first worksheet in workbook order that
// the operator can see (a hidden one only when all are), or "".
func firstSheet(wb workbook, rels relationships) string {
	for _, hidden := range []bool{false, true} {
		for _, s := range wb.sheets {
			rel, ok := rels.byID[s.rid]
			if ok && s.hidden == hidden && strings.HasSuffix(rel.typ, "/worksheet") {
				return rel.target
			}
		}
	}
	return ""
}

// errBadOffset is a zip's pointer to before its start: a damaged file, not a
// failure to read it.
var errBadOffset = errors.New("zip offset out of range")

// offsetGuard refuses the negative offsets archive/zip computes from a
// damaged zip, so that they read as damage rather than as I/O failures.
type offsetGuard struct{ r io.ReaderAt }

func (g offsetGuard) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errBadOffset
	}
	return g.r.ReadAt(p, off)
}

// checkZipDirectory refuses a zip of too many parts, or of a directory
// larger than a workbook's, before archive/zip reads its whole central
// directory into memory.
func checkZipDirectory(r io.ReaderAt, size int64) error {
	buf := make([]byte, min(size, 22+65535))
	if _, err := r.ReadAt(buf, size-int64(len(buf))); err != nil && err != io.EOF {
		return ioError(err)
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < 22 {
		return nil // archive/zip says what is wrong
	}
	entries := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(buf[i+12:]))
	if (entries == 0xFFFF || dirSize == 0xFFFFFFFF) && i >= 20 && bytes.HasPrefix(buf[i-20:], []byte("PK\x06\x07")) {
		off := binary.LittleEndian.Uint64(buf[i-20+8:])
		rec := make([]byte, 56)
		if off < uint64(size) {
			if n, _ := r.ReadAt(rec, int64(off)); n == len(rec) && bytes.HasPrefix(rec, []byte("PK\x06\x06")) {
				entries = binary.LittleEndian.Uint64(rec[32:])
				dirSize = binary.LittleEndian.Uint64(rec[40:])
			}
		}
	}
	if entries > maxParts {
		return inflated("this zip file has %s parts, which no Excel workbook has; save it again from Excel as .xlsx, or as CSV UTF-8", group(int(min(entries, 1<<40))))
	}
	if dirSize > maxDirectoryBytes {
		return inflated("this zip file's list of parts takes %s, which no Excel workbook's does; save it again from Excel as .xlsx, or as CSV UTF-8", sizeName(int64(min(dirSize, 1<<50))))
	}
	return nil
}

// inflated is the error of a file that holds or unpacks to far more than
// any real spreadsheet: see Error.Inflated.
func inflated(format string, args ...any) *Error {
	e := fileError(format, args...)
	e.Inflated = true
	return e
}

// xlsxPackage is the zip of a workbook, its parts by lower-case name (part
// names are case-insensitive).
type xlsxPackage struct {
	parts map[string]*zip.File
	// packed counts the compressed bytes of the part opened last (nil
	// for a part stored without compression).
	packed *countingReader
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// partBounds say how much of a part may be unpacked, and how.
type partBounds struct {
	// limit bounds the bytes unpacked.
	limit int64
	// whole says that no real part is larger than limit, even the parts
	// not read to their end, so the size the zip declares is checked
	// before anything is unpacked (archive/zip refuses to unpack more than
	// it declares).
	whole bool
	// ratio holds the part to maxRatio, on what its zip entry declares
	// and while it unpacks: the sheet and the table of text, whose limits
	// are large.
	ratio bool
	// maxRun bounds the bytes between two '<'.
	maxRun int
}

// open returns the part name unpacked within b; ok is false when there is
// no such part.
func (p *xlsxPackage) open(name string, b partBounds, what string) (rd io.Reader, ok bool, err error) {
	f := p.parts[strings.ToLower(strings.TrimPrefix(name, "/"))]
	if f == nil {
		return nil, false, nil
	}
	if f.Flags&1 != 0 {
		return nil, false, fileError("the workbook is encrypted; remove its password and save it again as .xlsx, or as CSV UTF-8")
	}
	if b.whole && f.UncompressedSize64 > uint64(b.limit) {
		return nil, false, tooLarge(what, b.limit)
	}
	if b.ratio && f.UncompressedSize64 > ratioGrace && f.UncompressedSize64/maxRatio > f.CompressedSize64 {
		return nil, false, tooCompressed(what)
	}
	p.packed = nil
	rc, err := f.Open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			return nil, false, fileError("the workbook is compressed in a way Excel does not use; save it again from Excel as .xlsx, or as CSV UTF-8")
		}
		return nil, false, xmlError(what, err)
	}
	pr := &partReader{r: rc, left: b.limit, limit: b.limit, maxRun: b.maxRun, what: what}
	if b.ratio {
		pr.packed = p.packed
	}
	return pr, true, nil
}

func tooLarge(what string, limit int64) *Error {
	return inflated("%s of the workbook is larger than %s unpacked, more than a spreadsheet within the limits needs; split the file, or save it as CSV UTF-8", what, sizeName(limit))
}

func tooCompressed(what string) *Error {
	return inflated("%s of the workbook unpacks to more than %d times its size in the file, which real spreadsheets do not (this is how zip bombs are made); save it again from Excel as .xlsx, or as CSV UTF-8", what, maxRatio)
}

// partReader unpacks a part within bounds, so that a zip bomb or a giant
// cell fails with a message as it unpacks instead of exhausting memory or
// time.
type partReader struct {
	r      io.Reader
	left   int64
	limit  int64
	run    int // bytes since the last '<'
	maxRun int
	what   string
	// packed counts the compressed bytes read, when the ratio is held to
	// maxRatio.
	packed *countingReader
	err    error
}

func (p *partReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	p.left -= int64(n)
	if p.left < 0 {
		p.err = tooLarge(p.what, p.limit)
		return 0, p.err
	}
	if unpacked := p.limit - p.left; p.packed != nil && unpacked > ratioGrace && unpacked/maxRatio > p.packed.n {
		p.err = tooCompressed(p.what)
		return 0, p.err
	}
	if i := bytes.IndexByte(b[:n], '<'); i < 0 {
		p.run += n
	} else {
		if p.run+i > p.maxRun {
			p.err = p.tooLong()
			return 0, p.err
		}
		p.run = n - bytes.LastIndexByte(b[:n], '<') - 1
	}
	if p.run > p.maxRun {
		p.err = p.tooLong()
		return 0, p.err
	}
	if err != nil && err != io.EOF {
		if e := damaged(p.what, err); e != nil {
			return n, e
		}
	}
	return n, err
}

func (p *partReader) tooLong() *Error {
	return fileError("%s of the workbook has a cell or element longer than %s; shorten it", p.what, sizeName(int64(p.maxRun)))
}

func sizeName(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	default:
		return group(int(n)) + " bytes"
	}
}

// damaged returns the error for a part that cannot be unpacked or parsed,
// or nil when err is not about the file's content (a failure to read it).
func damaged(what string, err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	var corrupt flate.CorruptInputError
	var syntax *xml.SyntaxError
	if errors.As(err, &corrupt) || errors.As(err, &syntax) || errors.Is(err, zip.ErrChecksum) ||
		errors.Is(err, zip.ErrFormat) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errBadOffset) ||
		// A part that ends past the end of the file.
		errors.Is(err, io.EOF) ||
		// Malformed XML that is not a *xml.SyntaxError, such as an
		// encoding other than UTF-8.
		strings.HasPrefix(err.Error(), "xml: ") {
		return fileError("the workbook is damaged (%s cannot be read); open it in Excel and save it again", what)
	}
	return nil
}

// xmlError turns an error of a decoder over a part into what Open and Next
// return.
func xmlError(what string, err error) error {
	if e := damaged(what, err); e != nil {
		return e
	}
	return ioError(err)
}

// scanner returns a scanner over a part, or nil when it is missing.
func (p *xlsxPackage) scanner(name string, b partBounds, what string) (*xmlScanner, error) {
	rd, ok, err := p.open(name, b, what)
	if err != nil || !ok {
		return nil, err
	}
	return newXMLScanner(rd, b.maxRun, func() error { return rd.(*partReader).tooLong() }), nil
}

// otherBounds bound the parts read only up to what is needed.
func otherBounds() partBounds { return partBounds{limit: maxOtherBytes, maxRun: maxToken} }

// relationships are a part's links to others, targets resolved to part
// names.
type relationships struct {
	byID map[string]relationship
	list []relationship
}

type relationship struct{ typ, target string }

// target returns the first target whose type ends in suffix.
func (r relationships) target(suffix string) (string, bool) {
	for _, rel := range r.list {
		if strings.HasSuffix(rel.typ, suffix) {
			return rel.target, true
		}
	}
	return "", false
}

func (p *xlsxPackage) rels(name, base string) (relationships, error) {
	rels := relationships{byID: map[string]relationship{}}
	sc, err := p.scanner(name, otherBounds(), "the list of parts")
	if err != nil || sc == nil {
		return rels, err
	}
	for {
		tok, err := sc.next()
		if err == io.EOF {
			return rels, nil
		}
		if err != nil {
			return rels, xmlError("the list of parts", err)
		}
		if !tok.is(startToken, "Relationship") || string(tok.attr("TargetMode")) == "External" {
			continue
		}
		target := string(tok.attr("Target"))
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join(base, target)
		}
		if len(rels.list) == maxParts {
			// Each names a part (or a sheet's link out, which these
			// lists do not hold).
			return rels, inflated("the list of parts of the workbook names more than %s parts, which no Excel workbook has; save it again from Excel as .xlsx, or as CSV UTF-8", group(maxParts))
		}
		rel := relationship{typ: string(tok.attr("Type")), target: target}
		rels.byID[string(tok.attr("Id"))] = rel
		rels.list = append(rels.list, rel)
	}
}

type workbook struct {
	date1904 bool
	sheets   []sheetEntry
}

type sheetEntry struct {
	rid    string
	hidden bool
}

func (p *xlsxPackage) workbook(name string) (workbook, error) {
	var wb workbook
	sc, err := p.scanner(name, otherBounds(), "the list of sheets")
	if err != nil {
		return wb, err
	}
	if sc == nil {
		return wb, p.notWorkbook()
	}
	for {
		tok, err := sc.next()
		if err == io.EOF {
			return wb, nil
		}
		if err != nil {
			return wb, xmlError("the list of sheets", err)
		}
		if tok.is(endToken, "sheets") {
			// What follows (defined names, views, pivot caches) is of
			// no use here, and may be large.
			return wb, nil
		}
		if tok.kind != startToken {
			continue
		}
		switch string(tok.local) {
		case "workbookPr":
			v := string(tok.attr("date1904"))
			wb.date1904 = v == "1" || v == "true"
		case "sheet":
			state := string(tok.attr("state"))
			s := sheetEntry{hidden: state == "hidden" || state == "veryHidden"}
			for _, a := range tok.attrs {
				// r:id, whatever the prefix of the relationships
				// namespace is called.
				if string(a.local) == "id" && len(a.space) > 0 {
					s.rid = string(a.value)
				}
			}
			if len(wb.sheets) == maxParts {
				return wb, inflated("the workbook lists more than %s sheets, which no Excel workbook has; save it again from Excel as .xlsx, or as CSV UTF-8", group(maxParts))
			}
			wb.sheets = append(wb.sheets, s)
		}
	}
}

// notWorkbook says what a zip without a workbook is, when that is known.
func (p *xlsxPackage) notWorkbook() error {
	has := func(name string) bool { return p.parts[name] != nil }
	switch {
	case has("xl/workbook.bin"):
		return fileError("this is an Excel binary workbook (.xlsb); save it as .xlsx or as CSV UTF-8")
	case has("word/document.xml"):
		return fileError("this is a Word document, not a spreadsheet; upload an .xlsx or CSV UTF-8 file")
	case has("ppt/presentation.xml"):
		return fileError("this is a PowerPoint presentation, not a spreadsheet; upload an .xlsx or CSV UTF-8 file")
	case has("mimetype") && has("content.xml"):
		return fileError("this is an OpenDocument file (.ods), not an Excel workbook; save it as .xlsx or as CSV UTF-8")
	}
	return fileError("this is a zip file, not an Excel workbook; upload an .xlsx or CSV UTF-8 file")
}

// sharedStrings is the workbook's table of text, which cells refer to by
// index. Its text is kept in blocks, an entry never across two, and where
// each entry ends in pages of endsPage entries: the table grows without
// the copies of one growing buffer, which would double its memory at the
// worst moment.
type sharedStrings struct {
	blocks []string
	block  int // the bytes a block may hold
	// ends holds the end of each entry in the blocks put one after the
	// other, each taking block bytes whatever it holds: entry i is in
	// the block of its last byte, from the end of entry i-1 or the start
	// of that block, whichever is later.
	ends [][]uint32
	n    int
}

// endsPage is the entries in a page of ends (256 KiB).
const endsPage = 1 << 16

func (s *sharedStrings) end(i int) int { return int(s.ends[i/endsPage][i%endsPage]) }

func (s *sharedStrings) get(i int) (string, bool) {
	if s == nil || i < 0 || i >= s.n {
		return "", false
	}
	end, start := s.end(i), 0
	if i > 0 {
		start = s.end(i - 1)
	}
	if end == start {
		return "", true
	}
	k := (end - 1) / s.block
	start = max(start, k*s.block)
	return s.blocks[k][start-k*s.block : end-k*s.block], true
}

// stringsBuilder builds a sharedStrings within its bounds.
type stringsBuilder struct {
	s     sharedStrings
	cur   []byte // the block being filled
	kept  int64  // text kept, and 4 bytes an entry: what stringsMemory bounds
	limit int    // entries allowed
}

func newStringsBuilder(maxCell, limit int) *stringsBuilder {
	// A block holds 16 of the longest entries at least, so that the end
	// of a block left empty because the next entry did not fit wastes
	// little.
	return &stringsBuilder{s: sharedStrings{block: max(1<<20, 16*(maxCell+1))}, limit: limit}
}

func (b *stringsBuilder) add(val []byte) error {
	if b.s.n == b.limit {
		return fileError("the workbook's table of text has more than %s entries, more than a sheet of the rows and columns allowed can use; delete the workbook's other sheets, or save the first sheet as CSV UTF-8", group(b.limit))
	}
	if b.kept += int64(len(val)) + 4; b.kept > stringsMemory {
		return fileError("the workbook holds more than %s of text, more than is read from an .xlsx file; save it as CSV UTF-8, which has no such limit (or delete the workbook's other sheets)", sizeName(stringsMemory))
	}
	if len(b.cur)+len(val) > b.s.block {
		b.s.blocks = append(b.s.blocks, string(b.cur))
		b.cur = make([]byte, 0, b.s.block)
	}
	if len(b.cur)+len(val) > cap(b.cur) {
		// The first block grows as the table does, so that a small
		// table takes little memory.
		grown := make([]byte, len(b.cur), min(b.s.block, max(2*cap(b.cur), len(b.cur)+len(val), 4<<10)))
		copy(grown, b.cur)
		b.cur = grown
	}
	b.cur = append(b.cur, val...)
	if b.s.n%endsPage == 0 {
		b.s.ends = append(b.s.ends, make([]uint32, 0, endsPage))
	}
	page := &b.s.ends[len(b.s.ends)-1]
	*page = append(*page, uint32(len(b.s.blocks)*b.s.block+len(b.cur)))
	b.s.n++
	return nil
}

func (b *stringsBuilder) done() *sharedStrings {
	b.s.blocks = append(b.s.blocks, string(b.cur))
	b.cur = nil
	return &b.s
}

// sharedStrings loads the table of text. An entry longer than maxCell is
// kept as its first maxCell+1 bytes: enough for a cell that uses it to be
// refused as too long, which it is whatever its other bytes.
func (p *xlsxPackage) sharedStrings(name string, maxCell int, bounds xlsxBounds) (*sharedStrings, error) {
	const what = "the text"
	sc, err := p.scanner(name, partBounds{limit: maxStringsXML, whole: true, ratio: true, maxRun: maxToken}, what)
	if err != nil || sc == nil {
		return nil, err
	}
	var (
		table    = newStringsBuilder(maxCell, bounds.maxStrings)
		buf      []byte
		inSI     bool
		inT      bool
		phon     int
		tooLong  bool
		keepText = 8*maxCell + 8
	)
	for {
		tok, err := sc.next()
		if err == io.EOF {
			return table.done(), nil
		}
		if err != nil {
			return nil, xmlError(what, err)
		}
		switch tok.kind {
		case startToken:
			switch string(tok.local) {
			case "si":
				inSI, buf, tooLong = true, buf[:0], false
			case "t":
				inT = inSI && phon == 0
			case "rPh":
				phon++
			}
		case endToken:
			switch string(tok.local) {
			case "t":
				inT = false
			case "rPh":
				phon--
			case "si":
				inSI = false
				val := buf
				if !tooLong {
					val = decodeEscapes(val)
				}
				if len(val) > maxCell {
					val = val[:maxCell+1]
				}
				if err := table.add(val); err != nil {
					return nil, err
				}
			}
		case textToken:
			if inT {
				buf, tooLong = appendCapped(buf, tok.text, keepText, tooLong)
			}
		}
	}
}

// appendCapped appends src to dst up to limit bytes in all; over reports
// whether anything was left out.
func appendCapped(dst, src []byte, limit int, over bool) ([]byte, bool) {
	if len(dst)+len(src) > limit {
		return append(dst, src[:max(0, limit-len(dst))]...), true
	}
	return append(dst, src...), over
}

// styles returns, for each cell style, what kind of value its number format
// shows, so that date cells read as dates rather than serial numbers.
func (p *xlsxPackage) styles(name string) ([]numKind, error) {
	const what = "the styles"
	sc, err := p.scanner(name, otherBounds(), what)
	if err != nil || sc == nil {
		return nil, err
	}
	custom := map[int]string{}
	var formats []int
	inXfs := false
read:
	for {
		tok, err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, xmlError(what, err)
		}
		switch tok.kind {
		case startToken:
			switch string(tok.local) {
			case "numFmt":
				if len(custom) == maxStyles {
					return nil, inflated("the styles of the workbook have more than %s number formats, which Excel does not allow; save it again from Excel as .xlsx, or as CSV UTF-8", group(maxStyles))
				}
				if id, err := strconv.Atoi(string(tok.attr("numFmtId"))); err == nil {
					custom[id] = string(tok.attr("formatCode"))
				}
			case "cellXfs":
				inXfs = true
			case "xf":
				if inXfs {
					if len(formats) == maxStyles {
						return nil, inflated("the styles of the workbook have more than %s cell formats, which Excel does not allow; save it again from Excel as .xlsx, or as CSV UTF-8", group(maxStyles))
					}
					id, _ := strconv.Atoi(string(tok.attr("numFmtId")))
					formats = append(formats, id)
				}
			}
		case endToken:
			if string(tok.local) == "cellXfs" {
				// Number formats come before the cell formats; what
				// follows (cell styles, differential formats) is of no
				// use here, and is where styles grow large.
				break read
			}
		}
	}
	kinds := make([]numKind, len(formats))
	for i, id := range formats {
		if code, ok := custom[id]; ok {
			kinds[i] = classifyFormat(code)
		} else {
			kinds[i] = builtinKind(id)
		}
	}
	return kinds, nil
}

// next reads the sheet up to the end of the next row.
func (s *xlsxSource) next() ([]string, int, error) {
	if s.done {
		return nil, 0, io.EOF
	}
	for {
		tok, err := s.sc.next()
		if err == io.EOF {
			s.done = true
			return nil, 0, io.EOF
		}
		if err != nil {
			return nil, 0, xmlError("the first sheet", err)
		}
		switch tok.kind {
		case startToken:
			if !s.inData {
				s.inData = string(tok.local) == "sheetData"
				continue
			}
			switch string(tok.local) {
			case "row":
				if err := s.startRow(tok); err != nil {
					return nil, 0, err
				}
			case "c":
				s.startCell(tok)
			case "v":
				s.inV = true
			case "is":
				s.inIs = true
			case "t":
				s.inT = s.inIs && s.phon == 0
			case "rPh":
				s.phon++
			}
		case endToken:
			if !s.inData {
				continue
			}
			switch string(tok.local) {
			case "v":
				s.inV = false
			case "t":
				s.inT = false
			case "is":
				s.inIs = false
			case "rPh":
				s.phon--
			case "c":
				if err := s.endCell(); err != nil {
					return nil, 0, err
				}
			case "row":
				return s.cells, s.row, nil
			case "sheetData":
				s.done = true
				return nil, 0, io.EOF
			}
		case textToken:
			switch {
			case s.inV:
				s.v, s.tooLong = appendCapped(s.v, tok.text, s.cellCap, s.tooLong)
			case s.inT:
				s.t, s.tooLong = appendCapped(s.t, tok.text, s.cellCap, s.tooLong)
			}
		}
	}
}

func (s *xlsxSource) startRow(tok *xmlToken) error {
	prev := s.row
	if n, err := strconv.Atoi(string(tok.attr("r"))); err == nil && n > 0 {
		s.row = n
	} else {
		s.row++
	}
	if s.row <= prev {
		// Excel writes rows in order and refuses files that do not.
		return rowError(s.row, "the workbook is damaged (row %d comes after row %d); open it in Excel and save it again", s.row, prev)
	}
	s.cells = s.cells[:0]
	s.col = 0
	return nil
}

func (s *xlsxSource) startCell(tok *xmlToken) {
	s.typ, s.style = "", 0
	var ref []byte
	for _, a := range tok.attrs {
		if len(a.space) > 0 {
			continue
		}
		switch string(a.local) {
		case "r":
			ref = a.value
		case "t":
			s.typ = cellType(a.value)
		case "s":
			s.style, _ = strconv.Atoi(string(a.value))
		}
	}
	if col, ok := columnOf(ref); ok {
		s.col = col
	} else {
		s.col++
	}
	s.v, s.t, s.tooLong = s.v[:0], s.t[:0], false
	s.inV, s.inIs, s.inT, s.phon = false, false, false, 0
}

// cellType returns a cell's t attribute as one of the types value knows,
// or "n" (a number, the default) for any other.
func cellType(t []byte) string {
	for _, known := range []string{"s", "inlineStr", "str", "e", "b", "d"} {
		if string(t) == known {
			return known
		}
	}
	return "n"
}

// parseIndex parses a shared string index.
func parseIndex(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(b) > 0
}

// columnOf returns the column (1-based) of a cell reference such as "C5".
// It reads more letters than Excel's three, so that a cell far beyond the
// last column allowed is refused rather than misplaced.
func columnOf(ref []byte) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref) && i < 8; i++ {
		c := ref[i] &^ 0x20 // upper case
		if c < 'A' || c > 'Z' {
			break
		}
		col = col*26 + int(c-'A') + 1
	}
	if i == 0 || i == len(ref) || ref[i] < '0' || ref[i] > '9' {
		return 0, false
	}
	return col, true
}

func (s *xlsxSource) endCell() error {
	val, err := s.value()
	if err != nil {
		return err
	}
	if val == "" {
		return nil
	}
	if s.col > s.maxCols {
		if strings.TrimSpace(val) == "" {
			return nil
		}
		return tooManyColumns(s.row, s.col, s.maxCols)
	}
	for len(s.cells) < s.col {
		s.cells = append(s.cells, "")
	}
	s.cells[s.col-1] = val
	return nil
}

// value is the text of the cell just read, as a spreadsheet program shows
// it (numbers without their display format, dates as ISO dates).
func (s *xlsxSource) value() (string, error) {
	text := func(b []byte) string {
		if !s.tooLong {
			b = decodeEscapes(b)
		}
		return string(b)
	}
	switch s.typ {
	case "s":
		v := bytes.TrimSpace(s.v)
		if len(v) == 0 {
			return "", nil
		}
		i, ok := parseIndex(v)
		str, found := s.strs.get(i)
		if !ok || !found {
			ref := ColumnLetter(s.col-1) + strconv.Itoa(s.row)
			return "", &Error{Row: s.row, Column: ColumnLetter(s.col - 1), Message: "the workbook is damaged (cell " + ref + " refers to text that is missing); open it in Excel and save it again"}
		}
		return str, nil
	case "inlineStr":
		if len(s.t) == 0 {
			return text(s.v), nil
		}
		return text(s.t), nil
	case "str":
		return text(s.v), nil
	case "e":
		return string(s.v), nil
	case "b":
		switch string(bytes.TrimSpace(s.v)) {
		case "1":
			return "TRUE", nil
		case "0":
			return "FALSE", nil
		}
		return string(s.v), nil
	case "d":
		return formatISODate(string(bytes.TrimSpace(s.v)), s.kind()), nil
	}
	if s.tooLong {
		return string(s.v), nil
	}
	return formatNumber(bytes.TrimSpace(s.v), s.kind(), s.date1904), nil
}

func (s *xlsxSource) kind() numKind {
	if s.style >= 0 && s.style < len(s.kinds) {
		return s.kinds[s.style]
	}
	return kindNumber
}
