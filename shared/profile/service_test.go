package profile

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
)

// t0 is the service's clock in these tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// newService returns a Service on a fresh boltstore with user "ana" in
// workspace ws1.
func newService(t *testing.T) (*Service, *boltstore.Store) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "herald.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s := &Service{Store: store, DefaultRegion: "ES", Now: func() time.Time { return t0 }}
	if _, err := s.Put(context.Background(), "ws1", "ana", Input{Name: ptr("Ana")}); err != nil {
		t.Fatal(err)
	}
	return s, store
}

func ptr[T any](v T) *T { return &v }

// fieldOf is the first field a validation error names, or its code when
// it names none, or "" for nil.
func fieldOf(err error) string {
	if err == nil {
		return ""
	}
	var e *notify.Error
	if errors.As(err, &e) && len(e.Details) > 0 {
		return e.Details[0].Field
	}
	return notify.ErrorCode(err)
}

func TestPut(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		id        string
		in        Input
		wantField string
	}{
		{"new user", "bob", Input{Phone: ptr("612 345 678")}, ""},
		{"body id matches", "bob", Input{ID: ptr("bob")}, ""},
		{"body id differs", "bob", Input{ID: ptr("carl")}, "id"},
		{"bad id", "a/b", Input{}, "id"},
		{"bad email", "bob", Input{Email: ptr("nope")}, "email"},
		{"a control character", "bob", Input{Attributes: ptr(map[string]string{"plan": "x\x1b[31m"})}, "attributes.plan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Put(ctx, "ws1", tt.id, tt.in)
			if got := fieldOf(err); got != tt.wantField {
				t.Errorf("Put(%q) error field = %q (%v), want %q", tt.id, got, err, tt.wantField)
			}
		})
	}
	u, err := s.Get(ctx, "ws1", "bob")
	if err != nil {
		t.Fatal(err)
	}
	want := notify.User{WorkspaceID: "ws1", ID: "bob", Phone: "+34612345678", PushPermission: notify.PermissionAsk,
		CreatedAt: t0.Truncate(time.Millisecond), UpdatedAt: t0.Truncate(time.Millisecond)}
	if diff := cmp.Diff(want, u, cmpUser); diff != "" {
		t.Errorf("Get(bob) (-want +got):\n%s", diff)
	}
}

// cmpUser ignores what the store and the seal add to a user.
var cmpUser = cmp.FilterPath(func(p cmp.Path) bool {
	switch p.Last().String() {
	case ".SealKey", ".Version":
		return true
	}
	return false
}, cmp.Ignore())

