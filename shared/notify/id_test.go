package notify

import (
	"sort"
	"testing"
	"time"
)

func TestIDsSortByTime(t *testing.T) {
	var g IDs
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i := 0; i < 1000; i++ {
		ids = append(ids, g.New(t0.Add(time.Duration(i/10)*time.Millisecond)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("ids are not in creation order")
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if len(id) != 26 {
			t.Fatalf("len(%q) = %d, want 26", id, len(id))
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	// A clock that goes backwards still yields increasing ids.
	a := g.New(t0.Add(time.Hour))
	b := g.New(t0)
	if b <= a {
		t.Errorf("New after clock went back = %q, want > %q", b, a)
	}
}
