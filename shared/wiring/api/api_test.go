package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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

// TestRootServesTheSDK: /sdk/ reaches the SDK's handler, /v1 the API's
// and the rest the console, whatever the Accept header.
func TestRootServesTheSDK(t *testing.T) {
	var got string
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = name })
	}
	root := Root(named("api"), named("sdk"), named("console"))
	for path, want := range map[string]string{"/sdk/v1/config": "sdk", "/sdk/v1/me/inbox": "sdk", "/v1/users": "api", "/sdk": "sdk", "/sdkfoo": "console", "/history": "console"} {
		got = ""
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Accept", "text/html")
		root.ServeHTTP(httptest.NewRecorder(), r)
		if got != want {
			t.Errorf("%s went to %q, want %s", path, got, want)
		}
	}
}

// TestSDKSettings: the SDK signs with Herald's secret and offers the VAPID
// key; only the local mode allows this machine's pages by default, and
// only the api function keeps origins between requests; make run suggests
// polling the inbox every second, AWS every 10 s (DESIGN.md's price).
func TestSDKSettings(t *testing.T) {
	cfg := config.Config{UnsubscribeSecret: "s3cret", VAPID: config.VAPIDConfig{PublicKey: "BPub"}}
	s := &Set{Graph: wiring.New(cfg, wiring.Ports{}, nil)}
	for _, local := range []bool{true, false} {
		o := SDK(s, local).Options()
		if string(o.Secret) != "s3cret" || o.VAPIDPublicKey != "BPub" || o.Local != local || (o.OriginsTTL == 0) != local ||
			(o.InboxPoll == time.Second) != local || (!local && o.InboxPoll != 10*time.Second) {
			t.Errorf("SDK(local %v) options = %+v", local, o)
		}
	}
}
