package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// itemOfSize is an item of exactly size bytes by DynamoDB's rules: a
// one-letter attribute name and a string.
func itemOfSize(size int) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"p": &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("x", size-1)}}
}

func TestWriteUnitsFromItemSize(t *testing.T) {
	tests := []struct {
		size int
		tx   bool
		want float64
	}{
		{0, false, 1}, // a write of nothing (a missing item) still costs one
		{1, false, 1},
		{1024, false, 1},
		{1025, false, 2},
		{4000, false, 4},
		{1024, true, 2},
		{1025, true, 4},
	}
	for _, tt := range tests {
		if got := ddbWriteUnits(tt.size, tt.tx); got != tt.want {
			t.Errorf("ddbWriteUnits(%d, %v) = %v, want %v", tt.size, tt.tx, got, tt.want)
		}
	}
	// The item size behind them: names and values in bytes.
	for _, size := range []int{1024, 1025} {
		if got := itemSize(itemOfSize(size)); got != size {
			t.Errorf("itemSize(item of %d bytes) = %d", size, got)
		}
	}
}

func TestReadUnitsFromSize(t *testing.T) {
	tests := []struct {
		size           int
		consistent, tx bool
		want           float64
	}{
		{0, true, false, 1}, // a missing item costs a small item's read
		{0, false, false, 0.5},
		{4096, true, false, 1},
		{4097, true, false, 2},
		{4097, false, false, 1},
		{100, false, false, 0.5},
		{100, true, true, 2},
		{12 << 10, true, true, 6},
	}
	for _, tt := range tests {
		if got := ddbReadUnits(tt.size, tt.consistent, tt.tx); got != tt.want {
			t.Errorf("ddbReadUnits(%d, consistent %v, tx %v) = %v, want %v", tt.size, tt.consistent, tt.tx, got, tt.want)
		}
	}
}

func TestMeteredRequests(t *testing.T) {
	tests := []struct {
		name string
		got  int64
		want int64
	}{
		{"sqs empty", sqsBilledRequests(0), 1},
		{"sqs 64 KB", sqsBilledRequests(64 << 10), 1},
		{"sqs 64 KB + 1", sqsBilledRequests(64<<10 + 1), 2},
		{"sqs 256 KB", sqsBilledRequests(256 << 10), 4},
		{"http api 1 byte", httpAPIBilledRequests(1), 1},
		{"http api 512 KB", httpAPIBilledRequests(512 << 10), 1},
		{"http api 512 KB + 1", httpAPIBilledRequests(512<<10 + 1), 2},
		{"lambda 0", lambdaBilledMs(0), 1},
		{"lambda 1 ms", lambdaBilledMs(time.Millisecond), 1},
		{"lambda 1.001 ms", lambdaBilledMs(time.Millisecond + time.Microsecond), 2},
		{"lambda 12.3 ms", lambdaBilledMs(12300 * time.Microsecond), 13},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, tt.got, tt.want)
		}
	}
	if got := lambdaGBSeconds(2000, 512); got != 1 {
		t.Errorf("lambdaGBSeconds(2000 ms, 512 MB) = %v, want 1", got)
	}
}

// approx compares dollars and quantities to a millionth.
var approx = cmpopts.EquateApprox(1e-9, 1e-9)

