package main

import (
	"fmt"
	"io"
	"time"
)

// Unit prices of the bill: AWS list prices, us-east-1, on-demand, Lambda on
// arm64 (template.yaml's architecture), each from the pricing page named
// beside it as published in 2025 (DynamoDB's after its November 2024
// on-demand price cut). They are not fetched when the bench runs: check the
// pages before quoting a figure.
const (
	// AWS Lambda pricing (aws.amazon.com/lambda/pricing), 2025: arm64
	// duration, first 7.5 billion GB-seconds a month.
	priceLambdaGBSecond = 0.0000133334
	// AWS Lambda pricing, 2025: requests, $0.20 per million.
	priceLambdaRequest = 0.20 / 1e6
	// Amazon SQS pricing (aws.amazon.com/sqs/pricing), 2025: standard
	// queue, $0.40 per million requests after the first million a month;
	// every 64 KB chunk of a request's payload is a request.
	priceSQSRequest = 0.40 / 1e6
	// Amazon DynamoDB pricing for on-demand capacity
	// (aws.amazon.com/dynamodb/pricing/on-demand), 2025, Standard table
	// class: $0.625 per million write request units.
	priceDynamoWRU = 0.625 / 1e6
	// Same page: $0.125 per million read request units.
	priceDynamoRRU = 0.125 / 1e6
	// Same page: storage, $0.25 per GB-month after the first 25 GB.
	priceDynamoStorageGBMonth = 0.25
	// Same page: continuous backups (point-in-time recovery, on in
	// template.yaml), $0.20 per GB-month.
	priceDynamoPITRGBMonth = 0.20
	// Amazon API Gateway pricing (aws.amazon.com/api-gateway/pricing),
	// 2025: HTTP APIs, $1.00 per million requests (first 300 million a
	// month), metered in 512 KB increments.
	priceHTTPAPIRequest = 1.00 / 1e6
	// Amazon CloudWatch pricing (aws.amazon.com/cloudwatch/pricing), 2025:
	// Logs, Standard class ingestion, and the first tier of Lambda's logs
	// (vended logs), $0.50 per GB.
	priceLogsGB = 0.50
	// Amazon S3 pricing (aws.amazon.com/s3/pricing), 2025: S3 Standard,
	// PUT $0.005 per 1,000 requests, GET $0.0004 per 1,000.
	priceS3Put = 0.005 / 1000
	priceS3Get = 0.0004 / 1000
	// AWS X-Ray pricing (aws.amazon.com/xray/pricing), 2025: traces
	// recorded, $5.00 per million.
	priceXRayTrace = 5.00 / 1e6
	// Amazon SNS pricing (aws.amazon.com/sns/pricing), 2025: publishes,
	// $0.50 per million (64 KB chunks), after the first million a month.
	priceSNSPublish = 0.50 / 1e6
	// Same page: deliveries to HTTP/S endpoints, $0.60 per million.
	priceSNSHTTPDelivery = 0.60 / 1e6
	// Amazon SES pricing (aws.amazon.com/ses/pricing), 2025: outbound
	// email, $0.10 per 1,000 (a provider fee: outside the total).
	priceSESEmail = 0.10 / 1000
)

// xraySampleRate is Lambda's default sampling of active tracing: one
// request a second and 5 % of the others (AWS Lambda developer guide,
// "Visualize Lambda function invocations using AWS X-Ray"). The bill
// counts the 5 %; the one a second is a fixed cost of ~$0.0005 for a
// 100-second send.
const xraySampleRate = 0.05

// bytesPerGB is a GB as AWS bills data (CloudWatch Logs, DynamoDB storage).
const bytesPerGB = 1 << 30

// billCeilDiv is a / b rounded up, for a ≥ 0 and b > 0.
func billCeilDiv(a, b int64) int64 { return (a + b - 1) / b }

// ddbWriteUnits are the write request units of writing an item of size
// bytes: one per KB, rounded up, at least one; a transaction doubles them.
// Used for puts, updates (the larger of the item before and after),
// deletes and transactions' condition checks alike.
func ddbWriteUnits(size int, transactional bool) float64 {
	u := max(1, billCeilDiv(int64(size), 1024))
	if transactional {
		u *= 2
	}
	return float64(u)
}

