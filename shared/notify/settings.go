package notify

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
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
// (HERALD_CONSOLE_DESTINATIONS, or Home). They hold the browser SDK's
// allowed origins too (PUT /v1/sdk/settings): whoever saves one part keeps
// the other as stored.
type ConsoleSettings struct {
	WorkspaceID  string        `json:"-"`
	Destinations []Destination `json:"destinations"`
	// SDKOrigins are the web origins (https://shop.example) whose pages
	// may call the browser SDK's routes as one of the workspace's users,
	// normalised by NormalizeOrigins; none allows none (but see
	// SDKAllows for the local mode).
	SDKOrigins []string  `json:"sdkOrigins,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt"`
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

// Limits of a workspace's SDK origins: a handful of sites (production,
// staging, a shop and a help centre), each origin the length of a URL's
// start.
const (
	MaxSDKOrigins   = 50
	MaxSDKOriginLen = 256
)

// NormalizeOrigins checks the origins an admin allows the browser SDK
// from and writes each as browsers send the Origin header: a lower-case
// http or https scheme and host, a port only when it is not the scheme's
// default, no path (a trailing slash is dropped), no wildcard. Duplicates
// go. Problems are named field[i]; an empty list is valid (no origin).
func NormalizeOrigins(field string, origins []string) ([]string, error) {
	var bad []FieldError
	if len(origins) > MaxSDKOrigins {
		bad = append(bad, FieldError{Field: field, Problem: fmt.Sprintf("at most %d origins", MaxSDKOrigins)})
	}
	out := []string{}
	for i, o := range origins {
		norm, problem := normalizeOrigin(o)
		if problem != "" {
			bad = append(bad, FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Problem: problem})
			continue
		}
		if !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	if len(bad) > 0 {
		return nil, Invalid(bad...)
	}
	return out, nil
}

// NormalizeOrigin writes a browser's Origin header the way
// NormalizeOrigins stores origins; ok is false when it is no http or https
// origin (such as "null", which sandboxed pages and files send).
func NormalizeOrigin(origin string) (norm string, ok bool) {
	if origin != strings.TrimSpace(origin) || strings.HasSuffix(origin, "/") {
		return "", false
	}
	norm, problem := normalizeOrigin(origin)
	return norm, problem == ""
}

const originProblem = "must be a web origin: http:// or https://, a host and an optional port, with no path, such as https://shop.example"

func normalizeOrigin(o string) (string, string) {
	o = strings.TrimSuffix(strings.TrimSpace(o), "/")
	if o == "" || len(o) > MaxSDKOriginLen {
		return "", fmt.Sprintf("required, at most %d characters", MaxSDKOriginLen)
	}
	if strings.Contains(o, "*") {
		return "", "no wildcards: list each origin"
	}
	for _, r := range o {
		if r > '~' || r <= ' ' {
			return "", "write the host in ASCII (xn-- for international names), as browsers send it"
		}
	}
	u, err := url.Parse(o)
	if err != nil || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || u.Hostname() == "" {
		return "", originProblem
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", originProblem
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 || p[0] == '0' {
			return "", "the port must be from 1 to 65535"
		}
		if !(scheme == "https" && n == 443) && !(scheme == "http" && n == 80) {
			host += ":" + p
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return "", originProblem
	}
	return scheme + "://" + host, ""
}

// SDKAllows reports whether a page of origin (a browser's Origin header)
// may use the browser SDK of the workspace: origin is one of SDKOrigins.
// In the local mode (local), a workspace that lists none allows pages
// served from this machine over http (http://127.0.0.1 and
// http://localhost, any port), so that the demo works before anyone sets
// origins; on AWS an empty list allows none.
func (s ConsoleSettings) SDKAllows(origin string, local bool) bool {
	norm, ok := NormalizeOrigin(origin)
	if !ok {
		return false
	}
	if len(s.SDKOrigins) == 0 && local {
		u, err := url.Parse(norm)
		return err == nil && u.Scheme == "http" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost")
	}
	return slices.Contains(s.SDKOrigins, norm)
}
