package profile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// MaxBatch bounds the users of one Batch call, so one request's work and
// answer stay small.
const MaxBatch = 1000

// DefaultPresenceTTL is how long a user counts as present when the
// caller says active without saying for how long: a page that reports
// presence every minute or so keeps the user present.
const DefaultPresenceTTL = 120 * time.Second

// maxPresenceTTL bounds how long one report keeps a user present (a day).
const maxPresenceTTL = 86400 * time.Second

// WhatsAppWindow is how long after a user's last message WhatsApp lets a
// business answer freely; outside it only approved templates may be sent.
const WhatsAppWindow = notify.WhatsAppWindow

// States of a conversation window (ConversationWindow.State).
const (
	WindowNone    = "none"    // the user never wrote
	WindowOpen    = "open"    // the user wrote within WhatsAppWindow
	WindowExpired = "expired" // the user's last message is older
)

// Store is what the Service needs of the store; notify.Store is one.
// Workspace ids scope every call: another workspace's user is not found.
type Store interface {
	UpsertStore
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error)
	DeleteUser(ctx context.Context, workspaceID, id string) error
	ListUsers(ctx context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error)
}

// Service applies the rules about users; the HTTP API calls it today and
// the operator console will call the same methods. Its errors are
// *notify.Error values whose codes and field names are the API's.
type Service struct {
	Store Store
	// DefaultRegion is the ISO region used to read phone numbers written
	// without an international prefix; empty requires the + prefix.
	DefaultRegion string
	// AllowPrivateEndpoints accepts Web Push subscriptions whose endpoint
	// is not on the public internet (see AddDevice). Test-only: the local
	// runner sets it for a fake push service.
	AllowPrivateEndpoints bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// stamp is the current time as users store it.
func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Put merges in into user id, creating the user when there is none. in.ID,
// when given, must be id (a body naming another user than its path).
func (s *Service) Put(ctx context.Context, workspaceID, id string, in Input) (notify.User, error) {
	if in.ID != nil && *in.ID != id {
		return notify.User{}, notify.Invalid(notify.FieldError{Field: "id", Problem: "must match the id in the path"})
	}
	u, err := Upsert(ctx, s.Store, workspaceID, id, in, s.DefaultRegion, "", s.now())
	if err != nil {
		return notify.User{}, fmt.Errorf("put user %s: %w", id, err)
	}
	return u, nil
}

// BatchResult is what Batch did: how many users it stored, and why it
// skipped the others.
type BatchResult struct {
	Upserted int
	Errors   []BatchError
}

// BatchError is why Batch skipped one user; Index is its place in the
// call, and Message names its fields as users[<index>].<field>.
type BatchError struct {
	Index   int
	Code    string
	Message string
}

// Batch puts many users, each one on its own: a user with a bad field (or
// an id given twice) is reported in the result and the others are still
// stored. Only a store failure fails the whole call.
func (s *Service) Batch(ctx context.Context, workspaceID string, users []Input) (BatchResult, error) {
	if users == nil {
		return BatchResult{}, notify.Invalid(notify.FieldError{Field: "users", Problem: "required"})
	}
	if len(users) > MaxBatch {
		return BatchResult{}, notify.Invalid(notify.FieldError{Field: "users", Problem: fmt.Sprintf("at most %d users per request", MaxBatch)})
	}
	var out BatchResult
	seen := map[string]int{}
	for i, u := range users {
		prefix := fmt.Sprintf("users[%d].", i)
		if u.ID == nil {
			out.Errors = append(out.Errors, BatchError{i, notify.CodeValidation, prefix + "id: required"})
			continue
		}
		if j, dup := seen[*u.ID]; dup {
			out.Errors = append(out.Errors, BatchError{i, notify.CodeValidation, fmt.Sprintf("%sid: duplicate of users[%d]", prefix, j)})
			continue
		}
		seen[*u.ID] = i
		if _, err := Upsert(ctx, s.Store, workspaceID, *u.ID, u, s.DefaultRegion, prefix, s.now()); err != nil {
			code := notify.ErrorCode(err)
			if code == notify.CodeInternal {
				return BatchResult{}, fmt.Errorf("batch user %d: %w", i, err)
			}
			var e *notify.Error
			errors.As(err, &e)
			out.Errors = append(out.Errors, BatchError{i, code, e.Message})
			continue
		}
		out.Upserted++
	}
	return out, nil
}

// Get returns user id.
func (s *Service) Get(ctx context.Context, workspaceID, id string) (notify.User, error) {
	u, err := s.Store.GetUser(ctx, workspaceID, id)
	if err != nil {
		return notify.User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// Delete erases user id with everything personal about them.
func (s *Service) Delete(ctx context.Context, workspaceID, id string) error {
	if err := s.Store.DeleteUser(ctx, workspaceID, id); err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// List returns one page of the users f matches and the cursor of the next.
func (s *Service) List(ctx context.Context, workspaceID string, f notify.UserFilter, p notify.Page) ([]notify.User, string, error) {
	users, next, err := s.Store.ListUsers(ctx, workspaceID, f, p)
	if err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	return users, next, nil
}

// SetPushPermission records what the user's browser or phone answered
// when asked to allow notifications.
func (s *Service) SetPushPermission(ctx context.Context, workspaceID, id string, status notify.PushPermission) (notify.User, error) {
	switch status {
	case notify.PermissionAsk, notify.PermissionAllowed, notify.PermissionBlocked:
	default:
		return notify.User{}, notify.Invalid(notify.FieldError{Field: "status", Problem: "must be ask, allowed or blocked"})
	}
	u, err := s.Store.UpdateUser(ctx, workspaceID, id, func(u *notify.User) error {
		u.PushPermission = status
		u.UpdatedAt = s.stamp()
		return nil
	})
	if err != nil {
		return notify.User{}, fmt.Errorf("set push permission of user %s: %w", id, err)
	}
	return u, nil
}

// Preferences returns the channels and categories user id opted out of
// (or into) and their quiet hours.
func (s *Service) Preferences(ctx context.Context, workspaceID, id string) (notify.Preferences, error) {
	u, err := s.Store.GetUser(ctx, workspaceID, id)
	if err != nil {
		return notify.Preferences{}, fmt.Errorf("get preferences of user %s: %w", id, err)
	}
	return u.Preferences, nil
}

// clockPattern is a time of day, HH:MM on a 24-hour clock.
var clockPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// SetPreferences replaces user id's preferences with p and returns them
// as stored.
func (s *Service) SetPreferences(ctx context.Context, workspaceID, id string, p notify.Preferences) (notify.Preferences, error) {
	if err := notify.CheckText(p, ""); err != nil {
		return notify.Preferences{}, err
	}
	if err := validPreferences(p); err != nil {
		return notify.Preferences{}, err
	}
	u, err := s.Store.UpdateUser(ctx, workspaceID, id, func(u *notify.User) error {
		u.Preferences = p
		u.UpdatedAt = s.stamp()
		return nil
	})
	if err != nil {
		return notify.Preferences{}, fmt.Errorf("set preferences of user %s: %w", id, err)
	}
	return u.Preferences, nil
}

// UpdatePreferences changes user id's preferences with fn, on the stored
// ones and atomically with other writes of the user, and returns the user
// as stored. What fn leaves must be valid preferences (as SetPreferences
// wants); otherwise nothing is stored. The preference page saves its
// switches with it, leaving quiet hours and the categories it does not
// show as they are.
func (s *Service) UpdatePreferences(ctx context.Context, workspaceID, id string, fn func(p *notify.Preferences) error) (notify.User, error) {
	u, err := s.Store.UpdateUser(ctx, workspaceID, id, func(u *notify.User) error {
		if err := fn(&u.Preferences); err != nil {
			return err
		}
		if err := notify.CheckText(u.Preferences, ""); err != nil {
			return err
		}
		if err := validPreferences(u.Preferences); err != nil {
			return err
		}
		u.UpdatedAt = s.stamp()
		return nil
	})
	if err != nil {
		return notify.User{}, fmt.Errorf("update preferences of user %s: %w", id, err)
	}
	return u, nil
}

// Limits of a user's preferences: categories, each of them named with
// 1–64 bytes, with switches by channel.
const (
	MaxPreferenceCategories = 100
	maxCategoryName         = 64
)

const notAChannel = "not a channel: " + notify.ChannelList

func validPreferences(p notify.Preferences) error {
	var bad []notify.FieldError
	for ch := range p.Channels {
		if !ch.Valid() {
			bad = append(bad, notify.FieldError{Field: "channels." + string(ch), Problem: notAChannel})
		}
	}
	if len(p.Categories) > MaxPreferenceCategories {
		bad = append(bad, notify.FieldError{Field: "categories", Problem: fmt.Sprintf("at most %d categories", MaxPreferenceCategories)})
	}
	for c := range p.Categories {
		if c == "" || len(c) > maxCategoryName {
			bad = append(bad, notify.FieldError{Field: "categories", Problem: "names must be 1–64 characters"})
			break
		}
	}
	if len(p.CategoryChannels) > MaxPreferenceCategories {
		bad = append(bad, notify.FieldError{Field: "categoryChannels", Problem: fmt.Sprintf("at most %d categories", MaxPreferenceCategories)})
	}
	for _, c := range slices.Sorted(maps.Keys(p.CategoryChannels)) {
		if c == "" || len(c) > maxCategoryName {
			bad = append(bad, notify.FieldError{Field: "categoryChannels", Problem: "category names must be 1–64 characters"})
			break
		}
		if p.CategoryChannels[c] == nil { // JSON null
			bad = append(bad, notify.FieldError{Field: "categoryChannels." + c, Problem: "must be an object of channels"})
			continue
		}
		for _, ch := range slices.Sorted(maps.Keys(p.CategoryChannels[c])) {
			if !ch.Valid() {
				bad = append(bad, notify.FieldError{Field: "categoryChannels." + c + "." + string(ch), Problem: notAChannel})
			}
		}
	}
	if q := p.QuietHours; q != nil {
		if !clockPattern.MatchString(q.Start) {
			bad = append(bad, notify.FieldError{Field: "quietHours.start", Problem: "must be HH:MM"})
		}
		if !clockPattern.MatchString(q.End) {
			bad = append(bad, notify.FieldError{Field: "quietHours.end", Problem: "must be HH:MM"})
		}
	}
	if len(bad) > 0 {
		return notify.Invalid(bad...)
	}
	return nil
}

// PresenceInput is a presence report as a caller gives it (the body of
// POST /v1/users/{id}/presence): whether the user is using the customer's
// app now, and for how many seconds that holds (DefaultPresenceTTL when
// absent).
type PresenceInput struct {
	Active     *bool `json:"active"`
	TTLSeconds *int  `json:"ttlSeconds"`
}

// Presence is a user's presence as SetPresence recorded it: Until is when
// an active user stops counting as present; nil when not active.
type Presence struct {
	Active bool
	Until  *time.Time
}

// SetPresence records whether user id is present, so that sends asking to
// reach only absent users skip them until the report expires.
func (s *Service) SetPresence(ctx context.Context, workspaceID, id string, in PresenceInput) (Presence, error) {
	if in.Active == nil {
		return Presence{}, notify.Invalid(notify.FieldError{Field: "active", Problem: "required"})
	}
	ttl := DefaultPresenceTTL
	if in.TTLSeconds != nil {
		n := *in.TTLSeconds
		if n < 1 || n > int(maxPresenceTTL/time.Second) {
			return Presence{}, notify.Invalid(notify.FieldError{Field: "ttlSeconds", Problem: "must be from 1 to 86400"})
		}
		ttl = time.Duration(n) * time.Second
	}
	var until *time.Time
	if *in.Active {
		t := s.now().UTC().Add(ttl).Truncate(time.Millisecond)
		until = &t
	}
	_, err := s.Store.UpdateUser(ctx, workspaceID, id, func(u *notify.User) error {
		u.PresenceUntil = until
		return nil
	})
	if err != nil {
		return Presence{}, fmt.Errorf("set presence of user %s: %w", id, err)
	}
	return Presence{Active: *in.Active, Until: until}, nil
}

// PagePresence is a presence report from one page of the customer's web
// app: a browser tab running the SDK, which reports while it is visible
// (heartbeats, Active) and once more when it goes away (not Active). A
// user may have several such pages open, each reporting on its own.
type PagePresence struct {
	Active bool
	// TTL is how long a heartbeat keeps the user present.
	TTL time.Duration
	// LastUntil, on a report of a page going away, is the Until its own
	// last heartbeat was answered with (nil when it sent none, or does
	// not say).
	LastUntil *time.Time
}

// ReportPagePresence records a page's presence report so that one page
// never ends the presence another page keeps up:
//   - a heartbeat makes the user present until now + TTL, or leaves a
//     later end another page's heartbeat set (a page with a short TTL
//     does not cut a longer one short);
//   - a page going away ends the presence only when the stored end is not
//     later than its own last heartbeat's (LastUntil): a later one means
//     another page reported since, and the user stays present until that
//     page's heartbeat runs out or that page goes away in turn. Without
//     LastUntil it ends the presence, as SetPresence does.
//
// It answers the user's presence after the report. The rule holds for
// pages whose heartbeats use the same TTL (the SDK's); a page with a
// shorter one may keep a user present up to its own TTL less than it could.
func (s *Service) ReportPagePresence(ctx context.Context, workspaceID, id string, p PagePresence) (Presence, error) {
	if p.Active && (p.TTL < time.Second || p.TTL > maxPresenceTTL) {
		return Presence{}, notify.Invalid(notify.FieldError{Field: "ttlSeconds", Problem: "must be from 1 to 86400"})
	}
	now := s.now().UTC()
	var out Presence
	_, err := s.Store.UpdateUser(ctx, workspaceID, id, func(u *notify.User) error {
		stored := u.PresenceUntil
		if stored != nil && !stored.After(now) {
			stored = nil // run out: nothing to keep
		}
		switch {
		case p.Active:
			t := now.Add(p.TTL).Truncate(time.Millisecond)
			if stored != nil && stored.After(t) {
				t = *stored
			}
			out = Presence{Active: true, Until: &t}
		case stored != nil && p.LastUntil != nil && stored.After(*p.LastUntil):
			out = Presence{Active: true, Until: stored}
			return errUnchanged // another page's heartbeat came later
		default:
			out = Presence{}
		}
		if equalTimes(u.PresenceUntil, out.Until) {
			return errUnchanged
		}
		u.PresenceUntil = out.Until
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return Presence{}, fmt.Errorf("report page presence of user %s: %w", id, err)
	}
	return out, nil
}

// errUnchanged leaves a user as stored: UpdateUser writes nothing.
var errUnchanged = errors.New("unchanged")

func equalTimes(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// Conversation is the state of a user's conversations on the channels
// that limit when a business may write (WhatsApp's window today).
type Conversation struct {
	WhatsApp ConversationWindow
}

// ConversationWindow is one channel's window: State is WindowNone,
// WindowOpen or WindowExpired, and OpenUntil is set while it is open.
type ConversationWindow struct {
	State     string
	OpenUntil *time.Time
}

// Conversation tells whether free-form WhatsApp messages may reach user
// id now, from the time of the user's last inbound message.
func (s *Service) Conversation(ctx context.Context, workspaceID, id string) (Conversation, error) {
	u, err := s.Store.GetUser(ctx, workspaceID, id)
	if err != nil {
		return Conversation{}, fmt.Errorf("get conversation of user %s: %w", id, err)
	}
	w := ConversationWindow{State: WindowNone}
	if last := u.WhatsAppLastInbound; last != nil {
		until := last.Add(WhatsAppWindow)
		w.State = WindowExpired
		if s.now().Before(until) {
			w.State, w.OpenUntil = WindowOpen, &until
		}
	}
	return Conversation{WhatsApp: w}, nil
}
