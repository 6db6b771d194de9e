package lambdaedge

import (
	"context"
	"encoding/base64"
	"net/http"
	"path"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/heraldhq/herald/shared/notify"
)

// HTTP serves API Gateway HTTP API events (payload 2.0) with a
// net/http handler, through aws-lambda-go-api-proxy, so that a function's
// routes are the same http.Handler the local server runs.
//
// An event the gateway passes on but no http.Request can be made of (a
// body marked base64 that is not, a path that does not parse) is the
// client's mistake: it answers 400 through Refuse. Failing the invocation
// instead would make the gateway answer its own 500 and count a Lambda
// error, and a provider retry a request that can never work.
type HTTP struct {
	// Handler serves the requests; nil answers every one 404.
	Handler http.Handler
	// Refuse writes the answer to a request Handler never sees, in the
	// function's error shape: status 400 (the event cannot be read) or 404
	// (CleanPathsOnly). Nil answers as http.Error does, in plain text.
	Refuse func(w http.ResponseWriter, status int, message string)
	// CleanPathsOnly answers 404 to a path with empty, "." or ".."
	// segments: a ServeMux would redirect it to its cleaned form, and
	// clients such as providers' webhooks do not follow redirects. The API
	// answers such paths itself.
	CleanPathsOnly bool
	// WithPrincipal, when set, puts the key the gateway's Lambda
	// authorizer verified (AuthorizerContext) in the request's context, so
	// that the handler trusts it instead of reading the key again. An
	// event without a verified key is left for the handler to check.
	WithPrincipal func(ctx context.Context, k notify.APIKey) context.Context
}

// Serve answers one event. The gateway's request id is the request's
// X-Request-Id unless the client sent one, and the X-Request-Id of a
// refusal, so that logs and answers name the request as the gateway does.
func (h HTTP) Serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if ev.IsBase64Encoded {
		body, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return h.refuse(ev, http.StatusBadRequest, "the request body is marked base64 (isBase64Encoded) but is not valid base64")
		}
		ev.Body, ev.IsBase64Encoded = string(body), false
	}
	var accessor core.RequestAccessorV2
	r, err := accessor.EventToRequestWithContext(ctx, ev)
	if err != nil {
		return h.refuse(ev, http.StatusBadRequest, "the request cannot be read: its path or method is not valid")
	}
	if h.CleanPathsOnly && !cleanPath(r.URL.Path) {
		return h.refuse(ev, http.StatusNotFound, "404 page not found")
	}
	if id := ev.RequestContext.RequestID; id != "" && r.Header.Get("X-Request-Id") == "" {
		r.Header.Set("X-Request-Id", id)
	}
	if h.WithPrincipal != nil {
		if k, ok := principalOf(ev.RequestContext); ok {
			r = r.WithContext(h.WithPrincipal(r.Context(), k))
		}
	}
	handler := h.Handler
	if handler == nil {
		handler = http.NotFoundHandler()
	}
	w := core.NewProxyResponseWriterV2()
	handler.ServeHTTP(w, r)
	return w.GetProxyResponse()
}

// refuse answers status through Refuse, with the gateway's request id.
func (h HTTP) refuse(ev events.APIGatewayV2HTTPRequest, status int, message string) (events.APIGatewayV2HTTPResponse, error) {
	w := core.NewProxyResponseWriterV2()
	if id := ev.RequestContext.RequestID; id != "" {
		w.Header().Set("X-Request-Id", id)
	}
	if h.Refuse != nil {
		h.Refuse(w, status, message)
	} else {
		http.Error(w, message, status)
	}
	return w.GetProxyResponse()
}

// cleanPath reports whether p is already in the form a ServeMux cleans
// paths to (no empty, "." or ".." segments; a trailing slash kept).
func cleanPath(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}
