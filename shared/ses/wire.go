package ses

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/restjson"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/shared/awscall"
	"github.com/heraldhq/herald/shared/jsonenc"
)

// SendEmail goes over the wire as the SDK's client would send it (REST
// JSON, POST /v2/email/outbound-emails), but built and read here: see
// package awscall for why.

// sendEmailPath is SendEmail's path under the endpoint.
const sendEmailPath = "/v2/email/outbound-emails"

// caller resolves, once, what client's calls would use: its endpoint for
// its region (as its endpoint resolver gives it), the signing name and
// region, credentials, HTTP client and retryer. A client whose endpoint
// does not resolve (no region) gives an error that every send returns, as
// the client's own calls would fail.
func caller(client *sesv2.Client) (*awscall.Client, error) {
	o := client.Options()
	region, err := awscall.EndpointRegion(o.Region)
	if err != nil {
		return nil, fmt.Errorf("resolve ses endpoint: %w", err)
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(context.Background(), sesv2.EndpointParameters{
		Region:       aws.String(region),
		Endpoint:     o.BaseEndpoint,
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
	})
	if err != nil {
		return nil, fmt.Errorf("resolve ses endpoint: %w", err)
	}
	if o.Credentials == nil {
		return nil, errors.New("ses client has no credentials")
	}
	cfg := awscall.Config{ServiceID: sesv2.ServiceID, Credentials: o.Credentials, HTTPClient: o.HTTPClient, Retryer: o.Retryer, APIError: apiError}
	cfg.SetEndpoint(ep, "ses", o.Region, o.EndpointOptions.DisableHTTPS)
	return awscall.New(cfg), nil
}

// apiError reads an SES error answer as the SDK does: the code from the
// X-Amzn-ErrorType header, else from the body's code or __type (both
// without their namespace), the message from the body; "UnknownError"
// when there is none.
func apiError(status int, h http.Header, body []byte) smithy.APIError {
	e := &smithy.GenericAPIError{Code: "UnknownError", Message: "UnknownError", Fault: smithy.FaultClient}
	if status >= 500 {
		e.Fault = smithy.FaultServer
	}
	header := h.Get("X-Amzn-ErrorType")
	if header != "" {
		e.Code = restjson.SanitizeErrorCode(header)
	}
	code, msg, err := restjson.GetErrorInfo(json.NewDecoder(bytes.NewReader(body)))
	if err != nil {
		return e
	}
	if header == "" && code != "" {
		e.Code = restjson.SanitizeErrorCode(code)
	}
	if msg != "" {
		e.Message = msg
	}
	return e
}

// bodies hold request bodies while they are built and sent.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// maxKeptBody bounds the bodies kept for reuse (an email with a large
// HTML part is not kept).
const maxKeptBody = 64 << 10

// appendString appends s as a JSON string, as encoding/json writes it,
// except that <, > and & are kept as they are: SES reads them the same
// either way.
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s, false) }

// appendContent appends an SES Content: {"Data":…,"Charset":"UTF-8"}.
func appendContent(b []byte, data string) []byte {
	b = append(b, `{"Data":`...)
	b = appendString(b, data)
	return append(b, `,"Charset":"`+charset+`"}`...)
}

// appendTags appends the message tags of env (see tags) as a JSON array
// member, or nothing when there is none.
func appendTags(b []byte, ts []tag) []byte {
	if len(ts) == 0 {
		return b
	}
	b = append(b, `,"EmailTags":[`...)
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Name":`...)
		b = appendString(b, t.name)
		b = append(b, `,"Value":`...)
		b = appendString(b, t.value)
		b = append(b, '}')
	}
	return append(b, ']')
}

// messageID reads SendEmail's answer, {"MessageId":"…"}: the id read in
// place when it is a plain string, encoding/json otherwise.
func messageID(answer []byte) (string, error) {
	const member = `"MessageId"`
	if i := bytes.Index(answer, []byte(member)); i >= 0 {
		rest := bytes.TrimLeft(answer[i+len(member):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			rest = bytes.TrimLeft(rest[1:], " \t\r\n")
			if len(rest) > 0 && rest[0] == '"' {
				if end := bytes.IndexByte(rest[1:], '"'); end >= 0 && bytes.IndexByte(rest[1:1+end], '\\') < 0 {
					return string(rest[1 : 1+end]), nil
				}
			}
		}
	}
	var out struct {
		MessageID string `json:"MessageId"`
	}
	if err := json.Unmarshal(answer, &out); err != nil {
		return "", fmt.Errorf("ses send email: read answer: %w", err)
	}
	return out.MessageID, nil
}
