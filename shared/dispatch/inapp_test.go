package dispatch

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// inAppFixture is a fixture whose in-app channel is the real inbox sender
// over its store, which keeps the tests' clock (inbox messages expire by
// the store's clock).
func inAppFixture(t *testing.T) (*fixture, *Dispatcher) {
	t.Helper()
	f := newFixture(t)
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "inbox.db"), boltstore.WithNoSync(), boltstore.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.store = s
	senders := Senders{Push: f.rec, WebPush: f.rec, SMS: f.rec, Email: f.rec, WhatsApp: f.rec,
		InApp: channel.NewInbox(s, &notify.IDs{}, func() time.Time { return now })}
	return f, New(s, senders, Options{Now: func() time.Time { return now }, Concurrency: 4, NotFoundWait: time.Millisecond})
}

func (f *fixture) inbox(user string) []notify.InboxMessage {
	f.t.Helper()
	ms, _, err := f.store.ListInbox(context.Background(), "ws1", user, notify.InboxAll, notify.Page{Limit: 50})
	if err != nil {
		f.t.Fatal(err)
	}
	return ms
}

// An in-app send lands, rendered for each user, in their inbox and is
// delivered at once. It needs no address nor device, presence does not
// hold it back (it is how a user in the app is told), and the
// preferences apply: the channel or the category turned off skips the
// user with no_consent and leaves their inbox empty.
func TestInAppRules(t *testing.T) {
	f, d := inAppFixture(t)
	future := now.Add(time.Minute)
	f.user(notify.User{ID: "ok", Name: "Ana"}) // no email, phone nor device
	f.user(notify.User{ID: "present", Name: "Bea", PresenceUntil: &future})
	f.user(notify.User{ID: "nocat", Name: "Carla", Preferences: notify.Preferences{Categories: map[string]bool{"bills": false}}})
	f.user(notify.User{ID: "nochannel", Name: "Dani", Preferences: notify.Preferences{Channels: map[notify.Channel]bool{notify.ChannelInApp: false}}})
	f.user(notify.User{ID: "catchannel", Name: "Eva", Preferences: notify.Preferences{CategoryChannels: map[string]map[notify.Channel]bool{"bills": {notify.ChannelInApp: false, notify.ChannelEmail: true}}}})
	f.user(notify.User{ID: "noname"})
	content := notify.Template{Title: "Tu factura, {{name}}", Body: "Ahorra {{offer}} este mes", Route: "bills/latest",
		Push: &notify.PushExtras{Icon: "https://cdn.example/i.png", Image: "https://cdn.example/b.png", Buttons: []notify.Button{{ID: "pay", Label: "Pagar", Route: "pay"}}}}
	n := f.notification("N1", notify.ChannelInApp, content, 8)
	n.Category = "bills"
	if err := f.store.CreateNotification(context.Background(), withID(n, "N2")); err != nil {
		t.Fatal(err)
	}
	ids := []string{"ok", "present", "nocat", "nochannel", "catchannel", "noname", "ghost"}
	var rs []notify.Recipient
	for _, id := range ids {
		rs = append(rs, notify.Recipient{UserID: id})
	}
	rs = append(rs, notify.Recipient{Address: "+34600000001"})
	msg := message(t, "N2", 0, rs...)
	for round := range 2 { // a redelivered message leaves nothing twice
		if errs := d.Handle(context.Background(), []Message{msg}); errs[0] != nil {
			t.Fatalf("Handle, round %d: %v", round, errs[0])
		}
	}

	type result struct{ Status, Reason string }
	got := map[string]result{}
	for k, dl := range f.deliveries("N2") {
		got[k] = result{string(dl.Status), dl.Reason}
		if dl.Channel != notify.ChannelInApp {
			t.Errorf("delivery %s on %s, want inapp", k, dl.Channel)
		}
	}
	want := map[string]result{
		"ok":                {"delivered", ""},
		"present":           {"delivered", ""},
		"nocat":             {"skipped", notify.ReasonNoConsent},
		"nochannel":         {"skipped", notify.ReasonNoConsent},
		"catchannel":        {"skipped", notify.ReasonNoConsent},
		"noname":            {"failed", notify.ReasonMissingVariable},
		"ghost":             {"skipped", notify.ReasonUnknownUser},
		"addr#+34600000001": {"skipped", notify.ReasonInvalidAddress},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("deliveries (-want +got):\n%s", d)
	}

	inbox := f.inbox("ok")
	if len(inbox) != 1 {
		t.Fatalf("inbox of ok = %+v, want one message", inbox)
	}
	m := inbox[0]
	wantMsg := notify.InboxMessage{WorkspaceID: "ws1", UserID: "ok", ID: m.ID, NotificationID: "N2",
		Title: "Tu factura, Ana", Body: "Ahorra 10% este mes", Route: "bills/latest", Category: "bills",
		Icon: "https://cdn.example/i.png", Image: "https://cdn.example/b.png", Buttons: []notify.Button{{ID: "pay", Label: "Pagar", Route: "pay"}},
		CreatedAt: now}
	if d := cmp.Diff(wantMsg, m); d != "" {
		t.Errorf("inbox message (-want +got):\n%s", d)
	}
	if dl := f.deliveries("N2")["ok"]; dl.ProviderMessageID != m.ID || dl.Address != "ok" {
		t.Errorf("delivery of ok: provider message %q, address %q; want the inbox message %s and the user id", dl.ProviderMessageID, dl.Address, m.ID)
	}
	if got := f.inbox("present"); len(got) != 1 || got[0].Body != "Ahorra 10% este mes" {
		t.Errorf("inbox of a user present in the app = %+v, want the message", got)
	}
	for _, id := range []string{"nocat", "nochannel", "catchannel", "noname"} {
		if got := f.inbox(id); len(got) != 0 {
			t.Errorf("inbox of %s = %+v, want none", id, got)
		}
	}
	st, err := f.store.InboxState(context.Background(), "ws1", "ok")
	if err != nil || st.Unread != 1 {
		t.Errorf("InboxState of ok = %+v, %v; want one unread", st, err)
	}
	c, status := f.counts("N2")
	if d := cmp.Diff(notify.Counts{Total: 8, Delivered: 2, Failed: 1, Skipped: 5}, c); d != "" || status != notify.StatusCompleted {
		t.Errorf("counts (-want +got):\n%s status %s", d, status)
	}
	f.settled("N2")
}

