package memmetrics

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

var start = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func ptr(f float64) *float64 { return &f }

func TestCounts(t *testing.T) {
	f := New(start)
	for range 8 {
		f.Delivery(notify.ChannelSMS, metrics.Sent, "")
	}
	f.Delivery(notify.ChannelSMS, metrics.Failed, "opted_out")
	f.Delivery(notify.ChannelSMS, metrics.Failed, "opted_out")
	f.Delivery(notify.ChannelSMS, metrics.Skipped, notify.ReasonNoConsent)
	f.Delivery(notify.ChannelEmail, metrics.Skipped, notify.ReasonInvalidAddress)
	f.Delivery(notify.ChannelPush, metrics.Failed, "a-user-id-42") // not a reason: other
	f.Callback(notify.ChannelEmail, metrics.Complaint, "")
	f.Callback(notify.ChannelSMS, metrics.Delivered, "")
	s := f.Snapshot()
	wantDeliveries := []metrics.Count{
		{Channel: "push", Outcome: "failed", Reason: "other", Count: 1},
		{Channel: "sms", Outcome: "sent", Reason: "none", Count: 8},
		{Channel: "sms", Outcome: "failed", Reason: "opted_out", Count: 2},
		{Channel: "sms", Outcome: "skipped", Reason: "no_consent", Count: 1},
		{Channel: "email", Outcome: "skipped", Reason: "invalid_address", Count: 1},
	}
	if diff := cmp.Diff(wantDeliveries, s.Deliveries); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	wantCallbacks := []metrics.Count{
		{Channel: "sms", Outcome: "delivered", Reason: "none", Count: 1},
		{Channel: "email", Outcome: "complaint", Reason: "none", Count: 1},
	}
	if diff := cmp.Diff(wantCallbacks, s.Callbacks); diff != "" {
		t.Errorf("callbacks (-want +got):\n%s", diff)
	}
	wantChannels := []metrics.ChannelTotals{
		{Channel: "push", Failed: 1, FailureRate: ptr(1)},
		{Channel: "webpush"},
		{Channel: "sms", Sent: 8, Failed: 2, Skipped: 1, FailureRate: ptr(0.2)},
		{Channel: "email", Skipped: 1},
		{Channel: "whatsapp"},
		{Channel: "inapp"},
	}
	if diff := cmp.Diff(wantChannels, s.Channels); diff != "" {
		t.Errorf("channels (-want +got):\n%s", diff)
	}
	if !s.Since.Equal(start) {
		t.Errorf("since = %v, want %v", s.Since, start)
	}
}

func TestDurations(t *testing.T) {
	f := New(start)
	// 100 calls: 1..100 ms.
	for i := 1; i <= 100; i++ {
		f.ProviderCall(notify.ChannelEmail, time.Duration(i)*time.Millisecond)
	}
	f.QueueAge(notify.ChannelEmail, 90*time.Minute) // beyond the last bound
	f.QueueAge(notify.ChannelEmail, -time.Second)   // a clock behind: 0
	f.QueueAge(notify.ChannelPush, 7*time.Millisecond)
	s := f.Snapshot()
	if len(s.ProviderLatency) != 1 {
		t.Fatalf("latency summaries = %+v, want email's", s.ProviderLatency)
	}
	lat := s.ProviderLatency[0]
	lat.Buckets = nil
	want := metrics.Summary{Channel: "email", Count: 100, SumMs: 5050, MinMs: 1, MaxMs: 100, P50Ms: 50, P90Ms: 100, P99Ms: 100}
	if diff := cmp.Diff(want, lat); diff != "" {
		t.Errorf("latency (-want +got):\n%s", diff)
	}
	var total int64
	for i, b := range s.ProviderLatency[0].Buckets {
		total += b.Count
		if (i == len(s.ProviderLatency[0].Buckets)-1) != (b.LeMs == nil) {
			t.Errorf("bucket %d: le %v, want a bound on all but the last", i, b.LeMs)
		}
	}
	if total != 100 {
		t.Errorf("buckets hold %d durations, want 100", total)
	}
	wantAges := []metrics.Summary{
		{Channel: "push", Count: 1, SumMs: 7, MinMs: 7, MaxMs: 7, P50Ms: 7, P90Ms: 7, P99Ms: 7},
		// The 0 falls in the first bucket: its bound, 1 ms, is the median.
		{Channel: "email", Count: 2, SumMs: 5400000, MinMs: 0, MaxMs: 5400000, P50Ms: 1, P90Ms: 5400000, P99Ms: 5400000},
	}
	for i := range s.QueueAge {
		s.QueueAge[i].Buckets = nil
	}
	if diff := cmp.Diff(wantAges, s.QueueAge); diff != "" {
		t.Errorf("queue ages (-want +got):\n%s", diff)
	}
}

// TestSnapshotJSON: the answer of GET /v1/metrics before anything was
// sent: empty lists, not null, and every channel's totals.
func TestSnapshotJSON(t *testing.T) {
	b, err := json.Marshal(New(start).Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"since":"2026-11-21T10:00:00Z","channels":[{"channel":"push","sent":0,"failed":0,"skipped":0,"failureRate":null},` +
		`{"channel":"webpush","sent":0,"failed":0,"skipped":0,"failureRate":null},{"channel":"sms","sent":0,"failed":0,"skipped":0,"failureRate":null},` +
		`{"channel":"email","sent":0,"failed":0,"skipped":0,"failureRate":null},{"channel":"whatsapp","sent":0,"failed":0,"skipped":0,"failureRate":null},` +
		`{"channel":"inapp","sent":0,"failed":0,"skipped":0,"failureRate":null}],` +
		`"deliveries":[],"callbacks":[],"providerLatency":[],"queueAge":[]}`
	if string(b) != want {
		t.Errorf("empty snapshot = %s\nwant %s", b, want)
	}
}

// TestNoIDs: whatever a caller passes, the snapshot holds bounded values.
func TestNoIDs(t *testing.T) {
	f := New(start)
	for _, h := range []string{"ws_1", "u-1001", "ana@example.com", "+34600000001", "Hola Ana"} {
		f.Delivery(notify.Channel(h), metrics.Outcome(h), h)
		f.Callback(notify.Channel(h), metrics.Read, h)
		f.ProviderCall(notify.Channel(h), time.Millisecond)
	}
	b, _ := json.Marshal(f.Snapshot())
	for _, h := range []string{"ws_1", "u-1001", "ana@", "34600000001", "Hola"} {
		if strings.Contains(string(b), h) {
			t.Errorf("snapshot carries %q: %s", h, b)
		}
	}
}

func TestConcurrent(t *testing.T) {
	f := New(start)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				f.Delivery(notify.ChannelSMS, metrics.Sent, "")
				f.ProviderCall(notify.ChannelSMS, time.Duration(i)*time.Microsecond)
				if g == 0 && i%100 == 0 {
					f.Snapshot()
				}
			}
		})
	}
	wg.Wait()
	s := f.Snapshot()
	if s.Channels[2].Sent != 8000 || s.ProviderLatency[0].Count != 8000 {
		t.Errorf("sms sent %d, latencies %d; want 8000 each", s.Channels[2].Sent, s.ProviderLatency[0].Count)
	}
}
