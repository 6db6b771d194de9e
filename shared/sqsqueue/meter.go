package sqsqueue

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
)

// Meter counts the SQS requests a client makes, by operation, so that a
// benchmark can check the cost of a send (the target is at most ten requests
// per thousand recipients). Every attempt counts, retries included, because
// every attempt is billed. The zero value is ready to use.
type Meter struct {
	mu     sync.Mutex
	counts map[string]int64
}

// Register adds the meter to a client's options:
//
//	client := sqs.NewFromConfig(cfg, meter.Register)
func (m *Meter) Register(o *sqs.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		// After the retry middleware, so it sees each attempt.
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("HeraldRequestMeter",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				m.add(middleware.GetOperationName(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

func (m *Meter) add(op string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counts == nil {
		m.counts = map[string]int64{}
	}
	m.counts[op]++
}

// Counts returns the requests made so far by operation name
// ("SendMessageBatch", "ReceiveMessage" …).
func (m *Meter) Counts() map[string]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.counts)
}

// Total returns the requests made so far.
func (m *Meter) Total() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, c := range m.counts {
		n += c
	}
	return n
}

// Reset forgets the counts, to measure the next run alone.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.counts)
}
