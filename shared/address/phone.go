package address

// What Phone needs of github.com/nyaruka/phonenumbers (Parse, IsValidNumber
// and Format(E164)), ported from it so that no function links the library:
// its init unpacks every region's metadata with the protobuf runtime and
// keeps x/text's language display tables (~4 MB of each bootstrap, 6 ms and
// 35,000 allocations of each cold start). The metadata is phonemeta.go,
// generated from the library by internal/phonegen; regular expressions are
// compiled the first time a region is used. The syntax patterns are the
// library's, kept as they are (quirks included) so that every input gets
// the library's answer; the differential tests and the fuzz test hold the
// two together. Function names say which of the library's each follows.
//
// phonenumbers is Copyright (c) 2017-2022 Trey Tacon, Nyaruka (MIT
// License), a port of Google's libphonenumber (Apache License 2.0).

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

//go:generate go run ./internal/phonegen -o phonemeta.go

// phoneMeta is one region's metadata (phonenumbers' PhoneMetadata), only the
// fields parsing, validating and E.164 use.
type phoneMeta struct {
	id string // ISO 3166 code, or "001" for a calling code of no country
	cc int    // country calling code
	// Patterns (RE2 syntax): international prefix, national prefix for
	// parsing and the rule that rewrites what it matched ($1...), leading
	// digits that pick this region among those sharing its calling code.
	idd, npp, npt, leading string
	// lengths and localOnly are the general description's possible lengths
	// as bit sets (bit n: length n); general is its national number pattern.
	lengths, localOnly uint32
	general            string
	// types is every number type's description; a number is valid when it
	// matches general and one of them.
	types []phoneDesc
	// compiled holds the patterns compiled, the first time the region is
	// used: a process that only sees Spanish numbers compiles Spain's.
	compiled *phoneCompiled
}

// phoneCompiled is where a phoneMeta keeps its compiled patterns. The
// generated table points each phoneMeta at a zero one, which the linker
// lays out, so package init has nothing to do.
type phoneCompiled struct {
	once sync.Once
	re   *phoneRegexps
}

// phoneDesc is a number type's description: its possible lengths as a bit
// set (0: any length, as an empty list is in phonenumbers) and pattern.
type phoneDesc struct {
	lengths uint32
	pattern string
}

// phoneCallingCode lists a calling code's regions (indexes in phoneMetas),
// the main region first.
type phoneCallingCode struct {
	cc      int
	regions []uint16
}

// phoneRegexps is a phoneMeta's patterns compiled, anchored as phonenumbers
// anchors them where it uses them.
type phoneRegexps struct {
	idd, npp, general, leading *regexp.Regexp
	types                      []*regexp.Regexp
}

func (m *phoneMeta) regexps() *phoneRegexps {
	c := m.compiled
	c.once.Do(func() {
		re := &phoneRegexps{
			idd:     regexp.MustCompile("^(?:" + m.idd + ")"),
			general: regexp.MustCompile("^(?:" + m.general + ")$"),
			types:   make([]*regexp.Regexp, len(m.types)),
		}
		if m.npp != "" {
			re.npp = regexp.MustCompile("^(?:" + m.npp + ")")
		}
		if m.leading != "" {
			re.leading = regexp.MustCompile("^(?:" + m.leading + ")")
		}
		for i, t := range m.types {
			re.types[i] = regexp.MustCompile("^(?:" + t.pattern + ")$")
		}
		c.re = re
	})
	return c.re
}

// metaForRegion is getMetadataForRegion: nil for an unknown region, and
// for "001", which names no region.
func metaForRegion(region string) *phoneMeta {
	if region == nonGeoRegion || region == "" {
		return nil
	}
	i := sort.Search(len(phoneMetas), func(i int) bool { return phoneMetas[i].id >= region })
	if i < len(phoneMetas) && phoneMetas[i].id == region {
		return &phoneMetas[i]
	}
	return nil
}

// nonGeoRegion is the region of calling codes of no country.
const nonGeoRegion = "001"

// regionsForCallingCode is the calling code's regions, main region first;
// none for an unknown code.
func regionsForCallingCode(cc int) []uint16 {
	i := sort.Search(len(phoneCallingCodes), func(i int) bool { return phoneCallingCodes[i].cc >= cc })
	if i < len(phoneCallingCodes) && phoneCallingCodes[i].cc == cc {
		return phoneCallingCodes[i].regions
	}
	return nil
}

