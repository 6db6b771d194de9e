package wiring

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/unsubscribe"
)

// TestSharedBuildsOnce: every caller gets the part the first build made,
// even concurrently, and a part's build may ask for another part (the
// campaigns part asks for the sends part) without waiting for itself.
func TestSharedBuildsOnce(t *testing.T) {
	g := New(config.Config{}, Ports{}, nil)
	builds := 0
	inner := func() *int { return Shared(g, "inner", func() *int { builds++; n := 1; return &n }) }
	outer := func() *int { return Shared(g, "outer", func() *int { builds++; return inner() }) }
	var wg sync.WaitGroup
	got := make([]*int, 8)
	for i := range got {
		wg.Go(func() { got[i] = outer() })
	}
	wg.Wait()
	for i, p := range got {
		if p != got[0] || p != inner() {
			t.Fatalf("caller %d got part %p, want the one part %p", i, p, got[0])
		}
	}
	if builds != 2 {
		t.Errorf("builds = %d, want 2 (inner and outer once each)", builds)
	}
}

// TestEmailFooter: an email's footer links to the user's own preference
// page, signed with the unsubscribe secret, for a year; without a secret
// or a public URL there is none.
func TestEmailFooter(t *testing.T) {
	now := time.Date(2026, 3, 1, 15, 4, 5, 0, time.UTC)
	cfg := config.Config{UnsubscribeSecret: "s3cret", PublicURL: "https://h.example"}
	footer := EmailFooter(cfg, func() time.Time { return now })
	ana := notify.User{ID: "ana", Language: "es", SealKey: []byte("ana's key")}
	text, html := footer(channel.Envelope{WorkspaceID: "ws1", UserID: "ana"}, ana)
	_, link, found := strings.Cut(text, "Gestionar tus preferencias: ")
	if !found || !strings.Contains(html, "Gestionar tus preferencias") {
		t.Fatalf("footer = %q, %q: want the Spanish link", text, html)
	}
	token, ok := strings.CutPrefix(link, "https://h.example/preferences/")
	if !ok {
		t.Fatalf("footer link %q is not under the public URL's /preferences/", link)
	}
	ws, user, gen, expires, ok := unsubscribe.ParsePreferences([]byte("s3cret"), token)
	if !ok || ws != "ws1" || user != "ana" || gen != unsubscribe.Generation(ana.SealKey) || !expires.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("footer token = %q %q %v %v, want ws1 ana until 2027-03-01", ws, user, expires, ok)
	}
	if text, html := footer(channel.Envelope{WorkspaceID: "ws1"}, ana); text != "" || html != "" {
		t.Errorf("footer of a raw address = %q, %q, want none", text, html)
	}
	for _, c := range []config.Config{{UnsubscribeSecret: "s3cret"}, {PublicURL: "https://h.example"}} {
		if EmailFooter(c, time.Now) != nil {
			t.Errorf("EmailFooter(%+v) is set, want none", c)
		}
	}
}

// TestLazy: nothing is built before the first call; concurrent callers
// share one build; a failed build is returned and tried again by the next
// call, and a successful one is kept.
func TestLazy(t *testing.T) {
	builds := 0
	fail := errors.New("throttled")
	get := Lazy(func(ctx context.Context) (string, error) {
		builds++
		if builds == 1 {
			return "", fail
		}
		return ctx.Value(lazyKey{}).(string), nil
	})
	if builds != 0 {
		t.Fatalf("built %d times before the first call", builds)
	}
	ctx := context.WithValue(t.Context(), lazyKey{}, "secret")
	if v, err := get(ctx); !errors.Is(err, fail) || v != "" {
		t.Fatalf("first call = %q, %v; want the build's error", v, err)
	}
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() {
			v, err := get(ctx)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
			got[i] = v
		})
	}
	wg.Wait()
	for i, v := range got {
		if v != "secret" {
			t.Errorf("call %d = %q, want secret", i, v)
		}
	}
	if builds != 2 {
		t.Errorf("builds = %d, want 2 (the failed one, then one shared)", builds)
	}
}

type lazyKey struct{}

// TestSecrets: without Ports.Secrets the graph's configuration is the
// secrets' and ReadLinkSecret is nil (the parts use the configuration's);
// with it, the secrets are read on the first need only, once.
func TestSecrets(t *testing.T) {
	g := New(config.Config{UnsubscribeSecret: "from-config"}, Ports{}, nil)
	if cfg, err := Secrets(g)(t.Context()); err != nil || cfg.UnsubscribeSecret != "from-config" {
		t.Errorf("Secrets without a reader = %q, %v; want the configuration's", cfg.UnsubscribeSecret, err)
	}
	if ReadLinkSecret(g) != nil {
		t.Error("ReadLinkSecret without a reader is set, want nil")
	}
	reads := 0
	g = New(config.Config{}, Ports{Secrets: func(context.Context) (config.Config, error) {
		reads++
		return config.Config{UnsubscribeSecret: "from-ssm"}, nil
	}}, nil)
	read := ReadLinkSecret(g)
	if reads != 0 {
		t.Fatalf("secrets read %d times before they were needed", reads)
	}
	for range 3 {
		if b, err := read(t.Context()); err != nil || string(b) != "from-ssm" {
			t.Errorf("ReadLinkSecret = %q, %v; want from-ssm", b, err)
		}
	}
	if cfg, _ := Secrets(g)(t.Context()); cfg.UnsubscribeSecret != "from-ssm" || reads != 1 {
		t.Errorf("Secrets = %q after %d reads; want from-ssm, read once", cfg.UnsubscribeSecret, reads)
	}
}
