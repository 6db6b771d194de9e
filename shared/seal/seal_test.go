package seal

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := NewKey()
	for _, addr := range []string{"+34600000001", "ana@example.com", ""} {
		s, err := Seal(key, addr)
		if err != nil {
			t.Fatalf("Seal(%q): %v", addr, err)
		}
		if addr != "" && (strings.Contains(s, addr) || !IsSealed(s)) {
			t.Errorf("Seal(%q) = %q: plaintext visible or not marked", addr, s)
		}
		got, err := Open(key, s)
		if err != nil || got != addr {
			t.Errorf("Open(Seal(%q)) = %q, %v", addr, got, err)
		}
	}
	s, _ := Seal(key, "+34600000001")
	if _, err := Open(NewKey(), s); err == nil {
		t.Errorf("Open with another key succeeded, want error")
	}
	if got, err := Open(nil, "u123"); err != nil || got != "u123" {
		t.Errorf("Open(unsealed) = %q, %v; want it unchanged", got, err)
	}
}
