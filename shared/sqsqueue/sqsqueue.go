// Package sqsqueue is the notify.Queue on Amazon SQS, for the serverless
// deployment. Sends go ten messages to a SendMessageBatch request, so with
// notify.RecipientsPerMessage recipients per message a thousand recipients
// cost one request; entries SQS reports as failed are retried alone, with
// backoff.
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/shared/notify"
)

// SQS limits the adapter works within.
const (
	// MaxBatchEntries is the most entries one batch request carries.
	MaxBatchEntries = 10
	// MaxBatchBytes is the most body bytes one SendMessageBatch carries:
	// the classic 256 KiB limit, which every queue and emulator accepts.
	MaxBatchBytes = 256 * 1024
	// maxWaitSeconds is the longest long poll of one ReceiveMessage.
	maxWaitSeconds = 20
	// maxVisibilitySeconds is the longest visibility timeout, 12 hours.
	maxVisibilitySeconds = 12 * 60 * 60
)

// Queue is a notify.Queue on one SQS queue. Its dead-letter queue and
// visibility timeout are the queue's own attributes (RedrivePolicy,
// VisibilityTimeout), set where the queue is defined.
type Queue struct {
	client *sqs.Client
	url    string

	// Retry and concurrency knobs; tests shrink the backoff.
	maxAttempts   int
	baseBackoff   time.Duration
	maxBackoff    time.Duration
	concurrency   int
	maxBatchBytes int
}

// New returns the queue at queueURL. The caller makes the client once per
// execution environment and may Register a Meter on it.
func New(client *sqs.Client, queueURL string) *Queue {
	return &Queue{
		client:        client,
		url:           queueURL,
		maxAttempts:   5,
		baseBackoff:   50 * time.Millisecond,
		maxBackoff:    2 * time.Second,
		concurrency:   4,
		maxBatchBytes: MaxBatchBytes,
	}
}

// Send enqueues bodies with SendMessageBatch, at most MaxBatchEntries
// messages and MaxBatchBytes of bodies per request, a few requests at a time.
// Entries that SQS rejects for its own reasons (throttling, internal errors)
// are retried with exponential backoff and full jitter; entries rejected as
// the sender's fault (a body SQS refuses) are not. The error says how many
// bodies were not enqueued; the others were, so a retry of the whole Send
// duplicates them — harmless to at-least-once consumers.
func (q *Queue) Send(ctx context.Context, bodies [][]byte) error {
	return q.SendDelayed(ctx, bodies, 0)
}

// MaxDelay is the longest delay SQS gives a message (DelaySeconds 900).
const MaxDelay = 15 * time.Minute

// SendDelayed implements notify.Queue with DelaySeconds on every entry,
// rounded up to whole seconds and capped at MaxDelay.
func (q *Queue) SendDelayed(ctx context.Context, bodies [][]byte, delay time.Duration) error {
	delaySeconds := int32(min(max(delay, 0)+time.Second-1, MaxDelay) / time.Second)
	if len(bodies) == 0 {
		return nil
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []int
		errs   []error
		sem    = make(chan struct{}, q.concurrency)
	)
	for _, batch := range splitBatches(bodies, MaxBatchEntries, q.maxBatchBytes) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			mu.Lock()
			failed = append(failed, batch...)
			errs = append(errs, ctx.Err())
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			lost, err := q.retryEntries(ctx, len(batch), func(ctx context.Context, pending []int) ([]types.BatchResultErrorEntry, error) {
				entries := make([]types.SendMessageBatchRequestEntry, len(pending))
				for i, p := range pending {
					entries[i] = types.SendMessageBatchRequestEntry{
						Id:           aws.String(strconv.Itoa(i)),
						MessageBody:  aws.String(string(bodies[batch[p]])),
						DelaySeconds: delaySeconds,
					}
				}
				out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: entries})
				if err != nil {
					return nil, err
				}
				return out.Failed, nil
			})
			if err != nil {
				mu.Lock()
				for _, p := range lost {
					failed = append(failed, batch[p])
				}
				errs = append(errs, fmt.Errorf("send batch: %w", err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		slices.Sort(failed)
		return fmt.Errorf("send: %d of %d messages not enqueued: %w", len(failed), len(bodies), &notify.SendError{Failed: failed, Err: errors.Join(errs...)})
	}
	return nil
}

// Receive returns up to max messages. The first ReceiveMessage long-polls
// for wait (in whole seconds, rounded up; a wait beyond SQS's 20 s takes
// several polls); further requests gather up to max without waiting, and stop
// once SQS returns fewer than asked.
func (q *Queue) Receive(ctx context.Context, max int, wait time.Duration) ([]notify.QueueMessage, error) {
	if max < 1 {
		return nil, fmt.Errorf("receive: max %d, want at least 1", max)
	}
	deadline := time.Now().Add(wait)
	var msgs []notify.QueueMessage
	for len(msgs) < max {
		waitSeconds := 0
		if len(msgs) == 0 {
			waitSeconds = ceilSeconds(time.Until(deadline), maxWaitSeconds)
		}
		n := min(max-len(msgs), MaxBatchEntries)
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &q.url,
			MaxNumberOfMessages:         int32(n),
			WaitTimeSeconds:             int32(waitSeconds),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp},
		})
		if err != nil {
			// Messages already gathered come back after their
			// visibility timeout.
			return nil, fmt.Errorf("receive: %w", err)
		}
		for _, m := range out.Messages {
			count, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
			qm := notify.QueueMessage{
				ID:           aws.ToString(m.MessageId),
				Body:         []byte(aws.ToString(m.Body)),
				Receipt:      aws.ToString(m.ReceiptHandle),
				ReceiveCount: count,
			}
			// Milliseconds since the epoch.
			if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil && ms > 0 {
				qm.SentAt = time.UnixMilli(ms)
			}
			msgs = append(msgs, qm)
		}
		if len(msgs) == 0 && time.Now().Before(deadline) {
			continue // a wait longer than one long poll
		}
		if len(out.Messages) < n {
			break
		}
	}
	return msgs, nil
}

