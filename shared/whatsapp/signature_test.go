package whatsapp

import "testing"

// vectorHex is HMAC-SHA256(key "herald-app-secret", the body in
// TestVerifySignature), computed with openssl.
const vectorHex = "9458c75d29dca02a644f90cdbf0e7c3373151ef00e47132834f4a455f6744136"

func TestVerifySignature(t *testing.T) {
	// The vector was computed independently of the package with
	//   printf '%s' "$body" | openssl dgst -sha256 -hmac 'herald-app-secret'
	const (
		secret = "herald-app-secret"
		body   = `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","statuses":[{"id":"wamid.X","status":"delivered"}]},"field":"messages"}]}]}`
		sig    = "sha256=" + vectorHex
	)
	tests := []struct {
		name   string
		secret string
		body   string
		header string
		want   bool
	}{
		{"valid", secret, body, sig, true},
		{"upper-case hex", secret, body, "sha256=" + upper(vectorHex), true},
		{"body changed", secret, body + " ", sig, false},
		{"other secret", "another-secret", body, sig, false},
		{"empty secret", "", body, sig, false},
		{"missing header", secret, body, "", false},
		{"no prefix", secret, body, vectorHex, false},
		{"sha1 prefix", secret, body, "sha1=" + vectorHex, false},
		{"not hex", secret, body, "sha256=zz" + vectorHex[2:], false},
		{"truncated", secret, body, sig[:len(sig)-2], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifySignature(tt.secret, []byte(tt.body), tt.header); got != tt.want {
				t.Errorf("VerifySignature(%q, body, %q) = %v, want %v", tt.secret, tt.header, got, tt.want)
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
