package console

import (
	"io/fs"
	"mime"
	"path"
	"testing"
)

// TestEveryPageParses parses every page, which the console otherwise
// parses on the page's first use only: a template error fails here, not
// in front of the first operator who opens the page.
func TestEveryPageParses(t *testing.T) {
	pages := parsePages()
	if len(pages) == 0 {
		t.Fatal("no pages")
	}
	for name, parsed := range pages {
		func() {
			defer func() {
				if err := recover(); err != nil {
					t.Errorf("page %s: %v", name, err)
				}
			}()
			p := parsed()
			if p.Lookup("layout") == nil && name != "preferences" {
				t.Errorf("page %s has no layout", name)
			}
			if again := parsed(); again != p {
				t.Errorf("page %s is parsed on every use", name)
			}
		}()
	}
}

// TestAssetTypes: every asset's kind has its content type in assetTypes
// (else the system's MIME database is loaded for it), the one
// mime.TypeByExtension gives, JavaScript's under its current name.
func TestAssetTypes(t *testing.T) {
	entries, err := fs.ReadDir(assetFS, "assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := assetTypes[path.Ext(e.Name())]; !ok {
			t.Errorf("asset %s: no content type for %q in assetTypes", e.Name(), path.Ext(e.Name()))
		}
	}
	for ext, ct := range assetTypes {
		want := mime.TypeByExtension(ext)
		if ext == ".js" {
			want = "text/javascript; charset=utf-8"
		}
		if ct != want {
			t.Errorf("assetTypes[%q] = %q, want %q", ext, ct, want)
		}
	}
}
