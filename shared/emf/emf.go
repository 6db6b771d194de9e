// Package emf writes Herald's delivery figures (package metrics) as
// CloudWatch embedded metric format (EMF) lines: JSON objects that the
// Lambda functions print to standard output, which Lambda sends to their
// log group and from which CloudWatch Logs extracts the metrics. No API
// call, no permission and no latency beyond a write.
//
// A Writer aggregates what it is told until Flush, which the functions'
// handlers call at the end of each invocation: counts become one line per
// channel, outcome and reason, durations one line per channel and 100
// values. A dispatch batch of ten messages and 1,000 recipients on one
// channel thus writes about fifteen lines, not a line per recipient.
//
// Lines carry the namespace, the stage and the bounded dimensions of
// package metrics, and numbers: never an id, an address or a text, since
// everything a caller passes in goes through metrics.Channel, OutcomeName
// and Reason first.
//
// The metrics, in Namespace with the dimension Stage on all of them:
//
//	Deliveries       Count         Channel, Outcome; and Channel, Outcome, Reason (not for sends)
//	Callbacks        Count         Channel, Outcome; and Channel, Outcome, Reason (when there is one)
//	ProviderLatency  Milliseconds  Channel
//	QueueAge         Seconds       Channel
package emf

import (
	"encoding/json"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

// Metric names, as CloudWatch shows them.
const (
	MetricDeliveries      = "Deliveries"
	MetricCallbacks       = "Callbacks"
	MetricProviderLatency = "ProviderLatency"
	MetricQueueAge        = "QueueAge"
)

// Dimension names.
const (
	DimStage   = "Stage"
	DimChannel = "Channel"
	DimOutcome = "Outcome"
	DimReason  = "Reason"
)

// DefaultNamespace is the CloudWatch namespace when Options leave it
// empty. The template gives each stack its own (Herald/<stack name>,
// HERALD_METRICS_NAMESPACE), which its alarms and dashboard read, so that
// two stacks of one account never add up each other's figures.
const DefaultNamespace = "Herald"

// maxValues is the EMF limit on the values of one metric in one line.
const maxValues = 100

// maxPending bounds the durations a series keeps between flushes: beyond
// it the full lines are written at once, so that a Writer nobody flushes
// (a long batch) holds at most this many values per series.
const maxPending = 10 * maxValues

// Options configure a Writer.
type Options struct {
	// Namespace is the CloudWatch namespace; DefaultNamespace when empty.
	Namespace string
	// Stage is the value of the Stage dimension (HERALD_STAGE); "default"
	// when empty.
	Stage string
	// Now stamps the lines; time.Now when nil.
	Now func() time.Time
}

// Writer aggregates figures and writes them as EMF lines on Flush. It is
// safe for concurrent use, and implements dispatch.Metrics and
// webhook.Metrics.
type Writer struct {
	out       io.Writer
	namespace string
	stage     string
	now       func() time.Time

	mu     sync.Mutex
	counts map[countKey]int64
	values map[valueKey][]float64
}

// countKey is one count's metric and dimension values, already bounded.
type countKey struct {
	metric, channel, outcome, reason string
}

// valueKey is one duration series: its metric and channel.
type valueKey struct {
	metric, channel string
}

// New returns a Writer that writes to out (os.Stdout in a Lambda
// function), one line per Write call.
func New(out io.Writer, o Options) *Writer {
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.Stage = strings.TrimSpace(o.Stage); o.Stage == "" {
		o.Stage = "default"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Writer{out: out, namespace: o.Namespace, stage: o.Stage, now: o.Now,
		counts: map[countKey]int64{}, values: map[valueKey][]float64{}}
}

// Delivery counts one delivery dispatch recorded.
func (w *Writer) Delivery(ch notify.Channel, outcome metrics.Outcome, reason string) {
	w.count(MetricDeliveries, ch, outcome, reason)
}

// Callback counts one status a provider reported.
func (w *Writer) Callback(ch notify.Channel, outcome metrics.Outcome, reason string) {
	w.count(MetricCallbacks, ch, outcome, reason)
}

// ProviderCall keeps how long one call to a provider took.
func (w *Writer) ProviderCall(ch notify.Channel, took time.Duration) {
	// Milliseconds to a tenth: finer says nothing about a network call.
	w.add(MetricProviderLatency, ch, math.Round(float64(took)/float64(time.Millisecond)*10)/10)
}

// QueueAge keeps how long a message waited in the queue.
func (w *Writer) QueueAge(ch notify.Channel, age time.Duration) {
	w.add(MetricQueueAge, ch, math.Round(age.Seconds()*1000)/1000)
}

func (w *Writer) count(metric string, ch notify.Channel, outcome metrics.Outcome, reason string) {
	k := countKey{metric: metric, channel: metrics.Channel(ch), outcome: metrics.OutcomeName(outcome), reason: metrics.Reason(reason)}
	w.mu.Lock()
	w.counts[k]++
	w.mu.Unlock()
}

func (w *Writer) add(metric string, ch notify.Channel, v float64) {
	k := valueKey{metric: metric, channel: metrics.Channel(ch)}
	var full [][]byte
	w.mu.Lock()
	w.values[k] = append(w.values[k], max(v, 0))
	if len(w.values[k]) >= maxPending {
		full = w.valueLines(map[valueKey][]float64{k: w.values[k]}, w.now())
		delete(w.values, k)
	}
	w.mu.Unlock()
	// Written outside the lock: the senders that record values do not wait
	// on stdout.
	w.write(full)
}

// Flush writes what was recorded since the last Flush and forgets it.
// Nothing recorded writes nothing.
func (w *Writer) Flush() {
	w.mu.Lock()
	now := w.now()
	lines := append(w.countLines(now), w.valueLines(w.values, now)...)
	clear(w.counts)
	clear(w.values)
	w.mu.Unlock()
	w.write(lines)
}

// write writes each line with its own Write, so that lines of concurrent
// writers to the same file (the function's slog logs) never interleave.
// A failed write is dropped: stdout is the log, with nowhere else to tell.
func (w *Writer) write(lines [][]byte) {
	for _, l := range lines {
		_, _ = w.out.Write(append(l, '\n'))
	}
}

// directive is an EMF MetricDirective.
type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

// definition is an EMF MetricDefinition.
type definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// line is one EMF document: the metadata, and at the root the dimension
// and metric values the directive names.
func (w *Writer) line(now time.Time, d directive, members map[string]any) []byte {
	root := make(map[string]any, len(members)+1)
	for k, v := range members {
		root[k] = v
	}
	root["_aws"] = map[string]any{"Timestamp": now.UnixMilli(), "CloudWatchMetrics": []directive{d}}
	b, err := json.Marshal(root)
	if err != nil {
		// Strings and finite numbers only: this cannot happen.
		panic("emf: " + err.Error())
	}
	return b
}

// countLines is one line per count: its value counts both per channel and
// outcome and, when it has a reason, per reason too (two dimension sets of
// one directive, so the totals the alarms read need no second line).
//
// A channel whose sends all failed gets a line of zero sends too: the
// failure-rate alarms divide by sent + failed, and a metric math series
// with no datapoint at all is no series to add.
func (w *Writer) countLines(now time.Time) [][]byte {
	for k := range w.counts {
		if k.metric == MetricDeliveries && k.outcome == string(metrics.Failed) {
			sent := countKey{metric: MetricDeliveries, channel: k.channel, outcome: string(metrics.Sent), reason: metrics.None}
			w.counts[sent] += 0
		}
	}
	keys := make([]countKey, 0, len(w.counts))
	for k := range w.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		return compare(a.metric, b.metric, a.channel, b.channel, a.outcome, b.outcome, a.reason, b.reason)
	})
	var lines [][]byte
	for _, k := range keys {
		dims := [][]string{{DimStage, DimChannel, DimOutcome}}
		members := map[string]any{DimStage: w.stage, DimChannel: k.channel, DimOutcome: k.outcome, k.metric: w.counts[k]}
		if k.reason != metrics.None {
			dims = append(dims, []string{DimStage, DimChannel, DimOutcome, DimReason})
			members[DimReason] = k.reason
		}
		lines = append(lines, w.line(now, directive{Namespace: w.namespace, Dimensions: dims,
			Metrics: []definition{{Name: k.metric, Unit: "Count"}}}, members))
	}
	return lines
}

