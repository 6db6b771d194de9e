package webpush

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/heraldhq/herald/shared/channel"
)

// Permanent failure codes, as channel.IsPermanent reports them and as they
// appear in DeviceError.Code.
const (
	// CodeSubscriptionGone: the push service answered 404 or 410; the
	// browser unsubscribed or the subscription expired. Remove it.
	CodeSubscriptionGone = "subscription_gone"
	// CodePayloadTooLarge: the payload exceeds the 4 KB a push service must
	// accept (checked before sending, or 413 from the push service).
	CodePayloadTooLarge = "payload_too_large"
	// CodeInvalidRequest: 400 or another unexpected 4xx.
	CodeInvalidRequest = "invalid_request"
	// CodeVAPIDRejected: 401 or 403; the VAPID JWT or key was refused,
	// typically because the subscription was made with another public key.
	CodeVAPIDRejected = "vapid_rejected"
	// CodeInvalidSubscription: the stored subscription has a malformed
	// endpoint or keys, so nothing was sent.
	CodeInvalidSubscription = "invalid_subscription"
)

// Reasons of a transport failure: the push never reached a push service
// that answered, for a cause that lies with the subscription's endpoint
// rather than with Herald or a push service's load. They are transient
// (DeviceError.Reason, not Code): a retry may pass, but only a bounded
// number of them is worth making, after which the delivery fails with the
// reason (see Error.RecipientReason).
const (
	// ReasonUnreachable: the endpoint's host refused or reset the
	// connection, or no route led to it.
	ReasonUnreachable = "unreachable"
	// ReasonDNSError: the endpoint's host name did not resolve.
	ReasonDNSError = "dns_error"
	// ReasonTLSError: the TLS handshake failed or the endpoint's
	// certificate was not trusted for its name.
	ReasonTLSError = "tls_error"
	// ReasonTimeout: the endpoint did not answer in time.
	ReasonTimeout = "timeout"
)

// DeviceError is why the push to one subscription failed.
type DeviceError struct {
	DeviceID string
	// StatusCode is the push service's answer; zero when there was none
	// (network error, invalid subscription).
	StatusCode int
	// Code is the permanent failure code; empty when retrying may help
	// (429, 5xx, network errors).
	Code string
	// Reason is why a transient failure happened when it concerns this
	// subscription's endpoint alone (ReasonUnreachable, ReasonDNSError,
	// ReasonTLSError, ReasonTimeout); empty for a push service's 429 or
	// 5xx and for permanent failures.
	Reason string
	// RetryAfter is the push service's Retry-After; zero when it gave none.
	RetryAfter time.Duration
	Err        error
}

func (e *DeviceError) Error() string {
	switch {
	case e.Code != "":
		return fmt.Sprintf("device %s: %s: %v", e.DeviceID, e.Code, e.Err)
	case e.Reason != "":
		return fmt.Sprintf("device %s: %s: %v", e.DeviceID, e.Reason, e.Err)
	}
	return fmt.Sprintf("device %s: %v", e.DeviceID, e.Err)
}

func (e *DeviceError) Unwrap() error { return e.Err }

// Error is returned by Send and SendWebPush when no subscription accepted
// the push; it lists every failure. It is wrapped in channel.Permanent when
// every failure is permanent.
type Error struct {
	Devices []*DeviceError
}

// InvalidDevices implements channel.InvalidDevicesError: the devices whose
// subscription is gone.
func (e *Error) InvalidDevices() []string { return GoneDevices(e) }

func (e *Error) Error() string {
	parts := make([]string, len(e.Devices))
	for i, d := range e.Devices {
		parts[i] = d.Error()
	}
	return fmt.Sprintf("web push to %d subscriptions: %s", len(e.Devices), strings.Join(parts, "; "))
}

// Unwrap exposes each device's error, so errors.Is(err, context.Canceled)
// works.
func (e *Error) Unwrap() []error {
	errs := make([]error, len(e.Devices))
	for i, d := range e.Devices {
		errs[i] = d
	}
	return errs
}

