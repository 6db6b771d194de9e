// Package operator is the service behind the console's people: operator
// accounts with memory-hard password hashes, sign-in with throttling,
// sessions, one-time links (first admin, invitations, password resets) and
// the audit trail. The console is its HTTP adapter; local start-up and the
// admin command use it directly.
package operator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/heraldhq/herald/shared/notify"
)

// Store is what the service keeps: operators, sessions, links and the
// audit trail, and rate windows for sign-in throttling.
type Store interface {
	notify.Operators
	notify.Rates
}

// Service manages operators. Zero durations take the defaults below.
type Service struct {
	Store Store
	IDs   *notify.IDs
	Now   func() time.Time
	Log   *slog.Logger
	// SessionTTL is how long a sign-in lasts (DefaultSessionTTL).
	SessionTTL time.Duration
	// LinkTTL is how long an invitation or reset link works (DefaultLinkTTL).
	LinkTTL time.Duration
}

// Defaults and limits.
const (
	DefaultSessionTTL = 12 * time.Hour
	DefaultLinkTTL    = 72 * time.Hour
	// MinPassword and MaxPassword bound a password's length in bytes.
	MinPassword = 12
	MaxPassword = 256
	// Sign-in attempts allowed per ThrottleWindow: per account from one
	// network address, per account from all of them, and per address on
	// all accounts. Every attempt counts, right or wrong, so a guesser
	// cannot reset the count by succeeding elsewhere.
	AttemptsPerAccount           = 10
	AttemptsPerAccountEverywhere = 100
	AttemptsPerAddress           = 50
	ThrottleWindow               = 15 * time.Minute
)

// rateWorkspace holds sign-in throttling windows: no workspace id has this
// form (ids are letters, digits, _ and -, starting with a letter).
const rateWorkspace = "-operators"

// ErrBadCredentials is what a wrong email or password answers: the same
// error for both, so sign-in does not tell which emails exist.
var ErrBadCredentials = notify.Errorf(notify.CodeUnauthorized, "the email or password is wrong")

// Secret returns a new random secret for a cookie or link (256 bits,
// URL-safe) and the hash the store keeps of it.
func Secret() (secret, hash string) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("operator: read random: %v", err)) // the OS random source does not fail
	}
	secret = base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashSecret(secret)
}

// HashSecret is the hash a store keeps of a session or link secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes),
// which takes ~40 ms on one core here and fits a 256 MB Lambda.
const (
	hashTime    = 2
	hashMemory  = 19 * 1024
	hashThreads = 1
	hashKeyLen  = 32
)

// HashPassword encodes an argon2id hash of password in the PHC string form
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string) string {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		panic(fmt.Sprintf("operator: read random: %v", err))
	}
	key := argon2.IDKey([]byte(password), salt[:], hashTime, hashMemory, hashThreads, hashKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, hashMemory, hashTime, hashThreads,
		base64.RawStdEncoding.EncodeToString(salt[:]), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches an encoded hash; a
// malformed hash matches nothing.
func CheckPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 256*1024 || t == 0 || t > 10 || p == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when an email is unknown, so that a wrong email
// takes as long as a wrong password: HashPassword's parameters, a fixed
// salt and an all-zero key, which no password is known to derive. It is
// written out rather than hashed when the package loads: hashing costs
// ~40 ms of CPU and 19 MiB, which every cold start of the functions that
// link this package (api, compose, ingest) paid before its first request.
var dummyHash = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, hashMemory, hashTime, hashThreads,
	base64.RawStdEncoding.EncodeToString([]byte("herald-no-salt!!")), base64.RawStdEncoding.EncodeToString(make([]byte, hashKeyLen)))

// NormalizeEmail lower-cases and checks an email; the error names field.
func NormalizeEmail(field, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 || !strings.Contains(email[strings.LastIndex(email, "@")+1:], ".") && !strings.HasSuffix(email, "@localhost") {
		return "", notify.Invalid(notify.FieldError{Field: field, Problem: "must be an email address such as ana@example.com"})
	}
	return email, nil
}

// CheckNewPassword holds a new password to the length rules.
func CheckNewPassword(field, password string) error {
	switch {
	case len(password) < MinPassword:
		return notify.Invalid(notify.FieldError{Field: field, Problem: fmt.Sprintf("must be at least %d characters", MinPassword)})
	case len(password) > MaxPassword:
		return notify.Invalid(notify.FieldError{Field: field, Problem: fmt.Sprintf("must be at most %d characters", MaxPassword)})
	}
	return nil
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) sessionTTL() time.Duration {
	if s.SessionTTL > 0 {
		return s.SessionTTL
	}
	return DefaultSessionTTL
}

