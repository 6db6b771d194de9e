package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// newOperator is an operator who signed in once, with every field set.
func newOperator(ws, id, email string, at time.Time) notify.Operator {
	return notify.Operator{
		ID:           id,
		WorkspaceID:  ws,
		Email:        email,
		Name:         "Ana Pérez",
		Role:         notify.RoleEditor,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
		CreatedAt:    at,
		UpdatedAt:    at.Add(time.Second),
		LastLoginAt:  ptr(at.Add(time.Minute)),
	}
}

func createOperator(t *testing.T, s notify.Store, o notify.Operator) {
	t.Helper()
	must(t, "CreateOperator "+o.ID, s.CreateOperator(t.Context(), o))
}

// wantOperator checks that GetOperator finds want.
func wantOperator(t *testing.T, s notify.Store, what string, want notify.Operator) {
	t.Helper()
	got, err := s.GetOperator(t.Context(), want.WorkspaceID, want.ID)
	must(t, what+": GetOperator "+want.ID, err)
	if d := diff(want, got); d != "" {
		t.Errorf("%s: GetOperator(%q) mismatch (-want +got):\n%s", what, want.ID, d)
	}
}

func newSession(ws, operatorID, id string, at time.Time) notify.Session {
	return notify.Session{
		ID: id, WorkspaceID: ws, OperatorID: operatorID, CSRF: "csrf-" + id,
		CreatedAt: at, ExpiresAt: at.Add(12 * time.Hour),
	}
}

func createSession(t *testing.T, s notify.Store, sess notify.Session) {
	t.Helper()
	must(t, "CreateSession "+sess.ID, s.CreateSession(t.Context(), sess))
}

// sessionAlive reports whether GetSession finds id, failing the test on an
// error other than not_found and on a session other than want.
func sessionAlive(t *testing.T, s notify.Store, want notify.Session) bool {
	t.Helper()
	got, err := s.GetSession(t.Context(), want.ID)
	if notify.IsCode(err, notify.CodeNotFound) {
		return false
	}
	must(t, "GetSession "+want.ID, err)
	if d := diff(want, got); d != "" {
		t.Errorf("GetSession(%q) mismatch (-want +got):\n%s", want.ID, d)
	}
	return true
}

func testCreateOperator(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	older := newOperator(wsA, "op-1", "ana@example.com", t0)
	newer := newOperator(wsA, "op-2", "luis@example.com", t0.Add(time.Second))
	newer.Name, newer.Role, newer.PasswordHash, newer.LastLoginAt = "", notify.RoleAdmin, "", nil
	other := newOperator(wsB, "op-3", "marta@example.com", t0)
	// Created newest first: the list must still be oldest first.
	for _, o := range []notify.Operator{newer, older, other} {
		createOperator(t, s, o)
	}
	for _, o := range []notify.Operator{older, newer, other} {
		wantOperator(t, s, "after CreateOperator", o)
		got, err := s.GetOperatorByEmail(ctx, o.Email)
		must(t, "GetOperatorByEmail "+o.Email, err)
		if d := diff(o, got); d != "" {
			t.Errorf("GetOperatorByEmail(%q) mismatch (-want +got):\n%s", o.Email, d)
		}
	}

	// The email is the sign-in name: a person types it in any case.
	got, err := s.GetOperatorByEmail(ctx, "Ana@Example.COM")
	must(t, "GetOperatorByEmail in upper case", err)
	if got.ID != older.ID || got.WorkspaceID != wsA {
		t.Errorf("GetOperatorByEmail(Ana@Example.COM) = %s/%s, want %s/%s", got.WorkspaceID, got.ID, wsA, older.ID)
	}
	mixed := newOperator(wsA, "op-4", "Pilar.Gil@Example.com", t0.Add(2*time.Second))
	createOperator(t, s, mixed)
	mixed.Email = "pilar.gil@example.com"
	wantOperator(t, s, "CreateOperator of a mixed-case email", mixed)
	got, err = s.GetOperatorByEmail(ctx, mixed.Email)
	must(t, "GetOperatorByEmail of a mixed-case email", err)
	if d := diff(mixed, got); d != "" {
		t.Errorf("GetOperatorByEmail(%q) mismatch (-want +got):\n%s", mixed.Email, d)
	}

	list, err := s.ListOperators(ctx, wsA)
	must(t, "ListOperators", err)
	if d := diff([]notify.Operator{older, newer, mixed}, list); d != "" {
		t.Errorf("ListOperators(%q) mismatch (-want +got):\n%s", wsA, d)
	}
	list, err = s.ListOperators(ctx, "ws-empty")
	must(t, "ListOperators of an empty workspace", err)
	if len(list) != 0 {
		t.Errorf("ListOperators(ws-empty) = %d operators, want 0", len(list))
	}

	_, err = s.GetOperator(ctx, wsA, "op-missing")
	wantCode(t, "GetOperator of a missing id", err, notify.CodeNotFound)
	_, err = s.GetOperatorByEmail(ctx, "nobody@example.com")
	wantCode(t, "GetOperatorByEmail of a missing email", err, notify.CodeNotFound)
}

