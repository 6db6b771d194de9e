package notify

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Destination is an in-app route a push may open, with the label operators
// pick it by in the console's send form.
type Destination struct {
	Route string `json:"route"`
	Label string `json:"label"`
}

// ConsoleSettings are what a workspace's admins set of the console: the
// destinations its send form offers, in order (the first is the form's
// default). A workspace that never saved any has none (GetConsoleSettings
// answers not_found) and the console offers the deployment's default
// (HERALD_CONSOLE_DESTINATIONS, or Home).
type ConsoleSettings struct {
	WorkspaceID  string        `json:"-"`
	Destinations []Destination `json:"destinations"`
	UpdatedAt    time.Time     `json:"updatedAt"`
}

// Limits of a workspace's destinations: a route fits a notification's
// (send.MaxRoute), a label fits a menu.
const (
	MaxDestinations    = 50
	MaxDestinationPath = 512
	MaxDestinationName = 100
)

// Valid checks a workspace's destinations: at least one, at most
// MaxDestinations, each with a route (unique, no spaces or control
// characters) and a label, naming the bad ones as destinations[i].route
// or .label.
func (s ConsoleSettings) Valid() error {
	var bad []FieldError
	add := func(f, p string) { bad = append(bad, FieldError{Field: f, Problem: p}) }
	if len(s.Destinations) == 0 {
		add("destinations", "at least one destination")
	}
	if len(s.Destinations) > MaxDestinations {
		add("destinations", fmt.Sprintf("at most %d destinations", MaxDestinations))
	}
	seen := map[string]bool{}
	for i, d := range s.Destinations {
		f := fmt.Sprintf("destinations[%d]", i)
		switch {
		case d.Route == "" || len(d.Route) > MaxDestinationPath:
			add(f+".route", fmt.Sprintf("required, at most %d characters", MaxDestinationPath))
		case strings.ContainsFunc(d.Route, func(r rune) bool { return unicode.IsSpace(r) || IsBadControl(r) }):
			add(f+".route", "no spaces or control characters")
		case seen[d.Route]:
			add(f+".route", "duplicate route "+d.Route)
		}
		seen[d.Route] = true
		if n := utf8.RuneCountInString(d.Label); strings.TrimSpace(d.Label) == "" || n > MaxDestinationName {
			add(f+".label", fmt.Sprintf("required, at most %d characters", MaxDestinationName))
		} else if strings.ContainsFunc(d.Label, func(r rune) bool { return r < ' ' || IsBadControl(r) }) {
			add(f+".label", "no control characters or line breaks")
		}
	}
	if len(bad) > 0 {
		return Invalid(bad...)
	}
	return nil
}

// Settings keeps what a workspace's admins set in the console.
type Settings interface {
	// GetConsoleSettings returns the workspace's console settings;
	// not_found when it never saved any.
	GetConsoleSettings(ctx context.Context, workspaceID string) (ConsoleSettings, error)
	// PutConsoleSettings replaces them.
	PutConsoleSettings(ctx context.Context, s ConsoleSettings) error
}
