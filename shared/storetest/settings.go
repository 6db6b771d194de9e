package storetest

import (
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// testConsoleSettings: a workspace's console settings are absent until
// saved, come back as saved (order kept, the SDK's origins too), are
// replaced whole, and are the workspace's own.
func testConsoleSettings(t *testing.T, s notify.Store) {
	ctx := t.Context()
	_, err := s.GetConsoleSettings(ctx, wsA)
	wantCode(t, "GetConsoleSettings before any Put", err, notify.CodeNotFound)

	t0 := now()
	get := func(ws string) notify.ConsoleSettings {
		t.Helper()
		cs, err := s.GetConsoleSettings(ctx, ws)
		must(t, "GetConsoleSettings "+ws, err)
		return cs
	}
	first := notify.ConsoleSettings{WorkspaceID: wsA, UpdatedAt: t0, Destinations: []notify.Destination{
		{Route: "offers", Label: "Ofertas"}, {Route: "home", Label: "Inicio"}, {Route: "bills/2026?tab=últimas", Label: "Mis facturas «nuevas»"},
	}, SDKOrigins: []string{"https://www.shop.example", "http://localhost:3000", "https://shop.example"}}
	must(t, "PutConsoleSettings", s.PutConsoleSettings(ctx, first))
	if d := diff(first, get(wsA)); d != "" {
		t.Errorf("GetConsoleSettings after PutConsoleSettings mismatch (-want +got):\n%s", d)
	}
	_, err = s.GetConsoleSettings(ctx, wsB)
	wantCode(t, "GetConsoleSettings of another workspace", err, notify.CodeNotFound)

	second := notify.ConsoleSettings{WorkspaceID: wsA, UpdatedAt: t0.Add(time.Minute), Destinations: []notify.Destination{{Route: "home", Label: "Home"}}}
	must(t, "PutConsoleSettings(replace)", s.PutConsoleSettings(ctx, second))
	if d := diff(second, get(wsA)); d != "" {
		t.Errorf("GetConsoleSettings after a replacing PutConsoleSettings mismatch (-want +got):\n%s", d)
	}

	// The SDK's origins alone (a workspace that never saved destinations).
	other := notify.ConsoleSettings{WorkspaceID: wsB, UpdatedAt: t0, SDKOrigins: []string{"https://b.example"}}
	must(t, "PutConsoleSettings "+wsB, s.PutConsoleSettings(ctx, other))
	if d := diff(other, get(wsB)); d != "" {
		t.Errorf("GetConsoleSettings %s mismatch (-want +got):\n%s", wsB, d)
	}
	if d := diff(second, get(wsA)); d != "" {
		t.Errorf("GetConsoleSettings %s after a Put of %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}
