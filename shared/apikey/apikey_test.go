package apikey

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

type keyMap map[string]notify.APIKey

func (m keyMap) GetAPIKeyByHash(_ context.Context, hash string) (notify.APIKey, error) {
	k, ok := m[hash]
	if !ok {
		return notify.APIKey{}, notify.NotFound("key", "")
	}
	return k, nil
}

func TestAuthenticate(t *testing.T) {
	good, revoked := New(), New()
	if !strings.HasPrefix(good, Prefix) || good == revoked || len(good) < 50 {
		t.Fatalf("New() = %q: want a long, unique, prefixed key", good)
	}
	now := time.Now()
	keys := keyMap{
		Hash(good):    {ID: "k1", WorkspaceID: "ws1"},
		Hash(revoked): {ID: "k2", WorkspaceID: "ws1", RevokedAt: &now},
	}
	tests := []struct {
		header string
		wantID string
	}{
		{"Bearer " + good, "k1"},
		{"bearer  " + good + " ", "k1"},
		{"Bearer " + revoked, ""},
		{"Bearer " + New(), ""},
		{good, ""},
		{"Basic " + good, ""},
		{"", ""},
		{"Bearer ", ""},
		{"Bearer " + strings.Repeat("x", 129), ""},
	}
	for _, tt := range tests {
		k, err := Authenticate(context.Background(), keys, tt.header)
		if tt.wantID == "" {
			if !notify.IsCode(err, notify.CodeUnauthorized) {
				t.Errorf("Authenticate(%q) err = %v, want unauthorized", tt.header, err)
			}
			continue
		}
		if err != nil || k.ID != tt.wantID {
			t.Errorf("Authenticate(%q) = %q, %v; want %q", tt.header, k.ID, err, tt.wantID)
		}
	}
}
