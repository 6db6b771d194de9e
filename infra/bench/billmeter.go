package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/heraldhq/herald/shared/dynamo"
)

// ddbBillMeter computes what a DynamoDB client's calls bill on AWS, in
// on-demand request units, from the items they read and write (item sizes
// by DynamoDB's rules, itemSize), rather than trusting DynamoDB Local's
// ConsumedCapacity: Local charges a transaction about twice its largest
// item where AWS charges twice every item. What a call does not show (the
// item an UpdateItem changes, a condition check's or a delete's) is
// measured after the run, by resolve, from the item as it is then. Calls
// that read what cannot be sized from their answer (a projection, a
// filter) count the units Local reported. Figures are kept per phase (the
// function whose calls they are).
type ddbBillMeter struct {
	mu      sync.Mutex
	phase   string
	ops     map[string]map[string]*ddbOpBill // phase → operation
	pending []ddbPending
}

// ddbOpBill is what one operation's calls came to in one phase.
type ddbOpBill struct {
	Calls    int64
	RRU, WRU float64
	// Writes counts the items written; WrittenBytes sums their sizes (what
	// the table keeps: storage).
	Writes       int64
	WrittenBytes int64
	// LocalUnits are the calls DynamoDB Local priced instead (see above).
	LocalUnits float64
}

// ddbPending is a write whose item size is read after the run.
type ddbPending struct {
	phase, op     string
	table         string
	key           map[string]ddbtypes.AttributeValue
	transactional bool
}

func newDDBBillMeter() *ddbBillMeter {
	return &ddbBillMeter{ops: map[string]map[string]*ddbOpBill{}}
}

// setPhase attributes the calls from now on to phase.
func (m *ddbBillMeter) setPhase(phase string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.phase = phase
}

// instrument adds the meter to a client's options. Add it after
// dynamo.Meter's, which asks every call for its ConsumedCapacity.
func (m *ddbBillMeter) instrument(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("heraldBill",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				m.record(awsmiddleware.GetOperationName(ctx), in.Parameters, out.Result)
				return out, md, err
			}), middleware.Before)
	})
}

// op returns the figures of op in the current phase; m.mu held.
func (m *ddbBillMeter) op(op string) *ddbOpBill {
	byOp := m.ops[m.phase]
	if byOp == nil {
		byOp = map[string]*ddbOpBill{}
		m.ops[m.phase] = byOp
	}
	s := byOp[op]
	if s == nil {
		s = &ddbOpBill{}
		byOp[op] = s
	}
	return s
}

// record prices one call from its input and its answer (nil when it
// failed: a conditional write that fails is billed all the same).
func (m *ddbBillMeter) record(op string, params, result any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.op(op + keyKind(params))
	s.Calls++
	put := func(item map[string]ddbtypes.AttributeValue, tx bool) {
		size := itemSize(item)
		s.WRU += ddbWriteUnits(size, tx)
		s.Writes++
		s.WrittenBytes += int64(size)
	}
	later := func(table string, key map[string]ddbtypes.AttributeValue, tx bool) {
		m.pending = append(m.pending, ddbPending{phase: m.phase, op: op, table: table, key: key, transactional: tx})
	}
	local := func() {
		for _, c := range dynamo.Consumed(result) {
			if c.CapacityUnits != nil {
				s.LocalUnits += *c.CapacityUnits
			}
		}
	}
	switch in := params.(type) {
	case *dynamodb.PutItemInput:
		put(in.Item, false)
	case *dynamodb.UpdateItemInput:
		later(aws.ToString(in.TableName), in.Key, false)
	case *dynamodb.DeleteItemInput:
		later(aws.ToString(in.TableName), in.Key, false)
	case *dynamodb.BatchWriteItemInput:
		for table, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					put(r.PutRequest.Item, false)
				} else if r.DeleteRequest != nil {
					later(table, r.DeleteRequest.Key, false)
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				put(it.Put.Item, true)
			case it.Update != nil:
				later(aws.ToString(it.Update.TableName), it.Update.Key, true)
			case it.Delete != nil:
				later(aws.ToString(it.Delete.TableName), it.Delete.Key, true)
			case it.ConditionCheck != nil:
				later(aws.ToString(it.ConditionCheck.TableName), it.ConditionCheck.Key, true)
			}
		}
	case *dynamodb.GetItemInput:
		if in.ProjectionExpression != nil {
			local()
			break
		}
		var item map[string]ddbtypes.AttributeValue
		if out, ok := result.(*dynamodb.GetItemOutput); ok {
			item = out.Item
		}
		s.RRU += ddbReadUnits(itemSize(item), aws.ToBool(in.ConsistentRead), false)
	case *dynamodb.BatchGetItemInput:
		out, _ := result.(*dynamodb.BatchGetItemOutput)
		for table, ka := range in.RequestItems {
			if ka.ProjectionExpression != nil || out == nil {
				local()
				continue
			}
			// Each key is a GetItem of its own: a missing item costs the
			// least a read costs; keys left unprocessed come again.
			found := out.Responses[table]
			missing := len(ka.Keys) - len(found) - len(out.UnprocessedKeys[table].Keys)
			for _, item := range found {
				s.RRU += ddbReadUnits(itemSize(item), aws.ToBool(ka.ConsistentRead), false)
			}
			s.RRU += float64(max(0, missing)) * ddbReadUnits(0, aws.ToBool(ka.ConsistentRead), false)
		}
	case *dynamodb.QueryInput:
		out, ok := result.(*dynamodb.QueryOutput)
		if !ok || in.ProjectionExpression != nil || in.FilterExpression != nil || in.Select != "" || in.IndexName != nil {
			local()
			break
		}
		size := 0
		for _, item := range out.Items {
			size += itemSize(item)
		}
		s.RRU += ddbReadUnits(size, aws.ToBool(in.ConsistentRead), false)
	default:
		local()
	}
}

