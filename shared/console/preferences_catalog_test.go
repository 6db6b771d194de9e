package console

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestPreferenceCatalogsAreComplete: every language says everything
// English says (a missing key would show English in the middle of the
// page) and nothing English does not, and the page offers every one.
func TestPreferenceCatalogsAreComplete(t *testing.T) {
	en := preferenceCatalogs[fallbackLanguage]
	var offered []string
	for _, l := range languageNames {
		offered = append(offered, l.Code)
	}
	for lang, words := range preferenceCatalogs {
		if !slices.Contains(offered, lang) {
			t.Errorf("catalog %s is not in languageNames", lang)
		}
		for k := range en {
			if strings.TrimSpace(words[k]) == "" {
				t.Errorf("catalog %s lacks %q", lang, k)
			}
		}
		for k := range words {
			if _, ok := en[k]; !ok {
				t.Errorf("catalog %s has %q, which English has not", lang, k)
			}
		}
	}
	var langs []string
	for l := range preferenceCatalogs {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, want := range []string{"en", "es", "pl", "pt"} {
		if !slices.Contains(langs, want) {
			t.Errorf("no catalog for %s (have %v)", want, langs)
		}
	}
	for _, l := range offered {
		if preferenceCatalogs[l] == nil {
			t.Errorf("languageNames offers %s, which has no catalog", l)
		}
	}
}
