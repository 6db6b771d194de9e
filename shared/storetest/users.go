package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/notify"
)

// newUser is a user with every profile field set, as PutUser receives it.
func newUser(ws, id string, at time.Time) notify.User {
	return notify.User{
		WorkspaceID: ws,
		ID:          id,
		Name:        "Ana " + id,
		Email:       id + "@example.com",
		Phone:       "+34600000001",
		Status:      "active",
		Type:        "client",
		Language:    "es",
		Timezone:    "Europe/Madrid",
		Attributes:  map[string]string{"plan": "solar"},
		Tags:        []string{"vip"},
		SealKey:     []byte("seal-" + id),
		CreatedAt:   at,
		UpdatedAt:   at,
	}
}

func putUser(t *testing.T, s notify.Store, u notify.User) notify.User {
	t.Helper()
	got, err := s.PutUser(t.Context(), u)
	must(t, "PutUser "+u.ID, err)
	return got
}

func testPutUser(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	u := newUser(wsA, "cust-1", t0)
	got := putUser(t, s, u)
	want := u
	want.PushPermission = notify.PermissionAsk
	if d := diff(want, got, ignoreUserVersion); d != "" {
		t.Errorf("PutUser(new) mismatch (-want +got):\n%s", d)
	}
	stored, err := s.GetUser(ctx, wsA, u.ID)
	must(t, "GetUser", err)
	if d := diff(want, stored, ignoreUserVersion); d != "" {
		t.Errorf("GetUser after PutUser mismatch (-want +got):\n%s", d)
	}
	if stored.Version != got.Version {
		t.Errorf("GetUser.Version = %d, want %d as PutUser returned", stored.Version, got.Version)
	}

	// What the user's apps report…
	t1 := t0.Add(time.Minute)
	apps, err := s.UpdateUser(ctx, wsA, u.ID, func(u *notify.User) error {
		u.PushPermission = notify.PermissionAllowed
		u.Devices = []notify.Device{{ID: "dev-1", Kind: notify.DeviceFCM, Token: "tok-1", CreatedAt: t1}}
		u.Preferences = notify.Preferences{
			Channels:   map[notify.Channel]bool{notify.ChannelSMS: false},
			Categories: map[string]bool{"energy_savings": false},
			CategoryChannels: map[string]map[notify.Channel]bool{
				"switching": {notify.ChannelSMS: false, notify.ChannelEmail: true},
				"bills":     {notify.ChannelWhatsApp: false},
			},
			QuietHours: &notify.QuietHours{Start: "22:00", End: "08:00"},
		}
		u.PresenceUntil = ptr(t1.Add(2 * time.Minute))
		u.WhatsAppLastInbound = ptr(t1)
		u.LastAnswer = &notify.Answer{NotificationID: "n-1", Answer: "accept", At: t1}
		u.UpdatedAt = t1
		return nil
	})
	must(t, "UpdateUser", err)

	// …survives an upsert of the profile, which replaces every profile field.
	t2 := t0.Add(2 * time.Minute)
	up := notify.User{
		WorkspaceID: wsA, ID: u.ID, Name: "Ana María", Email: "ana.maria@example.com", Phone: "",
		Status: "inactive", Type: "newsletter", Language: "ca", Timezone: "Europe/Andorra",
		Attributes: map[string]string{"plan": "battery"}, Tags: []string{"solar", "vip"},
		PushPermission: notify.PermissionBlocked, SealKey: []byte("another-seal"), CreatedAt: t2, UpdatedAt: t2,
	}
	got = putUser(t, s, up)
	want = apps
	want.Name, want.Email, want.Phone = up.Name, up.Email, up.Phone
	want.Status, want.Type, want.Language, want.Timezone = up.Status, up.Type, up.Language, up.Timezone
	want.Attributes, want.Tags, want.UpdatedAt = up.Attributes, up.Tags, t2
	if d := diff(want, got, ignoreUserVersion); d != "" {
		t.Errorf("PutUser(existing) mismatch (-want +got):\n%s", d)
	}
	if got.Version <= apps.Version {
		t.Errorf("PutUser(existing).Version = %d, want > %d", got.Version, apps.Version)
	}
	stored, err = s.GetUser(ctx, wsA, u.ID)
	must(t, "GetUser", err)
	if d := diff(want, stored, ignoreUserVersion); d != "" {
		t.Errorf("GetUser after upsert mismatch (-want +got):\n%s", d)
	}

	// A new user keeps the permission it is given.
	allowed := newUser(wsA, "cust-2", t0)
	allowed.PushPermission = notify.PermissionAllowed
	if got := putUser(t, s, allowed); got.PushPermission != notify.PermissionAllowed {
		t.Errorf("PutUser(new, allowed).PushPermission = %q, want %q", got.PushPermission, notify.PermissionAllowed)
	}

	_, err = s.GetUser(ctx, wsA, "cust-missing")
	wantCode(t, "GetUser of a missing id", err, notify.CodeNotFound)
}

