package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/sqsqueue"
)

// benchAWSAudience resolves a filter send of users users on the AWS
// adapters against the emulators: CountFilter and the walk (16 segments,
// handovers included) with the DynamoDB store, the dispatch queue and an
// audience queue on the SQS emulator, and counts what they cost.
//
// The arithmetic it prints next to the measurement (DESIGN.md of
// shared/audience assumes 500-byte users and pages of 1,000):
//
//   - The count and the walk each read every segment (one user shard of
//     GSI1, projection ALL) with Query, eventually consistent: a Query
//     costs its items' sizes summed, rounded up to 4 KB, times 0.5 RCU
//     (0.5 at least). The user items here are measured by DynamoDB's size
//     rules: about 300 bytes each (id, name, email, status, type, a 32-byte
//     seal key, timestamps, the keys of the table and of GSI1), so 1,000
//     users read once are ~300 KB: 300 / 4 × 0.5 ≈ 37 RCU, plus the
//     rounding of each Query.
//   - A segment's page is audience.PageSize (1,000) users, up to
//     notify.MaxSegmentPageSize. With a filter set, the store's Query asks
//     for what the page still needs (at least 100), so an item is read
//     twice only in the last ≤ 100 of a page: ≈ 37 RCU per 1,000 per
//     pass. benchExpectedQueries replays that from the measured sizes,
//     Query by Query.
//   - The walk also reads the notification's partition (one Query,
//     strongly consistent: 1 RCU under 4 KB) when each step starts and
//     after each segment's reconcile, which it writes with ApplyCounts (one
//     transaction).
//   - SQS: each page's users go out as one SendMessageBatch (10 messages
//     of 100: 1 request per 1,000 recipients once the segments are long),
//     each segment's last page partial; the audience queue gets the 16 first steps (2 requests
//     of 10) and one message per handover.
func benchAWSAudience(ctx context.Context, users int, o walkOptions) error {
	ddbURL, sqsURL := os.Getenv("HERALD_TEST_DYNAMODB_ENDPOINT"), os.Getenv("HERALD_TEST_SQS_ENDPOINT")
	if ddbURL == "" || sqsURL == "" {
		fmt.Println("skipped: set HERALD_TEST_DYNAMODB_ENDPOINT and HERALD_TEST_SQS_ENDPOINT (make bench starts the emulators)")
		return nil
	}
	env, closeEnv, err := harness.NewAWS(ctx, ddbURL, sqsURL, 5)
	if err != nil {
		return err
	}
	defer closeEnv()
	// The audience queue, with clients of its own: one for what Herald
	// sends to it (the API's first steps, the handovers), one for what the
	// Lambda event source does (receive, delete), which Herald's code does
	// not make.
	q, err := env.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(fmt.Sprintf("herald-audience-%d", time.Now().UnixNano())),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): "60"},
	})
	if err != nil {
		return err
	}
	defer env.SQS.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	newClient := func(m *sqsqueue.Meter) *sqs.Client {
		return sqs.NewFromConfig(env.Config, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) }, m.Register)
	}
	stepsMeter, sourceMeter := &sqsqueue.Meter{}, &sqsqueue.Meter{}
	steps := sqsqueue.New(newClient(stepsMeter), *q.QueueUrl)
	source := sqsqueue.New(newClient(sourceMeter), *q.QueueUrl)

	const ws = "ws_bench"
	t0 := time.Now()
	if err := seedUsers(ctx, env.Store.PutUser, ws, users, 16); err != nil {
		return err
	}
	fmt.Printf("seeded %d users on DynamoDB Local in %.1f s\n", users, time.Since(t0).Seconds())
	shards, err := userItemSizes(ctx, env.DDB, env.Table)
	if err != nil {
		return err
	}
	env.DDBMeter.Reset()
	env.SQSMeter.Reset()

	var countStats, acceptStats map[string]dynamo.OpStats
	res, err := resolveFilter(ctx, env.Store, env.Queue, steps, source, ws, benchFilter, o, func(phase string) {
		switch phase {
		case "count":
			countStats = env.DDBMeter.Stats()
		case "accept":
			acceptStats = env.DDBMeter.Stats()
		}
	})
	if err != nil {
		return err
	}
	walkStats := subtract(env.DDBMeter.Stats(), acceptStats)
	acceptStats = subtract(acceptStats, countStats)
	dispatchSQS, stepsSQS, sourceSQS := env.SQSMeter.Counts(), stepsMeter.Counts(), sourceMeter.Counts()
	c := res.count
	fmt.Printf("count %.2f s, count and walk %.2f s on the emulators: %d recipients, %d steps (%d handovers), %d dispatch messages\n",
		res.countTime.Seconds(), res.total.Seconds(), c.Recipients, res.steps, res.steps-audience.Segments, res.messages)

	page := min(audience.PageSize, notify.MaxSegmentPageSize)
	exp := benchExpectedQueries(shards, page, !benchFilter.IsZero())
	per1000 := func(v float64) float64 { return v * 1000 / float64(c.Recipients) }
	sends := func(m map[string]int64) int64 {
		var n int64
		for op, v := range m {
			if strings.HasPrefix(op, "SendMessage") {
				n += v
			}
		}
		return n
	}
	ds, ss := sends(dispatchSQS), sends(stepsSQS)
	fmt.Printf("SQS requests by Herald per 1,000 recipients resolved: %.2f (target ≤ 10)\n", per1000(float64(ds+ss)))
	fmt.Printf("  dispatch queue: %v = %.2f per 1,000; expected %d SendMessageBatch, one per page of ≤ %d users\n", dispatchSQS, per1000(float64(ds)), exp.pages, page)
	fmt.Printf("  audience queue: %v = %.2f per 1,000; expected 2 (the API's 16 first steps, 10 a request) + 1 per handover\n", stepsSQS, per1000(float64(ss)))
	fmt.Printf("  (the event source's receives and deletes of the steps, not Herald's requests: %v)\n", sourceSQS)

	count, walk := total(countStats), total(walkStats)
	fmt.Printf("user items: %d, %.0f bytes on average by DynamoDB's size rules (%.0f KB per 1,000 users)\n", exp.items, exp.avgBytes, exp.avgBytes)
	fmt.Printf("DynamoDB per 1,000 recipients resolved, as DynamoDB Local reports it:\n")
	fmt.Printf("  count: %.1f RCU in %.2f calls; expected %.1f RCU in %.2f Query calls (%d user reads for %d users)\n",
		per1000(count.ReadUnits), per1000(float64(count.Calls)), per1000(exp.rcu), per1000(float64(exp.calls)), exp.read, exp.items)
	reads := res.steps + audience.Segments // one a step, one after each segment's reconcile
	fmt.Printf("  walk:  %.1f RCU in %.2f calls (and %.1f WCU); expected %.1f RCU: the count's Queries again, and 1 RCU for each of the %d notification reads (one a step, one a reconcile)\n",
		per1000(walk.ReadUnits), per1000(float64(walk.Calls)), per1000(walk.WriteUnits), per1000(exp.rcu+float64(reads)), reads)
	fmt.Printf("  at 1,000,000 users (62,500 a shard) these items would cost %.1f RCU per 1,000 recipients per pass, %.1f if each page's users were read once\n",
		largeShardRCU(exp.avgBytes, page, !benchFilter.IsZero()), largeShardRCU(exp.avgBytes, page, false))
	fmt.Printf("count by operation:\n%s", dynamo.FormatStats(countStats, "  "))
	fmt.Printf("the API's part after the count (the first steps, the notification stored) by operation:\n%s", dynamo.FormatStats(acceptStats, "  "))
	fmt.Printf("walk by operation:\n%s", dynamo.FormatStats(walkStats, "  "))

	drain := sqsqueue.New(env.SQS, env.QueueURL)
	messages, _, err := checkDispatched(ctx, drain, drain.DeleteBatch, time.Second, res.n.ID, users)
	if err != nil {
		return fmt.Errorf("check the dispatch queue: %w", err)
	}
	fmt.Printf("verified: %d dispatch messages name each of the %d users exactly once\n", messages, users)
	return nil
}