// keyKind names what a single-table call reads or writes, by the
// partition key of its (first) item, in shared/dynamo/DESIGN.md's format:
// " (users)" or " (deliveries)", or nothing for other calls and items.
func keyKind(params any) string {
	var key map[string]ddbtypes.AttributeValue
	switch in := params.(type) {
	case *dynamodb.PutItemInput:
		key = in.Item
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			if len(ka.Keys) > 0 {
				key = ka.Keys[0]
			}
		}
	}
	pk, _ := key["pk"].(*ddbtypes.AttributeValueMemberS)
	switch {
	case pk == nil:
		return ""
	case strings.Contains(pk.Value, "#D#"):
		return " (deliveries)"
	case strings.Contains(pk.Value, "#U#"):
		return " (users)"
	}
	return ""
}

// resolve prices the writes whose items were not in their calls, from the
// items as they are now (read with db, which must not be metered): an
// update bills the larger of its item before and after, and counters only
// grow, so the item now is at least as large as after any one update. A
// missing item (deleted since) bills the least a write bills.
func (m *ddbBillMeter) resolve(ctx context.Context, db *dynamodb.Client) error {
	m.mu.Lock()
	pending := m.pending
	m.pending = nil
	m.mu.Unlock()
	sizes := map[string]int{}
	for _, p := range pending {
		id := fmt.Sprint(p.table, p.key)
		size, ok := sizes[id]
		if !ok {
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(p.table), Key: p.key, ConsistentRead: aws.Bool(true)})
			if err != nil {
				return fmt.Errorf("size of an updated item: %w", err)
			}
			size = itemSize(out.Item)
			sizes[id] = size
		}
		m.mu.Lock()
		saved := m.phase
		m.phase = p.phase
		s := m.op(p.op)
		m.phase = saved
		s.WRU += ddbWriteUnits(size, p.transactional)
		m.mu.Unlock()
	}
	return nil
}

// phaseTotal sums a phase's operations.
func (m *ddbBillMeter) phaseTotal(phase string) ddbOpBill {
	m.mu.Lock()
	defer m.mu.Unlock()
	var t ddbOpBill
	for _, s := range m.ops[phase] {
		t.Calls += s.Calls
		t.RRU += s.RRU
		t.WRU += s.WRU
		t.Writes += s.Writes
		t.WrittenBytes += s.WrittenBytes
		t.LocalUnits += s.LocalUnits
	}
	return t
}

// table formats a phase's operations, per unit (recipient or event).
func (m *ddbBillMeter) table(phase string, units float64, unit string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	byOp := m.ops[phase]
	names := make([]string, 0, len(byOp))
	for op := range byOp {
		names = append(names, op)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "    %-30s %8s %18s %18s %14s\n", "operation", "calls", "WRU per "+unit, "RRU per "+unit, "Local's RCU")
	for _, op := range names {
		s := byOp[op]
		fmt.Fprintf(&b, "    %-30s %8d %18.4f %18.4f %14.1f\n", op, s.Calls, s.WRU/units, s.RRU/units, s.LocalUnits)
	}
	return b.String()
}

