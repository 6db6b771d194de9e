package send

import (
	"context"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
)

// UserGetter reads users, for the keys that open their deliveries'
// addresses.
type UserGetter interface {
	GetUsers(ctx context.Context, workspaceID string, ids []string) (map[string]notify.User, error)
}

// Addresses are the addresses the deliveries went to, in order, as the
// history shows them: a user's address is sealed with the user's key and
// opened here; a deleted user's (whose key is gone) shows the user id, the
// customer number, instead. The API's deliveries list and the console's
// history both read them here.
func Addresses(ctx context.Context, store UserGetter, ws string, ds []notify.Delivery) ([]string, error) {
	var ids []string
	for _, d := range ds {
		if d.UserID != "" && seal.IsSealed(d.Address) {
			ids = append(ids, d.UserID)
		}
	}
	users := map[string]notify.User{}
	if len(ids) > 0 {
		var err error
		if users, err = store.GetUsers(ctx, ws, ids); err != nil {
			return nil, err
		}
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		addr := d.Address
		if seal.IsSealed(addr) {
			addr = ""
			if u, ok := users[d.UserID]; ok {
				if opened, err := seal.Open(u.SealKey, d.Address); err == nil {
					addr = opened
				}
			}
		}
		if addr == "" && d.UserID != "" {
			addr = d.UserID
		}
		out[i] = addr
	}
	return out, nil
}
