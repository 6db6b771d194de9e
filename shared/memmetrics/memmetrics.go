// Package memmetrics keeps Herald's delivery figures (package metrics) in
// memory, for the local mode, where GET /v1/metrics serves them: the same
// figures the Lambda functions write as CloudWatch metrics (shared/emf),
// counted since the process started. Counts are by channel, outcome and
// reason; provider latency and queue age are a count, a sum, a minimum, a
// maximum and a fixed-bucket histogram from which percentiles are
// estimated. Memory is bounded by the dimensions, not by the volume: a
// million sends take no more than one.
package memmetrics

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// boundsMs are the histogram's upper bounds in milliseconds, from a
// millisecond to an hour; a last bucket takes what is above.
var boundsMs = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000, 3600000}

// Figures is an in-memory implementation of dispatch.Metrics and
// webhook.Metrics. It is safe for concurrent use.
type Figures struct {
	mu         sync.Mutex
	since      time.Time
	deliveries map[countKey]int64
	callbacks  map[countKey]int64
	latency    map[string]*histogram // by channel
	age        map[string]*histogram
}

type countKey struct {
	channel, outcome, reason string
}

// New returns empty figures counted from since (the process's start).
func New(since time.Time) *Figures {
	return &Figures{since: since.UTC(), deliveries: map[countKey]int64{}, callbacks: map[countKey]int64{},
		latency: map[string]*histogram{}, age: map[string]*histogram{}}
}

func key(ch notify.Channel, o metrics.Outcome, reason string) countKey {
	return countKey{channel: metrics.Channel(ch), outcome: metrics.OutcomeName(o), reason: metrics.Reason(reason)}
}

// Delivery counts one delivery dispatch recorded.
func (f *Figures) Delivery(ch notify.Channel, o metrics.Outcome, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deliveries[key(ch, o, reason)]++
}

// Callback counts one status a provider reported.
func (f *Figures) Callback(ch notify.Channel, o metrics.Outcome, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callbacks[key(ch, o, reason)]++
}

// ProviderCall adds one provider call's duration.
func (f *Figures) ProviderCall(ch notify.Channel, took time.Duration) {
	f.observe(f.latency, ch, took)
}

// QueueAge adds how long one message waited in the queue.
func (f *Figures) QueueAge(ch notify.Channel, age time.Duration) {
	f.observe(f.age, ch, age)
}

// Flush does nothing: the figures stay until the process ends.
func (f *Figures) Flush() {}

func (f *Figures) observe(m map[string]*histogram, ch notify.Channel, d time.Duration) {
	ms := max(float64(d)/float64(time.Millisecond), 0)
	f.mu.Lock()
	defer f.mu.Unlock()
	c := metrics.Channel(ch)
	h := m[c]
	if h == nil {
		h = &histogram{counts: make([]int64, len(boundsMs)+1), min: math.Inf(1)}
		m[c] = h
	}
	h.add(ms)
}

// Snapshot returns the figures so far.
func (f *Figures) Snapshot() metrics.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := metrics.Snapshot{Since: f.since, Channels: []metrics.ChannelTotals{}, Deliveries: counts(f.deliveries), Callbacks: counts(f.callbacks),
		ProviderLatency: summaries(f.latency), QueueAge: summaries(f.age)}
	totals := map[string]*metrics.ChannelTotals{}
	for _, ch := range channelOrder(f.deliveries, nil) {
		totals[ch] = &metrics.ChannelTotals{Channel: ch}
	}
	for k, n := range f.deliveries {
		t := totals[k.channel]
		switch metrics.Outcome(k.outcome) {
		case metrics.Sent:
			t.Sent += n
		case metrics.Failed:
			t.Failed += n
		case metrics.Skipped:
			t.Skipped += n
		}
	}
	for _, ch := range channelOrder(f.deliveries, nil) {
		t := totals[ch]
		if t.Sent+t.Failed > 0 {
			rate := float64(t.Failed) / float64(t.Sent+t.Failed)
			t.FailureRate = &rate
		}
		s.Channels = append(s.Channels, *t)
	}
	return s
}

// channelOrder is every channel, as notify.Channels lists them, then any
// other that has counts or durations.
func channelOrder(counts map[countKey]int64, durations map[string]*histogram) []string {
	out := make([]string, 0, len(notify.Channels)+1)
	for _, ch := range notify.Channels {
		out = append(out, string(ch))
	}
	seen := func(ch string) bool {
		for k := range counts {
			if k.channel == ch {
				return true
			}
		}
		_, ok := durations[ch]
		return ok
	}
	if seen(metrics.Other) {
		out = append(out, metrics.Other)
	}
	return out
}

func rank(list []string, v string) int {
	if i := slices.Index(list, v); i >= 0 {
		return i
	}
	return len(list)
}

func outcomeRank(o string) int {
	for i, k := range metrics.Outcomes {
		if string(k) == o {
			return i
		}
	}
	return len(metrics.Outcomes)
}

func counts(m map[countKey]int64) []metrics.Count {
	order := channelOrder(m, nil)
	out := make([]metrics.Count, 0, len(m))
	for k, n := range m {
		out = append(out, metrics.Count{Channel: k.channel, Outcome: k.outcome, Reason: k.reason, Count: n})
	}
	slices.SortFunc(out, func(a, b metrics.Count) int {
		if c := rank(order, a.Channel) - rank(order, b.Channel); c != 0 {
			return c
		}
		if c := outcomeRank(a.Outcome) - outcomeRank(b.Outcome); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return out
}

func summaries(m map[string]*histogram) []metrics.Summary {
	out := []metrics.Summary{}
	for _, ch := range channelOrder(nil, m) {
		if h := m[ch]; h != nil {
			out = append(out, h.summary(ch))
		}
	}
	return out
}

// histogram counts durations (milliseconds) in the buckets of boundsMs.
type histogram struct {
	counts        []int64
	n             int64
	sum, min, max float64
}

func (h *histogram) add(ms float64) {
	i, _ := slices.BinarySearch(boundsMs, ms) // the first bound ≥ ms
	h.counts[i]++
	h.n++
	h.sum += ms
	h.min = min(h.min, ms)
	h.max = max(h.max, ms)
}

// quantile estimates the q-quantile: the upper bound of the bucket the
// q·n-th duration falls in, kept within the minimum and the maximum.
func (h *histogram) quantile(q float64) float64 {
	target := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= target && c > 0 {
			if i == len(boundsMs) {
				return h.max
			}
			return min(max(boundsMs[i], h.min), h.max)
		}
	}
	return h.max
}

func (h *histogram) summary(ch string) metrics.Summary {
	s := metrics.Summary{Channel: ch, Count: h.n, SumMs: round(h.sum), MinMs: round(h.min), MaxMs: round(h.max),
		P50Ms: round(h.quantile(0.5)), P90Ms: round(h.quantile(0.9)), P99Ms: round(h.quantile(0.99))}
	for i, c := range h.counts {
		b := metrics.Bucket{Count: c}
		if i < len(boundsMs) {
			le := boundsMs[i]
			b.LeMs = &le
		}
		s.Buckets = append(s.Buckets, b)
	}
	return s
}

// round keeps milliseconds to a thousandth (a microsecond).
func round(ms float64) float64 { return math.Round(ms*1000) / 1000 }
