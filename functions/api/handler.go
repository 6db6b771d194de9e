package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/notify"
)

// newHandler adapts API Gateway HTTP API events to the API's net/http
// handler. The gateway's Lambda authorizer has already checked the key and
// put the key's workspace and scopes in the request context; the handler
// trusts that instead of reading the key again.
func newHandler(api http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	adapter := httpadapter.NewV2(withAuthorizerContext(api))
	return adapter.ProxyWithContext
}

func withAuthorizerContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
			if k, ok := principalOf(rc); ok {
				r = r.WithContext(httpapi.WithPrincipal(r.Context(), k))
			}
			if rc.RequestID != "" && r.Header.Get("X-Request-Id") == "" {
				r.Header.Set("X-Request-Id", rc.RequestID)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// principalOf reads the context the authorizer function returns.
func principalOf(rc events.APIGatewayV2HTTPRequestContext) (notify.APIKey, bool) {
	if rc.Authorizer == nil || rc.Authorizer.Lambda == nil {
		return notify.APIKey{}, false
	}
	str := func(k string) string { s, _ := rc.Authorizer.Lambda[k].(string); return s }
	k := notify.APIKey{WorkspaceID: str("workspaceId"), ID: str("keyId"), Name: str("keyName")}
	for _, s := range strings.Split(str("scopes"), ",") {
		if s != "" {
			k.Scopes = append(k.Scopes, notify.Scope(s))
		}
	}
	return k, k.WorkspaceID != "" && k.ID != ""
}
