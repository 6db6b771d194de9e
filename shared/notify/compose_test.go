package notify

import (
	"errors"
	"testing"
)

func TestCheckDay(t *testing.T) {
	tests := []struct {
		day string
		ok  bool
	}{
		{"2026-11-21", true},
		{"2024-02-29", true},
		{"2026-02-29", false},
		{"2026-1-21", false},
		{"2026-11-21T00:00:00Z", false},
		{"21/11/2026", false},
		{"", false},
	}
	for _, tt := range tests {
		err := CheckDay("from", tt.day)
		if ok := err == nil; ok != tt.ok {
			t.Errorf("CheckDay(%q) = %v, want ok %t", tt.day, err, tt.ok)
			continue
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeValidation || len(e.Details) != 1 || e.Details[0].Field != "from" {
				t.Errorf("CheckDay(%q) = %#v, want a validation error naming the field from", tt.day, err)
			}
		}
	}
}
