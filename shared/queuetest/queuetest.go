// Package queuetest is the contract suite of the notify.Queue port. Every
// adapter (the embedded bbolt queue, the SQS queue) runs it from its own tests,
// so the dispatch pipeline can rely on the same at-least-once behaviour
// whichever queue it is wired to.
package queuetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// NewPair makes a fresh, empty queue and its dead-letter queue for one test.
// The queue hides a received message for visibility and moves it to dlq after
// maxReceives receives without a delete. The adapter cleans up with t.Cleanup.
type NewPair func(t *testing.T, visibility time.Duration, maxReceives int) (q, dlq notify.Queue)

// Visibility timeouts are whole seconds because SQS counts in seconds; they
// are short so the suite runs in seconds, and every subtest runs in parallel.
const (
	shortVisibility = 1 * time.Second
	longVisibility  = 20 * time.Second
	// slack covers a remote queue's clock and the round trips of a test.
	slack = 700 * time.Millisecond
)

// Option adjusts a run of the suite.
type Option func(*config)

type config struct {
	skips map[string]string // case name → reason
}

// Skip skips the named case (such as "ConcurrentReceivers") with a reason,
// for a gap of an emulator rather than of the adapter. The reason shows in
// the test output, so say what is missing and where.
func Skip(name, reason string) Option {
	return func(c *config) { c.skips[name] = reason }
}

type testCase struct {
	name string
	fn   func(t *testing.T, newPair NewPair)
}

// Run runs the contract suite against the adapter that newPair makes.
func Run(t *testing.T, newPair NewPair, opts ...Option) {
	cfg := config{skips: map[string]string{}}
	for _, o := range opts {
		o(&cfg)
	}
	tests := []testCase{
		{"RoundTrip", testRoundTrip},
		{"SendNothing", testSendNothing},
		{"SendMany", testSendMany},
		{"ReceiveAtMostMax", testReceiveAtMostMax},
		{"Redelivery", testRedelivery},
		{"DeleteStopsRedelivery", testDeleteStopsRedelivery},
		{"ChangeVisibility", testChangeVisibility},
		{"DeadLetter", testDeadLetter},
		{"LongPollWakesOnSend", testLongPollWakesOnSend},
		{"LongPollEmpty", testLongPollEmpty},
		{"Delayed", testDelayed},
		{"ConcurrentReceivers", testConcurrentReceivers},
	}
	for name := range cfg.skips {
		if !slices.ContainsFunc(tests, func(c testCase) bool { return c.name == name }) {
			t.Errorf("queuetest.Skip(%q): no such case", name)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if reason, ok := cfg.skips[tt.name]; ok {
				t.Skip(reason)
			}
			t.Parallel()
			tt.fn(t, newPair)
		})
	}
}

func testRoundTrip(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, longVisibility, 5)
	msg := notify.DispatchMessage{
		WorkspaceID:    "ws_1",
		NotificationID: "01HZX0000000000000000000AB",
		Recipients: []notify.Recipient{
			{UserID: "u1", Variables: map[string]string{"name": "Zoë", "quote": `"<&>'`}},
			{Address: "+34600000000"},
		},
	}
	dispatch, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{
		dispatch,
		[]byte("plain text with\nnewlines\tand tabs, ünïcödé, emoji 🚀 and CJK 通知"),
		[]byte(" leading and trailing spaces "),
		bytes.Repeat([]byte("0123456789"), 1024), // a 10 KB message, the size of 100 recipients
	}
	before := time.Now()
	if err := q.Send(ctx, bodies); err != nil {
		t.Fatalf("Send: %v", err)
	}
	sent := time.Now()
	got := receiveN(t, q, len(bodies))
	for _, m := range got {
		if m.ID == "" || m.Receipt == "" {
			t.Errorf("received message with ID %q and Receipt %q, want both set", m.ID, m.Receipt)
		}
		if m.ReceiveCount != 1 {
			t.Errorf("first receive of %s: ReceiveCount = %d, want 1", m.ID, m.ReceiveCount)
		}
		// When the queue accepted it: during Send (by the queue's clock).
		if m.SentAt.Before(before.Add(-slack)) || m.SentAt.After(sent.Add(slack)) {
			t.Errorf("message %s: SentAt = %v, want during the Send (%v to %v)", m.ID, m.SentAt, before, sent)
		}
	}
	if diff := cmp.Diff(sortedBodies(bodies), sortedBodies(messageBodies(got))); diff != "" {
		t.Errorf("received bodies differ from sent (-sent +received):\n%s", diff)
	}
	for _, m := range got {
		if err := q.Delete(ctx, m.Receipt); err != nil {
			t.Fatalf("Delete(%s): %v", m.ID, err)
		}
	}
	expectEmpty(t, q, time.Second)
}

