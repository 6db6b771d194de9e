package notify

import (
	"context"
	"time"
)

// Role is what an operator of the console may do.
type Role string

// Roles, from most to least allowed.
const (
	// RoleAdmin does everything, operators and API keys included.
	RoleAdmin Role = "admin"
	// RoleEditor sends and edits templates and campaigns.
	RoleEditor Role = "editor"
	// RoleViewer reads everything and changes nothing.
	RoleViewer Role = "viewer"
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleEditor || r == RoleViewer }

// Allows reports whether r carries at least want.
func (r Role) Allows(want Role) bool { return r.rank() >= want.rank() && want.Valid() }

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleEditor:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Operator is a person who signs in to the console of one workspace. An
// email belongs to one operator in all of Herald: signing in names no
// workspace.
type Operator struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"-"`
	// Email is stored lower-cased; it is the sign-in name.
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	Role  Role   `json:"role"`
	// PasswordHash is the encoded memory-hard hash (see package operator);
	// empty until the operator chose a password.
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	// LastLoginAt is when the operator last signed in.
	LastLoginAt *time.Time `json:"lastLoginAt,omitempty"`
}

// Session is one signed-in browser. ID is the hash of the cookie's secret,
// never the secret itself.
type Session struct {
	ID          string
	WorkspaceID string
	OperatorID  string
	// CSRF is the token the session's forms carry.
	CSRF      string
	CreatedAt time.Time
	// ExpiresAt ends the session; stores forget it afterwards (TTL) and
	// GetSession answers not_found once it is past.
	ExpiresAt time.Time
}

// TokenKind is what a one-time link does.
type TokenKind string

// One-time link kinds.
const (
	// TokenSetup creates the first admin of a workspace with no operator.
	TokenSetup TokenKind = "setup"
	// TokenInvite creates an operator with Email and Role.
	TokenInvite TokenKind = "invite"
	// TokenReset sets a new password for OperatorID.
	TokenReset TokenKind = "reset"
)

// OperatorToken is a one-time link (setup, invitation, password reset).
// Hash is the hash of the link's secret.
type OperatorToken struct {
	Hash        string
	WorkspaceID string
	Kind        TokenKind
	Email       string
	Role        Role
	OperatorID  string
	// CreatedBy is the operator who issued it (empty for setup).
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuditEntry is one thing an operator (or an API key) did: who, what, to
// what, and how many it reached.
type AuditEntry struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"-"`
	At          time.Time `json:"at"`
	// Actor is who did it: "operator <email>" or "key <name> (<id>)".
	Actor string `json:"actor"`
	// Action is a verb such as notification.send, template.update,
	// key.create, operator.invite.
	Action string `json:"action"`
	// Target is what it was done to (a notification, template, key or
	// operator id, or an email).
	Target string `json:"target,omitempty"`
	// Detail is a short human summary ("push \"Spring offer\"").
	Detail string `json:"detail,omitempty"`
	// Count is how many recipients it reached, when it is a send.
	Count int `json:"count,omitempty"`
}

// Operators keeps the console's operators, their sessions, one-time links
// and the audit trail.
type Operators interface {
	// CreateOperator stores a new operator with its email lower-cased;
	// conflict when that email is taken (in any workspace) or its id
	// exists in its workspace.
	CreateOperator(ctx context.Context, o Operator) error
	// GetOperator reads one operator; not_found for another workspace's.
	GetOperator(ctx context.Context, workspaceID, id string) (Operator, error)
	// GetOperatorByEmail finds the operator with this email, compared
	// lower-cased, in any workspace.
	GetOperatorByEmail(ctx context.Context, email string) (Operator, error)
	// ListOperators lists a workspace's operators, oldest first.
	ListOperators(ctx context.Context, workspaceID string) ([]Operator, error)
	// UpdateOperator applies fn to the stored operator and saves it,
	// retrying on concurrent writes. fn may be called more than once. fn
	// may not change the id, workspace or email (the email is the sign-in
	// name, claimed once): doing so is validation_failed and nothing is
	// written. An error from fn is returned as it is and nothing is
	// written; a missing operator is not_found.
	UpdateOperator(ctx context.Context, workspaceID, id string, fn func(*Operator) error) (Operator, error)
	// DeleteOperator removes the operator and frees its email; their
	// sessions stop working (GetSession answers not_found for them).
	// not_found when it does not exist.
	DeleteOperator(ctx context.Context, workspaceID, id string) error

	// CreateSession stores a session; conflict when its id exists.
	CreateSession(ctx context.Context, s Session) error
	// GetSession finds a session by id; not_found when it is missing,
	// expired (by the store's clock), or its operator is gone.
	GetSession(ctx context.Context, id string) (Session, error)
	// DeleteSession ends one session (a sign-out); a missing one is not
	// an error, so a repeated sign-out succeeds.
	DeleteSession(ctx context.Context, id string) error
	// DeleteOperatorSessions ends every session of one operator (a password
	// reset, a role change, a removal); an operator with none is not an
	// error.
	DeleteOperatorSessions(ctx context.Context, workspaceID, operatorID string) error

	// CreateOperatorToken stores a one-time link; conflict when the hash exists.
	CreateOperatorToken(ctx context.Context, t OperatorToken) error
	// UseOperatorToken consumes a link: it returns the token and deletes it
	// in one step, so that two uses cannot both succeed. not_found when it
	// is missing, used or expired at now.
	UseOperatorToken(ctx context.Context, hash string, now time.Time) (OperatorToken, error)
	// PeekOperatorToken reads a link without consuming it (to show the form
	// it opens); not_found when missing or expired at now.
	PeekOperatorToken(ctx context.Context, hash string, now time.Time) (OperatorToken, error)

	// AppendAudit adds an entry; its ID is a ULID from notify.IDs, and
	// conflict when it exists. Entries are kept: nothing expires them.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit answers a workspace's audit trail, newest first.
	ListAudit(ctx context.Context, workspaceID string, p Page) ([]AuditEntry, string, error)
}
