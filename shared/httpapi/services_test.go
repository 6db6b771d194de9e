package httpapi

import (
	"log/slog"
	"time"

	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/inbox"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/profile"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/template"
)

// deps are the services' own ports a test gives beside the store and the
// dispatch queue: the audience queue, a scheduler, a composer.
type deps struct {
	Audience  Enqueuer
	Scheduler notify.Scheduler
	Compose   *compose.Composer
	// DefaultRegion reads phones without a + (the sender's and the user
	// service's); AllowPrivateEndpoints is the user service's test-only
	// switch.
	DefaultRegion         string
	AllowPrivateEndpoints bool
}

// testServer builds the API's services as package wiring does (a test of
// this package cannot import wiring, which imports it), sharing the
// options' clock, ids and log.
func testServer(store notify.Store, queue Enqueuer, d deps, o Options) *Server {
	if o.IDs == nil {
		o.IDs = &notify.IDs{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sends := &send.Sender{Store: store, Dispatch: queue, Steps: d.Audience, IDs: o.IDs, Now: o.Now, Log: o.Log, DefaultRegion: d.DefaultRegion}
	svc := Services{
		Store: store, Sends: sends, Compose: d.Compose,
		Users:     &profile.Service{Store: store, DefaultRegion: d.DefaultRegion, AllowPrivateEndpoints: d.AllowPrivateEndpoints, Now: o.Now},
		Keys:      &apikey.Keys{Store: store, IDs: o.IDs, Now: o.Now},
		Templates: &template.Service{Store: store, IDs: o.IDs, Now: o.Now},
		Inbox:     &inbox.Service{Store: store, Now: o.Now, Log: o.Log},
	}
	if d.Scheduler != nil {
		svc.Campaigns = &campaign.Service{Store: store, Scheduler: d.Scheduler, Sender: sends, IDs: o.IDs, Now: o.Now, Log: o.Log}
	}
	return New(svc, o)
}
