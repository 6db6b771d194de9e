package ingest

import (
	"testing"

	"github.com/heraldhq/herald/shared/heavytest"
)

// TestHeavyTestsAreNamedForTheirPass: a heavy test whose name the pass
// without -race does not match would run nowhere in make test.
func TestHeavyTestsAreNamedForTheirPass(t *testing.T) { heavytest.CheckNames(t) }
