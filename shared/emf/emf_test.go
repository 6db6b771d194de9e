package emf

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func newWriter(buf *bytes.Buffer) *Writer {
	return New(buf, Options{Stage: "prod", Now: func() time.Time { return now }})
}

// lines splits output into its lines, each checked against the EMF
// specification.
func lines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var docs []map[string]any
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if l == "" {
			continue
		}
		docs = append(docs, checkEMF(t, l))
	}
	return docs
}

// units CloudWatch accepts (the ones this package uses, and the rest of
// the MetricDatum list).
var validUnits = map[string]bool{"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true,
	"Terabits": true, "Percent": true, "Count": true, "Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true,
	"Gigabytes/Second": true, "Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true}

// checkEMF decodes one line and holds it to the embedded metric format
// specification (CloudWatch_Embedded_Metric_Format_Specification): a JSON
// object with _aws.Timestamp (ms) and _aws.CloudWatchMetrics, an array of
// directives each with a Namespace, Dimensions (arrays of at most 30
// dimension names, each a string member of the root) and Metrics (at most
// 100, each Name with a valid Unit, each a number or an array of at most
// 100 numbers at the root). Herald's lines hold nothing else at the root,
// so nothing but figures and their dimensions can be in them.
func checkEMF(t *testing.T, line string) map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || dec.More() {
		t.Fatalf("line is not one JSON object (%v): %s", err, line)
	}
	aws, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("no _aws object: %s", line)
	}
	ts, ok := aws["Timestamp"].(json.Number)
	if ms, err := ts.Int64(); !ok || err != nil || ms != now.UnixMilli() {
		t.Errorf("_aws.Timestamp = %v, want %d (milliseconds): %s", aws["Timestamp"], now.UnixMilli(), line)
	}
	directives, ok := aws["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics is not a non-empty array: %s", line)
	}
	if len(aws) != 2 {
		t.Errorf("_aws has members beyond Timestamp and CloudWatchMetrics: %s", line)
	}
	used := map[string]bool{"_aws": true}
	for _, d := range directives {
		dir, ok := d.(map[string]any)
		if !ok {
			t.Fatalf("a directive is not an object: %s", line)
		}
		if ns, ok := dir["Namespace"].(string); !ok || ns == "" {
			t.Errorf("directive without a Namespace: %s", line)
		}
		sets, ok := dir["Dimensions"].([]any)
		if !ok {
			t.Fatalf("directive without Dimensions: %s", line)
		}
		for _, s := range sets {
			names, ok := s.([]any)
			if !ok || len(names) == 0 || len(names) > 30 {
				t.Errorf("dimension set %v: want 1 to 30 names: %s", s, line)
			}
			for _, n := range names {
				name, _ := n.(string)
				v, ok := doc[name].(string)
				if !ok || strings.TrimSpace(v) == "" || len(v) > 1024 {
					t.Errorf("dimension %q has no string value at the root: %s", name, line)
				}
				used[name] = true
			}
		}
		defs, ok := dir["Metrics"].([]any)
		if !ok || len(defs) == 0 || len(defs) > 100 {
			t.Fatalf("directive Metrics: want 1 to 100 definitions: %s", line)
		}
		for _, m := range defs {
			def, _ := m.(map[string]any)
			name, _ := def["Name"].(string)
			if unit, _ := def["Unit"].(string); !validUnits[unit] {
				t.Errorf("metric %q has unit %q: %s", name, def["Unit"], line)
			}
			switch v := doc[name].(type) {
			case json.Number:
			case []any:
				if len(v) == 0 || len(v) > 100 {
					t.Errorf("metric %q has %d values, want 1 to 100: %s", name, len(v), line)
				}
				for _, x := range v {
					if _, ok := x.(json.Number); !ok {
						t.Errorf("metric %q value %v is not a number: %s", name, x, line)
					}
				}
			default:
				t.Errorf("metric %q has no number or array of numbers at the root: %s", name, line)
			}
			used[name] = true
		}
	}
	for k := range doc {
		if !used[k] {
			t.Errorf("root member %q is neither a dimension nor a metric: %s", k, line)
		}
	}
	return doc
}