// withID is n as another notification.
func withID(n notify.Notification, id string) notify.Notification {
	n.ID = id
	return n
}

// In-app as a fallback: a push the user cannot get (no device) reaches
// their inbox instead.
func TestInAppFallback(t *testing.T) {
	f, d := inAppFixture(t)
	f.user(notify.User{ID: "u1", Name: "Ana", PushPermission: notify.PermissionAllowed})
	n := f.notification("N1", notify.ChannelPush, notify.Template{Title: "Hola {{name}}", Body: "Nueva tarifa"}, 1)
	n.Fallback = []notify.Channel{notify.ChannelInApp}
	if err := f.store.CreateNotification(context.Background(), withID(n, "N3")); err != nil {
		t.Fatal(err)
	}
	if errs := d.Handle(context.Background(), []Message{message(t, "N3", 0, notify.Recipient{UserID: "u1"})}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	dl := f.deliveries("N3")["u1"]
	if dl.Channel != notify.ChannelInApp || dl.Status != notify.DeliveryDelivered {
		t.Errorf("delivery = %s on %s, want delivered on inapp", dl.Status, dl.Channel)
	}
	if got := f.inbox("u1"); len(got) != 1 || got[0].Title != "Hola Ana" {
		t.Errorf("inbox = %+v, want the rendered message", got)
	}
	if len(f.rec.sent) != 0 {
		t.Errorf("the other channels sent %v, want nothing", f.rec.sent)
	}
}
