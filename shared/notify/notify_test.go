package notify

import (
	"strings"
	"testing"
	"time"
)

func TestRecipientKey(t *testing.T) {
	tests := []struct {
		r    Recipient
		want string
	}{
		{Recipient{UserID: "u1"}, "u1"},
		{Recipient{UserID: "u1", Address: "+34600000001"}, "u1"}, // a user's address is the user's
		{Recipient{Address: "+34600000001"}, "addr#+34600000001"},
		{Recipient{Address: "ana@example.com", Variables: map[string]string{"a": "b"}}, "addr#ana@example.com"},
	}
	for _, tt := range tests {
		if got := tt.r.Key(); got != tt.want {
			t.Errorf("%+v.Key() = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestChannels(t *testing.T) {
	tests := []struct {
		ch    Channel
		valid bool
		kind  string
	}{
		{ChannelPush, true, ""},
		{ChannelWebPush, true, ""},
		{ChannelSMS, true, "phone"},
		{ChannelWhatsApp, true, "phone"},
		{ChannelEmail, true, "email"},
		{ChannelInApp, true, ""},
		{"pigeon", false, ""},
		{"", false, ""},
		{"SMS", false, ""},
	}
	for _, tt := range tests {
		if got := tt.ch.Valid(); got != tt.valid {
			t.Errorf("Channel(%q).Valid() = %t, want %t", tt.ch, got, tt.valid)
		}
		if got := tt.ch.AddressKind(); got != tt.kind {
			t.Errorf("Channel(%q).AddressKind() = %q, want %q", tt.ch, got, tt.kind)
		}
	}
	if len(Channels) != 6 {
		t.Errorf("Channels = %v, want the six channels", Channels)
	}
}

func TestAPIKeyAllows(t *testing.T) {
	tests := []struct {
		scopes []Scope
		asked  Scope
		want   bool
	}{
		{[]Scope{ScopeRead}, ScopeRead, true},
		{[]Scope{ScopeRead}, ScopeSend, false},
		{[]Scope{ScopeSend}, ScopeRead, false},
		{[]Scope{ScopeRead, ScopeSend}, ScopeSend, true},
		{[]Scope{ScopeAdmin}, ScopeRead, true},
		{[]Scope{ScopeAdmin}, ScopeSend, true},
		{[]Scope{ScopeSend}, ScopeAdmin, false},
		{nil, ScopeRead, false},
	}
	for _, tt := range tests {
		if got := (APIKey{Scopes: tt.scopes}).Allows(tt.asked); got != tt.want {
			t.Errorf("key with %v Allows(%s) = %t, want %t", tt.scopes, tt.asked, got, tt.want)
		}
	}
}

func TestUserPushEnabledAndTags(t *testing.T) {
	fcm, web := Device{ID: "d1", Kind: DeviceFCM}, Device{ID: "d2", Kind: DeviceWebPush}
	tests := []struct {
		name string
		u    User
		want bool
	}{
		{"allowed with a phone", User{PushPermission: PermissionAllowed, Devices: []Device{fcm}}, true},
		{"allowed with an iPhone", User{PushPermission: PermissionAllowed, Devices: []Device{{Kind: DeviceAPNs}}}, true},
		{"allowed with only a browser", User{PushPermission: PermissionAllowed, Devices: []Device{web}}, false},
		{"allowed without devices", User{PushPermission: PermissionAllowed}, false},
		{"never asked", User{PushPermission: PermissionAsk, Devices: []Device{fcm}}, false},
		{"blocked", User{PushPermission: PermissionBlocked, Devices: []Device{fcm}}, false},
	}
	for _, tt := range tests {
		if got := tt.u.PushEnabled(); got != tt.want {
			t.Errorf("%s: PushEnabled() = %t, want %t", tt.name, got, tt.want)
		}
	}
	u := User{Tags: []string{"vip", "madrid"}}
	if !u.HasTag("madrid") || u.HasTag("Madrid") || u.HasTag("") {
		t.Errorf("HasTag of %v: madrid %t, Madrid %t, empty %t; want true, false, false", u.Tags, u.HasTag("madrid"), u.HasTag("Madrid"), u.HasTag(""))
	}
}

func TestTemplateSendProblemAndSummary(t *testing.T) {
	if p := (Template{ID: "tpl_1", Status: TemplateDraft}).SendProblem(); !strings.Contains(p, "tpl_1 is a draft") || !strings.Contains(p, "publish") {
		t.Errorf("a draft's SendProblem = %q, want it named as a draft to publish", p)
	}
	for _, s := range []TemplateStatus{TemplatePublished, ""} {
		if p := (Template{ID: "tpl_1", Status: s}).SendProblem(); p != "" {
			t.Errorf("SendProblem of status %q = %q, want none", s, p)
		}
	}
	tests := []struct {
		name        string
		t           Template
		title, body string
	}{
		{"title and body", Template{Title: "T", Body: "B", Email: &EmailExtras{Subject: "S"}}, "T", "B"},
		{"an email's subject", Template{Body: "B", Email: &EmailExtras{Subject: "S"}}, "S", "B"},
		{"a WhatsApp template's name", Template{WhatsApp: &WhatsAppTemplate{Name: "order_ready"}}, "", "[template order_ready]"},
		{"a WhatsApp template with its own text", Template{Body: "B", WhatsApp: &WhatsAppTemplate{Name: "order_ready"}}, "", "B"},
		{"nothing", Template{}, "", ""},
	}
	for _, tt := range tests {
		if title, body := tt.t.Summary(); title != tt.title || body != tt.body {
			t.Errorf("%s: Summary() = %q, %q; want %q, %q", tt.name, title, body, tt.title, tt.body)
		}
	}
}

func TestStatusFinal(t *testing.T) {
	for s, want := range map[Status]bool{StatusScheduled: false, StatusQueued: false, StatusSending: false,
		StatusCompleted: true, StatusCancelled: true, StatusFailed: true} {
		if got := s.Final(); got != want {
			t.Errorf("%s.Final() = %t, want %t", s, got, want)
		}
	}
}

func TestCounts(t *testing.T) {
	a := Counts{Total: 10, Queued: 4, Sent: 3, Delivered: 1, Read: 1, Failed: 1, Skipped: 0}
	b := Counts{Total: 1, Queued: 1, Sent: 2, Delivered: 3, Read: 4, Failed: 5, Skipped: 6}
	if got, want := a.Add(b), (Counts{11, 5, 5, 4, 5, 6, 6}); got != want {
		t.Errorf("Add = %+v, want %+v", got, want)
	}
	if got := a.Add(b).Sub(b); got != a {
		t.Errorf("Add then Sub = %+v, want %+v back", got, a)
	}
	if !(Counts{}).IsZero() || a.IsZero() || !a.Sub(a).IsZero() || (Counts{Skipped: 1}).IsZero() {
		t.Error("IsZero is true only when no field is set")
	}
}

func TestDeliveryStatuses(t *testing.T) {
	tests := []struct {
		s      DeliveryStatus
		valid  bool
		rank   int
		counts Counts
	}{
		{DeliveryQueued, true, 0, Counts{Queued: 1}},
		{DeliverySent, true, 1, Counts{Sent: 1}},
		{DeliveryDelivered, true, 2, Counts{Delivered: 1}},
		{DeliveryFailed, true, 2, Counts{Failed: 1}},
		{DeliveryRead, true, 3, Counts{Read: 1}},
		{DeliverySkipped, true, 4, Counts{Skipped: 1}},
		{"bounced", false, -1, Counts{}},
	}
	for _, tt := range tests {
		if got := tt.s.Valid(); got != tt.valid {
			t.Errorf("%q.Valid() = %t, want %t", tt.s, got, tt.valid)
		}
		if got := tt.s.Rank(); got != tt.rank {
			t.Errorf("%q.Rank() = %d, want %d", tt.s, got, tt.rank)
		}
		if got := tt.s.Counts(); got != tt.counts {
			t.Errorf("%q.Counts() = %+v, want %+v", tt.s, got, tt.counts)
		}
	}
	// The moves a provider's news may make, and the ones it may not.
	forward := [][2]DeliveryStatus{{DeliveryQueued, DeliverySent}, {DeliverySent, DeliveryDelivered}, {DeliverySent, DeliveryFailed}, {DeliveryDelivered, DeliveryRead}}
	for _, m := range forward {
		if m[0].Rank() >= m[1].Rank() {
			t.Errorf("%s → %s is not forward", m[0], m[1])
		}
	}
	backward := [][2]DeliveryStatus{{DeliveryDelivered, DeliveryFailed}, {DeliveryRead, DeliveryDelivered}, {DeliverySkipped, DeliverySent}, {DeliveryFailed, DeliverySent}}
	for _, m := range backward {
		if m[0].Rank() < m[1].Rank() {
			t.Errorf("%s → %s moves forward, want it refused", m[0], m[1])
		}
	}
}

func TestStandingSkip(t *testing.T) {
	allowed := User{PushPermission: PermissionAllowed, Devices: []Device{{Kind: DeviceFCM}, {Kind: DeviceWebPush}}, Email: "a@example.com", Phone: "+34600000001"}
	with := func(f func(u *User)) User {
		u := allowed
		u.Devices = append([]Device(nil), allowed.Devices...)
		f(&u)
		return u
	}
	promo := Notification{Category: "promo"}
	tests := []struct {
		name string
		n    Notification
		ch   Channel
		u    User
		want string
	}{
		{"push reaches", Notification{}, ChannelPush, allowed, ""},
		{"webpush reaches", Notification{}, ChannelWebPush, allowed, ""},
		{"email reaches", Notification{}, ChannelEmail, allowed, ""},
		{"sms reaches", Notification{}, ChannelSMS, allowed, ""},
		{"whatsapp reaches", Notification{}, ChannelWhatsApp, allowed, ""},
		{"channel turned off", Notification{}, ChannelSMS, with(func(u *User) { u.Preferences.Channels = map[Channel]bool{ChannelSMS: false} }), ReasonNoConsent},
		{"another channel turned off", Notification{}, ChannelSMS, with(func(u *User) { u.Preferences.Channels = map[Channel]bool{ChannelEmail: false} }), ""},
		{"channel turned on", Notification{}, ChannelSMS, with(func(u *User) { u.Preferences.Channels = map[Channel]bool{ChannelSMS: true} }), ""},
		{"category turned off", promo, ChannelEmail, with(func(u *User) { u.Preferences.Categories = map[string]bool{"promo": false} }), ReasonNoConsent},
		{"category off, send without one", Notification{}, ChannelEmail, with(func(u *User) { u.Preferences.Categories = map[string]bool{"promo": false} }), ""},
		{"category's channel turned off", promo, ChannelSMS, with(func(u *User) {
			u.Preferences.CategoryChannels = map[string]map[Channel]bool{"promo": {ChannelSMS: false}}
		}), ReasonNoConsent},
		{"category's channel off, its other channels go", promo, ChannelEmail, with(func(u *User) {
			u.Preferences.CategoryChannels = map[string]map[Channel]bool{"promo": {ChannelSMS: false}}
		}), ""},
		{"category's channel off, other categories go", Notification{Category: "bills"}, ChannelSMS, with(func(u *User) {
			u.Preferences.CategoryChannels = map[string]map[Channel]bool{"promo": {ChannelSMS: false}}
		}), ""},
		{"category's channel off, send without a category goes", Notification{}, ChannelSMS, with(func(u *User) {
			u.Preferences.CategoryChannels = map[string]map[Channel]bool{"promo": {ChannelSMS: false}}
		}), ""},
		{"category's channel on", promo, ChannelSMS, with(func(u *User) {
			u.Preferences.CategoryChannels = map[string]map[Channel]bool{"promo": {ChannelSMS: true}}
		}), ""},
		{"category's channel on, channel off everywhere", promo, ChannelSMS, with(func(u *User) {
			u.Preferences.Channels = map[Channel]bool{ChannelSMS: false}
			u.Preferences.CategoryChannels = map[string]map[Channel]bool{"promo": {ChannelSMS: true}}
		}), ReasonNoConsent},
		{"consent before the address", promo, ChannelEmail, with(func(u *User) { u.Email = ""; u.Preferences.Categories = map[string]bool{"promo": false} }), ReasonNoConsent},
		{"push never asked", Notification{}, ChannelPush, with(func(u *User) { u.PushPermission = PermissionAsk }), ReasonNoConsent},
		{"push blocked", Notification{}, ChannelPush, with(func(u *User) { u.PushPermission = PermissionBlocked }), ReasonBlocked},
		{"push without a phone", Notification{}, ChannelPush, with(func(u *User) { u.Devices = []Device{{Kind: DeviceWebPush}} }), ReasonNoDevice},
		{"webpush never asked still reaches", Notification{}, ChannelWebPush, with(func(u *User) { u.PushPermission = PermissionAsk }), ""},
		{"webpush blocked", Notification{}, ChannelWebPush, with(func(u *User) { u.PushPermission = PermissionBlocked }), ReasonBlocked},
		{"webpush without a browser", Notification{}, ChannelWebPush, with(func(u *User) { u.Devices = []Device{{Kind: DeviceAPNs}} }), ReasonNoDevice},
		{"email without an address", Notification{}, ChannelEmail, with(func(u *User) { u.Email = "" }), ReasonInvalidAddress},
		{"sms without a phone", Notification{}, ChannelSMS, with(func(u *User) { u.Phone = "" }), ReasonInvalidAddress},
		{"whatsapp without a phone", Notification{}, ChannelWhatsApp, with(func(u *User) { u.Phone = "" }), ReasonInvalidAddress},
	}
	for _, tt := range tests {
		if got := StandingSkip(tt.n, tt.ch, tt.u); got != tt.want {
			t.Errorf("%s: StandingSkip = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestUserFilterWhatsAppWindow: the console's expired conversations.
func TestUserFilterWhatsAppWindow(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	wrote := func(ago time.Duration) *time.Time { at := now.Add(-ago); return &at }
	for _, tt := range []struct {
		name          string
		u             User
		closed, never bool
	}{
		{"never wrote", User{Phone: "+34600000001"}, true, true},
		{"wrote a day and a minute ago", User{Phone: "+34600000001", WhatsAppLastInbound: wrote(WhatsAppWindow + time.Minute)}, true, false},
		{"wrote exactly a day ago", User{Phone: "+34600000001", WhatsAppLastInbound: wrote(WhatsAppWindow)}, true, false},
		{"wrote an hour ago", User{Phone: "+34600000001", WhatsAppLastInbound: wrote(time.Hour)}, false, false},
		{"no phone", User{Email: "a@example.com"}, false, false},
	} {
		if got := (UserFilter{WhatsAppClosedAt: &now}).Matches(tt.u); got != tt.closed {
			t.Errorf("%s: closed = %t, want %t", tt.name, got, tt.closed)
		}
		if got := (UserFilter{NeverWrote: true}).Matches(tt.u); got != tt.never {
			t.Errorf("%s: never wrote = %t, want %t", tt.name, got, tt.never)
		}
	}
}

func TestTrackedByMessageID(t *testing.T) {
	for _, ch := range Channels {
		if got, want := TrackedByMessageID(ch), ch == ChannelSMS; got != want {
			t.Errorf("TrackedByMessageID(%s) = %t, want %t", ch, got, want)
		}
	}
}

func TestUserFilter(t *testing.T) {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	before, after := at.Add(-time.Hour), at.Add(time.Hour)
	yes, no := true, false
	u := User{ID: "cust-42", Name: "Ana Pérez", Email: "Ana@Example.com", Phone: "+34600000001", Status: "active", Type: "client",
		Language: "es", Tags: []string{"vip", "madrid"}, Attributes: map[string]string{"plan": "pro"}, CreatedAt: at}
	tests := []struct {
		name string
		f    UserFilter
		want bool
	}{
		{"everything", UserFilter{}, true},
		{"one of the statuses", UserFilter{Status: []string{"blocked", "active"}}, true},
		{"none of the statuses", UserFilter{Status: []string{"blocked"}}, false},
		{"the type", UserFilter{Type: "client"}, true},
		{"another type", UserFilter{Type: "newsletter"}, false},
		{"a tag", UserFilter{Tag: "vip"}, true},
		{"every tag", UserFilter{Tags: []string{"vip", "madrid"}}, true},
		{"not every tag", UserFilter{Tags: []string{"vip", "paris"}}, false},
		{"the language", UserFilter{Language: "es"}, true},
		{"another language", UserFilter{Language: "en"}, false},
		{"an attribute", UserFilter{Attributes: map[string]string{"plan": "pro"}}, true},
		{"another attribute value", UserFilter{Attributes: map[string]string{"plan": "free"}}, false},
		{"a missing attribute", UserFilter{Attributes: map[string]string{"city": ""}}, false},
		{"push not enabled", UserFilter{PushEnabled: &no}, true},
		{"push enabled", UserFilter{PushEnabled: &yes}, false},
		{"has an email", UserFilter{HasEmail: &yes}, true},
		{"has no phone", UserFilter{HasPhone: &no}, false},
		{"created after, inclusive", UserFilter{CreatedAfter: &at}, true},
		{"created after later", UserFilter{CreatedAfter: &after}, false},
		{"created before, exclusive", UserFilter{CreatedBefore: &at}, false},
		{"created before later", UserFilter{CreatedBefore: &after, CreatedAfter: &before}, true},
		{"q in the id", UserFilter{Q: "CUST"}, true},
		{"q in the name", UserFilter{Q: "pérez"}, true},
		{"q in the email", UserFilter{Q: "example.COM"}, true},
		{"q in the phone's digits", UserFilter{Q: "600 000 001"}, true},
		{"q nowhere", UserFilter{Q: "700000001"}, false},
		{"q of letters does not match the phone", UserFilter{Q: "zz"}, false},
		{"every field must pass", UserFilter{Type: "client", Language: "en"}, false},
		{"never wrote: closed", UserFilter{WhatsAppClosedAt: &at}, true},
		{"never wrote", UserFilter{NeverWrote: true}, true},
	}
	for _, tt := range tests {
		if got := tt.f.Matches(u); got != tt.want {
			t.Errorf("%s: Matches = %t, want %t", tt.name, got, tt.want)
		}
		if got, want := tt.f.IsZero(), tt.name == "everything"; got != want {
			t.Errorf("%s: IsZero = %t, want %t", tt.name, got, want)
		}
	}
}