// TestGolden: a small batch's lines, as CloudWatch will read them.
func TestGolden(t *testing.T) {
	var buf bytes.Buffer
	w := newWriter(&buf)
	for range 3 {
		w.Delivery(notify.ChannelSMS, metrics.Sent, "")
	}
	w.Delivery(notify.ChannelSMS, metrics.Failed, "opted_out")
	w.Delivery(notify.ChannelSMS, metrics.Failed, "opted_out")
	w.Delivery(notify.ChannelEmail, metrics.Skipped, notify.ReasonNoConsent)
	w.Callback(notify.ChannelEmail, metrics.Delivered, "")
	w.Callback(notify.ChannelWhatsApp, metrics.Failed, "whatsapp_131026")
	w.ProviderCall(notify.ChannelSMS, 12340*time.Microsecond)
	w.ProviderCall(notify.ChannelSMS, 80*time.Millisecond)
	w.QueueAge(notify.ChannelSMS, 1500*time.Millisecond)
	w.ProviderCall(notify.ChannelEmail, 3*time.Millisecond)
	w.Flush()
	lines(t, buf.String())
	golden := filepath.Join("testdata", "flush.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("lines (-%s +got):\n%s", golden, diff)
	}
}

// sum adds a metric's values over all lines whose dimensions match dims.
func sum(docs []map[string]any, metric string, dims map[string]string) (total float64, values int) {
	for _, d := range docs {
		match := true
		for k, v := range dims {
			match = match && d[k] == v
		}
		if !match {
			continue
		}
		switch v := d[metric].(type) {
		case json.Number:
			f, _ := v.Float64()
			total += f
			values++
		case []any:
			for _, x := range v {
				f, _ := x.(json.Number).Float64()
				total += f
				values++
			}
		}
	}
	return total, values
}

// TestABatchIsAFewLines: a batch of ten messages of 100 recipients writes
// a line per channel, outcome and reason and a line per 100 durations,
// not a line per recipient, and the figures add up.
func TestABatchIsAFewLines(t *testing.T) {
	var buf bytes.Buffer
	w := newWriter(&buf)
	for i := range 1000 {
		switch {
		case i%100 == 7:
			w.Delivery(notify.ChannelSMS, metrics.Failed, "opted_out")
		case i%250 == 3:
			w.Delivery(notify.ChannelSMS, metrics.Skipped, notify.ReasonNoConsent)
		default:
			w.Delivery(notify.ChannelSMS, metrics.Sent, "")
			w.ProviderCall(notify.ChannelSMS, time.Duration(i)*time.Millisecond)
		}
	}
	for range 10 {
		w.QueueAge(notify.ChannelSMS, 2*time.Second)
	}
	w.Flush()
	docs := lines(t, buf.String())
	// 3 counts; 986 latencies (10 lines), the 10 ages riding on the first.
	if len(docs) != 13 {
		t.Errorf("%d lines for 1,000 recipients, want 13:\n%s", len(docs), buf.String())
	}
	for _, tt := range []struct {
		outcome string
		want    float64
	}{{"sent", 986}, {"failed", 10}, {"skipped", 4}} {
		if got, _ := sum(docs, MetricDeliveries, map[string]string{DimChannel: "sms", DimOutcome: tt.outcome}); got != tt.want {
			t.Errorf("Deliveries sms %s = %v, want %v", tt.outcome, got, tt.want)
		}
	}
	if _, n := sum(docs, MetricProviderLatency, map[string]string{DimChannel: "sms"}); n != 986 {
		t.Errorf("%d latencies written, want 986", n)
	}
	if total, n := sum(docs, MetricQueueAge, map[string]string{DimChannel: "sms"}); n != 10 || total != 20 {
		t.Errorf("queue ages: %d values summing to %v s, want 10 summing to 20", n, total)
	}
	buf.Reset()
	w.Flush()
	if buf.Len() != 0 {
		t.Errorf("a second Flush wrote %q, want nothing: Flush forgets what it wrote", buf.String())
	}
}

