package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// recorder is a sender for every channel that remembers what it sent and
// fails the recipients it is told to.
type recorder struct {
	mu        sync.Mutex
	sent      map[string]int // recipient key → sends
	texts     map[string]string
	transient map[string]error
	permanent map[string]bool
}

func newRecorder() *recorder {
	return &recorder{sent: map[string]int{}, texts: map[string]string{}, transient: map[string]error{}, permanent: map[string]bool{}}
}

func (r *recorder) send(env channel.Envelope, text string) (channel.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.transient[env.RecipientKey]; err != nil {
		return channel.Receipt{}, err
	}
	if r.permanent[env.RecipientKey] {
		return channel.Receipt{}, channel.Permanent("invalid_token", errors.New("bad token"))
	}
	r.sent[env.RecipientKey]++
	r.texts[env.RecipientKey] = text
	return channel.Receipt{ProviderMessageID: "pm-" + env.RecipientKey}, nil
}

func (r *recorder) SendPush(_ context.Context, m channel.PushMessage) (channel.Receipt, error) {
	return r.send(m.Envelope, m.Title+"|"+m.Body+"|"+m.Route)
}
func (r *recorder) SendWebPush(_ context.Context, m channel.WebPushMessage) (channel.Receipt, error) {
	return r.send(m.Envelope, m.Title+"|"+m.Body)
}
func (r *recorder) SendSMS(_ context.Context, m channel.SMSMessage) (channel.Receipt, error) {
	return r.send(m.Envelope, m.To+"|"+m.Text)
}
func (r *recorder) SendEmail(_ context.Context, m channel.EmailMessage) (channel.Receipt, error) {
	return r.send(m.Envelope, m.To+"|"+m.Subject+"|"+m.Text)
}
func (r *recorder) SendWhatsApp(_ context.Context, m channel.WhatsAppMessage) (channel.Receipt, error) {
	text := m.Text
	if m.Template != nil {
		text = fmt.Sprint(m.Template.Name, m.Template.Parameters)
	}
	return r.send(m.Envelope, m.To+"|"+text)
}

// flakyCounts fails ApplyCounts a number of times, as a crash between
// recording deliveries and counting them would.
type flakyCounts struct {
	*boltstore.Store
	fail int
}

func (f *flakyCounts) ApplyCounts(ctx context.Context, ws, id string, parts []notify.CountPart) (notify.Notification, error) {
	if f.fail > 0 {
		f.fail--
		return notify.Notification{}, errors.New("connection reset")
	}
	return f.Store.ApplyCounts(ctx, ws, id, parts)
}

type fixture struct {
	t     *testing.T
	store *boltstore.Store
	rec   *recorder
	logs  *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "h.db"), boltstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &fixture{t: t, store: s, rec: newRecorder(), logs: &bytes.Buffer{}}
}

func (f *fixture) dispatcher(store Store) *Dispatcher {
	senders := Senders{Push: f.rec, WebPush: f.rec, SMS: f.rec, Email: f.rec, WhatsApp: f.rec}
	log := slog.New(slog.NewJSONHandler(f.logs, nil))
	return New(store, senders, Options{Now: func() time.Time { return now }, Concurrency: 4, Log: log, NotFoundWait: time.Millisecond})
}

