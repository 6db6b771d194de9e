// Package blobtest is the contract suite of the notify.Blobs port. Every
// adapter (files on disk, S3) runs it from its own tests, so the code that
// stores uploads and exports can rely on the same behaviour whichever store
// it is wired to.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// Run runs the contract suite against the adapter that newStore makes: a
// fresh, empty store for one test, which the adapter cleans up with
// t.Cleanup. Every case runs in parallel with a store of its own.
func Run(t *testing.T, newStore func(t *testing.T) notify.Blobs) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s notify.Blobs)
	}{
		{"PutThenOpen", testPutThenOpen},
		{"StatMatchesPut", testStatMatchesPut},
		{"ETag", testETag},
		{"OverwriteReplacesWhole", testOverwriteReplacesWhole},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"InvalidKeys", testInvalidKeys},
		{"KeyAlphabet", testKeyAlphabet},
		{"KeyIsPrefixOfAnother", testKeyIsPrefixOfAnother},
		{"Large", testLarge},
		{"Empty", testEmpty},
		{"ShortBody", testShortBody},
		{"CanceledPut", testCanceledPut},
		{"OpenThenOverwrite", testOpenThenOverwrite},
		{"ConcurrentReadersDuringOverwrite", testConcurrentReadersDuringOverwrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

// streamOnly hides every method of its reader but Read, such as Seek, so an
// adapter sees a body it can read only once.
type streamOnly struct{ io.Reader }

func put(t *testing.T, s notify.Blobs, key string, body []byte) notify.BlobInfo {
	t.Helper()
	info, err := s.Put(t.Context(), key, bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(body), err)
	}
	return info
}

// read opens key and reads it whole.
func read(t *testing.T, s notify.Blobs, key string) ([]byte, notify.BlobInfo) {
	t.Helper()
	rc, info, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return got, info
}

func stat(t *testing.T, s notify.Blobs, key string) notify.BlobInfo {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

// sameBytes reports how got differs from want, or "" when they are equal,
// without printing megabytes.
func sameBytes(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("%d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}

func expectNotFound(t *testing.T, s notify.Blobs, key string) {
	t.Helper()
	if info, err := s.Stat(t.Context(), key); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want a %s error", key, info, err, notify.CodeNotFound)
	}
	rc, _, err := s.Open(t.Context(), key)
	if err == nil {
		rc.Close()
	}
	if !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("Open(%q) error = %v, want a %s error", key, err, notify.CodeNotFound)
	}
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

func testPutThenOpen(t *testing.T, s notify.Blobs) {
	key := "uploads/ws_1/01HZX0000000000000000000AB/contacts.csv"
	body := []byte("name,phone\nZoë,+34600000000\n")
	info := put(t, s, key, body)
	if info.Size != int64(len(body)) || info.ETag == "" || info.ModTime.IsZero() {
		t.Errorf("Put(%q) = %+v, want Size %d and an ETag and ModTime", key, info, len(body))
	}
	got, openInfo := read(t, s, key)
	if d := sameBytes(got, body); d != "" {
		t.Errorf("Open(%q) read %s", key, d)
	}
	if diff := cmp.Diff(info, openInfo); diff != "" {
		t.Errorf("Open(%q) info differs from Put's (-put +open):\n%s", key, diff)
	}
}

func testStatMatchesPut(t *testing.T, s notify.Blobs) {
	key := "exports/report.xlsx"
	info := put(t, s, key, randomBytes(70_000, 1))
	if diff := cmp.Diff(info, stat(t, s, key)); diff != "" {
		t.Errorf("Stat(%q) differs from Put's info (-put +stat):\n%s", key, diff)
	}
}

func testETag(t *testing.T, s notify.Blobs) {
	const key = "etag/object"
	// Same size, different content: an ETag made of size and time would pass
	// a weaker test.
	first := put(t, s, key, []byte("hello"))
	for i := range 2 {
		if got := stat(t, s, key).ETag; got != first.ETag {
			t.Errorf("Stat %d: ETag = %q, want Put's %q while the content is unchanged", i+1, got, first.ETag)
		}
	}
	if _, info := read(t, s, key); info.ETag != first.ETag {
		t.Errorf("Open: ETag = %q, want Put's %q", info.ETag, first.ETag)
	}
	second := put(t, s, key, []byte("world"))
	if second.ETag == first.ETag {
		t.Errorf("ETag after a Put of new content = %q, the same as before; want a new one", second.ETag)
	}
	if got := stat(t, s, key).ETag; got != second.ETag {
		t.Errorf("Stat after the new Put: ETag = %q, want %q", got, second.ETag)
	}
	if third := put(t, s, key, []byte("hello")); third.ETag == second.ETag {
		t.Errorf("ETag after going back to the first content = %q, unchanged; want it to change with the content", third.ETag)
	}
	// Another key with the first content does not disturb this one.
	put(t, s, key+"-copy", []byte("hello"))
	if got, _ := read(t, s, key); string(got) != "hello" {
		t.Errorf("Open(%q) = %q after a Put to another key, want %q", key, got, "hello")
	}
}

func testOverwriteReplacesWhole(t *testing.T, s notify.Blobs) {
	const key = "overwrite/me.csv"
	long := bytes.Repeat([]byte("long content "), 1000)
	shortBody := []byte("short")
	for _, body := range [][]byte{long, shortBody, long} {
		info := put(t, s, key, body)
		got, openInfo := read(t, s, key)
		if d := sameBytes(got, body); d != "" {
			t.Errorf("after Put of %d bytes, Open read %s", len(body), d)
		}
		if openInfo.Size != int64(len(body)) || stat(t, s, key).Size != int64(len(body)) {
			t.Errorf("after Put of %d bytes, Open Size = %d and Stat Size = %d", len(body), openInfo.Size, stat(t, s, key).Size)
		}
		if openInfo.ETag != info.ETag {
			t.Errorf("after Put of %d bytes, Open ETag = %q, want Put's %q", len(body), openInfo.ETag, info.ETag)
		}
	}
}

func testMissing(t *testing.T, s notify.Blobs) {
	expectNotFound(t, s, "never/put")
	put(t, s, "dir/object", []byte("x"))
	// Neighbours of an object are not objects.
	for _, key := range []string{"dir", "dir/object/child", "dir/objec", "dir/object2"} {
		expectNotFound(t, s, key)
	}
}

func testDelete(t *testing.T, s notify.Blobs) {
	ctx := t.Context()
	const key = "delete/me"
	put(t, s, key, []byte("soon gone"))
	put(t, s, "delete/keep", []byte("stays"))
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
	expectNotFound(t, s, key)
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete(%q) again = %v, want nil", key, err)
	}
	if got, _ := read(t, s, "delete/keep"); string(got) != "stays" {
		t.Errorf("a sibling of the deleted object reads %q, want %q", got, "stays")
	}
	// The key can be used again.
	put(t, s, key, []byte("back"))
	if got, _ := read(t, s, key); string(got) != "back" {
		t.Errorf("Open after Delete and Put = %q, want %q", got, "back")
	}
}

func testDeleteMissing(t *testing.T, s notify.Blobs) {
	for _, key := range []string{"never/put", "a"} {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q) of a missing object = %v, want nil", key, err)
		}
	}
}

