package apikey

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

func newKeys(t *testing.T) (*Keys, *boltstore.Store) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return &Keys{Store: store, IDs: &notify.IDs{}, Now: func() time.Time { return t0 }}, store
}

// fields are the fields a validation error names, in order.
func fields(err error) []string {
	var e *notify.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, d := range e.Details {
		out = append(out, d.Field)
	}
	return out
}

func TestCreate(t *testing.T) {
	send, read, admin := notify.ScopeSend, notify.ScopeRead, notify.ScopeAdmin
	tests := []struct {
		name       string
		keyName    string
		scopes     []notify.Scope
		wantScopes []notify.Scope
		wantFields []string
	}{
		{"one scope", "server", []notify.Scope{send}, []notify.Scope{send}, nil},
		{"repeated scopes count once, first order kept", "ops", []notify.Scope{read, admin, read, send, admin}, []notify.Scope{read, admin, send}, nil},
		{"name of 128 characters", strings.Repeat("n", 128), []notify.Scope{read}, []notify.Scope{read}, nil},
		{"name empty", "", []notify.Scope{send}, nil, []string{"name"}},
		{"name blank", "  ", []notify.Scope{send}, nil, []string{"name"}},
		{"name too long", strings.Repeat("n", 129), []notify.Scope{send}, nil, []string{"name"}},
		{"name with a control character", "ops\u009b", []notify.Scope{send}, nil, []string{"name"}},
		{"no scopes", "server", nil, nil, []string{"scopes"}},
		{"unknown scopes", "server", []notify.Scope{send, "write", "root"}, nil, []string{"scopes[1]", "scopes[2]"}},
		{"everything wrong", "", []notify.Scope{"write"}, nil, []string{"name", "scopes[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, store := newKeys(t)
			ctx := context.Background()
			k, secret, err := keys.Create(ctx, "ws1", tt.keyName, tt.scopes)
			if diff := cmp.Diff(tt.wantFields, fields(err)); diff != "" {
				t.Fatalf("Create error fields (-want +got):\n%s\n%v", diff, err)
			}
			if tt.wantFields != nil {
				if notify.ErrorCode(err) != notify.CodeValidation {
					t.Errorf("Create error code = %s, want %s", notify.ErrorCode(err), notify.CodeValidation)
				}
				if list, _ := keys.List(ctx, "ws1"); len(list) != 0 {
					t.Errorf("keys after a refused Create = %+v, want none", list)
				}
				return
			}
			if !strings.HasPrefix(secret, Prefix) || !strings.HasPrefix(k.ID, "key_") {
				t.Errorf("Create = id %q, secret %q; want a key_ id and a %s secret", k.ID, secret, Prefix)
			}
			want := notify.APIKey{ID: k.ID, WorkspaceID: "ws1", Name: tt.keyName, Scopes: tt.wantScopes,
				Hash: Hash(secret), Prefix: Display(secret), CreatedAt: t0.Truncate(time.Millisecond)}
			if diff := cmp.Diff(want, k); diff != "" {
				t.Errorf("Create (-want +got):\n%s", diff)
			}
			stored, err := Authenticate(ctx, store, "Bearer "+secret)
			if err != nil {
				t.Fatalf("the new key does not authenticate: %v", err)
			}
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored key (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateMakesDistinctKeys(t *testing.T) {
	keys, _ := newKeys(t)
	ctx := context.Background()
	a, sa, err := keys.Create(ctx, "ws1", "a", []notify.Scope{notify.ScopeSend})
	if err != nil {
		t.Fatal(err)
	}
	b, sb, err := keys.Create(ctx, "ws1", "b", []notify.Scope{notify.ScopeSend})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID || sa == sb {
		t.Errorf("two keys made at one instant share id (%s, %s) or secret", a.ID, b.ID)
	}
	list, err := keys.List(ctx, "ws1")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Errorf("List = %+v, want %s then %s", list, a.ID, b.ID)
	}
}

// TestRevoke: a workspace keeps at least one working admin key; other
// keys, and admin keys with another admin left, revoke.
func TestRevoke(t *testing.T) {
	ctx := context.Background()
	admin := []notify.Scope{notify.ScopeAdmin}
	type step struct {
		revoke   string // a key name
		wantCode string // "" for success
	}
	tests := []struct {
		name  string
		keys  map[string][]notify.Scope // created in name order
		steps []step
	}{
		{"last admin", map[string][]notify.Scope{"a1": admin, "s1": {notify.ScopeSend, notify.ScopeRead}},
			[]step{{"a1", notify.CodeConflict}, {"s1", ""}, {"a1", notify.CodeConflict}}},
		{"two admins, one may go", map[string][]notify.Scope{"a1": admin, "a2": {notify.ScopeSend, notify.ScopeAdmin}},
			[]step{{"a1", ""}, {"a2", notify.CodeConflict}}},
		{"a revoked admin does not count", map[string][]notify.Scope{"a1": admin, "a2": admin, "a3": admin},
			[]step{{"a2", ""}, {"a1", ""}, {"a3", notify.CodeConflict}}},
		{"revoking twice", map[string][]notify.Scope{"a1": admin, "s1": {notify.ScopeSend}},
			[]step{{"s1", ""}, {"s1", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, _ := newKeys(t)
			ids := map[string]string{}
			for _, name := range []string{"a1", "a2", "a3", "s1"} {
				if scopes, ok := tt.keys[name]; ok {
					k, _, err := keys.Create(ctx, "ws1", name, scopes)
					if err != nil {
						t.Fatal(err)
					}
					ids[name] = k.ID
				}
			}
			for i, st := range tt.steps {
				err := keys.Revoke(ctx, "ws1", ids[st.revoke])
				if got := codeOf(err); got != st.wantCode {
					t.Fatalf("step %d: Revoke(%s) = %v, want code %q", i, st.revoke, err, st.wantCode)
				}
			}
			list, err := keys.List(ctx, "ws1")
			if err != nil {
				t.Fatal(err)
			}
			working := 0
			for _, k := range list {
				if k.RevokedAt == nil && k.Allows(notify.ScopeAdmin) {
					working++
				}
			}
			if working == 0 {
				t.Errorf("no working admin key left: %+v", list)
			}
		})
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return notify.ErrorCode(err)
}

func TestRevokeAt(t *testing.T) {
	keys, store := newKeys(t)
	ctx := context.Background()
	if _, _, err := keys.Create(ctx, "ws1", "admin", []notify.Scope{notify.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	k, secret, err := keys.Create(ctx, "ws1", "send", []notify.Scope{notify.ScopeSend})
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	keys.Now = func() time.Time { return later }
	if err := keys.Revoke(ctx, "ws1", k.ID); err != nil {
		t.Fatal(err)
	}
	list, _ := keys.List(ctx, "ws1")
	if len(list) != 2 || list[1].RevokedAt == nil || !list[1].RevokedAt.Equal(later) {
		t.Fatalf("List after Revoke = %+v, want %s revoked at %v", list, k.ID, later)
	}
	if _, err := Authenticate(ctx, store, "Bearer "+secret); !notify.IsCode(err, notify.CodeUnauthorized) {
		t.Errorf("Authenticate(revoked key) = %v, want unauthorized", err)
	}
}

// TestOtherWorkspace: a key id names a key of the caller's workspace
// only; another workspace's key is not found, not listed and not revoked,
// even when it is that workspace's last admin key.
func TestOtherWorkspace(t *testing.T) {
	keys, store := newKeys(t)
	ctx := context.Background()
	if _, _, err := keys.Create(ctx, "ws1", "admin", []notify.Scope{notify.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	theirs, secret, err := keys.Create(ctx, "ws2", "admin", []notify.Scope{notify.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Revoke(ctx, "ws1", theirs.ID); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("Revoke(ws2's key) from ws1 = %v, want not_found", err)
	}
	list, err := keys.List(ctx, "ws1")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if k.ID == theirs.ID {
			t.Errorf("List(ws1) shows ws2's key %s", k.ID)
		}
	}
	if _, err := Authenticate(ctx, store, "Bearer "+secret); err != nil {
		t.Errorf("ws2's key after ws1 tried to revoke it: %v, want it working", err)
	}
}

// failingStore fails to list keys, as a store that lost its connection.
type failingStore struct{ Store }

func (failingStore) ListAPIKeys(context.Context, string) ([]notify.APIKey, error) {
	return nil, errors.New("connection reset")
}

func (failingStore) RevokeAPIKey(context.Context, string, string, time.Time) error {
	return errors.New("revoked without checking for an admin")
}

func TestRevokeStopsWhenTheCheckFails(t *testing.T) {
	keys := &Keys{Store: failingStore{}, IDs: &notify.IDs{}}
	err := keys.Revoke(context.Background(), "ws1", "key_1")
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("Revoke with a failing list = %v, want the list's error", err)
	}
}

// touchCounter counts the last-use writes that reach the store.
type touchCounter struct {
	Store
	touches int
}

func (c *touchCounter) TouchAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error {
	c.touches++
	return c.Store.TouchAPIKey(ctx, workspaceID, id, at)
}

// TestUsedAtMostHourly: authenticating with a key records its last use,
// then writes nothing more until an hour after the recorded use, whatever
// the number of requests in between.
func TestUsedAtMostHourly(t *testing.T) {
	keys, store := newKeys(t)
	ctx := context.Background()
	_, secret, err := keys.Create(ctx, "ws1", "backend", []notify.Scope{notify.ScopeSend})
	if err != nil {
		t.Fatal(err)
	}
	counter := &touchCounter{Store: store}
	now := t0
	keys.Store, keys.Now = counter, func() time.Time { return now }
	// use authenticates a request at now as the API does: the key as the
	// store has it, then its use recorded.
	use := func() {
		t.Helper()
		k, err := Authenticate(ctx, store, "Bearer "+secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := keys.Used(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	lastUsed := func() *time.Time {
		t.Helper()
		list, err := keys.List(ctx, "ws1")
		if err != nil {
			t.Fatal(err)
		}
		return list[0].LastUsedAt
	}
	if got := lastUsed(); got != nil {
		t.Fatalf("LastUsedAt of a new key = %v, want nil", got)
	}
	steps := []struct {
		after       time.Duration // since t0
		wantTouches int
		wantLast    time.Duration // since t0
	}{
		{0, 1, 0},
		{time.Second, 1, 0},
		{59*time.Minute + 59*time.Second, 1, 0},
		{time.Hour, 2, time.Hour},
		{time.Hour + 30*time.Minute, 2, time.Hour},
		{5 * time.Hour, 3, 5 * time.Hour},
	}
	for _, st := range steps {
		now = t0.Add(st.after)
		for range 3 {
			use()
		}
		want := t0.UTC().Truncate(time.Millisecond).Add(st.wantLast)
		if got := lastUsed(); got == nil || !got.Equal(want) || counter.touches != st.wantTouches {
			t.Errorf("after requests at t0+%v: LastUsedAt = %v with %d writes, want %v with %d", st.after, got, counter.touches, want, st.wantTouches)
		}
	}
}