// units of the duration metrics.
var units = map[string]string{MetricProviderLatency: "Milliseconds", MetricQueueAge: "Seconds"}

// valueLines is, per channel, lines of at most maxValues values of each
// duration metric, the metrics of a channel sharing lines.
func (w *Writer) valueLines(values map[valueKey][]float64, now time.Time) [][]byte {
	byChannel := map[string]map[string][]float64{}
	for k, vs := range values {
		if len(vs) == 0 {
			continue
		}
		if byChannel[k.channel] == nil {
			byChannel[k.channel] = map[string][]float64{}
		}
		byChannel[k.channel][k.metric] = vs
	}
	channels := make([]string, 0, len(byChannel))
	for ch := range byChannel {
		channels = append(channels, ch)
	}
	slices.Sort(channels)
	var lines [][]byte
	for _, ch := range channels {
		series := byChannel[ch]
		names := make([]string, 0, len(series))
		for m := range series {
			names = append(names, m)
		}
		slices.Sort(names)
		for start := 0; ; start += maxValues {
			members := map[string]any{DimStage: w.stage, DimChannel: ch}
			var defs []definition
			for _, m := range names {
				vs := series[m]
				if start >= len(vs) {
					continue
				}
				members[m] = vs[start:min(start+maxValues, len(vs))]
				defs = append(defs, definition{Name: m, Unit: units[m]})
			}
			if len(defs) == 0 {
				break
			}
			lines = append(lines, w.line(now, directive{Namespace: w.namespace, Dimensions: [][]string{{DimStage, DimChannel}}, Metrics: defs}, members))
		}
	}
	return lines
}

// compare orders by pairs of strings, the first pair first.
func compare(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}