func testUpdateUser(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	before := putUser(t, s, newUser(wsA, "cust-1", t0))

	got, err := s.UpdateUser(ctx, wsA, "cust-1", func(u *notify.User) error {
		u.Devices = append(u.Devices, notify.Device{ID: "dev-1", Kind: notify.DeviceWebPush, Subscription: &notify.WebPushSubscription{Endpoint: "https://push.example/1"}, CreatedAt: t0})
		u.Devices[0].Subscription.Keys.P256dh, u.Devices[0].Subscription.Keys.Auth = "p256", "auth"
		u.UpdatedAt = t0.Add(time.Second)
		return nil
	})
	must(t, "UpdateUser", err)
	want := before
	want.Devices = got.Devices
	want.UpdatedAt = t0.Add(time.Second)
	if d := diff(want, got, ignoreUserVersion); d != "" {
		t.Errorf("UpdateUser mismatch (-want +got):\n%s", d)
	}
	if len(got.Devices) != 1 || got.Devices[0].Subscription == nil || got.Devices[0].Subscription.Keys.Auth != "auth" {
		t.Errorf("UpdateUser devices = %+v, want the one web push subscription", got.Devices)
	}
	if got.Version <= before.Version {
		t.Errorf("UpdateUser.Version = %d, want > %d", got.Version, before.Version)
	}
	stored, err := s.GetUser(ctx, wsA, "cust-1")
	must(t, "GetUser", err)
	if d := diff(got, stored); d != "" {
		t.Errorf("GetUser after UpdateUser mismatch (-want +got):\n%s", d)
	}

	errStop := errors.New("stop")
	_, err = s.UpdateUser(ctx, wsA, "cust-1", func(u *notify.User) error {
		u.Name = "not saved"
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Errorf("UpdateUser with fn failing: err = %v, want %v", err, errStop)
	}
	stored, err = s.GetUser(ctx, wsA, "cust-1")
	must(t, "GetUser", err)
	if stored.Name != before.Name {
		t.Errorf("Name after a failed UpdateUser = %q, want %q", stored.Name, before.Name)
	}

	_, err = s.UpdateUser(ctx, wsA, "cust-missing", func(u *notify.User) error { return nil })
	wantCode(t, "UpdateUser of a missing id", err, notify.CodeNotFound)
}

func testUpdateUserConcurrent(t *testing.T, s notify.Store) {
	ctx := t.Context()
	putUser(t, s, newUser(wsA, "cust-1", now()))
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := s.UpdateUser(ctx, wsA, "cust-1", func(u *notify.User) error {
				u.Devices = append(u.Devices, notify.Device{ID: fmt.Sprintf("dev-%d", i), Kind: notify.DeviceFCM, Token: fmt.Sprintf("tok-%d", i)})
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent UpdateUser", err)
	}
	u, err := s.GetUser(ctx, wsA, "cust-1")
	must(t, "GetUser", err)
	var got []string
	for _, d := range u.Devices {
		got = append(got, d.ID)
	}
	sort.Strings(got)
	var want []string
	for i := range writers {
		want = append(want, fmt.Sprintf("dev-%d", i))
	}
	if d := diff(want, got); d != "" {
		t.Errorf("devices after %d concurrent UpdateUser mismatch (-want +got):\n%s", writers, d)
	}
}

func testGetUsers(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	u1 := putUser(t, s, newUser(wsA, "cust-1", t0))
	putUser(t, s, newUser(wsA, "cust-2", t0))
	u3 := putUser(t, s, newUser(wsA, "cust-3", t0))

	got, err := s.GetUsers(ctx, wsA, []string{"cust-3", "cust-missing", "cust-1"})
	must(t, "GetUsers", err)
	want := map[string]notify.User{"cust-1": u1, "cust-3": u3}
	if d := diff(want, got); d != "" {
		t.Errorf("GetUsers mismatch (-want +got):\n%s", d)
	}

	got, err = s.GetUsers(ctx, wsA, nil)
	must(t, "GetUsers(nil)", err)
	if len(got) != 0 {
		t.Errorf("GetUsers(nil) = %d users, want 0", len(got))
	}
}

func testDeleteUser(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	putUser(t, s, newUser(wsA, "cust-1", t0))
	keep := putUser(t, s, newUser(wsA, "cust-2", t0))
	_, err := s.UpdateUser(ctx, wsA, "cust-1", func(u *notify.User) error {
		u.PushPermission = notify.PermissionAllowed
		u.Devices = []notify.Device{{ID: "dev-1", Kind: notify.DeviceAPNs, Token: "tok"}}
		u.Preferences.Channels = map[notify.Channel]bool{notify.ChannelEmail: false}
		return nil
	})
	must(t, "UpdateUser", err)

	must(t, "DeleteUser", s.DeleteUser(ctx, wsA, "cust-1"))
	_, err = s.GetUser(ctx, wsA, "cust-1")
	wantCode(t, "GetUser of a deleted user", err, notify.CodeNotFound)
	users, err := s.GetUsers(ctx, wsA, []string{"cust-1", "cust-2"})
	must(t, "GetUsers", err)
	if d := diff(map[string]notify.User{"cust-2": keep}, users); d != "" {
		t.Errorf("GetUsers after DeleteUser mismatch (-want +got):\n%s", d)
	}
	list, _ := collect(t, "ListUsers", 10, func(p notify.Page) ([]notify.User, string, error) {
		return s.ListUsers(ctx, wsA, notify.UserFilter{}, p)
	})
	if len(list) != 1 || list[0].ID != "cust-2" {
		t.Errorf("ListUsers after DeleteUser = %v, want only cust-2", userIDs(list))
	}
	wantCode(t, "DeleteUser of a deleted user", s.DeleteUser(ctx, wsA, "cust-1"), notify.CodeNotFound)

	// Coming back is a new user: nothing the apps reported is left.
	again := newUser(wsA, "cust-1", t0.Add(time.Hour))
	again.SealKey = []byte("new-seal")
	got := putUser(t, s, again)
	want := again
	want.PushPermission = notify.PermissionAsk
	if d := diff(want, got, ignoreUserVersion); d != "" {
		t.Errorf("PutUser after DeleteUser mismatch (-want +got):\n%s", d)
	}
}

func userIDs(users []notify.User) []string {
	ids := make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	sort.Strings(ids)
	return ids
}

func testListUsersFilters(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	type app struct {
		permission notify.PushPermission
		devices    []string // device kinds
	}
	fixture := []struct {
		u   notify.User
		app app
	}{
		{notify.User{ID: "cust-1001", Name: "Ana", Email: "ana@example.com", Phone: "+34600000001", Status: "active", Type: "client", Language: "es", Tags: []string{"vip", "solar"},
			Attributes: map[string]string{"plan": "battery", "city": "Madrid"}},
			app{notify.PermissionAllowed, []string{notify.DeviceFCM}}},
		{notify.User{ID: "cust-1002", Name: "Bob", Email: "bob@example.org", Status: "lead", Type: "newsletter", Language: "en", Tags: []string{"solar"},
			Attributes: map[string]string{"plan": "battery", "city": "Bilbao"}},
			app{notify.PermissionAllowed, []string{notify.DeviceWebPush}}},
		{notify.User{ID: "cust-1003", Name: "Carla", Phone: "+34600000003", Status: "inactive", Type: "client", Language: "es"},
			app{notify.PermissionBlocked, []string{notify.DeviceAPNs}}},
		{notify.User{ID: "cust-1004", Name: "Dani", Status: "active", Type: "newsletter", Language: "ca", Tags: []string{"vip"}},
			app{notify.PermissionAsk, []string{notify.DeviceFCM}}},
		{notify.User{ID: "cust-1005", Name: "María López", Email: "MARIA@Example.com", Phone: "+34600000005", Status: "active", Type: "client", Language: "en"},
			app{notify.PermissionAllowed, []string{notify.DeviceWebPush, notify.DeviceAPNs}}},
	}
	for i, f := range fixture {
		u := f.u
		// One a day, cust-1001 first: created-at filters cut the list.
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		u.WorkspaceID, u.CreatedAt, u.UpdatedAt = wsA, at, at
		putUser(t, s, u)
		_, err := s.UpdateUser(ctx, wsA, u.ID, func(u *notify.User) error {
			u.PushPermission = f.app.permission
			for i, kind := range f.app.devices {
				u.Devices = append(u.Devices, notify.Device{ID: fmt.Sprintf("dev-%d", i), Kind: kind, Token: "tok"})
			}
			return nil
		})
		must(t, "UpdateUser "+u.ID, err)
	}
	putUser(t, s, newUser(wsB, "cust-1001", t0)) // matches many filters, in the wrong workspace

	tests := []struct {
		name   string
		filter notify.UserFilter
		want   []string
	}{
		{"all", notify.UserFilter{}, []string{"cust-1001", "cust-1002", "cust-1003", "cust-1004", "cust-1005"}},
		{"one status", notify.UserFilter{Status: []string{"active"}}, []string{"cust-1001", "cust-1004", "cust-1005"}},
		{"several statuses", notify.UserFilter{Status: []string{"lead", "inactive"}}, []string{"cust-1002", "cust-1003"}},
		{"type", notify.UserFilter{Type: "newsletter"}, []string{"cust-1002", "cust-1004"}},
		{"tag", notify.UserFilter{Tag: "vip"}, []string{"cust-1001", "cust-1004"}},
		{"language", notify.UserFilter{Language: "en"}, []string{"cust-1002", "cust-1005"}},
		{"push enabled", notify.UserFilter{PushEnabled: ptr(true)}, []string{"cust-1001", "cust-1005"}},
		{"push not enabled", notify.UserFilter{PushEnabled: ptr(false)}, []string{"cust-1002", "cust-1003", "cust-1004"}},
		{"has email", notify.UserFilter{HasEmail: ptr(true)}, []string{"cust-1001", "cust-1002", "cust-1005"}},
		{"has no email", notify.UserFilter{HasEmail: ptr(false)}, []string{"cust-1003", "cust-1004"}},
		{"has phone", notify.UserFilter{HasPhone: ptr(true)}, []string{"cust-1001", "cust-1003", "cust-1005"}},
		{"has no phone", notify.UserFilter{HasPhone: ptr(false)}, []string{"cust-1002", "cust-1004"}},
		{"q in id", notify.UserFilter{Q: "1003"}, []string{"cust-1003"}},
		{"q in name, other case", notify.UserFilter{Q: "LÓPEZ"}, []string{"cust-1005"}},
		{"q in email, other case", notify.UserFilter{Q: "example.COM"}, []string{"cust-1001", "cust-1005"}},
		{"q matching nothing", notify.UserFilter{Q: "zzz"}, nil},
		{"combined", notify.UserFilter{Status: []string{"active", "lead"}, Tag: "solar", HasPhone: ptr(true)}, []string{"cust-1001"}},
		{"every tag", notify.UserFilter{Tags: []string{"solar", "vip"}}, []string{"cust-1001"}},
		{"one attribute", notify.UserFilter{Attributes: map[string]string{"plan": "battery"}}, []string{"cust-1001", "cust-1002"}},
		{"two attributes", notify.UserFilter{Attributes: map[string]string{"plan": "battery", "city": "Bilbao"}}, []string{"cust-1002"}},
		{"attribute nobody has", notify.UserFilter{Attributes: map[string]string{"plan": ""}}, nil},
		{"created after (inclusive)", notify.UserFilter{CreatedAfter: ptr(t0.Add(72 * time.Hour))}, []string{"cust-1004", "cust-1005"}},
		{"created before (exclusive)", notify.UserFilter{CreatedBefore: ptr(t0.Add(24 * time.Hour))}, []string{"cust-1001"}},
		{"created between", notify.UserFilter{CreatedAfter: ptr(t0.Add(24 * time.Hour)), CreatedBefore: ptr(t0.Add(72 * time.Hour))}, []string{"cust-1002", "cust-1003"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := collect(t, "ListUsers", 2, func(p notify.Page) ([]notify.User, string, error) {
				return s.ListUsers(ctx, wsA, tt.filter, p)
			})
			if d := diff(tt.want, userIDs(got)); d != "" {
				t.Errorf("ListUsers(%+v) ids mismatch (-want +got):\n%s", tt.filter, d)
			}
			for _, u := range got {
				if u.WorkspaceID != wsA {
					t.Errorf("ListUsers: user %s has WorkspaceID %q, want %q", u.ID, u.WorkspaceID, wsA)
				}
			}
		})
	}
}

func testListUsersPaging(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	want := map[string]notify.User{}
	var active []string
	for i := range 23 {
		u := newUser(wsA, fmt.Sprintf("user-%02d", i), t0)
		if i%3 == 0 {
			u.Status = "lead"
		} else {
			active = append(active, u.ID)
		}
		want[u.ID] = putUser(t, s, u)
	}

	got, pages := collect(t, "ListUsers", 5, func(p notify.Page) ([]notify.User, string, error) {
		return s.ListUsers(ctx, wsA, notify.UserFilter{}, p)
	})
	if pages < 5 {
		t.Errorf("ListUsers of 23 users by 5 took %d pages, want at least 5", pages)
	}
	seen := map[string]notify.User{}
	for _, u := range got {
		if _, dup := seen[u.ID]; dup {
			t.Errorf("ListUsers paging returned %s twice", u.ID)
		}
		seen[u.ID] = u
	}
	if d := diff(want, seen); d != "" {
		t.Errorf("ListUsers paging mismatch (-want +got):\n%s", d)
	}

	// Segments are disjoint and together are everyone, whatever the count.
	for _, segments := range []int{2, 3, 16, 40} {
		bySegment := map[string]int{}
		for seg := range segments {
			got, _ := collect(t, "ListUsers segment", 4, func(p notify.Page) ([]notify.User, string, error) {
				p.Segment, p.Segments = seg, segments
				return s.ListUsers(ctx, wsA, notify.UserFilter{Status: []string{"active"}}, p)
			})
			for _, u := range got {
				if prev, dup := bySegment[u.ID]; dup {
					t.Errorf("%d segments: %s in segments %d and %d", segments, u.ID, prev, seg)
				}
				bySegment[u.ID] = seg
			}
		}
		if d := diff(active, sortedKeys(bySegment)); d != "" {
			t.Errorf("%d segments together (-want +got):\n%s", segments, d)
		}
	}

	got, _ = collect(t, "ListUsers(active)", 4, func(p notify.Page) ([]notify.User, string, error) {
		return s.ListUsers(ctx, wsA, notify.UserFilter{Status: []string{"active"}}, p)
	})
	if d := diff(active, userIDs(got)); d != "" {
		t.Errorf("ListUsers(active) paging ids mismatch (-want +got):\n%s", d)
	}
}

func testUsersIsolation(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	a := putUser(t, s, newUser(wsA, "cust-1", t0))

	_, err := s.GetUser(ctx, wsB, a.ID)
	wantCode(t, "GetUser through another workspace", err, notify.CodeNotFound)
	users, err := s.GetUsers(ctx, wsB, []string{a.ID})
	must(t, "GetUsers", err)
	if len(users) != 0 {
		t.Errorf("GetUsers through another workspace = %d users, want 0", len(users))
	}
	list, _, err := s.ListUsers(ctx, wsB, notify.UserFilter{}, notify.Page{Limit: 10})
	must(t, "ListUsers", err)
	if len(list) != 0 {
		t.Errorf("ListUsers through another workspace = %v, want none", userIDs(list))
	}
	_, err = s.UpdateUser(ctx, wsB, a.ID, func(u *notify.User) error {
		u.Name = "hijacked"
		return nil
	})
	wantCode(t, "UpdateUser through another workspace", err, notify.CodeNotFound)
	wantCode(t, "DeleteUser through another workspace", s.DeleteUser(ctx, wsB, a.ID), notify.CodeNotFound)

	// The same id in another workspace is another user.
	b := newUser(wsB, a.ID, t0)
	b.Name = "Someone else"
	gotB := putUser(t, s, b)
	if gotB.Name != b.Name || gotB.WorkspaceID != wsB {
		t.Errorf("PutUser in %s = %q in %q, want %q in %q", wsB, gotB.Name, gotB.WorkspaceID, b.Name, wsB)
	}
	must(t, "DeleteUser b", s.DeleteUser(ctx, wsB, a.ID))

	got, err := s.GetUser(ctx, wsA, a.ID)
	must(t, "GetUser", err)
	if d := diff(a, got); d != "" {
		t.Errorf("user of %s after writes through %s mismatch (-want +got):\n%s", wsA, wsB, d)
	}
}

// testFindUsersByPhone: the phone index follows upserts, updates and
// deletions, across workspaces. An adapter may lag a write by a moment
// (a DynamoDB index), so the suite waits up to two seconds for it.
func testFindUsersByPhone(t *testing.T, s notify.Store) {
	ctx := t.Context()
	t0 := now()
	put := func(ws, id, phone string) {
		t.Helper()
		_, err := s.PutUser(ctx, notify.User{WorkspaceID: ws, ID: id, Phone: phone, PushPermission: notify.PermissionAsk, CreatedAt: t0, UpdatedAt: t0})
		must(t, "PutUser", err)
	}
	put(wsA, "ana", "+34600000001")
	put(wsB, "ana-b", "+34600000001")
	put(wsA, "bob", "+34600000002")
	put(wsA, "nophone", "")
	find := func(phone string, want []notify.UserRef) {
		t.Helper()
		var got []notify.UserRef
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var err error
			got, err = s.FindUsersByPhone(ctx, phone)
			must(t, "FindUsersByPhone", err)
			sort.Slice(got, func(i, j int) bool { return got[i].WorkspaceID+got[i].ID < got[j].WorkspaceID+got[j].ID })
			if diff(want, got) == "" || time.Now().After(deadline) {
				break
			}
		}
		if d := diff(want, got); d != "" {
			t.Errorf("FindUsersByPhone(%s) mismatch (-want +got):\n%s", phone, d)
		}
	}
	find("+34600000001", []notify.UserRef{{WorkspaceID: wsA, ID: "ana"}, {WorkspaceID: wsB, ID: "ana-b"}})
	// A new phone moves the entry; an update that keeps it keeps it.
	put(wsA, "ana", "+34600000009")
	_, err := s.UpdateUser(ctx, wsA, "bob", func(u *notify.User) error { u.Name = "Bob"; return nil })
	must(t, "UpdateUser", err)
	find("+34600000001", []notify.UserRef{{WorkspaceID: wsB, ID: "ana-b"}})
	find("+34600000009", []notify.UserRef{{WorkspaceID: wsA, ID: "ana"}})
	find("+34600000002", []notify.UserRef{{WorkspaceID: wsA, ID: "bob"}})
	must(t, "DeleteUser", s.DeleteUser(ctx, wsA, "bob"))
	find("+34600000002", nil)
	find("+34699999999", nil)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// testUsersSegmentPages: a segment's page may hold up to
// MaxSegmentPageSize users (the audience walk enqueues a page as one SQS
// batch); any other list stays capped at MaxPageSize.
func testUsersSegmentPages(t *testing.T, s notify.Store) {
	ctx := t.Context()
	const ws, n = "ws-segpages", 1300
	t0 := now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := s.PutUser(ctx, newUser(ws, fmt.Sprintf("u%05d", i), t0))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "PutUser", err)
	}
	all, _, err := s.ListUsers(ctx, ws, notify.UserFilter{}, notify.Page{Limit: notify.MaxSegmentPageSize})
	must(t, "ListUsers", err)
	if len(all) != notify.MaxPageSize {
		t.Errorf("an unsegmented page of %d gave %d users, want %d", notify.MaxSegmentPageSize, len(all), notify.MaxPageSize)
	}
	total := 0
	for seg := range 2 {
		var got []notify.User
		cursor := ""
		for calls := 0; ; calls++ {
			page, next, err := s.ListUsers(ctx, ws, notify.UserFilter{Status: []string{"active"}}, notify.Page{Limit: notify.MaxSegmentPageSize, Cursor: cursor, Segment: seg, Segments: 2})
			must(t, "ListUsers segment", err)
			if calls == 0 && len(page) <= notify.MaxPageSize && next != "" {
				t.Errorf("segment %d: first page of %d users with more to come, want more than %d", seg, len(page), notify.MaxPageSize)
			}
			if len(page) > notify.MaxSegmentPageSize {
				t.Errorf("segment %d: a page of %d users", seg, len(page))
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		total += len(got)
	}
	if total != n {
		t.Errorf("the segments hold %d users, want %d", total, n)
	}
}
