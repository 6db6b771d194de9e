package embedded

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/boltscheduler"
	"github.com/heraldhq/herald/shared/config"
)

func noFire(context.Context, boltscheduler.Firing) error { return nil }

// TestOpenTwice: a data directory another Herald holds is an error that
// says so (not a panic), and closing the first lets it open again with
// the same signing secret.
func TestOpenTwice(t *testing.T) {
	cfg := config.Config{DataDir: t.TempDir()}
	log := slog.New(slog.DiscardHandler)
	first, err := Open(cfg, log, noFire)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if len(first.Secret) < 32 {
		t.Errorf("Secret = %q, want one of at least 32 characters", first.Secret)
	}
	if _, err := Open(cfg, log, noFire); err == nil || !strings.Contains(err.Error(), "another Herald") {
		t.Errorf("second Open = %v, want an error naming another Herald", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again, err := Open(cfg, log, noFire)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer again.Close()
	if again.Secret != first.Secret {
		t.Errorf("Secret after a restart = %q, want the kept %q", again.Secret, first.Secret)
	}
	cfg.UnsubscribeSecret = "from-the-environment-0123456789abcdef"
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	set, err := Open(cfg, log, noFire)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if set.Secret != cfg.UnsubscribeSecret {
		t.Errorf("Secret = %q, want HERALD_UNSUBSCRIBE_SECRET's", set.Secret)
	}
}