func testCreateOperatorConflicts(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	ana := newOperator(wsA, "op-1", "ana@example.com", t0)
	createOperator(t, s, ana)

	tests := []struct {
		name string
		o    notify.Operator
	}{
		{"the email in another workspace", newOperator(wsB, "op-9", "ana@example.com", t0)},
		{"the email in the same workspace", newOperator(wsA, "op-9", "ana@example.com", t0)},
		{"the email in another case", newOperator(wsB, "op-9", "ANA@example.com", t0)},
		{"the id with another email", newOperator(wsA, "op-1", "other@example.com", t0)},
	}
	for _, tt := range tests {
		wantCode(t, "CreateOperator of "+tt.name, s.CreateOperator(ctx, tt.o), notify.CodeConflict)
	}
	// Nothing of a refused create stays: neither the operator, nor a claim
	// on its email.
	for _, ws := range []string{wsA, wsB} {
		_, err := s.GetOperator(ctx, ws, "op-9")
		wantCode(t, "GetOperator of an operator whose create conflicted", err, notify.CodeNotFound)
	}
	_, err := s.GetOperatorByEmail(ctx, "ANA@example.com")
	must(t, "GetOperatorByEmail after the conflicts", err)
	_, err = s.GetOperatorByEmail(ctx, "other@example.com")
	wantCode(t, "GetOperatorByEmail of an email whose create conflicted", err, notify.CodeNotFound)
	createOperator(t, s, newOperator(wsB, "op-5", "other@example.com", t0))
	wantOperator(t, s, "after the conflicts", ana)
	got, err := s.GetOperatorByEmail(ctx, ana.Email)
	must(t, "GetOperatorByEmail after the conflicts", err)
	if d := diff(ana, got); d != "" {
		t.Errorf("GetOperatorByEmail(%q) after the conflicts mismatch (-want +got):\n%s", ana.Email, d)
	}
}

