// Package blobfs is the embedded notify.Blobs: objects as files under a
// directory, for the local mode that runs Herald in one process without AWS.
//
// Each key is a directory named by its parts, which holds the object's
// content in a file named after its ETag and a small file naming the
// current ETag:
//
//	<dir>/uploads/ws_1/sheet.xlsx/@etag        the ETag, hex SHA-256 of the content
//	<dir>/uploads/ws_1/sheet.xlsx/@<sha-256>   the content
//	<dir>/@tmp/                                bodies being written
//
// A directory per key lets "a" and "a/b" both be objects, as on S3. No key
// part holds '@' or '+', so internal names never meet a key's; a key part
// longer than a file name may be continues in a subdirectory named '+' and
// the rest of the part.
//
// Put writes the body to a temporary file while hashing it, fsyncs it,
// renames it into the key's directory and then replaces @etag the same way:
// that last rename is the commit, so a crash leaves the old object or the
// new one, never half of one. Leftovers of a crash (temporary files, content
// no @etag names) are removed by Open and by the next write of the key.
//
// One Store per directory: its lock is what makes a lookup and a commit of
// the same key exclusive, so two processes must not share a directory. Keys
// are case-sensitive, but on a case-insensitive file system (macOS and
// Windows by default) two keys that differ only in case name one object.
package blobfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/heraldhq/herald/shared/notify"
)

// Names inside the store's directory. Key parts are letters, digits and
// -_.=, so none of these can be one.
const (
	etagFile     = "@etag" // in a key's directory: the current ETag
	contentMark  = "@"     // in a key's directory: "@" + ETag is the content
	tmpDir       = "@tmp"  // at the root: files being written
	continueMark = "+"     // a directory continuing a key part
	// maxPiece is the longest piece of a key part that becomes one file
	// name; file names end at 255 bytes on the common file systems.
	maxPiece = 200
)

// Store is a notify.Blobs on a directory. It is safe for concurrent use: an
// Open sees an object as one Put left it, whole, whatever Puts of the same
// key run meanwhile.
type Store struct {
	root string
	tmp  string

	// mu makes a commit (the renames of Put, the removals of Delete)
	// exclusive with a lookup (reading @etag and opening the content it
	// names). Reading and hashing a body happen outside it, so a slow
	// upload holds up nobody.
	mu sync.RWMutex
}

// Open returns the store in dir, creating the directory when it does not
// exist, and removes temporary files a crash may have left.
func Open(dir string) (*Store, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	s := &Store{root: root, tmp: filepath.Join(root, tmpDir)}
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	leftovers, err := os.ReadDir(s.tmp)
	if err != nil {
		return nil, fmt.Errorf("open blob store %s: %w", dir, err)
	}
	for _, e := range leftovers {
		if err := os.Remove(filepath.Join(s.tmp, e.Name())); err != nil {
			return nil, fmt.Errorf("open blob store %s: remove leftover: %w", dir, err)
		}
	}
	return s, nil
}

// Put implements notify.Blobs. A body must hold exactly size bytes when size
// is not -1; a shorter or longer one fails the Put and stores nothing.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64) (notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return notify.BlobInfo{}, err
	}
	if size < -1 {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: size %d: want -1 (unknown) or more", key, size)
	}
	tmp, info, err := s.write(ctx, body, size)
	if err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmp)
		}
	}()

	s.mu.Lock()
	defer s.mu.Unlock()
	// The body may have ended because the context did; check before the
	// commit, not after.
	if err := ctx.Err(); err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	dir := s.dir(key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, contentMark+info.ETag)); err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	committed = true // the file is in place: not the temporary file's to remove
	if err := s.commit(dir, info.ETag); err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	sweep(dir, info.ETag)
	return info, nil
}