// Delete deletes the message the receipt handle came from.
func (q *Queue) Delete(ctx context.Context, receipt string) error {
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &q.url, ReceiptHandle: &receipt})
	if err != nil {
		return fmt.Errorf("delete message: %w", err)
	}
	return nil
}

// DeleteBatch deletes several messages with DeleteMessageBatch, ten per
// request, retrying entries that fail for SQS's own reasons.
func (q *Queue) DeleteBatch(ctx context.Context, receipts []string) error {
	var (
		failed int
		errs   []error
	)
	for start := 0; start < len(receipts); start += MaxBatchEntries {
		chunk := receipts[start:min(start+MaxBatchEntries, len(receipts))]
		lost, err := q.retryEntries(ctx, len(chunk), func(ctx context.Context, pending []int) ([]types.BatchResultErrorEntry, error) {
			entries := make([]types.DeleteMessageBatchRequestEntry, len(pending))
			for i, p := range pending {
				entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: &chunk[p]}
			}
			out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &q.url, Entries: entries})
			if err != nil {
				return nil, err
			}
			return out.Failed, nil
		})
		if err != nil {
			failed += len(lost)
			errs = append(errs, err)
		}
	}
	if failed > 0 {
		return fmt.Errorf("delete batch: %d of %d messages not deleted: %w", failed, len(receipts), errors.Join(errs...))
	}
	return nil
}

// ChangeVisibility hides the message for timeout from now, rounded up to
// whole seconds (at most 12 hours); zero makes it visible at once.
func (q *Queue) ChangeVisibility(ctx context.Context, receipt string, timeout time.Duration) error {
	if timeout < 0 {
		return fmt.Errorf("change visibility: negative timeout %v", timeout)
	}
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          &q.url,
		ReceiptHandle:     &receipt,
		VisibilityTimeout: int32(ceilSeconds(timeout, maxVisibilitySeconds)),
	})
	if err != nil {
		return fmt.Errorf("change message visibility: %w", err)
	}
	return nil
}

// retryEntries runs a batch request of n entries until every entry succeeds,
// fails as the sender's fault, or has had maxAttempts tries. call sends the
// entries at the positions pending and must give the entry at pending[i] the
// Id strconv.Itoa(i). It returns the positions of the entries that did not
// succeed.
func (q *Queue) retryEntries(ctx context.Context, n int, call func(ctx context.Context, pending []int) ([]types.BatchResultErrorEntry, error)) ([]int, error) {
	pending := make([]int, n)
	for i := range pending {
		pending[i] = i
	}
	var rejected []int
	var errs []error
	for attempt := 1; ; attempt++ {
		failed, err := call(ctx, pending)
		if err != nil {
			// The SDK has already retried what a retry can fix.
			return append(rejected, pending...), errors.Join(append(errs, err)...)
		}
		var retry []int
		var lastRetryable error
		for _, f := range failed {
			i, err := strconv.Atoi(aws.ToString(f.Id))
			if err != nil || i < 0 || i >= len(pending) {
				return append(rejected, pending...), errors.Join(append(errs, fmt.Errorf("unknown entry id %q in the reply", aws.ToString(f.Id)))...)
			}
			e := fmt.Errorf("entry %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
			if f.SenderFault {
				rejected = append(rejected, pending[i])
				errs = append(errs, e)
				continue
			}
			retry = append(retry, pending[i])
			lastRetryable = e
		}
		if len(retry) == 0 {
			if len(rejected) > 0 {
				return rejected, errors.Join(errs...)
			}
			return nil, nil
		}
		if attempt >= q.maxAttempts {
			errs = append(errs, fmt.Errorf("%d entries still failing after %d attempts: %w", len(retry), attempt, lastRetryable))
			return append(rejected, retry...), errors.Join(errs...)
		}
		if err := sleep(ctx, q.backoff(attempt)); err != nil {
			return append(rejected, retry...), errors.Join(append(errs, err)...)
		}
		pending = retry
	}
}

// backoff is exponential with full jitter: a random wait up to base·2^(n-1),
// capped, so that retries from many senders spread out.
func (q *Queue) backoff(attempt int) time.Duration {
	ceiling := q.maxBackoff
	if shift := attempt - 1; shift < 30 && q.baseBackoff<<shift < ceiling {
		ceiling = q.baseBackoff << shift
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// splitBatches groups the indices of bodies into batches of at most
// maxEntries entries and maxBytes bytes of bodies. A body larger than maxBytes
// goes alone, for SQS to judge.
func splitBatches(bodies [][]byte, maxEntries, maxBytes int) [][]int {
	var batches [][]int
	var cur []int
	size := 0
	for i, b := range bodies {
		if len(cur) > 0 && (len(cur) == maxEntries || size+len(b) > maxBytes) {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += len(b)
	}
	if len(cur) > 0 {
		batches = append(batches, cur)
	}
	return batches
}

// ceilSeconds rounds d up to whole seconds, between 0 and max.
func ceilSeconds(d time.Duration, max int) int {
	if d <= 0 {
		return 0
	}
	s := int((d + time.Second - 1) / time.Second)
	return min(s, max)
}