// metaForRegionOrCallingCode is getMetadataForRegionOrCallingCode.
func metaForRegionOrCallingCode(cc int, region string) *phoneMeta {
	if region == nonGeoRegion {
		for _, i := range regionsForCallingCode(cc) {
			if phoneMetas[i].id == nonGeoRegion {
				return &phoneMetas[i]
			}
		}
		return nil
	}
	return metaForRegion(region)
}

// regionForCallingCode is GetRegionCodeForCountryCode.
func regionForCallingCode(cc int) string {
	if r := regionsForCallingCode(cc); len(r) > 0 {
		return phoneMetas[r[0]].id
	}
	return "ZZ"
}

// The library's syntax patterns, as it writes them.
const (
	maxInputLength = 250
	minLengthNSN   = 2
	maxLengthNSN   = 17

	validPunctuation = "-x\u2010-\u2015\u2212\u30FC\uFF0D-\uFF0F " +
		"\u00A0\u00AD\u200B\u2060\u3000()\uFF08\uFF09\uFF3B\uFF3D." +
		"\\[\\]/~\u2053\u223C\uFF5E"
	digitsClass = "\\p{Nd}"
	validAlpha  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	plusChars   = "+\uFF0B"

	validPhoneNumber = digitsClass + "{2}|" +
		"[" + plusChars + "]*(?:[" + validPunctuation + "*]*" + digitsClass + "){3,}[" +
		validPunctuation + "*" + validAlpha + digitsClass + "]*"

	possibleSeparatorsBetweenNumberAndExtLabel = "[ \u00A0\\t,]*"
	possibleCharsAfterExtLabel                 = "[:\\.\uFF0E]?[ \u00A0\\t,-]*"
	optionalExtnSuffix                         = "#?"
	explicitExtLabels                          = "(?:e?xt(?:ensi(?:o\u0301?|\u00F3))?n?|" +
		"\uFF45?\uFF58\uFF54\uFF4E?|\u0434\u043E\u0431|anexo)"
	ambiguousExtLabels = "(?:[x\uFF58#\uFF03~\uFF5E]|int|\uFF49\uFF4E\uFF54)"
	ambiguousSeparator = "[- ]+"

	extnPatternsForMatching = ";ext=(" + digitsClass + "{1,20})" + "|" +
		possibleSeparatorsBetweenNumberAndExtLabel + explicitExtLabels +
		possibleCharsAfterExtLabel + "(" + digitsClass + "{1,20})" + optionalExtnSuffix + "|" +
		possibleSeparatorsBetweenNumberAndExtLabel + ambiguousExtLabels +
		possibleCharsAfterExtLabel + "(" + digitsClass + "{1,9})" + optionalExtnSuffix + "|" +
		ambiguousSeparator + "(" + digitsClass + "{1,6})#"
	extnPatternsForParsing = extnPatternsForMatching + "|" +
		"[ \u00A0\\t]*(?:,{2}|;)" +
		possibleCharsAfterExtLabel + "(" + digitsClass + "{1,15})" + optionalExtnSuffix + "|" +
		"[ \u00A0\\t]*(?:,)+" +
		possibleCharsAfterExtLabel + "(" + digitsClass + "{1,9})" + optionalExtnSuffix

	rfc3966PhoneContext    = ";phone-context="
	rfc3966Prefix          = "tel:"
	rfc3966IsdnSubaddress  = ";isub="
	rfc3966PhoneDigit      = "(" + digitsClass + "|[\\-\\.\\(\\)]?)"
	rfc3966GlobalNumber    = "^\\+" + rfc3966PhoneDigit + "*" + digitsClass + rfc3966PhoneDigit + "*$"
	rfc3966Alphanum        = validAlpha + digitsClass
	rfc3966DomainLabel     = "[" + rfc3966Alphanum + "]+((\\-)*[" + rfc3966Alphanum + "])*"
	rfc3966TopLabel        = "[" + validAlpha + "]+((\\-)*[" + rfc3966Alphanum + "])*"
	rfc3966DomainNameRegex = "^(" + rfc3966DomainLabel + "\\.)*" + rfc3966TopLabel + "\\.?$"
)

// phoneSyntax is the library's syntax patterns compiled.
type phoneSyntax struct {
	validStartChar, secondNumberStart, unwantedEndChar *regexp.Regexp
	validPhoneNumber, extn                             *regexp.Regexp
	rfc3966GlobalNumber, rfc3966DomainName             *regexp.Regexp
}

