package ingest

import "testing"

// heavy skips a test that reads whole files at the size limits when the
// race detector is on (make test runs this package again without it) or
// under -short.
func heavy(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("reads whole files at the size limits (skipped by -short)")
	}
	if raceEnabled {
		t.Skip("reads whole files at the size limits: runs without -race (make test's second go test pass)")
	}
}
