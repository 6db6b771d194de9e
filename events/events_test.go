// Package events_test guards the sample events in this folder: each file must
// decode, with no field the aws-lambda-go type does not know, into the event
// type its function receives (for a campaign run, the invocation ebscheduler
// writes), and agree with itself (lengths, checksums, times, ARNs) the way
// events AWS delivers do. The function tests and
// `make invoke` feed these same files to the handlers.
package events_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/campaign"
	"github.com/heraldhq/herald/shared/ebscheduler"
	"github.com/heraldhq/herald/shared/ingest"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/ses"
)

// decodeStrict decodes the JSON in data into v, failing on fields v does not
// have and on anything after the first value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the first JSON value")
	}
	return nil
}

func decodeFile(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrict(data, v); err != nil {
		t.Fatalf("decode %s into %T: %v", name, v, err)
	}
}

// checkContext checks what every API Gateway HTTP API request context
// carries: the $default stage, and a time that says the same as timeEpoch.
func checkContext(t *testing.T, rc events.APIGatewayV2HTTPRequestContext) {
	t.Helper()
	if rc.Stage != "$default" {
		t.Errorf("requestContext.stage = %q, want $default", rc.Stage)
	}
	if rc.RequestID == "" || rc.AccountID == "" || rc.APIID == "" {
		t.Errorf("requestContext requestId/accountId/apiId = %q/%q/%q, want all set", rc.RequestID, rc.AccountID, rc.APIID)
	}
	if want := rc.APIID + ".execute-api."; !strings.HasPrefix(rc.DomainName, want) {
		t.Errorf("requestContext.domainName = %q, want prefix %q", rc.DomainName, want)
	}
	at, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.Time)
	if err != nil {
		t.Fatalf("requestContext.time: %v", err)
	}
	if got, want := at.Unix(), rc.TimeEpoch/1000; got != want {
		t.Errorf("requestContext.time %q is %d s, timeEpoch %d is %d s", rc.Time, got, rc.TimeEpoch, want)
	}
	if rc.HTTP.Protocol == "" || rc.HTTP.SourceIP == "" || rc.HTTP.UserAgent == "" {
		t.Errorf("requestContext.http = %+v, want protocol, sourceIp and userAgent", rc.HTTP)
	}
}

func TestAPIHealth(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	decodeFile(t, "api-health.json", &req)

	if req.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", req.Version)
	}
	if req.RouteKey != "GET /v1/health" || req.RequestContext.RouteKey != req.RouteKey {
		t.Errorf("routeKey = %q, requestContext.routeKey = %q, want GET /v1/health", req.RouteKey, req.RequestContext.RouteKey)
	}
	if req.RawPath != "/v1/health" || req.RequestContext.HTTP.Path != req.RawPath || req.RequestContext.HTTP.Method != "GET" {
		t.Errorf("rawPath = %q, http = %+v, want GET /v1/health", req.RawPath, req.RequestContext.HTTP)
	}
	// The route has Auth: NONE: the authorizer never ran.
	if req.RequestContext.Authorizer != nil {
		t.Errorf("requestContext.authorizer = %+v, want none on a public route", req.RequestContext.Authorizer)
	}
	if _, ok := req.Headers["authorization"]; ok {
		t.Error("headers carry authorization; the health check sends none")
	}
	if req.Body != "" || req.IsBase64Encoded {
		t.Errorf("body = %q, isBase64Encoded = %v, want an empty GET", req.Body, req.IsBase64Encoded)
	}
	checkContext(t, req.RequestContext)
}