// ddbReadUnits are the read request units of reading size bytes (one item,
// or a Query's items together): one per 4 KB, rounded up, at least one, for
// a strongly consistent read; half for an eventually consistent one;
// double in a transaction.
func ddbReadUnits(size int, consistent, transactional bool) float64 {
	u := float64(max(1, billCeilDiv(int64(size), 4096)))
	switch {
	case transactional:
		u *= 2
	case !consistent:
		u /= 2
	}
	return u
}

// sqsBilledRequests is what one SQS request with payload bytes of
// messages bills: one request per 64 KB chunk, at least one.
func sqsBilledRequests(payload int) int64 { return max(1, billCeilDiv(int64(payload), 64<<10)) }

// httpAPIBilledRequests is what one HTTP API request of size bytes bills:
// one per 512 KB, at least one.
func httpAPIBilledRequests(size int) int64 { return max(1, billCeilDiv(int64(size), 512<<10)) }

// lambdaBilledMs is an invocation's billed duration: rounded up to the
// millisecond, at least one.
func lambdaBilledMs(d time.Duration) int64 {
	return max(1, billCeilDiv(int64(d), int64(time.Millisecond)))
}

// lambdaGBSeconds are the GB-seconds of billedMs milliseconds at memoryMB.
func lambdaGBSeconds(billedMs float64, memoryMB int) float64 {
	return billedMs / 1000 * float64(memoryMB) / 1024
}

// billFnUse is what one Lambda function used.
type billFnUse struct {
	Name        string
	MemoryMB    int
	Invocations float64
	BilledMs    float64 // summed over the invocations, each rounded up
	LogBytes    float64 // its log lines as CloudWatch ingests them: the code's and Lambda's own
}

// billUse is what a number of recipients used of each billed unit: the
// measure of a send, or a design's arithmetic. The bill scales it.
type billUse struct {
	Recipients  float64
	Functions   []billFnUse
	SQSRequests float64 // billed requests (64 KB chunks)
	RRU, WRU    float64
	S3Puts      float64
	S3Gets      float64
	APIRequests float64 // HTTP API requests, billed (512 KB increments)
	AccessLog   float64 // bytes of the HTTP API's access log
	SNSPublish  float64 // SNS publishes, billed (64 KB chunks)
	SNSHTTP     float64 // SNS deliveries to HTTP/S endpoints
}

// scaled is u for n recipients, every figure in proportion.
func (u billUse) scaled(n float64) billUse {
	f := n / u.Recipients
	out := u
	out.Recipients = n
	out.Functions = make([]billFnUse, len(u.Functions))
	for i, fn := range u.Functions {
		fn.Invocations *= f
		fn.BilledMs *= f
		fn.LogBytes *= f
		out.Functions[i] = fn
	}
	out.SQSRequests *= f
	out.RRU *= f
	out.WRU *= f
	out.S3Puts *= f
	out.S3Gets *= f
	out.APIRequests *= f
	out.AccessLog *= f
	out.SNSPublish *= f
	out.SNSHTTP *= f
	return out
}

// logBytes are every log byte u sends to CloudWatch.
func (u billUse) logBytes() float64 {
	n := u.AccessLog
	for _, fn := range u.Functions {
		n += fn.LogBytes
	}
	return n
}

// billLine is one component of a bill: a quantity, its unit price and
// what they come to.
type billLine struct {
	Component string
	Quantity  float64
	Unit      string
	Price     float64 // dollars per unit
}

// Cost is the line's dollars.
func (l billLine) Cost() float64 { return l.Quantity * l.Price }