// TestFailuresComeWithSends: a flush with failures on a channel and no
// sends writes a zero for its sends, so that the alarm's sent + failed has
// a datapoint when everything failed.
func TestFailuresComeWithSends(t *testing.T) {
	var buf bytes.Buffer
	w := newWriter(&buf)
	w.Delivery(notify.ChannelEmail, metrics.Failed, "account_suspended")
	w.Delivery(notify.ChannelEmail, metrics.Failed, "account_suspended")
	w.Delivery(notify.ChannelPush, metrics.Skipped, notify.ReasonNoDevice)
	w.Flush()
	docs := lines(t, buf.String())
	if sent, n := sum(docs, MetricDeliveries, map[string]string{DimChannel: "email", DimOutcome: "sent"}); n != 1 || sent != 0 {
		t.Errorf("email sends: %d lines summing to %v, want one line of 0:\n%s", n, sent, buf.String())
	}
	if _, n := sum(docs, MetricDeliveries, map[string]string{DimChannel: "push", DimOutcome: "sent"}); n != 0 {
		t.Errorf("push sends written for a flush of skips only:\n%s", buf.String())
	}
	if len(docs) != 3 {
		t.Errorf("%d lines, want 3 (email failed, email sent 0, push skipped)", len(docs))
	}
}

// TestHundredValuesALine: durations go 100 to a line, the metrics of a
// channel sharing lines until one runs out.
func TestHundredValuesALine(t *testing.T) {
	var buf bytes.Buffer
	w := newWriter(&buf)
	for i := range 250 {
		w.ProviderCall(notify.ChannelEmail, time.Duration(i)*time.Millisecond)
	}
	for range 120 {
		w.QueueAge(notify.ChannelEmail, time.Second)
	}
	w.Flush()
	docs := lines(t, buf.String())
	var got [][2]int
	for _, d := range docs {
		lat, _ := d[MetricProviderLatency].([]any)
		age, _ := d[MetricQueueAge].([]any)
		got = append(got, [2]int{len(lat), len(age)})
	}
	if diff := cmp.Diff([][2]int{{100, 100}, {100, 20}, {50, 0}}, got); diff != "" {
		t.Errorf("values per line [latency, age] (-want +got):\n%s", diff)
	}
	// The last line names only the metric it carries.
	defs := docs[2]["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any)
	if len(defs) != 1 {
		t.Errorf("last line defines %v, want only ProviderLatency", defs)
	}
}

// TestPendingValuesAreBounded: a Writer nobody flushes writes full lines
// once a series holds maxPending values, instead of growing.
func TestPendingValuesAreBounded(t *testing.T) {
	var buf bytes.Buffer
	w := newWriter(&buf)
	for range maxPending - 1 {
		w.ProviderCall(notify.ChannelPush, time.Millisecond)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote before the bound: %s", buf.String())
	}
	w.ProviderCall(notify.ChannelPush, time.Millisecond)
	if got := len(lines(t, buf.String())); got != maxPending/maxValues {
		t.Errorf("at the bound: %d lines, want %d", got, maxPending/maxValues)
	}
	w.mu.Lock()
	pending := len(w.values[valueKey{MetricProviderLatency, "push"}])
	w.mu.Unlock()
	if pending != 0 {
		t.Errorf("%d values still pending after the write, want 0", pending)
	}
}

// TestNoIDsInLines: whatever a caller passes as a channel or a reason (an
// id, an address, a text, JSON), the lines carry only the bounded values.
func TestNoIDsInLines(t *testing.T) {
	hostile := []string{"ws_01HZX0000000000000000000AB", "01HZX0000000000000000000AB", "u-1001", "ana@example.com",
		"+34600000001", "Hola Ana, tu factura", `x","Stage":"evil`, "opted_out\n", strings.Repeat("a", 5000)}
	var buf bytes.Buffer
	w := newWriter(&buf)
	for _, h := range hostile {
		w.Delivery(notify.Channel(h), metrics.Failed, h)
		w.Delivery(notify.ChannelSMS, metrics.Outcome(h), h)
		w.Callback(notify.Channel(h), metrics.Delivered, h)
		w.ProviderCall(notify.Channel(h), time.Millisecond)
		w.QueueAge(notify.Channel(h), -time.Second)
	}
	w.Flush()
	out := buf.String()
	for _, h := range hostile {
		if strings.Contains(out, strings.TrimSpace(h)) {
			t.Errorf("lines carry %q:\n%s", h, out)
		}
	}
	for _, d := range lines(t, out) {
		for _, k := range []string{DimChannel, DimOutcome, DimReason} {
			if v, ok := d[k]; ok && v != metrics.Other && v != "sms" && v != "sent" && v != "failed" && v != "delivered" {
				t.Errorf("%s = %q, want a bounded value", k, v)
			}
		}
		if age, ok := d[MetricQueueAge].([]any); ok && age[0].(json.Number).String() != "0" {
			t.Errorf("a negative age written as %v, want 0", age[0])
		}
	}
}

// TestConcurrentRecording: figures recorded from many goroutines (the
// dispatcher's concurrent sends) all count, and every line stays whole.
func TestConcurrentRecording(t *testing.T) {
	var buf syncBuffer
	w := New(&buf, Options{Stage: "dev", Now: func() time.Time { return now }})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 500 {
				w.Delivery(notify.Channels[g%len(notify.Channels)], metrics.Sent, "")
				w.ProviderCall(notify.Channels[g%len(notify.Channels)], time.Duration(i)*time.Microsecond)
				if i%100 == 0 {
					w.Flush()
				}
			}
		})
	}
	wg.Wait()
	w.Flush()
	docs := lines(t, buf.String())
	if got, _ := sum(docs, MetricDeliveries, nil); got != 16*500 {
		t.Errorf("Deliveries = %v, want %d", got, 16*500)
	}
	if _, n := sum(docs, MetricProviderLatency, nil); n != 16*500 {
		t.Errorf("latencies = %d, want %d", n, 16*500)
	}
}

