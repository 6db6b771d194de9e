package ses

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/heraldhq/herald/shared/channel"
)

// Reasons of the permanent errors SendEmail returns (channel.PermanentError
// codes). Every other error is transient.
const (
	// CodeInvalidAddress: the recipient is not an address SES can send to.
	CodeInvalidAddress = "invalid_address"
	// CodeRejected: SES refused the message (MessageRejected: a virus, an
	// unverified identity in the sandbox, a suppressed address).
	CodeRejected = "rejected"
	// CodeBadRequest: SES found the request invalid for a reason other
	// than the address.
	CodeBadRequest = "bad_request"
	// CodeNotConfigured: the configuration set does not exist or the
	// unsubscribe URL is unusable.
	CodeNotConfigured = "not_configured"
	// CodeSenderNotVerified: the MAIL FROM domain of the sender is not
	// verified.
	CodeSenderNotVerified = "sender_not_verified"
	// CodeAccountSuspended: AWS has stopped the account sending email.
	CodeAccountSuspended = "account_suspended"
	// CodeSendingPaused: sending is paused for the account or the
	// configuration set.
	CodeSendingPaused = "sending_paused"
)

// permanentCodes maps the SES error codes retrying cannot fix to reasons.
// BadRequestException is decided in classify, by its message.
var permanentCodes = map[string]string{
	"MessageRejected":                    CodeRejected,
	"MailFromDomainNotVerifiedException": CodeSenderNotVerified,
	"AccountSuspendedException":          CodeAccountSuspended,
	"SendingPausedException":             CodeSendingPaused,
	"NotFoundException":                  CodeNotConfigured,
}

// addressProblem matches the BadRequestException messages SES gives for an
// address it cannot parse ("Missing final '@domain'", "Illegal address",
// "Domain contains illegal character", "Local address contains control or
// whitespace").
var addressProblem = regexp.MustCompile(`(?i)address|domain`)

// classify turns an error of sesv2.Client.SendEmail into Herald's: permanent
// for the codes in permanentCodes and for BadRequestException, transient for
// everything else: TooManyRequestsException, LimitExceededException,
// throttling, 5xx answers, network errors and unknown codes.
func classify(err error) error {
	wrapped := &sendError{err: err}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		wrapped.msg = "ses send email: " + redact(err.Error())
		return wrapped
	}
	code := apiErr.ErrorCode()
	wrapped.msg = fmt.Sprintf("ses send email: %s: %s", code, redact(apiErr.ErrorMessage()))
	if reason, ok := permanentCodes[code]; ok {
		return channel.Permanent(reason, wrapped)
	}
	if code == "BadRequestException" {
		if addressProblem.MatchString(apiErr.ErrorMessage()) {
			return channel.Permanent(CodeInvalidAddress, wrapped)
		}
		return channel.Permanent(CodeBadRequest, wrapped)
	}
	return wrapped
}

// sendError is an SES error with a message free of email addresses: SES
// names the unverified identities, recipients among them, in its messages.
// It unwraps to the SDK's error, so errors.As still finds smithy.APIError.
type sendError struct {
	msg string
	err error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

var emailLike = regexp.MustCompile(`[^\s<>(),;:"'\[\]]+@[^\s<>(),;:"'\[\]]+`)

// redact removes anything that looks like an email address from s.
func redact(s string) string {
	return emailLike.ReplaceAllString(s, "[address]")
}

// RetryAfter reports how long SES asked to wait before a retry, from the
// Retry-After header of a throttled (429) or unavailable (503) answer. SES
// does not normally send one, so false means "use the queue's backoff";
// SES's own guidance for a throttled account is to wait up to ten minutes.
func RetryAfter(err error) (time.Duration, bool) {
	var respErr *smithyhttp.ResponseError
	if !errors.As(err, &respErr) || respErr.Response == nil {
		return 0, false
	}
	status := respErr.HTTPStatusCode()
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(respErr.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}