func (f *fixture) user(u notify.User) {
	f.t.Helper()
	u.WorkspaceID = "ws1"
	if u.PushPermission == "" {
		u.PushPermission = notify.PermissionAsk
	}
	u.SealKey = seal.NewKey()
	u.CreatedAt, u.UpdatedAt = now, now
	if _, err := f.store.PutUser(context.Background(), u); err != nil {
		f.t.Fatal(err)
	}
	if len(u.Devices) > 0 || u.PushPermission != notify.PermissionAsk || u.PresenceUntil != nil || !cmp.Equal(u.Preferences, notify.Preferences{}) {
		if _, err := f.store.UpdateUser(context.Background(), "ws1", u.ID, func(s *notify.User) error {
			s.Devices, s.PushPermission, s.PresenceUntil, s.Preferences = u.Devices, u.PushPermission, u.PresenceUntil, u.Preferences
			return nil
		}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) notification(id string, ch notify.Channel, content notify.Template, total int) notify.Notification {
	f.t.Helper()
	content.Channel = ch
	n := notify.Notification{WorkspaceID: "ws1", ID: id, Channel: ch, Source: notify.SourceList, Title: content.Title, Body: content.Body,
		Route: "home", Status: notify.StatusQueued, Counts: notify.Counts{Total: int64(total), Queued: int64(total)},
		CreatedAt: now, UpdatedAt: now, Content: content, Variables: map[string]string{"offer": "10%"}}
	if err := f.store.CreateNotification(context.Background(), n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func message(t *testing.T, nid string, chunk int, rs ...notify.Recipient) Message {
	t.Helper()
	b, err := json.Marshal(notify.DispatchMessage{WorkspaceID: "ws1", NotificationID: nid, Chunk: fmt.Sprintf("%s:%d", nid, chunk), Recipients: rs})
	if err != nil {
		t.Fatal(err)
	}
	return Message{ID: fmt.Sprint("m", chunk), Body: b}
}

func (f *fixture) deliveries(nid string) map[string]notify.Delivery {
	f.t.Helper()
	out := map[string]notify.Delivery{}
	p := notify.Page{Limit: 500}
	for {
		ds, next, err := f.store.ListDeliveries(context.Background(), "ws1", nid, "", p)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, d := range ds {
			out[d.Key] = d
		}
		if next == "" {
			return out
		}
		p.Cursor = next
	}
}

func (f *fixture) counts(nid string) (notify.Counts, notify.Status) {
	f.t.Helper()
	n, err := f.store.GetNotification(context.Background(), "ws1", nid)
	if err != nil {
		f.t.Fatal(err)
	}
	return n.Counts, n.Status
}

func TestPushRules(t *testing.T) {
	f := newFixture(t)
	dev := []notify.Device{{ID: "d1", Kind: notify.DeviceFCM, Token: "t"}}
	future := now.Add(time.Minute)
	f.user(notify.User{ID: "ok", Name: "Ana", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.user(notify.User{ID: "ask", Name: "B", Devices: dev})
	f.user(notify.User{ID: "blocked", Name: "C", PushPermission: notify.PermissionBlocked, Devices: dev})
	f.user(notify.User{ID: "nodevice", Name: "D", PushPermission: notify.PermissionAllowed})
	f.user(notify.User{ID: "optout", Name: "E", PushPermission: notify.PermissionAllowed, Devices: dev, Preferences: notify.Preferences{Channels: map[notify.Channel]bool{notify.ChannelPush: false}}})
	f.user(notify.User{ID: "inapp", Name: "F", PushPermission: notify.PermissionAllowed, Devices: dev, PresenceUntil: &future})
	f.user(notify.User{ID: "noname", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.user(notify.User{ID: "badtoken", Name: "G", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.rec.permanent["badtoken"] = true
	n := f.notification("N1", notify.ChannelPush, notify.Template{Title: "Save {{offer}}", Body: "Hi {{name}}"}, 9)

	ids := []string{"ok", "ask", "blocked", "nodevice", "optout", "inapp", "noname", "badtoken", "ghost"}
	var rs []notify.Recipient
	for _, id := range ids {
		rs = append(rs, notify.Recipient{UserID: id})
	}
	errs := f.dispatcher(f.store).Handle(context.Background(), []Message{message(t, n.ID, 0, rs...)})
	if errs[0] != nil {
		t.Fatalf("Handle: %v", errs[0])
	}
	type result struct{ Status, Reason string }
	got := map[string]result{}
	for k, d := range f.deliveries(n.ID) {
		got[k] = result{string(d.Status), d.Reason}
	}
	want := map[string]result{
		"ok":       {"sent", ""},
		"ask":      {"skipped", notify.ReasonNoConsent},
		"blocked":  {"skipped", notify.ReasonBlocked},
		"nodevice": {"skipped", notify.ReasonNoDevice},
		"optout":   {"skipped", notify.ReasonNoConsent},
		"inapp":    {"skipped", notify.ReasonActiveInApp},
		"noname":   {"failed", notify.ReasonMissingVariable},
		"badtoken": {"failed", "invalid_token"},
		"ghost":    {"skipped", notify.ReasonUnknownUser},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if f.rec.texts["ok"] != "Save 10%|Hi Ana|home" {
		t.Errorf("sent %q, want rendered title, body and the default route", f.rec.texts["ok"])
	}
	c, st := f.counts(n.ID)
	if diff := cmp.Diff(notify.Counts{Total: 9, Sent: 1, Failed: 2, Skipped: 6}, c); diff != "" || st != notify.StatusCompleted {
		t.Errorf("counts (-want +got):\n%s status %s", diff, st)
	}
	f.settled(n.ID)
}

func TestSameBatchTwiceSendsNothingTwice(t *testing.T) {
	f := newFixture(t)
	var rs []notify.Recipient
	for i := 0; i < 150; i++ {
		id := fmt.Sprintf("u%03d", i)
		f.user(notify.User{ID: id, Name: id, Email: id + "@example.com"})
		rs = append(rs, notify.Recipient{UserID: id})
	}
	n := f.notification("N2", notify.ChannelEmail, notify.Template{Title: "Bill", Body: "Dear {{name}}"}, 150)
	batch := []Message{message(t, n.ID, 0, rs[:100]...), message(t, n.ID, 1, rs[100:]...)}
	d := f.dispatcher(f.store)
	for i := 0; i < 2; i++ {
		for j, err := range d.Handle(context.Background(), batch) {
			if err != nil {
				t.Fatalf("round %d message %d: %v", i, j, err)
			}
		}
	}
	for k, c := range f.rec.sent {
		if c != 1 {
			t.Errorf("%s sent %d times, want 1", k, c)
		}
	}
	if len(f.rec.sent) != 150 {
		t.Errorf("sent to %d recipients, want 150", len(f.rec.sent))
	}
	c, st := f.counts(n.ID)
	if diff := cmp.Diff(notify.Counts{Total: 150, Sent: 150}, c); diff != "" || st != notify.StatusCompleted {
		t.Errorf("counts (-want +got):\n%s status %s", diff, st)
	}
	// The address on the delivery is sealed with the user's key.
	d0 := f.deliveries(n.ID)["u000"]
	u, _ := f.store.GetUser(context.Background(), "ws1", "u000")
	if addr, err := seal.Open(u.SealKey, d0.Address); err != nil || addr != "u000@example.com" || !seal.IsSealed(d0.Address) {
		t.Errorf("delivery address %q opens to %q, %v", d0.Address, addr, err)
	}
}

func TestTransientFailureRetriesOnlyWhatIsLeft(t *testing.T) {
	f := newFixture(t)
	var rs []notify.Recipient
	for _, p := range []string{"+34600000001", "+34600000002", "+34600000003"} {
		rs = append(rs, notify.Recipient{Address: p, Variables: map[string]string{"code": p[len(p)-1:]}})
	}
	n := f.notification("N3", notify.ChannelSMS, notify.Template{Body: "Code {{code}}, {{offer}}"}, 3)
	f.rec.transient["addr#+34600000002"] = errors.New("503 from provider")
	store := &flakyCounts{Store: f.store}
	d := f.dispatcher(store)
	msg := message(t, n.ID, 0, rs...)
	if errs := d.Handle(context.Background(), []Message{msg}); errs[0] == nil {
		t.Fatalf("Handle with a transient error = nil, want the message retried")
	}
	if c, _ := f.counts(n.ID); c.Queued != 3 {
		t.Errorf("counts after a partial chunk = %+v, want nothing counted yet", c)
	}
	// The provider recovers, but the counts write fails once (a crash).
	delete(f.rec.transient, "addr#+34600000002")
	store.fail = 1
	if errs := d.Handle(context.Background(), []Message{msg}); errs[0] == nil {
		t.Fatalf("Handle with failing counts = nil, want retry")
	}
	if errs := d.Handle(context.Background(), []Message{msg}); errs[0] != nil {
		t.Fatalf("final retry: %v", errs[0])
	}
	if errs := d.Handle(context.Background(), []Message{msg}); errs[0] != nil {
		t.Fatalf("redelivery after success: %v", errs[0])
	}
	if diff := cmp.Diff(map[string]int{"addr#+34600000001": 1, "addr#+34600000002": 1, "addr#+34600000003": 1}, f.rec.sent); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	if !strings.Contains(f.logs.String(), "transient error, will retry") || strings.Contains(f.logs.String(), "3460000000") || strings.Contains(f.logs.String(), "Code") {
		t.Errorf("logs = %s, want the retry logged without phones or text", f.logs)
	}
	if f.rec.texts["addr#+34600000003"] != "+34600000003|Code 3, 10%" {
		t.Errorf("text = %q, want recipient and notification variables", f.rec.texts["addr#+34600000003"])
	}
	if got := f.deliveries(n.ID)["addr#+34600000003"]; got.Encoding != "GSM-7" || got.Segments != 1 {
		t.Errorf("SMS delivery encoding %q segments %d, want GSM-7 and 1", got.Encoding, got.Segments)
	}
	c, st := f.counts(n.ID)
	if diff := cmp.Diff(notify.Counts{Total: 3, Sent: 3}, c); diff != "" || st != notify.StatusCompleted {
		t.Errorf("counts (-want +got):\n%s status %s", diff, st)
	}
	f.settled(n.ID)
}

func TestCancelledOrFailedSendsNothing(t *testing.T) {
	for _, status := range []notify.Status{notify.StatusCancelled, notify.StatusFailed} {
		t.Run(string(status), func(t *testing.T) {
			f := newFixture(t)
			n := f.notification("N4", notify.ChannelSMS, notify.Template{Body: "Hi"}, 2)
			if _, err := f.store.SetNotificationStatus(context.Background(), "ws1", n.ID, status); err != nil {
				t.Fatal(err)
			}
			errs := f.dispatcher(f.store).Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"}, notify.Recipient{Address: "+34600000002"})})
			if errs[0] != nil {
				t.Fatal(errs[0])
			}
			if len(f.rec.sent) != 0 {
				t.Errorf("a %s notification sent %v", status, f.rec.sent)
			}
			c, st := f.counts(n.ID)
			if diff := cmp.Diff(notify.Counts{Total: 2, Skipped: 2}, c); diff != "" || st != status {
				t.Errorf("counts (-want +got):\n%s status %s", diff, st)
			}
			for _, d := range f.deliveries(n.ID) {
				if d.Reason != notify.ReasonCancelled {
					t.Errorf("delivery %s reason %q, want cancelled", d.Key, d.Reason)
				}
			}
			f.settled(n.ID)
		})
	}
}

func TestWhatsAppTemplateAndWindow(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "w1", Name: "Ana", Phone: "+34600000001"})
	n := f.notification("N5", notify.ChannelWhatsApp, notify.Template{Body: "x", WhatsApp: &notify.WhatsAppTemplate{Name: "bill_due", Language: "es", Category: "utility", Parameters: []string{"name", "offer"}}}, 1)
	free := f.notification("N6", notify.ChannelWhatsApp, notify.Template{Body: "Hi {{name}}"}, 1)
	d := f.dispatcher(f.store)
	errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{UserID: "w1"}), message(t, free.ID, 0, notify.Recipient{UserID: "w1"})})
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if f.rec.texts["w1"] != "+34600000001|bill_due[Ana 10%]" {
		t.Errorf("whatsapp template sent %q", f.rec.texts["w1"])
	}
	if got := f.deliveries(free.ID)["w1"]; got.Reason != notify.ReasonWindowExpired {
		t.Errorf("free-form outside the window = %s %q, want skipped window_expired", got.Status, got.Reason)
	}
}

func TestMalformedMessageFailsAlone(t *testing.T) {
	f := newFixture(t)
	n := f.notification("N7", notify.ChannelSMS, notify.Template{Body: "Hi"}, 1)
	errs := f.dispatcher(f.store).Handle(context.Background(), []Message{{ID: "bad", Body: []byte("{not json")}, message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"})})
	if errs[0] == nil || errs[1] != nil {
		t.Errorf("errs = %v, want only the malformed message to fail", errs)
	}
	unknown := f.dispatcher(f.store).Handle(context.Background(), []Message{message(t, "NOPE", 0, notify.Recipient{Address: "+34600000001"})})
	if unknown[0] == nil {
		t.Errorf("a message for a missing notification succeeded")
	}
}

// barrierStore makes two concurrent Handle calls read the deliveries before
// either records any, as when SQS hands one message to two invocations.
type barrierStore struct {
	*boltstore.Store
	arrived sync.WaitGroup
}

func (b *barrierStore) GetDeliveries(ctx context.Context, ws, nid string, keys []string) (map[string]notify.Delivery, error) {
	got, err := b.Store.GetDeliveries(ctx, ws, nid, keys)
	if len(keys) > 1 { // the batch read, not record's read-back
		b.arrived.Done()
		b.arrived.Wait()
	}
	return got, err
}

func TestConcurrentCopiesOfOneMessageCountOnce(t *testing.T) {
	f := newFixture(t)
	var rs []notify.Recipient
	for i := 0; i < 40; i++ {
		rs = append(rs, notify.Recipient{Address: fmt.Sprintf("+346000000%02d", i)})
	}
	n := f.notification("N8", notify.ChannelSMS, notify.Template{Body: "Hi"}, len(rs))
	store := &barrierStore{Store: f.store}
	store.arrived.Add(2)
	d := f.dispatcher(store)
	msg := message(t, n.ID, 0, rs...)
	var wg sync.WaitGroup
	errs := make([][]error, 2)
	for i := range 2 {
		wg.Go(func() { errs[i] = d.Handle(context.Background(), []Message{msg}) })
	}
	wg.Wait()
	for i, e := range errs {
		if e[0] != nil {
			t.Errorf("copy %d: %v", i, e[0])
		}
	}
	c, st := f.counts(n.ID)
	if diff := cmp.Diff(notify.Counts{Total: 40, Sent: 40}, c); diff != "" || st != notify.StatusCompleted {
		t.Errorf("counts after two concurrent copies (-want +got):\n%s status %s", diff, st)
	}
	if len(f.deliveries(n.ID)) != 40 {
		t.Errorf("deliveries = %d, want 40", len(f.deliveries(n.ID)))
	}
	f.settled(n.ID)
}

// TestMessageBeforeItsNotification: the API enqueues before it stores the
// notification, so a message may arrive first; it waits for it.
func TestMessageBeforeItsNotification(t *testing.T) {
	f := newFixture(t)
	d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }})
	go func() {
		time.Sleep(200 * time.Millisecond)
		f.notification("N10", notify.ChannelSMS, notify.Template{Body: "Hi"}, 1)
	}()
	errs := d.Handle(context.Background(), []Message{message(t, "N10", 0, notify.Recipient{Address: "+34600000001"})})
	if errs[0] != nil {
		t.Fatalf("Handle: %v", errs[0])
	}
	if c, st := f.counts("N10"); c.Sent != 1 || st != notify.StatusCompleted {
		t.Errorf("counts %+v status %s, want sent and completed", c, st)
	}
}

func TestFallbackChannels(t *testing.T) {
	f := newFixture(t)
	dev := []notify.Device{{ID: "d1", Kind: notify.DeviceFCM, Token: "t"}}
	f.user(notify.User{ID: "app", Name: "A", Phone: "+34600000001", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.user(notify.User{ID: "nodevice", Name: "B", Phone: "+34600000002", PushPermission: notify.PermissionAllowed})
	f.user(notify.User{ID: "badtoken", Name: "C", Phone: "+34600000003", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.user(notify.User{ID: "nothing", Name: "D"})
	f.rec.permanent["badtoken"] = true // the push fails permanently; so would the SMS, but only for push in this recorder
	n := notify.Notification{WorkspaceID: "ws1", ID: "NF", Channel: notify.ChannelPush, Fallback: []notify.Channel{notify.ChannelSMS},
		Status: notify.StatusQueued, Counts: notify.Counts{Total: 4, Queued: 4}, CreatedAt: now,
		Content: notify.Template{Channel: notify.ChannelPush, Title: "Bill", Body: "Hi {{name}}"}}
	if err := f.store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	sms := &smsOnly{recorder: newRecorder()}
	d := New(f.store, Senders{Push: f.rec, SMS: sms}, Options{Now: func() time.Time { return now }})
	errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0,
		notify.Recipient{UserID: "app"}, notify.Recipient{UserID: "nodevice"}, notify.Recipient{UserID: "badtoken"}, notify.Recipient{UserID: "nothing"})})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	type result struct{ Channel, Status, Reason string }
	got := map[string]result{}
	for k, dl := range f.deliveries(n.ID) {
		got[k] = result{string(dl.Channel), string(dl.Status), dl.Reason}
	}
	want := map[string]result{
		"app":      {"push", "sent", ""},
		"nodevice": {"sms", "sent", ""},
		"badtoken": {"sms", "sent", ""},
		"nothing":  {"push", "skipped", notify.ReasonNoConsent}, // no push permission, no phone: the primary's reason
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if sms.texts["nodevice"] != "+34600000002|Hi B" || f.rec.sent["app"] != 1 {
		t.Errorf("sms %v, push %v", sms.texts, f.rec.sent)
	}
}

// TestMissingVariableWithoutAddress: a message that lacks a variable
// fails as missing_variable even when the recipient has no address on the
// channel; it is not skipped as invalid_address and handed to a fallback
// that would lack the same variable.
func TestMissingVariableWithoutAddress(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "nomail", Phone: "+34600000009"})
	n := notify.Notification{WorkspaceID: "ws1", ID: "NM", Channel: notify.ChannelEmail, Fallback: []notify.Channel{notify.ChannelSMS},
		Status: notify.StatusQueued, Counts: notify.Counts{Total: 1, Queued: 1}, CreatedAt: now,
		Content: notify.Template{Channel: notify.ChannelEmail, Title: "Hi", Body: "Hi {{name}}"}}
	if err := f.store.CreateNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	sms := &smsOnly{recorder: newRecorder()}
	d := New(f.store, Senders{Email: f.rec, SMS: sms}, Options{Now: func() time.Time { return now }})
	if errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{UserID: "nomail"})}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	dl := f.deliveries(n.ID)["nomail"]
	if dl.Channel != notify.ChannelEmail || dl.Status != notify.DeliveryFailed || dl.Reason != notify.ReasonMissingVariable {
		t.Errorf("delivery = %s %s %s, want email failed %s", dl.Channel, dl.Status, dl.Reason, notify.ReasonMissingVariable)
	}
	if len(sms.texts) != 0 {
		t.Errorf("sms sent %v, want nothing", sms.texts)
	}
	f.settled(n.ID)
}

// smsOnly is a recorder for the SMS channel alone.
type smsOnly struct{ *recorder }

// deadDevices is a push sender whose provider reports devices dead: d-gone
// on a push another device took, all of them when every device is dead.
type deadDevices struct{}

type deadErr struct{ ids []string }

func (e deadErr) Error() string            { return "dead devices" }
func (e deadErr) InvalidDevices() []string { return e.ids }

func (deadDevices) SendPush(_ context.Context, m channel.PushMessage) (channel.Receipt, error) {
	if len(m.Devices) == 1 {
		return channel.Receipt{}, channel.Permanent("invalid_token", deadErr{[]string{m.Devices[0].ID}})
	}
	return channel.Receipt{ProviderMessageID: "m1", InvalidDevices: []string{"d-gone"}}, nil
}

func TestDeadDevicesAreRemoved(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "two", Name: "A", PushPermission: notify.PermissionAllowed, Devices: []notify.Device{{ID: "d-ok", Kind: notify.DeviceFCM, Token: "a"}, {ID: "d-gone", Kind: notify.DeviceAPNs, Token: "b"}}})
	f.user(notify.User{ID: "one", Name: "B", PushPermission: notify.PermissionAllowed, Devices: []notify.Device{{ID: "d-dead", Kind: notify.DeviceFCM, Token: "c"}}})
	n := f.notification("ND", notify.ChannelPush, notify.Template{Title: "T", Body: "B"}, 2)
	d := New(f.store, Senders{Push: deadDevices{}}, Options{Now: func() time.Time { return now }})
	if errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{UserID: "two"}, notify.Recipient{UserID: "one"})}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	for id, want := range map[string][]string{"two": {"d-ok"}, "one": nil} {
		u, err := f.store.GetUser(context.Background(), "ws1", id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, dv := range u.Devices {
			got = append(got, dv.ID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s devices (-want +got):\n%s", id, diff)
		}
	}
	if got := f.deliveries(n.ID)["one"]; got.Status != notify.DeliveryFailed || got.Reason != "invalid_token" {
		t.Errorf("all-dead delivery = %s %q, want failed invalid_token", got.Status, got.Reason)
	}
}

// endpointCreator is a push sender that creates a provider endpoint for
// every device without one, as the SNS sender does, and records what it saw.
type endpointCreator struct {
	mu   sync.Mutex
	seen map[string]string // device id → endpoint the message carried
}

func (e *endpointCreator) SendPush(_ context.Context, m channel.PushMessage) (channel.Receipt, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rc := channel.Receipt{ProviderMessageID: "m-" + m.RecipientKey}
	for _, d := range m.Devices {
		e.seen[d.ID] = d.Endpoint
		if d.Endpoint == "" {
			if rc.Endpoints == nil {
				rc.Endpoints = map[string]string{}
			}
			rc.Endpoints[d.ID] = "arn:aws:sns:eu-west-1:1:endpoint/GCM/app/" + d.ID
		}
	}
	return rc, nil
}

func TestEndpointsAreRemembered(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "u1", Name: "A", PushPermission: notify.PermissionAllowed, Devices: []notify.Device{
		{ID: "d-new", Kind: notify.DeviceFCM, Token: "a"},
		{ID: "d-known", Kind: notify.DeviceAPNs, Token: "b", Endpoint: "arn:aws:sns:eu-west-1:1:endpoint/APNS/app/known"},
	}})
	sender := &endpointCreator{seen: map[string]string{}}
	d := New(f.store, Senders{Push: sender}, Options{Now: func() time.Time { return now }})
	for _, id := range []string{"N1", "N2"} {
		n := f.notification(id, notify.ChannelPush, notify.Template{Title: "T", Body: "B"}, 1)
		if errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{UserID: "u1"})}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	}
	// The second send carried the endpoint the first one created.
	want := map[string]string{"d-new": "arn:aws:sns:eu-west-1:1:endpoint/GCM/app/d-new", "d-known": "arn:aws:sns:eu-west-1:1:endpoint/APNS/app/known"}
	if diff := cmp.Diff(want, sender.seen); diff != "" {
		t.Errorf("endpoints the second send carried (-want +got):\n%s", diff)
	}
	u, err := f.store.GetUser(context.Background(), "ws1", "u1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, dv := range u.Devices {
		got[dv.ID] = dv.Endpoint
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored device endpoints (-want +got):\n%s", diff)
	}
}

