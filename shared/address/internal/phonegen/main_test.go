package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedIsCurrent fails when phonemeta.go is not what the
// phonenumbers in go.mod gives: after an upgrade, run go generate
// ./shared/address.
func TestGeneratedIsCurrent(t *testing.T) {
	want, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../phonemeta.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("shared/address/phonemeta.go is stale: run go generate ./shared/address")
	}
}
