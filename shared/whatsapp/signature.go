package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignatureHeader is the header in which Meta signs every webhook POST.
const SignatureHeader = "X-Hub-Signature-256"

// VerifySignature reports whether header, the X-Hub-Signature-256 value of a
// webhook, is "sha256=" and the hex HMAC-SHA256 of the raw body keyed with
// the app secret. The comparison takes constant time, so a forger learns
// nothing from how long a refusal takes. An empty secret verifies nothing.
func VerifySignature(appSecret string, body []byte, header string) bool {
	if appSecret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}
