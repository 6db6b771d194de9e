package apikey

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// maxName bounds a key's name, a label people read in lists.
const maxName = 128

// Store is what Keys needs of the store; notify.Store is one. Workspace
// ids scope every call: another workspace's key is not found.
type Store interface {
	CreateAPIKey(ctx context.Context, k notify.APIKey) error
	ListAPIKeys(ctx context.Context, workspaceID string) ([]notify.APIKey, error)
	RevokeAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error
	TouchAPIKey(ctx context.Context, workspaceID, id string, at time.Time) error
}

// Keys applies the rules of a workspace's API keys (what a new key may
// carry, and that a workspace keeps an admin key), so the HTTP API and the
// operator console make and revoke keys the same way. Its errors are
// *notify.Error values whose codes and field names are the API's.
type Keys struct {
	Store Store
	// IDs makes key ids; required.
	IDs *notify.IDs
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (k *Keys) now() time.Time {
	if k.Now == nil {
		return time.Now()
	}
	return k.Now()
}

// Create makes a key of workspace workspaceID named name with scopes
// (given twice counts once) and returns it with its secret. Only the
// secret's hash is stored: the caller shows the secret once.
func (k *Keys) Create(ctx context.Context, workspaceID, name string, scopes []notify.Scope) (notify.APIKey, string, error) {
	if err := notify.CheckText(name, "name"); err != nil {
		return notify.APIKey{}, "", err
	}
	var bad []notify.FieldError
	if strings.TrimSpace(name) == "" || len(name) > maxName {
		bad = append(bad, notify.FieldError{Field: "name", Problem: "required, at most 128 characters"})
	}
	if len(scopes) == 0 {
		bad = append(bad, notify.FieldError{Field: "scopes", Problem: "at least one of send, read, admin"})
	}
	for i, sc := range scopes {
		if sc != notify.ScopeSend && sc != notify.ScopeRead && sc != notify.ScopeAdmin {
			bad = append(bad, notify.FieldError{Field: fmt.Sprintf("scopes[%d]", i), Problem: "must be send, read or admin"})
		}
	}
	if len(bad) > 0 {
		return notify.APIKey{}, "", notify.Invalid(bad...)
	}
	secret := New()
	now := k.now().UTC().Truncate(time.Millisecond)
	key := notify.APIKey{
		ID: "key_" + strings.ToLower(k.IDs.New(now)), WorkspaceID: workspaceID, Name: name,
		Scopes: dedupeScopes(scopes), Hash: Hash(secret), Prefix: Display(secret), CreatedAt: now,
	}
	if err := k.Store.CreateAPIKey(ctx, key); err != nil {
		return notify.APIKey{}, "", fmt.Errorf("create key %s: %w", key.ID, err)
	}
	return key, secret, nil
}

// dedupeScopes drops repeated scopes, keeping the first of each.
func dedupeScopes(in []notify.Scope) []notify.Scope {
	seen := map[notify.Scope]bool{}
	var out []notify.Scope
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// List returns the workspace's keys, revoked ones included, oldest first.
func (k *Keys) List(ctx context.Context, workspaceID string) ([]notify.APIKey, error) {
	keys, err := k.Store.ListAPIKeys(ctx, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return keys, nil
}

// Revoke revokes key id of the workspace, unless it is the workspace's
// last working admin key (a conflict): without one nobody can make keys
// again, and the workspace is locked out.
func (k *Keys) Revoke(ctx context.Context, workspaceID, id string) error {
	if err := k.keepsAnAdmin(ctx, workspaceID, id); err != nil {
		return err
	}
	if err := k.Store.RevokeAPIKey(ctx, workspaceID, id, k.now().UTC()); err != nil {
		return fmt.Errorf("revoke key %s: %w", id, err)
	}
	return nil
}

// keepsAnAdmin refuses to revoke the workspace's last working admin key.
// (Two admins revoking each other at the same instant can still both
// succeed; `go run ./infra/admin` makes a new key from outside the API.)
func (k *Keys) keepsAnAdmin(ctx context.Context, workspaceID, id string) error {
	keys, err := k.Store.ListAPIKeys(ctx, workspaceID)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	revoking, others := false, 0
	for _, key := range keys {
		if key.RevokedAt != nil || !slices.Contains(key.Scopes, notify.ScopeAdmin) {
			continue
		}
		if key.ID == id {
			revoking = true
		} else {
			others++
		}
	}
	if revoking && others == 0 {
		return notify.Errorf(notify.CodeConflict, "key %s is the workspace's last admin key: create another admin key before revoking it", id)
	}
	return nil
}

// UseInterval is how stale a key's last use may get: it is written at most
// once per UseInterval per key, so that authenticating a request (which
// reads the key anyway) writes nothing most of the time.
const UseInterval = time.Hour

// Used records that key (as authentication just read it) was used now,
// unless its last use was recorded less than UseInterval ago. Callers log
// an error rather than refuse the request: the key itself was good.
func (k *Keys) Used(ctx context.Context, key notify.APIKey) error {
	now := k.now().UTC().Truncate(time.Millisecond)
	if key.LastUsedAt != nil && now.Sub(*key.LastUsedAt) < UseInterval {
		return nil
	}
	if err := k.Store.TouchAPIKey(ctx, key.WorkspaceID, key.ID, now); err != nil {
		return fmt.Errorf("record last use of key %s: %w", key.ID, err)
	}
	return nil
}
