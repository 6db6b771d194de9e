// Package lambdaedge is where Herald meets AWS Lambda's event types
// (github.com/aws/aws-lambda-go): the one package under shared/ that
// imports them. The functions' handlers (functions/<fn>/handler.go)
// decode their events with it and call the services with domain values
// (a message body, a campaign run, an http.Request), so that no service
// knows it runs in Lambda and the local server runs the same services
// without it.
//
// It holds what more than one function needs: SQS partial batch failures
// (sqs.go), the API Gateway HTTP API adapter to net/http (http.go), the
// context the Lambda authorizer hands the API (authorizer.go), and the
// routing of one function's several event sources (sources.go). It
// imports no service and no adapter, so linking it adds nothing else to a
// function.
package lambdaedge
