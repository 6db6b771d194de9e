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

func TestDerivedID(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	a, b := DerivedID(at, "cmp_1@2026-12-01T08:00:00Z"), DerivedID(at, "cmp_1@2026-12-01T08:00:00Z")
	if a != b || len(a) != 26 {
		t.Fatalf("DerivedID twice = %q, %q; want the same 26-character id", a, b)
	}
	if c := DerivedID(at, "cmp_2@2026-12-01T08:00:00Z"); c == a {
		t.Errorf("another seed gave the same id %q", c)
	}
	later := DerivedID(at.Add(time.Millisecond), "cmp_1@2026-12-01T08:00:00Z")
	if later <= a {
		t.Errorf("DerivedID of a later time %q does not sort after %q", later, a)
	}
	g := &IDs{}
	if fresh := g.New(at); fresh[:10] != a[:10] {
		t.Errorf("time part %q, want the same as New's %q", a[:10], fresh[:10])
	}
}
