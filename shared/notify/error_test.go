package notify

import (
	"errors"
	"fmt"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorCodeThroughWrapping(t *testing.T) {
	notFound := NotFound("template", "tpl_1")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "an *Error", err: notFound, want: CodeNotFound},
		{name: "wrapped with context", err: fmt.Errorf("read template: %w", notFound), want: CodeNotFound},
		{name: "wrapped twice", err: fmt.Errorf("send: %w", fmt.Errorf("read template: %w", Errorf(CodeConflict, "changed"))), want: CodeConflict},
		{name: "joined with others", err: errors.Join(errors.New("disk full"), Invalid()), want: CodeValidation},
		{name: "a plain error", err: errors.New("connection reset"), want: CodeInternal},
		{name: "a plain error naming a code", err: fmt.Errorf("%s: nope", CodeNotFound), want: CodeInternal},
		{name: "nil", err: nil, want: CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.want {
				t.Errorf("ErrorCode(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if tt.err != nil && !IsCode(tt.err, tt.want) {
				t.Errorf("IsCode(%v, %q) = false, want true", tt.err, tt.want)
			}
			if IsCode(tt.err, CodeForbidden) {
				t.Errorf("IsCode(%v, %q) = true, want false", tt.err, CodeForbidden)
			}
		})
	}
	if IsCode(nil, CodeInternal) {
		t.Error("IsCode(nil, internal) = true: no error is no failure")
	}
}

func TestErrorConstructors(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want Error
		text string
	}{
		{
			name: "Errorf formats its message",
			err:  Errorf(CodeRateLimited, "%d requests a second at most", 10),
			want: Error{Code: CodeRateLimited, Message: "10 requests a second at most"},
			text: "rate_limited: 10 requests a second at most",
		},
		{
			name: "NotFound names the kind and the id",
			err:  NotFound("user", "u1"),
			want: Error{Code: CodeNotFound, Message: `user "u1" not found`},
			text: `not_found: user "u1" not found`,
		},
		{
			name: "Invalid says its first problem",
			err:  Invalid(FieldError{Field: "channel", Problem: "must be push"}, FieldError{Field: "body", Problem: "required"}),
			want: Error{Code: CodeValidation, Message: "channel: must be push",
				Details: []FieldError{{Field: "channel", Problem: "must be push"}, {Field: "body", Problem: "required"}}},
			text: "validation_failed: channel: must be push",
		},
		{
			name: "Invalid without details",
			err:  Invalid(),
			want: Error{Code: CodeValidation, Message: "invalid request"},
			text: "validation_failed: invalid request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, *tt.err); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
			if got := tt.err.Error(); got != tt.text {
				t.Errorf("Error() = %q, want %q", got, tt.text)
			}
		})
	}
}

// TestCodesAreDistinctAndMachineReadable: clients switch on the codes, and
// the HTTP layer maps each to one status; two codes with one spelling
// would merge two statuses.
func TestCodesAreDistinctAndMachineReadable(t *testing.T) {
	codes := []string{CodeUnauthorized, CodeForbidden, CodeNotFound, CodeConflict, CodeValidation, CodeBadRequest,
		CodePayloadTooLarge, CodeRateLimited, CodeNotConfigured, CodeInternal, CodeAudienceChanged,
		CodeGenerationFailed, CodeContentBlocked, CodeModelUnavailable, CodeScheduleFailed}
	snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if seen[c] {
			t.Errorf("code %q is used twice", c)
		}
		seen[c] = true
		if !snake.MatchString(c) {
			t.Errorf("code %q is not snake_case", c)
		}
	}
}
