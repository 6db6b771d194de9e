package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/shared/config"
)

// loadLinkSecret reads the unsubscribe secret, and that secret alone, from
// the secrets path (it wins over HERALD_UNSUBSCRIBE_SECRET, as package
// secrets has it): the recipients' preference page and the API's
// preference links are signed with it. A missing parameter leaves the
// links off (503 not_configured, and every link refused).
func loadLinkSecret(ctx context.Context, cfg *config.Config, ssm interface {
	Get(ctx context.Context, names ...string) (map[string]string, error)
}) error {
	if cfg.SecretsPath == "" {
		return nil
	}
	name := strings.TrimRight(cfg.SecretsPath, "/") + "/unsubscribe-secret"
	values, err := ssm.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("read the unsubscribe secret: %w", err)
	}
	if v, ok := values[name]; ok {
		cfg.UnsubscribeSecret = v
	}
	return nil
}
