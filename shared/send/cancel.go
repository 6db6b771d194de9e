package send

import (
	"context"

	"github.com/heraldhq/herald/shared/notify"
)

// Canceller is what Cancel changes.
type Canceller interface {
	GetNotification(ctx context.Context, workspaceID, id string) (notify.Notification, error)
	SetNotificationStatus(ctx context.Context, workspaceID, id string, to notify.Status, from ...notify.Status) (notify.Notification, error)
}

// Cancel stops a notification that is scheduled, queued or sending: what is
// not yet dispatched is not sent. A notification past those states is a
// conflict that says which state it is in. The caller stops a scheduled
// send's schedule too (campaign.Service.CancelSend); cancelled alone keeps
// it from sending. The API's cancel route and the console's Undo and
// Cancel buttons both come here.
func Cancel(ctx context.Context, store Canceller, ws, id string) (notify.Notification, error) {
	n, err := store.SetNotificationStatus(ctx, ws, id, notify.StatusCancelled, notify.StatusScheduled, notify.StatusQueued, notify.StatusSending)
	if notify.IsCode(err, notify.CodeConflict) {
		cur, gerr := store.GetNotification(ctx, ws, id)
		if gerr != nil {
			return n, gerr
		}
		return n, notify.Errorf(notify.CodeConflict, "notification %s is %s and can no longer be cancelled", id, cur.Status)
	}
	return n, err
}

// Cancellable reports whether a notification in status st can still be
// cancelled.
func Cancellable(st notify.Status) bool {
	return st == notify.StatusScheduled || st == notify.StatusQueued || st == notify.StatusSending
}
