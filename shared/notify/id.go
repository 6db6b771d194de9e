package notify

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is the base32 alphabet of ULIDs: no I, L, O or U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// IDs makes identifiers that sort by creation time (ULIDs): 48 bits of
// milliseconds then 80 random bits, 26 characters. Sorting by id is sorting by
// time, which the history and its search index rely on. Within one
// millisecond the random part increases, so ids from one IDs never collide or
// go backwards.
type IDs struct {
	mu       sync.Mutex
	lastMs   uint64
	lastRand [10]byte
}

// New returns a new id for time t.
func (g *IDs) New(t time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := uint64(t.UnixMilli())
	if ms <= g.lastMs {
		ms = g.lastMs
		// increment the 80-bit random part
		for i := 9; i >= 0; i-- {
			g.lastRand[i]++
			if g.lastRand[i] != 0 {
				break
			}
		}
	} else {
		g.lastMs = ms
		if _, err := rand.Read(g.lastRand[:]); err != nil {
			panic("crypto/rand: " + err.Error()) // never fails on supported platforms
		}
	}
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	copy(b[6:], g.lastRand[:])
	return encodeULID(b)
}

func encodeULID(b [16]byte) string {
	// 128 bits → 26 base32 characters, most significant first (2 pad bits).
	var out [26]byte
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// DerivedID returns the id of time t that seed always gives: a ULID whose
// random part is a hash of seed. A campaign's run names its notification
// so, by the campaign and the scheduled time, and a retried run makes the
// same notification instead of a second one.
func DerivedID(t time.Time, seed string) string {
	sum := sha256.Sum256([]byte(seed))
	ms := uint64(t.UnixMilli())
	var b [16]byte
	binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
	binary.BigEndian.PutUint32(b[2:6], uint32(ms))
	copy(b[6:], sum[:10])
	return encodeULID(b)
}
