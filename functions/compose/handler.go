package main

import (
	"net/http"

	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/lambdaedge"
)

// newHandler is the compose function's handler: the API Gateway HTTP API
// events (payload 2.0) of the /v1/compose routes, served by api (a server
// limited to them). As in the api function, the key the gateway's Lambda
// authorizer verified is trusted, and what the edge cannot read answers in
// the API's error shape.
func newHandler(api http.Handler) lambdaedge.HTTP {
	return lambdaedge.HTTP{Handler: api, Refuse: httpapi.Refuse, WithPrincipal: httpapi.WithPrincipal}
}
