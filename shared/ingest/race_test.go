//go:build race

package ingest

// raceEnabled says the race detector is on: it makes the heavy tests (whole
// files at the size limits) ten times slower, so they skip, and make test
// runs them in a second pass without it.
const raceEnabled = true