func testUpdateOperator(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	o := newOperator(wsA, "op-1", "ana@example.com", t0)
	o.PasswordHash, o.LastLoginAt = "", nil
	createOperator(t, s, o)

	t1, login := t0.Add(time.Hour), t0.Add(2*time.Hour)
	got, err := s.UpdateOperator(ctx, wsA, o.ID, func(op *notify.Operator) error {
		op.Name, op.Role, op.PasswordHash = "Ana Pérez Gil", notify.RoleAdmin, "$argon2id$new"
		op.UpdatedAt, op.LastLoginAt = t1, &login
		return nil
	})
	must(t, "UpdateOperator", err)
	want := o
	want.Name, want.Role, want.PasswordHash, want.UpdatedAt, want.LastLoginAt = "Ana Pérez Gil", notify.RoleAdmin, "$argon2id$new", t1, &login
	if d := diff(want, got); d != "" {
		t.Errorf("UpdateOperator mismatch (-want +got):\n%s", d)
	}
	wantOperator(t, s, "after UpdateOperator", want)
	list, err := s.ListOperators(ctx, wsA)
	must(t, "ListOperators", err)
	if d := diff([]notify.Operator{want}, list); d != "" {
		t.Errorf("ListOperators after UpdateOperator mismatch (-want +got):\n%s", d)
	}

	// fn refuses: its error comes back as it is, with nothing written.
	errRefused := errors.New("refused")
	_, err = s.UpdateOperator(ctx, wsA, o.ID, func(op *notify.Operator) error {
		op.Role = notify.RoleViewer
		return errRefused
	})
	if !errors.Is(err, errRefused) {
		t.Errorf("UpdateOperator with fn failing: err = %v, want %v", err, errRefused)
	}
	wantOperator(t, s, "after a refused UpdateOperator", want)

	// The id, workspace and email are the operator's identity.
	changes := []struct {
		name   string
		change func(*notify.Operator)
	}{
		{"email", func(op *notify.Operator) { op.Email = "other@example.com" }},
		{"email's case", func(op *notify.Operator) { op.Email = "ANA@example.com" }},
		{"id", func(op *notify.Operator) { op.ID = "op-2" }},
		{"workspace", func(op *notify.Operator) { op.WorkspaceID = wsB }},
	}
	for _, c := range changes {
		_, err := s.UpdateOperator(ctx, wsA, o.ID, func(op *notify.Operator) error {
			op.Name = "changed"
			c.change(op)
			return nil
		})
		wantCode(t, "UpdateOperator changing the "+c.name, err, notify.CodeValidation)
		wantOperator(t, s, "after UpdateOperator changing the "+c.name, want)
	}
	_, err = s.GetOperatorByEmail(ctx, "other@example.com")
	wantCode(t, "GetOperatorByEmail of an email an update tried", err, notify.CodeNotFound)
	_, err = s.GetOperator(ctx, wsA, "op-2")
	wantCode(t, "GetOperator of an id an update tried", err, notify.CodeNotFound)
	_, err = s.GetOperator(ctx, wsB, o.ID)
	wantCode(t, "GetOperator in a workspace an update tried", err, notify.CodeNotFound)

	called := false
	_, err = s.UpdateOperator(ctx, wsA, "op-missing", func(*notify.Operator) error { called = true; return nil })
	wantCode(t, "UpdateOperator of a missing id", err, notify.CodeNotFound)
	if called {
		t.Errorf("UpdateOperator of a missing id called fn")
	}
}