// sqsBillMeter counts what an SQS client's calls bill: each call one
// request per 64 KB chunk of the messages it sends or receives. Figures
// are kept per phase.
type sqsBillMeter struct {
	mu    sync.Mutex
	phase string
	ops   map[string]map[string]*sqsOpBill
}

// sqsOpBill is what one operation's calls came to in one phase.
type sqsOpBill struct {
	Calls, Billed int64
	// Messages counts the messages sent or received, Bytes their size;
	// Empty counts receives that got no message.
	Messages, Bytes, Empty int64
}

func (m *sqsBillMeter) setPhase(phase string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.phase = phase
}

// register adds the meter to a client's options.
func (m *sqsBillMeter) register(o *sqs.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("heraldBill",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				m.record(awsmiddleware.GetOperationName(ctx), in.Parameters, out.Result)
				return out, md, err
			}), middleware.Before)
	})
}

// sqsAttrSize is a message attribute's size as SQS counts it: name, type
// and value.
func sqsAttrSize(attrs map[string]sqstypes.MessageAttributeValue) int {
	n := 0
	for name, v := range attrs {
		n += len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}

func (m *sqsBillMeter) record(op string, params, result any) {
	var messages, payload int
	empty := false
	switch in := params.(type) {
	case *sqs.SendMessageInput:
		messages, payload = 1, len(aws.ToString(in.MessageBody))+sqsAttrSize(in.MessageAttributes)
	case *sqs.SendMessageBatchInput:
		for _, e := range in.Entries {
			messages++
			payload += len(aws.ToString(e.MessageBody)) + sqsAttrSize(e.MessageAttributes)
		}
	case *sqs.ReceiveMessageInput:
		if out, ok := result.(*sqs.ReceiveMessageOutput); ok {
			for _, msg := range out.Messages {
				messages++
				payload += len(aws.ToString(msg.Body)) + sqsAttrSize(msg.MessageAttributes)
			}
		}
		empty = messages == 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	byOp := m.ops[m.phase]
	if byOp == nil {
		if m.ops == nil {
			m.ops = map[string]map[string]*sqsOpBill{}
		}
		byOp = map[string]*sqsOpBill{}
		m.ops[m.phase] = byOp
	}
	s := byOp[op]
	if s == nil {
		s = &sqsOpBill{}
		byOp[op] = s
	}
	s.Calls++
	s.Billed += sqsBilledRequests(payload)
	s.Messages += int64(messages)
	s.Bytes += int64(payload)
	if empty {
		s.Empty++
	}
}

// billed sums a phase's billed requests; a receive that got nothing is
// left out (an event source mapping polls whether or not anyone sends:
// that is a fixed cost, not a recipient's).
func (m *sqsBillMeter) billed(phase string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, s := range m.ops[phase] {
		n += s.Billed - s.Empty
	}
	return n
}

// describe formats a phase's operations.
func (m *sqsBillMeter) describe(phase string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.ops[phase]))
	for op := range m.ops[phase] {
		names = append(names, op)
	}
	sort.Strings(names)
	var parts []string
	for _, op := range names {
		s := m.ops[phase][op]
		p := fmt.Sprintf("%s %d (%d billed", op, s.Calls, s.Billed)
		if s.Messages > 0 {
			p += fmt.Sprintf(", %d messages, %.1f KB each", s.Messages, float64(s.Bytes)/float64(s.Messages)/1024)
		}
		if s.Empty > 0 {
			p += fmt.Sprintf(", %d empty", s.Empty)
		}
		parts = append(parts, p+")")
	}
	return strings.Join(parts, "; ")
}

// logSink is a function's standard output as Lambda ships it to
// CloudWatch Logs: one event per line, the newline not counted. It keeps
// the lines, to tell what costs what.
type logSink struct {
	mu      sync.Mutex
	partial []byte
	lines   [][]byte
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.lines = append(s.lines, bytes.Clone(s.partial[:i]))
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

// add keeps a line written by someone else (Lambda's own).
func (s *logSink) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, []byte(line))
}

// bytes sums the lines' sizes.
func (s *logSink) size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, l := range s.lines {
		n += int64(len(l))
	}
	return n
}

