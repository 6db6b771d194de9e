// Package usertoken mints and checks the short-lived user tokens of the
// browser SDK. A customer's backend gets one for one of its users (from
// the API, or by computing it with the workspace's signing key) and hands
// it to its web page, which calls the SDK's routes with it as that user:
// never with an API key, which would let a page act as every user.
//
// A token is "hu1." + base64url(payload) + "." + base64url(HMAC-SHA256(key,
// "hu1." + base64url(payload))), base64url without padding, where the
// payload is the JSON {"w": workspace id, "u": user id, "exp": unix
// seconds} and key is the workspace's signing key (SigningKey). The key is
// derived from Herald's one secret, so nothing is stored per workspace,
// and a key given to one workspace signs no token of another.
package usertoken

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// Prefix starts every token of this format; a later format gets another.
const Prefix = "hu1."

// Lifetimes a token may have: from a minute to a day. A token checked
// later than MaxTTL (and a little clock skew) before its expiry is
// refused, so a backend computing its own cannot make one for longer.
const (
	MinTTL  = time.Minute
	MaxTTL  = 24 * time.Hour
	maxSkew = 5 * time.Minute
)

// maxToken bounds what Parse reads: a 128-character user id and a workspace
// id make a token of about 300 characters.
const maxToken = 1024

// keyLabel separates the SDK's keys from everything else Herald signs with
// the same secret (unsubscribe links, quick-reply payloads).
const keyLabel = "herald sdk token key v1\x00"

// SigningKey is the workspace's key for user tokens:
// HMAC-SHA256(secret, "herald sdk token key v1\x00" + workspace id). An
// admin key may read it (GET /v1/sdk/signing-key) to mint tokens without
// calling Herald.
func SigningKey(secret []byte, workspaceID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(keyLabel + workspaceID))
	return m.Sum(nil)
}

// Claims are what a token says: who it lets act, in which workspace,
// until when.
type Claims struct {
	WorkspaceID string
	UserID      string
	Expires     time.Time
}

// payload is the token's JSON, with the short names the format fixes.
type payload struct {
	W   string `json:"w"`
	U   string `json:"u"`
	Exp int64  `json:"exp"`
}

var b64 = base64.RawURLEncoding

// Mint returns the token for c signed with key (the workspace's
// SigningKey). Expires is kept to the second.
func Mint(key []byte, c Claims) string {
	body, _ := json.Marshal(payload{W: c.WorkspaceID, U: c.UserID, Exp: c.Expires.Unix()}) // strings and an int always encode
	signed := Prefix + b64.EncodeToString(body)
	return signed + "." + b64.EncodeToString(mac(key, signed))
}

func mac(key []byte, signed string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signed))
	return m.Sum(nil)
}

// Verify checks token against the signing key of the workspace it names
// (keyOf gives it) and the time now, and returns its claims. Every
// failure is unauthorized: a malformed token, a signature that does not
// match (altered, or signed with another workspace's key), an expired
// one or one that would live longer than MaxTTL.
func Verify(token string, keyOf func(workspaceID string) []byte, now time.Time) (Claims, error) {
	bad := func(why string) (Claims, error) {
		return Claims{}, notify.Errorf(notify.CodeUnauthorized, "user token %s", why)
	}
	if len(token) > maxToken || !strings.HasPrefix(token, Prefix) {
		return bad("is not a Herald user token (hu1.…)")
	}
	rest := strings.TrimPrefix(token, Prefix)
	body64, sig64, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig64, ".") {
		return bad("is malformed")
	}
	body, err1 := b64.DecodeString(body64)
	sig, err2 := b64.DecodeString(sig64)
	if err1 != nil || err2 != nil {
		return bad("is malformed: not base64url without padding")
	}
	var p payload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() || p.W == "" || p.U == "" || p.Exp == 0 {
		return bad(`is malformed: its payload must be {"w": workspace, "u": user id, "exp": unix seconds}`)
	}
	if !hmac.Equal(sig, mac(keyOf(p.W), Prefix+body64)) {
		return bad("has a signature that does not match")
	}
	exp := time.Unix(p.Exp, 0).UTC()
	if !now.Before(exp) {
		return bad("expired at " + exp.Format(time.RFC3339) + ": get a new one from your backend")
	}
	if exp.Sub(now) > MaxTTL+maxSkew {
		return bad("lives longer than 24 hours: mint it with an earlier exp")
	}
	return Claims{WorkspaceID: p.W, UserID: p.U, Expires: exp}, nil
}