// Concurrent updates of one operator each keep what the others wrote: a
// store retries its lost races with fn on the fresh operator.
func testUpdateOperatorConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	o := newOperator(wsA, "op-1", "ana@example.com", now())
	o.Name = "Ana"
	createOperator(t, s, o)
	const writers = 8
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, err := s.UpdateOperator(ctx, wsA, o.ID, func(op *notify.Operator) error {
				op.Name += fmt.Sprintf(" %d", i)
				return nil
			})
			if err != nil {
				t.Errorf("concurrent UpdateOperator: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.GetOperator(ctx, wsA, o.ID)
	must(t, "GetOperator", err)
	for i := range writers {
		if !strings.Contains(got.Name+" ", fmt.Sprintf(" %d ", i)) {
			t.Errorf("Name after %d concurrent updates = %q, want it to hold writer %d's mark", writers, got.Name, i)
		}
	}
	if n := strings.Count(got.Name, " "); n != writers {
		t.Errorf("Name after %d concurrent updates = %q: %d marks, want %d", writers, got.Name, n, writers)
	}
}

func testDeleteOperator(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	gone := newOperator(wsA, "op-1", "ana@example.com", t0)
	stays := newOperator(wsA, "op-2", "luis@example.com", t0.Add(time.Second))
	createOperator(t, s, gone)
	createOperator(t, s, stays)
	goneSession := newSession(wsA, gone.ID, "sess-gone", t0)
	staysSession := newSession(wsA, stays.ID, "sess-stays", t0)
	createSession(t, s, goneSession)
	createSession(t, s, staysSession)

	must(t, "DeleteOperator", s.DeleteOperator(ctx, wsA, gone.ID))
	_, err := s.GetOperator(ctx, wsA, gone.ID)
	wantCode(t, "GetOperator of a deleted operator", err, notify.CodeNotFound)
	_, err = s.GetOperatorByEmail(ctx, gone.Email)
	wantCode(t, "GetOperatorByEmail of a deleted operator", err, notify.CodeNotFound)
	if sessionAlive(t, s, goneSession) {
		t.Errorf("GetSession of a deleted operator's session found it, want not_found")
	}
	if !sessionAlive(t, s, staysSession) {
		t.Errorf("GetSession of another operator's session: not_found, want it")
	}
	list, err := s.ListOperators(ctx, wsA)
	must(t, "ListOperators", err)
	if d := diff([]notify.Operator{stays}, list); d != "" {
		t.Errorf("ListOperators after DeleteOperator mismatch (-want +got):\n%s", d)
	}
	wantCode(t, "DeleteOperator of a deleted operator", s.DeleteOperator(ctx, wsA, gone.ID), notify.CodeNotFound)

	// The email is free again, in any workspace; the old session stays dead.
	again := newOperator(wsB, "op-3", gone.Email, t0.Add(time.Minute))
	createOperator(t, s, again)
	got, err := s.GetOperatorByEmail(ctx, gone.Email)
	must(t, "GetOperatorByEmail of a reused email", err)
	if d := diff(again, got); d != "" {
		t.Errorf("GetOperatorByEmail(%q) of a reused email mismatch (-want +got):\n%s", gone.Email, d)
	}
	if sessionAlive(t, s, goneSession) {
		t.Errorf("GetSession of a deleted operator's session after its email was reused found it, want not_found")
	}
}

func testOperatorsIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	a := newOperator(wsA, "op-1", "ana@example.com", t0)
	b := newOperator(wsB, "op-2", "luis@example.com", t0)
	createOperator(t, s, a)
	createOperator(t, s, b)

	_, err := s.GetOperator(ctx, wsB, a.ID)
	wantCode(t, "GetOperator of another workspace's operator", err, notify.CodeNotFound)
	called := false
	_, err = s.UpdateOperator(ctx, wsB, a.ID, func(op *notify.Operator) error {
		called = true
		op.Role = notify.RoleAdmin
		return nil
	})
	wantCode(t, "UpdateOperator of another workspace's operator", err, notify.CodeNotFound)
	if called {
		t.Errorf("UpdateOperator of another workspace's operator called fn")
	}
	wantCode(t, "DeleteOperator of another workspace's operator", s.DeleteOperator(ctx, wsB, a.ID), notify.CodeNotFound)
	wantOperator(t, s, "after another workspace's update and delete", a)
	got, err := s.GetOperatorByEmail(ctx, a.Email)
	must(t, "GetOperatorByEmail", err)
	if d := diff(a, got); d != "" {
		t.Errorf("GetOperatorByEmail(%q) after another workspace's delete mismatch (-want +got):\n%s", a.Email, d)
	}

	list, err := s.ListOperators(ctx, wsB)
	must(t, "ListOperators", err)
	if d := diff([]notify.Operator{b}, list); d != "" {
		t.Errorf("ListOperators(%q) mismatch (-want +got):\n%s", wsB, d)
	}
}

func testSessions(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	createOperator(t, s, newOperator(wsA, "op-1", "ana@example.com", t0))
	sess := newSession(wsA, "op-1", "sess-1", t0)
	createSession(t, s, sess)
	if !sessionAlive(t, s, sess) {
		t.Fatalf("GetSession(%q) after CreateSession: not_found", sess.ID)
	}

	dup := newSession(wsA, "op-1", sess.ID, t0.Add(time.Minute))
	dup.CSRF = "csrf-other"
	wantCode(t, "CreateSession of an existing id", s.CreateSession(ctx, dup), notify.CodeConflict)
	if !sessionAlive(t, s, sess) {
		t.Errorf("GetSession(%q) after a conflicting CreateSession: not_found", sess.ID)
	}

	// Past its ExpiresAt a session is over, whether or not the store has
	// forgotten it yet.
	expired := newSession(wsA, "op-1", "sess-expired", t0.Add(-2*time.Hour))
	expired.ExpiresAt = t0.Add(-time.Minute)
	createSession(t, s, expired)
	if sessionAlive(t, s, expired) {
		t.Errorf("GetSession of an expired session found it, want not_found")
	}

	_, err := s.GetSession(ctx, "sess-missing")
	wantCode(t, "GetSession of a missing id", err, notify.CodeNotFound)

	other := newSession(wsA, "op-1", "sess-2", t0)
	createSession(t, s, other)
	must(t, "DeleteSession", s.DeleteSession(ctx, sess.ID))
	if sessionAlive(t, s, sess) {
		t.Errorf("GetSession of a deleted session found it, want not_found")
	}
	if !sessionAlive(t, s, other) {
		t.Errorf("GetSession of the operator's other session after DeleteSession: not_found")
	}
	must(t, "DeleteSession of a deleted session", s.DeleteSession(ctx, sess.ID))
	must(t, "DeleteSession of a missing session", s.DeleteSession(ctx, "sess-missing"))
}

