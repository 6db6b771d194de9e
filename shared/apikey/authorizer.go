package apikey

import (
	"context"
	"log/slog"

	"github.com/heraldhq/herald/shared/notify"
)

// Authorizer checks the keys of the API Gateway HTTP API's Lambda
// authorizer (the authorizer function). The gateway caches its answer per
// key, so most requests reach the API with the key already checked: the
// answer carries the key's workspace and scopes, which the API trusts.
//
// A key it cannot verify is let through without that context rather than
// denied: a deny would make the gateway answer 403 in its own format, where
// the API's contract is 401 with the API's error shape. The API checks such
// a request's key itself and answers that 401.
type Authorizer struct {
	Keys Getter
	// LastUse records a verified key's last use (Keys.Used: at most hourly,
	// and the gateway's cache calls the authorizer about a key at most
	// once a minute); nil records nothing.
	LastUse *Keys
	Log     *slog.Logger
}

// Authorize checks the key of a request's Authorization header. verified
// is false for a key it cannot verify, which is let through unverified
// (see Authorizer). A store error is returned, so the gateway answers 500
// rather than caching an answer. requestID, the gateway's, is for the logs.
func (a *Authorizer) Authorize(ctx context.Context, header, requestID string) (k notify.APIKey, verified bool, err error) {
	k, err = Authenticate(ctx, a.Keys, header)
	if notify.IsCode(err, notify.CodeUnauthorized) {
		a.Log.Info("unverified key passed on to the API", "requestId", requestID)
		return notify.APIKey{}, false, nil
	}
	if err != nil {
		a.Log.Error("authorize", "requestId", requestID, "err", err.Error())
		return notify.APIKey{}, false, err
	}
	if a.LastUse != nil {
		if err := a.LastUse.Used(ctx, k); err != nil {
			a.Log.Warn("last use of a key not recorded", "requestId", requestID, "workspaceId", k.WorkspaceID, "err", err.Error())
		}
	}
	return k, true, nil
}
