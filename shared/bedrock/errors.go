package bedrock

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/heraldhq/herald/shared/compose"
)

// kinds maps Bedrock's error codes to what the operator can do about
// them. Codes not listed are sorted by HTTP status in classify.
var kinds = map[string]compose.ErrorKind{
	"ThrottlingException":           compose.Throttled,
	"TooManyRequestsException":      compose.Throttled,
	"ServiceQuotaExceededException": compose.Throttled,

	"AccessDeniedException":       compose.Denied,
	"UnrecognizedClientException": compose.Denied,
	"InvalidSignatureException":   compose.Denied,
	"IncompleteSignature":         compose.Denied,
	"MissingAuthenticationToken":  compose.Denied,
	"ExpiredTokenException":       compose.Denied,

	"ResourceNotFoundException": compose.Misconfigured,
	"ValidationException":       compose.Misconfigured,

	"ModelNotReadyException":      compose.Unavailable,
	"ModelTimeoutException":       compose.Unavailable,
	"ModelErrorException":         compose.Unavailable,
	"ServiceUnavailableException": compose.Unavailable,
	"InternalServerException":     compose.Unavailable,
}

// badCredentials are the Denied codes that are about the credentials
// themselves rather than what they may do.
var badCredentials = map[string]bool{
	"UnrecognizedClientException": true,
	"InvalidSignatureException":   true,
	"IncompleteSignature":         true,
	"MissingAuthenticationToken":  true,
	"ExpiredTokenException":       true,
}

// rejectsToolChoice reports whether err is Bedrock refusing the request's
// toolChoice for this model ("This model doesn't support the
// toolConfig.toolChoice.tool field. Remove toolConfig.toolChoice.tool and
// try again."), which a looser choice can fix.
func rejectsToolChoice(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
		return false
	}
	msg := strings.ToLower(apiErr.ErrorMessage())
	return strings.Contains(msg, "toolchoice") || strings.Contains(msg, "tool choice") || strings.Contains(msg, "tool_choice")
}

// classify turns an error of Converse into a *compose.ModelError whose
// message names the model and says what to do. Bedrock's own message is
// repeated only where it says what is wrong with the request (validation,
// not found); an access-denied message names the account and role, which
// the operator does not need to read to fix it.
func (m *Model) classify(err error) *compose.ModelError {
	me := &compose.ModelError{Err: err}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		me.Kind = compose.Unavailable
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			me.Message = fmt.Sprintf("model %s did not answer in time: try again, maybe with a shorter request", m.cfg.ModelID)
		case errors.Is(err, context.Canceled):
			me.Message = fmt.Sprintf("the call to model %s was canceled", m.cfg.ModelID)
		default:
			me.Message = fmt.Sprintf("could not reach Bedrock for model %s: try again later", m.cfg.ModelID)
		}
		return me
	}
	code := apiErr.ErrorCode()
	kind, ok := kinds[code]
	if !ok {
		kind = kindOfStatus(httpStatus(err))
	}
	me.Kind = kind
	me.RetryAfter = retryAfter(err)

	id := m.cfg.ModelID
	switch kind {
	case compose.Throttled:
		if code == "ServiceQuotaExceededException" {
			me.Message = fmt.Sprintf("the AWS account has used up its Bedrock quota for model %s: wait for it to reset, or request a higher quota in Service Quotas", id)
		} else {
			me.Message = fmt.Sprintf("Bedrock is throttling requests to model %s: try again in a minute, or request a higher requests- or tokens-per-minute quota for it (a cross-region inference profile also spreads the load)", id)
		}
	case compose.Denied:
		if badCredentials[code] {
			me.Message = fmt.Sprintf("Bedrock refused the function's AWS credentials (%s): check the function's role and region", code)
			break
		}
		me.Message = fmt.Sprintf("the function's role may not invoke model %s: grant it bedrock:InvokeModel on the model (and on the inference profile and the models it routes to, when the id is a profile), and enable access to the model in the Bedrock console", id)
		if m.cfg.GuardrailID != "" {
			me.Message += fmt.Sprintf("; it also needs bedrock:ApplyGuardrail on guardrail %s", m.cfg.GuardrailID)
		}
	case compose.Misconfigured:
		what := fmt.Sprintf("model %s", id)
		if m.cfg.GuardrailID != "" {
			what += fmt.Sprintf(" with guardrail %s version %s", m.cfg.GuardrailID, m.cfg.GuardrailVersion)
		}
		if code == "ResourceNotFoundException" {
			me.Message = fmt.Sprintf("Bedrock found no %s in this region (%s): check the model id or inference profile, the guardrail and the region",
				what, excerpt(apiErr.ErrorMessage()))
		} else {
			me.Message = fmt.Sprintf("Bedrock rejected the request to %s (%s): check the model id (some models need an inference profile) and that the model supports tool use",
				what, excerpt(apiErr.ErrorMessage()))
		}
	default:
		switch code {
		case "ModelNotReadyException":
			me.Message = fmt.Sprintf("model %s is not ready yet: try again in a few minutes", id)
		case "ModelTimeoutException":
			me.Message = fmt.Sprintf("model %s took too long to answer: try again, maybe with a shorter request", id)
		default:
			me.Message = fmt.Sprintf("Bedrock or model %s failed to answer: try again later", id)
		}
	}
	return me
}

// kindOfStatus sorts an error code Bedrock did not document by its HTTP
// status.
func kindOfStatus(status int) compose.ErrorKind {
	switch {
	case status == http.StatusTooManyRequests:
		return compose.Throttled
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return compose.Denied
	case status >= 400 && status < 500:
		return compose.Misconfigured
	default:
		return compose.Unavailable
	}
}

func httpStatus(err error) int {
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

// retryAfter is the wait a Retry-After header asked for, zero without
// one. Bedrock does not normally send it, but a proxy in front of it may.
func retryAfter(err error) time.Duration {
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.Response == nil {
		return 0
	}
	v := strings.TrimSpace(respErr.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0)
	}
	return 0
}

// maxExcerpt bounds the part of Bedrock's message an operator is shown.
const maxExcerpt = 300

// excerpt is Bedrock's message on one line and cut to maxExcerpt bytes.
func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "no details"
	}
	if len(s) <= maxExcerpt {
		return s
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
