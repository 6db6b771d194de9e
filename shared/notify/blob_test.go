package notify

import (
	"strings"
	"testing"
)

func TestValidBlobKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"uploads/ws1/upl_1/file.xlsx", true},
		{"reports/ws1/ntf_1=v2.csv", true},
		{"a", true},
		{strings.Repeat("a", 512), true},
		{strings.Repeat("a", 513), false},
		{"", false},
		{"/uploads/x", false},
		{"uploads/x/", false},
		{"uploads//x", false},
		{"uploads/./x", false},
		{"uploads/../x", false},
		{"..", false},
		{"uploads/x y", false},
		{`uploads\x`, false},
		{"uploads/ñ", false},
		{"uploads/x?y", false},
	}
	for _, tt := range tests {
		err := ValidBlobKey(tt.key)
		if ok := err == nil; ok != tt.ok {
			t.Errorf("ValidBlobKey(%q) = %v, want ok %t", tt.key, err, tt.ok)
		}
		if err != nil && !IsCode(err, CodeValidation) {
			t.Errorf("ValidBlobKey(%q) = %v, want a %s error", tt.key, err, CodeValidation)
		}
	}
}
