package callbacks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/unsubscribe"
	"github.com/heraldhq/herald/shared/wiring"
)

// TestSecretsReadOnFirstNeed: with Ports.Secrets (the callbacks
// function's SSM read), building the routes reads nothing; WhatsApp's
// webhook reads the secrets on its first request (a failed read answers
// 500 and is tried again), and checks with the secrets read; the
// unsubscribe links are checked with the secret read, and answer 404
// when the read gives none.
func TestSecretsReadOnFirstNeed(t *testing.T) {
	for _, tt := range []struct {
		name      string
		secret    string
		unsubWant int
	}{{"with an unsubscribe secret", "s3cret", http.StatusOK}, {"without", "", http.StatusNotFound}} {
		t.Run(tt.name, func(t *testing.T) {
			reads := 0
			g := wiring.New(config.Config{WhatsApp: config.WhatsAppConfig{VerifyToken: "from-env"}}, wiring.Ports{
				Secrets: func(context.Context) (config.Config, error) {
					reads++
					if reads == 1 {
						return config.Config{}, errors.New("ssm: throttled")
					}
					return config.Config{WhatsApp: config.WhatsAppConfig{VerifyToken: "vt"}, UnsubscribeSecret: tt.secret}, nil
				}}, nil)
			routes := New(g, nil)
			if reads != 0 {
				t.Fatalf("building the routes read the secrets %d times", reads)
			}
			get := func(path string) *httptest.ResponseRecorder {
				w := httptest.NewRecorder()
				routes.HTTP.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
				return w
			}
			handshake := "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444"
			if w := get(handshake); w.Code != http.StatusInternalServerError {
				t.Errorf("WhatsApp's handshake with the read failing = %d, want 500", w.Code)
			}
			if w := get(handshake); w.Code != http.StatusOK || w.Body.String() != "1158201444" {
				t.Errorf("WhatsApp's handshake with the verify token read = %d %q, want 200 echoing the challenge", w.Code, w.Body.String())
			}
			if w := get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=from-env&hub.challenge=1"); w.Code == http.StatusOK {
				t.Error("WhatsApp's handshake took the configuration's verify token, want the one read")
			}
			if w := get("/unsubscribe/" + unsubscribe.Token([]byte("s3cret"), "ws1", "u1")); w.Code != tt.unsubWant {
				t.Errorf("an unsubscribe link = %d, want %d", w.Code, tt.unsubWant)
			}
			if reads != 2 {
				t.Errorf("secrets read %d times, want 2 (the failed read, then one kept)", reads)
			}
		})
	}
}