// TestMissingVariableKeepsTheAddress: a recipient whose message lacks a
// variable fails alone, and its delivery names the address it was for,
// as every other failure does, not only the user id.
func TestMissingVariableKeepsTheAddress(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "noplan", Email: "noplan@example.com"})
	f.user(notify.User{ID: "plan", Email: "plan@example.com", Attributes: map[string]string{"plan": "solar"}})
	n := f.notification("N1", notify.ChannelEmail, notify.Template{Title: "Your plan", Body: "Plan {{plan}}"}, 2)
	errs := f.dispatcher(f.store).Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{UserID: "noplan"}, notify.Recipient{UserID: "plan"})})
	if errs[0] != nil {
		t.Fatalf("Handle: %v", errs[0])
	}
	for key, d := range f.deliveries(n.ID) {
		if d.Address == "" || d.Address == d.UserID {
			t.Errorf("delivery %s (%s %s) has address %q, want the sealed email", key, d.Status, d.Reason, d.Address)
		}
		if d.UserID == "noplan" && (d.Status != notify.DeliveryFailed || d.Reason != notify.ReasonMissingVariable) {
			t.Errorf("noplan = %s %s, want failed missing_variable", d.Status, d.Reason)
		}
	}
	f.settled(n.ID)
}

// mailbox is an email sender that keeps every message.
type mailbox struct {
	mu   sync.Mutex
	sent map[string]channel.EmailMessage // recipient key → message
}

