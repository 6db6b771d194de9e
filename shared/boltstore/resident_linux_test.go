package boltstore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// rssFile is this process's file-backed resident memory, in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// TestReleaseGivesBackTheFilesPages: after release, the pages a read
// touched are no longer resident in the process, and reads still see
// every record.
func TestReleaseGivesBackTheFilesPages(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "h.db"), WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 20000
	value := bytes.Repeat([]byte("x"), 1000)
	for start := 0; start < n; start += 1000 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i := start; i < start+1000; i++ {
				if err := bucket(tx, bucketOutbox).Put(key("ws", fmt.Sprintf("e%06d", i)), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	readAll := func() int {
		count := 0
		_ = s.db.View(func(tx *bolt.Tx) error {
			for range entries(bucket(tx, bucketOutbox), prefix("ws"), "", false) {
				count++
			}
			return nil
		})
		return count
	}
	if got := readAll(); got != n {
		t.Fatalf("read %d records, want %d", got, n)
	}
	touched := rssFile(t)
	if err := release(s.db); err != nil {
		t.Fatalf("release: %v", err)
	}
	after := rssFile(t)
	// 20,000 records of 1 KB: some 20 MB of the file were resident.
	if touched-after < 10<<20 {
		t.Errorf("file-backed resident memory %d → %d bytes after release, want at least 10 MB less", touched, after)
	}
	if got := readAll(); got != n {
		t.Errorf("after release, read %d records, want %d", got, n)
	}
}
