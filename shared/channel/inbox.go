package channel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// InboxStore keeps the users' in-app inboxes (the notify.Inbox port's put).
type InboxStore interface {
	PutInbox(ctx context.Context, m notify.InboxMessage) (notify.InboxMessage, bool, error)
}

// Inbox delivers the in-app channel everywhere, on AWS as locally: Herald
// is the destination itself, so the message is written into the user's
// inbox, where the customer's app reads it (the SDK, the API), and the
// delivery is delivered at once. A retried delivery finds the message of
// its notification kept already and lands once.
type Inbox struct {
	store InboxStore
	ids   *notify.IDs
	now   func() time.Time
}

// NewInbox returns the in-app sender writing to store, with message ids
// from ids (ULIDs of their arrival) and times from now.
func NewInbox(store InboxStore, ids *notify.IDs, now func() time.Time) *Inbox {
	return &Inbox{store: store, ids: ids, now: now}
}

// errNoUser refuses an in-app message without a user: an inbox is a
// user's, and a raw address has none.
var errNoUser = errors.New("an in-app message needs a user")

// SendInApp puts m in its user's inbox; the receipt's message id is the
// inbox message's.
func (b *Inbox) SendInApp(ctx context.Context, m InAppMessage) (Receipt, error) {
	if m.UserID == "" {
		return Receipt{}, Permanent(notify.ReasonInvalidAddress, errNoUser)
	}
	at := b.now().UTC().Truncate(time.Millisecond)
	msg := notify.InboxMessage{
		WorkspaceID: m.WorkspaceID, UserID: m.UserID, ID: b.ids.New(at), NotificationID: m.NotificationID,
		Title: m.Title, Body: m.Body, Route: m.Route, Category: m.Category,
		Icon: m.Icon, Image: m.Image, Buttons: m.Buttons, CreatedAt: at,
	}
	kept, _, err := b.store.PutInbox(ctx, msg)
	if err != nil {
		return Receipt{}, fmt.Errorf("inbox of %s: %w", m.NotificationID, err)
	}
	return Receipt{ProviderMessageID: kept.ID, Delivered: true}, nil
}