// sendBody is the part of POST /v1/notifications the sample uses.
type sendBody struct {
	Channel string `json:"channel"`
	Content struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"content"`
	Audience struct {
		UserIDs []string `json:"userIds"`
	} `json:"audience"`
}

func TestAPISendNotification(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	decodeFile(t, "api-send-notification.json", &req)

	if req.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", req.Version)
	}
	if req.RouteKey != "ANY /v1/{proxy+}" || req.RequestContext.RouteKey != req.RouteKey {
		t.Errorf("routeKey = %q, requestContext.routeKey = %q, want ANY /v1/{proxy+}", req.RouteKey, req.RequestContext.RouteKey)
	}
	if got := req.RequestContext.HTTP.Method + " " + req.RawPath; got != "POST /v1/notifications" {
		t.Errorf("method and rawPath = %q, want POST /v1/notifications", got)
	}
	if req.RequestContext.HTTP.Path != req.RawPath || "/v1/"+req.PathParameters["proxy"] != req.RawPath {
		t.Errorf("http.path = %q, pathParameters.proxy = %q, want both to name rawPath %q", req.RequestContext.HTTP.Path, req.PathParameters["proxy"], req.RawPath)
	}
	// HTTP APIs deliver header names in lower case.
	for name := range req.Headers {
		if name != strings.ToLower(name) {
			t.Errorf("header %q is not lower case", name)
		}
	}
	if got := req.Headers["authorization"]; got != "Bearer hk_example" {
		t.Errorf("authorization = %q, want Bearer hk_example", got)
	}
	if got, want := req.Headers["content-length"], strconv.Itoa(len(req.Body)); got != want {
		t.Errorf("content-length = %s, body is %s bytes", got, want)
	}

	// What AuthorizerFunction returned as context, as API Gateway passes it on.
	if req.RequestContext.Authorizer == nil {
		t.Fatal("requestContext.authorizer missing; the route is authorized")
	}
	wantLambda := map[string]any{"workspaceId": "ws_example", "keyId": "key_example", "scopes": "send,read", "verified": "true"}
	if diff := cmp.Diff(wantLambda, req.RequestContext.Authorizer.Lambda); diff != "" {
		t.Errorf("requestContext.authorizer.lambda mismatch (-want +got):\n%s", diff)
	}
	checkContext(t, req.RequestContext)

	if req.IsBase64Encoded {
		t.Fatal("isBase64Encoded = true, want a plain JSON body")
	}
	var got sendBody
	if err := decodeStrict([]byte(req.Body), &got); err != nil {
		t.Fatalf("body: %v", err)
	}
	var want sendBody
	want.Channel = "push"
	want.Content.Title = "Hola"
	want.Content.Body = "Hola {{name}}"
	want.Audience.UserIDs = []string{"u1", "u2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestAuthorizerRequest(t *testing.T) {
	var req events.APIGatewayV2CustomAuthorizerV2Request
	decodeFile(t, "authorizer-request.json", &req)

	if req.Version != "2.0" || req.Type != "REQUEST" {
		t.Errorf("version, type = %q, %q, want 2.0, REQUEST", req.Version, req.Type)
	}
	// The template's identity source is $request.header.Authorization.
	if diff := cmp.Diff([]string{req.Headers["authorization"]}, req.IdentitySource); diff != "" {
		t.Errorf("identitySource is not the authorization header (-header +identitySource):\n%s", diff)
	}
	if got := req.IdentitySource; len(got) != 1 || got[0] != "Bearer hk_example" {
		t.Errorf("identitySource = %q, want [Bearer hk_example]", got)
	}
	if req.RouteKey != "ANY /v1/{proxy+}" {
		t.Errorf("routeKey = %q, want ANY /v1/{proxy+}", req.RouteKey)
	}
	// arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}
	rc := req.RequestContext
	region := strings.TrimSuffix(strings.TrimPrefix(rc.DomainName, rc.APIID+".execute-api."), ".amazonaws.com")
	wantArn := "arn:aws:execute-api:" + region + ":" + rc.AccountID + ":" + rc.APIID + "/" + rc.Stage + "/" + rc.HTTP.Method + req.RawPath
	if req.RouteArn != wantArn {
		t.Errorf("routeArn = %q, want %q", req.RouteArn, wantArn)
	}
	if rc.Authorizer != nil {
		t.Errorf("requestContext.authorizer = %+v, want none: the authorizer is what runs", rc.Authorizer)
	}
	checkContext(t, rc)
}

func TestDispatchBatch(t *testing.T) {
	var ev events.SQSEvent
	decodeFile(t, "dispatch-batch.json", &ev)
	// template.yaml names the queue ${AWS::StackName}-dispatch; samconfig's stack is herald.
	checkDispatchRecords(t, ev, "herald-dispatch")

	var first notify.DispatchMessage
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &first); err != nil {
		t.Fatal(err)
	}
	want := []notify.Recipient{{UserID: "u1"}, {UserID: "u2", Variables: map[string]string{"offer": "10%"}}}
	if diff := cmp.Diff(want, first.Recipients); diff != "" {
		t.Errorf("record 0 recipients mismatch (-want +got):\n%s", diff)
	}
}

// TestDispatchDeadLetter: the records the dispatch function receives from
// its dead-letter queue (a second event source), to settle; they come
// after the dispatch queue's last receive.
func TestDispatchDeadLetter(t *testing.T) {
	var ev events.SQSEvent
	decodeFile(t, "dispatch-deadletter.json", &ev)
	checkDispatchRecords(t, ev, "herald-dispatch-dlq")
	for i, r := range ev.Records {
		if n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"]); n < 5 {
			t.Errorf("record %d: ApproximateReceiveCount %d, want at least the dispatch queue's maxReceiveCount (5)", i, n)
		}
	}
}

// checkDispatchRecords checks two records of dispatch messages from the
// SQS queue named queue.
func checkDispatchRecords(t *testing.T, ev events.SQSEvent, queue string) {
	t.Helper()
	if len(ev.Records) != 2 {
		t.Fatalf("%d records, want 2", len(ev.Records))
	}
	seen := map[string]bool{}
	for i, r := range ev.Records {
		checkSQSRecord(t, i, r, queue)
		if seen[r.MessageId] {
			t.Errorf("record %d: messageId = %q, want a UUID unique in the batch", i, r.MessageId)
		}
		seen[r.MessageId] = true

		var msg notify.DispatchMessage
		if err := decodeStrict([]byte(r.Body), &msg); err != nil {
			t.Fatalf("record %d: body is not a notify.DispatchMessage: %v", i, err)
		}
		if msg.WorkspaceID != "ws_example" {
			t.Errorf("record %d: w = %q, want ws_example", i, msg.WorkspaceID)
		}
		if !isULID(msg.NotificationID) {
			t.Errorf("record %d: n = %q, want a ULID (26 Crockford base32 characters)", i, msg.NotificationID)
		}
		if len(msg.Recipients) == 0 || len(msg.Recipients) > notify.RecipientsPerMessage {
			t.Errorf("record %d: %d recipients, want 1 to %d", i, len(msg.Recipients), notify.RecipientsPerMessage)
		}
	}
}

// checkSQSRecord checks what every record i of SQS queue queue (of
// samconfig's stack herald) carries: its source, a message id, a receipt
// handle, its body's MD5 and the receive attributes.
func checkSQSRecord(t *testing.T, i int, r events.SQSMessage, queue string) {
	t.Helper()
	if r.EventSource != "aws:sqs" {
		t.Errorf("record %d: eventSource = %q, want aws:sqs", i, r.EventSource)
	}
	wantArn := "arn:aws:sqs:" + r.AWSRegion + ":123456789012:" + queue
	if r.EventSourceARN != wantArn {
		t.Errorf("record %d: eventSourceARN = %q, want %q", i, r.EventSourceARN, wantArn)
	}
	if len(r.MessageId) != 36 {
		t.Errorf("record %d: messageId = %q, want a UUID", i, r.MessageId)
	}
	if !strings.HasPrefix(r.ReceiptHandle, "AQEB") {
		t.Errorf("record %d: receiptHandle = %.12q…, want one like SQS's", i, r.ReceiptHandle)
	}
	sum := md5.Sum([]byte(r.Body))
	if got := hex.EncodeToString(sum[:]); r.Md5OfBody != got {
		t.Errorf("record %d: md5OfBody = %s, body's MD5 is %s", i, r.Md5OfBody, got)
	}
	for _, name := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		if n, err := strconv.ParseInt(r.Attributes[name], 10, 64); err != nil || n < 1 {
			t.Errorf("record %d: attributes.%s = %q, want a positive integer", i, name, r.Attributes[name])
		}
	}
}

// TestAudienceStep: a batch of the audience queue as the audience
// function's event source mapping delivers it (BatchSize 1): one step,
// the first of its segment, byte for byte what a send of a filter audience
// enqueues (audience.Jobs).
func TestAudienceStep(t *testing.T) {
	var ev events.SQSEvent
	decodeFile(t, "audience-step.json", &ev)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1 (the event source's BatchSize)", len(ev.Records))
	}
	r := ev.Records[0]
	// template.yaml names the queue ${AWS::StackName}-audience.
	checkSQSRecord(t, 0, r, "herald-audience")

	var j audience.Job
	if err := decodeStrict([]byte(r.Body), &j); err != nil {
		t.Fatalf("body is not an audience.Job: %v", err)
	}
	if j.WorkspaceID != "ws_example" || !isULID(j.NotificationID) {
		t.Errorf("w, n = %q, %q; want ws_example and a notification ULID", j.WorkspaceID, j.NotificationID)
	}
	if j.Segments != audience.Segments || j.Segment < 0 || j.Segment >= j.Segments || j.Expected < 0 {
		t.Errorf("segment %d of %d expecting %d, want one of audience.Segments (%d)", j.Segment, j.Segments, j.Expected, audience.Segments)
	}
	var c audience.Count
	c.BySegment[j.Segment] = j.Expected
	n := notify.Notification{WorkspaceID: j.WorkspaceID, ID: j.NotificationID}
	if want := audience.Jobs(n, j.Filter, c)[j.Segment]; string(want) != r.Body {
		t.Errorf("body is not the first step audience.Jobs writes:\n got %s\nwant %s", r.Body, want)
	}
}

// TestIngestUpload: the S3 event of an upload's file landing in the
// uploads bucket, as S3 invokes the ingest function with it (the
// template's Upload event: s3:ObjectCreated:*, keys under uploads/).
func TestIngestUpload(t *testing.T) {
	var ev events.S3Event
	decodeFile(t, "ingest-upload.json", &ev)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1 (S3 sends one per object)", len(ev.Records))
	}
	r := ev.Records[0]
	if r.EventSource != "aws:s3" || r.EventVersion != "2.1" || !strings.HasPrefix(r.EventName, "ObjectCreated:") {
		t.Errorf("eventSource %q, eventVersion %q, eventName %q: want aws:s3, 2.1, ObjectCreated:*", r.EventSource, r.EventVersion, r.EventName)
	}
	// template.yaml names the bucket herald-uploads-<the stack id's UUID>.
	b := r.S3.Bucket
	uuid, ok := strings.CutPrefix(b.Name, "herald-uploads-")
	if !ok || len(uuid) != 36 || strings.Count(uuid, "-") != 4 || b.Arn != "arn:aws:s3:::"+b.Name {
		t.Errorf("bucket %q (%s), want herald-uploads-<uuid> and its ARN", b.Name, b.Arn)
	}
	o := r.S3.Object
	if o.Key != o.URLDecodedKey {
		t.Errorf("key %q decodes to %q; an upload's key has nothing to escape", o.Key, o.URLDecodedKey)
	}
	ws, id, ok := ingest.ParseObjectKey(o.URLDecodedKey)
	if !ok || ws != "ws_example" || !isULID(id) || ingest.ObjectKey(ws, id) != o.Key {
		t.Errorf("key %q, want ingest.ObjectKey of ws_example and an upload ULID", o.Key)
	}
	if o.Size <= 0 || len(o.ETag) != 32 || o.Sequencer == "" {
		t.Errorf("object size %d, eTag %q, sequencer %q: want a file's", o.Size, o.ETag, o.Sequencer)
	}
	if r.EventTime.IsZero() || r.AWSRegion == "" || r.ResponseElements["x-amz-request-id"] == "" {
		t.Errorf("eventTime %v, awsRegion %q, request id %q: want S3's", r.EventTime, r.AWSRegion, r.ResponseElements["x-amz-request-id"])
	}
}

func isULID(s string) bool {
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	if len(s) != 26 || s[0] > '7' { // 128 bits: the first character carries 3
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune(crockford, c) {
			return false
		}
	}
	return true
}

// TestCallbacksSMSStatus: the CloudWatch Logs subscription event that
// carries SNS's SMS delivery status to the callbacks function.
func TestCallbacksSMSStatus(t *testing.T) {
	var ev events.CloudwatchLogsEvent
	decodeFile(t, "callbacks-sms-status.json", &ev)
	data, err := ev.AWSLogs.Parse()
	if err != nil {
		t.Fatalf("awslogs.data is not gzipped, base64-encoded logs data: %v", err)
	}
	if data.MessageType != "DATA_MESSAGE" || !strings.HasPrefix(data.LogGroup, "sns/") || !strings.HasSuffix(data.LogGroup, "/DirectPublishToPhoneNumber") {
		t.Errorf("messageType %q, logGroup %q: want a DATA_MESSAGE from SNS's SMS log group", data.MessageType, data.LogGroup)
	}
	if !strings.Contains(data.LogGroup, "/"+data.Owner+"/") {
		t.Errorf("logGroup %q does not name the owner account %s", data.LogGroup, data.Owner)
	}
	if len(data.LogEvents) == 0 {
		t.Fatal("no log events")
	}
	for _, le := range data.LogEvents {
		var rec struct {
			Notification struct {
				MessageID string `json:"messageId"`
				Timestamp string `json:"timestamp"`
			} `json:"notification"`
			Delivery struct {
				Destination      string  `json:"destination"`
				PriceInUSD       float64 `json:"priceInUSD"`
				SMSType          string  `json:"smsType"`
				ProviderResponse string  `json:"providerResponse"`
				PhoneCarrier     string  `json:"phoneCarrier"`
				MCC              int     `json:"mcc"`
				MNC              int     `json:"mnc"`
				DwellTimeMs      int     `json:"dwellTimeMs"`
				DwellTimeMsAck   int     `json:"dwellTimeMsUntilDeviceAck"`
			} `json:"delivery"`
			Status string `json:"status"`
		}
		if err := decodeStrict([]byte(le.Message), &rec); err != nil {
			t.Fatalf("log event is not an SNS SMS delivery-status record: %v", err)
		}
		at, err := time.Parse("2006-01-02 15:04:05.999", rec.Notification.Timestamp)
		if err != nil || rec.Notification.MessageID == "" || (rec.Status != "SUCCESS" && rec.Status != "FAILURE") {
			t.Errorf("record %+v: want a message id, a timestamp and SUCCESS or FAILURE (%v)", rec, err)
		}
		if got := time.UnixMilli(le.Timestamp).UTC(); !got.Equal(at) {
			t.Errorf("log event timestamp %v, record says %v", got, at)
		}
	}
}

// TestComposeGenerate: the compose function's route, as API Gateway sends
// it (its own route key, not the api function's proxy), with a body the
// compose request type decodes.
func TestComposeGenerate(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	decodeFile(t, "compose-generate.json", &req)
	checkContext(t, req.RequestContext)
	if req.RouteKey != "POST /v1/compose" || req.RequestContext.RouteKey != req.RouteKey {
		t.Errorf("routeKey = %q, requestContext.routeKey = %q, want POST /v1/compose", req.RouteKey, req.RequestContext.RouteKey)
	}
	if got := req.RequestContext.HTTP.Method + " " + req.RawPath; got != "POST /v1/compose" || req.RequestContext.HTTP.Path != req.RawPath {
		t.Errorf("method and rawPath = %q (http.path %q), want POST /v1/compose", got, req.RequestContext.HTTP.Path)
	}
	if got, want := req.Headers["content-length"], strconv.Itoa(len(req.Body)); got != want {
		t.Errorf("content-length = %s, body is %s bytes", got, want)
	}
	if req.RequestContext.Authorizer == nil || req.RequestContext.Authorizer.Lambda["verified"] != "true" {
		t.Errorf("authorizer context = %+v, want the verified principal", req.RequestContext.Authorizer)
	}
	var body struct {
		Tone, Category, Channel, Language, Brief string
		KeepVariables                            []string
		Variants                                 int
	}
	if err := decodeStrict([]byte(req.Body), &body); err != nil {
		t.Fatalf("body: %v", err)
	}
	if body.Tone != "activation" || body.Channel != "push" || body.Language != "es" || body.Variants != 3 {
		t.Errorf("body = %+v", body)
	}
}

// schedulerAPI is EventBridge Scheduler as PutSchedule sees it: it keeps
// the target input of the schedule it is given.
type schedulerAPI struct {
	input string
}

func (f *schedulerAPI) UpdateSchedule(_ context.Context, in *scheduler.UpdateScheduleInput, _ ...func(*scheduler.Options)) (*scheduler.UpdateScheduleOutput, error) {
	f.input = aws.ToString(in.Target.Input)
	return &scheduler.UpdateScheduleOutput{}, nil
}

func (f *schedulerAPI) CreateSchedule(context.Context, *scheduler.CreateScheduleInput, ...func(*scheduler.Options)) (*scheduler.CreateScheduleOutput, error) {
	return nil, errors.New("unexpected CreateSchedule: UpdateSchedule succeeded")
}

func (f *schedulerAPI) GetSchedule(context.Context, *scheduler.GetScheduleInput, ...func(*scheduler.Options)) (*scheduler.GetScheduleOutput, error) {
	return nil, errors.New("unexpected GetSchedule")
}

func (f *schedulerAPI) DeleteSchedule(context.Context, *scheduler.DeleteScheduleInput, ...func(*scheduler.Options)) (*scheduler.DeleteScheduleOutput, error) {
	return nil, errors.New("unexpected DeleteSchedule")
}

// TestSchedulerRun: what EventBridge Scheduler sends the scheduler function
// at a campaign's scheduled time — the target input PutSchedule writes, its
// context attributes replaced — and what the function reads from it.
func TestSchedulerRun(t *testing.T) {
	data, err := os.ReadFile("scheduler-run.json")
	if err != nil {
		t.Fatal(err)
	}
	// Every value is a string: EventBridge Scheduler replaces the
	// placeholders as text.
	var raw map[string]string
	decodeFile(t, "scheduler-run.json", &raw)

	got, err := ebscheduler.ParseInvocation(data)
	if err != nil {
		t.Fatalf("ParseInvocation(scheduler-run.json): %v", err)
	}
	want := ebscheduler.Invocation{
		WorkspaceID:   "ws_example",
		CampaignID:    "01JR3D6W8X9Y0Z1A2B3C4D5E6F",
		ScheduledTime: time.Date(2026, 4, 6, 7, 0, 0, 0, time.UTC),
		ExecutionID:   "f81c2kd9a7e3b540",
		Attempt:       1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseInvocation(scheduler-run.json) (-want +got):\n%s", diff)
	}
	if !isULID(got.CampaignID) {
		t.Errorf("campaignId = %q, want a ULID", got.CampaignID)
	}
	// <aws.scheduler.scheduled-time> is whole seconds in UTC.
	if s := got.ScheduledTime.UTC().Format(time.RFC3339); raw["scheduledTime"] != s {
		t.Errorf("scheduledTime = %q, want EventBridge Scheduler's form %q", raw["scheduledTime"], s)
	}

	// The file is byte for byte the input of the campaign's schedule, as
	// PutSchedule writes it, with the event's own values in the
	// placeholders.
	api := &schedulerAPI{}
	s := ebscheduler.New(api, ebscheduler.Config{
		GroupName:        "herald-campaigns",
		TargetArn:        "arn:aws:lambda:us-east-1:123456789012:function:herald-scheduler",
		RoleArn:          "arn:aws:iam::123456789012:role/herald-SchedulerInvokeRole-Q2w3E4r5T6y7",
		DeadLetterArn:    "arn:aws:sqs:us-east-1:123456789012:herald-scheduler-dlq",
		MaxRetryAttempts: 5,
		MaxEventAge:      time.Hour,
	})
	spec := notify.ScheduleSpec{
		Name:       notify.ScheduleName(got.CampaignID),
		Expression: "cron(0 9 ? * MON *)",
		Timezone:   "Europe/Madrid",
		Enabled:    true,
		Target:     got.Target(),
	}
	if err := s.PutSchedule(t.Context(), spec); err != nil {
		t.Fatalf("PutSchedule: %v", err)
	}
	delivered := strings.NewReplacer(
		"<aws.scheduler.scheduled-time>", raw["scheduledTime"],
		"<aws.scheduler.execution-id>", raw["executionId"],
		"<aws.scheduler.attempt-number>", raw["attempt"],
	).Replace(api.input)
	if diff := cmp.Diff(delivered, string(bytes.TrimSuffix(data, []byte("\n")))); diff != "" {
		t.Errorf("scheduler-run.json is not the schedule's target input %s, replaced (-want +got):\n%s", api.input, diff)
	}
}

// repairBody is the body of a campaign repair (campaign.Repair reads it).
type repairBody struct {
	WorkspaceID string `json:"workspaceId"`
	CampaignID  string `json:"campaignId"`
}

// TestSchedulerRepair: a batch of the campaign repair queue, as the
// scheduler function's event source mapping delivers it.
func TestSchedulerRepair(t *testing.T) {
	var ev events.SQSEvent
	decodeFile(t, "scheduler-repair.json", &ev)

	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1", len(ev.Records))
	}
	r := ev.Records[0]
	if r.EventSource != "aws:sqs" {
		t.Errorf("eventSource = %q, want aws:sqs", r.EventSource)
	}
	// template.yaml names the queue ${AWS::StackName}-campaign-repair.
	if want := "arn:aws:sqs:" + r.AWSRegion + ":123456789012:herald-campaign-repair"; r.EventSourceARN != want {
		t.Errorf("eventSourceARN = %q, want %q", r.EventSourceARN, want)
	}
	if len(r.MessageId) != 36 {
		t.Errorf("messageId = %q, want a UUID", r.MessageId)
	}
	if !strings.HasPrefix(r.ReceiptHandle, "AQEB") {
		t.Errorf("receiptHandle = %.12q…, want one like SQS's", r.ReceiptHandle)
	}
	sum := md5.Sum([]byte(r.Body))
	if got := hex.EncodeToString(sum[:]); r.Md5OfBody != got {
		t.Errorf("md5OfBody = %s, body's MD5 is %s", r.Md5OfBody, got)
	}
	ms := map[string]int64{}
	for _, name := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		n, err := strconv.ParseInt(r.Attributes[name], 10, 64)
		if err != nil || n < 1 {
			t.Errorf("attributes.%s = %q, want a positive integer", name, r.Attributes[name])
		}
		ms[name] = n
	}
	// A repair is sent delayed: it is received no sooner.
	if wait := time.Duration(ms["ApproximateFirstReceiveTimestamp"]-ms["SentTimestamp"]) * time.Millisecond; wait < campaign.RepairDelay {
		t.Errorf("first received %v after it was sent, want at least campaign.RepairDelay (%v)", wait, campaign.RepairDelay)
	}

	var body repairBody
	if err := decodeStrict([]byte(r.Body), &body); err != nil {
		t.Fatalf("body is not a repair message: %v", err)
	}
	if body.WorkspaceID != "ws_example" || !isULID(body.CampaignID) {
		t.Errorf("body = %+v, want ws_example and a campaign ULID", body)
	}
}

// TestAPIBadBase64: a request API Gateway passes on with a body it marks
// base64 that is not (cut short), as a client sending a non-text body can
// produce; the api function must answer it 400, not fail.
func TestAPIBadBase64(t *testing.T) {
	var req events.APIGatewayV2HTTPRequest
	decodeFile(t, "api-bad-base64.json", &req)
	checkContext(t, req.RequestContext)
	if got := req.RequestContext.HTTP.Method + " " + req.RawPath; got != "POST /v1/notifications" || req.RequestContext.HTTP.Path != req.RawPath {
		t.Errorf("method and rawPath = %q, http.path %q, want POST /v1/notifications", got, req.RequestContext.HTTP.Path)
	}
	if got, want := req.Headers["content-length"], strconv.Itoa(len(req.Body)); got != want {
		t.Errorf("content-length = %s, body is %s bytes", got, want)
	}
	if !req.IsBase64Encoded {
		t.Error("isBase64Encoded = false, want true")
	}
	if _, err := base64.StdEncoding.DecodeString(req.Body); err == nil {
		t.Error("body is valid base64; the sample's point is that it is not")
	}
}

// sesBounce is the part of an SES event-publishing record the sample
// carries (the shape of "Examples of event data that Amazon SES publishes
// to Amazon SNS", a bounce).
type sesBounce struct {
	EventType string `json:"eventType"`
	Bounce    struct {
		FeedbackID        string `json:"feedbackId"`
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		Timestamp    time.Time `json:"timestamp"`
		ReportingMTA string    `json:"reportingMTA"`
	} `json:"bounce"`
	Mail struct {
		Timestamp        time.Time `json:"timestamp"`
		Source           string    `json:"source"`
		SourceArn        string    `json:"sourceArn"`
		SendingAccountID string    `json:"sendingAccountId"`
		MessageID        string    `json:"messageId"`
		Destination      []string  `json:"destination"`
		HeadersTruncated bool      `json:"headersTruncated"`
		Headers          []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			From      []string `json:"from"`
			To        []string `json:"to"`
			MessageID string   `json:"messageId"`
			Subject   string   `json:"subject"`
		} `json:"commonHeaders"`
		Tags map[string][]string `json:"tags"`
	} `json:"mail"`
}

// TestCallbacksSESBounce: SNS delivering an SES bounce of the stack's
// configuration set to the callbacks function itself (lambda protocol, or
// a replay of the SNS dead-letter queue), with the tags ses.Sender puts on
// every email.
// TestCallbacksSESQueue: SES's events as the callbacks function gets
// them on AWS: SesEventsQueue, subscribed to SesEventsTopic without raw
// delivery, hands over the notification SNS made of the event (the same
// as callbacks-ses-bounce.json's), ten at most to a batch.
func TestCallbacksSESQueue(t *testing.T) {
	var ev events.SQSEvent
	decodeFile(t, "callbacks-ses-queue.json", &ev)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1", len(ev.Records))
	}
	r := ev.Records[0]
	// template.yaml names the queue ${AWS::StackName}-ses-events.
	checkSQSRecord(t, 0, r, "herald-ses-events")
	var n struct {
		Type, MessageID, TopicArn, Message, Timestamp, SignatureVersion, Signature string
		SigningCertURL, UnsubscribeURL                                             string
	}
	if err := decodeStrict([]byte(r.Body), &n); err != nil {
		t.Fatalf("body is not an SNS notification: %v", err)
	}
	var direct events.SNSEvent
	decodeFile(t, "callbacks-ses-bounce.json", &direct)
	d := direct.Records[0].SNS
	if n.Type != "Notification" || n.MessageID != d.MessageID || n.TopicArn != d.TopicArn || n.Message != d.Message || n.Timestamp != d.Timestamp.Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("the queued notification %+v is not the one SNS delivers directly (callbacks-ses-bounce.json)", n)
	}
	if sent, _ := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64); !time.UnixMilli(sent).After(d.Timestamp) {
		t.Errorf("SentTimestamp %d is not after the notification's Timestamp %v", sent, d.Timestamp)
	}
}

func TestCallbacksSESBounce(t *testing.T) {
	var ev events.SNSEvent
	decodeFile(t, "callbacks-ses-bounce.json", &ev)
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1 (SNS invokes Lambda with one)", len(ev.Records))
	}
	r := ev.Records[0]
	s := r.SNS
	if r.EventSource != "aws:sns" || r.EventVersion != "1.0" || s.Type != "Notification" {
		t.Errorf("eventSource %q, eventVersion %q, type %q: want aws:sns, 1.0, Notification", r.EventSource, r.EventVersion, s.Type)
	}
	// CloudFormation names the stack's topic <stack>-SesEventsTopic-<suffix>.
	if !strings.HasPrefix(s.TopicArn, "arn:aws:sns:us-east-1:123456789012:herald-SesEventsTopic-") {
		t.Errorf("topicArn = %q, want the SesEventsTopic of stack herald", s.TopicArn)
	}
	if !strings.HasPrefix(r.EventSubscriptionArn, s.TopicArn+":") || !strings.HasSuffix(s.UnsubscribeURL, "SubscriptionArn="+r.EventSubscriptionArn) {
		t.Errorf("subscription %q, unsubscribe URL %q: want a subscription of topic %q", r.EventSubscriptionArn, s.UnsubscribeURL, s.TopicArn)
	}
	if !strings.HasPrefix(s.SigningCertURL, "https://sns.us-east-1.amazonaws.com/") || !strings.HasSuffix(s.SigningCertURL, ".pem") || s.SignatureVersion != "1" {
		t.Errorf("signingCertUrl %q, signatureVersion %q: want an SNS certificate of the topic's region", s.SigningCertURL, s.SignatureVersion)
	}
	var b sesBounce
	if err := decodeStrict([]byte(s.Message), &b); err != nil {
		t.Fatalf("message is not an SES bounce event: %v", err)
	}
	if b.EventType != "Bounce" || b.Bounce.BounceType != "Permanent" {
		t.Errorf("eventType %q, bounceType %q: want a Permanent Bounce", b.EventType, b.Bounce.BounceType)
	}
	if !b.Mail.Timestamp.Before(b.Bounce.Timestamp) || !b.Bounce.Timestamp.Before(s.Timestamp) {
		t.Errorf("times: sent %v, bounced %v, published %v; want them in that order", b.Mail.Timestamp, b.Bounce.Timestamp, s.Timestamp)
	}
	if len(b.Mail.Destination) != 1 || len(b.Bounce.BouncedRecipients) != 1 || b.Bounce.BouncedRecipients[0].EmailAddress != b.Mail.Destination[0] {
		t.Errorf("destination %v, bounced %+v: want the one address Herald sends to", b.Mail.Destination, b.Bounce.BouncedRecipients)
	}
	if b.Mail.SendingAccountID != "123456789012" || b.Mail.CommonHeaders.MessageID != b.Mail.MessageID {
		t.Errorf("sendingAccountId %q, messageIds %q/%q", b.Mail.SendingAccountID, b.Mail.MessageID, b.Mail.CommonHeaders.MessageID)
	}
	// template.yaml names the configuration set ${AWS::StackName}-email.
	tags := map[string]string{}
	for k, vs := range b.Mail.Tags {
		if len(vs) != 1 {
			t.Errorf("tag %s = %q, want one value", k, vs)
			continue
		}
		tags[k] = vs[0]
	}
	if got := tags["ses:configuration-set"]; got != "herald-email" {
		t.Errorf("tag ses:configuration-set = %q, want herald-email", got)
	}
	for k, want := range map[string]string{ses.TagWorkspace: "ws_example", ses.TagNotification: "01M7YWX24G4TFF59TDWH9EDD1R", ses.TagUser: "u1"} {
		got, err := ses.ParseTagValue(tags[k])
		if err != nil || got != want {
			t.Errorf("tag %s = %q (%v), want %q", k, tags[k], err, want)
		}
	}
	if !isULID(tags[ses.TagNotification]) {
		t.Errorf("notification tag %q is not a ULID", tags[ses.TagNotification])
	}
}