func TestNaiveDesignBill(t *testing.T) {
	d := naiveDesign{MemoryMB: 512, InvocationMs: 20, LogBytes: 600, UserBytes: 500, StatusBytes: 300}
	lines := billOf(d.use(1e6))
	want := []billLine{
		{"Lambda duration, naive (512 MB)", 10000, "GB-s", priceLambdaGBSecond}, // 1e6 × 20 ms × 0.5 GB
		{"Lambda requests, naive", 1e6, "invocations", priceLambdaRequest},
		{"SQS requests (64 KB chunks)", 3e6, "requests", priceSQSRequest}, // send, receive, delete
		{"DynamoDB write request units", 3e6, "WRU", priceDynamoWRU},      // three statuses of ≤ 1 KB
		{"DynamoDB read request units", 1e6, "RRU", priceDynamoRRU},       // the user, consistent, ≤ 4 KB
		{"CloudWatch Logs ingested", 6e8 / float64(1<<30), "GB", priceLogsGB},
		{"X-Ray traces (5 % of invocations sampled)", 50000, "traces", priceXRayTrace},
	}
	if diff := cmp.Diff(want, lines, approx); diff != "" {
		t.Errorf("naive design's bill (-want +got):\n%s", diff)
	}
	// $0.133334 + 0.20 + 1.20 + 1.875 + 0.125 + 0.279397 + 0.25
	if got, want := billTotal(lines), 4.0627308; !cmp.Equal(got, want, cmpopts.EquateApprox(1e-7, 0)) {
		t.Errorf("naive design's total = %v, want %v", got, want)
	}
	// A status item over 1 KB costs two units each.
	d.StatusBytes = 1500
	if got := d.use(1).WRU; got != 6 {
		t.Errorf("naive design's WRU with 1,500-byte statuses = %v, want 6", got)
	}
}

func TestUseScaledToAMillion(t *testing.T) {
	u := billUse{Recipients: 2000, Functions: []billFnUse{{Name: "dispatch", MemoryMB: 512, Invocations: 2, BilledMs: 4000, LogBytes: 15000}},
		SQSRequests: 5, RRU: 4000, WRU: 2050, APIRequests: 1, AccessLog: 400, SNSPublish: 3, SNSHTTP: 3}
	got := u.scaled(1e6)
	want := billUse{Recipients: 1e6, Functions: []billFnUse{{Name: "dispatch", MemoryMB: 512, Invocations: 1000, BilledMs: 2e6, LogBytes: 7.5e6}},
		SQSRequests: 2500, RRU: 2e6, WRU: 1.025e6, APIRequests: 500, AccessLog: 2e5, SNSPublish: 1500, SNSHTTP: 1500}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("scaled (-want +got):\n%s", diff)
	}
	if u.Functions[0].Invocations != 2 {
		t.Errorf("scaled changed the use it scaled")
	}
	// 1,000 GB-s of dispatch, 1,000 invocations, logs of 7.7e6 bytes.
	lines := billOf(got)
	if lines[0].Component != "Lambda duration, dispatch (512 MB)" || lines[0].Quantity != 1000 {
		t.Errorf("first line = %+v, want dispatch's 1,000 GB-s", lines[0])
	}
}

func TestDDBBillMeterPricesCalls(t *testing.T) {
	m := newDDBBillMeter()
	m.setPhase("dispatch")
	key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "k"}}
	m.record("PutItem", &dynamodb.PutItemInput{Item: itemOfSize(1500)}, nil)
	m.record("TransactWriteItems", &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String("t"), Item: itemOfSize(500)}},
		{Update: &ddbtypes.Update{TableName: aws.String("t"), Key: key}},
	}}, nil)
	found := itemOfSize(5000)
	m.record("BatchGetItem", &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{
		"t": {Keys: []map[string]ddbtypes.AttributeValue{key, key, key}, ConsistentRead: aws.Bool(true)}}},
		&dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]ddbtypes.AttributeValue{"t": {found}}})
	m.record("GetItem", &dynamodb.GetItemInput{Key: key}, &dynamodb.GetItemOutput{})
	m.record("Query", &dynamodb.QueryInput{ConsistentRead: aws.Bool(true)},
		&dynamodb.QueryOutput{Items: []map[string]ddbtypes.AttributeValue{itemOfSize(3000), itemOfSize(3000)}})
	m.record("Query", &dynamodb.QueryInput{FilterExpression: aws.String("s = :s")},
		&dynamodb.QueryOutput{ConsumedCapacity: &ddbtypes.ConsumedCapacity{CapacityUnits: aws.Float64(7)}})
	delivery := itemOfSize(200)
	delivery["pk"] = &ddbtypes.AttributeValueMemberS{Value: "WS#w#N#n#D#03"}
	m.record("PutItem", &dynamodb.PutItemInput{Item: delivery}, nil)

	got := map[string]ddbOpBill{}
	for op, s := range m.ops["dispatch"] {
		got[op] = *s
	}
	want := map[string]ddbOpBill{
		"PutItem":              {Calls: 1, WRU: 2, Writes: 1, WrittenBytes: 1500},
		"TransactWriteItems":   {Calls: 1, WRU: 2, Writes: 1, WrittenBytes: 500}, // the update's units come with resolve
		"BatchGetItem":         {Calls: 1, RRU: 2 + 2*1},                         // 5,000 bytes, and two missing
		"GetItem":              {Calls: 1, RRU: 0.5},                             // missing, eventually consistent
		"Query":                {Calls: 2, RRU: 2, LocalUnits: 7},                // 6,000 bytes together; a filter's from Local
		"PutItem (deliveries)": {Calls: 1, WRU: 1, Writes: 1, WrittenBytes: int64(itemSize(delivery))},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("priced calls (-want +got):\n%s", diff)
	}
	if len(m.pending) != 1 || !m.pending[0].transactional || m.pending[0].phase != "dispatch" {
		t.Errorf("pending = %+v, want the transaction's update", m.pending)
	}
}

