// Package dispatchtest checks what dispatch leaves behind, for the tests
// of dispatch and of whole sends (the local end-to-end tests): the
// invariant that a notification's counts are its deliveries, and, once a
// send is over, that nothing is left queued and its status is final. Every
// way a dispatch message can end — sent, retried, settled on its last
// receive, dead-lettered and settled, cancelled — must keep it.
package dispatchtest

import (
	"context"
	"fmt"

	"github.com/heraldhq/herald/shared/notify"
)

// Tally counts deliveries by status. Total is n's; Queued is the
// recipients of n not recorded yet (Total less the deliveries).
func Tally(n notify.Notification, ds []notify.Delivery) notify.Counts {
	c := notify.Counts{Total: n.Counts.Total, Queued: n.Counts.Total - int64(len(ds))}
	for _, d := range ds {
		c = c.Add(d.Status.Counts())
	}
	return c
}

// CheckCounts reports, as an error, how n's counts differ from the tally
// of its deliveries ds (all of them): a recipient counted in no status or
// in two, or counted as sent while recorded as failed.
func CheckCounts(n notify.Notification, ds []notify.Delivery) error {
	if want := Tally(n, ds); n.Counts != want {
		return fmt.Errorf("notification %s: counts %+v, but its %d deliveries tally %+v", n.ID, n.Counts, len(ds), want)
	}
	return nil
}

// CheckSettled is CheckCounts for a send that is over: besides, nothing
// is queued (every recipient has a delivery) and the status is final.
func CheckSettled(n notify.Notification, ds []notify.Delivery) error {
	if err := CheckCounts(n, ds); err != nil {
		return err
	}
	if n.Counts.Queued != 0 {
		return fmt.Errorf("notification %s: %d recipients still queued", n.ID, n.Counts.Queued)
	}
	if !n.Status.Final() {
		return fmt.Errorf("notification %s: status %s, want a final one", n.ID, n.Status)
	}
	return nil
}

// Store is what Settled reads.
type Store interface {
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	ListDeliveries(ctx context.Context, workspaceID, notificationID string, status notify.DeliveryStatus, p notify.Page) ([]notify.Delivery, string, error)
}

// Settled reads notification id and all of its deliveries from s and
// checks them with CheckSettled.
func Settled(ctx context.Context, s Store, workspaceID, id string) error {
	n, ds, err := Load(ctx, s, workspaceID, id)
	if err != nil {
		return err
	}
	return CheckSettled(n, ds)
}

// Load reads notification id and all of its deliveries.
func Load(ctx context.Context, s Store, workspaceID, id string) (notify.Notification, []notify.Delivery, error) {
	n, err := s.GetNotification(ctx, workspaceID, id)
	if err != nil {
		return n, nil, fmt.Errorf("load notification %s: %w", id, err)
	}
	var all []notify.Delivery
	p := notify.Page{Limit: notify.MaxPageSize}
	for {
		ds, next, err := s.ListDeliveries(ctx, workspaceID, id, "", p)
		if err != nil {
			return n, nil, fmt.Errorf("list deliveries of %s: %w", id, err)
		}
		all = append(all, ds...)
		if next == "" {
			return n, all, nil
		}
		p.Cursor = next
	}
}
