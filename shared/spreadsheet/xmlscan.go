package spreadsheet

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// xmlScanner reads the XML of a workbook's part as encoding/xml's RawToken
// does, token for token and error for error (FuzzXMLScanner holds it to
// that), with two differences: it refuses document type declarations,
// which the Open Packaging Conventions forbid in a package and which are
// how XML entity bombs are made, and it returns comments and processing
// instructions as nothing. It exists for speed: encoding/xml allocates for
// every name, attribute and text and read some 20 MB of a sheet a second,
// which made a sheet at the row limit take a quarter of a minute to read
// (and a file within the bounds as long to refuse). This one returns
// slices of its buffer, valid until the next call: a sheet takes about a
// quarter of the CPU and a twentieth of the allocations.
type xmlScanner struct {
	r   io.Reader
	buf []byte
	pos int // the next byte to read
	end int // the end of what buf holds
	// maxToken bounds one token (a tag, a text, a comment); longer is
	// tooLong's error.
	maxToken int
	tooLong  func() error
	rerr     error // the reader's error, once it has returned one
	err      error // this scanner's error, returned from then on

	tok       xmlToken
	needClose bool // the last token was a self-closing start: its end comes next
	scratch   []byte
	// otherNames are the names beyond ASCII judged so far, and whether
	// each is one (see checkName).
	otherNames map[string]bool
}

// tokenKind is what an xmlToken is.
type tokenKind uint8

const (
	startToken tokenKind = iota + 1
	endToken
	textToken
)

// xmlToken is a start element, an end element or character data (with its
// references resolved and its line ends normalised, as encoding/xml's).
type xmlToken struct {
	kind  tokenKind
	space []byte // the name's prefix, if any
	local []byte
	attrs []xmlAttr
	text  []byte
}

type xmlAttr struct {
	space, local, value []byte
}

// attr returns the value of the attribute of that local name and no prefix.
func (t *xmlToken) attr(local string) []byte {
	for _, a := range t.attrs {
		if len(a.space) == 0 && string(a.local) == local {
			return a.value
		}
	}
	return nil
}

// is reports whether the token is the start (or end) of an element of that
// local name, whatever its prefix.
func (t *xmlToken) is(kind tokenKind, local string) bool {
	return t.kind == kind && string(t.local) == local
}

func newXMLScanner(r io.Reader, maxToken int, tooLong func() error) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, 64<<10), maxToken: maxToken, tooLong: tooLong}
}

// errMore says the buffer ends within a token.
var errMore = errors.New("more input needed")

func syntaxError(msg string) error { return &xml.SyntaxError{Msg: msg} }

// next returns the next token, or io.EOF after the last.
func (s *xmlScanner) next() (*xmlToken, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.needClose {
		s.needClose = false
		s.tok.kind, s.tok.attrs, s.tok.text = endToken, s.tok.attrs[:0], nil
		return &s.tok, nil
	}
	for {
		if s.pos == s.end {
			if s.fill(); s.pos == s.end {
				s.err = s.rerr
				return nil, s.err
			}
		}
		n, skip, err := s.scan(s.buf[s.pos:s.end], s.rerr != nil)
		if err == errMore {
			if s.end-s.pos >= s.maxToken {
				s.err = s.tooLong()
				return nil, s.err
			}
			if s.rerr != nil {
				// The input ended within a token.
				if s.rerr == io.EOF {
					s.err = syntaxError("unexpected EOF")
				} else {
					s.err = s.rerr
				}
				return nil, s.err
			}
			s.fill()
			continue
		}
		if err == nil && n > s.maxToken {
			err = s.tooLong()
		}
		if err != nil {
			s.err = err
			return nil, err
		}
		s.pos += n
		if !skip {
			return &s.tok, nil
		}
	}
}

// fill moves what is left of the buffer to its start, grows the buffer
// when a token takes more than half of it, and reads until it is full or
// the reader fails.
func (s *xmlScanner) fill() {
	if s.rerr != nil {
		return
	}
	if s.pos > 0 {
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.pos = 0
	}
	if s.end > len(s.buf)/2 && len(s.buf) < 2*s.maxToken {
		grown := make([]byte, min(2*len(s.buf), 2*s.maxToken))
		copy(grown, s.buf[:s.end])
		s.buf = grown
	}
	for s.end < len(s.buf) && s.rerr == nil {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.rerr = err
		}
	}
}

