package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// GenerateVAPIDKeys returns a new VAPID key pair as unpadded base64url: the
// public key is the 65-byte uncompressed P-256 point a page passes to
// pushManager.subscribe as applicationServerKey, the private key the 32-byte
// scalar. Generate once and keep them: every subscription is bound to the
// public key, so changing it orphans all existing subscriptions.
func GenerateVAPIDKeys() (public, private string, err error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate vapid key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		base64.RawURLEncoding.EncodeToString(k.Bytes()), nil
}

// vapidKeys checks that public and private are a P-256 pair and returns
// them decoded: the uncompressed point and the scalar. Errors never quote
// a key.
func vapidKeys(public, private string) (pub, priv []byte, err error) {
	p, err := decodeP256Point(public)
	if err != nil {
		return nil, nil, fmt.Errorf("vapid public key: %w", err)
	}
	d, err := decodeKey(private)
	if err != nil {
		return nil, nil, fmt.Errorf("vapid private key: %w", err)
	}
	k, err := ecdh.P256().NewPrivateKey(d)
	if err != nil {
		return nil, nil, errors.New("vapid private key: not a P-256 private key")
	}
	if !bytes.Equal(k.PublicKey().Bytes(), p) {
		return nil, nil, errors.New("vapid keys: the public key does not belong to the private key")
	}
	return p, d, nil
}

// b64 is unpadded base64url, as the VAPID header's k= carries a key.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decodeP256Point decodes an uncompressed P-256 public key (a VAPID public
// key or a subscription's p256dh) and checks it is on the curve.
func decodeP256Point(s string) ([]byte, error) {
	b, err := decodeKey(s)
	if err != nil {
		return nil, err
	}
	if _, err := ecdh.P256().NewPublicKey(b); err != nil || len(b) != 65 {
		return nil, errors.New("not an uncompressed P-256 point")
	}
	return b, nil
}

// decodeKey decodes base64 in either alphabet, padded or not: browsers give
// base64url, but keys pasted from other tools are often standard base64.
func decodeKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty")
	}
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	return b, nil
}
