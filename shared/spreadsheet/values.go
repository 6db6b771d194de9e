package spreadsheet

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// numKind is what a number format shows of a number.
type numKind uint8

const (
	kindNumber numKind = iota
	kindDate
	kindTime
	kindDateTime
)

// builtinKind classifies Excel's built-in number formats, which workbooks
// refer to by id without spelling them out.
func builtinKind(id int) numKind {
	switch {
	case id >= 14 && id <= 17:
		return kindDate // m/d/yyyy, d-mmm-yy, d-mmm, mmm-yy
	case id >= 18 && id <= 21, id >= 45 && id <= 47:
		return kindTime // h:mm AM/PM … mm:ss, [h]:mm:ss, mmss.0
	case id == 22:
		return kindDateTime // m/d/yyyy h:mm
	}
	return kindNumber
}

// classifyFormat tells whether a custom number format shows a date, a time
// or both: whether it has the letters d, m, y, h or s outside quotes,
// brackets and escapes (m is minutes next to h or s, else a month).
func classifyFormat(code string) numKind {
	var date, clock, month bool
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch c {
		case '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
			continue
		case '[':
			j := strings.IndexByte(code[i+1:], ']')
			if j < 0 {
				i = len(code)
				continue
			}
			// [h]:mm, [mm]:ss: elapsed time. [Red], [$-409]: not a date.
			if inner := strings.ToLower(code[i+1 : i+1+j]); inner != "" && strings.Trim(inner, "hms") == "" {
				clock = true
			}
			i += j + 1
			continue
		case '\\', '_', '*':
			i++ // an escaped character, a space as wide as one, a fill
			continue
		}
		if (c == 'A' || c == 'a') && (hasFoldPrefix(code[i:], "am/pm") || hasFoldPrefix(code[i:], "a/p")) {
			clock = true
			if hasFoldPrefix(code[i:], "am/pm") {
				i += 4
			} else {
				i += 2
			}
			continue
		}
		switch c | 0x20 {
		case 'y', 'd':
			date = true
		case 'h', 's':
			clock = true
		case 'm':
			month = true
		}
	}
	if month && !clock {
		date = true
	}
	switch {
	case date && clock:
		return kindDateTime
	case date:
		return kindDate
	case clock:
		return kindTime
	}
	return kindNumber
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// formatNumber writes a number cell's value as the operator thinks of it:
// integers without exponent (a phone number stored as 3.46E+10 reads
// "34600000000"), other numbers as the shortest decimal of the 15
// significant digits Excel shows, and dates as ISO dates.
func formatNumber(v []byte, kind numKind, date1904 bool) string {
	if len(v) == 0 {
		return ""
	}
	if kind == kindNumber && len(v) <= 15 && isInteger(v) {
		return string(v)
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return string(v)
	}
	if kind != kindNumber {
		if s, ok := formatSerial(f, kind, date1904); ok {
			return s
		}
	}
	return formatFloat(f)
}

func isInteger(v []byte) bool {
	if v[0] == '-' {
		v = v[1:]
		if len(v) > 0 && v[0] == '0' {
			return false // -0
		}
	}
	if len(v) == 0 || len(v) > 1 && v[0] == '0' {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func formatFloat(f float64) string {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		if f == 0 {
			return "0"
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	// Excel keeps 15 significant digits: 0.1+0.2 is stored as
	// 0.30000000000000004 and shown as 0.3.
	f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if a := math.Abs(f); a >= 1e21 || a < 1e-9 {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// maxSerial is 9999-12-31, the last date Excel shows.
const maxSerial = 2958466

// formatSerial writes an Excel date serial number (days since 1900, or since
// 1904 in workbooks of old Macs) as "2006-01-02", "2006-01-02 15:04", or
// "15:04" for a time without a date. Seconds are dropped, as in the formats
// Excel shows by default.
func formatSerial(f float64, kind numKind, date1904 bool) (string, bool) {
	if f < 0 || f >= maxSerial {
		return "", false
	}
	// Excel keeps times to the millisecond; rounding to it undoes the
	// float error of a serial such as 45356.99999999999 (midnight).
	days := math.Floor(f)
	ms := int(math.Round((f - days) * 86_400_000))
	if ms >= 86_400_000 {
		days++
		ms -= 86_400_000
	}
	d := int(days)
	mins := ms / 60_000
	clock := strconv.Itoa(100 + mins/60)[1:] + ":" + strconv.Itoa(100 + mins%60)[1:]
	if kind == kindTime && d == 0 {
		return clock, true
	}
	var date string
	switch {
	case date1904:
		date = time.Date(1904, 1, 1+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	case d == 60:
		// Excel's 29 February 1900, which never was: Lotus 1-2-3
		// thought 1900 a leap year and Excel kept the bug.
		date = "1900-02-29"
	case d < 60:
		date = time.Date(1899, 12, 31+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	default:
		date = time.Date(1899, 12, 30+d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	if kind == kindDate {
		return date, true
	}
	return date + " " + clock, true
}

// formatISODate writes a t="d" cell, which holds an ISO 8601 date, the way
// formatSerial writes serial dates.
func formatISODate(v string, kind numKind) string {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		t, err := time.Parse(layout, v)
		if err != nil {
			continue
		}
		midnight := t.Hour() == 0 && t.Minute() == 0
		switch {
		case kind == kindTime && t.Year() <= 1900:
			return t.Format("15:04")
		case kind == kindDate || kind == kindNumber && midnight:
			return t.Format(time.DateOnly)
		}
		return t.Format("2006-01-02 15:04")
	}
	return v
}

// decodeEscapes decodes the _xHHHH_ escapes with which Office writes
// characters XML cannot hold (a carriage return is _x000D_), in place.
func decodeEscapes(b []byte) []byte {
	if !containsEscape(b) {
		return b
	}
	out := b[:0] // never ahead of the read position: an escape shrinks
	for i := 0; i < len(b); {
		r, ok := escapeAt(b, i)
		if !ok {
			out = append(out, b[i])
			i++
			continue
		}
		i += 7
		if utf16.IsSurrogate(r) {
			if r2, ok := escapeAt(b, i); ok {
				if p := utf16.DecodeRune(r, r2); p != utf8.RuneError {
					r = p
					i += 7
				}
			}
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}

func containsEscape(b []byte) bool {
	for i := range b {
		if b[i] == '_' && i+1 < len(b) && b[i+1] == 'x' {
			return true
		}
	}
	return false
}

func escapeAt[T string | []byte](b T, i int) (rune, bool) {
	if i+7 > len(b) || b[i] != '_' || b[i+1] != 'x' || b[i+6] != '_' {
		return 0, false
	}
	var r rune
	for k := i + 2; k < i+6; k++ {
		switch c := b[k]; {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