// scan reads the token at the start of w into s.tok: n is its length and
// skip says it is a comment or a processing instruction. atEOF says w is
// all the input left; otherwise errMore means w ends within the token.
func (s *xmlScanner) scan(w []byte, atEOF bool) (n int, skip bool, err error) {
	if w[0] != '<' {
		end := bytes.IndexByte(w, '<')
		if end < 0 {
			if !atEOF {
				return 0, false, errMore
			}
			end = len(w)
		}
		raw := w[:end]
		if bytes.Contains(raw, []byte("]]>")) {
			return 0, false, syntaxError("unescaped ]]> not in CDATA section")
		}
		text, err := s.decode(raw)
		if err != nil {
			return 0, false, err
		}
		s.tok = xmlToken{kind: textToken, attrs: s.tok.attrs[:0], text: text}
		return end, false, nil
	}
	if len(w) < 2 {
		return 0, false, errMore
	}
	switch w[1] {
	case '/':
		space, local, i, err := s.scanQName(w, 2, "expected element name after </")
		if err != nil {
			return 0, false, err
		}
		i = skipSpace(w, i)
		if i == len(w) {
			return 0, false, errMore
		}
		if w[i] != '>' {
			return 0, false, syntaxError("invalid characters between </" + string(local) + " and >")
		}
		s.tok = xmlToken{kind: endToken, space: space, local: local, attrs: s.tok.attrs[:0]}
		return i + 1, false, nil
	case '?':
		return s.scanProcInst(w)
	case '!':
		return s.scanBang(w)
	}
	return s.scanStart(w)
}

func (s *xmlScanner) scanStart(w []byte) (n int, skip bool, err error) {
	space, local, i, err := s.scanQName(w, 1, "expected element name after <")
	if err != nil {
		return 0, false, err
	}
	// Values are decoded into scratch, which must not move while the
	// token is built: a value never decodes longer than it is written.
	if cap(s.scratch) < len(w) {
		s.scratch = make([]byte, 0, max(len(w), 2*cap(s.scratch)))
	}
	s.scratch = s.scratch[:0]
	attrs := s.tok.attrs[:0]
	for {
		i = skipSpace(w, i)
		if i == len(w) {
			return 0, false, errMore
		}
		switch w[i] {
		case '/':
			if i+1 == len(w) {
				return 0, false, errMore
			}
			if w[i+1] != '>' {
				return 0, false, syntaxError("expected /> in element")
			}
			s.needClose = true
			s.tok = xmlToken{kind: startToken, space: space, local: local, attrs: attrs}
			return i + 2, false, nil
		case '>':
			s.tok = xmlToken{kind: startToken, space: space, local: local, attrs: attrs}
			return i + 1, false, nil
		}
		var a xmlAttr
		if a.space, a.local, i, err = s.scanQName(w, i, "expected attribute name in element"); err != nil {
			return 0, false, err
		}
		i = skipSpace(w, i)
		if i == len(w) {
			return 0, false, errMore
		}
		if w[i] != '=' {
			return 0, false, syntaxError("attribute name without = in element")
		}
		i = skipSpace(w, i+1)
		if i == len(w) {
			return 0, false, errMore
		}
		q := w[i]
		if q != '"' && q != '\'' {
			return 0, false, syntaxError("unquoted or missing attribute value in element")
		}
		j := bytes.IndexByte(w[i+1:], q)
		if lt := bytes.IndexByte(w[i+1:], '<'); lt >= 0 && (j < 0 || lt < j) {
			return 0, false, syntaxError("unescaped < inside quoted string")
		}
		if j < 0 {
			return 0, false, errMore
		}
		if raw := w[i+1 : i+1+j]; plainText(raw) {
			a.value = raw
		} else {
			start := len(s.scratch)
			if s.scratch, err = decodeXMLText(s.scratch, raw); err != nil {
				return 0, false, err
			}
			a.value = s.scratch[start:]
		}
		attrs = append(attrs, a)
		i += j + 2
	}
}

// scanProcInst reads a processing instruction, which encoding/xml returns
// and which is skipped here, but for the XML declaration's checks.
func (s *xmlScanner) scanProcInst(w []byte) (n int, skip bool, err error) {
	i, _, ascii, err := scanName(w, 2)
	if err != nil {
		return 0, false, err
	}
	if i == 2 {
		return 0, false, syntaxError("expected target name after <?")
	}
	target := w[2:i]
	if err := s.checkName(target, ascii); err != nil {
		return 0, false, err
	}
	i = skipSpace(w, i)
	end := bytes.Index(w[i:], []byte("?>"))
	if end < 0 {
		return 0, false, errMore
	}
	if string(target) == "xml" {
		content := string(w[i : i+end])
		if ver := procInst("version", content); ver != "" && ver != "1.0" {
			return 0, false, fmt.Errorf("xml: unsupported version %q; only version 1.0 is supported", ver)
		}
		if enc := procInst("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
			return 0, false, fmt.Errorf("xml: encoding %q declared but Decoder.CharsetReader is nil", enc)
		}
	}
	return i + end + 2, true, nil
}