// write copies body to a new temporary file, hashing it on the way, and
// syncs it. It returns the file's name and what it holds.
func (s *Store) write(ctx context.Context, body io.Reader, size int64) (name string, info notify.BlobInfo, err error) {
	f, err := os.CreateTemp(s.tmp, "put-*")
	if err != nil {
		return "", notify.BlobInfo{}, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := copyBody(io.MultiWriter(f, h), ctxReader{ctx, body}, size)
	if err != nil {
		return "", notify.BlobInfo{}, err
	}
	if err := f.Sync(); err != nil {
		return "", notify.BlobInfo{}, err
	}
	// Renames keep the modification time, so this is what Stat will say.
	fi, err := f.Stat()
	if err != nil {
		return "", notify.BlobInfo{}, err
	}
	if err := f.Close(); err != nil {
		return "", notify.BlobInfo{}, err
	}
	return f.Name(), notify.BlobInfo{Size: n, ETag: hex.EncodeToString(h.Sum(nil)), ModTime: fi.ModTime()}, nil
}

// copyBody copies body to w: all of it when size is -1, otherwise exactly
// size bytes, failing when body holds fewer or more.
func copyBody(w io.Writer, body io.Reader, size int64) (int64, error) {
	if size < 0 {
		return io.Copy(w, body)
	}
	n, err := io.CopyN(w, body, size)
	if errors.Is(err, io.EOF) {
		return n, fmt.Errorf("body ended after %d bytes, want %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return n, err
	}
	var extra [1]byte
	m, err := io.ReadFull(body, extra[:])
	switch {
	case m > 0:
		return n, fmt.Errorf("body is longer than its size %d", size)
	case errors.Is(err, io.EOF):
		return n, nil
	default:
		return n, err
	}
}

// ctxReader stops reading a body once the context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// commit points dir's @etag at etag, by a rename of a synced file, and syncs
// dir so the rename survives a power loss. The caller holds s.mu.
func (s *Store) commit(dir, etag string) error {
	if current, err := readETag(dir); err == nil && current == etag {
		// The same content again: its file was replaced in place.
		return syncDir(dir)
	}
	f, err := os.CreateTemp(s.tmp, "etag-*")
	if err != nil {
		return err
	}
	_, err = f.WriteString(etag + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, etagFile))
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(dir)
}

// Open implements notify.Blobs. The ReadCloser is the *os.File of the
// content: it reads the object as it was when opened, whatever Puts and
// Deletes follow.
func (s *Store) Open(_ context.Context, key string) (io.ReadCloser, notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return nil, notify.BlobInfo{}, err
	}
	s.mu.RLock()
	path, etag, err := s.lookup(key)
	var f *os.File
	if err == nil {
		f, err = os.Open(path)
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, notify.BlobInfo{}, s.lookupError("open", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, notify.BlobInfo{}, fmt.Errorf("open blob %s: %w", key, err)
	}
	return f, notify.BlobInfo{Size: fi.Size(), ETag: etag, ModTime: fi.ModTime()}, nil
}

// Stat implements notify.Blobs.
func (s *Store) Stat(_ context.Context, key string) (notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return notify.BlobInfo{}, err
	}
	s.mu.RLock()
	path, etag, err := s.lookup(key)
	var fi fs.FileInfo
	if err == nil {
		fi, err = os.Stat(path)
	}
	s.mu.RUnlock()
	if err != nil {
		return notify.BlobInfo{}, s.lookupError("stat", key, err)
	}
	return notify.BlobInfo{Size: fi.Size(), ETag: etag, ModTime: fi.ModTime()}, nil
}

// Path returns the file that holds the object at key, for callers that need
// a file rather than a stream; not_found when there is none. The file is
// the object's until the next Put or Delete of the key: read it, never
// write it.
func (s *Store) Path(key string) (string, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return "", err
	}
	s.mu.RLock()
	path, _, err := s.lookup(key)
	s.mu.RUnlock()
	if err != nil {
		return "", s.lookupError("path of", key, err)
	}
	return path, nil
}

// Delete implements notify.Blobs. It removes the key's directory when
// nothing else is left in it, and its parents likewise.
func (s *Store) Delete(_ context.Context, key string) error {
	if err := notify.ValidBlobKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.dir(key)
	err := os.Remove(filepath.Join(dir, etagFile))
	switch {
	case err == nil:
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("delete blob %s: %w", key, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	// Missing or not, sweep what a crash may have left, then the empty
	// directories up to the root. A directory that holds another key's
	// object or directory is not empty, so it stays.
	sweep(dir, "")
	for d := dir; d != s.root && strings.HasPrefix(d, s.root); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			break
		}
	}
	return nil
}

// lookup returns the content file of key and its ETag. The caller holds
// s.mu for reading at least.
func (s *Store) lookup(key string) (path, etag string, err error) {
	dir := s.dir(key)
	etag, err = readETag(dir)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(dir, contentMark+etag), etag, nil
}

func (s *Store) lookupError(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return notify.NotFound("blob", key)
	}
	return fmt.Errorf("%s blob %s: %w", op, key, err)
}

// readETag reads dir's @etag.
func readETag(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, etagFile))
	if err != nil {
		return "", err
	}
	etag := strings.TrimSuffix(string(b), "\n")
	if _, err := hex.DecodeString(etag); err != nil || len(etag) != 2*sha256.Size {
		return "", fmt.Errorf("corrupt %s in %s: %q", etagFile, dir, b)
	}
	return etag, nil
}

// dir is the directory of key, which ValidBlobKey has accepted: its parts,
// each split into pieces of at most maxPiece bytes, the pieces after the
// first marked with continueMark. No piece is "." or ".." (a first piece is
// a whole part or maxPiece bytes long; later ones start with the mark), so
// the result is always under the root, and distinct keys get distinct
// directories.
func (s *Store) dir(key string) string {
	elems := []string{s.root}
	for part := range strings.SplitSeq(key, "/") {
		for mark := ""; part != ""; mark = continueMark {
			n := min(len(part), maxPiece)
			elems = append(elems, mark+part[:n])
			part = part[n:]
		}
	}
	return filepath.Join(elems...)
}

// sweep removes the content files in dir other than the one of etag (all of
// them when etag is empty): old content, and leftovers of a crash. It is
// best effort: what it misses the next write of the key removes.
func sweep(dir, etag string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, contentMark) && name != etagFile && name != contentMark+etag && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// syncDir makes the renames in dir durable. Windows cannot sync a
// directory; NTFS journals the rename itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
