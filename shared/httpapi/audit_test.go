package httpapi

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

// TestAuditTrail: successful changes through the API reach the audit
// trail with the key that made them, what they touched and how many a
// send reached; refused and read-only requests do not.
func TestAuditTrail(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var mu sync.Mutex
	var got []notify.AuditEntry
	audit := func(_ context.Context, e notify.AuditEntry) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e)
	}
	srv := httptest.NewServer(testServer(store, &fakeQueue{}, deps{}, Options{Audit: audit, Config: Config{LinkSecret: testLinkSecret}}))
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, store: store}
	admin := e.key("ws1", "k1", notify.ScopeAdmin)

	created := e.must(201, "POST", "/v1/keys", admin, map[string]any{"name": "backend", "scopes": []string{"send"}})
	e.must(422, "POST", "/v1/keys", admin, map[string]any{"name": "", "scopes": []string{"send"}})
	e.must(200, "GET", "/v1/keys", admin, nil)
	e.must(200, "PUT", "/v1/users/u1", admin, map[string]any{"email": "ana@example.com"})
	e.must(200, "PUT", "/v1/users/u2", admin, map[string]any{"email": "luis@example.com"})
	tpl := e.must(201, "POST", "/v1/templates", admin, map[string]any{"name": "Welcome", "channel": "email", "title": "Hi", "body": "Hello"})
	e.must(202, "POST", "/v1/notifications", admin, map[string]any{"channel": "email", "templateId": tpl.body["id"], "audience": map[string]any{"userIds": []string{"u1", "u2"}}})
	e.must(204, "DELETE", "/v1/keys/"+created.body["id"].(string), admin, nil)
	e.must(200, "GET", "/v1/sdk/signing-key", admin, nil) // a secret shown is on the record

	mu.Lock()
	defer mu.Unlock()
	want := []notify.AuditEntry{
		{WorkspaceID: "ws1", Actor: "key k1 (k1)", Action: "key.create", Target: created.body["id"].(string), Detail: "backend"},
		{WorkspaceID: "ws1", Actor: "key k1 (k1)", Action: "template.create", Target: tpl.body["id"].(string), Detail: "Welcome"},
		{WorkspaceID: "ws1", Actor: "key k1 (k1)", Action: "notification.send", Count: 2},
		{WorkspaceID: "ws1", Actor: "key k1 (k1)", Action: "key.revoke", Target: created.body["id"].(string)},
		{WorkspaceID: "ws1", Actor: "key k1 (k1)", Action: "sdk.signing-key"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit trail = %+v, want %+v", got, want)
	}
	for i := range want {
		g := got[i]
		if want[i].Target == "" {
			g.Target = "" // a send's id is new
		}
		if g != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got[2].Target == "" {
		t.Error("the send's entry names no notification")
	}
}
