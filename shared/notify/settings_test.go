package notify

import (
	"errors"
	"slices"
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

func TestNormalizeOrigins(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
		bad  []string // the fields named when invalid
	}{
		{"none", nil, []string{}, nil},
		{"as browsers send them", []string{"https://shop.example", "http://localhost:3000"}, []string{"https://shop.example", "http://localhost:3000"}, nil},
		{"case, slash and default ports", []string{" HTTPS://Shop.Example/ ", "https://shop.example:443", "http://a.example:80", "https://b.example:8443"},
			[]string{"https://shop.example", "http://a.example", "https://b.example:8443"}, nil},
		{"ipv6", []string{"http://[::1]:8080"}, []string{"http://[::1]:8080"}, nil},
		{"a path", []string{"https://shop.example/app"}, nil, []string{"o[0]"}},
		{"a query", []string{"https://shop.example?x=1"}, nil, []string{"o[0]"}},
		{"no scheme", []string{"shop.example"}, nil, []string{"o[0]"}},
		{"another scheme", []string{"ftp://shop.example"}, nil, []string{"o[0]"}},
		{"a wildcard", []string{"https://*.shop.example"}, nil, []string{"o[0]"}},
		{"user info", []string{"https://ana@shop.example"}, nil, []string{"o[0]"}},
		{"unicode host", []string{"https://tienda.españa"}, nil, []string{"o[0]"}},
		{"bad port", []string{"https://shop.example:99999", "https://shop.example:"}, nil, []string{"o[0]", "o[1]"}},
		{"blank and null", []string{" ", "null"}, nil, []string{"o[0]", "o[1]"}},
		{"too many", slices.Repeat([]string{"https://shop.example"}, MaxSDKOrigins+1), nil, []string{"o"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeOrigins("o", tt.in)
			var fields []string
			var e *Error
			if errors.As(err, &e) {
				for _, fe := range e.Details {
					fields = append(fields, fe.Field)
				}
			} else if err != nil {
				t.Fatalf("NormalizeOrigins() = %v, want a *Error", err)
			}
			if d := cmp.Diff(tt.bad, fields); d != "" {
				t.Errorf("NormalizeOrigins(%q) fields (-want +got):\n%s", tt.in, d)
			}
			if d := cmp.Diff(tt.want, got); err == nil && d != "" {
				t.Errorf("NormalizeOrigins(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestSDKAllows(t *testing.T) {
	listed := ConsoleSettings{SDKOrigins: []string{"https://shop.example", "http://localhost:3000"}}
	tests := []struct {
		name   string
		s      ConsoleSettings
		origin string
		local  bool
		want   bool
	}{
		{"listed", listed, "https://shop.example", false, true},
		{"listed with a port", listed, "http://localhost:3000", false, true},
		{"another port of a listed host", listed, "http://localhost:3001", true, false},
		{"another scheme of a listed host", listed, "http://shop.example", false, false},
		{"a subdomain", listed, "https://www.shop.example", false, false},
		{"a lookalike", listed, "https://shop.example.evil.example", false, false},
		{"null", listed, "null", false, false},
		{"with a path", listed, "https://shop.example/", false, false},
		{"empty origin", listed, "", true, false},
		{"none listed on AWS", ConsoleSettings{}, "http://localhost:8080", false, false},
		{"none listed locally: localhost", ConsoleSettings{}, "http://localhost:8080", true, true},
		{"none listed locally: 127.0.0.1", ConsoleSettings{}, "http://127.0.0.1:5173", true, true},
		{"none listed locally: no port", ConsoleSettings{}, "http://localhost", true, true},
		{"none listed locally: https", ConsoleSettings{}, "https://localhost:8443", true, false},
		{"none listed locally: another host", ConsoleSettings{}, "http://shop.example", true, false},
		{"none listed locally: a lookalike", ConsoleSettings{}, "http://localhost.evil.example", true, false},
		{"listed locally: the defaults go", listed, "http://127.0.0.1:8080", true, false},
	}
	for _, tt := range tests {
		if got := tt.s.SDKAllows(tt.origin, tt.local); got != tt.want {
			t.Errorf("%s: SDKAllows(%q, local %v) = %v, want %v", tt.name, tt.origin, tt.local, got, tt.want)
		}
	}
}
