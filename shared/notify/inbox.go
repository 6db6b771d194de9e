package notify

import (
	"context"
	"fmt"
	"time"
)

// InboxMessage is one message of a user's in-app inbox: what the in-app
// channel delivered, rendered for that user, with the states the person
// gives it in the customer's app (seen in the list, read, archived). It
// keeps its notification's id, so that reading it can move the delivery.
type InboxMessage struct {
	WorkspaceID string `json:"-"`
	UserID      string `json:"-"`
	// ID is a ULID of CreatedAt: an inbox lists newest first by id.
	ID             string     `json:"id"`
	NotificationID string     `json:"notificationId"`
	Title          string     `json:"title"`
	Body           string     `json:"body"`
	Route          string     `json:"route"`
	Category       string     `json:"category"`
	Icon           string     `json:"icon"`
	Image          string     `json:"image"`
	Buttons        []Button   `json:"buttons"`
	CreatedAt      time.Time  `json:"createdAt"`
	ReadAt         *time.Time `json:"readAt"`
	SeenAt         *time.Time `json:"seenAt"`
	ArchivedAt     *time.Time `json:"archivedAt"`
}

// Unread reports whether the message counts as unread: neither read nor
// archived (archiving puts a message away, read or not).
func (m InboxMessage) Unread() bool { return m.ReadAt == nil && m.ArchivedAt == nil }

// InboxRetention is how long an inbox keeps a message: until the end of
// the 90th day (UTC) after the day it arrived. Whole days let a store
// count a user's unread messages by day and drop a day's count when its
// messages go.
const InboxRetention = 90 * 24 * time.Hour

// InboxHorizon is the oldest arrival time an inbox still shows at now:
// the start of the UTC day InboxRetention before today's. A message that
// arrived before it has expired.
func InboxHorizon(now time.Time) time.Time {
	return now.UTC().Truncate(24 * time.Hour).Add(-InboxRetention)
}

// InboxExpiry is when a message that arrived at created expires: the
// midnight (UTC) that ends its 90th day after the day it arrived.
func InboxExpiry(created time.Time) time.Time {
	return created.UTC().Truncate(24 * time.Hour).Add(InboxRetention + 24*time.Hour)
}

// InboxStatus selects the messages of an inbox a list shows.
type InboxStatus string

// Inbox lists: the unread messages; all that are not archived (the inbox
// a person sees, read or not); the archived ones.
const (
	InboxUnread   InboxStatus = "unread"
	InboxAll      InboxStatus = "all"
	InboxArchived InboxStatus = "archived"
)

// Valid reports whether s is a known list.
func (s InboxStatus) Valid() bool {
	return s == InboxUnread || s == InboxAll || s == InboxArchived
}

// Matches reports whether m belongs to the list s.
func (s InboxStatus) Matches(m InboxMessage) bool {
	switch s {
	case InboxUnread:
		return m.Unread()
	case InboxAll:
		return m.ArchivedAt == nil
	case InboxArchived:
		return m.ArchivedAt != nil
	}
	return false
}

// InboxChange sets or clears the states of a message; a nil field keeps
// its state. Marking a message read marks it seen too: what was read was
// seen.
type InboxChange struct {
	Read     *bool
	Seen     *bool
	Archived *bool
	// At is when the change was made: the time a state is set to.
	At time.Time
}

// Apply returns m with c made, keeping the time of a state already set.
func (c InboxChange) Apply(m InboxMessage) InboxMessage {
	set := func(have **time.Time, on *bool) {
		switch {
		case on == nil:
		case !*on:
			*have = nil
		case *have == nil:
			at := c.At
			*have = &at
		}
	}
	set(&m.ReadAt, c.Read)
	set(&m.SeenAt, c.Seen)
	set(&m.ArchivedAt, c.Archived)
	if m.ReadAt != nil && m.SeenAt == nil {
		at := *m.ReadAt
		m.SeenAt = &at
	}
	return m
}

// InboxState sums a user's inbox up cheaply, without listing it: how many
// unread messages it shows and a version that changes with every write to
// it. A client polling the inbox compares its ETag (InboxState.ETag) and
// reads the list only when it changed.
type InboxState struct {
	// Unread counts the unread messages not expired.
	Unread int
	// Version increases on every write to the inbox (a message put,
	// changed or marked read); 0 for an inbox never written.
	Version int64
	// Latest is the id of the message put last, "" for none.
	Latest string
	// UpdatedAt is when the inbox was last written.
	UpdatedAt time.Time
}

// ETag is the weak entity tag of a user's inbox at now: it changes when a
// write changes the inbox (version, newest message, unread count) and
// once a UTC day, when the oldest messages may expire without a write.
func (s InboxState) ETag(now time.Time) string {
	return fmt.Sprintf(`W/"%d.%s.%d.%d"`, s.Version, s.Latest, s.Unread, now.UTC().Unix()/86400)
}

// Inbox keeps the users' in-app inboxes. One user's inbox is one key
// range, so that a list, a count or a change reads that user alone;
// nothing crosses users or workspaces. Messages expire InboxRetention
// after the day they arrived (InboxExpiry): from then on no method shows,
// counts or changes them, whenever a store frees their space.
type Inbox interface {
	// PutInbox keeps m in its user's inbox unless the inbox holds a
	// message of the same notification already (a retried delivery): it
	// returns the stored message and whether this call stored it. m.ID is
	// a ULID of m.CreatedAt.
	PutInbox(ctx context.Context, m InboxMessage) (InboxMessage, bool, error)
	// ListInbox lists a user's messages of status, newest first.
	ListInbox(ctx context.Context, workspaceID, userID string, status InboxStatus, p Page) ([]InboxMessage, string, error)
	// InboxState sums the user's inbox up; an inbox never written is the
	// zero state, not an error.
	InboxState(ctx context.Context, workspaceID, userID string) (InboxState, error)
	// UpdateInbox makes c on one message and returns it; a missing (or
	// expired) message is not_found.
	UpdateInbox(ctx context.Context, workspaceID, userID, id string, c InboxChange) (InboxMessage, error)
	// MarkInboxRead marks every unread message of the user read (and
	// seen) at at, and returns the messages it marked.
	MarkInboxRead(ctx context.Context, workspaceID, userID string, at time.Time) ([]InboxMessage, error)
}
