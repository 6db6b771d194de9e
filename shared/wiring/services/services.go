// Package services builds, from a wiring.Graph, the services that start
// sends: the send service and the campaign service that runs with it. The
// API (package wiring/api) and the scheduler function share them; the
// scheduler imports only this, not the API.
package services

import (
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/send"
	"github.com/heraldhq/herald/shared/wiring"
)

// Sends is the send service: it prepares and starts every send, from the
// API, a campaign's run or the console.
func Sends(g *wiring.Graph) *send.Sender {
	return wiring.Shared(g, "sends", func() *send.Sender {
		// Without an audience queue the sender refuses filter audiences.
		return &send.Sender{Store: g.Ports.Store, Dispatch: g.Ports.Dispatch, Steps: g.Ports.Audience,
			IDs: g.IDs, Now: g.Now, Log: g.Log, DefaultRegion: g.Config.DefaultRegion}
	})
}

// Campaigns is the campaign service, or nil when there is no scheduler.
func Campaigns(g *wiring.Graph) *campaign.Service {
	return wiring.Shared(g, "campaigns", func() *campaign.Service {
		if g.Ports.Scheduler == nil {
			return nil
		}
		return &campaign.Service{Store: g.Ports.Store, Scheduler: g.Ports.Scheduler, Sender: Sends(g), Repairs: g.Ports.Repairs,
			IDs: g.IDs, Now: g.Now, Log: g.Log}
	})
}
