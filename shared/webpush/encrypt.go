package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Encryption (RFC 8291) and VAPID (RFC 8292) are done here with the
// standard library's crypto/ecdh, crypto/hkdf and AES-GCM, and the VAPID
// JWT is signed once per push service and hour, not per push: the library
// this replaces (webpush-go) went through the deprecated big-number
// elliptic API for every push and, for every push, derived the VAPID
// public key from the private one again and signed a new JWT.

// recordSize is the record size every push declares; the plaintext is
// padded to fill the one record, as webpush-go did, so that a push's size
// does not tell its content's.
const recordSize = 4096

// headerSize is the aes128gcm header: salt, record size, key length and
// the 65-byte sender key.
const headerSize = 16 + 4 + 1 + 65

// plainSize is the padded plaintext of the one record: the record less
// its 16-byte GCM tag and the header.
const plainSize = recordSize - 16 - headerSize

// errPayloadTooLarge: the payload does not fit the record.
var errPayloadTooLarge = errors.New("payload does not fit one 4096-byte record")

// plains hold padded plaintexts while they are sealed.
var plains = sync.Pool{New: func() any { b := make([]byte, plainSize); return &b }}

// encrypt seals payload for the browser whose subscription keys are ua
// (p256dh) and auth: an aes128gcm body of one record, keyed through a new
// sender key pair and a random salt (RFC 8291 section 3).
func encrypt(payload []byte, ua *ecdh.PublicKey, auth []byte) ([]byte, error) {
	if len(payload)+1 > plainSize {
		return nil, errPayloadTooLarge
	}
	as, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sender key: %w", err)
	}
	secret, err := as.ECDH(ua)
	if err != nil {
		return nil, fmt.Errorf("shared secret: %w", err)
	}
	body := make([]byte, headerSize, recordSize)
	salt := body[:16]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("salt: %w", err)
	}
	binary.BigEndian.PutUint32(body[16:20], recordSize)
	body[20] = 65
	asPub := as.PublicKey().Bytes()
	copy(body[21:], asPub)

	var info strings.Builder
	info.Grow(14 + 2*65)
	info.WriteString("WebPush: info\x00")
	info.Write(ua.Bytes())
	info.Write(asPub)
	ikm, err := hkdf.Key(sha256.New, secret, auth, info.String(), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	pp := plains.Get().(*[]byte)
	plain := *pp
	n := copy(plain, payload)
	plain[n] = 2 // the last record's delimiter, then zero padding
	clear(plain[n+1:])
	body = gcm.Seal(body, nonce, plain, nil)
	plains.Put(pp)
	return body, nil
}

// vapid makes the Authorization header of pushes: a JWT for the push
// service's origin, signed with the VAPID key, kept for an hour (it is
// valid for 12).
type vapid struct {
	key *ecdsa.PrivateKey
	// k is the public key as the header carries it (base64url).
	k string
	// sub is the contact claim: a mailto: address or an https URL.
	sub string
	now func() time.Time

	mu      sync.Mutex
	headers map[string]vapidHeader // audience → header
}

type vapidHeader struct {
	value string
	renew time.Time
}

// Lifetimes of a VAPID JWT: its expiry (push services refuse more than
// 24 hours) and how long one is reused.
const (
	vapidExpiry = 12 * time.Hour
	vapidReuse  = time.Hour
)

// maxAudiences bounds the headers kept: a subscription names its push
// service, and an API key could register many.
const maxAudiences = 256

func newVAPID(public, private []byte, subscriber string) (*vapid, error) {
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), private)
	if err != nil {
		return nil, errors.New("vapid private key: not a P-256 private key")
	}
	sub := subscriber
	if !strings.HasPrefix(sub, "https:") {
		sub = "mailto:" + sub
	}
	return &vapid{key: key, k: b64(public), sub: sub, now: time.Now, headers: map[string]vapidHeader{}}, nil
}

// header is the Authorization header for pushes to audience (the push
// service's scheme://host).
func (v *vapid) header(audience string) (string, error) {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	if h, ok := v.headers[audience]; ok && now.Before(h.renew) {
		return h.value, nil
	}
	t, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"aud": audience,
		"exp": now.Add(vapidExpiry).Unix(),
		"sub": v.sub,
	}).SignedString(v.key)
	if err != nil {
		return "", fmt.Errorf("sign vapid jwt: %w", err)
	}
	if len(v.headers) >= maxAudiences {
		clear(v.headers)
	}
	h := vapidHeader{value: "vapid t=" + t + ", k=" + v.k, renew: now.Add(vapidReuse)}
	v.headers[audience] = h
	return h.value, nil
}
