package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedIsCurrent fails when langnames.go is not what the
// golang.org/x/text in go.mod gives: after an upgrade, run go generate
// ./shared/compose.
func TestGeneratedIsCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../langnames.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("shared/compose/langnames.go is stale: run go generate ./shared/compose")
	}
}
