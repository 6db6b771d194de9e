package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/heraldhq/herald/shared/notify"
)

// LambdaHandler adapts API Gateway HTTP API events (payload 2.0) to api with
// aws-lambda-go-api-proxy. The gateway's Lambda authorizer has already
// checked the key and put its workspace and scopes in the request context;
// the handler trusts that instead of reading the key again.
func LambdaHandler(api http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return httpadapter.NewV2(withAuthorizerContext(api)).ProxyWithContext
}

func withAuthorizerContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
			if k, ok := principalOf(rc); ok {
				r = r.WithContext(WithPrincipal(r.Context(), k))
			}
			if rc.RequestID != "" && r.Header.Get("X-Request-Id") == "" {
				r.Header.Set("X-Request-Id", rc.RequestID)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// principalOf reads the context the authorizer returns (see apikey.Authorizer).
func principalOf(rc events.APIGatewayV2HTTPRequestContext) (notify.APIKey, bool) {
	if rc.Authorizer == nil || rc.Authorizer.Lambda == nil {
		return notify.APIKey{}, false
	}
	str := func(k string) string { s, _ := rc.Authorizer.Lambda[k].(string); return s }
	if str("verified") != "true" {
		return notify.APIKey{}, false // the API checks the key itself
	}
	k := notify.APIKey{WorkspaceID: str("workspaceId"), ID: str("keyId"), Name: str("keyName")}
	for _, s := range strings.Split(str("scopes"), ",") {
		if s != "" {
			k.Scopes = append(k.Scopes, notify.Scope(s))
		}
	}
	return k, k.WorkspaceID != "" && k.ID != ""
}