func (m *mailbox) SendEmail(_ context.Context, e channel.EmailMessage) (channel.Receipt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent[e.RecipientKey] = e
	return channel.Receipt{ProviderMessageID: "e-" + e.RecipientKey}, nil
}

// TestEmailFooter: an email to a user ends with the footer in the user's
// language, in both parts; one to a raw address has no preferences to
// link to and gets none.
func TestEmailFooter(t *testing.T) {
	f := newFixture(t)
	f.user(notify.User{ID: "ana", Email: "ana@example.com", Language: "es"})
	f.user(notify.User{ID: "ben", Email: "ben@example.com"})
	n := f.notification("NF", notify.ChannelEmail, notify.Template{Title: "Hi", Body: "Your bill\n",
		Email: &notify.EmailExtras{Subject: "Hi", HTML: "<html><BODY><p>Your bill</p></BODY></html>"}}, 3)
	box := &mailbox{sent: map[string]channel.EmailMessage{}}
	footer := func(env channel.Envelope, u notify.User) (string, string) {
		return "[" + env.WorkspaceID + "/" + env.UserID + " " + u.Language + "]", "<p>" + env.UserID + " " + u.Language + "</p>"
	}
	d := New(f.store, Senders{Email: box}, Options{Now: func() time.Time { return now }, EmailFooter: footer})
	if errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{UserID: "ana"}, notify.Recipient{UserID: "ben"},
		notify.Recipient{Address: "raw@example.com"})}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	got := map[string][2]string{}
	for k, m := range box.sent {
		got[k] = [2]string{m.Text, m.HTML}
	}
	want := map[string][2]string{
		"ana":                  {"Your bill\n\n[ws1/ana es]", "<html><BODY><p>Your bill</p><p>ana es</p></BODY></html>"},
		"ben":                  {"Your bill\n\n[ws1/ben ]", "<html><BODY><p>Your bill</p><p>ben </p></BODY></html>"},
		"addr#raw@example.com": {"Your bill\n", "<html><BODY><p>Your bill</p></BODY></html>"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("emails sent (-want +got):\n%s", diff)
	}
}

func TestWithFooterWithoutBody(t *testing.T) {
	footer := func(channel.Envelope, notify.User) (string, string) { return "F", "<p>F</p>" }
	text, html := withFooter("T", "<p>H</p>", footer, channel.Envelope{}, notify.User{})
	if text != "T\n\nF" || html != "<p>H</p><p>F</p>" {
		t.Errorf("withFooter = %q, %q", text, html)
	}
	// No HTML part: none is made.
	if _, html := withFooter("T", "", footer, channel.Envelope{}, notify.User{}); html != "" {
		t.Errorf("withFooter made an HTML part: %q", html)
	}
}