var (
	phoneSyntaxOnce sync.Once
	phoneSyntaxRe   *phoneSyntax
)

// syntax compiles the syntax patterns the first time a number is parsed.
func syntax() *phoneSyntax {
	phoneSyntaxOnce.Do(func() {
		phoneSyntaxRe = &phoneSyntax{
			validStartChar:      regexp.MustCompile("[" + plusChars + digitsClass + "]"),
			secondNumberStart:   regexp.MustCompile(`[\\/] *x`),
			unwantedEndChar:     regexp.MustCompile(`[[\P{N}&&\P{L}]&&[^#]]+$`),
			validPhoneNumber:    regexp.MustCompile("(?i)^(" + validPhoneNumber + "(?:" + extnPatternsForParsing + ")?)$"),
			extn:                regexp.MustCompile("(?i)(?:" + extnPatternsForParsing + ")$"),
			rfc3966GlobalNumber: regexp.MustCompile(rfc3966GlobalNumber),
			rfc3966DomainName:   regexp.MustCompile(rfc3966DomainNameRegex),
		}
	})
	return phoneSyntaxRe
}

// phoneNumber is the part of phonenumbers' PhoneNumber that E.164 needs.
type phoneNumber struct {
	cc                 int
	national           uint64
	italianLeadingZero bool
	leadingZeros       int
}

// parse is phonenumbers.Parse, IsValidNumber and Format(E164): v in E.164
// when it parses and is valid.
func parse(v, region string) (string, bool) {
	n, ok := parseNumber(v, region)
	if !ok {
		return "", false
	}
	nsn := n.nationalSignificant()
	if !validNumber(n.cc, nsn) {
		return "", false
	}
	return "+" + strconv.Itoa(n.cc) + nsn, true
}

// nationalSignificant is GetNationalSignificantNumber.
func (n phoneNumber) nationalSignificant() string {
	s := strconv.FormatUint(n.national, 10)
	if n.italianLeadingZero && n.leadingZeros > 0 {
		return strings.Repeat("0", min(n.leadingZeros, maxLengthNSN)) + s
	}
	return s
}

// parseNumber is parseHelper (without keeping the raw input or the
// extension, which E.164 does not write).
func parseNumber(numberToParse, defaultRegion string) (phoneNumber, bool) {
	var n phoneNumber
	if len(numberToParse) == 0 || len(numberToParse) > maxInputLength {
		return n, false
	}
	var national string
	if plain(numberToParse) {
		// What the syntax patterns do to a plain number, without them.
		start := strings.IndexAny(numberToParse, "+0123456789")
		if start < 0 {
			return n, false
		}
		national = numberToParse[start:]
		if !plainViable(national) {
			return n, false
		}
	} else {
		var ok bool
		national, ok = buildNationalNumberForParsing(numberToParse)
		if !ok || !isViablePhoneNumber(national) {
			return n, false
		}
	}
	if !checkRegionForParsing(national, defaultRegion) {
		return n, false
	}
	if !plain(national) {
		national = stripExtension(national)
	}
	meta := metaForRegion(defaultRegion)
	cc, normalized, err := maybeExtractCountryCode(national, meta)
	if err != nil {
		_, end := plusRun(national)
		if err != errInvalidCountryCode || end < 0 {
			return n, false
		}
		cc, normalized, err = maybeExtractCountryCode(national[end:], meta)
		if err != nil || cc == 0 {
			return n, false
		}
	}
	if cc != 0 {
		if r := regionForCallingCode(cc); r != defaultRegion {
			meta = metaForRegionOrCallingCode(cc, r)
		}
	} else {
		normalized = normalize(national)
		if defaultRegion != "" && meta != nil {
			cc = meta.cc
		}
	}
	n.cc = cc
	if len(normalized) < minLengthNSN {
		return n, false
	}
	if meta != nil {
		potential, _ := maybeStripNationalPrefixAndCarrierCode(normalized, meta)
		switch testNumberLength(potential, meta) {
		case lengthTooShort, lengthLocalOnly, lengthInvalid:
		default:
			normalized = potential
		}
	}
	if len(normalized) < minLengthNSN || len(normalized) > maxLengthNSN {
		return n, false
	}
	if len(normalized) >= 2 && normalized[0] == '0' {
		// setItalianLeadingZerosForPhoneNumber; an all-zero number keeps
		// its last zero as the number.
		n.italianLeadingZero = true
		n.leadingZeros = 1
		for n.leadingZeros < len(normalized)-1 && normalized[n.leadingZeros] == '0' {
			n.leadingZeros++
		}
	}
	// As the library does: a number with digits other than ASCII (which
	// normalize keeps) fails ParseUint and is number 0.
	n.national, _ = strconv.ParseUint(normalized, 10, 64)
	return n, true
}