func (s *Service) linkTTL() time.Duration {
	if s.LinkTTL > 0 {
		return s.LinkTTL
	}
	return DefaultLinkTTL
}

// SignedIn is an operator with a new session; Secret goes in the cookie.
type SignedIn struct {
	Operator notify.Operator
	Session  notify.Session
	Secret   string
}

// SignIn checks an email and password, throttled per account and per
// address (the client's network address), and starts a session.
func (s *Service) SignIn(ctx context.Context, email, password, address string) (SignedIn, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 || len(password) > MaxPassword {
		return SignedIn{}, ErrBadCredentials
	}
	window := s.now().Truncate(ThrottleWindow)
	account := HashSecret(email)
	// The strict limit is per account from one address, so that a guesser
	// elsewhere cannot lock a person out; an account's attempts from every
	// address have a higher ceiling, and an address's attempts on every
	// account another.
	for _, limit := range []struct {
		name string
		n    int
	}{{"signin:" + HashSecret(email+"|"+address), AttemptsPerAccount}, {"signin-account:" + account, AttemptsPerAccountEverywhere}, {"signin-address:" + address, AttemptsPerAddress}} {
		ok, err := s.Store.TakeRate(ctx, rateWorkspace, limit.name, window, limit.n)
		if err != nil {
			return SignedIn{}, fmt.Errorf("sign-in throttle: %w", err)
		}
		if !ok {
			return SignedIn{}, notify.Errorf(notify.CodeRateLimited, "too many sign-in attempts; wait %d minutes and try again, or ask an admin for a password reset link", int(window.Add(ThrottleWindow).Sub(s.now()).Minutes())+1)
		}
	}
	o, err := s.Store.GetOperatorByEmail(ctx, email)
	if notify.IsCode(err, notify.CodeNotFound) {
		CheckPassword(dummyHash, password)
		return SignedIn{}, ErrBadCredentials
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("find operator: %w", err)
	}
	if o.PasswordHash == "" || !CheckPassword(o.PasswordHash, password) {
		return SignedIn{}, ErrBadCredentials
	}
	now := s.now()
	o, err = s.Store.UpdateOperator(ctx, o.WorkspaceID, o.ID, func(op *notify.Operator) error {
		op.LastLoginAt = &now
		return nil
	})
	if err != nil {
		return SignedIn{}, fmt.Errorf("record sign-in: %w", err)
	}
	return s.startSession(ctx, o)
}

func (s *Service) startSession(ctx context.Context, o notify.Operator) (SignedIn, error) {
	secret, id := Secret()
	csrf, _ := Secret()
	now := s.now()
	sess := notify.Session{ID: id, WorkspaceID: o.WorkspaceID, OperatorID: o.ID, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL())}
	if err := s.Store.CreateSession(ctx, sess); err != nil {
		return SignedIn{}, fmt.Errorf("create session: %w", err)
	}
	return SignedIn{Operator: o, Session: sess, Secret: secret}, nil
}

// Session finds the session of a cookie's secret and its operator;
// unauthorized when it is unknown, expired or its operator is gone.
func (s *Service) Session(ctx context.Context, secret string) (notify.Session, notify.Operator, error) {
	expired := notify.Errorf(notify.CodeUnauthorized, "your session has ended; sign in again")
	if secret == "" || len(secret) > 100 {
		return notify.Session{}, notify.Operator{}, expired
	}
	sess, err := s.Store.GetSession(ctx, HashSecret(secret))
	if notify.IsCode(err, notify.CodeNotFound) {
		return sess, notify.Operator{}, expired
	}
	if err != nil {
		return sess, notify.Operator{}, fmt.Errorf("read session: %w", err)
	}
	if !sess.ExpiresAt.After(s.Now()) {
		return sess, notify.Operator{}, expired
	}
	o, err := s.Store.GetOperator(ctx, sess.WorkspaceID, sess.OperatorID)
	if notify.IsCode(err, notify.CodeNotFound) {
		return sess, o, expired
	}
	if err != nil {
		return sess, o, fmt.Errorf("read operator: %w", err)
	}
	return sess, o, nil
}