func TestSQSBillMeterChunksAndEmptyReceives(t *testing.T) {
	m := &sqsBillMeter{}
	m.setPhase("api")
	var entries []sqstypes.SendMessageBatchRequestEntry
	for range 10 {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{MessageBody: aws.String(strings.Repeat("x", 10<<10))})
	}
	m.record("SendMessageBatch", &sqs.SendMessageBatchInput{Entries: entries}, nil) // 100 KB: two chunks
	m.setPhase("dispatch")
	m.record("ReceiveMessage", &sqs.ReceiveMessageInput{}, &sqs.ReceiveMessageOutput{Messages: []sqstypes.Message{{Body: aws.String("x")}}})
	m.record("ReceiveMessage", &sqs.ReceiveMessageInput{}, &sqs.ReceiveMessageOutput{})
	m.record("DeleteMessageBatch", &sqs.DeleteMessageBatchInput{}, nil)
	if got := m.billed("api"); got != 2 {
		t.Errorf("billed(api) = %d, want 2", got)
	}
	if got := m.billed("dispatch"); got != 2 {
		t.Errorf("billed(dispatch) = %d, want 2 (the empty receive is the poller's, not a recipient's)", got)
	}
}

func TestParseTemplateFacts(t *testing.T) {
	const tpl = `Globals:
  Function:
    MemorySize: 256
    Tracing: Active
    LoggingConfig:
      LogFormat: JSON
Resources:
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      AccessLogSettings:
        Format: >-
          {"requestId":"$context.requestId",
          "status":"$context.status"}
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 512 # comment
      Policies:
        - Sid: X
          MemorySize: 9
  AuthorizerFunction:
    Type: AWS::Serverless::Function
  DispatchFunction:
    Type: AWS::Serverless::Function
    Properties:
      Description: >-
        MemorySize: 1
      MemorySize: 1024
  CallbacksFunction:
    Type: AWS::Serverless::Function
  DispatchFunctionQueueSource:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      BatchSize: 10
  CallbacksFunctionSesEventsSource:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      BatchSize: 8
`
	got, err := parseTemplateFacts(tpl)
	if err != nil {
		t.Fatal(err)
	}
	want := templateFacts{MemoryMB: map[string]int{"ApiFunction": 512, "AuthorizerFunction": 256, "DispatchFunction": 1024, "CallbacksFunction": 256},
		DispatchBatchSize: 10, SesEventsBatchSize: 8, LogFormat: "JSON", SystemLogLevel: "INFO", Tracing: "Active", AccessLogFormat: `{"requestId":"$context.requestId", "status":"$context.status"}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseTemplateFacts (-want +got):\n%s", diff)
	}
	if _, err := parseTemplateFacts(strings.Replace(tpl, "  CallbacksFunction:\n", "  Callbacks:\n", 1)); err == nil {
		t.Error("parseTemplateFacts of a template without CallbacksFunction: no error")
	}
	// The repository's own template holds what the bill reads.
	real, err := readTemplateFacts()
	if err != nil {
		t.Fatal(err)
	}
	if real.DispatchBatchSize < 1 || real.LogFormat == "" || !strings.Contains(real.AccessLogFormat, "$context.requestId") {
		t.Errorf("template.yaml's facts = %+v", real)
	}
}

// TestPlatformLinesFollowTheSystemLogLevel: at WARN Lambda writes no
// lines of its own for an invocation in JSON format; at INFO it does.
func TestPlatformLinesFollowTheSystemLogLevel(t *testing.T) {
	at := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		f    templateFacts
		want int
	}{
		{templateFacts{LogFormat: "JSON", SystemLogLevel: "INFO"}, 2},
		{templateFacts{LogFormat: "JSON", SystemLogLevel: "WARN"}, 0},
		{templateFacts{LogFormat: "Text", SystemLogLevel: "WARN"}, 3},
	} {
		if got := len(tt.f.platformLines(at, 1, time.Millisecond, 256, 40)); got != tt.want {
			t.Errorf("%+v: %d lines, want %d", tt.f, got, tt.want)
		}
	}
}

func TestLambdaPlatformLines(t *testing.T) {
	at := time.Date(2026, 12, 8, 2, 9, 59, 0, time.UTC)
	lines := lambdaPlatformLines("JSON", true, at, 7, 12300*time.Microsecond, 512, 48)
	if len(lines) != 2 {
		t.Fatalf("JSON lines = %q, want platform.start and platform.report", lines)
	}
	var report struct {
		Type   string
		Record struct {
			RequestID string `json:"requestId"`
			Metrics   struct {
				DurationMs       float64
				BilledDurationMs int64
				MemorySizeMB     int
			}
			Tracing struct{ Value string }
		}
	}
	if err := json.Unmarshal([]byte(lines[1]), &report); err != nil {
		t.Fatalf("platform.report is not JSON: %v", err)
	}
	if report.Type != "platform.report" || report.Record.Metrics.BilledDurationMs != 13 || report.Record.Metrics.MemorySizeMB != 512 ||
		len(report.Record.RequestID) != 36 || !strings.HasPrefix(report.Record.Tracing.Value, "Root=1-") {
		t.Errorf("platform.report = %+v", report)
	}
	if !strings.Contains(lines[0], `"type":"platform.start"`) {
		t.Errorf("first line = %s", lines[0])
	}
	text := lambdaPlatformLines("Text", false, at, 7, 12300*time.Microsecond, 512, 48)
	if len(text) != 3 || !strings.HasPrefix(text[0], "START RequestId: ") || !strings.HasPrefix(text[1], "END RequestId: ") ||
		!strings.Contains(text[2], "Billed Duration: 13 ms\tMemory Size: 512 MB") || strings.Contains(text[2], "XRAY") {
		t.Errorf("Text lines = %q", text)
	}
}

func TestClassifyLogLineFieldsAddUp(t *testing.T) {
	tests := []struct {
		line, kind string
	}{
		{`{"time":"2026-12-08T02:09:59Z","level":"INFO","msg":"ses event","messageId":"m1","outcome":"delivered"}`, "INFO ses event"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"H","Dimensions":[["Stage"]],"Metrics":[{"Name":"Deliveries"}]}]},"Stage":"prod","Deliveries":3}`, "EMF Deliveries"},
		{`{"time":"t","type":"platform.start","record":{"requestId":"r"}}`, "Lambda platform.start"},
	}
	for _, tt := range tests {
		kind, fields := classifyLogLine([]byte(tt.line))
		var sum int64
		for _, n := range fields {
			sum += n
		}
		if kind != tt.kind || sum != int64(len(tt.line)) {
			t.Errorf("classifyLogLine(%s) = %q, fields of %d bytes; want %q, %d bytes", tt.line, kind, sum, tt.kind, len(tt.line))
		}
	}
}

func TestAccessLogLine(t *testing.T) {
	got := accessLogLine(`{"requestId":"$context.requestId", "ip":"$context.identity.sourceIp","err":"$context.integrationErrorMessage"}`,
		map[string]string{"requestId": "Ab1=", "identity.sourceIp": "203.0.113.10"})
	if want := `{"requestId":"Ab1=", "ip":"203.0.113.10","err":"-"}`; got != want {
		t.Errorf("accessLogLine = %s, want %s", got, want)
	}
}
