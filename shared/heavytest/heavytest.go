// Package heavytest holds what the tests that read whole files at the size
// limits share (spreadsheet, ingest): the race detector makes them about
// ten times slower, so they skip under -race and make test runs them in a
// second go test pass without it (infra/test.sh), whose -run pattern is
// Pass; and a sampler of the heap's peak, for the memory bounds they check.
// Only tests import it.
package heavytest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Pass is the -run pattern of make test's pass without -race: a test that
// calls Skip runs only there, so its name must match it.
var Pass = regexp.MustCompile(`Hostile|Million|PeakHeap|MatchesPhonenumbers`)

// Skip skips a heavy test when the race detector is on (make test runs it
// again without it) or under -short.
func Skip(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("reads whole files at the size limits (skipped by -short)")
	}
	if raceEnabled {
		t.Skip("reads whole files at the size limits: runs without -race (make test's second go test pass)")
	}
}

// Stride is how many of a differential test's cases to step over for each
// one checked: 1 (all of them), but 10 under the race detector, where a
// single-goroutine comparison gains nothing and runs ~30 times slower
// (make test's pass without -race runs them all: name the test to match
// Pass).
func Stride() int {
	if raceEnabled {
		return 10
	}
	return 1
}

// CheckNames fails t for each test of the package in the working
// directory that calls heavytest.Skip but whose name Pass does not match:
// it would run nowhere in make test.
func CheckNames(t *testing.T) {
	t.Helper()
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
				if isSkipCall(n) && !Pass.MatchString(fn.Name.Name) {
					t.Errorf("%s calls heavytest.Skip but its name does not match %q, the pass that runs it", fn.Name.Name, Pass)
				}
				return true
			})
		}
	}
}

// isSkipCall says n is a call of heavytest.Skip.
func isSkipCall(n ast.Node) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Skip" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "heavytest"
}

// PeakHeap runs f, sampling the heap every millisecond, and returns how far
// the heap in use grew above what was in use before.
func PeakHeap(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	peak := base
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	})
	f()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&ms)
	return max(peak, ms.HeapInuse) - base
}