// userItemSizes scans the table's user items and returns their sizes by
// user shard (GSI1 partition), in the index's order (by id).
func userItemSizes(ctx context.Context, db *dynamodb.Client, table string) (map[string][]int, error) {
	type entry struct {
		sk   string
		size int
	}
	byShard := map[string][]entry{}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			kind, _ := it["kind"].(*ddbtypes.AttributeValueMemberS)
			pk, _ := it["gsi1pk"].(*ddbtypes.AttributeValueMemberS)
			sk, _ := it["gsi1sk"].(*ddbtypes.AttributeValueMemberS)
			if kind == nil || kind.Value != "user" || pk == nil || sk == nil {
				continue
			}
			byShard[pk.Value] = append(byShard[pk.Value], entry{sk.Value, itemSize(it)})
		}
	}
	out := make(map[string][]int, len(byShard))
	for pk, es := range byShard {
		sort.Slice(es, func(i, j int) bool { return es[i].sk < es[j].sk })
		sizes := make([]int, len(es))
		for i, e := range es {
			sizes[i] = e.size
		}
		out[pk] = sizes
	}
	return out, nil
}

// itemSize is an item's size by DynamoDB's rules: attribute names and
// values in bytes; a number about one byte per two significant digits plus
// one; a map or list 3 bytes plus 1 per element.
func itemSize(item map[string]ddbtypes.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v ddbtypes.AttributeValue) int {
	switch v := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return len(v.Value)
	case *ddbtypes.AttributeValueMemberN:
		digits := len(strings.TrimLeft(strings.NewReplacer("-", "", ".", "").Replace(v.Value), "0"))
		return (digits+1)/2 + 1
	case *ddbtypes.AttributeValueMemberB:
		return len(v.Value)
	case *ddbtypes.AttributeValueMemberBOOL, *ddbtypes.AttributeValueMemberNULL:
		return 1
	case *ddbtypes.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *ddbtypes.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *ddbtypes.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}

