package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/heraldhq/herald/shared/notify"
)

// LambdaHandler adapts API Gateway HTTP API events (payload 2.0) to api
// with aws-lambda-go-api-proxy. The gateway's Lambda authorizer has
// already checked the key and put its workspace and scopes in the request
// context; the handler trusts that instead of reading the key again.
//
// An event no http.Request can be made of (a body marked base64 that is
// not, a path that does not parse) is the client's mistake: it answers 400
// in the API's error shape. Failing the invocation instead would make the
// gateway answer its own 500 and count a Lambda error.
func LambdaHandler(api http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	h := withAuthorizerContext(api)
	var accessor core.RequestAccessorV2
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		if ev.IsBase64Encoded {
			body, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				return badEvent(ev, "the request body is marked base64 (isBase64Encoded) but is not valid base64")
			}
			ev.Body, ev.IsBase64Encoded = string(body), false
		}
		r, err := accessor.EventToRequestWithContext(ctx, ev)
		if err != nil {
			return badEvent(ev, "the request cannot be read: its path or method is not valid")
		}
		w := core.NewProxyResponseWriterV2()
		h.ServeHTTP(w, r)
		return w.GetProxyResponse()
	}
}

// badEvent answers 400 bad_request, with the gateway's request id.
func badEvent(ev events.APIGatewayV2HTTPRequest, message string) (events.APIGatewayV2HTTPResponse, error) {
	w := core.NewProxyResponseWriterV2()
	if id := ev.RequestContext.RequestID; id != "" {
		w.Header().Set("X-Request-Id", id)
	}
	writeError(w, notify.Errorf(notify.CodeBadRequest, "%s", message))
	return w.GetProxyResponse()
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
