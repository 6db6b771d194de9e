package webhook

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

// openStore is an empty store in the test's temporary directory, closed
// when the test ends.
func openStore(t testing.TB) *boltstore.Store {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

// seedNotification stores n and its deliveries ds, as a send left them.
func seedNotification(t testing.TB, store *boltstore.Store, n notify.Notification, ds []notify.Delivery) {
	t.Helper()
	ctx := context.Background()
	if err := store.CreateNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	for start := 0; start < len(ds); start += 1000 {
		if _, err := store.RecordDeliveries(ctx, ds[start:min(start+1000, len(ds))]); err != nil {
			t.Fatal(err)
		}
	}
}

// outcomes is what the callbacks may change: each delivery of notification
// nid as "status/reason" ("delivery <key>"), and each user's preference for
// ch ("<ch> <id>").
func outcomes(t *testing.T, store *boltstore.Store, nid string, keys []string, ch notify.Channel, users ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	ds, err := store.GetDeliveries(ctx, wsID, nid, keys)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range keys {
		got["delivery "+k] = string(ds[k].Status) + "/" + ds[k].Reason
	}
	for _, id := range users {
		u, err := store.GetUser(ctx, wsID, id)
		if err != nil {
			t.Fatal(err)
		}
		on, set := u.Preferences.Channels[ch]
		got[string(ch)+" "+id] = fmt.Sprint(on || !set)
	}
	return got
}

// with is base with changes applied.
func with(base, changes map[string]string) map[string]string {
	maps.Copy(base, changes)
	return base
}
