package compose

import (
	"testing"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// displayLanguageName is languageName as it was before langnames.go, with
// display's own tables: the oracle the generated ones are checked against.
func displayLanguageName(tag string) string {
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	if n := display.English.Tags().Name(t); n != "" {
		return n
	}
	return tag
}

func TestLanguageName(t *testing.T) {
	tests := []struct{ tag, want string }{
		{"es", "Spanish"},
		{"es-419", "Latin American Spanish"},
		{"es-AR", "Spanish (Argentina)"},
		{"pt-BR", "Brazilian Portuguese"},
		{"en-GB", "British English"},
		{"fr-CA", "Canadian French"},
		{"zh-Hant", "Traditional Chinese"},
		{"zh-Hant-TW", "Traditional Chinese (Taiwan)"},
		{"sr-Cyrl-BA", "Serbian (Cyrillic, Bosnia & Herzegovina)"},
		{"az-Arab", "az-Arab"},
		{"de-CH-1996", "Swiss High German"},
		{"en-US-u-ca-buddhist", "American English"},
		{"und", "Unknown language"},
		{"not a tag", "not a tag"},
	}
	for _, tt := range tests {
		if got := languageName(tt.tag); got != tt.want {
			t.Errorf("languageName(%q) = %q, want %q", tt.tag, got, tt.want)
		}
	}
}

// TestLanguageNameMatchesDisplay holds languageName to what display gives:
// every language display names alone, with every region and every script,
// a sample with script and region, and tags display's canonicalization,
// parents, variants, extensions and parse errors take their own way.
func TestLanguageNameMatchesDisplay(t *testing.T) {
	var bases, pairs []string
	for _, tag := range display.Values.Tags() {
		if _, s, r := tag.Raw(); s != (language.Script{}) || r != (language.Region{}) {
			pairs = append(pairs, tag.String())
		} else {
			bases = append(bases, tag.String())
		}
	}
	var scripts, regions []string
	for _, s := range display.Values.Scripts() {
		scripts = append(scripts, s.String())
	}
	for _, r := range display.Values.Regions() {
		regions = append(regions, r.String())
	}
	if len(bases) < 500 || len(pairs) < 20 || len(scripts) < 150 || len(regions) < 250 {
		t.Fatalf("display names %d languages, %d pairs, %d scripts, %d regions: fewer than it did", len(bases), len(pairs), len(scripts), len(regions))
	}

	tags := []string{
		"", "und", "und-US", "und-Latn", "und-Hant-TW", "und-419", "root",
		"e", "12", "en-", "-en", "en_US", "en--US", "english", "en-US-", "x-foo", "en-x-foo",
		"i-klingon", "i-default", "zh-min-nan", "zh-guoyu", "sgn-BE-FR", "art-lojban", "en-GB-oed",
		"cmn", "cmn-Hans-CN", "yue", "arb", "iw", "in", "ji", "jw", "mo", "sh", "tl", "no", "nb", "nn",
		"zh-TW", "zh-HK", "zh-MO", "zh-SG", "zh-CN", "zh-Hant-HK", "zh-Hans-HK", "zh-Latn", "zh-Hani",
		"sr-RS", "sr-Latn-RS", "sr-Cyrl", "sr-ME", "sr-Latn-ME", "sh-BA", "bs-Cyrl", "hr-BA",
		"az-Arab-IR", "az-IR", "az-Latn", "az-Cyrl-AZ", "uz-Arab", "uz-AF", "pa-Arab", "pa-PK",
		"en-Latn", "en-Latn-US", "en-Zzzz", "en-ZZ", "en-Zzzz-ZZ", "en-Zyyy", "en-Qaaa", "en-QM", "en-XA", "en-Qaai",
		"es-419", "es-Latn-419", "es-AR", "es-MX", "es-US", "es-ES", "es-EA", "es-IC",
		"pt-AO", "pt-Latn-BR", "fr-CH", "fr-BE", "de-LI", "de-AT", "nl-SR", "nl-BE", "nds-DE",
		"ar-001", "ar-EG", "ar-Latn", "fa-AF", "prs", "sw-CD", "swc", "ro-MD", "ro-Cyrl-MD",
		"en-BU", "de-DD", "sr-YU", "sr-CS", "en-UK", "en-AN", "fr-FX", "en-TP", "en-ZR", "en-150", "en-001", "en-EU", "en-UN",
		"qaa", "qtz-Qaaa-QM", "xx", "xx-Zzzz-ZZ", "xyz-US", "aaa", "zzj",
		"de-CH-1996", "de-1901", "sl-rozaj-biske", "ca-valencia", "en-US-u-ca-buddhist",
		"en-u-nu-thai", "ja-JP-u-ca-japanese-x-lvariant-JP", "th-TH-u-nu-thai", "zh-Hant-TW-u-co-pinyin",
		"sr-Latn-t-sr-cyrl", "hy-arevela", "hy-AM-arevmda", "ja-Latn-hepburn-heploc",
		"en-US-POSIX", "es-419-u-nu-latn", "pt-BR-x-private", "zh-Hans-CN-x-y", "EN-us", "ES-419", "ZH-hant",
	}
	for _, b := range bases {
		tags = append(tags, b, b+"-1996", b+"-u-ca-gregory", b+"-x-private", b+"-Zzzz", b+"-ZZ")
	}
	for _, p := range pairs {
		tags = append(tags, p, p+"-1901", p+"-u-nu-latn")
		for _, r := range []string{"US", "419", "ZZ", "ES", "BA", "CN"} {
			tags = append(tags, p+"-"+r)
		}
	}
	// Every language with every region and every script.
	for _, b := range bases {
		for _, r := range regions {
			tags = append(tags, b+"-"+r)
		}
		for _, s := range scripts {
			tags = append(tags, b+"-"+s)
		}
	}
	// Script and region, all of them for common languages, a spread for
	// the rest.
	common := map[string]bool{}
	for _, b := range []string{"en", "es", "pt", "fr", "de", "zh", "ar", "sr", "az", "uz", "pa", "ru", "ja", "hi", "it", "nl", "sw", "ro", "fa", "ms"} {
		common[b] = true
	}
	for i, b := range bases {
		for j, s := range scripts {
			for k, r := range regions {
				if common[b] && (k%4 == j%4) || (i+j+k)%97 == 0 {
					tags = append(tags, b+"-"+s+"-"+r)
				}
			}
		}
	}

	diffs := 0
	for _, tag := range tags {
		got, want := languageName(tag), displayLanguageName(tag)
		if got != want {
			diffs++
			if diffs <= 20 {
				t.Errorf("languageName(%q) = %q, display names it %q", tag, got, want)
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d tags named differently from display", diffs, len(tags))
	}
	t.Logf("%d tags named as display names them", len(tags))
}
