package spreadsheet

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"testing"
)

// heavyPass is the -run pattern of make test's pass without -race
// (infra/test.sh): a test that calls heavy runs only there, so its name
// must match it.
var heavyPass = regexp.MustCompile(`Hostile|Million|PeakHeap`)

// heavy skips a test that reads whole files at the size limits when the
// race detector is on (make test runs it again without it) or under -short.
func heavy(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("reads whole files at the size limits (skipped by -short)")
	}
	if raceEnabled {
		t.Skip("reads whole files at the size limits: runs without -race (make test's second go test pass)")
	}
}

// TestHeavyTestsAreNamedForTheirPass: a heavy test whose name the pass
// without -race does not match would run nowhere in make test.
func TestHeavyTestsAreNamedForTheirPass(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "heavy" && !heavyPass.MatchString(fn.Name.Name) {
						t.Errorf("%s calls heavy but its name does not match %q, the pass that runs it", fn.Name.Name, heavyPass)
					}
				}
				return true
			})
		}
	}
}