// buildNationalNumberForParsing reads RFC 3966 (tel:...;phone-context=)
// or else extracts the possible number; false means not a number.
func buildNationalNumberForParsing(numberToParse string) (string, bool) {
	var national string
	indexOfPhoneContext := strings.Index(numberToParse, rfc3966PhoneContext)
	phoneContext := extractPhoneContext(numberToParse, indexOfPhoneContext)
	if indexOfPhoneContext >= 0 && !isPhoneContextValid(phoneContext) {
		return "", false
	}
	if indexOfPhoneContext > 0 {
		if phoneContext[0] == '+' {
			national = phoneContext
		}
		indexOfRfc3966Prefix := strings.Index(numberToParse, rfc3966Prefix)
		indexOfNationalNumber := 0
		if indexOfRfc3966Prefix >= 0 && indexOfRfc3966Prefix < indexOfPhoneContext {
			indexOfNationalNumber = indexOfRfc3966Prefix + len(rfc3966Prefix)
		}
		national += numberToParse[indexOfNationalNumber:indexOfPhoneContext]
	} else {
		national = extractPossibleNumber(numberToParse)
	}
	if i := strings.Index(national, rfc3966IsdnSubaddress); i > 0 {
		national = national[:i]
	}
	return national, true
}

func extractPhoneContext(s string, indexOfPhoneContext int) string {
	if indexOfPhoneContext == -1 {
		return ""
	}
	start := indexOfPhoneContext + len(rfc3966PhoneContext)
	if start >= len(s) {
		return ""
	}
	if end := strings.IndexByte(s[start:], ';'); end != -1 {
		return s[start : start+end]
	}
	return s[start:]
}

func isPhoneContextValid(phoneContext string) bool {
	if len(phoneContext) == 0 {
		return false
	}
	sx := syntax()
	return sx.rfc3966GlobalNumber.MatchString(phoneContext) || sx.rfc3966DomainName.MatchString(phoneContext)
}

// extractPossibleNumber drops what comes before the first + or digit,
// trailing junk, and a second number after a slash and an x.
func extractPossibleNumber(number string) string {
	sx := syntax()
	start := sx.validStartChar.FindStringIndex(number)
	if start == nil {
		return ""
	}
	number = number[start[0]:]
	if i := sx.unwantedEndChar.FindStringIndex(number); i != nil {
		number = number[:i[0]]
	}
	if i := sx.secondNumberStart.FindStringIndex(number); i != nil {
		number = number[:i[0]]
	}
	return number
}

// plain reports whether s is only ASCII digits and " +-.()/", as most
// numbers are written. Of the syntax patterns, none but the one of viable
// numbers can match in such a string (an extension needs a letter or one
// of ";,#~", unwantedEndChar "&&", secondNumberStart an x, RFC 3966 a
// ";"), and that one comes down to plainViable; parseNumber skips them.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == ' ', c == '+', c == '-', c == '.', c == '(', c == ')', c == '/':
		default:
			return false
		}
	}
	return true
}

// plainViable is isViablePhoneNumber for a plain number that starts with a
// + or a digit: two digits, or three digits or more with pluses only at the
// start.
func plainViable(s string) bool {
	if len(s) == 2 {
		return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
	}
	digits := 0
	for i := len(s) - len(strings.TrimLeft(s, "+")); i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			return false
		case c >= '0' && c <= '9':
			digits++
		}
	}
	return digits >= 3
}

func isViablePhoneNumber(number string) bool {
	return len(number) >= minLengthNSN && syntax().validPhoneNumber.MatchString(number)
}

// checkRegionForParsing: without a known region the number needs a +.
func checkRegionForParsing(number, defaultRegion string) bool {
	if metaForRegion(defaultRegion) == nil {
		start, _ := plusRun(number)
		return start >= 0
	}
	return true
}