// SignOut ends the session of a cookie's secret.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	return s.Store.DeleteSession(ctx, HashSecret(secret))
}

// Link is a one-time link's secret and what it does.
type Link struct {
	Secret string
	Token  notify.OperatorToken
}

// SetupLink issues a link that creates the first admin of ws; conflict when
// the workspace has operators already.
func (s *Service) SetupLink(ctx context.Context, ws string) (Link, error) {
	ops, err := s.Store.ListOperators(ctx, ws)
	if err != nil {
		return Link{}, fmt.Errorf("list operators: %w", err)
	}
	if len(ops) > 0 {
		return Link{}, notify.Errorf(notify.CodeConflict, "workspace %s has operators already; an admin invites the others", ws)
	}
	return s.issue(ctx, notify.OperatorToken{WorkspaceID: ws, Kind: notify.TokenSetup, Role: notify.RoleAdmin}, 24*time.Hour)
}

func (s *Service) issue(ctx context.Context, t notify.OperatorToken, ttl time.Duration) (Link, error) {
	secret, hash := Secret()
	now := s.now()
	t.Hash, t.CreatedAt, t.ExpiresAt = hash, now, now.Add(ttl)
	if err := s.Store.CreateOperatorToken(ctx, t); err != nil {
		return Link{}, fmt.Errorf("store link: %w", err)
	}
	return Link{Secret: secret, Token: t}, nil
}

// Invite issues an invitation link for email with role, by an admin.
func (s *Service) Invite(ctx context.Context, by notify.Operator, email string, role notify.Role) (Link, error) {
	if err := mayAdmin(by); err != nil {
		return Link{}, err
	}
	email, err := NormalizeEmail("email", email)
	if err != nil {
		return Link{}, err
	}
	if !role.Valid() {
		return Link{}, notify.Invalid(notify.FieldError{Field: "role", Problem: "must be admin, editor or viewer"})
	}
	if _, err := s.Store.GetOperatorByEmail(ctx, email); err == nil {
		return Link{}, notify.Errorf(notify.CodeConflict, "%s is an operator already", email)
	} else if !notify.IsCode(err, notify.CodeNotFound) {
		return Link{}, fmt.Errorf("find operator: %w", err)
	}
	l, err := s.issue(ctx, notify.OperatorToken{WorkspaceID: by.WorkspaceID, Kind: notify.TokenInvite, Email: email, Role: role, CreatedBy: by.ID}, s.linkTTL())
	if err != nil {
		return Link{}, err
	}
	s.Audit(ctx, notify.AuditEntry{WorkspaceID: by.WorkspaceID, Actor: Actor(by), Action: "operator.invite", Target: email, Detail: "as " + string(role)})
	return l, nil
}

// ResetLink issues a password reset link for an operator, by an admin.
func (s *Service) ResetLink(ctx context.Context, by notify.Operator, id string) (Link, error) {
	if err := mayAdmin(by); err != nil {
		return Link{}, err
	}
	o, err := s.Store.GetOperator(ctx, by.WorkspaceID, id)
	if err != nil {
		return Link{}, err
	}
	l, err := s.issue(ctx, notify.OperatorToken{WorkspaceID: o.WorkspaceID, Kind: notify.TokenReset, Email: o.Email, OperatorID: o.ID, CreatedBy: by.ID}, s.linkTTL())
	if err != nil {
		return Link{}, err
	}
	s.Audit(ctx, notify.AuditEntry{WorkspaceID: by.WorkspaceID, Actor: Actor(by), Action: "operator.reset_link", Target: o.Email})
	return l, nil
}

// PeekLink reads what a link does without using it.
func (s *Service) PeekLink(ctx context.Context, secret string) (notify.OperatorToken, error) {
	if secret == "" || len(secret) > 100 {
		return notify.OperatorToken{}, linkGone
	}
	t, err := s.Store.PeekOperatorToken(ctx, HashSecret(secret), s.Now())
	if notify.IsCode(err, notify.CodeNotFound) {
		return t, linkGone
	}
	return t, err
}

// checkNewOperator holds a link's form to the rules: a good password and
// a short, printable name (trimmed).
func checkNewOperator(name, password string) (string, error) {
	if err := CheckNewPassword("password", password); err != nil {
		return "", err
	}
	name = strings.TrimSpace(name)
	if err := notify.CheckText(name, "name"); err != nil {
		return "", err
	}
	if len(name) > 100 {
		return "", notify.Invalid(notify.FieldError{Field: "name", Problem: "at most 100 characters"})
	}
	return name, nil
}

