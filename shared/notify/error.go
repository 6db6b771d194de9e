// Package notify holds Herald's domain: the things a workspace sends, to whom,
// and what happened, plus the ports (store, queue) the adapters implement.
// It imports no technology; adapters live in packages named after theirs.
package notify

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error codes are stable and machine readable; the HTTP layer maps each to one
// status in a single table, so every adapter speaks the same language.
const (
	CodeUnauthorized    = "unauthorized"
	CodeForbidden       = "forbidden"
	CodeNotFound        = "not_found"
	CodeConflict        = "conflict"
	CodeValidation      = "validation_failed"
	CodeBadRequest      = "bad_request"
	CodePayloadTooLarge = "payload_too_large"
	CodeRateLimited     = "rate_limited"
	CodeNotConfigured   = "not_configured"
	CodeInternal        = "internal"
	CodeAudienceChanged = "audience_changed"
	// AI composition: the model's answer broke the rules twice; a guardrail
	// blocked the request or the answer; the model failed or timed out.
	CodeGenerationFailed = "generation_failed"
	CodeContentBlocked   = "content_blocked"
	CodeModelUnavailable = "model_unavailable"
	// A campaign is saved but the scheduler did not take its schedule yet.
	CodeScheduleFailed = "schedule_failed"
)

// FieldError names one bad field of a request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// Error is an error a caller may see: its code selects the HTTP status and its
// message is safe to show. Anything else reaching the API is reported as
// "internal" and logged.
type Error struct {
	Code    string
	Message string
	Details []FieldError
	// CurrentCount is the audience's count now, on audience_changed.
	CurrentCount *int
	// RetryAfter, when set, is how long the caller should wait before
	// retrying (the Retry-After header).
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error naming the fields at fault.
func Invalid(details ...FieldError) *Error {
	msg := "invalid request"
	if len(details) > 0 {
		msg = details[0].Field + ": " + details[0].Problem
	}
	return &Error{Code: CodeValidation, Message: msg, Details: details}
}

// NotFound reports a missing item of the named kind.
func NotFound(kind, id string) *Error {
	return Errorf(CodeNotFound, "%s %q not found", kind, id)
}

// ErrorCode returns the code of err, or CodeInternal when err carries none.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool {
	return err != nil && ErrorCode(err) == code
}

// CursorError is err as the answer to a page request: a cursor the store
// refuses (validation or bad request) is the caller's, named cursor, as it
// passed it on from an earlier page.
func CursorError(err error) error {
	if IsCode(err, CodeValidation) || IsCode(err, CodeBadRequest) {
		return Invalid(FieldError{Field: "cursor", Problem: "not a cursor this API returned"})
	}
	return err
}

// statusOf is the one table from error codes to HTTP statuses, used by
// the API and the console alike.
var statusOf = map[string]int{
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeNotFound:         http.StatusNotFound,
	CodeConflict:         http.StatusConflict,
	CodeAudienceChanged:  http.StatusConflict,
	CodeValidation:       http.StatusUnprocessableEntity,
	CodeBadRequest:       http.StatusBadRequest,
	CodePayloadTooLarge:  http.StatusRequestEntityTooLarge,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeNotConfigured:    http.StatusServiceUnavailable,
	CodeInternal:         http.StatusInternalServerError,
	CodeGenerationFailed: http.StatusUnprocessableEntity,
	CodeContentBlocked:   http.StatusUnprocessableEntity,
	CodeModelUnavailable: http.StatusServiceUnavailable,
	CodeScheduleFailed:   http.StatusServiceUnavailable,
}

// HTTPStatus is the HTTP status of e's code (500 for a code it does not
// know).
func (e *Error) HTTPStatus() int {
	if s, ok := statusOf[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}
