package notify

import (
	"context"
	"time"
)

// OutboxEntry is one message a channel "delivered" in local mode, where no
// provider is configured: what would have gone out, to which address.
type OutboxEntry struct {
	// ID is a ULID, so entries list newest first by id; the outbox makes one
	// from CreatedAt when it is empty.
	ID             string `json:"id"`
	WorkspaceID    string `json:"-"`
	NotificationID string `json:"notificationId"`
	// RecipientKey is the delivery's key (Delivery.Key); with the
	// notification and channel it makes an entry unique.
	RecipientKey string            `json:"-"`
	UserID       string            `json:"userId,omitempty"`
	Channel      Channel           `json:"channel"`
	Address      string            `json:"address,omitempty"`
	Title        string            `json:"title,omitempty"`
	Body         string            `json:"body"`
	Route        string            `json:"route,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	// ProviderMessageID is what the delivery records as the provider's id.
	ProviderMessageID string `json:"providerMessageId,omitempty"`
	// Attempts counts the times this message was handed to the outbox: more
	// than 1 means a real provider would have sent it more than once.
	Attempts  int       `json:"attempts"`
	CreatedAt time.Time `json:"createdAt"`
}

// Outbox is where the local mode's channels "deliver" when no provider is
// configured, and where GET /v1/outbox reads. It is a port like the store:
// the channels and the API see this interface, never the embedded adapter
// that implements it, so no Lambda links that adapter.
type Outbox interface {
	// PutOutbox keeps e once per workspace, notification, recipient key and
	// channel; a repeat only increases the stored entry's Attempts.
	PutOutbox(ctx context.Context, e OutboxEntry) error
	// ListOutbox lists a workspace's outbox newest first, optionally only
	// one channel's and one address's (empty matches all).
	ListOutbox(ctx context.Context, workspaceID string, ch Channel, address string, p Page) ([]OutboxEntry, string, error)
}
