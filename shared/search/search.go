// Package search turns text into the terms the history index stores and
// queries: lower case, accents removed, split on anything that is not a letter
// or a digit. "Ahorra ENERGÍA hoy" and "energia" meet on the term "energia".
package search

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxTerms bounds how many distinct terms one notification is indexed under,
// which bounds the index writes of one send.
const MaxTerms = 64

// MaxTermLen bounds one term; longer words are cut.
const MaxTermLen = 40

// Normalize lowercases s and removes its diacritics.
func Normalize(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	out = strings.ToLower(out)
	// Letters that do not decompose but that people type without the mark.
	return strings.NewReplacer("ł", "l", "ø", "o", "đ", "d", "ß", "ss", "æ", "ae", "œ", "oe").Replace(out)
}

// Terms returns the distinct terms of texts in order of first appearance, at
// most MaxTerms. Template variables ({{name}}) are words like any other, so
// searching "name" finds a body written with {{name}}.
func Terms(texts ...string) []string {
	seen := map[string]bool{}
	var terms []string
	for _, text := range texts {
		for _, w := range words(Normalize(text)) {
			if len(w) > MaxTermLen {
				w = w[:MaxTermLen]
			}
			if seen[w] {
				continue
			}
			seen[w] = true
			terms = append(terms, w)
			if len(terms) == MaxTerms {
				return terms
			}
		}
	}
	return terms
}

func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Matches reports whether every term of query appears among the terms of texts.
func Matches(query []string, texts ...string) bool {
	if len(query) == 0 {
		return true
	}
	have := map[string]bool{}
	for _, text := range texts {
		for _, w := range words(Normalize(text)) {
			if len(w) > MaxTermLen {
				w = w[:MaxTermLen]
			}
			have[w] = true
		}
	}
	for _, q := range query {
		if !have[q] {
			return false
		}
	}
	return true
}
