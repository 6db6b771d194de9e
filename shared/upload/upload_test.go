package upload_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/upload"
)

func newService(t *testing.T, max int64) *upload.Service {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	blobs, err := blobfs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return &upload.Service{Store: store, Blobs: blobs, URLSecret: []byte("s"), PublicURL: "http://herald.test", Ingest: ingest.Config{MaxBytes: max},
		IDs: &notify.IDs{}, Now: time.Now}
}

// TestPutFileBound: a file of exactly the largest size is stored, one
// byte more is payload_too_large whether or not its size was given, and
// nothing of it is kept.
func TestPutFileBound(t *testing.T) {
	const max = 100
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		n     int
		size  int64
		code  string
		moved bool
	}{
		{"exactly the largest", max, -1, "", true},
		{"one byte more", max + 1, -1, notify.CodePayloadTooLarge, false},
		{"one byte more, size given", max + 1, max + 1, notify.CodePayloadTooLarge, false},
	} {
		s := newService(t, max)
		up, _, err := s.Create(ctx, "ws1", "test", upload.Input{Purpose: notify.UploadPurposeUsers, Filename: "users.csv"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.PutFile(ctx, "ws1", up.ID, bytes.NewReader(bytes.Repeat([]byte("x"), tt.n)), tt.size)
		if tt.code == "" && err != nil || tt.code != "" && !notify.IsCode(err, tt.code) {
			t.Errorf("%s: PutFile = %v, want code %q", tt.name, err, tt.code)
		}
		if _, err := s.Blobs.Stat(ctx, up.ObjectKey); (err == nil) != tt.moved {
			t.Errorf("%s: the stored file: %v, want stored %v", tt.name, err, tt.moved)
		}
	}
}

// TestCreateReportsEveryProblem: the problems of an upload are reported
// together, by field, and nothing is stored.
func TestCreateReportsEveryProblem(t *testing.T) {
	s := newService(t, 100)
	_, _, err := s.Create(context.Background(), "ws1", "test", upload.Input{Channel: notify.ChannelPush, Filename: "a/b.csv", DefaultRegion: "Spain"})
	e, ok := err.(*notify.Error)
	if !ok || e.Code != notify.CodeValidation {
		t.Fatalf("Create = %v, want a validation error", err)
	}
	var fields []string
	for _, d := range e.Details {
		fields = append(fields, d.Field)
	}
	if want := []string{"channel", "templateId", "filename", "defaultRegion"}; !slices.Equal(fields, want) {
		t.Errorf("fields at fault %q, want %q", fields, want)
	}
	if err := (*upload.Service)(nil).Configured(); !notify.IsCode(err, notify.CodeNotConfigured) {
		t.Errorf("no service: %v, want not_configured", err)
	}
}
