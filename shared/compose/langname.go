package compose

// The English name of a language tag, as golang.org/x/text's
// display.English.Tags().Name gives it, without linking display: its name
// tables for every language it knows are 2.4 MB of each bootstrap, and a
// prompt needs only the English ones. Those are langnames.go, generated
// from display by internal/langgen; tagName follows display's nameTag and
// tagSet.index (lookup.go) step by step, quirks included, and the
// differential test holds the two together.

import (
	"strings"

	"golang.org/x/text/language"
)

//go:generate go run ./internal/langgen -o langnames.go

// nameTable is a sorted list of codes with their English names, packed
// into two byte slices and one offset per entry. Byte slices initialised
// from constants go to the binary's data segment, where api has room, not
// to its read-only one, which ends less than 1 KB short of a 64 KiB
// boundary: crossing it adds 64 KiB and puts api over its 16 MiB limit
// (infra/bootstrap-sizes.sh). Never written.
type nameTable struct {
	width int      // every code padded with spaces to width bytes
	codes []byte   // the codes, sorted, width bytes each
	names []byte   // the names, one after the other
	ends  []uint16 // where each name ends in names
}

// search is the index of the first code not before code (len(t.codes) /
// t.width when there is none). A space sorts before any byte of a code, so
// padded codes sort as the codes do.
func (t *nameTable) search(code string) int {
	if len(code) < t.width {
		code += strings.Repeat(" ", t.width-len(code))
	}
	lo, hi := 0, len(t.codes)/t.width
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if string(t.codes[m*t.width:(m+1)*t.width]) < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// code is the i-th code, without its padding; "" past the end.
func (t *nameTable) code(i int) string {
	if i >= len(t.codes)/t.width {
		return ""
	}
	return strings.TrimRight(string(t.codes[i*t.width:(i+1)*t.width]), " ")
}

// name is the i-th name.
func (t *nameTable) name(i int) string {
	start := 0
	if i > 0 {
		start = int(t.ends[i-1])
	}
	return string(t.names[start:t.ends[i]])
}

// lookup is the name of code and whether the table has it.
func (t *nameTable) lookup(code string) (string, bool) {
	if len(code) > t.width {
		return "", false
	}
	if i := t.search(code); t.code(i) == code {
		return t.name(i), true
	}
	return "", false
}

// languageName is the English name of a language tag ("Spanish",
// "Brazilian Portuguese"), or the tag when it has none.
func languageName(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	if n := tagName(t); n != "" {
		return n
	}
	return tag
}

// tagName is display.English.Tags().Name(t): the name of the tag's
// language entry (its base with its script or region when CLDR names the
// pair, "Latin American Spanish"), then the names of the script and region
// that entry does not imply in parentheses ("Serbian (Cyrillic, Bosnia &
// Herzegovina)"). An entry without an English name passes to the tag's
// parent, with the tag's script and region; variants and extensions are
// ignored. "" when neither the tag nor a parent has a named entry.
func tagName(t language.Tag) string {
	const form = language.All &^ language.SuppressScript
	if c, err := form.Canonicalize(t); err == nil {
		t = c
	}
	_, sRaw, rRaw := t.Raw()
	name, ok, scr, reg := langEntry(t.Raw())
	for ok {
		if name != "" {
			ss, sr := "", ""
			if scr != (language.Script{}) {
				ss, _ = scriptNames.lookup(scr.String())
			}
			if reg != (language.Region{}) {
				sr, _ = regionNames.lookup(reg.String())
			}
			switch {
			case ss != "" && sr != "":
				return name + " (" + ss + ", " + sr + ")"
			case ss != "" || sr != "":
				return name + " (" + ss + sr + ")"
			}
			return name
		}
		scr, reg = sRaw, rRaw
		if t = t.Parent(); t == language.Und {
			return ""
		}
		name, ok, _, _ = langEntry(t.Raw())
	}
	return ""
}

// langEntry finds the language entry of base with script and region
// (display's tagSet.index): a pair entry whose script or region is the
// tag's, else the base's. It returns the entry's name, whether there is an
// entry, and the script and region the entry does not imply (the unknown
// script Zzzz and region ZZ count as none).
func langEntry(base language.Base, scr language.Script, reg language.Region) (string, bool, language.Script, language.Region) {
	lang := base.String()
	if scr != (language.Script{}) || reg != (language.Region{}) {
		if scr.String() == "Zzzz" {
			scr = language.Script{}
		}
		if reg.String() == "ZZ" {
			reg = language.Region{}
		}
		scrStr, regStr := scr.String(), reg.String()
		for i := langPairs.search(lang); strings.HasPrefix(langPairs.code(i), lang); i++ {
			switch langPairs.code(i)[len(lang)+1:] {
			case scrStr:
				return langPairs.name(i), true, language.Script{}, reg
			case regStr:
				return langPairs.name(i), true, scr, language.Region{}
			}
		}
	}
	name, ok := langBases.lookup(lang)
	return name, ok, scr, reg
}