func testDeleteOperatorSessions(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	createOperator(t, s, newOperator(wsA, "op-1", "ana@example.com", t0))
	createOperator(t, s, newOperator(wsA, "op-2", "luis@example.com", t0))
	// More sessions than one batch of deletes of any store.
	var ended []notify.Session
	for i := range 30 {
		sess := newSession(wsA, "op-1", fmt.Sprintf("sess-1-%02d", i), t0.Add(time.Duration(i)*time.Second))
		createSession(t, s, sess)
		ended = append(ended, sess)
	}
	kept := newSession(wsA, "op-2", "sess-2", t0)
	createSession(t, s, kept)

	// Another workspace naming the operator ends nothing.
	must(t, "DeleteOperatorSessions through another workspace", s.DeleteOperatorSessions(ctx, wsB, "op-1"))
	if !sessionAlive(t, s, ended[0]) {
		t.Errorf("GetSession after DeleteOperatorSessions through %s: not_found, want it", wsB)
	}

	must(t, "DeleteOperatorSessions", s.DeleteOperatorSessions(ctx, wsA, "op-1"))
	for _, sess := range ended {
		if sessionAlive(t, s, sess) {
			t.Errorf("GetSession(%q) after DeleteOperatorSessions found it, want not_found", sess.ID)
		}
	}
	if !sessionAlive(t, s, kept) {
		t.Errorf("GetSession of another operator's session after DeleteOperatorSessions: not_found")
	}
	must(t, "DeleteOperatorSessions of an operator with none", s.DeleteOperatorSessions(ctx, wsA, "op-1"))

	// The operator signs in again afterwards.
	again := newSession(wsA, "op-1", "sess-1-again", t0.Add(time.Minute))
	createSession(t, s, again)
	if !sessionAlive(t, s, again) {
		t.Errorf("GetSession of a session created after DeleteOperatorSessions: not_found")
	}
}

