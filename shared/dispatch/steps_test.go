package dispatch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/render"
)

// The steps of handleNotification and deliverOn, each on its own; the
// tests of Handle and Settle drive them together.

func TestSkipReason(t *testing.T) {
	allowed := &notify.User{ID: "u1", PushPermission: notify.PermissionAllowed, Devices: []notify.Device{{Kind: notify.DeviceFCM}}}
	present := *allowed
	present.PresenceUntil = ptrTime(now.Add(time.Minute))
	tests := []struct {
		name   string
		status notify.Status
		r      notify.Recipient
		u      *notify.User
		want   string
	}{
		{"a user the rules let through", notify.StatusSending, notify.Recipient{UserID: "u1"}, allowed, ""},
		{"a raw address", notify.StatusSending, notify.Recipient{Address: "+34600000001"}, nil, ""},
		{"a cancelled send", notify.StatusCancelled, notify.Recipient{UserID: "u1"}, allowed, notify.ReasonCancelled},
		{"a failed send", notify.StatusFailed, notify.Recipient{Address: "+34600000001"}, nil, notify.ReasonCancelled},
		{"an unknown user", notify.StatusSending, notify.Recipient{UserID: "u9"}, nil, notify.ReasonUnknownUser},
		{"a user's own rule", notify.StatusSending, notify.Recipient{UserID: "u1"}, &present, notify.ReasonActiveInApp},
	}
	for _, tt := range tests {
		n := notify.Notification{Status: tt.status, Channel: notify.ChannelPush}
		if got := skipReason(n, notify.ChannelPush, tt.r, tt.u, now); got != tt.want {
			t.Errorf("%s: skipReason = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

func TestVariablesFor(t *testing.T) {
	u := &notify.User{ID: "u1", Name: "Ana", Language: "es", Attributes: map[string]string{"plan": "pro"}}
	tests := []struct {
		name     string
		n        notify.Notification
		r        notify.Recipient
		u        *notify.User
		want     map[string]string
		wantLang string
	}{
		{
			name: "the send's alone, for an address",
			n:    notify.Notification{Variables: map[string]string{"code": "X1"}},
			r:    notify.Recipient{Address: "+34600000001"},
			want: map[string]string{"code": "X1"},
		},
		{
			name: "the profile's over the send's",
			n:    notify.Notification{Variables: map[string]string{"name": "cliente", "code": "X1"}},
			r:    notify.Recipient{UserID: "u1"}, u: u,
			want:     map[string]string{"name": "Ana", "code": "X1", "id": "u1", "language": "es", "plan": "pro", "attributes.plan": "pro"},
			wantLang: "es",
		},
		{
			name: "the recipient's own over both",
			n:    notify.Notification{Variables: map[string]string{"code": "X1"}},
			r:    notify.Recipient{UserID: "u1", Variables: map[string]string{"code": "ROW7", "name": "Ana María"}}, u: u,
			want:     map[string]string{"name": "Ana María", "code": "ROW7", "id": "u1", "language": "es", "plan": "pro", "attributes.plan": "pro"},
			wantLang: "es",
		},
		{
			name: "an approved template's numbered parameters",
			n: notify.Notification{Variables: map[string]string{"order": "A-1"},
				Content: notify.Template{WhatsApp: &notify.WhatsAppTemplate{Name: "ready", Parameters: []string{"order", "missing", "order"}}}},
			r:    notify.Recipient{Address: "+34600000001"},
			want: map[string]string{"order": "A-1", "1": "A-1", "3": "A-1"},
		},
	}
	for _, tt := range tests {
		vars, lang := variablesFor(tt.n, tt.r, tt.u)
		if d := cmp.Diff(tt.want, vars); d != "" || lang != tt.wantLang {
			t.Errorf("%s: variables (-want +got):\n%s\nlanguage %q, want %q", tt.name, d, lang, tt.wantLang)
		}
	}
}

func TestBuildSendOutcomes(t *testing.T) {
	d := New(nil, Senders{}, Options{Now: func() time.Time { return now }})
	wa := &notify.WhatsAppTemplate{Name: "ready", Language: "es", Category: "utility", Parameters: []string{"order"}}
	recent := &notify.User{ID: "u1", WhatsAppLastInbound: ptrTime(now.Add(-time.Hour))}
	stale := &notify.User{ID: "u1", WhatsAppLastInbound: ptrTime(now.Add(-WhatsAppWindow - time.Second))}
	tests := []struct {
		name       string
		ch         notify.Channel
		content    notify.Template
		vars       map[string]string
		u          *notify.User
		wantCall   bool
		wantStatus notify.DeliveryStatus
		wantReason string
	}{
		{name: "push", ch: notify.ChannelPush, wantCall: true},
		{name: "email", ch: notify.ChannelEmail, wantCall: true},
		{name: "a template with its parameter", ch: notify.ChannelWhatsApp, content: notify.Template{WhatsApp: wa}, vars: map[string]string{"order": "A-1"}, wantCall: true},
		{name: "a template without its parameter", ch: notify.ChannelWhatsApp, content: notify.Template{WhatsApp: wa}, wantStatus: notify.DeliveryFailed, wantReason: notify.ReasonMissingVariable},
		{name: "text inside the window", ch: notify.ChannelWhatsApp, u: recent, wantCall: true},
		{name: "text outside the window", ch: notify.ChannelWhatsApp, u: stale, wantStatus: notify.DeliverySkipped, wantReason: notify.ReasonWindowExpired},
		{name: "text to an address, with no window known", ch: notify.ChannelWhatsApp, wantStatus: notify.DeliverySkipped, wantReason: notify.ReasonWindowExpired},
		{name: "an unknown channel", ch: "pigeon", wantStatus: notify.DeliveryFailed, wantReason: "unknown_channel"},
	}
	for _, tt := range tests {
		n := notify.Notification{WorkspaceID: "ws1", ID: "ntf_1", Channel: tt.ch, Content: tt.content}
		dl := d.newDelivery(n, tt.ch, "ntf_1:0", notify.Recipient{UserID: "u1"})
		send := d.buildSend(n, tt.ch, &dl, "+34600000001", render.Message{Body: "Hola"}, tt.vars, tt.u, now)
		if got := send != nil; got != tt.wantCall || dl.Status != tt.wantStatus || dl.Reason != tt.wantReason {
			t.Errorf("%s: a call %t, delivery %q %q; want a call %t, %q %q", tt.name, got, dl.Status, dl.Reason, tt.wantCall, tt.wantStatus, tt.wantReason)
		}
	}
}

func TestBuildSendCountsSMSSegments(t *testing.T) {
	d := New(nil, Senders{}, Options{})
	n := notify.Notification{WorkspaceID: "ws1", ID: "ntf_1", Channel: notify.ChannelSMS}
	tests := []struct {
		text     string
		enc      string
		segments int
	}{
		{"Hola", "GSM-7", 1},
		{"Hola 😀", "UCS-2", 1},
		{strings.Repeat("a", 161), "GSM-7", 2},
	}
	for _, tt := range tests {
		dl := d.newDelivery(n, notify.ChannelSMS, "ntf_1:0", notify.Recipient{Address: "+34600000001"})
		if send := d.buildSend(n, notify.ChannelSMS, &dl, "+34600000001", render.Message{Body: tt.text}, nil, nil, now); send == nil {
			t.Fatalf("no call for an SMS")
		}
		if dl.Encoding != tt.enc || dl.Segments != tt.segments {
			t.Errorf("SMS %q recorded %s in %d segments, want %s in %d", tt.text, dl.Encoding, dl.Segments, tt.enc, tt.segments)
		}
	}
}

func TestPlan(t *testing.T) {
	quiet := notify.User{ID: "u2", PushPermission: notify.PermissionAllowed, Devices: []notify.Device{{Kind: notify.DeviceFCM}},
		Preferences: notify.Preferences{QuietHours: &notify.QuietHours{Start: "09:00", End: "11:00"}}}
	users := map[string]notify.User{"u2": quiet}
	items := []item{
		{msg: notify.DispatchMessage{Chunk: "c:0", Recipients: []notify.Recipient{{UserID: "u1"}, {UserID: "u2"}, {UserID: "u3"}}}},
		{msg: notify.DispatchMessage{Chunk: "c:1", Recipients: []notify.Recipient{{UserID: "u1"}, {UserID: "u4"}, {UserID: "u5"}}}},
	}
	existing := map[string]notify.Delivery{
		"u3": {Key: "u3", Chunk: "c:0", Status: notify.DeliverySent}, // this chunk's, on an earlier receive
		"u5": {Key: "u5", Chunk: "c:9", Status: notify.DeliverySent}, // another chunk's
	}
	n := notify.Notification{Channel: notify.ChannelPush, Status: notify.StatusSending}

	d := New(nil, Senders{}, Options{Requeue: nopRequeuer{}})
	got := d.plan(n, items, existing, users, now)
	want := plan{
		jobs:     []job{{0, notify.Recipient{UserID: "u1"}}, {1, notify.Recipient{UserID: "u4"}}},
		prior:    [][]notify.Delivery{{existing["u3"]}, nil},
		deferred: [][]deferredRecipient{{{notify.Recipient{UserID: "u2"}, time.Date(2026, 11, 21, 11, 0, 0, 0, time.UTC)}}, nil},
		sending:  []bool{true, true},
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(plan{}, job{}, deferredRecipient{})); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}

	// Without a requeue, and when settling, nobody waits.
	noRequeue := New(nil, Senders{}, Options{}).plan(n, items, existing, users, now)
	items[0].mode = modeSettle
	settling := d.plan(n, items, existing, users, now)
	for name, pl := range map[string]plan{"without a requeue": noRequeue, "settling": settling} {
		if len(pl.jobs) != 3 || pl.deferred[0] != nil {
			t.Errorf("%s: %d jobs, deferred %v; want u1, u2 and u4 decided now", name, len(pl.jobs), pl.deferred[0])
		}
	}
}

type nopRequeuer struct{}

func (nopRequeuer) SendDelayed(context.Context, [][]byte, time.Duration) error { return nil }

func TestCountParts(t *testing.T) {
	items := []item{{msg: notify.DispatchMessage{Chunk: "c:0"}}, {msg: notify.DispatchMessage{Chunk: "c:1"}}, {msg: notify.DispatchMessage{Chunk: "c:2"}}, {msg: notify.DispatchMessage{Chunk: "c:3"}}}
	prior := [][]notify.Delivery{
		{{Status: notify.DeliverySent}, {Status: notify.DeliverySkipped}, {Status: notify.DeliveryDelivered}},
		{{Status: notify.DeliveryFailed}}, // its message failed: counted when retried
		nil,                               // recorded nothing
		{{Status: notify.DeliveryFailed}},
	}
	errs := []error{nil, errors.New("retry"), nil, nil}
	want := []notify.CountPart{
		{Marker: "c:0", Delta: notify.Counts{Queued: -3, Sent: 1, Skipped: 1, Delivered: 1}},
		{Marker: "c:3", Delta: notify.Counts{Queued: -1, Failed: 1}},
	}
	if d := cmp.Diff(want, countParts(items, prior, errs)); d != "" {
		t.Errorf("count parts (-want +got):\n%s", d)
	}
}

func TestFailAllAndRest(t *testing.T) {
	first, later := errors.New("first"), errors.New("later")
	errs := []error{nil, first, nil}
	failRest(errs, later)
	if d := cmp.Diff([]error{later, first, later}, errs, cmp.Comparer(func(a, b error) bool { return a == b })); d != "" {
		t.Errorf("failRest kept no earlier error (-want +got):\n%s", d)
	}
	if got := failAll(make([]error, 2), later); got[0] != later || got[1] != later {
		t.Errorf("failAll = %v, want later twice", got)
	}
}
