package apikey

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

type failingKeys struct{}

func (failingKeys) GetAPIKeyByHash(context.Context, string) (notify.APIKey, error) {
	return notify.APIKey{}, errors.New("throttled")
}

// TestAuthorize: a known key is verified; an unknown or malformed one goes
// on unverified, for the API to answer 401 in its own error shape; a store
// error is an error, so the gateway does not cache an answer.
func TestAuthorize(t *testing.T) {
	key := notify.APIKey{ID: "key_example", WorkspaceID: "ws_example", Name: "backend", Scopes: []notify.Scope{notify.ScopeSend, notify.ScopeRead}}
	keys := keyMap{Hash("hk_example"): key}
	a := &Authorizer{Keys: keys, Log: slog.New(slog.DiscardHandler)}
	tests := []struct {
		header       string
		want         notify.APIKey
		wantVerified bool
	}{
		{"Bearer hk_example", key, true},
		{"Bearer hk_unknown", notify.APIKey{}, false},
		{"", notify.APIKey{}, false},
		{"Basic xyz", notify.APIKey{}, false},
	}
	for _, tt := range tests {
		got, verified, err := a.Authorize(context.Background(), tt.header, "req-1")
		if err != nil || verified != tt.wantVerified {
			t.Errorf("Authorize(%q) verified = %v, %v; want %v, nil", tt.header, verified, err, tt.wantVerified)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Authorize(%q) key (-want +got):\n%s", tt.header, diff)
		}
	}
	down := &Authorizer{Keys: failingKeys{}, Log: slog.New(slog.DiscardHandler)}
	if _, _, err := down.Authorize(context.Background(), "Bearer hk_example", "req-1"); err == nil {
		t.Error("store error = nil, want an error (so the gateway does not cache a deny)")
	}
}

// TestAuthorizeRecordsLastUse: a verified key's use is recorded (through
// Keys.Used, hourly), an unknown key records nothing.
func TestAuthorizeRecordsLastUse(t *testing.T) {
	keys, store := newKeys(t)
	ctx := context.Background()
	k, secret, err := keys.Create(ctx, "ws1", "backend", []notify.Scope{notify.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	counter := &touchCounter{Store: store}
	keys.Store = counter
	a := &Authorizer{Keys: store, LastUse: keys, Log: slog.New(slog.DiscardHandler)}
	if _, verified, err := a.Authorize(ctx, "Bearer hk_unknown", "req-0"); verified || err != nil || counter.touches != 0 {
		t.Fatalf("unknown key: verified %v, err %v, %d writes; want false, nil, 0", verified, err, counter.touches)
	}
	for i := range 2 {
		if _, verified, err := a.Authorize(ctx, "Bearer "+secret, "req-1"); !verified || err != nil {
			t.Fatalf("Authorize #%d = %v, %v", i, verified, err)
		}
	}
	got, err := store.GetAPIKeyByHash(ctx, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(t0.Truncate(time.Millisecond)) || counter.touches != 1 {
		t.Errorf("after two authorizations: LastUsedAt = %v with %d writes, want %v with 1", got.LastUsedAt, counter.touches, t0)
	}
}