func TestBatch(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	tests := []struct {
		name      string
		users     []Input
		want      BatchResult
		wantField string
	}{
		{name: "users absent", users: nil, wantField: "users"},
		{name: "too many", users: make([]Input, MaxBatch+1), wantField: "users"},
		{name: "none", users: []Input{}, want: BatchResult{}},
		{
			name: "each user on its own",
			users: []Input{
				{ID: ptr("u1"), Name: ptr("One")},
				{Name: ptr("no id")},
				{ID: ptr("u1"), Name: ptr("again")},
				{ID: ptr("u2"), Email: ptr("not an email")},
				{ID: ptr("u/3")},
				{ID: ptr("u4")},
			},
			want: BatchResult{Upserted: 2, Errors: []BatchError{
				{1, notify.CodeValidation, "users[1].id: required"},
				{2, notify.CodeValidation, "users[2].id: duplicate of users[0]"},
				{3, notify.CodeValidation, "users[3].email: " + emailProblem(t)},
				{4, notify.CodeValidation, "users[4].id: must be 1–128 characters of letters, digits and . _ : @ + -"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Batch(ctx, "ws1", tt.users)
			if f := fieldOf(err); f != tt.wantField {
				t.Fatalf("Batch error field = %q (%v), want %q", f, err, tt.wantField)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Batch (-want +got):\n%s", diff)
			}
		})
	}
	if u, err := s.Get(ctx, "ws1", "u1"); err != nil || u.Name != "One" {
		t.Errorf("Get(u1) = %q, %v; want the first of the duplicates stored", u.Name, err)
	}
}

// emailProblem is what Apply says of "not an email", so the batch test
// does not restate package address's wording.
func emailProblem(t *testing.T) string {
	var u notify.User
	err := Input{Email: ptr("not an email")}.Apply(&u, "", "")
	var e *notify.Error
	if !errors.As(err, &e) || len(e.Details) != 1 {
		t.Fatalf("Apply(bad email) = %v, want one field error", err)
	}
	return e.Details[0].Problem
}

// failingStore fails every read, as a store that lost its connection.
type failingStore struct{ Store }

func (failingStore) GetUser(context.Context, string, string) (notify.User, error) {
	return notify.User{}, errors.New("connection reset")
}

func TestBatchStoreFailureFailsTheCall(t *testing.T) {
	s := &Service{Store: failingStore{}}
	res, err := s.Batch(context.Background(), "ws1", []Input{{ID: ptr("u1")}})
	if err == nil || notify.ErrorCode(err) != notify.CodeInternal {
		t.Fatalf("Batch on a failing store = %+v, %v; want an internal error", res, err)
	}
}

// A browser's subscription keys (from the Web Push spec's example).
const (
	testP256dh = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
	testAuth   = "tBHItJI5svbpez7KI4CCXg"
)

func subscription(endpoint, p256dh, auth string) DeviceInput {
	sub := &notify.WebPushSubscription{Endpoint: endpoint}
	sub.Keys.P256dh, sub.Keys.Auth = p256dh, auth
	return DeviceInput{Kind: notify.DeviceWebPush, Subscription: sub}
}

func webPush(endpoint string) DeviceInput { return subscription(endpoint, testP256dh, testAuth) }

func TestAddDeviceValidation(t *testing.T) {
	tests := []struct {
		name         string
		in           DeviceInput
		allowPrivate bool
		wantField    string
	}{
		{"fcm", DeviceInput{Kind: notify.DeviceFCM, Token: " tok-1 "}, false, ""},
		{"apns", DeviceInput{Kind: notify.DeviceAPNs, Token: "abc"}, false, ""},
		{"token missing", DeviceInput{Kind: notify.DeviceFCM}, false, "token"},
		{"token with a space", DeviceInput{Kind: notify.DeviceFCM, Token: "a b"}, false, "token"},
		{"token too long", DeviceInput{Kind: notify.DeviceAPNs, Token: strings.Repeat("x", maxToken+1)}, false, "token"},
		{"fcm with a subscription", DeviceInput{Kind: notify.DeviceFCM, Token: "t", Subscription: &notify.WebPushSubscription{}}, false, "subscription"},
		{"unknown kind", DeviceInput{Kind: "sms", Token: "t"}, false, "kind"},
		{"webpush", webPush("https://fcm.googleapis.com/fcm/send/dXJ4"), false, ""},
		{"webpush with a token", DeviceInput{Kind: notify.DeviceWebPush, Token: "t"}, false, "token"},
		{"webpush without subscription", DeviceInput{Kind: notify.DeviceWebPush}, false, "subscription"},
		{"plain http", webPush("http://fcm.googleapis.com/fcm/send/x"), false, "subscription.endpoint"},
		{"user info", webPush("https://user:pass@fcm.googleapis.com/x"), false, "subscription.endpoint"},
		{"endpoint too long", webPush("https://fcm.googleapis.com/" + strings.Repeat("x", maxEndpoint)), false, "subscription.endpoint"},
		{"loopback", webPush("https://127.0.0.1:8443/x"), false, "subscription.endpoint"},
		{"metadata address", webPush("https://169.254.169.254/latest/meta-data/"), false, "subscription.endpoint"},
		{"private network", webPush("https://10.1.2.3/x"), false, "subscription.endpoint"},
		{"local name", webPush("https://localhost:9200/x"), false, "subscription.endpoint"},
		{"loopback allowed for tests", webPush("https://127.0.0.1:8443/x"), true, ""},
		{"allowed still needs https", webPush("http://127.0.0.1:8443/x"), true, "subscription.endpoint"},
		{"bad p256dh", subscription("https://push.example.com/x", "not base64!", testAuth), false, "subscription.keys.p256dh"},
		{"auth missing", subscription("https://push.example.com/x", testP256dh, ""), false, "subscription.keys.auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			s.AllowPrivateEndpoints = tt.allowPrivate
			ctx := context.Background()
			d, err := s.AddDevice(ctx, "ws1", "ana", tt.in)
			if got := fieldOf(err); got != tt.wantField {
				t.Fatalf("AddDevice error field = %q (%v), want %q", got, err, tt.wantField)
			}
			u, err := s.Get(ctx, "ws1", "ana")
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantField != "" {
				if len(u.Devices) != 0 {
					t.Errorf("devices after a refused registration = %+v, want none", u.Devices)
				}
				return
			}
			if !strings.HasPrefix(d.ID, "dev_") || d.Kind != tt.in.Kind || !d.CreatedAt.Equal(t0.Truncate(time.Millisecond)) {
				t.Errorf("AddDevice = %+v, want a dev_ id, kind %s, created at %v", d, tt.in.Kind, t0)
			}
			if diff := cmp.Diff([]notify.Device{d}, u.Devices); diff != "" {
				t.Errorf("stored devices (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddDeviceTrimsToken(t *testing.T) {
	s, _ := newService(t)
	d, err := s.AddDevice(context.Background(), "ws1", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: " tok-1 "})
	if err != nil {
		t.Fatal(err)
	}
	if d.Token != "tok-1" {
		t.Errorf("token = %q, want it trimmed to %q", d.Token, "tok-1")
	}
}

// TestAddDeviceTwiceReplaces: the same token registered again keeps one
// device with the same id, registered at the later time; the same token
// of another kind is another device.
func TestAddDeviceTwiceReplaces(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	first, err := s.AddDevice(ctx, "ws1", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	s.Now = func() time.Time { return later }
	second, err := s.AddDevice(ctx, "ws1", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if want := later.Truncate(time.Millisecond); second.ID != first.ID || !second.CreatedAt.Equal(want) {
		t.Errorf("second registration = %+v, want id %s created at %v", second, first.ID, want)
	}
	apns, err := s.AddDevice(ctx, "ws1", "ana", DeviceInput{Kind: notify.DeviceAPNs, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if apns.ID == first.ID {
		t.Errorf("apns and fcm devices with one token share the id %s", apns.ID)
	}
	u, _ := s.Get(ctx, "ws1", "ana")
	if diff := cmp.Diff([]notify.Device{second, apns}, u.Devices); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
}

// TestAddDeviceCap: past MaxDevices the oldest registration goes.
func TestAddDeviceCap(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	var added []notify.Device
	for i := range MaxDevices + 2 {
		d, err := s.AddDevice(ctx, "ws1", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: fmt.Sprintf("tok-%d", i)})
		if err != nil {
			t.Fatalf("device %d: %v", i, err)
		}
		added = append(added, d)
		u, err := s.Get(ctx, "ws1", "ana")
		if err != nil {
			t.Fatal(err)
		}
		want := added[max(0, len(added)-MaxDevices):]
		if diff := cmp.Diff(want, u.Devices); diff != "" {
			t.Fatalf("devices after %d registrations (-want +got):\n%s", len(added), diff)
		}
	}
}

func TestRemoveDevice(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	a, _ := s.AddDevice(ctx, "ws1", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: "a"})
	b, _ := s.AddDevice(ctx, "ws1", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: "b"})
	if err := s.RemoveDevice(ctx, "ws1", "ana", a.ID); err != nil {
		t.Fatalf("RemoveDevice(%s) = %v", a.ID, err)
	}
	u, _ := s.Get(ctx, "ws1", "ana")
	if diff := cmp.Diff([]notify.Device{b}, u.Devices); diff != "" {
		t.Errorf("devices after removing %s (-want +got):\n%s", a.ID, diff)
	}
	for _, tt := range []struct{ user, device string }{{"ana", a.ID}, {"ana", "dev_0000000000000000"}, {"nobody", b.ID}} {
		if err := s.RemoveDevice(ctx, "ws1", tt.user, tt.device); !notify.IsCode(err, notify.CodeNotFound) {
			t.Errorf("RemoveDevice(%s, %s) = %v, want not_found", tt.user, tt.device, err)
		}
	}
}

func TestSetPushPermission(t *testing.T) {
	tests := []struct {
		status    notify.PushPermission
		wantField string
	}{
		{notify.PermissionAsk, ""},
		{notify.PermissionAllowed, ""},
		{notify.PermissionBlocked, ""},
		{"", "status"},
		{"granted", "status"},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			s, _ := newService(t)
			s.Now = func() time.Time { return t0.Add(time.Minute) }
			later := t0.Add(time.Minute).Truncate(time.Millisecond)
			u, err := s.SetPushPermission(context.Background(), "ws1", "ana", tt.status)
			if got := fieldOf(err); got != tt.wantField {
				t.Fatalf("SetPushPermission(%q) error field = %q (%v), want %q", tt.status, got, err, tt.wantField)
			}
			if err == nil && (u.PushPermission != tt.status || !u.UpdatedAt.Equal(later)) {
				t.Errorf("SetPushPermission(%q) = %q updated %v, want %q updated %v", tt.status, u.PushPermission, u.UpdatedAt, tt.status, later)
			}
		})
	}
}

func TestSetPreferences(t *testing.T) {
	manyCategories := map[string]bool{}
	manyCategoryChannels := map[string]map[notify.Channel]bool{}
	for i := range 101 {
		manyCategories[fmt.Sprint("c", i)] = true
		manyCategoryChannels[fmt.Sprint("c", i)] = map[notify.Channel]bool{notify.ChannelSMS: false}
	}
	tests := []struct {
		name      string
		in        notify.Preferences
		wantField string
	}{
		{"empty", notify.Preferences{}, ""},
		{"full", notify.Preferences{Channels: map[notify.Channel]bool{notify.ChannelSMS: false, notify.ChannelEmail: true},
			Categories: map[string]bool{"offers": false}, QuietHours: &notify.QuietHours{Start: "22:00", End: "07:30"}}, ""},
		{"channels by category", notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{
			"offers": {notify.ChannelSMS: false, notify.ChannelEmail: true}, "bills": {notify.ChannelWhatsApp: false}}}, ""},
		{"unknown channel", notify.Preferences{Channels: map[notify.Channel]bool{"fax": false}}, "channels.fax"},
		{"unknown channel of a category", notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{"offers": {"fax": false}}}, "categoryChannels.offers.fax"},
		{"a category with no channels", notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{"offers": nil}}, "categoryChannels.offers"},
		{"a category with its channels all on", notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{"offers": {}}}, ""},
		{"too many categories with channels", notify.Preferences{CategoryChannels: manyCategoryChannels}, "categoryChannels"},
		{"empty category name with channels", notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{"": {notify.ChannelSMS: false}}}, "categoryChannels"},
		{"category name with channels too long", notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{strings.Repeat("c", 65): {notify.ChannelSMS: false}}}, "categoryChannels"},
		{"control character in a category with channels", notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{"a\x00": {notify.ChannelSMS: false}}}, "categoryChannels.(a key)"},
		{"too many categories", notify.Preferences{Categories: manyCategories}, "categories"},
		{"empty category name", notify.Preferences{Categories: map[string]bool{"": false}}, "categories"},
		{"category name too long", notify.Preferences{Categories: map[string]bool{strings.Repeat("c", 65): false}}, "categories"},
		{"quiet start", notify.Preferences{QuietHours: &notify.QuietHours{Start: "24:00", End: "07:00"}}, "quietHours.start"},
		{"quiet end", notify.Preferences{QuietHours: &notify.QuietHours{Start: "22:00", End: "7:00"}}, "quietHours.end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			ctx := context.Background()
			got, err := s.SetPreferences(ctx, "ws1", "ana", tt.in)
			if f := fieldOf(err); f != tt.wantField {
				t.Fatalf("SetPreferences error field = %q (%v), want %q", f, err, tt.wantField)
			}
			stored, err := s.Preferences(ctx, "ws1", "ana")
			if err != nil {
				t.Fatal(err)
			}
			want := tt.in
			if tt.wantField != "" {
				want = notify.Preferences{} // nothing stored
			} else if diff := cmp.Diff(tt.in, got); diff != "" {
				t.Errorf("SetPreferences (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("Preferences after SetPreferences (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdatePreferences(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	quiet := &notify.QuietHours{Start: "22:00", End: "08:00"}
	if _, err := s.SetPreferences(ctx, "ws1", "ana", notify.Preferences{QuietHours: quiet, Categories: map[string]bool{"bills": false}}); err != nil {
		t.Fatal(err)
	}
	u, err := s.UpdatePreferences(ctx, "ws1", "ana", func(p *notify.Preferences) error {
		p.CategoryChannels = map[string]map[notify.Channel]bool{"offers": {notify.ChannelSMS: false}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := notify.Preferences{QuietHours: quiet, Categories: map[string]bool{"bills": false},
		CategoryChannels: map[string]map[notify.Channel]bool{"offers": {notify.ChannelSMS: false}}}
	if diff := cmp.Diff(want, u.Preferences); diff != "" {
		t.Errorf("UpdatePreferences kept (-want +got):\n%s", diff)
	}
	// What fails validation, or fn itself, stores nothing.
	_, err = s.UpdatePreferences(ctx, "ws1", "ana", func(p *notify.Preferences) error {
		p.CategoryChannels["offers"]["fax"] = false
		return nil
	})
	if f := fieldOf(err); f != "categoryChannels.offers.fax" {
		t.Errorf("an unknown channel: error field %q (%v), want categoryChannels.offers.fax", f, err)
	}
	stop := notify.Errorf(notify.CodeConflict, "stop")
	_, err = s.UpdatePreferences(ctx, "ws1", "ana", func(p *notify.Preferences) error {
		p.Channels = map[notify.Channel]bool{notify.ChannelEmail: false}
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("fn's error = %v, want it returned", err)
	}
	stored, err := s.Preferences(ctx, "ws1", "ana")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("refused updates stored (-want +got):\n%s", diff)
	}
	if _, err := s.UpdatePreferences(ctx, "ws2", "ana", func(*notify.Preferences) error { return nil }); notify.ErrorCode(err) != notify.CodeNotFound {
		t.Errorf("another workspace's user: %v, want not_found", err)
	}
}

func TestSetPresence(t *testing.T) {
	at := func(d time.Duration) *time.Time { v := t0.Add(d).Truncate(time.Millisecond); return &v }
	tests := []struct {
		name      string
		in        PresenceInput
		want      Presence
		wantField string
	}{
		{name: "active absent", in: PresenceInput{TTLSeconds: ptr(60)}, wantField: "active"},
		{name: "active, default ttl", in: PresenceInput{Active: ptr(true)}, want: Presence{Active: true, Until: at(DefaultPresenceTTL)}},
		{name: "active for a minute", in: PresenceInput{Active: ptr(true), TTLSeconds: ptr(60)}, want: Presence{Active: true, Until: at(time.Minute)}},
		{name: "active for a day", in: PresenceInput{Active: ptr(true), TTLSeconds: ptr(86400)}, want: Presence{Active: true, Until: at(24 * time.Hour)}},
		{name: "inactive", in: PresenceInput{Active: ptr(false), TTLSeconds: ptr(60)}, want: Presence{}},
		{name: "ttl zero", in: PresenceInput{Active: ptr(true), TTLSeconds: ptr(0)}, wantField: "ttlSeconds"},
		{name: "ttl over a day", in: PresenceInput{Active: ptr(true), TTLSeconds: ptr(86401)}, wantField: "ttlSeconds"},
		{name: "ttl that overflows a duration", in: PresenceInput{Active: ptr(true), TTLSeconds: ptr(1 << 62)}, wantField: "ttlSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := newService(t)
			ctx := context.Background()
			// a presence from before, which every valid report replaces
			s.Now = func() time.Time { return t0.Add(-time.Hour) }
			if _, err := s.SetPresence(ctx, "ws1", "ana", PresenceInput{Active: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			before, _ := store.GetUser(ctx, "ws1", "ana")
			s.Now = func() time.Time { return t0 }
			got, err := s.SetPresence(ctx, "ws1", "ana", tt.in)
			if f := fieldOf(err); f != tt.wantField {
				t.Fatalf("SetPresence error field = %q (%v), want %q", f, err, tt.wantField)
			}
			u, _ := store.GetUser(ctx, "ws1", "ana")
			if tt.wantField != "" {
				if diff := cmp.Diff(before.PresenceUntil, u.PresenceUntil); diff != "" {
					t.Errorf("stored presence changed by a refused report (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SetPresence (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want.Until, u.PresenceUntil); diff != "" {
				t.Errorf("stored PresenceUntil (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReportPagePresence: two tabs of one user report on their own; a
// tab going away ends the presence only when no other tab's heartbeat
// came after its own, and a heartbeat never shortens another's.
func TestReportPagePresence(t *testing.T) {
	s, store := newService(t)
	ctx := context.Background()
	clock := t0
	s.Now = func() time.Time { return clock }
	ttl := time.Minute
	report := func(p PagePresence) Presence {
		t.Helper()
		got, err := s.ReportPagePresence(ctx, "ws1", "ana", p)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := store.GetUser(ctx, "ws1", "ana")
		if diff := cmp.Diff(got.Until, u.PresenceUntil); diff != "" {
			t.Fatalf("stored PresenceUntil differs from the answer (-answer +stored):\n%s", diff)
		}
		return got
	}
	at := func(t time.Time) *time.Time { v := t.Truncate(time.Millisecond); return &v }

	// Tab A beats; tab B beats 20 s later; A goes away: B's beat is later,
	// so the user stays present until it runs out.
	a := report(PagePresence{Active: true, TTL: ttl})
	if diff := cmp.Diff(Presence{Active: true, Until: at(t0.Add(ttl))}, a); diff != "" {
		t.Fatalf("A's heartbeat (-want +got):\n%s", diff)
	}
	clock = t0.Add(20 * time.Second)
	b := report(PagePresence{Active: true, TTL: ttl})
	clock = t0.Add(25 * time.Second)
	if got := report(PagePresence{Active: false, LastUntil: a.Until}); !got.Active || !got.Until.Equal(*b.Until) {
		t.Errorf("A going away after B's later heartbeat = %+v, want present until B's %s", got, b.Until)
	}
	// B goes away after its own last beat: nobody is left.
	clock = t0.Add(30 * time.Second)
	if got := report(PagePresence{Active: false, LastUntil: b.Until}); got.Active || got.Until != nil {
		t.Errorf("B, the last tab, going away = %+v, want absent", got)
	}

	// A tab going away that beat last ends the presence, though another
	// tab beat before it (that tab is gone or hidden, or beats again).
	clock = t0.Add(time.Minute)
	report(PagePresence{Active: true, TTL: ttl})
	clock = t0.Add(time.Minute + time.Second)
	last := report(PagePresence{Active: true, TTL: ttl})
	if got := report(PagePresence{Active: false, LastUntil: last.Until}); got.Active {
		t.Errorf("the latest tab going away = %+v, want absent", got)
	}

	// A short heartbeat leaves a longer one; without LastUntil a report
	// of going away ends the presence whatever (the API's way).
	clock = t0.Add(2 * time.Minute)
	long := report(PagePresence{Active: true, TTL: 10 * time.Minute})
	if got := report(PagePresence{Active: true, TTL: 30 * time.Second}); !got.Until.Equal(*long.Until) {
		t.Errorf("a 30 s heartbeat after a 10 min one = %+v, want until %s", got, long.Until)
	}
	if got := report(PagePresence{Active: false}); got.Active {
		t.Errorf("going away without LastUntil = %+v, want absent", got)
	}

	// A presence that ran out is no later heartbeat.
	clock = t0.Add(3 * time.Minute)
	old := report(PagePresence{Active: true, TTL: ttl})
	clock = clock.Add(2 * ttl)
	if got := report(PagePresence{Active: false, LastUntil: at(t0)}); got.Active || got.Until != nil {
		t.Errorf("going away after the presence ran out (%s) = %+v, want absent", old.Until, got)
	}
	for _, bad := range []time.Duration{0, 500 * time.Millisecond, maxPresenceTTL + time.Second} {
		if _, err := s.ReportPagePresence(ctx, "ws1", "ana", PagePresence{Active: true, TTL: bad}); fieldOf(err) != "ttlSeconds" {
			t.Errorf("a heartbeat of %s = %v, want ttlSeconds refused", bad, err)
		}
	}
	if _, err := s.ReportPagePresence(ctx, "ws2", "ana", PagePresence{Active: true, TTL: ttl}); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("another workspace's user = %v, want not_found", err)
	}
}

func TestConversation(t *testing.T) {
	tests := []struct {
		name string
		last *time.Time // the user's last WhatsApp message
		want ConversationWindow
	}{
		{"never wrote", nil, ConversationWindow{State: WindowNone}},
		{"wrote an hour ago", ptr(t0.Add(-time.Hour)), ConversationWindow{State: WindowOpen, OpenUntil: ptr(t0.Add(23 * time.Hour))}},
		{"wrote just under a day ago", ptr(t0.Add(-WhatsAppWindow + time.Second)), ConversationWindow{State: WindowOpen, OpenUntil: ptr(t0.Add(time.Second))}},
		{"wrote exactly a day ago", ptr(t0.Add(-WhatsAppWindow)), ConversationWindow{State: WindowExpired}},
		{"wrote two days ago", ptr(t0.Add(-48 * time.Hour)), ConversationWindow{State: WindowExpired}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := newService(t)
			ctx := context.Background()
			if _, err := store.UpdateUser(ctx, "ws1", "ana", func(u *notify.User) error {
				u.WhatsAppLastInbound = tt.last
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Conversation(ctx, "ws1", "ana")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Conversation{WhatsApp: tt.want}, got); diff != "" {
				t.Errorf("Conversation (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOtherWorkspaceNotFound: a user id names a user of the caller's
// workspace only; another workspace's user is not found and not changed.
func TestOtherWorkspaceNotFound(t *testing.T) {
	s, store := newService(t)
	ctx := context.Background()
	dev, err := s.AddDevice(ctx, "ws1", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := store.GetUser(ctx, "ws1", "ana")
	calls := map[string]func() error{
		"Get": func() error { _, err := s.Get(ctx, "ws2", "ana"); return err },
		"AddDevice": func() error {
			_, err := s.AddDevice(ctx, "ws2", "ana", DeviceInput{Kind: notify.DeviceFCM, Token: "other"})
			return err
		},
		"RemoveDevice": func() error { return s.RemoveDevice(ctx, "ws2", "ana", dev.ID) },
		"SetPushPermission": func() error {
			_, err := s.SetPushPermission(ctx, "ws2", "ana", notify.PermissionBlocked)
			return err
		},
		"Preferences": func() error { _, err := s.Preferences(ctx, "ws2", "ana"); return err },
		"SetPreferences": func() error {
			_, err := s.SetPreferences(ctx, "ws2", "ana", notify.Preferences{Categories: map[string]bool{"x": false}})
			return err
		},
		"SetPresence":  func() error { _, err := s.SetPresence(ctx, "ws2", "ana", PresenceInput{Active: ptr(true)}); return err },
		"Conversation": func() error { _, err := s.Conversation(ctx, "ws2", "ana"); return err },
		"Delete":       func() error { return s.Delete(ctx, "ws2", "ana") },
	}
	for name, call := range calls {
		if err := call(); !notify.IsCode(err, notify.CodeNotFound) {
			t.Errorf("%s from ws2 = %v, want not_found", name, err)
		}
	}
	users, _, err := s.List(ctx, "ws2", notify.UserFilter{}, notify.Page{Limit: 10})
	if err != nil || len(users) != 0 {
		t.Errorf("List(ws2) = %d users, %v; want none", len(users), err)
	}
	after, err := store.GetUser(ctx, "ws1", "ana")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("ws1's user changed by ws2's calls (-before +after):\n%s", diff)
	}
}

func TestDelete(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if err := s.Delete(ctx, "ws1", "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "ws1", "ana"); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("Get after Delete = %v, want not_found", err)
	}
}