// stripExtension is maybeStripExtension: the number without an extension
// (ext. 123, x123, ;ext=123, ...) when what precedes it is viable.
func stripExtension(number string) string {
	sx := syntax()
	ind := sx.extn.FindStringIndex(number)
	if ind == nil || !isViablePhoneNumber(number[:ind[0]]) {
		return number
	}
	for _, ext := range sx.extn.FindStringSubmatch(number)[1:] {
		if ext != "" {
			return number[:ind[0]]
		}
	}
	return number
}

// normalize: a number with three letters or more is read on a keypad
// (1-800-FLOWERS); otherwise every digit is kept, as ASCII where it is
// Arabic-Indic or full-width, and everything else dropped.
func normalize(number string) string {
	if alphaNumber(number) {
		var b strings.Builder
		for _, c := range number {
			switch u := unicode.ToUpper(c); {
			case u >= '0' && u <= '9':
				b.WriteRune(u)
			case u >= 'A' && u <= 'Z':
				b.WriteByte(keypad[u-'A'])
			}
		}
		return b.String()
	}
	return normalizeDigitsOnly(number)
}

// alphaNumber is the library's "^(?:.*?[A-Za-z]){3}.*$": three ASCII
// letters or more, and no line break (which "." does not match).
func alphaNumber(s string) bool {
	if strings.IndexByte(s, '\n') >= 0 {
		return false
	}
	letters := 0
	for i := 0; i < len(s) && letters < 3; i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			letters++
		}
	}
	return letters >= 3
}

// plusRun is where the first run of plus signs (+ or full-width ＋) in s
// starts and ends, the library's "[+＋]+"; -1, -1 without one.
func plusRun(s string) (start, end int) {
	start = strings.IndexAny(s, plusChars)
	if start < 0 {
		return -1, -1
	}
	end = start
	for end < len(s) {
		switch {
		case s[end] == '+':
			end++
		case strings.HasPrefix(s[end:], "\uFF0B"):
			end += len("\uFF0B")
		default:
			return start, end
		}
	}
	return start, end
}

// keypad is each letter's digit on a phone keypad (ITU E.161).
const keypad = "22233344455566677778889999"

func normalizeDigitsOnly(number string) string {
	var b strings.Builder
	for _, c := range number {
		if unicode.IsDigit(c) {
			b.WriteRune(asciiDigit(c))
		}
	}
	return b.String()
}

// asciiDigit maps the Arabic-Indic, Eastern Arabic-Indic and full-width
// digits to ASCII, as the library's table does; other digits stay.
func asciiDigit(c rune) rune {
	for _, zero := range [...]rune{'\u0660', '\u06F0', '\uFF10'} {
		if c >= zero && c <= zero+9 {
			return '0' + c - zero
		}
	}
	return c
}

type extractError int

const (
	errTooShortAfterIDD extractError = iota + 1
	errInvalidCountryCode
)

func (e extractError) Error() string {
	if e == errTooShortAfterIDD {
		return "too short after IDD"
	}
	return "invalid country code"
}

// maybeExtractCountryCode returns the calling code the number starts with
// (after a + or the region's international prefix, or the region's own
// code written without either when the rest is then a better national
// number) and the national number after it; 0 and "" when there is none.
func maybeExtractCountryCode(number string, meta *phoneMeta) (int, string, error) {
	if len(number) == 0 {
		return 0, "", nil
	}
	full, intl := maybeStripInternationalPrefixAndNormalize(number, meta)
	if intl {
		if len(full) <= minLengthNSN {
			return 0, "", errTooShortAfterIDD
		}
		if cc, national := extractCountryCode(full); cc != 0 {
			return cc, national, nil
		}
		return 0, "", errInvalidCountryCode
	}
	if meta != nil {
		ccs := strconv.Itoa(meta.cc)
		if strings.HasPrefix(full, ccs) {
			re := meta.regexps()
			potential, _ := maybeStripNationalPrefixAndCarrierCode(full[len(ccs):], meta)
			fullValid := re.general.MatchString(full)
			nationalValid := re.general.MatchString(potential)
			if (!fullValid && nationalValid) || testNumberLength(full, meta) == lengthTooLong {
				return meta.cc, potential, nil
			}
		}
	}
	return 0, "", nil
}

// extractCountryCode reads the 1 to 3 digit calling code full starts with.
func extractCountryCode(full string) (int, string) {
	if len(full) == 0 || full[0] == '0' {
		return 0, ""
	}
	for i := 1; i <= 3 && i <= len(full); i++ {
		cc, _ := strconv.Atoi(full[:i])
		if regionsForCallingCode(cc) != nil {
			return cc, full[i:]
		}
	}
	return 0, ""
}

