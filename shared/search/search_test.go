package search

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTerms(t *testing.T) {
	tests := []struct {
		name  string
		texts []string
		want  []string
	}{
		{"accents and case", []string{"Ahorra ENERGÍA hoy"}, []string{"ahorra", "energia", "hoy"}},
		{"polish", []string{"Przypomnienie o wizycie — Łódź"}, []string{"przypomnienie", "o", "wizycie", "lodz"}},
		{"variables are words", []string{"Hola {{name}}", "tu {{name}}"}, []string{"hola", "name", "tu"}},
		{"punctuation splits", []string{"10%-off: today!"}, []string{"10", "off", "today"}},
		{"empty", []string{""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Terms(tt.texts...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Terms(%q) mismatch (-want +got):\n%s", tt.texts, diff)
			}
		})
	}
}

func TestTermsBounded(t *testing.T) {
	text := ""
	for i := 0; i < 200; i++ {
		text += " w" + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if got := len(Terms(text)); got != MaxTerms {
		t.Errorf("len(Terms(200 words)) = %d, want %d", got, MaxTerms)
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		query string
		want  bool
	}{
		{"energia", true},
		{"ENERGÍA ahorra", true},
		{"energia factura", true},
		{"energia luz", false},
		{"", true},
	}
	for _, tt := range tests {
		if got := Matches(Terms(tt.query), "Ahorra energía", "con tu factura solar"); got != tt.want {
			t.Errorf("Matches(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
}