func testOperatorTokens(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	invite := notify.OperatorToken{
		Hash: "hash-invite", WorkspaceID: wsA, Kind: notify.TokenInvite, Email: "luis@example.com",
		Role: notify.RoleViewer, CreatedBy: "op-1", CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour),
	}
	setup := notify.OperatorToken{Hash: "hash-setup", WorkspaceID: wsB, Kind: notify.TokenSetup, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	reset := notify.OperatorToken{
		Hash: "hash-reset", WorkspaceID: wsA, Kind: notify.TokenReset, OperatorID: "op-2",
		CreatedBy: "op-1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
	}
	for _, tok := range []notify.OperatorToken{invite, setup, reset} {
		must(t, "CreateOperatorToken "+tok.Hash, s.CreateOperatorToken(ctx, tok))
	}
	dup := reset
	dup.OperatorID = "op-3"
	wantCode(t, "CreateOperatorToken of an existing hash", s.CreateOperatorToken(ctx, dup), notify.CodeConflict)

	// Peeking, even twice, leaves the link usable.
	for _, tok := range []notify.OperatorToken{invite, setup, reset, invite} {
		got, err := s.PeekOperatorToken(ctx, tok.Hash, t0)
		must(t, "PeekOperatorToken "+tok.Hash, err)
		if d := diff(tok, got); d != "" {
			t.Errorf("PeekOperatorToken(%q) mismatch (-want +got):\n%s", tok.Hash, d)
		}
	}
	for _, tok := range []notify.OperatorToken{invite, setup, reset} {
		got, err := s.UseOperatorToken(ctx, tok.Hash, t0.Add(time.Minute))
		must(t, "UseOperatorToken "+tok.Hash, err)
		if d := diff(tok, got); d != "" {
			t.Errorf("UseOperatorToken(%q) mismatch (-want +got):\n%s", tok.Hash, d)
		}
		_, err = s.UseOperatorToken(ctx, tok.Hash, t0.Add(time.Minute))
		wantCode(t, "UseOperatorToken of a used link", err, notify.CodeNotFound)
		_, err = s.PeekOperatorToken(ctx, tok.Hash, t0.Add(time.Minute))
		wantCode(t, "PeekOperatorToken of a used link", err, notify.CodeNotFound)
	}

	_, err := s.UseOperatorToken(ctx, "hash-missing", t0)
	wantCode(t, "UseOperatorToken of a missing hash", err, notify.CodeNotFound)
	_, err = s.PeekOperatorToken(ctx, "hash-missing", t0)
	wantCode(t, "PeekOperatorToken of a missing hash", err, notify.CodeNotFound)
}

// A link is expired from its ExpiresAt on, judged at the now the caller
// passes, whether or not the store has forgotten it yet.
func testOperatorTokenExpiry(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	past := notify.OperatorToken{
		Hash: "hash-past", WorkspaceID: wsA, Kind: notify.TokenReset, OperatorID: "op-1",
		CreatedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(-time.Minute),
	}
	must(t, "CreateOperatorToken", s.CreateOperatorToken(ctx, past))
	_, err := s.PeekOperatorToken(ctx, past.Hash, t0)
	wantCode(t, "PeekOperatorToken of an expired link", err, notify.CodeNotFound)
	_, err = s.UseOperatorToken(ctx, past.Hash, t0)
	wantCode(t, "UseOperatorToken of an expired link", err, notify.CodeNotFound)

	ends := t0.Add(time.Hour)
	edge := notify.OperatorToken{
		Hash: "hash-edge", WorkspaceID: wsA, Kind: notify.TokenInvite, Email: "ana@example.com",
		Role: notify.RoleEditor, CreatedBy: "op-1", CreatedAt: t0, ExpiresAt: ends,
	}
	must(t, "CreateOperatorToken", s.CreateOperatorToken(ctx, edge))
	_, err = s.PeekOperatorToken(ctx, edge.Hash, ends)
	wantCode(t, "PeekOperatorToken at its ExpiresAt", err, notify.CodeNotFound)
	_, err = s.UseOperatorToken(ctx, edge.Hash, ends)
	wantCode(t, "UseOperatorToken at its ExpiresAt", err, notify.CodeNotFound)
	got, err := s.PeekOperatorToken(ctx, edge.Hash, ends.Add(-time.Millisecond))
	must(t, "PeekOperatorToken a millisecond before its ExpiresAt", err)
	if d := diff(edge, got); d != "" {
		t.Errorf("PeekOperatorToken(%q) mismatch (-want +got):\n%s", edge.Hash, d)
	}
	got, err = s.UseOperatorToken(ctx, edge.Hash, ends.Add(-time.Millisecond))
	must(t, "UseOperatorToken a millisecond before its ExpiresAt (after a refused use)", err)
	if d := diff(edge, got); d != "" {
		t.Errorf("UseOperatorToken(%q) mismatch (-want +got):\n%s", edge.Hash, d)
	}
}

