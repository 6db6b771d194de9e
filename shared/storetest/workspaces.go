package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

func testWorkspaces(t *testing.T, s notify.Store) {
	ctx := t.Context()
	w := notify.Workspace{ID: "ws-1", Name: "Acme Energy", CreatedAt: now()}
	must(t, "CreateWorkspace", s.CreateWorkspace(ctx, w))

	got, err := s.GetWorkspace(ctx, w.ID)
	must(t, "GetWorkspace", err)
	if d := diff(w, got); d != "" {
		t.Errorf("GetWorkspace(%q) mismatch (-want +got):\n%s", w.ID, d)
	}

	again := w
	again.Name = "Other"
	wantCode(t, "CreateWorkspace of an existing id", s.CreateWorkspace(ctx, again), notify.CodeConflict)
	got, err = s.GetWorkspace(ctx, w.ID)
	must(t, "GetWorkspace", err)
	if got.Name != w.Name {
		t.Errorf("GetWorkspace(%q).Name after a conflict = %q, want %q", w.ID, got.Name, w.Name)
	}

	_, err = s.GetWorkspace(ctx, "ws-missing")
	wantCode(t, "GetWorkspace of a missing id", err, notify.CodeNotFound)
}

func testAPIKeys(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	older := notify.APIKey{
		ID: ids.New(t0), WorkspaceID: wsA, Name: "admin", Scopes: []notify.Scope{notify.ScopeAdmin},
		Hash: "hash-older", Prefix: "hk_old", CreatedAt: t0,
	}
	newer := notify.APIKey{
		ID: ids.New(t0.Add(time.Second)), WorkspaceID: wsA, Name: "backend", Scopes: []notify.Scope{notify.ScopeSend, notify.ScopeRead},
		Hash: "hash-newer", Prefix: "hk_new", CreatedAt: t0.Add(time.Second),
	}
	// Created newest first: the list must still be oldest first.
	must(t, "CreateAPIKey newer", s.CreateAPIKey(ctx, newer))
	must(t, "CreateAPIKey older", s.CreateAPIKey(ctx, older))

	dup := older
	dup.Hash, dup.Name = "hash-dup", "dup"
	wantCode(t, "CreateAPIKey of an existing id", s.CreateAPIKey(ctx, dup), notify.CodeConflict)
	_, err := s.GetAPIKeyByHash(ctx, dup.Hash)
	wantCode(t, "GetAPIKeyByHash of a key whose create conflicted", err, notify.CodeNotFound)

	for _, want := range []notify.APIKey{older, newer} {
		got, err := s.GetAPIKeyByHash(ctx, want.Hash)
		must(t, "GetAPIKeyByHash", err)
		if d := diff(want, got); d != "" {
			t.Errorf("GetAPIKeyByHash(%q) mismatch (-want +got):\n%s", want.Hash, d)
		}
	}
	_, err = s.GetAPIKeyByHash(ctx, "hash-missing")
	wantCode(t, "GetAPIKeyByHash of a missing hash", err, notify.CodeNotFound)

	list, err := s.ListAPIKeys(ctx, wsA)
	must(t, "ListAPIKeys", err)
	if d := diff([]notify.APIKey{older, newer}, list); d != "" {
		t.Errorf("ListAPIKeys(%q) mismatch (-want +got):\n%s", wsA, d)
	}
	list, err = s.ListAPIKeys(ctx, "ws-empty")
	must(t, "ListAPIKeys", err)
	if len(list) != 0 {
		t.Errorf("ListAPIKeys(ws-empty) = %d keys, want 0", len(list))
	}

	at := t0.Add(time.Hour)
	must(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, wsA, older.ID, at))
	revoked := older
	revoked.RevokedAt = &at
	got, err := s.GetAPIKeyByHash(ctx, older.Hash)
	must(t, "GetAPIKeyByHash of a revoked key", err)
	if d := diff(revoked, got); d != "" {
		t.Errorf("GetAPIKeyByHash(%q) after revoke mismatch (-want +got):\n%s", older.Hash, d)
	}
	list, err = s.ListAPIKeys(ctx, wsA)
	must(t, "ListAPIKeys", err)
	if d := diff([]notify.APIKey{revoked, newer}, list); d != "" {
		t.Errorf("ListAPIKeys(%q) after revoke mismatch (-want +got):\n%s", wsA, d)
	}
	wantCode(t, "RevokeAPIKey of a missing id", s.RevokeAPIKey(ctx, wsA, "key-missing", at), notify.CodeNotFound)
}

func testAPIKeysIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	ka := notify.APIKey{ID: ids.New(t0), WorkspaceID: wsA, Name: "a", Scopes: []notify.Scope{notify.ScopeAdmin}, Hash: "hash-a", Prefix: "hk_a", CreatedAt: t0}
	kb := notify.APIKey{ID: ids.New(t0), WorkspaceID: wsB, Name: "b", Scopes: []notify.Scope{notify.ScopeRead}, Hash: "hash-b", Prefix: "hk_b", CreatedAt: t0}
	must(t, "CreateAPIKey a", s.CreateAPIKey(ctx, ka))
	must(t, "CreateAPIKey b", s.CreateAPIKey(ctx, kb))

	list, err := s.ListAPIKeys(ctx, wsB)
	must(t, "ListAPIKeys", err)
	if d := diff([]notify.APIKey{kb}, list); d != "" {
		t.Errorf("ListAPIKeys(%q) mismatch (-want +got):\n%s", wsB, d)
	}

	wantCode(t, "RevokeAPIKey of another workspace's key", s.RevokeAPIKey(ctx, wsB, ka.ID, t0), notify.CodeNotFound)
	got, err := s.GetAPIKeyByHash(ctx, ka.Hash)
	must(t, "GetAPIKeyByHash", err)
	if got.RevokedAt != nil || got.WorkspaceID != wsA {
		t.Errorf("key after a revoke through %s: RevokedAt = %v, WorkspaceID = %q; want nil, %q", wsB, got.RevokedAt, got.WorkspaceID, wsA)
	}
}

// testAPIKeyTouch: a key's last use is stamped on the key that
// authentication reads (by hash) and on the one lists read, moves with
// every touch, survives a revocation (and a revoked key may be stamped),
// and another workspace cannot stamp it.
func testAPIKeyTouch(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	k := notify.APIKey{ID: ids.New(t0), WorkspaceID: wsA, Name: "backend", Scopes: []notify.Scope{notify.ScopeSend}, Hash: "hash-touch", Prefix: "hk_tou", CreatedAt: t0}
	other := notify.APIKey{ID: ids.New(t0.Add(time.Second)), WorkspaceID: wsA, Name: "other", Scopes: []notify.Scope{notify.ScopeRead}, Hash: "hash-other", Prefix: "hk_oth", CreatedAt: t0.Add(time.Second)}
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k))
	must(t, "CreateAPIKey other", s.CreateAPIKey(ctx, other))

	check := func(what string, want notify.APIKey) {
		t.Helper()
		got, err := s.GetAPIKeyByHash(ctx, want.Hash)
		must(t, "GetAPIKeyByHash "+what, err)
		if d := diff(want, got); d != "" {
			t.Errorf("GetAPIKeyByHash %s mismatch (-want +got):\n%s", what, d)
		}
		list, err := s.ListAPIKeys(ctx, wsA)
		must(t, "ListAPIKeys "+what, err)
		if d := diff([]notify.APIKey{want, other}, list); d != "" {
			t.Errorf("ListAPIKeys %s mismatch (-want +got):\n%s", what, d)
		}
	}
	check("before any use", k)

	first := t0.Add(time.Minute)
	must(t, "TouchAPIKey", s.TouchAPIKey(ctx, wsA, k.ID, first))
	used := k
	used.LastUsedAt = &first
	check("after a touch", used)

	later := t0.Add(2 * time.Hour)
	must(t, "TouchAPIKey again", s.TouchAPIKey(ctx, wsA, k.ID, later))
	used.LastUsedAt = &later
	check("after a second touch", used)

	revokedAt := t0.Add(3 * time.Hour)
	must(t, "RevokeAPIKey", s.RevokeAPIKey(ctx, wsA, k.ID, revokedAt))
	used.RevokedAt = &revokedAt
	check("after a revocation", used)

	wantCode(t, "TouchAPIKey of another workspace's key", s.TouchAPIKey(ctx, wsB, k.ID, t0.Add(4*time.Hour)), notify.CodeNotFound)
	wantCode(t, "TouchAPIKey of a missing id", s.TouchAPIKey(ctx, wsA, "key-missing", t0), notify.CodeNotFound)
	check("after refused touches", used)
}