// logKind is one kind of log line and what its lines cost.
type logKind struct {
	Kind   string
	Lines  int64
	Bytes  int64
	Fields map[string]int64 // bytes by field: `"name":value,`
}

// kinds groups a sink's lines by what they are: a slog line by its level
// and message, an EMF line by its metric, Lambda's by their type; the
// biggest first.
func (s *logSink) kinds() []logKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	byKind := map[string]*logKind{}
	for _, l := range s.lines {
		kind, fields := classifyLogLine(l)
		k := byKind[kind]
		if k == nil {
			k = &logKind{Kind: kind, Fields: map[string]int64{}}
			byKind[kind] = k
		}
		k.Lines++
		k.Bytes += int64(len(l))
		for f, n := range fields {
			k.Fields[f] += n
		}
	}
	out := make([]logKind, 0, len(byKind))
	for _, k := range byKind {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Bytes > out[j].Bytes || out[i].Bytes == out[j].Bytes && out[i].Kind < out[j].Kind
	})
	return out
}

// classifyLogLine names a line's kind and the bytes each of its top-level
// fields takes (`"name":value` and its comma; the braces go to "{}").
func classifyLogLine(l []byte) (string, map[string]int64) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(l, &obj); err != nil {
		kind := string(l)
		if i := strings.IndexAny(kind, " \t"); i > 0 {
			kind = kind[:i]
		}
		return "text " + kind, map[string]int64{"(text)": int64(len(l))}
	}
	fields := map[string]int64{"{}": 2}
	for name, v := range obj {
		fields[name] = int64(len(name) + 3 + len(v) + 1) // "name": value ,
	}
	fields["{}"]-- // no comma after the last field
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(obj[k], &s)
		return s
	}
	switch {
	case obj["_aws"] != nil:
		var aws struct {
			CloudWatchMetrics []struct {
				Metrics []struct{ Name string }
			}
		}
		_ = json.Unmarshal(obj["_aws"], &aws)
		var names []string
		for _, d := range aws.CloudWatchMetrics {
			for _, m := range d.Metrics {
				names = append(names, m.Name)
			}
		}
		return "EMF " + strings.Join(names, ","), fields
	case str("type") != "" && obj["record"] != nil:
		return "Lambda " + str("type"), fields
	case str("msg") != "":
		return str("level") + " " + str("msg"), fields
	}
	return "other", fields
}

// lambdaPlatformLines are the lines Lambda itself writes to a function's
// log group for one invocation, in the function's log format: with JSON
// (template.yaml's), platform.start and platform.report (INFO, the system
// log level's default; platform.runtimeDone is DEBUG); with Text, START,
// END and REPORT. Active tracing adds the trace to start and report.
// Ids are the length Lambda's are; the shapes are those AWS documents for
// these events, so a real line may differ by some bytes.
func lambdaPlatformLines(format string, tracing bool, at time.Time, seq int, d time.Duration, memoryMB, usedMB int) []string {
	reqID := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", seq, seq&0xffff, seq&0xfff, seq&0xfff, seq)
	trace := fmt.Sprintf("Root=1-%08x-%024x;Parent=%016x;Sampled=0", at.Unix(), seq, seq)
	billed := lambdaBilledMs(d)
	durMs := float64(d.Microseconds()) / 1000
	if format == "Text" {
		report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t", reqID, durMs, billed, memoryMB, usedMB)
		if tracing {
			report += fmt.Sprintf("\nXRAY TraceId: 1-%08x-%024x\tSegmentId: %016x\tSampled: false\t", at.Unix(), seq, seq)
		}
		return []string{"START RequestId: " + reqID + " Version: $LATEST", "END RequestId: " + reqID, report}
	}
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	tr := ""
	if tracing {
		tr = fmt.Sprintf(`,"tracing":{"spanId":"%016x","type":"X-Amzn-Trace-Id","value":"%s"}`, seq, trace)
	}
	start := fmt.Sprintf(`{"time":"%s","type":"platform.start","record":{"requestId":"%s","version":"$LATEST"%s}}`, ts(at), reqID, tr)
	report := fmt.Sprintf(`{"time":"%s","type":"platform.report","record":{"requestId":"%s","metrics":{"durationMs":%.3f,"billedDurationMs":%d,"memorySizeMB":%d,"maxMemoryUsedMB":%d}%s,"status":"success"}}`,
		ts(at.Add(d)), reqID, durMs, billed, memoryMB, usedMB, tr)
	return []string{start, report}
}
