package operator_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/operator"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newService(t *testing.T) (*operator.Service, *boltstore.Store, *clock) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// Real time: stores compare sessions with their own clock.
	c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	return &operator.Service{Store: store, IDs: &notify.IDs{}, Now: c.Now}, store, c
}

func admin(t *testing.T, s *operator.Service, store *boltstore.Store, ws, email string) notify.Operator {
	t.Helper()
	if _, err := s.EnsureAdmin(context.Background(), ws, email, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	o, err := store.GetOperatorByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPasswordHash(t *testing.T) {
	h := operator.HashPassword("correct horse battery")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id with the expected parameters", h)
	}
	if h == operator.HashPassword("correct horse battery") {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if !operator.CheckPassword(h, "correct horse battery") || operator.CheckPassword(h, "correct horse batterY") {
		t.Fatal("CheckPassword does not tell the right password from a wrong one")
	}
	parts := strings.Split(h, "$")
	for name, bad := range map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuu5Qe0b9Ud3x1y5Jm2o1HcN3Rr0yJmR2e",
		"argon2i":        strings.Replace(h, "argon2id", "argon2i", 1),
		"huge memory":    strings.Join([]string{"", parts[1], parts[2], "m=4194304,t=2,p=1", parts[4], parts[5]}, "$"),
		"zero time":      strings.Join([]string{"", parts[1], parts[2], "m=19456,t=0,p=1", parts[4], parts[5]}, "$"),
		"bad salt":       strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"empty key":      strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], ""}, "$"),
		"other version":  strings.Replace(h, "v=19", "v=16", 1),
		"missing fields": "$argon2id$v=19",
	} {
		if operator.CheckPassword(bad, "correct horse battery") {
			t.Errorf("%s hash %q matched", name, bad)
		}
	}
}

