package usertoken

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// The worked example of API.md, computed with Python's hmac and base64
// (another implementation): a backend that follows the document gets
// tokens Herald accepts.
const (
	exampleSecret = "change-me-local-secret"
	exampleKeyHex = "4f6d2697fcf994b27d14ff60d96a4bcf946e7ec4be252bd4fc643ce900b677c9"
	exampleToken  = "hu1.eyJ3Ijoid3NfbG9jYWwiLCJ1IjoiYy0xMDAxIiwiZXhwIjoxNzY3MjI1NjAwfQ.uqng__IN0VwNYfPeLKZFg-Q82Joy1Gqeb3Zosedl7XM"
)

var exampleExp = time.Unix(1767225600, 0).UTC() // 2026-01-01T00:00:00Z

func keys(secret string) func(string) []byte {
	return func(ws string) []byte { return SigningKey([]byte(secret), ws) }
}

func TestWorkedExample(t *testing.T) {
	key := SigningKey([]byte(exampleSecret), "ws_local")
	if got := hex.EncodeToString(key); got != exampleKeyHex {
		t.Errorf("SigningKey = %s, want %s", got, exampleKeyHex)
	}
	if got := Mint(key, Claims{WorkspaceID: "ws_local", UserID: "c-1001", Expires: exampleExp}); got != exampleToken {
		t.Errorf("Mint = %s, want %s", got, exampleToken)
	}
	c, err := Verify(exampleToken, keys(exampleSecret), exampleExp.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Claims{WorkspaceID: "ws_local", UserID: "c-1001", Expires: exampleExp}, c); d != "" {
		t.Errorf("Verify (-want +got):\n%s", d)
	}
}

func TestVerifyRefuses(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	secret := "s3cret"
	good := Claims{WorkspaceID: "ws_a", UserID: "u1", Expires: now.Add(time.Hour)}
	keyA := SigningKey([]byte(secret), "ws_a")
	token := Mint(keyA, good)
	body64, sig64, _ := strings.Cut(strings.TrimPrefix(token, Prefix), ".")
	// resign puts another payload under token's signature.
	resign := func(payloadJSON string) string {
		return Prefix + b64.EncodeToString([]byte(payloadJSON)) + "." + sig64
	}
	tests := []struct {
		name  string
		token string
		now   time.Time
	}{
		{"expired", token, good.Expires},
		{"long expired", token, good.Expires.Add(48 * time.Hour)},
		{"another user's id in the payload", resign(`{"w":"ws_a","u":"u2","exp":` + itoa(good.Expires.Unix()) + `}`), now},
		{"a later expiry in the payload", resign(`{"w":"ws_a","u":"u1","exp":` + itoa(good.Expires.Unix()+3600) + `}`), now},
		{"another workspace in the payload", resign(`{"w":"ws_b","u":"u1","exp":` + itoa(good.Expires.Unix()) + `}`), now},
		{"signed with another workspace's key", Mint(SigningKey([]byte(secret), "ws_b"), good), now},
		{"signed with another secret", Mint(SigningKey([]byte("other"), "ws_a"), good), now},
		{"a flipped signature bit", Prefix + body64 + "." + flip(sig64), now},
		{"no signature", Prefix + body64, now},
		{"an empty signature", Prefix + body64 + ".", now},
		{"three parts", token + ".x", now},
		{"padding", token + "=", now},
		{"another prefix", "hu2." + body64 + "." + sig64, now},
		{"an API key", "hk_live_abcdef", now},
		{"empty", "", now},
		{"too long", token + strings.Repeat("A", maxToken), now},
		{"longer than a day", Mint(keyA, Claims{WorkspaceID: "ws_a", UserID: "u1", Expires: now.Add(MaxTTL + time.Hour)}), now},
		{"an unknown payload field", signedPayload(keyA, `{"w":"ws_a","u":"u1","exp":`+itoa(good.Expires.Unix())+`,"admin":true}`), now},
		{"no user", signedPayload(keyA, `{"w":"ws_a","exp":`+itoa(good.Expires.Unix())+`}`), now},
		{"no expiry", signedPayload(keyA, `{"w":"ws_a","u":"u1"}`), now},
		{"not JSON", signedPayload(keyA, `w=ws_a`), now},
	}
	for _, tt := range tests {
		_, err := Verify(tt.token, keys(secret), tt.now)
		if !notify.IsCode(err, notify.CodeUnauthorized) {
			t.Errorf("%s: Verify = %v, want unauthorized", tt.name, err)
		}
	}
	// The same token is good before it expires, up to MaxTTL ahead.
	if _, err := Verify(token, keys(secret), now); err != nil {
		t.Errorf("Verify of the good token = %v", err)
	}
	day := Mint(keyA, Claims{WorkspaceID: "ws_a", UserID: "u1", Expires: now.Add(MaxTTL)})
	if _, err := Verify(day, keys(secret), now); err != nil {
		t.Errorf("Verify of a day's token = %v", err)
	}
}

func signedPayload(key []byte, payloadJSON string) string {
	signed := Prefix + b64.EncodeToString([]byte(payloadJSON))
	return signed + "." + b64.EncodeToString(mac(key, signed))
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
