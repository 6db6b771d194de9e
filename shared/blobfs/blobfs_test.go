package blobfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/blobtest"
	"github.com/heraldhq/herald/shared/notify"
)

func TestContract(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) notify.Blobs { return open(t, t.TempDir()) })
}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

func put(t *testing.T, s *Store, key, body string) notify.BlobInfo {
	t.Helper()
	info, err := s.Put(t.Context(), key, strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// tree lists the files and directories under root, relative and with
// forward slashes, directories ending in '/'.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			rel += "/"
		}
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func TestLayout(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	info := put(t, s, "uploads/ws_1/sheet.xlsx", "a,b\n")
	if want := sha256Hex("a,b\n"); info.ETag != want {
		t.Errorf("ETag = %q, want the hex SHA-256 of the content, %q", info.ETag, want)
	}
	want := []string{
		"@tmp/",
		"uploads/",
		"uploads/ws_1/",
		"uploads/ws_1/sheet.xlsx/",
		"uploads/ws_1/sheet.xlsx/@" + info.ETag,
		"uploads/ws_1/sheet.xlsx/@etag",
	}
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("files after Put (-want +got):\n%s", diff)
	}
	etag, err := os.ReadFile(filepath.Join(root, "uploads/ws_1/sheet.xlsx/@etag"))
	if err != nil || string(etag) != info.ETag+"\n" {
		t.Errorf("@etag holds %q, %v; want %q", etag, err, info.ETag+"\n")
	}

	// An overwrite leaves one content file; a Delete leaves nothing.
	second := put(t, s, "uploads/ws_1/sheet.xlsx", "c,d\n")
	want[4] = "uploads/ws_1/sheet.xlsx/@" + second.ETag
	slices.Sort(want)
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("files after an overwrite (-want +got):\n%s", diff)
	}
	if err := s.Delete(t.Context(), "uploads/ws_1/sheet.xlsx"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if diff := cmp.Diff([]string{"@tmp/"}, tree(t, root)); diff != "" {
		t.Errorf("files after Delete of the only object (-want +got):\n%s", diff)
	}
}

func TestDir(t *testing.T) {
	s := &Store{root: filepath.FromSlash("/data")}
	long := strings.Repeat("x", 200)
	tests := []struct {
		key  string
		want string
	}{
		{"a", "/data/a"},
		{"a/b.c/d=e", "/data/a/b.c/d=e"},
		{"..x/x../...", "/data/..x/x../..."},
		{long, "/data/" + long},
		{long + "y", "/data/" + long + "/+y"},
		{long + "..", "/data/" + long + "/+.."},
		{long + long + ".", "/data/" + long + "/+" + long + "/+."},
		{long + "/y", "/data/" + long + "/y"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		if err := notify.ValidBlobKey(tt.key); err != nil {
			t.Fatalf("ValidBlobKey(%.20q): %v", tt.key, err)
		}
		got := s.dir(tt.key)
		if got != filepath.FromSlash(tt.want) {
			t.Errorf("dir(%.20q) = %q, want %q", tt.key, got, tt.want)
		}
		if !strings.HasPrefix(got, s.root+string(filepath.Separator)) {
			t.Errorf("dir(%.20q) = %q, outside the root", tt.key, got)
		}
		for _, name := range strings.Split(filepath.ToSlash(strings.TrimPrefix(got, s.root)), "/")[1:] {
			if len(name) > 255 || name == "." || name == ".." {
				t.Errorf("dir(%.20q) has the file name %q", tt.key, name)
			}
		}
		if other, ok := seen[got]; ok {
			t.Errorf("dir(%.20q) = dir(%.20q) = %q, want distinct", tt.key, other, got)
		}
		seen[got] = tt.key
	}
}

func TestInvalidKeyWritesNothing(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "blobs")
	s := open(t, root)
	for _, key := range []string{"../x", "../blobs2/x", "a/../../x", "/x"} {
		if _, err := s.Put(t.Context(), key, strings.NewReader("x"), 1); !notify.IsCode(err, notify.CodeValidation) {
			t.Errorf("Put(%q) = %v, want a %s error", key, err, notify.CodeValidation)
		}
		if _, err := s.Path(key); !notify.IsCode(err, notify.CodeValidation) {
			t.Errorf("Path(%q) = %v, want a %s error", key, err, notify.CodeValidation)
		}
	}
	if diff := cmp.Diff([]string{"blobs/", "blobs/@tmp/"}, tree(t, parent)); diff != "" {
		t.Errorf("files after refused Puts (-want +got):\n%s", diff)
	}
}

func TestOpenIsTheFile(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, "k", "content")
	rc, _, err := s.Open(t.Context(), "k")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	f, ok := rc.(*os.File)
	if !ok {
		t.Fatalf("Open returned a %T, want an *os.File", rc)
	}
	path, err := s.Path("k")
	if err != nil {
		t.Fatalf("Path: %v", err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi, pi) {
		t.Errorf("Open's file and Path(k) = %s are different files", path)
	}
}

