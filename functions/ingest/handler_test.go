package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/blobfs"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
)

// sampleFile is the users file events/ingest-upload.json announces (its
// size and ETag are this file's).
const sampleFile = "id,name,email\nc1,Ana,ana@example.com\nc2,Luis,luis@example.com\n"

// noQueue is a dispatch queue a users import never sends to.
type noQueue struct{ notify.Queue }

func (noQueue) Send(context.Context, [][]byte) error {
	return errors.New("a users import sends nothing")
}

func readSample(t *testing.T) ([]byte, events.S3Event) {
	t.Helper()
	payload, err := os.ReadFile("../../events/ingest-upload.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.S3Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	return payload, ev
}

// TestSampleUpload runs events/ingest-upload.json through the handler with
// the upload it names waiting for its file, as the API leaves it: the
// file is ingested and its users imported.
func TestSampleUpload(t *testing.T) {
	payload, ev := readSample(t)
	obj := ev.Records[0].S3.Object
	sum := md5.Sum([]byte(sampleFile))
	if obj.Size != int64(len(sampleFile)) || obj.ETag != hex.EncodeToString(sum[:]) {
		t.Fatalf("the sample announces %d bytes with ETag %s, not the sample file", obj.Size, obj.ETag)
	}
	ws, id, ok := ingest.ParseObjectKey(obj.URLDecodedKey)
	if !ok {
		t.Fatalf("the sample's key %q is not an upload's", obj.URLDecodedKey)
	}

	ctx := context.Background()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	blobs, err := blobfs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 9, 58, 0, 0, time.UTC)
	up := notify.Upload{WorkspaceID: ws, ID: id, Purpose: notify.UploadPurposeUsers, Filename: "users.csv", Status: notify.UploadWaiting,
		ObjectKey: obj.URLDecodedKey, CreatedBy: "backend (key_example)", CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := store.CreateUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Put(ctx, up.ObjectKey, bytes.NewReader([]byte(sampleFile)), int64(len(sampleFile))); err != nil {
		t.Fatal(err)
	}
	g := &ingest.Ingester{Store: store, Blobs: blobs, Dispatch: noQueue{}, IDs: &notify.IDs{}, Now: func() time.Time { return now },
		Config: ingest.Config{DefaultRegion: "ES", TempDir: t.TempDir()}}
	if out, err := lambda.NewHandler(newHandler(g)).Invoke(ctx, payload); err != nil || string(out) != "null" {
		t.Fatalf("Invoke = %s, %v; want null, nil", out, err)
	}
	got, err := store.GetUpload(ctx, ws, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != notify.UploadCompleted || got.Rows != (notify.UploadRows{Total: 2, Valid: 2}) {
		t.Errorf("upload = %s %+v %+v, want completed with 2 valid rows", got.Status, got.Rows, got.Errors)
	}
	if u, err := store.GetUser(ctx, ws, "c2"); err != nil || u.Email != "luis@example.com" {
		t.Errorf("user c2 = %+v, %v; want imported", u, err)
	}
}

// keys records the keys it is asked to ingest, failing those in fail.
type keys struct {
	got  []string
	fail map[string]bool
}

func (k *keys) Ingest(_ context.Context, key string) error {
	k.got = append(k.got, key)
	if k.fail[key] {
		return errors.New("store down: " + key)
	}
	return nil
}

// TestRecords: every ObjectCreated record's decoded key is ingested, other
// events are skipped, and a failure fails the invocation (Lambda retries
// the event) after the other keys were tried.
func TestRecords(t *testing.T) {
	_, ev := readSample(t)
	created := ev.Records[0]
	created.S3.Object.Key, created.S3.Object.URLDecodedKey = "uploads/ws_example/red+flower%2B1", "uploads/ws_example/red flower+1"
	removed := ev.Records[0]
	removed.EventName = "ObjectRemoved:Delete"
	ev.Records = append(ev.Records, removed, created)

	k := &keys{}
	if err := newHandler(k)(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want := []string{"uploads/ws_example/01M8A3K5Q7R9T1V3X5Z7B9D1F3", "uploads/ws_example/red flower+1"}
	if diff := cmp.Diff(want, k.got); diff != "" {
		t.Errorf("keys ingested (-want +got):\n%s", diff)
	}

	k = &keys{fail: map[string]bool{want[0]: true}}
	if err := newHandler(k)(context.Background(), ev); err == nil || len(k.got) != 2 {
		t.Errorf("with the first key failing: %v after %d keys; want an error after both", err, len(k.got))
	}
}