// RecipientReason says whether a transient failure lies with the
// recipient's own endpoints rather than with a push service: when every
// subscription failed either permanently or for a transport reason (and
// at least one for a transport reason), it returns the first transport
// reason; otherwise "" (a push service's 429 or 5xx is everyone's
// trouble, retried as such). Dispatch retries such a recipient a bounded
// number of times, then records its delivery failed with this reason, so
// one dead endpoint never holds up the other recipients of its message.
func (e *Error) RecipientReason() string {
	reason := ""
	for _, d := range e.Devices {
		switch {
		case d.Reason != "":
			if reason == "" {
				reason = d.Reason
			}
		case d.Code == "":
			return ""
		}
	}
	return reason
}

// GoneDevices returns the ids of the devices whose subscription is gone
// (404/410) from an error of SendWebPush or Send. When the send succeeded
// the error is nil, so use Send and SendResult.Gone to learn them then.
func GoneDevices(err error) []string {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	var ids []string
	for _, d := range e.Devices {
		if d.Code == CodeSubscriptionGone {
			ids = append(ids, d.DeviceID)
		}
	}
	return ids
}

// RetryAfter reports how long the push service asked to wait (429 or 5xx
// with Retry-After) before a transient error of SendWebPush or Send is
// retried: the longest wait among the subscriptions.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return 0, false
	}
	var wait time.Duration
	for _, d := range e.Devices {
		wait = max(wait, d.RetryAfter)
	}
	return wait, wait > 0
}

// classify turns the failures of a message none of whose pushes was
// accepted into its error: transient if any failure may pass on retry,
// otherwise permanent with the most telling code.
func classify(failed []*DeviceError) error {
	e := &Error{Devices: failed}
	code := ""
	for _, f := range failed {
		switch {
		case f.Code == "":
			return e
		case code == "" || code == CodeSubscriptionGone:
			code = f.Code
		}
	}
	return channel.Permanent(code, e)
}

// statusError classifies a push service's non-2xx answer.
func (s *Sender) statusError(deviceID string, resp *http.Response) *DeviceError {
	e := &DeviceError{DeviceID: deviceID, StatusCode: resp.StatusCode,
		Err: fmt.Errorf("push service answered %d", resp.StatusCode)}
	switch c := resp.StatusCode; {
	case c == http.StatusNotFound || c == http.StatusGone:
		e.Code = CodeSubscriptionGone
	case c == http.StatusRequestEntityTooLarge:
		e.Code = CodePayloadTooLarge
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		e.Code = CodeVAPIDRejected
	case c == http.StatusTooManyRequests || c == http.StatusNotAcceptable || c >= 500:
		// 406 is how Windows Push Notification Services (Edge) throttles.
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), s.now())
	case c >= 400:
		e.Code = CodeInvalidRequest
	}
	return e
}

// retryAfter reads a Retry-After of delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sendError classifies an error that comes before any answer (encrypting,
// signing, sending): an oversized payload is permanent, the rest (network, context)
// transient, with the transport reason when the endpoint is to blame. A
// *url.Error quotes the endpoint, which is the subscription's secret
// token, so only its cause is kept.
func sendError(deviceID string, err error) *DeviceError {
	e := &DeviceError{DeviceID: deviceID, Err: err}
	var ue *url.Error
	switch {
	case errors.Is(err, errPayloadTooLarge):
		e.Code = CodePayloadTooLarge
	case errors.As(err, &ue):
		e.Err = fmt.Errorf("post to push service: %w", ue.Err)
		e.Reason = transportReason(ue.Err)
	default:
		e.Err = fmt.Errorf("encrypt or sign push: %w", err)
	}
	return e
}

// transportReason names what went wrong on the way to the endpoint (a
// failure of the HTTP client is one: no push service answered), or "" when
// the send was cancelled by its caller. A cause it does not recognise (a
// connection closed mid-request, say) is the endpoint's: unreachable. A
// deadline is not told apart here from the HTTP client's own timeout (both
// are context.DeadlineExceeded): the caller, which knows its deadline, does.
func transportReason(err error) string {
	var (
		dnsErr     *net.DNSError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		netErr     net.Error
	)
	switch {
	case errors.Is(err, context.Canceled):
		return ""
	case errors.As(err, &dnsErr):
		return ReasonDNSError
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidErr),
		errors.As(err, &verifyErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		// net/http's word for a plain HTTP server at an https endpoint,
		// which it gives as text only.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return ReasonTLSError
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EPIPE):
		return ReasonUnreachable
	case errors.As(err, &netErr) && netErr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	}
	return ReasonUnreachable
}