func testSendNothing(t *testing.T, newPair NewPair) {
	q, _ := newPair(t, longVisibility, 5)
	if err := q.Send(context.Background(), nil); err != nil {
		t.Fatalf("Send(nil) = %v, want nil", err)
	}
	expectEmpty(t, q, 0)
}

func testSendMany(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, longVisibility, 5)
	const n = 95 // not a multiple of the SQS batch size
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf("message %03d %s", i, strings.Repeat("x", i)))
	}
	if err := q.Send(ctx, bodies); err != nil {
		t.Fatalf("Send(%d bodies): %v", n, err)
	}
	got := receiveN(t, q, n)
	seen := map[string]int{}
	for _, m := range got {
		seen[string(m.Body)]++
		if err := q.Delete(ctx, m.Receipt); err != nil {
			t.Fatalf("Delete(%s): %v", m.ID, err)
		}
	}
	for _, b := range bodies {
		if c := seen[string(b)]; c != 1 {
			t.Errorf("body %.11q received %d times, want 1", b, c)
		}
	}
	expectEmpty(t, q, time.Second)
}

func testReceiveAtMostMax(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, longVisibility, 5)
	if err := q.Send(ctx, makeBodies("max", 30)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for _, max := range []int{1, 3, 10, 15} {
		got, err := q.Receive(ctx, max, time.Second)
		if err != nil {
			t.Fatalf("Receive(max %d): %v", max, err)
		}
		if len(got) == 0 || len(got) > max {
			t.Errorf("Receive(max %d) returned %d messages, want 1 to %d", max, len(got), max)
		}
	}
}

