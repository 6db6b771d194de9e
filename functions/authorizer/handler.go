package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/heraldhq/herald/shared/lambdaedge"
	"github.com/heraldhq/herald/shared/notify"
)

// authorizer is what the handler needs of *apikey.Authorizer.
type authorizer interface {
	Authorize(ctx context.Context, header, requestID string) (notify.APIKey, bool, error)
}

// newHandler is the authorizer function's handler: API Gateway HTTP API
// Lambda authorizer events (REQUEST type, payload 2.0, simple responses).
// Every request is let through, with the verified key's workspace and
// scopes as its context (lambdaedge.AuthorizerContext) or marked
// unverified; a store error fails the invocation, so that the gateway
// answers 500 rather than caching an answer.
func newHandler(a authorizer) func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		header := ev.Headers["authorization"]
		if header == "" && len(ev.IdentitySource) > 0 {
			header = ev.IdentitySource[0]
		}
		k, verified, err := a.Authorize(ctx, header, ev.RequestContext.RequestID)
		if err != nil {
			return events.APIGatewayV2CustomAuthorizerSimpleResponse{}, err
		}
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: lambdaedge.AuthorizerContext(k, verified)}, nil
	}
}
