// Package apikey makes API keys and checks them, and holds the rules of a
// workspace's keys (Keys) that the API and the operator console share. A
// key is "hk_" followed by 32 random bytes in base32; only its SHA-256 is
// stored, so a leaked table leaks no usable key. The keys are random
// enough that a fast hash is safe.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"

	"github.com/heraldhq/herald/shared/notify"
)

// Prefix starts every key, so secret scanners and people can recognise one.
const Prefix = "hk_"

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// New returns a new secret key.
func New() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return Prefix + strings.ToLower(enc.EncodeToString(b))
}

// Hash returns the stored form of a key.
func Hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Display returns the part of a key that is safe to show in lists.
func Display(key string) string {
	if len(key) < len(Prefix)+6 {
		return Prefix
	}
	return key[:len(Prefix)+6]
}

// Getter finds keys by hash; notify.Store is one.
type Getter interface {
	GetAPIKeyByHash(ctx context.Context, hash string) (notify.APIKey, error)
}

// FromHeader extracts the key from an Authorization header value.
func FromHeader(h string) (string, bool) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, key != ""
}

// Authenticate checks an Authorization header value and returns its key. Any
// failure is an unauthorized *notify.Error that does not say which part was
// wrong.
func Authenticate(ctx context.Context, keys Getter, header string) (notify.APIKey, error) {
	unauthorized := notify.Errorf(notify.CodeUnauthorized, "missing or invalid API key")
	key, ok := FromHeader(header)
	// Keys Herald makes start with Prefix, but an operator's own (local
	// mode's HERALD_API_KEY) may not: only the length is checked here.
	if !ok || len(key) > 128 {
		return notify.APIKey{}, unauthorized
	}
	k, err := keys.GetAPIKeyByHash(ctx, Hash(key))
	if notify.IsCode(err, notify.CodeNotFound) {
		return notify.APIKey{}, unauthorized
	}
	if err != nil {
		return notify.APIKey{}, err
	}
	if k.RevokedAt != nil {
		return notify.APIKey{}, unauthorized
	}
	return k, nil
}
