package boltstore

import (
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/storetest"
)

func openTemp(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "herald.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) notify.Store { return openTemp(t) })
}

func TestStoreNoSync(t *testing.T) {
	storetest.Run(t, func(t *testing.T) notify.Store { return openTemp(t, WithNoSync()) })
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	w := notify.Workspace{ID: "ws-1", Name: "Acme"}
	if err := s.CreateWorkspace(t.Context(), w); err != nil {
		t.Fatalf("CreateWorkspace: %v", err)
	}
	if _, err := Open(path); err == nil {
		t.Errorf("second Open of a held file: err = nil, want an error")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	defer s.Close()
	got, err := s.GetWorkspace(t.Context(), w.ID)
	if err != nil || got.Name != w.Name {
		t.Errorf("GetWorkspace after reopen = %+v, %v; want %+v", got, err, w)
	}
}

func TestBadCursor(t *testing.T) {
	s := openTemp(t)
	_, _, err := s.ListUsers(t.Context(), "ws-1", notify.UserFilter{}, notify.Page{Cursor: "%%%"})
	if !notify.IsCode(err, notify.CodeValidation) {
		t.Errorf("ListUsers with a bad cursor: err = %v, want code %s", err, notify.CodeValidation)
	}
}