func TestSignInThrottledPerAddress(t *testing.T) {
	s, store, c := newService(t)
	ctx := context.Background()
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: "ws", Name: "ws", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	admin(t, s, store, "ws", "ana@example.com")
	// Guesses spread over many accounts from one address.
	for i := range operator.AttemptsPerAddress {
		_, err := s.SignIn(ctx, fmt.Sprintf("user%d@example.com", i), "guess guess guess", "198.51.100.9")
		if !notify.IsCode(err, notify.CodeUnauthorized) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := s.SignIn(ctx, "ana@example.com", "correct horse battery", "198.51.100.9"); !notify.IsCode(err, notify.CodeRateLimited) {
		t.Fatalf("after %d attempts from one address: %v, want rate_limited", operator.AttemptsPerAddress, err)
	}
	// Another address signs in.
	in, err := s.SignIn(ctx, "ana@example.com", "correct horse battery", "203.0.113.1")
	if err != nil || in.Secret == "" || in.Session.ID != operator.HashSecret(in.Secret) {
		t.Fatalf("sign-in from another address: %+v %v", in, err)
	}
}

func TestSessions(t *testing.T) {
	s, store, c := newService(t)
	ctx := context.Background()
	for _, ws := range []string{"ws", "other"} {
		if err := store.CreateWorkspace(ctx, notify.Workspace{ID: ws, Name: ws, CreatedAt: c.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	a := admin(t, s, store, "ws", "ana@example.com")
	in, err := s.SignIn(ctx, "ANA@example.com ", "correct horse battery", "203.0.113.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, o, err := s.Session(ctx, in.Secret); err != nil || o.ID != a.ID {
		t.Fatalf("fresh session: %+v %v", o, err)
	}
	for name, secret := range map[string]string{"empty": "", "unknown": "nope", "the id, not the secret": in.Session.ID, "long": strings.Repeat("x", 500)} {
		if _, _, err := s.Session(ctx, secret); !operator.IsUnauthorized(err) {
			t.Errorf("%s secret: %v, want unauthorized", name, err)
		}
	}
	c.Add(operator.DefaultSessionTTL)
	if _, _, err := s.Session(ctx, in.Secret); !operator.IsUnauthorized(err) {
		t.Fatalf("session at its expiry: %v, want unauthorized", err)
	}
	// EnsureAdmin with a new password ends the sessions of the old one.
	in, _ = s.SignIn(ctx, "ana@example.com", "correct horse battery", "203.0.113.1")
	if _, err := s.EnsureAdmin(ctx, "ws", "ana@example.com", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Session(ctx, in.Secret); !operator.IsUnauthorized(err) {
		t.Fatalf("session after the password was reset: %v", err)
	}
	if _, err := s.SignIn(ctx, "ana@example.com", "correct horse battery", "203.0.113.1"); !notify.IsCode(err, notify.CodeUnauthorized) {
		t.Fatalf("old password after reset: %v", err)
	}
	// The email of another workspace's admin cannot be taken.
	if _, err := s.EnsureAdmin(ctx, "other", "ana@example.com", "a brand new password"); !notify.IsCode(err, notify.CodeConflict) {
		t.Fatalf("EnsureAdmin of another workspace's email: %v", err)
	}
}

func TestLinks(t *testing.T) {
	s, store, c := newService(t)
	ctx := context.Background()
	for _, ws := range []string{"ws", "other"} {
		if err := store.CreateWorkspace(ctx, notify.Workspace{ID: ws, Name: ws, CreatedAt: c.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	a := admin(t, s, store, "ws", "ana@example.com")
	b := admin(t, s, store, "other", "bob@example.com")
	l, err := s.Invite(ctx, a, "Eve@Example.com", notify.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Invite(ctx, a, "bob@example.com", notify.RoleEditor); !notify.IsCode(err, notify.CodeConflict) {
		t.Fatalf("invitation of an existing operator: %v", err)
	}
	if _, err := s.Invite(ctx, a, "not an email", notify.RoleEditor); !notify.IsCode(err, notify.CodeValidation) {
		t.Fatalf("invitation of a bad email: %v", err)
	}
	// Two uses at once: exactly one joins.
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Go(func() { _, results[i] = s.UseLink(ctx, l.Secret, "Eve", "a long enough password") })
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		if err == nil {
			ok++
		} else if !notify.IsCode(err, notify.CodeNotFound) {
			t.Errorf("a losing use: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses of one link succeeded", ok, len(results))
	}
	eve, err := store.GetOperatorByEmail(ctx, "eve@example.com")
	if err != nil || eve.Role != notify.RoleEditor || eve.WorkspaceID != "ws" {
		t.Fatalf("invited operator: %+v %v", eve, err)
	}
	// An editor manages no one; an admin only their own workspace.
	if _, err := s.Invite(ctx, eve, "x@example.com", notify.RoleAdmin); !notify.IsCode(err, notify.CodeForbidden) {
		t.Fatalf("an editor invites: %v", err)
	}
	if _, err := s.ResetLink(ctx, b, eve.ID); !notify.IsCode(err, notify.CodeNotFound) {
		t.Fatalf("a reset link for another workspace's operator: %v", err)
	}
	if err := s.Remove(ctx, b, eve.ID); !notify.IsCode(err, notify.CodeNotFound) {
		t.Fatalf("removal of another workspace's operator: %v", err)
	}
	// Links expire.
	l, _ = s.Invite(ctx, a, "late@example.com", notify.RoleViewer)
	c.Add(operator.DefaultLinkTTL + time.Second)
	if _, err := s.UseLink(ctx, l.Secret, "Late", "a long enough password"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Fatalf("an expired link: %v", err)
	}
	// A setup link is refused once the workspace has an admin.
	if _, err := s.SetupLink(ctx, "ws"); !notify.IsCode(err, notify.CodeConflict) {
		t.Fatalf("setup link of a workspace with an admin: %v", err)
	}
	entries, _, err := store.ListAudit(ctx, "ws", notify.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Target)
	}
	for _, want := range []string{"operator.invite eve@example.com", "operator.join eve@example.com", "operator.invite late@example.com"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("audit trail lacks %q: %q", want, actions)
		}
	}
}

// A guesser elsewhere cannot lock a person out: the strict limit is per
// account and address.
func TestSignInLockoutIsPerAddress(t *testing.T) {
	s, store, c := newService(t)
	ctx := context.Background()
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: "ws", Name: "ws", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	admin(t, s, store, "ws", "ana@example.com")
	for range operator.AttemptsPerAccount {
		s.SignIn(ctx, "ana@example.com", "guess guess guess", "198.51.100.9")
	}
	if _, err := s.SignIn(ctx, "ana@example.com", "correct horse battery", "198.51.100.9"); !notify.IsCode(err, notify.CodeRateLimited) {
		t.Fatalf("the guesser's address after %d guesses: %v", operator.AttemptsPerAccount, err)
	}
	if _, err := s.SignIn(ctx, "ana@example.com", "correct horse battery", "203.0.113.1"); err != nil {
		t.Fatalf("Ana from her own address: %v", err)
	}
}

// Links die with what issued them: an invitation when its admin is
// removed or demoted, a reset link once the password changed after it.
func TestLinksAreRevoked(t *testing.T) {
	s, store, c := newService(t)
	ctx := context.Background()
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: "ws", Name: "ws", CreatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	a := admin(t, s, store, "ws", "ana@example.com")
	l, _ := s.Invite(ctx, a, "second@example.com", notify.RoleAdmin)
	if _, err := s.UseLink(ctx, l.Secret, "Second", "a long enough password"); err != nil {
		t.Fatal(err)
	}
	second, _ := store.GetOperatorByEmail(ctx, "second@example.com")
	backdoor, _ := s.Invite(ctx, second, "backdoor@example.com", notify.RoleAdmin)
	demoted, _ := s.Invite(ctx, second, "other@example.com", notify.RoleViewer)
	c.Add(time.Millisecond)
	if _, err := s.SetRole(ctx, a, second.ID, notify.RoleViewer); err != nil {
		t.Fatal(err)
	}
	for _, l := range []operator.Link{backdoor, demoted} {
		if _, err := s.UseLink(ctx, l.Secret, "X", "a long enough password"); !notify.IsCode(err, notify.CodeNotFound) {
			t.Errorf("an invitation by a demoted admin: %v", err)
		}
	}
	first, _ := s.ResetLink(ctx, a, second.ID)
	newer, _ := s.ResetLink(ctx, a, second.ID)
	c.Add(time.Millisecond)
	if _, err := s.UseLink(ctx, newer.Secret, "", "another long password"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseLink(ctx, first.Secret, "", "attacker's password!"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Fatalf("an older reset link after a newer one was used: %v", err)
	}
	if err := s.Remove(ctx, a, second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignIn(ctx, "second@example.com", "another long password", "203.0.113.1"); !notify.IsCode(err, notify.CodeUnauthorized) {
		t.Fatalf("a removed operator signs in: %v", err)
	}
}