// expectedQueries is the arithmetic of one pass over every segment.
type expectedQueries struct {
	items, read, calls, pages int
	rcu, avgBytes             float64
}

// benchExpectedQueries replays how the DynamoDB store's ListUsers reads a
// shard in pages of page users, every user matching the filter: a Query
// asks for what the page still needs (at least 100, at most 1,000, when a
// filter is set), the page stops at its last user and the next page's
// Query starts after it; a Query that stops at its Limit has a next key,
// even at the end of the shard. Each Query costs its items' bytes rounded
// up to 4 KB, times 0.5 (eventually consistent), at least 0.5.
func benchExpectedQueries(shards map[string][]int, page int, filtered bool) expectedQueries {
	var e expectedQueries
	bytes := 0
	for _, sizes := range shards {
		e.items += len(sizes)
		for _, s := range sizes {
			bytes += s
		}
		e.pages += (len(sizes) + page - 1) / page // the pages that enqueue something
		pos := 0
	shard:
		for {
			taken := 0
			for {
				want := page - taken
				limit := want
				if filtered {
					limit = min(max(want, 100), notify.MaxSegmentPageSize)
				}
				end := min(pos+limit, len(sizes))
				sum := 0
				for _, s := range sizes[pos:end] {
					sum += s
				}
				e.calls++
				e.rcu += max(math.Ceil(float64(sum)/4096), 1) * 0.5
				hasNext := end-pos == limit
				e.read += end - pos
				for i := pos; i < end; i++ {
					taken++
					if taken == page {
						pos = i + 1
						continue shard // the page is full: the next starts after it
					}
				}
				pos = end
				if !hasNext {
					break shard
				}
			}
		}
	}
	if e.items > 0 {
		e.avgBytes = float64(bytes) / float64(e.items)
	}
	return e
}

// largeShardRCU is the RCU per 1,000 users of one pass over shards of
// 62,500 users of avg bytes each (a 1,000,000-user workspace).
func largeShardRCU(avg float64, page int, filtered bool) float64 {
	sizes := make([]int, 62500)
	for i := range sizes {
		sizes[i] = int(math.Round(avg))
	}
	e := benchExpectedQueries(map[string][]int{"shard": sizes}, page, filtered)
	return e.rcu * 1000 / float64(e.items)
}

// subtract returns the counters of a minus those of b, by operation.
func subtract(a, b map[string]dynamo.OpStats) map[string]dynamo.OpStats {
	out := map[string]dynamo.OpStats{}
	for op, s := range a {
		o := b[op]
		d := dynamo.OpStats{Calls: s.Calls - o.Calls, Attempts: s.Attempts - o.Attempts,
			ReadUnits: s.ReadUnits - o.ReadUnits, WriteUnits: s.WriteUnits - o.WriteUnits, IndexUnits: s.IndexUnits - o.IndexUnits}
		if d != (dynamo.OpStats{}) {
			out[op] = d
		}
	}
	return out
}

func total(m map[string]dynamo.OpStats) dynamo.OpStats {
	var t dynamo.OpStats
	for _, s := range m {
		t.Calls += s.Calls
		t.Attempts += s.Attempts
		t.ReadUnits += s.ReadUnits
		t.WriteUnits += s.WriteUnits
		t.IndexUnits += s.IndexUnits
	}
	return t
}
