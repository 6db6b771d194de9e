package whatsapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/channel"
)

// Permanent codes, recorded as the failed delivery's reason. The first two
// are the same words the delivery rules use for the same situations.
const (
	// CodeWindowExpired: free-form text outside the 24-hour customer
	// service window (131047); only a template can reach the user now.
	CodeWindowExpired = "window_expired"
	// CodeInvalidAddress: the number cannot receive WhatsApp messages
	// (131026), is the sender itself (131021), is not on a test number's
	// allowed list (131030), or is not an E.164 number at all.
	CodeInvalidAddress = "invalid_address"
	// CodeTemplateRejected: the template does not exist in that language,
	// is paused or disabled, or the parameters do not fit it (132xxx).
	CodeTemplateRejected = "template_rejected"
	// CodeOptedOut: the user stopped marketing messages from the business
	// (131050).
	CodeOptedOut = "opted_out"
	// CodeProviderDeclined: Meta chose not to deliver (131049, the per-user
	// marketing limit; 130472, an experiment). Meta advises waiting a day or
	// more, longer than a delivery's retries last.
	CodeProviderDeclined = "provider_declined"
	// CodeAuthFailed: the access token is invalid or expired (0, 190, or
	// HTTP 401).
	CodeAuthFailed = "auth_failed"
	// CodePermissionDenied: the token lacks a permission (3, 10, 200-299,
	// 131005, or HTTP 403).
	CodePermissionDenied = "permission_denied"
	// CodeAccountRestricted: the business account or number cannot send
	// (368 policy block, 131031 locked, 131042 payment, 131045 certificate,
	// 133010 not registered, 33 number deleted).
	CodeAccountRestricted = "account_restricted"
	// CodeInvalidRequest: Meta refused the request as malformed (100,
	// 131008, 131009, 131051, 135000, or any other 4xx answer it does not
	// explain with a known code).
	CodeInvalidRequest = "invalid_request"
)

// Error is an error answer of the Cloud API. Permanent ones are returned
// wrapped in a channel.PermanentError (channel.IsPermanent gives the code);
// transient ones (throttling, Meta's own outages, 5xx) are returned bare.
//
// Its message holds the HTTP status, Meta's code, subcode, type, trace id
// and Meta's short message, never error_data.details, which may quote the
// values sent.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Code, Subcode, Type and Message are Meta's error fields; Code is 0
	// and Message empty when the body was not Meta's error JSON.
	Code    int
	Subcode int
	Type    string
	Message string
	// TraceID is Meta's fbtrace_id, for a support ticket.
	TraceID string
	// RetryAfter is how long to wait before sending again through this
	// number, for throttling errors: the Retry-After header when the answer
	// has one, otherwise a hint from Meta's documented limits (see
	// rateLimitHint). Zero when the error is not throttling.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp: cloud api status %d", e.Status)
	if e.Code != 0 || e.Message != "" {
		fmt.Fprintf(&b, ", code %d", e.Code)
	}
	if e.Subcode != 0 {
		fmt.Fprintf(&b, ", subcode %d", e.Subcode)
	}
	if e.Type != "" {
		fmt.Fprintf(&b, ", type %s", e.Type)
	}
	if e.TraceID != "" {
		fmt.Fprintf(&b, ", fbtrace_id %s", e.TraceID)
	}
	if e.Message != "" {
		msg := e.Message
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		b.WriteString(": " + msg)
	}
	return b.String()
}

// RetryAfter reports how long Meta asks to wait before the next send, when
// err is (or wraps) a throttling *Error.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// errorBody is Meta's error answer.
type errorBody struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// apiError turns a non-2xx answer into an *Error, wrapped as permanent when
// retrying cannot help.
func (s *Sender) apiError(resp *http.Response, raw []byte) error {
	e := &Error{Status: resp.StatusCode}
	var body errorBody
	parsed := json.Unmarshal(raw, &body) == nil && body.Error != nil
	if parsed {
		e.Code, e.Subcode, e.Type, e.Message, e.TraceID = body.Error.Code, body.Error.Subcode, body.Error.Type, body.Error.Message, body.Error.FBTraceID
	}
	code, permanent, throttled := classify(resp.StatusCode, e.Code, parsed)
	if permanent {
		return channel.Permanent(code, e)
	}
	// The pair rate limit (131056) is one recipient's: the message comes
	// back for them alone, and nobody else's sends pause.
	if throttled && e.Code != 131056 {
		e.RetryAfter = retryAfterHeader(resp.Header.Get("Retry-After"), s.now())
		if e.RetryAfter == 0 {
			e.RetryAfter = rateLimitHint(e.Code)
		}
	}
	return e
}

// classify decides from Meta's code (when the body had one) and else the
// HTTP status whether an error is permanent, with which code, or transient,
// and whether it is throttling.
func classify(status, code int, parsed bool) (permanentCode string, permanent, throttled bool) {
	if parsed {
		switch {
		case code == 131047:
			return CodeWindowExpired, true, false
		case code == 131026, code == 131021, code == 131030:
			return CodeInvalidAddress, true, false
		case code >= 132000 && code <= 132999:
			return CodeTemplateRejected, true, false
		case code == 131050:
			return CodeOptedOut, true, false
		case code == 131049, code == 130472:
			return CodeProviderDeclined, true, false
		case code == 190, code == 0 && status == http.StatusUnauthorized:
			return CodeAuthFailed, true, false
		case code == 3, code == 10, code >= 200 && code <= 299, code == 131005:
			return CodePermissionDenied, true, false
		case code == 368, code == 131031, code == 131042, code == 131045, code == 133010, code == 33:
			return CodeAccountRestricted, true, false
		case code == 100, code == 131008, code == 131009, code == 131051, code == 135000:
			return CodeInvalidRequest, true, false
		case rateLimitHint(code) > 0:
			return "", false, true
		case code == 1, code == 2, code == 131000, code == 131016, code == 131057, code == 133004:
			// Meta's unknown error, service outage, "something went
			// wrong", service unavailable, maintenance: retry.
			return "", false, false
		}
	}
	switch {
	case status == http.StatusUnauthorized:
		return CodeAuthFailed, true, false
	case status == http.StatusForbidden:
		return CodePermissionDenied, true, false
	case status == http.StatusTooManyRequests:
		return "", false, true
	case status == http.StatusRequestTimeout:
		return "", false, false
	case status >= 400 && status <= 499:
		return CodeInvalidRequest, true, false
	}
	return "", false, false
}

// rateLimitHint is how long to wait after a throttling code when the answer
// has no Retry-After, from Meta's documented limits; 0 for other codes.
func rateLimitHint(code int) time.Duration {
	switch code {
	case 130429: // Cloud API throughput (messages per second per number).
		return time.Second
	case 131056: // Pair rate limit: about one message every 6 s to one user (no channel pause: see apiError).
		return 6 * time.Second
	case 4, 80007: // App and business account call limits, counted per hour.
		return time.Minute
	case 131048: // Spam rate limit: quality-based, lifts slowly.
		return 5 * time.Minute
	}
	return 0
}

// retryAfterHeader reads a Retry-After header: delay-seconds or an
// HTTP-date. It returns 0 when the header is missing, malformed or past.
func retryAfterHeader(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
