package main

import (
	"net/http"

	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/lambdaedge"
)

// newHandler is the api function's handler: API Gateway HTTP API events
// (payload 2.0) served by api. The gateway's Lambda authorizer has already
// checked the key and put its workspace and scopes in the request context;
// the API trusts that instead of reading the key again. What the edge
// cannot read answers in the API's error shape.
func newHandler(api http.Handler) lambdaedge.HTTP {
	return lambdaedge.HTTP{Handler: api, Refuse: httpapi.Refuse, WithPrincipal: httpapi.WithPrincipal}
}
