package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// destinations are the routes the workspace's send form offers, the first
// its default: the list its admins saved, or else the deployment's
// (Options.Destinations: HERALD_CONSOLE_DESTINATIONS, or Home).
func (c *Console) destinations(ctx context.Context, workspaceID string) ([]Destination, error) {
	cs, err := c.svc.Store.GetConsoleSettings(ctx, workspaceID)
	if notify.IsCode(err, notify.CodeNotFound) {
		return c.opts.Destinations, nil
	}
	if err != nil {
		return nil, fmt.Errorf("console settings of %s: %w", workspaceID, err)
	}
	out := make([]Destination, len(cs.Destinations))
	for i, d := range cs.Destinations {
		out[i] = Destination{Route: d.Route, Label: d.Label}
	}
	if len(out) == 0 {
		return c.opts.Destinations, nil
	}
	return out, nil
}

// destinationRow is one row of the destinations form.
type destinationRow struct {
	N            int
	Route, Label string
	Problems     []string
}

type destinationsPage struct {
	Rows []destinationRow
	// Own is true when the workspace saved its own list.
	Own   bool
	Error *notify.Error
}

func (destinationsPage) PageTitle() string { return "Destinations" }

func (c *Console) destinationsPage(w http.ResponseWriter, r *http.Request, s *session, status int, p destinationsPage) error {
	if p.Rows == nil {
		cs, err := c.svc.Store.GetConsoleSettings(r.Context(), s.WorkspaceID)
		if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
			return fmt.Errorf("console settings of %s: %w", s.WorkspaceID, err)
		}
		p.Own = err == nil && len(cs.Destinations) > 0 // settings may hold the SDK's origins alone
		dests, err := c.destinations(r.Context(), s.WorkspaceID)
		if err != nil {
			return err
		}
		for i, d := range dests {
			p.Rows = append(p.Rows, destinationRow{N: i + 1, Route: d.Route, Label: d.Label})
		}
	}
	for range blankRows {
		p.Rows = append(p.Rows, destinationRow{N: len(p.Rows) + 1})
	}
	c.render(w, r, s, status, "settings_destinations", p)
	return nil
}

func (c *Console) destinationSettings(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.destinationsPage(w, r, s, http.StatusOK, destinationsPage{})
}

// saveDestinations replaces the workspace's destinations with the form's
// rows, in order; blank rows and rows marked Remove are left out.
func (c *Console) saveDestinations(w http.ResponseWriter, r *http.Request, s *session) error {
	f := r.PostForm
	var rows []destinationRow
	cs := notify.ConsoleSettings{WorkspaceID: s.WorkspaceID, UpdatedAt: c.opts.Now().UTC().Truncate(time.Millisecond)}
	for i := 1; f.Has("dest" + strconv.Itoa(i) + ".route"); i++ {
		n := strconv.Itoa(i)
		d := notify.Destination{Route: strings.TrimSpace(f.Get("dest" + n + ".route")), Label: strings.TrimSpace(f.Get("dest" + n + ".label"))}
		if f.Get("dest"+n+".remove") != "" || d.Route+d.Label == "" {
			continue
		}
		rows = append(rows, destinationRow{N: len(rows) + 1, Route: d.Route, Label: d.Label})
		cs.Destinations = append(cs.Destinations, d)
	}
	if err := cs.Valid(); err != nil {
		var e *notify.Error
		if !errors.As(err, &e) {
			return err
		}
		shown := *e
		shown.Details = rowProblems(e.Details, "destinations", func(i int, problem string) bool {
			if i >= len(rows) {
				return false
			}
			rows[i].Problems = append(rows[i].Problems, problem)
			return true
		})
		if rows == nil {
			rows = []destinationRow{}
		}
		return c.destinationsPage(w, r, s, e.HTTPStatus(), destinationsPage{Rows: rows, Own: true, Error: &shown})
	}
	// The SDK's allowed origins share the settings (PUT /v1/sdk/settings):
	// saving destinations keeps them.
	switch stored, err := c.svc.Store.GetConsoleSettings(r.Context(), s.WorkspaceID); {
	case err == nil:
		cs.SDKOrigins = stored.SDKOrigins
	case !notify.IsCode(err, notify.CodeNotFound):
		return fmt.Errorf("console settings of %s: %w", s.WorkspaceID, err)
	}
	if err := c.svc.Store.PutConsoleSettings(r.Context(), cs); err != nil {
		return fmt.Errorf("save destinations of %s: %w", s.WorkspaceID, err)
	}
	pairs := make([]string, len(cs.Destinations))
	for i, d := range cs.Destinations {
		pairs[i] = d.Route + "=" + d.Label
	}
	c.svc.Operators.Audit(r.Context(), notify.AuditEntry{WorkspaceID: s.WorkspaceID, Actor: actor(s), Action: "console.destinations", Detail: clip(strings.Join(pairs, ", "), 500)})
	http.Redirect(w, r, "/settings/destinations?done=destinations", http.StatusSeeOther)
	return nil
}

func init() {
	flashes["destinations"] = "Destinations saved: the send form offers them now."
}
