package httpapi

import (
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// A write answers only what its caller may read. A key with the send scope
// but not read may change a user, cancel a send or pause a campaign, but
// what the store holds about them (a profile's email, phone and
// attributes, a send's audience and text) is read data: writing an empty
// change must not be a way to read it. Such a key gets a receipt instead.

// receipt is a write's answer to a key that may not read what it wrote to:
// which item, and its state now.
type receipt struct {
	ID        string     `json:"id"`
	Status    string     `json:"status,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

// reads reports whether k may read what it writes.
func reads(k notify.APIKey) bool { return k.Allows(notify.ScopeRead) }

// userAnswer is the answer of a write to user u.
func userAnswer(k notify.APIKey, u notify.User) any {
	if !reads(k) {
		at := u.UpdatedAt
		return receipt{ID: u.ID, UpdatedAt: &at}
	}
	return userView(u)
}