func TestPath(t *testing.T) {
	s := open(t, t.TempDir())
	if _, err := s.Path("missing"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("Path(missing) = %v, want a %s error", err, notify.CodeNotFound)
	}
	put(t, s, "a/b", "first")
	first, err := s.Path("a/b")
	if err != nil {
		t.Fatalf("Path: %v", err)
	}
	if b, err := os.ReadFile(first); string(b) != "first" || err != nil {
		t.Errorf("ReadFile(Path) = %q, %v; want %q", b, err, "first")
	}
	if !filepath.IsAbs(first) {
		t.Errorf("Path = %q, want an absolute path", first)
	}
	put(t, s, "a/b", "second")
	second, err := s.Path("a/b")
	if err != nil {
		t.Fatalf("Path after overwrite: %v", err)
	}
	if b, err := os.ReadFile(second); string(b) != "second" || err != nil {
		t.Errorf("ReadFile(Path) after overwrite = %q, %v; want %q", b, err, "second")
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("the old content file %s after an overwrite: Stat = %v, want it removed", first, err)
	}
}

func TestReopen(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	info := put(t, s, "kept/object", "survives a restart")
	// What a crash may leave: a body half written, and content that was
	// renamed into place but never committed to @etag.
	if err := os.WriteFile(filepath.Join(root, "@tmp", "put-123"), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(root, "kept/object", "@"+sha256Hex("never committed"))
	if err := os.WriteFile(orphan, []byte("never committed"), 0o644); err != nil {
		t.Fatal(err)
	}

	s = open(t, root)
	if entries, err := os.ReadDir(filepath.Join(root, "@tmp")); err != nil || len(entries) != 0 {
		t.Errorf("@tmp after Open holds %d entries, %v; want none", len(entries), err)
	}
	got, err := s.Stat(t.Context(), "kept/object")
	if err != nil {
		t.Fatalf("Stat after reopening: %v", err)
	}
	if diff := cmp.Diff(info, got); diff != "" {
		t.Errorf("Stat after reopening differs from Put's info (-put +stat):\n%s", diff)
	}
	rc, _, err := s.Open(t.Context(), "kept/object")
	if err != nil {
		t.Fatalf("Open after reopening: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "survives a restart" {
		t.Errorf("Open after reopening read %q, want the committed content, not the orphan", b)
	}

	put(t, s, "kept/object", "next")
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan content after the next Put: Stat = %v, want it removed", err)
	}
}

func TestCorruptETag(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	put(t, s, "k", "content")
	if err := os.WriteFile(filepath.Join(root, "k", "@etag"), []byte("not an etag"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := s.Stat(t.Context(), "k")
	if err == nil || notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("Stat with a corrupt @etag = %v, want an error other than %s", err, notify.CodeNotFound)
	}
}

func TestPutRejectsWrongSize(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, "k", "old")
	tests := []struct {
		body string
		size int64
	}{
		{"longer than said", 5},
		{"short", 50},
		{"x", -2},
	}
	for _, tt := range tests {
		if _, err := s.Put(t.Context(), "k", strings.NewReader(tt.body), tt.size); err == nil {
			t.Errorf("Put(%d bytes, size %d) = nil error, want one", len(tt.body), tt.size)
		}
	}
	if got, err := s.Stat(t.Context(), "k"); err != nil || got.ETag != sha256Hex("old") {
		t.Errorf("Stat after failed Puts = %+v, %v; want the old object", got, err)
	}
}

func TestConcurrentPutsOfOneKey(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := bytes.Repeat([]byte(fmt.Sprint(i)), 64<<10+i)
			for range 5 {
				if _, err := s.Put(t.Context(), "contended", bytes.NewReader(body), -1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Put: %v", err)
	}
	rc, info, err := s.Open(t.Context(), "contended")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if got := sha256Hex(string(b)); got != info.ETag || int64(len(b)) != info.Size {
		t.Errorf("Open read %d bytes hashing to %s; info says %d bytes, ETag %s", len(b), got, info.Size, info.ETag)
	}
	want := []string{"@tmp/", "contended/", "contended/@" + info.ETag, "contended/@etag"}
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("files after concurrent Puts (-want +got):\n%s", diff)
	}
}

// TestLookupsDuringOverwrites hammers the step the lock guards: a lookup
// reads @etag and opens the content it names while Puts replace it and
// remove the old content.
func TestLookupsDuringOverwrites(t *testing.T) {
	s := open(t, t.TempDir())
	put(t, s, "hot", "content 0")
	done := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, info, err := s.Open(t.Context(), "hot")
				if err != nil {
					errs <- fmt.Errorf("Open: %w", err)
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || sha256Hex(string(b)) != info.ETag {
					errs <- fmt.Errorf("Open read %q, %v; ETag %s is not its hash", b, err, info.ETag)
					return
				}
				if _, err := s.Stat(t.Context(), "hot"); err != nil {
					errs <- fmt.Errorf("Stat: %w", err)
					return
				}
			}
		}()
	}
	for i := range 300 {
		put(t, s, "hot", fmt.Sprint("content ", i%7))
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