var linkGone = notify.Errorf(notify.CodeNotFound, "this link was used already or has expired; ask an admin for a new one")

// UseLink consumes a link with the name and password its holder chose and
// signs them in: a setup or invitation creates the operator, a reset sets
// the password (and ends the operator's other sessions).
func (s *Service) UseLink(ctx context.Context, secret, name, password string) (SignedIn, error) {
	name, err := checkNewOperator(name, password)
	if err != nil {
		return SignedIn{}, err
	}
	peek, err := s.PeekLink(ctx, secret)
	if err != nil {
		return SignedIn{}, err
	}
	if peek.Kind == notify.TokenSetup {
		return SignedIn{}, notify.Errorf(notify.CodeBadRequest, "a setup link creates the first admin: use the setup form, which asks for an email")
	}
	if peek.Kind == notify.TokenInvite {
		if name == "" {
			return SignedIn{}, notify.Invalid(notify.FieldError{Field: "name", Problem: "is required"})
		}
		if err := s.emailFree(ctx, peek.Email); err != nil {
			return SignedIn{}, err
		}
	}
	if err := s.stillValid(ctx, peek); err != nil {
		return SignedIn{}, err
	}
	t, err := s.Store.UseOperatorToken(ctx, HashSecret(secret), s.Now())
	if notify.IsCode(err, notify.CodeNotFound) {
		return SignedIn{}, linkGone
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("use link: %w", err)
	}
	hash := HashPassword(password)
	now := s.now()
	switch t.Kind {
	case notify.TokenReset:
		o, err := s.Store.UpdateOperator(ctx, t.WorkspaceID, t.OperatorID, func(o *notify.Operator) error {
			o.PasswordHash, o.UpdatedAt = hash, now
			return nil
		})
		if err != nil {
			return SignedIn{}, err
		}
		if err := s.Store.DeleteOperatorSessions(ctx, o.WorkspaceID, o.ID); err != nil {
			return SignedIn{}, fmt.Errorf("end sessions: %w", err)
		}
		s.Audit(ctx, notify.AuditEntry{WorkspaceID: o.WorkspaceID, Actor: Actor(o), Action: "operator.password_reset", Target: o.Email})
		return s.startSession(ctx, o)
	}
	email := t.Email
	o := notify.Operator{ID: s.IDs.New(now), WorkspaceID: t.WorkspaceID, Email: email, Name: name, Role: t.Role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateOperator(ctx, o); err != nil {
		s.restore(ctx, t)
		return SignedIn{}, err
	}
	s.Audit(ctx, notify.AuditEntry{WorkspaceID: o.WorkspaceID, Actor: Actor(o), Action: "operator.join", Target: o.Email, Detail: "as " + string(o.Role)})
	return s.startSession(ctx, o)
}

// Setup consumes a setup link and creates the first admin with the email,
// name and password they chose.
func (s *Service) Setup(ctx context.Context, secret, email, name, password string) (SignedIn, error) {
	email, err := NormalizeEmail("email", email)
	if err != nil {
		return SignedIn{}, err
	}
	name, err = checkNewOperator(name, password)
	if err != nil {
		return SignedIn{}, err
	}
	peek, err := s.PeekLink(ctx, secret)
	if err != nil {
		return SignedIn{}, err
	}
	if peek.Kind != notify.TokenSetup {
		return SignedIn{}, linkGone
	}
	if ops, err := s.Store.ListOperators(ctx, peek.WorkspaceID); err != nil {
		return SignedIn{}, fmt.Errorf("list operators: %w", err)
	} else if len(ops) > 0 {
		return SignedIn{}, notify.Errorf(notify.CodeConflict, "this workspace has an admin already; sign in, or ask an admin for an invitation")
	}
	if err := s.emailFree(ctx, email); err != nil {
		return SignedIn{}, err
	}
	t, err := s.Store.UseOperatorToken(ctx, HashSecret(secret), s.Now())
	if notify.IsCode(err, notify.CodeNotFound) {
		return SignedIn{}, linkGone
	}
	if err != nil {
		return SignedIn{}, fmt.Errorf("use link: %w", err)
	}
	now := s.now()
	o := notify.Operator{ID: s.IDs.New(now), WorkspaceID: t.WorkspaceID, Email: email, Name: name, Role: notify.RoleAdmin, PasswordHash: HashPassword(password), CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateOperator(ctx, o); err != nil {
		s.restore(ctx, t)
		return SignedIn{}, err
	}
	s.Audit(ctx, notify.AuditEntry{WorkspaceID: o.WorkspaceID, Actor: Actor(o), Action: "operator.setup", Target: o.Email, Detail: "first admin"})
	return s.startSession(ctx, o)
}

// EnsureAdmin creates the admin with email in ws, or sets its password
// when it exists (HERALD_ADMIN_EMAIL and HERALD_ADMIN_PASSWORD at start).
// An email that belongs to another workspace is a conflict.
func (s *Service) EnsureAdmin(ctx context.Context, ws, email, password string) (created bool, err error) {
	email, err = NormalizeEmail("HERALD_ADMIN_EMAIL", email)
	if err != nil {
		return false, err
	}
	if err := CheckNewPassword("HERALD_ADMIN_PASSWORD", password); err != nil {
		return false, err
	}
	now := s.now()
	o, err := s.Store.GetOperatorByEmail(ctx, email)
	switch {
	case err == nil && o.WorkspaceID != ws:
		return false, notify.Errorf(notify.CodeConflict, "%s is an operator of another workspace", email)
	case err == nil:
		if CheckPassword(o.PasswordHash, password) && o.Role == notify.RoleAdmin {
			return false, nil
		}
		_, err = s.Store.UpdateOperator(ctx, ws, o.ID, func(op *notify.Operator) error {
			op.PasswordHash, op.Role, op.UpdatedAt = HashPassword(password), notify.RoleAdmin, now
			return nil
		})
		if err == nil {
			err = s.Store.DeleteOperatorSessions(ctx, ws, o.ID)
		}
		return false, err
	case !notify.IsCode(err, notify.CodeNotFound):
		return false, fmt.Errorf("find operator: %w", err)
	}
	o = notify.Operator{ID: s.IDs.New(now), WorkspaceID: ws, Email: email, Name: "Admin", Role: notify.RoleAdmin, PasswordHash: HashPassword(password), CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateOperator(ctx, o); err != nil {
		return false, err
	}
	return true, nil
}

// SetRole changes an operator's role, by an admin. An admin cannot lower
// their own role (another admin must), so a workspace keeps an admin.
func (s *Service) SetRole(ctx context.Context, by notify.Operator, id string, role notify.Role) (notify.Operator, error) {
	if err := mayAdmin(by); err != nil {
		return notify.Operator{}, err
	}
	if !role.Valid() {
		return notify.Operator{}, notify.Invalid(notify.FieldError{Field: "role", Problem: "must be admin, editor or viewer"})
	}
	if id == by.ID && role != notify.RoleAdmin {
		return notify.Operator{}, notify.Errorf(notify.CodeConflict, "you cannot lower your own role; another admin can")
	}
	var before notify.Role
	o, err := s.Store.UpdateOperator(ctx, by.WorkspaceID, id, func(o *notify.Operator) error {
		before, o.Role, o.UpdatedAt = o.Role, role, s.now()
		return nil
	})
	if err != nil {
		return o, err
	}
	if before != role {
		s.Audit(ctx, notify.AuditEntry{WorkspaceID: by.WorkspaceID, Actor: Actor(by), Action: "operator.role", Target: o.Email, Detail: string(before) + " → " + string(role)})
	}
	return o, nil
}

// Remove deletes an operator, by an admin; not oneself.
func (s *Service) Remove(ctx context.Context, by notify.Operator, id string) error {
	if err := mayAdmin(by); err != nil {
		return err
	}
	if id == by.ID {
		return notify.Errorf(notify.CodeConflict, "you cannot remove yourself; another admin can")
	}
	o, err := s.Store.GetOperator(ctx, by.WorkspaceID, id)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteOperatorSessions(ctx, by.WorkspaceID, id); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	if err := s.Store.DeleteOperator(ctx, by.WorkspaceID, id); err != nil {
		return err
	}
	s.Audit(ctx, notify.AuditEntry{WorkspaceID: by.WorkspaceID, Actor: Actor(by), Action: "operator.remove", Target: o.Email})
	return nil
}

// stillValid refuses a link that its issuer could no longer issue: an
// invitation whose admin was removed or is no longer an admin, and a reset
// link issued before the operator's password or role last changed (so that
// using one reset link, or a new password, voids the older links).
func (s *Service) stillValid(ctx context.Context, t notify.OperatorToken) error {
	if t.CreatedBy != "" {
		by, err := s.Store.GetOperator(ctx, t.WorkspaceID, t.CreatedBy)
		if notify.IsCode(err, notify.CodeNotFound) || err == nil && !by.Role.Allows(notify.RoleAdmin) {
			return linkGone
		}
		if err != nil {
			return fmt.Errorf("read the link's issuer: %w", err)
		}
	}
	if t.Kind == notify.TokenReset {
		o, err := s.Store.GetOperator(ctx, t.WorkspaceID, t.OperatorID)
		if notify.IsCode(err, notify.CodeNotFound) || err == nil && o.UpdatedAt.After(t.CreatedAt) {
			return linkGone
		}
		if err != nil {
			return fmt.Errorf("read the link's operator: %w", err)
		}
	}
	return nil
}

// emailFree is a conflict when an operator has email already: checked
// before a link is used, so that a taken email does not use the link up.
func (s *Service) emailFree(ctx context.Context, email string) error {
	_, err := s.Store.GetOperatorByEmail(ctx, email)
	switch {
	case err == nil:
		return notify.Errorf(notify.CodeConflict, "%s is an operator already; sign in with it, or choose another email", email)
	case notify.IsCode(err, notify.CodeNotFound):
		return nil
	}
	return fmt.Errorf("find operator: %w", err)
}

// restore puts back a link whose use failed after it was consumed (the
// email was taken meanwhile), so that its holder can try again.
func (s *Service) restore(ctx context.Context, t notify.OperatorToken) {
	if err := s.Store.CreateOperatorToken(ctx, t); err != nil && s.Log != nil {
		s.Log.Error("restore operator link", "err", err.Error(), "workspace", t.WorkspaceID, "kind", string(t.Kind))
	}
}

func mayAdmin(o notify.Operator) error {
	if !o.Role.Allows(notify.RoleAdmin) {
		return notify.Errorf(notify.CodeForbidden, "only an admin manages operators")
	}
	return nil
}

// Actor is how an operator appears in the audit trail and as createdBy.
func Actor(o notify.Operator) string { return "operator " + o.Email }

// Audit appends an entry, stamped now. A failure is logged, not returned:
// what was done is done, and the log keeps the record.
func (s *Service) Audit(ctx context.Context, e notify.AuditEntry) {
	now := s.now()
	e.ID, e.At = s.IDs.New(now), now
	if err := s.Store.AppendAudit(ctx, e); err != nil && s.Log != nil {
		s.Log.Error("audit trail", "err", err.Error(), "action", e.Action, "actor", e.Actor, "target", e.Target)
	}
}

// IsUnauthorized reports whether err means the person must sign in.
func IsUnauthorized(err error) bool {
	var e *notify.Error
	return errors.As(err, &e) && e.Code == notify.CodeUnauthorized
}

// RecoveryLink is the admin command's way in to a workspace's console
// (go run ./infra/admin console-link): the setup link while the workspace
// has no operator, else a password reset link for the operator with
// email, for when nobody can sign in any more.
func (s *Service) RecoveryLink(ctx context.Context, ws, email string) (Link, error) {
	ops, err := s.Store.ListOperators(ctx, ws)
	if err != nil {
		return Link{}, fmt.Errorf("list operators: %w", err)
	}
	if len(ops) == 0 {
		return s.SetupLink(ctx, ws)
	}
	if email == "" {
		return Link{}, notify.Errorf(notify.CodeConflict, "workspace %s has operators: name one with -email to get a password reset link", ws)
	}
	email = strings.ToLower(strings.TrimSpace(email))
	for _, o := range ops {
		if o.Email == email {
			l, err := s.issue(ctx, notify.OperatorToken{WorkspaceID: ws, Kind: notify.TokenReset, Email: o.Email, OperatorID: o.ID}, s.linkTTL())
			if err == nil {
				s.Audit(ctx, notify.AuditEntry{WorkspaceID: ws, Actor: "admin command", Action: "operator.reset_link", Target: o.Email})
			}
			return l, err
		}
	}
	return Link{}, notify.Errorf(notify.CodeNotFound, "workspace %s has no operator %s", ws, email)
}