// billOf prices u, one line per component. Lines that come to nothing and
// use nothing are left out.
func billOf(u billUse) []billLine {
	var lines []billLine
	add := func(l billLine) {
		if l.Quantity != 0 {
			lines = append(lines, l)
		}
	}
	var traces float64
	for _, fn := range u.Functions {
		add(billLine{fmt.Sprintf("Lambda duration, %s (%d MB)", fn.Name, fn.MemoryMB), lambdaGBSeconds(fn.BilledMs, fn.MemoryMB), "GB-s", priceLambdaGBSecond})
	}
	for _, fn := range u.Functions {
		add(billLine{"Lambda requests, " + fn.Name, fn.Invocations, "invocations", priceLambdaRequest})
		traces += fn.Invocations * xraySampleRate
	}
	add(billLine{"SQS requests (64 KB chunks)", u.SQSRequests, "requests", priceSQSRequest})
	add(billLine{"DynamoDB write request units", u.WRU, "WRU", priceDynamoWRU})
	add(billLine{"DynamoDB read request units", u.RRU, "RRU", priceDynamoRRU})
	add(billLine{"S3 PUT requests", u.S3Puts, "requests", priceS3Put})
	add(billLine{"S3 GET requests", u.S3Gets, "requests", priceS3Get})
	add(billLine{"API Gateway HTTP API requests (512 KB)", u.APIRequests, "requests", priceHTTPAPIRequest})
	add(billLine{"SNS publishes (64 KB chunks)", u.SNSPublish, "publishes", priceSNSPublish})
	add(billLine{"SNS HTTPS deliveries", u.SNSHTTP, "deliveries", priceSNSHTTPDelivery})
	add(billLine{"CloudWatch Logs ingested", u.logBytes() / bytesPerGB, "GB", priceLogsGB})
	add(billLine{"X-Ray traces (5 % of invocations sampled)", traces, "traces", priceXRayTrace})
	return lines
}

// billTotal sums a bill.
func billTotal(lines []billLine) float64 {
	var t float64
	for _, l := range lines {
		t += l.Cost()
	}
	return t
}

// printBill writes a bill as a table, with its total.
func printBill(w io.Writer, title string, lines []billLine) {
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(w, "  %-46s %16s %-12s %16s %11s\n", "component", "quantity", "unit", "unit price ($)", "cost ($)")
	for _, l := range lines {
		fmt.Fprintf(w, "  %-46s %16s %-12s %16s %11.4f\n", l.Component, billQuantity(l.Quantity), l.Unit, billPrice(l.Price), l.Cost())
	}
	fmt.Fprintf(w, "  %-46s %16s %-12s %16s %11.4f\n", "total", "", "", "", billTotal(lines))
}

// billQuantity formats a quantity with the precision its size needs.
func billQuantity(q float64) string {
	switch {
	case q >= 100:
		return fmt.Sprintf("%.0f", q)
	case q >= 1:
		return fmt.Sprintf("%.2f", q)
	default:
		return fmt.Sprintf("%.4g", q)
	}
}

// billPrice formats a unit price without losing its digits.
func billPrice(p float64) string {
	if p >= 0.01 {
		return fmt.Sprintf("%.2f", p)
	}
	return fmt.Sprintf("%.4g", p)
}

// naiveDesign is the design the bill compares Herald's with: every
// recipient is its own SQS message and its own Lambda invocation, which
// reads the user and writes three statuses (queued, sent, delivered).
type naiveDesign struct {
	// MemoryMB is the function's memory (the dispatch function's).
	MemoryMB int
	// InvocationMs is one invocation's billed duration.
	InvocationMs float64
	// LogBytes is what one invocation logs, Lambda's own lines included.
	LogBytes float64
	// UserBytes is the size of a user item (one strongly consistent read).
	UserBytes int
	// StatusBytes is the size of the item a status write writes.
	StatusBytes int
}

// use is what the naive design uses for n recipients: per recipient one
// SendMessage, one ReceiveMessage and one DeleteMessage, one invocation,
// one user read and three status writes.
func (d naiveDesign) use(n float64) billUse {
	return billUse{
		Recipients:  n,
		Functions:   []billFnUse{{Name: "naive", MemoryMB: d.MemoryMB, Invocations: n, BilledMs: n * d.InvocationMs, LogBytes: n * d.LogBytes}},
		SQSRequests: 3 * n,
		RRU:         n * ddbReadUnits(d.UserBytes, true, false),
		WRU:         3 * n * ddbWriteUnits(d.StatusBytes, false),
	}
}
