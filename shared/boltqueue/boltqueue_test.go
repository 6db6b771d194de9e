package boltqueue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/queuetest"
)

func TestContract(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoSync=%v", noSync), func(t *testing.T) {
			queuetest.Run(t, func(t *testing.T, visibility time.Duration, maxReceives int) (notify.Queue, notify.Queue) {
				q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{
					Visibility: visibility, MaxReceives: maxReceives, NoSync: noSync,
				})
				return q, q.DeadLetter()
			})
		})
	}
}

func open(t *testing.T, path string, opts Options) *Queue {
	t.Helper()
	q, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestReopenKeepsMessages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	opts := Options{Visibility: time.Second}
	q, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := q.Send(ctx, [][]byte{[]byte("a"), []byte("b"), []byte("c")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	inFlight, err := q.Receive(ctx, 2, 0)
	if err != nil || len(inFlight) != 2 {
		t.Fatalf("Receive = %d messages, %v; want 2", len(inFlight), err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	q = open(t, path, opts)
	got, err := q.Receive(ctx, 10, 0)
	if err != nil {
		t.Fatalf("Receive after reopen: %v", err)
	}
	if diff := cmp.Diff([]string{"c"}, bodies(got)); diff != "" {
		t.Errorf("visible after reopen (-want +got):\n%s", diff)
	}
	for _, m := range got { // done with c, so only a and b can come back
		if err := q.Delete(ctx, m.Receipt); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	// The two in flight come back after their visibility timeout, received
	// once more.
	var back []notify.QueueMessage
	for len(back) < 2 {
		msgs, err := q.Receive(ctx, 10, 3*time.Second)
		if err != nil || len(msgs) == 0 {
			t.Fatalf("Receive after the visibility timeout = %d messages, %v; want the in-flight ones", len(msgs), err)
		}
		back = append(back, msgs...)
	}
	if diff := cmp.Diff([]string{"a", "b"}, bodies(back)); diff != "" {
		t.Errorf("came back after the timeout (-want +got):\n%s", diff)
	}
	for _, m := range back {
		if m.ReceiveCount != 2 {
			t.Errorf("%s ReceiveCount = %d, want 2", m.Body, m.ReceiveCount)
		}
	}
}

func TestRequeueInFlight(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	opts := Options{Visibility: time.Hour}
	q, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := q.Send(ctx, [][]byte{[]byte("a"), []byte("b"), []byte("c")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, err := q.Receive(ctx, 2, 0); err != nil || len(got) != 2 {
		t.Fatalf("Receive = %d messages, %v; want 2", len(got), err)
	}
	q.Close()

	q = open(t, path, opts)
	if diff := cmp.Diff(Stats{Visible: 1, InFlight: 2}, stats(t, q)); diff != "" {
		t.Errorf("Stats after reopen (-want +got):\n%s", diff)
	}
	n, err := q.RequeueInFlight()
	if err != nil || n != 2 {
		t.Fatalf("RequeueInFlight = %d, %v; want 2", n, err)
	}
	if diff := cmp.Diff(Stats{Visible: 3}, stats(t, q)); diff != "" {
		t.Errorf("Stats after RequeueInFlight (-want +got):\n%s", diff)
	}
	got, err := q.Receive(ctx, 10, 0)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, bodies(got)); diff != "" {
		t.Errorf("Receive after RequeueInFlight (-want +got):\n%s", diff)
	}
}

// childEnv makes the test binary act as a process that is killed mid-work.
const childEnv = "HERALD_BOLTQUEUE_KILL_CHILD"

// TestKillChild is the killed process: it sends, receives some messages
// without deleting them, says so, and waits to be killed.
func TestKillChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("runs only as the child of TestSurvivesKill")
	}
	ctx := context.Background()
	q, err := Open(path, Options{Visibility: time.Hour, MaxReceives: 5, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Send(ctx, makeBodies(100)); err != nil {
		t.Fatal(err)
	}
	msgs, err := q.Receive(ctx, 30, 0)
	if err != nil || len(msgs) != 30 {
		t.Fatalf("Receive = %d, %v", len(msgs), err)
	}
	if err := q.Delete(ctx, msgs[0].Receipt); err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	time.Sleep(time.Minute)
}

func TestSurvivesKill(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("this is the child")
	}
	path := filepath.Join(t.TempDir(), "queue.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	defer cmd.Process.Kill()
	ready := false
	for sc := bufio.NewScanner(out); sc.Scan(); {
		if sc.Text() == "ready" {
			ready = true
			break
		}
	}
	if !ready {
		t.Fatalf("child stopped before it was ready: %v", cmd.Wait())
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred cleanup runs
		t.Fatalf("kill child: %v", err)
	}
	cmd.Wait()

	q := open(t, path, Options{Visibility: time.Hour, MaxReceives: 5})
	if diff := cmp.Diff(Stats{Visible: 70, InFlight: 29}, stats(t, q)); diff != "" {
		t.Errorf("Stats after kill (-want +got):\n%s", diff)
	}
	if n, err := q.RequeueInFlight(); err != nil || n != 29 {
		t.Fatalf("RequeueInFlight = %d, %v; want 29", n, err)
	}
	got, err := q.Receive(context.Background(), 200, 0)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	want := bodies(asMessages(makeBodies(100)[1:]))
	if diff := cmp.Diff(want, bodies(got)); diff != "" {
		t.Errorf("messages after kill (-want +got):\n%s", diff)
	}
	for _, m := range got {
		n, _ := strconv.Atoi(string(m.Body[len("message "):]))
		wantCount := 1 // received once, after the kill
		if n < 30 {
			wantCount = 2 // and once by the killed process
		}
		if m.ReceiveCount != wantCount {
			t.Errorf("%s ReceiveCount = %d, want %d", m.Body, m.ReceiveCount, wantCount)
		}
	}
}

func TestStatsAndDeadLetter(t *testing.T) {
	ctx := context.Background()
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Visibility: time.Hour, MaxReceives: 1})
	if err := q.Send(ctx, makeBodies(5)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs, err := q.Receive(ctx, 2, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Receive = %d, %v; want 2", len(msgs), err)
	}
	if diff := cmp.Diff(Stats{Visible: 3, InFlight: 2}, stats(t, q)); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	for _, m := range msgs {
		if err := q.ChangeVisibility(ctx, m.Receipt, 0); err != nil {
			t.Fatalf("ChangeVisibility: %v", err)
		}
	}
	// The two received once go to the dead-letter queue; the three others
	// are delivered.
	got, err := q.Receive(ctx, 10, 0)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if diff := cmp.Diff([]string{"message 2", "message 3", "message 4"}, bodies(got)); diff != "" {
		t.Errorf("Receive (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Stats{InFlight: 3, Dead: 2}, stats(t, q)); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	dead, err := q.DeadLetter().Receive(ctx, 10, 0)
	if err != nil {
		t.Fatalf("dead-letter Receive: %v", err)
	}
	if diff := cmp.Diff([]string{"message 0", "message 1"}, bodies(dead)); diff != "" {
		t.Errorf("dead letters (-want +got):\n%s", diff)
	}
	if err := q.DeadLetter().DeleteBatch(ctx, []string{dead[0].Receipt, dead[1].Receipt}); err != nil {
		t.Fatalf("DeleteBatch: %v", err)
	}
	if err := q.DeleteBatch(ctx, []string{got[0].Receipt, got[1].Receipt, got[1].Receipt}); err != nil {
		t.Fatalf("DeleteBatch: %v", err)
	}
	if diff := cmp.Diff(Stats{InFlight: 1}, stats(t, q)); diff != "" {
		t.Errorf("Stats after deletes (-want +got):\n%s", diff)
	}
}

func TestReceipts(t *testing.T) {
	ctx := context.Background()
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Visibility: time.Hour})
	if err := q.Send(ctx, makeBodies(1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first := receiveAll(t, q)[0]
	if err := q.ChangeVisibility(ctx, first.Receipt, 0); err != nil {
		t.Fatalf("ChangeVisibility: %v", err)
	}
	second := receiveAll(t, q)[0]

	tests := []struct {
		name    string
		receipt string
		code    string
	}{
		{"malformed", "nonsense", notify.CodeBadRequest},
		{"stale", first.Receipt, notify.CodeConflict},
		{"unknown", "999.1", notify.CodeNotFound},
	}
	for _, tt := range tests {
		err := q.ChangeVisibility(ctx, tt.receipt, 0)
		if !notify.IsCode(err, tt.code) {
			t.Errorf("%s: ChangeVisibility(%q) = %v, want code %s", tt.name, tt.receipt, err, tt.code)
		}
	}
	if err := q.Delete(ctx, "nonsense"); !notify.IsCode(err, notify.CodeBadRequest) {
		t.Errorf("Delete(nonsense) = %v, want %s", err, notify.CodeBadRequest)
	}
	// An older receipt still deletes: the work it stood for is done.
	if err := q.Delete(ctx, first.Receipt); err != nil {
		t.Fatalf("Delete(stale receipt): %v", err)
	}
	if err := q.Delete(ctx, second.Receipt); err != nil {
		t.Errorf("Delete of a deleted message = %v, want nil", err)
	}
	if diff := cmp.Diff(Stats{}, stats(t, q)); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestReceiveWakesWhenVisibilityEnds(t *testing.T) {
	ctx := context.Background()
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Visibility: 300 * time.Millisecond})
	if err := q.Send(ctx, makeBodies(1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	receiveAll(t, q)
	// Nothing is sent: only the timer set for the in-flight message wakes
	// the waiting receiver.
	got, err := q.Receive(ctx, 1, 10*time.Second)
	if err != nil || len(got) != 1 || got[0].ReceiveCount != 2 {
		t.Fatalf("Receive = %v, %v; want the message back", got, err)
	}
}

func TestReceiveStops(t *testing.T) {
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() {
		_, err := q.Receive(ctx, 1, time.Minute)
		done <- err
	}()
	go func() {
		_, err := q.DeadLetter().Receive(context.Background(), 1, time.Minute)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Receive after cancel = %v, want context.Canceled", err)
	}
	q.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("Receive after Close = %v, want ErrClosed", err)
	}
	if err := q.Send(context.Background(), makeBodies(1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if _, err := q.Receive(context.Background(), 0, 0); err == nil {
		t.Errorf("Receive(max 0) = nil error, want one")
	}
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue.db")
	open(t, path, Options{})
	if _, err := Open(path, Options{}); err == nil {
		t.Errorf("second Open of a file in use = nil error, want a timeout")
	}
}

// BenchmarkLocalDispatch moves the local mode's target load — 1,000 messages
// of 100 recipients (~10 KB each) — through the queue with several workers
// that receive ten at a time and delete each message after handling it, as the
// dispatch worker does. It reports recipients/s.
func BenchmarkLocalDispatch(b *testing.B) {
	for _, bc := range []struct {
		name   string
		noSync bool
		batch  bool
	}{
		{"sync", false, false},
		{"sync-DeleteBatch", false, true},
		{"NoSync", true, false},
		{"NoSync-DeleteBatch", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const messages, recipients, workers = 1000, notify.RecipientsPerMessage, 4
			body := make([]byte, 10_000)
			for i := range body {
				body[i] = 'a' + byte(i%26)
			}
			var moved atomic.Int64
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				q, err := Open(filepath.Join(b.TempDir(), "queue.db"), Options{Visibility: time.Minute, NoSync: bc.noSync})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				// The sender enqueues ten messages per call, like SQS batches.
				go func() {
					batch := make([][]byte, 10)
					for i := range batch {
						batch[i] = body
					}
					for range messages / 10 {
						if err := q.Send(ctx, batch); err != nil {
							b.Error(err)
							return
						}
					}
				}()
				var wg sync.WaitGroup
				var done atomic.Int64
				for range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for done.Load() < messages {
							msgs, err := q.Receive(ctx, 10, 50*time.Millisecond)
							if err != nil {
								b.Error(err)
								return
							}
							if bc.batch {
								receipts := make([]string, len(msgs))
								for i, m := range msgs {
									receipts[i] = m.Receipt
								}
								err = q.DeleteBatch(ctx, receipts)
							} else {
								for _, m := range msgs {
									if err = q.Delete(ctx, m.Receipt); err != nil {
										break
									}
								}
							}
							if err != nil {
								b.Error(err)
								return
							}
							done.Add(int64(len(msgs)))
						}
					}()
				}
				wg.Wait()
				moved.Add(messages * recipients)
				b.StopTimer()
				q.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(moved.Load())/b.Elapsed().Seconds(), "recipients/s")
		})
	}
}

func stats(t *testing.T, q *Queue) Stats {
	t.Helper()
	s, err := q.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

func receiveAll(t *testing.T, q *Queue) []notify.QueueMessage {
	t.Helper()
	msgs, err := q.Receive(context.Background(), 100, 0)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("Receive = %d messages, %v; want some", len(msgs), err)
	}
	return msgs
}

func makeBodies(n int) [][]byte {
	b := make([][]byte, n)
	for i := range b {
		b[i] = []byte(fmt.Sprintf("message %d", i))
	}
	return b
}

func asMessages(bodies [][]byte) []notify.QueueMessage {
	msgs := make([]notify.QueueMessage, len(bodies))
	for i, b := range bodies {
		msgs[i].Body = b
	}
	return msgs
}

// bodies returns the bodies sorted, since only SQS FIFO queues keep order.
func bodies(msgs []notify.QueueMessage) []string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = string(m.Body)
	}
	slices.Sort(s)
	return s
}

// TestRecordsWithoutSentAt: a queue file written before messages kept
// when they were sent (12-byte meta records) still delivers them, with no
// SentAt, and keeps them that way through receives and the dead-letter
// queue.
func TestRecordsWithoutSentAt(t *testing.T) {
	ctx := context.Background()
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Visibility: time.Hour, MaxReceives: 1})
	if err := q.Send(ctx, [][]byte{[]byte("old")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	// Rewrite the message's record as an older Herald wrote it.
	err := q.db.Update(func(tx *bolt.Tx) error {
		b := q.buckets(tx)
		k, v := b.meta.Cursor().First()
		if len(v) != 20 {
			return fmt.Errorf("meta record of %d bytes, want 20", len(v))
		}
		return b.meta.Put(k, slices.Clone(v[:12]))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := q.Receive(ctx, 10, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %d messages, %v; want the old one", len(got), err)
	}
	if !got[0].SentAt.IsZero() || got[0].ReceiveCount != 1 {
		t.Errorf("old message: SentAt %v, ReceiveCount %d; want zero and 1", got[0].SentAt, got[0].ReceiveCount)
	}
	if err := q.ChangeVisibility(ctx, got[0].Receipt, 0); err != nil {
		t.Fatalf("ChangeVisibility: %v", err)
	}
	if _, err := q.Receive(ctx, 10, 0); err != nil { // its last receive: moves it
		t.Fatalf("Receive: %v", err)
	}
	dead, err := q.DeadLetter().Receive(ctx, 10, 0)
	if err != nil || len(dead) != 1 || string(dead[0].Body) != "old" || !dead[0].SentAt.IsZero() {
		t.Errorf("dead-letter queue = %+v, %v; want the old message without SentAt", dead, err)
	}
}

// TestSentAtSurvivesDeadLetter: a message moved to the dead-letter queue
// keeps when it was first sent, as SQS keeps its SentTimestamp.
func TestSentAtSurvivesDeadLetter(t *testing.T) {
	ctx := context.Background()
	q := open(t, filepath.Join(t.TempDir(), "queue.db"), Options{Visibility: time.Hour, MaxReceives: 1})
	if err := q.Send(ctx, [][]byte{[]byte("m")}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first, err := q.Receive(ctx, 1, 0)
	if err != nil || len(first) != 1 || first[0].SentAt.IsZero() {
		t.Fatalf("Receive = %+v, %v; want one message with SentAt", first, err)
	}
	if err := q.ChangeVisibility(ctx, first[0].Receipt, 0); err != nil {
		t.Fatalf("ChangeVisibility: %v", err)
	}
	if _, err := q.Receive(ctx, 10, 0); err != nil {
		t.Fatalf("Receive: %v", err)
	}
	dead, err := q.DeadLetter().Receive(ctx, 10, 0)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead-letter Receive = %d messages, %v; want 1", len(dead), err)
	}
	if !dead[0].SentAt.Equal(first[0].SentAt) {
		t.Errorf("dead-lettered SentAt = %v, want the first send's %v", dead[0].SentAt, first[0].SentAt)
	}
}
