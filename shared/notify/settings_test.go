package notify

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConsoleSettingsValid(t *testing.T) {
	d := func(route, label string) Destination { return Destination{Route: route, Label: label} }
	many := make([]Destination, MaxDestinations+1)
	for i := range many {
		many[i] = d("r"+strings.Repeat("x", i), "R")
	}
	tests := []struct {
		name string
		dest []Destination
		want []string // the fields named, in order; none when valid
	}{
		{"one", []Destination{d("home", "Home")}, nil},
		{"paths and unicode labels", []Destination{d("bills/2026?tab=last", "Mis facturas «nuevas»"), d("home", "Inicio")}, nil},
		{"none", nil, []string{"destinations"}},
		{"too many", many, []string{"destinations"}},
		{"empty route and label", []Destination{d("", " ")}, []string{"destinations[0].route", "destinations[0].label"}},
		{"route with a space", []Destination{d("my bills", "Bills")}, []string{"destinations[0].route"}},
		{"route with a control character", []Destination{d("bills\x1b", "Bills")}, []string{"destinations[0].route"}},
		{"duplicate route", []Destination{d("home", "Home"), d("home", "Start")}, []string{"destinations[1].route"}},
		{"long route", []Destination{d(strings.Repeat("r", MaxDestinationPath+1), "R")}, []string{"destinations[0].route"}},
		{"long label", []Destination{d("home", strings.Repeat("é", MaxDestinationName+1))}, []string{"destinations[0].label"}},
		{"label with a line break", []Destination{d("home", "Ho\nme")}, []string{"destinations[0].label"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ConsoleSettings{Destinations: tt.dest}.Valid()
			var got []string
			var e *Error
			if errors.As(err, &e) {
				if e.Code != CodeValidation {
					t.Fatalf("Valid() code = %s, want %s", e.Code, CodeValidation)
				}
				for _, fe := range e.Details {
					got = append(got, fe.Field)
				}
			} else if err != nil {
				t.Fatalf("Valid() = %v, want a *Error", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Valid() fields (-want +got):\n%s", d)
			}
		})
	}
}