// Two uses of one link at once: exactly one gets it.
func testUseOperatorTokenConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	tok := notify.OperatorToken{
		Hash: "hash-invite", WorkspaceID: wsA, Kind: notify.TokenInvite, Email: "luis@example.com",
		Role: notify.RoleViewer, CreatedBy: "op-1", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour),
	}
	must(t, "CreateOperatorToken", s.CreateOperatorToken(ctx, tok))
	const users = 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wins  int
		start = make(chan struct{})
	)
	for range users {
		wg.Go(func() {
			<-start
			got, err := s.UseOperatorToken(ctx, tok.Hash, t0)
			if notify.IsCode(err, notify.CodeNotFound) {
				return
			}
			if err != nil {
				t.Errorf("concurrent UseOperatorToken: %v", err)
				return
			}
			if d := diff(tok, got); d != "" {
				t.Errorf("concurrent UseOperatorToken mismatch (-want +got):\n%s", d)
			}
			mu.Lock()
			wins++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent UseOperatorToken: %d succeeded, want exactly 1", users, wins)
	}
}

func newAuditEntry(ids *notify.IDs, ws string, at time.Time, i int) notify.AuditEntry {
	return notify.AuditEntry{
		ID: ids.New(at), WorkspaceID: ws, At: at, Actor: "operator ana@example.com",
		Action: "notification.send", Target: fmt.Sprintf("n-%d", i),
		Detail: fmt.Sprintf("push \"Spring offer %d\"", i), Count: 1000 + i,
	}
}

func testAudit(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	var wantA []notify.AuditEntry // newest first
	for i := range 7 {
		e := newAuditEntry(&ids, wsA, t0.Add(time.Duration(i)*time.Second), i)
		if i == 3 {
			// What an API key did, with nothing optional.
			e = notify.AuditEntry{ID: e.ID, WorkspaceID: wsA, At: e.At, Actor: "key backend (01K)", Action: "key.create"}
		}
		must(t, "AppendAudit", s.AppendAudit(ctx, e))
		wantA = append([]notify.AuditEntry{e}, wantA...)
	}
	b := newAuditEntry(&ids, wsB, t0, 99)
	b.Actor, b.Action, b.Target = "operator luis@example.com", "operator.invite", "marta@example.com"
	must(t, "AppendAudit", s.AppendAudit(ctx, b))

	dup := wantA[0]
	dup.Action = "template.update"
	wantCode(t, "AppendAudit of an existing id", s.AppendAudit(ctx, dup), notify.CodeConflict)

	for _, limit := range []int{1, 3, 7, 100} {
		got, pages := collect(t, "ListAudit", limit, func(p notify.Page) ([]notify.AuditEntry, string, error) {
			return s.ListAudit(ctx, wsA, p)
		})
		if d := diff(wantA, got); d != "" {
			t.Errorf("ListAudit(%q) by pages of %d mismatch (-want +got):\n%s", wsA, limit, d)
		}
		if min := (len(wantA) + limit - 1) / limit; pages < min {
			t.Errorf("ListAudit by pages of %d: %d pages, want at least %d", limit, pages, min)
		}
	}
	got, _ := collect(t, "ListAudit", 10, func(p notify.Page) ([]notify.AuditEntry, string, error) {
		return s.ListAudit(ctx, wsB, p)
	})
	if d := diff([]notify.AuditEntry{b}, got); d != "" {
		t.Errorf("ListAudit(%q) mismatch (-want +got):\n%s", wsB, d)
	}
	got, next, err := s.ListAudit(ctx, "ws-empty", notify.Page{})
	must(t, "ListAudit of an empty workspace", err)
	if len(got) != 0 || next != "" {
		t.Errorf("ListAudit(ws-empty) = %d entries, next %q; want none", len(got), next)
	}
	wantBadCursorRefused(t, s, "ListAudit", func(p notify.Page) ([]notify.AuditEntry, string, error) {
		return s.ListAudit(ctx, wsA, p)
	})
}

func testAuditDefaultPage(t *testing.T, s notify.Store) {
	ctx := t.Context()
	var ids notify.IDs
	t0 := now()
	for i := range notify.DefaultPageSize + 5 {
		must(t, "AppendAudit", s.AppendAudit(ctx, newAuditEntry(&ids, wsA, t0.Add(time.Duration(i)*time.Millisecond), i)))
	}
	wantDefaultPage(t, "ListAudit", func(p notify.Page) ([]notify.AuditEntry, string, error) {
		return s.ListAudit(ctx, wsA, p)
	})
}
