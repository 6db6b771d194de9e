package apikey

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/notify"
)

// Authorizer is the API Gateway HTTP API Lambda authorizer (REQUEST type,
// payload 2.0, simple responses). The gateway caches its answer per key, so
// most requests reach the API with the key already checked: the answer
// carries the key's workspace and scopes, which the API trusts.
//
// A key it cannot verify is let through without that context rather than
// denied: a deny would make the gateway answer 403 in its own format, where
// the API's contract is 401 with the API's error shape. The API checks such
// a request's key itself and answers that 401.
type Authorizer struct {
	Keys Getter
	Log  *slog.Logger
}

// Handle answers one authorizer event. A store error is returned, so the
// gateway answers 500 rather than caching an answer.
func (a *Authorizer) Handle(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	header := ev.Headers["authorization"]
	if header == "" && len(ev.IdentitySource) > 0 {
		header = ev.IdentitySource[0]
	}
	k, err := Authenticate(ctx, a.Keys, header)
	if notify.IsCode(err, notify.CodeUnauthorized) {
		a.Log.Info("unverified key passed on to the API", "requestId", ev.RequestContext.RequestID)
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{"verified": "false"}}, nil
	}
	if err != nil {
		a.Log.Error("authorize", "requestId", ev.RequestContext.RequestID, "err", err.Error())
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, err
	}
	scopes := make([]string, len(k.Scopes))
	for i, s := range k.Scopes {
		scopes[i] = string(s)
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{
		IsAuthorized: true,
		Context: map[string]any{
			"workspaceId": k.WorkspaceID,
			"keyId":       k.ID,
			"keyName":     k.Name,
			"scopes":      strings.Join(scopes, ","),
			"verified":    "true",
		},
	}, nil
}
