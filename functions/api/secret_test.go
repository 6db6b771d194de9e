package main

import (
	"context"
	"errors"
	"testing"

	"github.com/heraldhq/herald/shared/config"
)

// parameters is SSM with some parameters, remembering what it was asked.
type parameters struct {
	stored map[string]string
	asked  []string
	err    error
}

func (p *parameters) Get(_ context.Context, names ...string) (map[string]string, error) {
	p.asked = append(p.asked, names...)
	out := map[string]string{}
	for _, n := range names {
		if v, ok := p.stored[n]; ok {
			out[n] = v
		}
	}
	return out, p.err
}

// TestLoadLinkSecret: the api function asks for the unsubscribe secret
// under the secrets path and nothing else; SSM's wins over the
// environment's, a missing one leaves the environment's.
func TestLoadLinkSecret(t *testing.T) {
	ps := &parameters{stored: map[string]string{"/herald/prod/unsubscribe-secret": "from-ssm", "/herald/prod/whatsapp-access-token": "EAA"}}
	cfg := config.Config{SecretsPath: "/herald/prod/", UnsubscribeSecret: "from-env"}
	if err := loadLinkSecret(t.Context(), &cfg, ps); err != nil {
		t.Fatal(err)
	}
	if cfg.UnsubscribeSecret != "from-ssm" || cfg.WhatsApp.AccessToken != "" {
		t.Errorf("config = %+v, want the unsubscribe secret from SSM alone", cfg)
	}
	if len(ps.asked) != 1 || ps.asked[0] != "/herald/prod/unsubscribe-secret" {
		t.Errorf("asked for %v, want /herald/prod/unsubscribe-secret alone", ps.asked)
	}
	missing := config.Config{SecretsPath: "/herald/dev", UnsubscribeSecret: "from-env"}
	if err := loadLinkSecret(t.Context(), &missing, ps); err != nil || missing.UnsubscribeSecret != "from-env" {
		t.Errorf("a missing parameter: %v, secret %q, want the environment's kept", err, missing.UnsubscribeSecret)
	}
	if err := loadLinkSecret(t.Context(), &config.Config{SecretsPath: "/x/"}, &parameters{err: errors.New("denied")}); err == nil {
		t.Error("SSM's refusal was not reported")
	}
	none := &parameters{}
	if err := loadLinkSecret(t.Context(), &config.Config{}, none); err != nil || len(none.asked) != 0 {
		t.Errorf("without a secrets path: %v, asked %v, want nothing asked", err, none.asked)
	}
}
