package dynamo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Meter counts the DynamoDB requests a client makes and the capacity units
// they consume, per operation, so a benchmark can state what a send costs
// (for example write units per recipient) instead of guessing. Attach it
// when making the client:
//
//	m := dynamo.NewMeter()
//	client := dynamodb.NewFromConfig(cfg, m.Instrument)
//
// It asks every request for ReturnConsumedCapacity INDEXES (free of charge)
// unless the request already chose a level. It is safe for concurrent use.
type Meter struct {
	mu  sync.Mutex
	ops map[string]*OpStats
}

// OpStats is what a Meter saw of one operation (or of all, from Total).
type OpStats struct {
	// Calls counts operations, Attempts the HTTP attempts they took (more
	// than Calls when the SDK retried throttles or errors).
	Calls, Attempts int64
	// ReadUnits and WriteUnits are the capacity units reported consumed,
	// table and indexes together; IndexUnits is the part spent on indexes.
	ReadUnits, WriteUnits, IndexUnits float64
}

// NewMeter returns an empty Meter.
func NewMeter() *Meter { return &Meter{ops: map[string]*OpStats{}} }

// Instrument adds the Meter's middleware to a client's options; pass it to
// dynamodb.New or dynamodb.NewFromConfig.
func (m *Meter) Instrument(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("heraldMeter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				askCapacity(in.Parameters)
				out, md, err := next.HandleInitialize(ctx, in)
				op := awsmiddleware.GetOperationName(ctx)
				m.record(op, func(s *OpStats) {
					s.Calls++
					if err == nil {
						m.addCapacity(s, op, Consumed(out.Result))
					}
				})
				return out, md, err
			}), middleware.Before); err != nil {
			return err
		}
		// After the retry middleware, so it runs once per attempt.
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("heraldMeterAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				m.record(awsmiddleware.GetOperationName(ctx), func(s *OpStats) { s.Attempts++ })
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

func (m *Meter) record(op string, fn func(*OpStats)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.ops[op]
	if s == nil {
		s = &OpStats{}
		m.ops[op] = s
	}
	fn(s)
}

// addCapacity adds the units of cs to s; called with m.mu held.
func (m *Meter) addCapacity(s *OpStats, op string, cs []types.ConsumedCapacity) {
	read := strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "BatchGet") ||
		op == "Query" || op == "Scan" || op == "TransactGetItems"
	for _, c := range cs {
		units := deref(c.CapacityUnits)
		if read {
			s.ReadUnits += units
		} else {
			s.WriteUnits += units
		}
		for _, gsi := range c.GlobalSecondaryIndexes {
			s.IndexUnits += deref(gsi.CapacityUnits)
		}
	}
}

func deref(f *float64) float64 {
	if f == nil {
		return 0
	}
	return *f
}

// Stats returns a copy of the counters, by operation name (PutItem, Query …).
func (m *Meter) Stats() map[string]OpStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]OpStats, len(m.ops))
	for op, s := range m.ops {
		out[op] = *s
	}
	return out
}

// Total sums the counters of every operation.
func (m *Meter) Total() OpStats {
	var t OpStats
	for _, s := range m.Stats() {
		t.Calls += s.Calls
		t.Attempts += s.Attempts
		t.ReadUnits += s.ReadUnits
		t.WriteUnits += s.WriteUnits
		t.IndexUnits += s.IndexUnits
	}
	return t
}

// Reset zeroes the counters.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = map[string]*OpStats{}
}

// String formats the counters as a table, one operation a line.
func (m *Meter) String() string {
	return FormatStats(m.Stats(), "")
}

// FormatStats formats counters (of Meter.Stats, or differences of them)
// as a table, one operation a line and their total last, each line
// starting with indent.
func FormatStats(stats map[string]OpStats, indent string) string {
	ops := make([]string, 0, len(stats))
	for op := range stats {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var b strings.Builder
	fmt.Fprintf(&b, "%s%-20s %8s %8s %10s %10s %10s\n", indent, "operation", "calls", "attempts", "RCU", "WCU", "index CU")
	var t OpStats
	for _, op := range ops {
		s := stats[op]
		fmt.Fprintf(&b, "%s%-20s %8d %8d %10.1f %10.1f %10.1f\n", indent, op, s.Calls, s.Attempts, s.ReadUnits, s.WriteUnits, s.IndexUnits)
		t.Calls, t.Attempts, t.ReadUnits, t.WriteUnits, t.IndexUnits = t.Calls+s.Calls, t.Attempts+s.Attempts, t.ReadUnits+s.ReadUnits, t.WriteUnits+s.WriteUnits, t.IndexUnits+s.IndexUnits
	}
	fmt.Fprintf(&b, "%s%-20s %8d %8d %10.1f %10.1f %10.1f\n", indent, "total", t.Calls, t.Attempts, t.ReadUnits, t.WriteUnits, t.IndexUnits)
	return b.String()
}

// askCapacity sets ReturnConsumedCapacity on the inputs that take it.
func askCapacity(params any) {
	const level = types.ReturnConsumedCapacityIndexes
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.PutItemInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.UpdateItemInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.DeleteItemInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.QueryInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.ScanInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.BatchGetItemInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.BatchWriteItemInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.TransactGetItemsInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	case *dynamodb.TransactWriteItemsInput:
		in.ReturnConsumedCapacity = pick(in.ReturnConsumedCapacity, level)
	}
}

func pick(have, want types.ReturnConsumedCapacity) types.ReturnConsumedCapacity {
	if have != "" {
		return have
	}
	return want
}

// Consumed is the capacity an operation's output reports (nil for an
// output of no DynamoDB operation): the store's Meter and make bench's
// bill read it alike.
func Consumed(result any) []types.ConsumedCapacity {
	one := func(c *types.ConsumedCapacity) []types.ConsumedCapacity {
		if c == nil {
			return nil
		}
		return []types.ConsumedCapacity{*c}
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		return one(out.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		return out.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		return out.ConsumedCapacity
	case *dynamodb.TransactGetItemsOutput:
		return out.ConsumedCapacity
	case *dynamodb.TransactWriteItemsOutput:
		return out.ConsumedCapacity
	}
	return nil
}
