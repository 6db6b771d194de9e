package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/unsubscribe"
	"github.com/heraldhq/herald/shared/usertoken"
	"github.com/heraldhq/herald/shared/wiring"
)

// TestLinkSecretReadOnFirstNeed: with Ports.Secrets (the api function's
// SSM read), the API, the SDK's routes and the console read the link
// secret when a request first needs it, not before: the API's other
// routes never read it; a failed read fails that request only and is
// tried again; the secret read is the one they sign and check with, not
// the configuration's.
func TestLinkSecretReadOnFirstNeed(t *testing.T) {
	ctx := context.Background()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: "ws1", Name: "ws1", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	key := apikey.New()
	if err := store.CreateAPIKey(ctx, notify.APIKey{ID: "k1", WorkspaceID: "ws1", Name: "admin", Scopes: []notify.Scope{notify.ScopeAdmin}, Hash: apikey.Hash(key), CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	u, err := store.PutUser(ctx, notify.User{WorkspaceID: "ws1", ID: "u1", Name: "Ana", Email: "ana@example.com", CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	reads := 0
	ports := wiring.Ports{Store: store, Secrets: func(context.Context) (config.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		if reads == 1 {
			return config.Config{}, errors.New("ssm: throttled")
		}
		return config.Config{UnsubscribeSecret: "from-ssm"}, nil
	}}
	set := &Set{Graph: wiring.New(config.Config{UnsubscribeSecret: "from-env"}, ports, nil)}
	srv := httptest.NewServer(Root(API(set), SDK(set, false), Console(set, true)))
	defer srv.Close()
	do := func(method, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(b)
	}
	readsSoFar := func() int {
		mu.Lock()
		defer mu.Unlock()
		return reads
	}

	for _, path := range []string{"/v1/health", "/v1/users/u1", "/login"} {
		if code, body := do("GET", path); code != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, code, body)
		}
	}
	if n := readsSoFar(); n != 0 {
		t.Fatalf("the secret was read %d times by requests that do not need it", n)
	}
	if code, _ := do("GET", "/v1/sdk/signing-key"); code != http.StatusInternalServerError {
		t.Errorf("signing key with the read failing = %d, want 500", code)
	}
	code, body := do("GET", "/v1/sdk/signing-key")
	if code != http.StatusOK {
		t.Fatalf("signing key after the failed read = %d %s, want 200 (read again)", code, body)
	}
	var got struct{ Key string }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(usertoken.SigningKey([]byte("from-ssm"), "ws1")); got.Key != want {
		t.Errorf("signing key = %s, want the one of the secret read (%s)", got.Key, want)
	}
	// The preference page: a link signed with the secret read opens it,
	// one signed with the configuration's is not valid (404).
	for secret, want := range map[string]int{"from-ssm": http.StatusOK, "from-env": http.StatusNotFound} {
		link := unsubscribe.PreferencesURL("", []byte(secret), "ws1", "u1", unsubscribe.Generation(u.SealKey), now.Add(time.Hour))
		if code, _ := do("GET", link); code != want {
			t.Errorf("the preference page of a link signed with %s = %d, want %d", secret, code, want)
		}
	}
	if n := readsSoFar(); n != 2 {
		t.Errorf("the secret was read %d times, want 2 (the failed read and one kept)", n)
	}
}
