package lambdaedge

import (
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/notify"
)

// AuthorizerContext is the context the API Gateway Lambda authorizer
// (REQUEST type, payload 2.0, simple responses) answers for a request
// with key k. The gateway caches it per key and passes it on with every
// request it lets through; HTTP.WithPrincipal reads it back, so its keys
// are agreed here, in one place. An unverified key (verified false: the
// authorizer could not check it) carries nothing but that, and the API
// checks such a request's key itself.
func AuthorizerContext(k notify.APIKey, verified bool) map[string]any {
	if !verified {
		return map[string]any{"verified": "false"}
	}
	scopes := make([]string, len(k.Scopes))
	for i, s := range k.Scopes {
		scopes[i] = string(s)
	}
	return map[string]any{
		"workspaceId": k.WorkspaceID,
		"keyId":       k.ID,
		"keyName":     k.Name,
		"scopes":      strings.Join(scopes, ","),
		"verified":    "true",
	}
}

// principalOf reads the key AuthorizerContext put in a request's context;
// false when the authorizer did not verify one.
func principalOf(rc events.APIGatewayV2HTTPRequestContext) (notify.APIKey, bool) {
	if rc.Authorizer == nil || rc.Authorizer.Lambda == nil {
		return notify.APIKey{}, false
	}
	str := func(k string) string { s, _ := rc.Authorizer.Lambda[k].(string); return s }
	if str("verified") != "true" {
		return notify.APIKey{}, false
	}
	k := notify.APIKey{WorkspaceID: str("workspaceId"), ID: str("keyId"), Name: str("keyName")}
	for _, s := range strings.Split(str("scopes"), ",") {
		if s != "" {
			k.Scopes = append(k.Scopes, notify.Scope(s))
		}
	}
	return k, k.WorkspaceID != "" && k.ID != ""
}
