// Package sns delivers text messages and mobile pushes through Amazon SNS:
// SMS with Publish to a phone number, and FCM and APNs pushes with Publish
// to a platform endpoint that is created once per device token and
// remembered on the device (notify.Device.Endpoint, reported back in the
// receipt) and in an EndpointStore. Each endpoint carries its owner in
// CustomUserData, which Endpoints reads back for push feedback.
//
// Every SNS error is turned into an *APIError whose message no longer holds
// the phone number or device token it may have quoted, and is classified:
// channel.Permanent with a short code when retrying cannot help, a plain
// (transient) error otherwise. SNS never says how long to wait after
// throttling (it sends no Retry-After), so there is no wait hint to expose;
// the SDK's retryer and the queue's backoff handle it.
package sns

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/heraldhq/herald/shared/channel"
)

// Permanent error codes this package returns through channel.Permanent.
const (
	// CodeInvalidAddress: SNS refused the phone number.
	CodeInvalidAddress = "invalid_address"
	// CodeOptedOut: the phone number opted out of SMS from the account.
	CodeOptedOut = "opted_out"
	// CodeInvalidToken: the push platform refused the device token; the
	// error holds an *InvalidTokenError naming the devices.
	CodeInvalidToken = "invalid_token"
	// CodeInvalidRequest: SNS refused the request itself (a parameter other
	// than the address, a payload too large).
	CodeInvalidRequest = "invalid_request"
	// CodeNoDevice: the push had no FCM or APNs device to go to.
	CodeNoDevice = "no_device"
)

// APIError is an error answer from SNS. Message is SNS's own message with
// the recipient's phone number or device token replaced by "[redacted]",
// so the error can be logged and stored.
type APIError struct {
	Operation  string // Publish, CreatePlatformEndpoint, GetEndpointAttributes, …
	Code       string // SNS's error code, e.g. EndpointDisabled
	Message    string
	StatusCode int
	RequestID  string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("sns %s: %s", e.Operation, e.Code)
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (http %d", e.StatusCode)
		if e.RequestID != "" {
			s += ", request " + e.RequestID
		}
		s += ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// apiError converts an SDK error into an *APIError with secrets removed
// from its message. Errors that are not SNS answers (network, context) are
// returned wrapped with the operation: they never quote the request body.
func apiError(op string, err error, secrets ...string) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("sns %s: %w", op, err)
	}
	msg := ae.ErrorMessage()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	out := &APIError{Operation: op, Code: ae.ErrorCode(), Message: msg}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		out.StatusCode = re.HTTPStatusCode()
		out.RequestID = re.ServiceRequestID()
	}
	return out
}

// codeOf is the SNS error code of err, or "" when err is not an SNS answer.
func codeOf(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// classify marks err permanent when retrying cannot fix it. invalid is the
// code for a refused parameter (the address for SMS, the request for push).
//
// Authorization, KMS and disabled-platform-application errors stay
// transient on purpose: they are the operator's configuration, and a
// delivery retried after the fix still goes out, where a permanent failure
// would lose it.
func classify(err error, invalid string) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return err // network, context: transient
	}
	switch ae.Code {
	case "InvalidParameter", "ParameterValueInvalid", "InvalidParameterValue", "ValidationException":
		return channel.Permanent(invalid, err)
	case "OptedOut":
		return channel.Permanent(CodeOptedOut, err)
	case "Throttled", "Throttling", "ThrottlingException", "KMSThrottling",
		"InternalError", "InternalFailure", "ServiceUnavailable",
		"AuthorizationError", "InvalidSecurity", "PlatformApplicationDisabled",
		"KMSAccessDenied", "KMSDisabled", "KMSInvalidState", "KMSNotFound", "KMSOptInRequired":
		return err
	}
	if ae.StatusCode == http.StatusBadRequest {
		return channel.Permanent(CodeInvalidRequest, err)
	}
	return err
}