func testRedelivery(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, shortVisibility, 5)
	if err := q.Send(ctx, [][]byte{[]byte("redeliver me")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first := receiveOne(t, q, time.Second)
	received := time.Now()
	if first.ReceiveCount != 1 {
		t.Errorf("first ReceiveCount = %d, want 1", first.ReceiveCount)
	}
	// Hidden while in flight. On a loaded machine more than the timeout
	// can pass between two calls: a message back after it is not a fault.
	var second notify.QueueMessage
	early, err := q.Receive(ctx, 10, 0)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if len(early) > 0 {
		if since := time.Since(received); since < shortVisibility-slack {
			t.Fatalf("Receive %v after the first = %d messages, want none while in flight", since, len(early))
		}
		second = early[0]
	} else {
		second = receiveOne(t, q, shortVisibility+2*time.Second)
	}
	if elapsed := time.Since(received); elapsed < shortVisibility-slack {
		t.Errorf("redelivered after %v, want after the %v visibility timeout", elapsed, shortVisibility)
	}
	if second.ID != first.ID || !bytes.Equal(second.Body, first.Body) {
		t.Errorf("redelivered %s %q, want %s %q", second.ID, second.Body, first.ID, first.Body)
	}
	// SQS counts every receive, one whose response was lost and retried
	// by the SDK too (its count is "approximate"): on a loaded machine a
	// lost long poll makes the redelivery the third receive. Fewer than
	// two would mean the redelivery went uncounted.
	if second.ReceiveCount < 2 {
		t.Errorf("second ReceiveCount = %d, want 2 (or more, after a lost receive)", second.ReceiveCount)
	}
	if err := q.Delete(ctx, second.Receipt); err != nil {
		t.Fatalf("Delete with the second receipt: %v", err)
	}
}

func testDeleteStopsRedelivery(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, shortVisibility, 5)
	if err := q.Send(ctx, [][]byte{[]byte("delete me")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := receiveOne(t, q, time.Second)
	if err := q.Delete(ctx, m.Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	expectEmpty(t, q, shortVisibility+time.Second)
}

func testChangeVisibility(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, shortVisibility, 10)
	if err := q.Send(ctx, [][]byte{[]byte("change my visibility")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := receiveOne(t, q, time.Second)

	// Zero makes it visible at once.
	if err := q.ChangeVisibility(ctx, m.Receipt, 0); err != nil {
		t.Fatalf("ChangeVisibility(0): %v", err)
	}
	again := receiveOne(t, q, 0)
	if again.ID != m.ID || again.ReceiveCount != 2 {
		t.Fatalf("Receive after ChangeVisibility(0) = %s with ReceiveCount %d, want %s with 2", again.ID, again.ReceiveCount, m.ID)
	}

	// Extending keeps it hidden past the queue's visibility timeout.
	extended := 3 * time.Second
	if err := q.ChangeVisibility(ctx, again.Receipt, extended); err != nil {
		t.Fatalf("ChangeVisibility(%v): %v", extended, err)
	}
	extendedAt := time.Now()
	expectEmpty(t, q, shortVisibility+slack)
	back := receiveOne(t, q, extended+2*time.Second)
	if elapsed := time.Since(extendedAt); elapsed < extended-slack {
		t.Errorf("came back %v after ChangeVisibility(%v), want after the extension", elapsed, extended)
	}
	if back.ID != m.ID || back.ReceiveCount != 3 {
		t.Errorf("came back as %s with ReceiveCount %d, want %s with 3", back.ID, back.ReceiveCount, m.ID)
	}
	if err := q.Delete(ctx, back.Receipt); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

func testDeadLetter(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	const maxReceives = 2
	q, dlq := newPair(t, shortVisibility, maxReceives)
	body := []byte(`{"poison":"pill ☠"}`)
	if err := q.Send(ctx, [][]byte{body}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var id string
	for i := 1; i <= maxReceives; i++ {
		m := receiveOne(t, q, time.Second)
		if m.ReceiveCount != i {
			t.Errorf("receive %d: ReceiveCount = %d, want %d", i, m.ReceiveCount, i)
		}
		id = m.ID
		// Give up on it without waiting for the visibility timeout.
		if err := q.ChangeVisibility(ctx, m.Receipt, 0); err != nil {
			t.Fatalf("ChangeVisibility(0): %v", err)
		}
	}
	// The next receive finds it over the limit and moves it, as SQS does.
	if got, err := q.Receive(ctx, 10, time.Second); err != nil || len(got) != 0 {
		t.Fatalf("Receive after %d receives = %d messages, %v; want none: it belongs to the dead-letter queue", maxReceives, len(got), err)
	}
	dead := receiveOne(t, dlq, 2*time.Second)
	if !bytes.Equal(dead.Body, body) {
		t.Errorf("dead-letter body = %q, want %q", dead.Body, body)
	}
	if dead.ID != id {
		t.Errorf("dead-letter ID = %q, want the original %q", dead.ID, id)
	}
	if err := dlq.Delete(ctx, dead.Receipt); err != nil {
		t.Fatalf("Delete from the dead-letter queue: %v", err)
	}
	expectEmpty(t, q, 0)
}

func testLongPollWakesOnSend(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, longVisibility, 5)
	const wait = 10 * time.Second
	type result struct {
		msgs []notify.QueueMessage
		err  error
		took time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		msgs, err := q.Receive(ctx, 10, wait)
		done <- result{msgs, err, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	if err := q.Send(ctx, [][]byte{[]byte("wake up")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Receive(wait %v): %v", wait, r.err)
	}
	if len(r.msgs) != 1 || string(r.msgs[0].Body) != "wake up" {
		t.Fatalf("Receive(wait %v) = %d messages, want the one sent while waiting", wait, len(r.msgs))
	}
	if r.took > wait/2 {
		t.Errorf("Receive returned %v after it began, want soon after the send, not at the end of its %v wait", r.took, wait)
	}
}

func testLongPollEmpty(t *testing.T, newPair NewPair) {
	q, _ := newPair(t, longVisibility, 5)
	const wait = time.Second
	start := time.Now()
	got, err := q.Receive(context.Background(), 10, wait)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("Receive(wait %v) on an empty queue: %v", wait, err)
	}
	if len(got) != 0 {
		t.Fatalf("Receive(wait %v) on an empty queue = %d messages, want none", wait, len(got))
	}
	if took < wait-100*time.Millisecond {
		t.Errorf("Receive(wait %v) on an empty queue returned after %v, want after the wait", wait, took)
	}
}

func testConcurrentReceivers(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	// Long enough that nothing comes back while the receivers run.
	q, _ := newPair(t, longVisibility, 5)
	const n, receivers = 60, 6
	if err := q.Send(ctx, makeBodies("concurrent", n)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		total int
		wg    sync.WaitGroup
		errs  = make(chan error, receivers)
	)
	deadline := time.Now().Add(longVisibility / 2)
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				msgs, err := q.Receive(ctx, 3, 500*time.Millisecond)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, m := range msgs {
					seen[m.ID]++
					total++
				}
				finished := total >= n
				mu.Unlock()
				if finished {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Receive: %v", err)
	}
	if time.Now().After(deadline) {
		t.Fatalf("receivers ran past the deadline; the visibility timeout may have let messages back")
	}
	if len(seen) != n {
		t.Errorf("receivers got %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("message %s given to %d receivers while in flight, want 1", id, c)
		}
	}
}

// receiveN receives until it has n messages, without deleting them; the
// queue's visibility must be long enough that none comes back meanwhile.
func receiveN(t *testing.T, q notify.Queue, n int) []notify.QueueMessage {
	t.Helper()
	var got []notify.QueueMessage
	deadline := time.Now().Add(15 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		msgs, err := q.Receive(context.Background(), 10, time.Second)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		got = append(got, msgs...)
	}
	if len(got) != n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

// receiveOne waits up to wait for a single message.
func receiveOne(t *testing.T, q notify.Queue, wait time.Duration) notify.QueueMessage {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		msgs, err := q.Receive(context.Background(), 1, time.Second)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		if len(msgs) == 1 {
			return msgs[0]
		}
		if len(msgs) > 1 {
			t.Fatalf("Receive(max 1) = %d messages", len(msgs))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message within %v", wait)
		}
	}
}

// expectEmpty fails if a message arrives within wait.
func expectEmpty(t *testing.T, q notify.Queue, wait time.Duration) {
	t.Helper()
	msgs, err := q.Receive(context.Background(), 10, wait)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if len(msgs) != 0 {
		t.Fatalf("Receive(wait %v) = %d messages (first %q, ReceiveCount %d), want none", wait, len(msgs), msgs[0].Body, msgs[0].ReceiveCount)
	}
}

func makeBodies(prefix string, n int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = []byte(fmt.Sprintf("%s %d", prefix, i))
	}
	return bodies
}

func messageBodies(msgs []notify.QueueMessage) [][]byte {
	bodies := make([][]byte, len(msgs))
	for i, m := range msgs {
		bodies[i] = m.Body
	}
	return bodies
}

func sortedBodies(bodies [][]byte) []string {
	s := make([]string, len(bodies))
	for i, b := range bodies {
		s[i] = string(b)
	}
	slices.Sort(s)
	return s
}

func testDelayed(t *testing.T, newPair NewPair) {
	ctx := context.Background()
	q, _ := newPair(t, longVisibility, 5)
	// The clock starts before the delayed send: on a loaded machine the
	// calls after it may take a good part of the delay.
	start := time.Now()
	if err := q.SendDelayed(ctx, [][]byte{[]byte("later")}, 2*time.Second); err != nil {
		t.Fatalf("SendDelayed: %v", err)
	}
	sentBy := time.Now()
	if err := q.Send(ctx, [][]byte{[]byte("now")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := q.Receive(ctx, 10, 0)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if len(got) != 1 || string(got[0].Body) != "now" {
		t.Fatalf("Receive at once = %q, want only the undelayed message", sortedBodies(messageBodies(got)))
	}
	var later []notify.QueueMessage
	for len(later) == 0 && time.Since(start) < 10*time.Second {
		if later, err = q.Receive(ctx, 10, time.Second); err != nil {
			t.Fatalf("Receive: %v", err)
		}
	}
	if len(later) != 1 || string(later[0].Body) != "later" {
		t.Fatalf("Receive after the delay = %q, want the delayed message", sortedBodies(messageBodies(later)))
	}
	// SentAt is the send, as SQS's SentTimestamp, not the end of the delay.
	if at := later[0].SentAt; at.Before(start.Add(-slack)) || at.After(sentBy.Add(slack)) {
		t.Errorf("delayed message: SentAt = %v, want during SendDelayed (%v to %v)", at, start, sentBy)
	}
	if took := time.Since(start); took < 1500*time.Millisecond {
		t.Errorf("the delayed message arrived after %v, want about 2 s", took)
	}
}