// maybeStripInternationalPrefixAndNormalize returns the number normalized,
// without its leading + or the region's international prefix, and whether
// it had one.
func maybeStripInternationalPrefixAndNormalize(number string, meta *phoneMeta) (string, bool) {
	if start, end := plusRun(number); start == 0 {
		return normalize(number[end:]), true
	}
	number = normalize(number)
	if meta == nil {
		// The library's stand-in prefix, "NonMatch", matches no digits.
		return number, false
	}
	ind := meta.regexps().idd.FindStringIndex(number)
	if ind == nil {
		return number, false
	}
	// Calling codes do not start with 0: 00 0... is not a prefix.
	for _, c := range number[ind[1]:] {
		if unicode.IsDigit(c) {
			if asciiDigit(c) == '0' {
				return number, false
			}
			break
		}
	}
	return number[ind[1]:], true
}

// maybeStripNationalPrefixAndCarrierCode returns the number without its
// national prefix (and carrier code), rewritten by the region's transform
// rule, unless that would leave a number the region's pattern no longer
// matches when it matched before.
func maybeStripNationalPrefixAndCarrierCode(number string, meta *phoneMeta) (string, bool) {
	if len(number) == 0 || meta.npp == "" {
		return number, false
	}
	re := meta.regexps()
	groups := re.npp.FindStringSubmatchIndex(number)
	if groups == nil {
		return number, false
	}
	viableOriginal := re.general.MatchString(number)
	numOfGroups := len(groups)/2 - 1
	if meta.npt == "" || groups[numOfGroups*2] < 0 {
		if viableOriginal && !re.general.MatchString(number[groups[1]:]) {
			return number, false
		}
		return number[groups[1]:], true
	}
	transformed := re.npp.ReplaceAllString(number, meta.npt)
	if viableOriginal && !re.general.MatchString(transformed) {
		return number, false
	}
	return transformed, true
}

type lengthResult int

const (
	lengthPossible lengthResult = iota
	lengthLocalOnly
	lengthTooShort
	lengthInvalid
	lengthTooLong
)

// testNumberLength checks a number's length (in bytes, as the library
// counts) against the region's general possible lengths.
func testNumberLength(number string, meta *phoneMeta) lengthResult {
	l := len(number)
	if hasLength(meta.localOnly, l) {
		return lengthLocalOnly
	}
	lo, hi := lowestLength(meta.lengths), highestLength(meta.lengths)
	switch {
	case l == lo:
		return lengthPossible
	case l < lo:
		return lengthTooShort
	case l > hi:
		return lengthTooLong
	case hasLength(meta.lengths, l):
		return lengthPossible
	}
	return lengthInvalid
}

func hasLength(set uint32, l int) bool { return l < 32 && set&(1<<l) != 0 }

func lowestLength(set uint32) int {
	for l := 0; l < 32; l++ {
		if hasLength(set, l) {
			return l
		}
	}
	return -1
}

func highestLength(set uint32) int {
	for l := 31; l >= 0; l-- {
		if hasLength(set, l) {
			return l
		}
	}
	return -1
}

// validNumber is IsValidNumber: the national significant number is of a
// known type in the region its calling code and leading digits name.
func validNumber(cc int, nsn string) bool {
	regions := regionsForCallingCode(cc)
	var meta *phoneMeta
	switch len(regions) {
	case 0:
		return false
	case 1:
		meta = &phoneMetas[regions[0]]
	default:
		// getRegionCodeForNumberFromRegionList: the first region whose
		// leading digits start the number or, for one without them,
		// whose types the number matches.
		for _, i := range regions {
			m := &phoneMetas[i]
			if m.leading != "" {
				if m.regexps().leading.MatchString(nsn) {
					meta = m
					break
				}
			} else if knownType(nsn, m) {
				meta = m
				break
			}
		}
	}
	return meta != nil && knownType(nsn, meta)
}

// knownType is getNumberTypeHelper(...) != UNKNOWN.
func knownType(nsn string, meta *phoneMeta) bool {
	re := meta.regexps()
	if !hasLength(meta.lengths, len(nsn)) || !re.general.MatchString(nsn) {
		return false
	}
	for i, t := range meta.types {
		if (t.lengths == 0 || hasLength(t.lengths, len(nsn))) && re.types[i].MatchString(nsn) {
			return true
		}
	}
	return false
}
