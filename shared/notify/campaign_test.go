package notify

import (
	"strings"
	"testing"
)

func TestCheckScheduleName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{ScheduleName("cmp_01jd3x"), true},
		{"c-" + strings.Repeat("a", 62), true},
		{"c-" + strings.Repeat("a", 63), false},
		{"a.b_c-D9", true},
		{"", false},
		{"c-cmp 1", false},
		{"c-cmp/1", false},
		{"c-cmp:1", false},
		{"c-cmpñ", false},
	}
	for _, tt := range tests {
		err := CheckScheduleName(tt.name)
		if ok := err == nil; ok != tt.ok {
			t.Errorf("CheckScheduleName(%q) = %v, want ok %t", tt.name, err, tt.ok)
		}
		if err != nil && !IsCode(err, CodeValidation) {
			t.Errorf("CheckScheduleName(%q) = %v, want a %s error, before any request", tt.name, err, CodeValidation)
		}
	}
	if got := ScheduleName("cmp_1"); got != "c-cmp_1" {
		t.Errorf(`ScheduleName("cmp_1") = %q, want "c-cmp_1"`, got)
	}
}
