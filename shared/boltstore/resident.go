package boltstore

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// releaseEvery is how often the store gives back the pages of its file
// that it touched (see release).
const releaseEvery = time.Second

// release drops the store file's pages from the process's resident set.
//
// bbolt reads its file through one shared memory map, and every page a
// read touches stays resident in the process as long as it is mapped: a
// send to a million users reads every user and rewrites deliveries and
// outbox pages, and the process's resident memory grew with the file
// (1.3 GB after a 1,000,000-recipient send, of which 1.2 GB were the
// file's pages). The pages are clean — bbolt writes with pwrite, never
// through the map — so dropping them loses nothing: they stay in the
// kernel's page cache, and the next read of one maps it again (a minor
// fault). It runs inside a read transaction, which holds bbolt's mmap lock:
// the map cannot move while it is dropped.
func release(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		return dropResident(db.Info().Data, tx.Size())
	})
}

// releaseLoop calls release every releaseEvery until stop is closed.
func releaseLoop(db *bolt.DB, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(releaseEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			_ = release(db) // best effort: a failure leaves the pages resident
		}
	}
}
