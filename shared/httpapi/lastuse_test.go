package httpapi

import (
	"testing"

	"github.com/heraldhq/herald/shared/notify"
)

// TestKeysListLastUse: GET /v1/keys says when each key was last used: a
// key nobody used has no lastUsedAt, and one request with it gives it one.
func TestKeysListLastUse(t *testing.T) {
	e := newEnv(t)
	reader := e.key("ws1", "k_read", notify.ScopeRead)
	lastUse := func() map[string]any {
		t.Helper()
		out := map[string]any{}
		for _, it := range e.must(200, "GET", "/v1/keys", e.admin, nil).body["items"].([]any) {
			k := it.(map[string]any)
			out[k["id"].(string)] = k["lastUsedAt"]
		}
		return out
	}
	got := lastUse()
	if got["k_read"] != nil || got["k1"] == nil {
		t.Fatalf("lastUsedAt before k_read's first request = %v; want none for k_read, one for k1 (it just listed)", got)
	}
	e.must(200, "GET", "/v1/users", reader, nil)
	if got := lastUse(); got["k_read"] == nil {
		t.Errorf("lastUsedAt of k_read after a request = %v, want a time", got["k_read"])
	}
}
