package api

import (
	"testing"

	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/wiring"
	"github.com/heraldhq/herald/shared/wiring/services"
)

// TestSettingsReachTheServices: the settings the API's rules depend on
// reach the services that hold the rules, and the services are shared.
func TestSettingsReachTheServices(t *testing.T) {
	for _, private := range []bool{false, true} {
		cfg := config.Config{DefaultRegion: "ES", TestAllowPrivateEndpoints: private}
		s := &Set{Graph: wiring.New(cfg, wiring.Ports{}, nil)}
		if u := Users(s); u.AllowPrivateEndpoints != private || u.DefaultRegion != "ES" {
			t.Errorf("TestAllowPrivateEndpoints %v: users service has AllowPrivateEndpoints %v, DefaultRegion %q; want %v, ES",
				private, u.AllowPrivateEndpoints, u.DefaultRegion, private)
		}
		if got := services.Sends(s.Graph).DefaultRegion; got != "ES" {
			t.Errorf("sends DefaultRegion = %q, want ES", got)
		}
		if first, again := services.Sends(s.Graph), services.Sends(s.Graph); first != again {
			t.Error("two sends services in one graph, want one shared")
		}
		if services.Campaigns(s.Graph) != nil {
			t.Error("a campaign service without a scheduler, want nil (the routes answer not_configured)")
		}
	}
}