// procInst returns the value of param in the content of a processing
// instruction, as encoding/xml reads it.
func procInst(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// scanBang reads a comment (skipped) or a CDATA section (text), and
// refuses anything else that starts with <!: a document type declaration.
func (s *xmlScanner) scanBang(w []byte) (n int, skip bool, err error) {
	if len(w) < 3 {
		return 0, false, errMore
	}
	switch w[2] {
	case '-':
		if len(w) < 4 {
			return 0, false, errMore
		}
		if w[3] != '-' {
			return 0, false, syntaxError("invalid sequence <!- not part of <!--")
		}
		end := bytes.Index(w[4:], []byte("--"))
		if end < 0 || 4+end+2 == len(w) {
			return 0, false, errMore
		}
		if w[4+end+2] != '>' {
			return 0, false, syntaxError(`invalid sequence "--" not allowed in comments`)
		}
		return 4 + end + 3, true, nil
	case '[':
		const open = "<![CDATA["
		if len(w) < len(open) {
			if !bytes.HasPrefix([]byte(open), w) {
				return 0, false, syntaxError("invalid <![ sequence")
			}
			return 0, false, errMore
		}
		if !bytes.HasPrefix(w, []byte(open)) {
			return 0, false, syntaxError("invalid <![ sequence")
		}
		end := bytes.Index(w[len(open):], []byte("]]>"))
		if end < 0 {
			return 0, false, errMore
		}
		raw := w[len(open) : len(open)+end]
		s.scratch = s.scratch[:0]
		text, err := decodeRaw(s.scratch, raw)
		if err != nil {
			return 0, false, err
		}
		s.scratch = text
		s.tok = xmlToken{kind: textToken, attrs: s.tok.attrs[:0], text: text}
		return len(open) + end + 3, false, nil
	}
	return 0, false, syntaxError("a document type declaration (<!DOCTYPE, <!ENTITY), which workbooks may not hold")
}

// decode returns raw text decoded: raw itself when there is nothing to
// decode, else a decoded copy in scratch.
func (s *xmlScanner) decode(raw []byte) ([]byte, error) {
	if plainText(raw) {
		return raw, nil
	}
	var err error
	s.scratch, err = decodeXMLText(s.scratch[:0], raw)
	return s.scratch, err
}

// plainText reports whether b is ASCII text with no reference, carriage
// return or control character: text to use as it is.
func plainText(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf || c == '&' || c < ' ' && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

// decodeXMLText appends src to dst with its references resolved and its
// line ends normalised, and checks that every character is one XML allows.
func decodeXMLText(dst, src []byte) ([]byte, error) {
	start := len(dst)
	if plainText(src) {
		return append(dst, src...), nil
	}
	for i := 0; i < len(src); {
		c := src[i]
		switch c {
		case '\r':
			dst = append(dst, '\n')
			i++
			if i < len(src) && src[i] == '\n' {
				i++
			}
			continue
		case '&':
			r, n, ok := reference(src[i:])
			if !ok {
				ent := src[i:]
				if k := bytes.IndexByte(ent, ';'); k >= 0 {
					ent = ent[:k+1]
				}
				return dst, syntaxError("invalid character entity " + string(ent))
			}
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		}
		dst = append(dst, c)
		i++
	}
	return dst, checkChars(dst[start:])
}

// decodeRaw appends the text of a CDATA section to dst: its line ends
// normalised, its characters checked.
func decodeRaw(dst, src []byte) ([]byte, error) {
	start := len(dst)
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c != '\r':
			dst = append(dst, c)
		default:
			dst = append(dst, '\n')
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
			}
		}
	}
	return dst, checkChars(dst[start:])
}

// checkChars refuses invalid UTF-8 and characters XML 1.0 does not allow.
func checkChars(b []byte) error {
	for len(b) > 0 {
		if c := b[0]; c < utf8.RuneSelf {
			if c < ' ' && c != '\t' && c != '\n' && c != '\r' {
				return syntaxError(fmt.Sprintf("illegal character code %U", rune(c)))
			}
			b = b[1:]
			continue
		}
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			return syntaxError("invalid UTF-8")
		}
		if r == 0xFFFE || r == 0xFFFF {
			return syntaxError(fmt.Sprintf("illegal character code %U", r))
		}
		b = b[size:]
	}
	return nil
}