func testInvalidKeys(t *testing.T, s notify.Blobs) {
	ctx := t.Context()
	keys := []string{
		"", "../x", "a/../../x", "/abs", "a/", "a//b", "a/./b", ".", "..", "sp ace", "a\\b", "ü", "a+b", "a@b",
		"nul\x00", strings.Repeat("a", 600), strings.Repeat("ab/", 171) + "c",
	}
	for _, key := range keys {
		var want *notify.Error
		if !errors.As(notify.ValidBlobKey(key), &want) {
			t.Fatalf("notify.ValidBlobKey(%q) accepts the key; the suite's list is wrong", key)
		}
		check := func(op string, err error) {
			t.Helper()
			var got *notify.Error
			if !errors.As(err, &got) {
				t.Errorf("%s(%.20q) = %v, want the %s error of notify.ValidBlobKey", op, key, err, notify.CodeValidation)
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s(%.20q) error differs from notify.ValidBlobKey's (-want +got):\n%s", op, key, diff)
			}
		}
		_, err := s.Put(ctx, key, strings.NewReader("x"), 1)
		check("Put", err)
		rc, _, err := s.Open(ctx, key)
		if err == nil {
			rc.Close()
		}
		check("Open", err)
		_, err = s.Stat(ctx, key)
		check("Stat", err)
		check("Delete", s.Delete(ctx, key))
	}
	// A refused key was not cleaned into a valid one and stored.
	for _, key := range []string{"x", "a/x", "a/b", "abs", "a", "sp", "ace"} {
		if _, err := s.Stat(ctx, key); !notify.IsCode(err, notify.CodeNotFound) {
			t.Errorf("after refusing invalid keys, Stat(%q) = %v, want %s", key, err, notify.CodeNotFound)
		}
	}
}

