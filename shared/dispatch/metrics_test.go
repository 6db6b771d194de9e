package dispatch

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// figures is a Metrics that keeps what it is told.
type figures struct {
	mu         sync.Mutex
	deliveries map[string]int // "channel outcome reason" → count
	calls      []string       // "channel took"
	ages       []string       // "channel age"
	flushes    int
}

func newFigures() *figures { return &figures{deliveries: map[string]int{}} }

func (f *figures) Delivery(ch notify.Channel, o metrics.Outcome, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deliveries[fmt.Sprint(ch, " ", o, " ", reason)]++
}

func (f *figures) ProviderCall(ch notify.Channel, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprint(ch, " ", took))
}

func (f *figures) QueueAge(ch notify.Channel, age time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ages = append(f.ages, fmt.Sprint(ch, " ", age))
}

func (f *figures) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flushes++
}

// TestMetricsCountEachRecordedDelivery: every delivery dispatch records is
// counted once, on its channel, with its outcome and reason, and every
// call to a sender is timed; a second handling of the same message (a
// redelivery) counts nothing more.
func TestMetricsCountEachRecordedDelivery(t *testing.T) {
	f := newFixture(t)
	dev := []notify.Device{{ID: "d1", Kind: notify.DeviceFCM, Token: "t"}}
	f.user(notify.User{ID: "ok", Name: "Ana", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.user(notify.User{ID: "ok2", Name: "Bea", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.user(notify.User{ID: "ask", Name: "B", Devices: dev})
	f.user(notify.User{ID: "nodevice", Name: "D", PushPermission: notify.PermissionAllowed})
	f.user(notify.User{ID: "noname", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.user(notify.User{ID: "badtoken", Name: "G", PushPermission: notify.PermissionAllowed, Devices: dev})
	f.rec.permanent["badtoken"] = true
	n := f.notification("NM1", notify.ChannelPush, notify.Template{Title: "Save {{offer}}", Body: "Hi {{name}}"}, 7)
	var rs []notify.Recipient
	for _, id := range []string{"ok", "ok2", "ask", "nodevice", "noname", "badtoken", "ghost"} {
		rs = append(rs, notify.Recipient{UserID: id})
	}
	fig := newFigures()
	d := New(f.store, Senders{Push: f.rec}, Options{Now: func() time.Time { return now }, Metrics: fig})
	msg := message(t, n.ID, 0, rs...)
	for round := range 2 {
		if errs := d.Handle(context.Background(), []Message{msg}); errs[0] != nil {
			t.Fatalf("round %d: %v", round, errs[0])
		}
	}
	want := map[string]int{
		"push sent ":                                  2,
		"push skipped no_consent":                     1,
		"push skipped no_device":                      1,
		"push failed invalid_token":                   1,
		"push failed " + notify.ReasonMissingVariable: 1,
		"push skipped " + notify.ReasonUnknownUser:    1,
	}
	if diff := cmp.Diff(want, fig.deliveries); diff != "" {
		t.Errorf("deliveries counted (-want +got):\n%s", diff)
	}
	// The two sends and the refused one reached the sender; the clock
	// stands still in this test.
	if diff := cmp.Diff([]string{"push 0s", "push 0s", "push 0s"}, fig.calls); diff != "" {
		t.Errorf("provider calls (-want +got):\n%s", diff)
	}
	if len(fig.ages) != 0 || fig.flushes != 0 {
		t.Errorf("queue ages %v, flushes %d; want none (no SentAt, not HandleSQS)", fig.ages, fig.flushes)
	}
}

// TestMetricsCountOnceAcrossCopies: SQS may hand one message to two
// invocations at once; each delivery is counted by the copy that recorded
// it, so the figures add up to the recipients, not twice as many.
func TestMetricsCountOnceAcrossCopies(t *testing.T) {
	f := newFixture(t)
	var rs []notify.Recipient
	for i := range 60 {
		rs = append(rs, notify.Recipient{Address: fmt.Sprintf("+346000%05d", i)})
	}
	n := f.notification("NM2", notify.ChannelSMS, notify.Template{Body: "Hi"}, len(rs))
	fig := newFigures()
	msg := message(t, n.ID, 0, rs...)
	var wg sync.WaitGroup
	for range 3 {
		d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }, Metrics: fig, Concurrency: 8})
		wg.Go(func() { d.Handle(context.Background(), []Message{msg}) })
	}
	wg.Wait()
	if got := fig.deliveries["sms sent "]; got != len(rs) {
		t.Errorf("sends counted = %d (%v), want %d: one per recorded delivery", got, fig.deliveries, len(rs))
	}
}

// slowSender is an SMS sender that takes a known time by the test's clock.
type slowSender struct {
	clock *time.Time
	took  time.Duration
}

func (s *slowSender) SendSMS(context.Context, channel.SMSMessage) (channel.Receipt, error) {
	*s.clock = s.clock.Add(s.took)
	return channel.Receipt{ProviderMessageID: "pm"}, nil
}

// TestMetricsTimeProviderCalls: the latency is the sender call's, by the
// dispatcher's clock.
func TestMetricsTimeProviderCalls(t *testing.T) {
	f := newFixture(t)
	n := f.notification("NM3", notify.ChannelSMS, notify.Template{Body: "Hi"}, 2)
	clock := now
	fig := newFigures()
	d := New(f.store, Senders{SMS: &slowSender{clock: &clock, took: 250 * time.Millisecond}},
		Options{Now: func() time.Time { return clock }, Metrics: fig, Concurrency: 1})
	if errs := d.Handle(context.Background(), []Message{message(t, n.ID, 0, notify.Recipient{Address: "+34600000001"}, notify.Recipient{Address: "+34600000002"})}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if diff := cmp.Diff([]string{"sms 250ms", "sms 250ms"}, fig.calls); diff != "" {
		t.Errorf("provider calls (-want +got):\n%s", diff)
	}
}

// TestMetricsQueueAge: a message's age is from when the queue accepted it
// to when its sends start, or from the end of the quiet hours it was put
// back for; a message with no SentAt, one with nothing left to send, and
// a dead-lettered one being settled have none.
func TestMetricsQueueAge(t *testing.T) {
	tests := []struct {
		name   string
		sentAt time.Time
		chunk  string // "" for the plain chunk
		settle bool
		twice  bool // handled a second time: nothing left to send then
		want   []string
	}{
		{name: "plain", sentAt: now.Add(-90 * time.Second), want: []string{"email 1m30s"}},
		{name: "unknown", want: nil},
		{name: "quiet hours", sentAt: now.Add(-10 * time.Hour), chunk: "NQA:0/q" + strconv.FormatInt(now.Add(-30*time.Second).Unix(), 10), want: []string{"email 30s"}},
		{name: "taken early", sentAt: now.Add(-15 * time.Minute), chunk: "NQA:0/q" + strconv.FormatInt(now.Add(time.Hour).Unix(), 10), want: []string{"email 0s"}},
		{name: "queue clock ahead", sentAt: now.Add(2 * time.Second), want: []string{"email 0s"}},
		{name: "settled", sentAt: now.Add(-time.Hour), settle: true, want: nil},
		{name: "all recorded", sentAt: now.Add(-time.Minute), twice: true, want: []string{"email 1m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.user(notify.User{ID: "u1", Name: "A", Email: "a@example.com"})
			n := f.notification("NQA", notify.ChannelEmail, notify.Template{Title: "T", Body: "Hi"}, 1)
			fig := newFigures()
			d := New(f.store, Senders{Email: f.rec}, Options{Now: func() time.Time { return now }, Metrics: fig})
			m := message(t, n.ID, 0, notify.Recipient{UserID: "u1"})
			if tt.chunk != "" {
				m.Body = mustMarshal(t, notify.DispatchMessage{WorkspaceID: "ws1", NotificationID: n.ID, Chunk: tt.chunk, Recipients: []notify.Recipient{{UserID: "u1"}}})
			}
			m.SentAt = tt.sentAt
			run := d.Handle
			if tt.settle {
				run = d.Settle
			}
			for range map[bool]int{false: 1, true: 2}[tt.twice] {
				if errs := run(context.Background(), []Message{m}); errs[0] != nil {
					t.Fatal(errs[0])
				}
			}
			if diff := cmp.Diff(tt.want, fig.ages); diff != "" {
				t.Errorf("queue ages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHandleSQSFlushes: the Lambda batch reads each message's SentAt for
// its age, and flushes the figures once per invocation, before it returns.
func TestHandleSQSFlushes(t *testing.T) {
	f := newFixture(t)
	n := f.notification("NS1", notify.ChannelSMS, notify.Template{Body: "Hi"}, 2)
	fig := newFigures()
	d := New(f.store, Senders{SMS: f.rec}, Options{Now: func() time.Time { return now }, Metrics: fig})
	var batch []Received
	for i, addr := range []string{"+34600000001", "+34600000002"} {
		m := message(t, n.ID, i, notify.Recipient{Address: addr})
		m.ReceiveCount, m.SentAt = 1, now.Add(-time.Duration(i+1)*time.Second)
		batch = append(batch, Received{Message: m, Queue: "arn:aws:sqs:us-east-1:1:dispatch"})
	}
	if errs := d.HandleSQS(context.Background(), batch); len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("HandleSQS = %v", errs)
	}
	slices.Sort(fig.ages)
	if diff := cmp.Diff([]string{"sms 1s", "sms 2s"}, fig.ages); diff != "" {
		t.Errorf("queue ages (-want +got):\n%s", diff)
	}
	if fig.flushes != 1 || fig.deliveries["sms sent "] != 2 {
		t.Errorf("flushes %d, deliveries %v; want one flush of two sends", fig.flushes, fig.deliveries)
	}
	// An empty batch still flushes nothing amiss, once.
	if errs := d.HandleSQS(context.Background(), nil); len(errs) != 0 {
		t.Fatal(errs)
	}
	if fig.flushes != 2 {
		t.Errorf("flushes after an empty batch = %d, want 2", fig.flushes)
	}
}
