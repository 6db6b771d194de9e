package wiring

import (
	"sync"
	"testing"

	"github.com/heraldhq/herald/shared/config"
)

// TestSharedBuildsOnce: every caller gets the part the first build made,
// even concurrently, and a part's build may ask for another part (the
// campaigns part asks for the sends part) without waiting for itself.
func TestSharedBuildsOnce(t *testing.T) {
	g := New(config.Config{}, Ports{}, nil)
	builds := 0
	inner := func() *int { return Shared(g, "inner", func() *int { builds++; n := 1; return &n }) }
	outer := func() *int { return Shared(g, "outer", func() *int { builds++; return inner() }) }
	var wg sync.WaitGroup
	got := make([]*int, 8)
	for i := range got {
		wg.Go(func() { got[i] = outer() })
	}
	wg.Wait()
	for i, p := range got {
		if p != got[0] || p != inner() {
			t.Fatalf("caller %d got part %p, want the one part %p", i, p, got[0])
		}
	}
	if builds != 2 {
		t.Errorf("builds = %d, want 2 (inner and outer once each)", builds)
	}
}