func testKeyAlphabet(t *testing.T, s notify.Blobs) {
	keys := []string{
		"Dir.1/sub-dir_2/file=3.tar.gz",
		".hidden/..x/x../...",
		"a",
		"=/-/_",
		strings.Repeat("k", 512), // the longest key, in one part
		strings.Repeat("p", 250) + "/" + strings.Repeat("q", 261), // parts longer than a file name may be
		strings.Repeat("r", 254) + "..",                           // a long part whose tail is ".."
		strings.TrimSuffix(strings.Repeat("d/", 256), "/"),
	}
	for i, key := range keys {
		if err := notify.ValidBlobKey(key); err != nil {
			t.Fatalf("key %d: %v; the suite's list is wrong", i, err)
		}
		body := []byte(fmt.Sprintf("object %d", i))
		info := put(t, s, key, body)
		if got, _ := read(t, s, key); !bytes.Equal(got, body) {
			t.Errorf("Open(%.30q) = %q, want %q", key, got, body)
		}
		if diff := cmp.Diff(info, stat(t, s, key)); diff != "" {
			t.Errorf("Stat(%.30q) differs from Put's info (-put +stat):\n%s", key, diff)
		}
	}
	// Every key kept its own object.
	for i, key := range keys {
		if got, _ := read(t, s, key); string(got) != fmt.Sprintf("object %d", i) {
			t.Errorf("Open(%.30q) after every Put = %q, want %q", key, got, fmt.Sprintf("object %d", i))
		}
	}
}

func testKeyIsPrefixOfAnother(t *testing.T, s notify.Blobs) {
	ctx := t.Context()
	keys := []string{"a", "a/b", "a/b/c", strings.Repeat("l", 300), strings.Repeat("l", 300) + "/x"}
	for _, key := range keys {
		put(t, s, key, []byte("content of "+key))
	}
	for _, key := range keys {
		if got, _ := read(t, s, key); string(got) != "content of "+key {
			t.Errorf("Open(%.20q) = %.30q, want its own content", key, got)
		}
	}
	if err := s.Delete(ctx, "a/b"); err != nil {
		t.Fatalf("Delete(a/b): %v", err)
	}
	expectNotFound(t, s, "a/b")
	for _, key := range []string{"a", "a/b/c"} {
		if got, _ := read(t, s, key); string(got) != "content of "+key {
			t.Errorf("after Delete(a/b), Open(%q) = %q, want its own content", key, got)
		}
	}
	if err := s.Delete(ctx, "a/b/c"); err != nil {
		t.Fatalf("Delete(a/b/c): %v", err)
	}
	if got, _ := read(t, s, "a"); string(got) != "content of a" {
		t.Errorf("after deleting every key under it, Open(a) = %q, want its own content", got)
	}
}

func testLarge(t *testing.T, s notify.Blobs) {
	const size = 5 << 20
	body := randomBytes(size, 5)
	tests := []struct {
		name string
		body func() io.Reader
		size int64
	}{
		{"known size, seekable", func() io.Reader { return bytes.NewReader(body) }, size},
		{"known size, stream", func() io.Reader { return streamOnly{bytes.NewReader(body)} }, size},
		{"unknown size, stream", func() io.Reader { return streamOnly{bytes.NewReader(body)} }, -1},
		{"unknown size, seekable", func() io.Reader { return bytes.NewReader(body) }, -1},
	}
	for i, tt := range tests {
		key := fmt.Sprintf("large/%d.bin", i)
		info, err := s.Put(t.Context(), key, tt.body(), tt.size)
		if err != nil {
			t.Errorf("%s: Put: %v", tt.name, err)
			continue
		}
		if info.Size != size {
			t.Errorf("%s: Put Size = %d, want %d", tt.name, info.Size, size)
		}
		got, openInfo := read(t, s, key)
		if d := sameBytes(got, body); d != "" {
			t.Errorf("%s: Open read %s", tt.name, d)
		}
		if diff := cmp.Diff(info, openInfo); diff != "" {
			t.Errorf("%s: Open info differs from Put's (-put +open):\n%s", tt.name, diff)
		}
	}
}

func testEmpty(t *testing.T, s notify.Blobs) {
	for _, size := range []int64{0, -1} {
		key := fmt.Sprintf("empty/size%d", size)
		info, err := s.Put(t.Context(), key, streamOnly{strings.NewReader("")}, size)
		if err != nil {
			t.Fatalf("Put(%q, empty, size %d): %v", key, size, err)
		}
		if info.Size != 0 || info.ETag == "" {
			t.Errorf("Put(%q, empty, size %d) = %+v, want Size 0 and an ETag", key, size, info)
		}
		got, openInfo := read(t, s, key)
		if len(got) != 0 {
			t.Errorf("Open(%q) read %d bytes, want 0", key, len(got))
		}
		if diff := cmp.Diff(info, openInfo); diff != "" {
			t.Errorf("Open(%q) info differs from Put's (-put +open):\n%s", key, diff)
		}
	}
}

