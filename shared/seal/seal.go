// Package seal encrypts the personal addresses kept on deliveries with a key
// that belongs to the user (AES-256-GCM). Deleting the user deletes the key,
// which erases the addresses on every delivery at once, with no index of a
// user's deliveries to maintain ("crypto-shredding").
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a user's key.
const KeySize = 32

const prefix = "s1:"

// NewKey returns a fresh random key.
func NewKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return k
}

// Seal encrypts plaintext with key. An empty plaintext stays empty.
func Seal(key []byte, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// IsSealed reports whether s was made by Seal.
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }

// Open decrypts what Seal made. A string Seal did not make is returned as is.
func Open(key []byte, s string) (string, error) {
	if !IsSealed(s) {
		return s, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s[len(prefix):])
	if err != nil {
		return "", fmt.Errorf("seal: decode: %w", err)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(raw) < aead.NonceSize() {
		return "", errors.New("seal: ciphertext too short")
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("seal: open: %w", err)
	}
	return string(pt), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key of %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return cipher.NewGCM(block)
}
