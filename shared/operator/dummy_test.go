package operator

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestDummyHashCostsAPassword: the hash an unknown email is checked
// against must cost what an operator's does (HashPassword's algorithm and
// parameters, a salt and a key of its lengths), or a wrong email would be
// answered faster than a wrong password; and no password matches it.
func TestDummyHashCostsAPassword(t *testing.T) {
	real := strings.Split(HashPassword("correct horse battery"), "$")
	dummy := strings.Split(dummyHash, "$")
	if len(dummy) != len(real) {
		t.Fatalf("dummyHash %q has %d fields, HashPassword's %d", dummyHash, len(dummy), len(real))
	}
	for i, name := range []string{"", "algorithm", "version", "parameters"} {
		if dummy[i] != real[i] {
			t.Errorf("dummyHash %s = %q, HashPassword's %q", name, dummy[i], real[i])
		}
	}
	for i, name := range map[int]string{4: "salt", 5: "key"} {
		d, err := base64.RawStdEncoding.DecodeString(dummy[i])
		r, _ := base64.RawStdEncoding.DecodeString(real[i])
		if err != nil || len(d) != len(r) {
			t.Errorf("dummyHash %s %q: %d bytes, %v; want %d bytes", name, dummy[i], len(d), err, len(r))
		}
	}
	for _, pw := range []string{"", "herald-no-such-operator", "herald-no-salt!!", "correct horse battery"} {
		if CheckPassword(dummyHash, pw) {
			t.Errorf("CheckPassword(dummyHash, %q) = true", pw)
		}
	}
}