// reference reads the character or entity reference at the start of b
// (&#65; &#x41; &amp;): its rune and length, as encoding/xml reads them.
func reference(b []byte) (r rune, n int, ok bool) {
	if len(b) > 1 && b[1] == '#' {
		i, base := 2, 10
		if i < len(b) && b[i] == 'x' {
			i, base = 3, 16
		}
		start := i
		for i < len(b) && (b[i] >= '0' && b[i] <= '9' || base == 16 && (b[i]|0x20 >= 'a' && b[i]|0x20 <= 'f')) {
			i++
		}
		if i == len(b) || b[i] != ';' {
			return 0, 0, false
		}
		v, err := strconv.ParseUint(string(b[start:i]), base, 64)
		if err != nil || v > unicode.MaxRune {
			return 0, 0, false
		}
		// Surrogates become U+FFFD, as string(rune(v)) makes them.
		return rune(v), i + 1, true
	}
	i, _, _, err := scanName(b, 1)
	if err != nil || i == len(b) || b[i] != ';' {
		return 0, 0, false
	}
	switch string(b[1:i]) {
	case "lt":
		return '<', i + 1, true
	case "gt":
		return '>', i + 1, true
	case "amp":
		return '&', i + 1, true
	case "apos":
		return '\'', i + 1, true
	case "quot":
		return '"', i + 1, true
	}
	return 0, 0, false
}

func skipSpace(w []byte, i int) int {
	for i < len(w) && (w[i] == ' ' || w[i] == '\n' || w[i] == '\t' || w[i] == '\r') {
		i++
	}
	return i
}

// isNameByte is encoding/xml's: the ASCII bytes of names (bytes beyond
// ASCII are part of a name, and checked with it).
func isNameByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '_' || c == ':' || c == '.' || c == '-'
}

// scanName returns the end of the name that starts at w[i] (i when there
// is none), or errMore when w ends within it; colons counts its colons and
// ascii says it is all ASCII.
func scanName(w []byte, i int) (end, colons int, ascii bool, err error) {
	ascii = true
	for ; i < len(w); i++ {
		switch c := w[i]; {
		case c >= utf8.RuneSelf:
			ascii = false
		case c == ':':
			colons++
		case !isNameByte(c):
			return i, colons, ascii, nil
		}
	}
	return i, colons, ascii, errMore
}

// scanQName reads the name at w[i], split at its colon as encoding/xml
// splits it, and returns where it ends.
func (s *xmlScanner) scanQName(w []byte, i int, missing string) (space, local []byte, end int, err error) {
	end, colons, ascii, err := scanName(w, i)
	if err != nil {
		return nil, nil, 0, err
	}
	name := w[i:end]
	if len(name) == 0 {
		return nil, nil, 0, syntaxError(missing)
	}
	if err := s.checkName(name, ascii); err != nil {
		return nil, nil, 0, err
	}
	switch colons {
	case 0:
		return nil, name, end, nil
	case 1:
		k := bytes.IndexByte(name, ':')
		if k == 0 || k == len(name)-1 {
			return nil, name, end, nil
		}
		return name[:k], name[k+1:], end, nil
	}
	return nil, nil, 0, syntaxError(missing)
}

// maxOtherNames bounds the distinct names beyond ASCII one scan judges:
// workbooks use none, and judging one costs an encoding/xml decoder, so a
// part full of distinct ones would otherwise take minutes to read.
const maxOtherNames = 64

// checkName refuses what is not an XML name. Names beyond ASCII, which
// workbooks do not use, are judged by encoding/xml itself (as the target
// of a processing instruction, which it reads as a plain name), once per
// distinct name, and at most maxOtherNames of them per part.
func (s *xmlScanner) checkName(name []byte, ascii bool) error {
	if ascii {
		if c := name[0]; c >= '0' && c <= '9' || c == '.' || c == '-' {
			return syntaxError("invalid XML name: " + string(name))
		}
		return nil
	}
	if ok, seen := s.otherNames[string(name)]; seen {
		if !ok {
			return syntaxError("invalid XML name: " + string(name))
		}
		return nil
	}
	if len(s.otherNames) >= maxOtherNames {
		return syntaxError(fmt.Sprintf("more than %d distinct names beyond ASCII: not a spreadsheet", maxOtherNames))
	}
	d := xml.NewDecoder(io.MultiReader(strings.NewReader("<?"), bytes.NewReader(name), strings.NewReader("?>")))
	_, err := d.RawToken()
	if s.otherNames == nil {
		s.otherNames = map[string]bool{}
	}
	s.otherNames[string(name)] = err == nil
	if err != nil {
		return syntaxError("invalid XML name: " + string(name))
	}
	return nil
}