func testShortBody(t *testing.T, s notify.Blobs) {
	const key = "short/body"
	before := put(t, s, key, []byte("the old content"))
	for _, body := range []io.Reader{strings.NewReader("0123456789"), streamOnly{strings.NewReader("0123456789")}} {
		if info, err := s.Put(t.Context(), key, body, 100); err == nil {
			t.Errorf("Put(%T of 10 bytes, size 100) = %+v, nil; want an error", body, info)
		}
	}
	got, info := read(t, s, key)
	if string(got) != "the old content" {
		t.Errorf("after failed Puts, Open = %q, want the old content whole", got)
	}
	if diff := cmp.Diff(before, info); diff != "" {
		t.Errorf("after failed Puts, Open info differs from the old Put's (-old +now):\n%s", diff)
	}
	_, err := s.Put(t.Context(), "short/new", strings.NewReader("0123456789"), 100)
	if err == nil {
		t.Errorf("Put(10 bytes, size 100) of a new key = nil error, want one")
	}
	expectNotFound(t, s, "short/new")
}

func testCanceledPut(t *testing.T, s notify.Blobs) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	const key = "canceled/put"
	if info, err := s.Put(ctx, key, strings.NewReader("never stored"), 12); err == nil {
		t.Errorf("Put with a canceled context = %+v, nil; want an error", info)
	}
	expectNotFound(t, s, key)
}

func testOpenThenOverwrite(t *testing.T, s notify.Blobs) {
	const key = "open/then/overwrite"
	old := randomBytes(1<<20, 7)
	put(t, s, key, old)
	rc, _, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	put(t, s, key, []byte("new"))
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read the object opened before the overwrite: %v", err)
	}
	if d := sameBytes(got, old); d != "" {
		t.Errorf("an object opened before an overwrite read %s; want the old content whole", d)
	}
}

func testConcurrentReadersDuringOverwrite(t *testing.T, s notify.Blobs) {
	const key = "concurrent/object"
	contents := [][]byte{
		bytes.Repeat([]byte("A"), 256<<10),
		bytes.Repeat([]byte("b"), 100<<10),
	}
	var (
		mu    sync.Mutex
		etags = map[string]int{} // ETag → index into contents, from Put
	)
	record := func(info notify.BlobInfo, i int) {
		mu.Lock()
		defer mu.Unlock()
		etags[info.ETag] = i
	}
	record(put(t, s, key, contents[0]), 0)

	type seen struct {
		content int // index into contents; -1 for neither
		size    int64
		read    int
		etag    string
	}
	const readers, minReads = 4, 5
	var (
		wg      sync.WaitGroup
		done    = make(chan struct{})
		results = make(chan seen, 1024)
		errs    = make(chan error, readers+1)
	)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-done:
					if n >= minReads {
						return
					}
				default:
				}
				rc, info, err := s.Open(t.Context(), key)
				if err != nil {
					errs <- fmt.Errorf("open during overwrites: %w", err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errs <- fmt.Errorf("read during overwrites: %w", err)
					return
				}
				r := seen{content: -1, size: info.Size, read: len(got), etag: info.ETag}
				for i, c := range contents {
					if bytes.Equal(got, c) {
						r.content = i
					}
				}
				select {
				case results <- r:
				default: // enough evidence collected
				}
				if _, err := s.Stat(t.Context(), key); err != nil {
					errs <- fmt.Errorf("stat during overwrites: %w", err)
					return
				}
			}
		}()
	}
	for i := range 30 {
		c := (i + 1) % len(contents)
		info, err := s.Put(t.Context(), key, bytes.NewReader(contents[c]), int64(len(contents[c])))
		if err != nil {
			errs <- fmt.Errorf("put during reads: %w", err)
			break
		}
		record(info, c)
	}
	close(done)
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	reads := 0
	for r := range results {
		reads++
		if r.content < 0 {
			t.Errorf("a read during overwrites got %d bytes that are neither the old nor the new content whole", r.read)
			continue
		}
		if r.size != int64(r.read) {
			t.Errorf("a read during overwrites: Open Size = %d, read %d bytes", r.size, r.read)
		}
		if c, ok := etags[r.etag]; !ok || c != r.content {
			t.Errorf("a read during overwrites got content %d with ETag %q, which no Put of that content returned", r.content, r.etag)
		}
	}
	if reads < readers*minReads {
		t.Errorf("readers recorded %d reads, want at least %d", reads, readers*minReads)
	}
}