func TestOptions(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, Options{Now: func() time.Time { return now }})
	w.Delivery(notify.ChannelSMS, metrics.Sent, "")
	w.Flush()
	d := lines(t, buf.String())[0]
	ns := d["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Namespace"]
	if ns != DefaultNamespace || d[DimStage] != "default" {
		t.Errorf("namespace %v, stage %v; want %s and default", ns, d[DimStage], DefaultNamespace)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// BenchmarkBytesPerThousandRecipients measures what the figures of a
// dispatch batch cost in log bytes: ten messages of 100 recipients on one
// channel, mostly sent, some skipped and failed for a few reasons. It
// reports bytes/1k-recipients (CloudWatch Logs bills ingestion per GB;
// see the package doc and the README for the price).
func BenchmarkBytesPerThousandRecipients(b *testing.B) {
	reasons := []string{notify.ReasonNoConsent, notify.ReasonNoDevice, "opted_out", "invalid_address"}
	var written int
	for b.Loop() {
		var buf bytes.Buffer
		w := New(&buf, Options{Stage: "prod"})
		for i := range 1000 {
			switch {
			case i%50 == 1:
				w.Delivery(notify.ChannelSMS, metrics.Skipped, reasons[i%2])
			case i%100 == 2:
				w.Delivery(notify.ChannelSMS, metrics.Failed, reasons[2+i%2])
				w.ProviderCall(notify.ChannelSMS, 180*time.Millisecond)
			default:
				w.Delivery(notify.ChannelSMS, metrics.Sent, "")
				w.ProviderCall(notify.ChannelSMS, time.Duration(40+i%400)*time.Millisecond+123*time.Microsecond)
			}
		}
		for i := range 10 {
			w.QueueAge(notify.ChannelSMS, time.Duration(1500+i*37)*time.Millisecond)
		}
		w.Flush()
		written = buf.Len()
	}
	b.ReportMetric(float64(written), "bytes/1k-recipients")
	fmt.Fprintf(os.Stderr, "EMF: %d bytes per 1,000 recipients of one channel\n", written)
}
