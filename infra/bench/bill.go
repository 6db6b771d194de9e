package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/emf"
	"github.com/heraldhq/herald/shared/httpapi"
	"github.com/heraldhq/herald/shared/lambdaedge"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/provider"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/webhook"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
	callbackroutes "github.com/heraldhq/herald/shared/wiring/callbacks"
)

const (
	// billWorkspace is the workspace of part bill's send.
	billWorkspace = "ws_bill"
	// billListSize is the most user ids one API request takes: a send of
	// 1,000,000 is 100 requests, so the bill measures sends of up to this
	// many per request.
	billListSize = 10000
	// billSESTopic is the SES events topic the callbacks take.
	billSESTopic = "arn:aws:sns:us-east-1:123456789012:herald-prod-SesEventsTopic-Q1w2E3r4T5y6"
	// billGoal and billLogGoal are issue 18's goals.
	billGoal    = 0.50
	billLogGoal = 100.0
	// lambdaFullCPUMB is the memory at which a Lambda function has a whole
	// vCPU (AWS Lambda developer guide, "Configure Lambda function
	// memory"); below it, its share is memory / 1,769 MB.
	lambdaFullCPUMB = 1769
)

// billTitle and billBody are the send's content: one personalised email
// of about 420 bytes, as issue 18's comparison sends.
const (
	billTitle = "Your {{name}} account: what changed this month"
	billBody  = "Hello {{name}},\n\nHere is what changed in your account this month. Your plan stays the same and " +
		"nothing is needed from you. We moved the billing date to the first of the month, added two-factor sign-in " +
		"to the settings page, and made exports faster. If you have questions, reply to this email and a person will " +
		"answer within a day.\n\nThank you for being with us,\nThe Acme team"
)

// billOptions size part bill.
type billOptions struct {
	// users are the recipients of the send (a multiple of billListSize
	// keeps the per-notification costs in proportion).
	users int
	// events are the SES delivery events put through the callbacks
	// function, at most one per email.
	events int
}

// billFn is one Lambda function as part bill runs it: in process, each
// invocation timed (wall and CPU) and its log lines kept, Lambda's own
// lines added.
type billFn struct {
	name        string
	memoryMB    int
	sink        *logSink
	invocations int
	billedMs    int64
	wall, cpu   time.Duration
}

// billRun is one run of part bill.
type billRun struct {
	facts templateFacts
	seq   int // invocations so far, for their request ids
}

// invoke runs one invocation of f.
func (r *billRun) invoke(f *billFn, call func() error) error {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	usedMB := min(f.memoryMB, int(ms.Sys>>20))
	cpu0, t0 := cpuTime(), time.Now()
	err := call()
	d, c := time.Since(t0), cpuTime()-cpu0
	f.invocations++
	f.billedMs += lambdaBilledMs(d)
	f.wall += d
	f.cpu += c
	r.seq++
	for _, l := range r.facts.platformLines(t0, r.seq, d, f.memoryMB, usedMB) {
		f.sink.add(l)
	}
	return err
}

// use is what f used.
func (f *billFn) use() billFnUse {
	return billFnUse{Name: f.name, MemoryMB: f.memoryMB, Invocations: float64(f.invocations), BilledMs: float64(f.billedMs), LogBytes: float64(f.sink.size())}
}

// describe is a line of f's figures, per invocation and per unit (of
// which there were units).
func (f *billFn) describe(units int, unit string) string {
	n := float64(max(1, f.invocations))
	return fmt.Sprintf("  %-10s %4d MB  %6d invocations  %8.2f ms wall and %7.2f ms CPU each  %7.3f billed ms per %s  %7.0f log bytes each",
		f.name, f.memoryMB, f.invocations, ms(f.wall)/n, ms(f.cpu)/n, float64(f.billedMs)/float64(units), unit, float64(f.sink.size())/n)
}

// benchBill measures a list send on the AWS adapters against the
// emulators, every function in process as Lambda would run it (API
// Gateway's events, the SQS event source's batches, the functions' own
// wiring and logging), and prints what it would cost on AWS per 1,000,000
// recipients, component by component, beside a naive design's.
func benchBill(ctx context.Context, o billOptions) error {
	ddbURL, sqsURL := os.Getenv("HERALD_TEST_DYNAMODB_ENDPOINT"), os.Getenv("HERALD_TEST_SQS_ENDPOINT")
	if ddbURL == "" || sqsURL == "" {
		fmt.Println("skipped: set HERALD_TEST_DYNAMODB_ENDPOINT and HERALD_TEST_SQS_ENDPOINT (make bench starts the emulators)")
		return nil
	}
	if o.users < 1 {
		return fmt.Errorf("-bill-users %d: want at least 1", o.users)
	}
	o.events = min(o.events, o.users)
	facts, err := readTemplateFacts()
	if err != nil {
		return err
	}
	r := &billRun{facts: facts}
	env, closeEnv, err := harness.NewAWS(ctx, ddbURL, sqsURL, 5)
	if err != nil {
		return err
	}
	defer closeEnv()
	// The handlers' clients are metered; the bench's own calls (seeding,
	// checking) go through env's, which are not part of the bill.
	ddbMeter, localMeter := newDDBBillMeter(), dynamo.NewMeter()
	ddb := dynamodb.NewFromConfig(env.Config, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) }, localMeter.Instrument, ddbMeter.instrument)
	local := map[string]dynamo.OpStats{} // what DynamoDB Local reported, by phase
	sqsMeter := &sqsBillMeter{}
	sqsClient := sqs.NewFromConfig(env.Config, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) }, sqsMeter.register)
	store := dynamo.New(ddb, env.Table)
	queue := sqsqueue.New(sqsClient, env.QueueURL)
	queueARN, dlqARN, err := queueARNs(ctx, env)
	if err != nil {
		return err
	}

	t0 := time.Now()
	secret, err := benchWorkspace(ctx, env.Store, billWorkspace)
	if err == nil {
		err = seedUsers(ctx, env.Store.PutUser, billWorkspace, o.users, 16)
	}
	if err != nil {
		return err
	}
	fmt.Printf("seeded %d users on DynamoDB Local in %.1f s (not part of the bill)\n", o.users, time.Since(t0).Seconds())

	ses := newFakeSES()
	defer ses.srv.Close()
	sesCalls := &timedClient{HTTPClient: awshttp.NewBuildableClient()}
	signer, err := newSNSSigner()
	if err != nil {
		return err
	}
	cfg, err := billConfig(env, dlqARN)
	if err != nil {
		return err
	}

	// The API function, and the authorizer API Gateway asks first.
	api := &billFn{name: "api", memoryMB: facts.MemoryMB["ApiFunction"], sink: &logSink{}}
	auth := &billFn{name: "authorizer", memoryMB: facts.MemoryMB["AuthorizerFunction"], sink: &logSink{}}
	ddbMeter.setPhase("api")
	sqsMeter.setPhase("api")
	ids, apiGW, err := r.sendLists(ctx, cfg, store, queue, secret, api, auth, o.users)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	local["api"] = localMeter.Total()
	localMeter.Reset()

	// The dispatch function, as the SQS event source drives it.
	disp := &billFn{name: "dispatch", memoryMB: facts.MemoryMB["DispatchFunction"], sink: &logSink{}}
	ddbMeter.setPhase("dispatch")
	sqsMeter.setPhase("dispatch")
	if err := r.dispatch(ctx, cfg, store, queue, env, ses, sesCalls, disp, queueARN, ids, o.users); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	local["dispatch"] = localMeter.Total()
	localMeter.Reset()

	// The callbacks function, with the SES delivery events of the emails.
	cb := &billFn{name: "callbacks", memoryMB: facts.MemoryMB["CallbacksFunction"], sink: &logSink{}}
	ddbMeter.setPhase("callbacks")
	sqsMeter.setPhase("callbacks")
	cbSQS, snsPublishes, err := r.callbacks(ctx, cfg, store, ses, signer, cb, o.events)
	if err != nil {
		return fmt.Errorf("callbacks: %w", err)
	}
	local["callbacks"] = localMeter.Total()
	ddbMeter.setPhase("")
	if err := ddbMeter.resolve(ctx, env.DDB); err != nil {
		return err
	}

	// What the send used, then per 1,000,000.
	n := float64(o.users)
	apiDDB, dispDDB, cbDDB := ddbMeter.phaseTotal("api"), ddbMeter.phaseTotal("dispatch"), ddbMeter.phaseTotal("callbacks")
	send := billUse{Recipients: n, Functions: []billFnUse{api.use(), auth.use(), disp.use()},
		SQSRequests: float64(sqsMeter.billed("api") + sqsMeter.billed("dispatch")),
		RRU:         apiDDB.RRU + dispDDB.RRU, WRU: apiDDB.WRU + dispDDB.WRU,
		APIRequests: float64(apiGW.billed), AccessLog: float64(apiGW.accessLogBytes)}
	ev := float64(o.events)
	events := billUse{Recipients: ev, Functions: []billFnUse{cb.use()}, RRU: cbDDB.RRU, WRU: cbDDB.WRU,
		SQSRequests: float64(cbSQS), SNSPublish: float64(snsPublishes)}
	perM := send.scaled(1e6)
	eventsPerM := events.scaled(1e6)

	w := os.Stdout
	fmt.Fprintf(w, "measured: one email (~%d bytes, personalised) to %d users in %d list request(s), SES answered by a local fake at once;\n", len(billBody), o.users, len(ids))
	fmt.Fprintf(w, "  every function in process on the AWS adapters against DynamoDB Local and the SQS emulator, on this machine\n")
	fmt.Fprintf(w, "  (wall times include the emulators' latency, not AWS's, and a shared 2-CPU machine's waits: they may be off either way)\n")
	for _, f := range []*billFn{api, auth, disp} {
		fmt.Fprintln(w, f.describe(o.users, "recipient"))
	}
	fmt.Fprintln(w, cb.describe(o.events, "event"))
	fmt.Fprintf(w, "  SES (the fake) answered in %.2f ms on average, %d sends at a time\n", ms(sesCalls.mean()), cfg.SendConcurrent)
	fmt.Fprintf(w, "  memory from template.yaml; logs in its LogFormat %s, SystemLogLevel %s, with Tracing %s: Lambda's own lines counted per invocation (not its init lines,\n", facts.LogFormat, facts.SystemLogLevel, facts.Tracing)
	fmt.Fprintf(w, "  a few per execution environment); the authorizer billed once per API request, the most (API Gateway keeps its answer a minute per key)\n")
	fmt.Fprintf(w, "SQS, api: %s\n", sqsMeter.describe("api"))
	fmt.Fprintf(w, "SQS, dispatch (the event source's receives and deletes included, batches of %d from template.yaml): %s\n", facts.DispatchBatchSize, sqsMeter.describe("dispatch"))
	fmt.Fprintf(w, "  (an empty receive is not billed to the send: an event source mapping polls an idle queue all the same, a fixed cost)\n")
	fmt.Fprintf(w, "DynamoDB request units by operation, AWS's arithmetic on the items' sizes (Local's own figure only where a call's items cannot be sized):\n")
	fmt.Fprintf(w, "  api:\n%s  dispatch:\n%s", ddbMeter.table("api", n, "recipient"), ddbMeter.table("dispatch", n, "recipient"))
	fmt.Fprintf(w, "  callbacks:\n%s", ddbMeter.table("callbacks", ev, "event"))
	fmt.Fprintf(w, "  DynamoDB Local's own ConsumedCapacity for the same calls, per recipient (per event for callbacks), WCU/RCU: api %.4f/%.4f, dispatch %.4f/%.4f, callbacks %.4f/%.4f\n",
		local["api"].WriteUnits/n, local["api"].ReadUnits/n, local["dispatch"].WriteUnits/n, local["dispatch"].ReadUnits/n, local["callbacks"].WriteUnits/ev, local["callbacks"].ReadUnits/ev)
	fmt.Fprintf(w, "    (Local charges a transaction about twice its largest item and nothing for an item it does not find; AWS charges twice every item,\n")
	fmt.Fprintf(w, "    and a read of a missing item as one of a small item: DynamoDB developer guide, \"DynamoDB read and write operations\")\n")
	fmt.Fprintf(w, "S3: the send path makes no S3 request (a list send through the API reads and writes no object)\n")

	lines := billOf(perM)
	fmt.Fprintln(w)
	printBill(w, "bill per 1,000,000 recipients, send path (API, authorizer, dispatch, queue, table, logs):", lines)
	sendTotal := billTotal(lines)
	fmt.Fprintf(w, "  goal ≤ $%.2f per 1,000,000 recipients, providers' fees apart: %s\n", billGoal, goalText(sendTotal, billGoal, "$%.3f"))
	logPerDelivery := send.logBytes() / n
	fmt.Fprintf(w, "  log bytes ingested per delivery at INFO: %.1f (goal ≤ %.0f): %s\n", logPerDelivery, billLogGoal, goalText(logPerDelivery, billLogGoal, "%.1f bytes"))
	printLogKinds(w, "  log lines by kind:", []*billFn{api, auth, disp}, n, "recipient", logPerDelivery > billLogGoal)
	printShares(w, lines, ddbMeter, n, sendTotal)

	fmt.Fprintln(w)
	evLines := billOf(eventsPerM)
	printBill(w, fmt.Sprintf("bill per 1,000,000 emails of their delivery events (SES → SNS → SesEventsQueue → callbacks, %d to an invocation), not in the total above:", facts.SesEventsBatchSize), evLines)
	fmt.Fprintf(w, "  measured with %d events; with them the email total is $%.3f per 1,000,000\n", o.events, sendTotal+billTotal(evLines))
	evLog := events.logBytes() / ev
	fmt.Fprintf(w, "  log bytes ingested per delivery event: %.1f; with the send's, %.1f per delivered email (goal ≤ %.0f): %s\n",
		evLog, evLog+logPerDelivery, billLogGoal, goalText(evLog+logPerDelivery, billLogGoal, "%.1f bytes"))
	printLogKinds(w, "  callbacks log lines by kind:", []*billFn{cb}, ev, "event", evLog+logPerDelivery > billLogGoal)

	fmt.Fprintln(w)
	fmt.Fprintf(w, "providers' fees, for information (not in the totals): SES email $%.2f per 1,000,000 (%s per 1,000);\n", priceSESEmail*1e6, billPrice(priceSESEmail*1000))
	fmt.Fprintf(w, "  SNS SMS and mobile push and WhatsApp are priced per message by destination: see their pricing pages\n")
	stored := float64(dispDDB.WrittenBytes) / float64(max(1, dispDDB.Writes))
	perMonth := 1e6 * (stored + 100) / bytesPerGB // DynamoDB adds 100 bytes of index overhead per item
	fmt.Fprintf(w, "kept, per month, not per send: the deliveries' items (%.0f bytes each, +100 of DynamoDB's overhead) of 1,000,000 recipients\n", stored)
	fmt.Fprintf(w, "  are %.2f GB: $%.3f a month of storage ($%.2f per GB-month) and $%.3f of point-in-time recovery ($%.2f per GB-month)\n",
		perMonth, perMonth*priceDynamoStorageGBMonth, priceDynamoStorageGBMonth, perMonth*priceDynamoPITRGBMonth, priceDynamoPITRGBMonth)

	printSensitivity(w, cfg, []*billFn{api, auth, disp}, n)

	// The naive design, priced the same way.
	user, err := userItem(ctx, env)
	if err != nil {
		return err
	}
	// A status item the size of a delivery: the user's, trimmed.
	status := map[string]ddbtypes.AttributeValue{"pad": &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("x", max(0, int(stored)-40))}}
	invocation, err := naiveInvocation(ctx, env, sesConfig(ses, sesCalls), status)
	if err != nil {
		return err
	}
	naive := naiveDesign{MemoryMB: disp.memoryMB, InvocationMs: float64(lambdaBilledMs(invocation)),
		LogBytes: platformBytesPerInvocation(facts, disp.memoryMB), UserBytes: itemSize(user), StatusBytes: int(stored)}
	naiveUse := naive.use(1e6)
	// Its API side is Herald's.
	naiveUse.Functions = append([]billFnUse{perM.Functions[0], perM.Functions[1]}, naiveUse.Functions...)
	naiveUse.APIRequests, naiveUse.AccessLog = perM.APIRequests, perM.AccessLog
	fmt.Fprintln(w)
	naiveLines := billOf(naiveUse)
	printBill(w, fmt.Sprintf("naive design per 1,000,000 recipients (one SQS message, one %d MB invocation of %.0f ms, one user read and three status writes per recipient; Herald's API side):",
		naive.MemoryMB, naive.InvocationMs), naiveLines)
	fmt.Fprintf(w, "  Herald's send path costs %.1f%% of it (%.1f× less)\n", 100*sendTotal/billTotal(naiveLines), billTotal(naiveLines)/sendTotal)
	return nil
}

// goalText says whether v meets a goal of at most goal, and by how much
// it misses.
func goalText(v, goal float64, format string) string {
	if v <= goal {
		return "meets it"
	}
	return fmt.Sprintf("MISSES it by "+format+" (%.0f%% over)", v-goal, 100*(v-goal)/goal)
}

// queueARNs are the ARNs of the dispatch queue and its dead-letter queue:
// the event source names the queue of each record.
func queueARNs(ctx context.Context, env *harness.AWS) (string, string, error) {
	var arns []string
	for _, u := range []string{env.QueueURL, env.DLQURL} {
		out, err := env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return "", "", fmt.Errorf("queue arn: %w", err)
		}
		arns = append(arns, out.Attributes["QueueArn"])
	}
	return arns[0], arns[1], nil
}

// billConfig is the functions' configuration as template.yaml sets it for
// a production stack that sends email through SES (Stage prod, LogLevel
// info, the SES events topic), on env's table and queues.
func billConfig(env *harness.AWS, dlqARN string) (config.Config, error) {
	vars := map[string]string{
		"HERALD_STAGE":                 "prod",
		"HERALD_LOG_LEVEL":             "info",
		"HERALD_METRICS_NAMESPACE":     "Herald/herald-prod",
		"HERALD_TABLE":                 env.Table,
		"HERALD_DISPATCH_QUEUE_URL":    env.QueueURL,
		"HERALD_DISPATCH_DLQ_ARN":      dlqARN,
		"HERALD_MAX_RECEIVES":          "5",
		"HERALD_SES_ENABLED":           "1",
		"HERALD_SES_FROM":              "Acme <news@acme.example>",
		"HERALD_SES_CONFIGURATION_SET": "herald-prod-email",
		"HERALD_SES_EVENTS_TOPIC_ARNS": billSESTopic,
		"HERALD_PUBLIC_URL":            "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
		// From SSM on AWS (secrets.Load).
		"HERALD_UNSUBSCRIBE_SECRET": "bench-unsubscribe-secret-0123456789abcdef",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return cfg, fmt.Errorf("config: %w", err)
	}
	return cfg, cfg.RequireAWS(true)
}

// gatewayUse is what API Gateway bills and logs of some requests.
type gatewayUse struct {
	requests, billed, accessLogBytes int64
}

// add counts one request of size bytes and its access log line.
func (g *gatewayUse) add(format string, size int, vars map[string]string) {
	g.requests++
	g.billed += httpAPIBilledRequests(size)
	g.accessLogBytes += int64(len(accessLogLine(format, vars)))
}

// accessLogLine is the HTTP API's access log line of a request: the
// template's format with its $context variables replaced ("-" for those
// vars lacks, as API Gateway writes an empty one).
func accessLogLine(format string, vars map[string]string) string {
	var b strings.Builder
	for {
		i := strings.Index(format, "$context.")
		if i < 0 {
			b.WriteString(format)
			return b.String()
		}
		b.WriteString(format[:i])
		rest := format[i+len("$context."):]
		j := strings.IndexFunc(rest, func(c rune) bool {
			return c != '.' && c != '_' && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9')
		})
		if j < 0 {
			j = len(rest)
		}
		v, ok := vars[rest[:j]]
		if !ok {
			v = "-"
		}
		b.WriteString(v)
		format = rest[j:]
	}
}

// sendLists sends the email to users 0..n-1, billListSize a request, as
// API Gateway hands them to the api function after the authorizer, and
// returns the notifications' ids.
func (r *billRun) sendLists(ctx context.Context, cfg config.Config, store *dynamo.Store, queue *sqsqueue.Queue, secret string, api, auth *billFn, n int) ([]string, gatewayUse, error) {
	var gw gatewayUse
	set := &wiringapi.Set{Graph: wiring.New(cfg, wiring.Ports{Store: store, Dispatch: queue}, cfg.Logger(api.sink))}
	edge := lambdaedge.HTTP{Handler: wiringapi.Root(wiringapi.API(set), wiringapi.SDK(set, false), wiringapi.Console(set, true)),
		Refuse: httpapi.Refuse, WithPrincipal: httpapi.WithPrincipal}
	authorizer := wiring.Authorizer(wiring.New(cfg, wiring.Ports{Store: store}, cfg.Logger(auth.sink)))
	var ids []string
	for start := 0; start < n; start += billListSize {
		userIDs := make([]string, 0, billListSize)
		for i := start; i < min(start+billListSize, n); i++ {
			userIDs = append(userIDs, harness.UserID(i))
		}
		body, err := json.Marshal(map[string]any{"channel": "email", "content": map[string]any{"title": billTitle, "body": billBody}, "audience": map[string]any{"userIds": userIDs}})
		if err != nil {
			return nil, gw, err
		}
		reqID := fmt.Sprintf("Ab%012dQ=", start)
		// API Gateway asks the authorizer once per key a minute
		// (ReauthorizeEvery): billed here once per request, the most.
		var principal map[string]any
		if err := r.invoke(auth, func() error {
			k, verified, err := authorizer.Authorize(ctx, "Bearer "+secret, reqID)
			principal = lambdaedge.AuthorizerContext(k, verified)
			return err
		}); err != nil {
			return nil, gw, fmt.Errorf("authorize: %w", err)
		}
		payload, err := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "ANY /v1/{proxy+}", RawPath: "/v1/notifications",
			Headers: map[string]string{"authorization": "Bearer " + secret, "content-type": "application/json", "content-length": strconv.Itoa(len(body)),
				"host": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", "user-agent": "herald-bench", "x-forwarded-proto": "https"},
			PathParameters: map[string]string{"proxy": "notifications"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: "ANY /v1/{proxy+}", AccountID: "123456789012", Stage: "$default", RequestID: reqID,
				APIID: "a1b2c3d4e5", DomainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com", TimeEpoch: time.Now().UnixMilli(),
				Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: principal},
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/notifications", Protocol: "HTTP/1.1", SourceIP: "203.0.113.10", UserAgent: "herald-bench"}},
			Body: string(body)})
		if err != nil {
			return nil, gw, err
		}
		var res events.APIGatewayV2HTTPResponse
		t0 := time.Now()
		// What lambda.Start does around the handler: decode the event,
		// serve it, encode the answer.
		if err := r.invoke(api, func() error {
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(payload, &ev); err != nil {
				return err
			}
			var err error
			if res, err = edge.Serve(ctx, ev); err != nil {
				return err
			}
			_, err = json.Marshal(res)
			return err
		}); err != nil {
			return nil, gw, err
		}
		var sent struct {
			ID         string `json:"id"`
			Recipients int    `json:"recipients"`
		}
		if res.StatusCode != 202 || json.Unmarshal([]byte(res.Body), &sent) != nil || sent.Recipients != len(userIDs) {
			return nil, gw, fmt.Errorf("POST /v1/notifications answered %d %s", res.StatusCode, res.Body)
		}
		ids = append(ids, sent.ID)
		latency := strconv.FormatInt(time.Since(t0).Milliseconds(), 10)
		gw.add(r.facts.AccessLogFormat, len(body), map[string]string{"requestId": reqID, "requestTime": t0.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			"identity.sourceIp": "203.0.113.10", "httpMethod": "POST", "routeKey": "ANY /v1/{proxy+}", "protocol": "HTTP/1.1", "status": "202",
			"responseLength": strconv.Itoa(len(res.Body)), "responseLatency": latency, "integrationLatency": latency,
			"authorizer.workspaceId": billWorkspace, "authorizer.keyId": "key_bench"})
	}
	return ids, gw, nil
}

// dispatch drives the dispatch function as its SQS event source mapping
// would: receive a batch, invoke the function with it, delete what it did
// not report failed; until the queue is empty and every notification
// completed.
func (r *billRun) dispatch(ctx context.Context, cfg config.Config, store *dynamo.Store, queue *sqsqueue.Queue, env *harness.AWS, ses *fakeSES, sesCalls *timedClient, disp *billFn, queueARN string, ids []string, n int) error {
	log := cfg.Logger(disp.sink)
	figures := emf.New(disp.sink, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	channels, err := provider.Senders(ctx, cfg, channel.NewSandbox(log), "sandbox", func(context.Context) (aws.Config, error) { return sesConfig(ses, sesCalls), nil })
	if err != nil {
		return err
	}
	if channels.Used["email"] != "SES" {
		return fmt.Errorf("email goes to %s, not SES", channels.Used["email"])
	}
	d := wiring.Dispatcher(wiring.New(cfg, wiring.Ports{Store: store, Dispatch: queue, Figures: figures,
		Channels: channels.Senders, Rates: channels.Rates, RetryHints: channels.RetryHints}, log))
	t0 := time.Now()
	for {
		msgs, err := queue.Receive(ctx, r.facts.DispatchBatchSize, time.Second)
		if err != nil {
			return err
		}
		if len(msgs) == 0 {
			done, err := completed(ctx, env.Store, ids)
			if err != nil {
				return err
			}
			if done {
				break
			}
			continue
		}
		ev := events.SQSEvent{Records: make([]events.SQSMessage, len(msgs))}
		for i, m := range msgs {
			ev.Records[i] = events.SQSMessage{MessageId: m.ID, ReceiptHandle: m.Receipt, Body: string(m.Body), EventSource: "aws:sqs", EventSourceARN: queueARN, AWSRegion: "us-east-1",
				Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount), "SentTimestamp": strconv.FormatInt(m.SentAt.UnixMilli(), 10)}}
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		var res events.SQSEventResponse
		// The dispatch function's handler (functions/dispatch), with what
		// lambda.Start does around it.
		if err := r.invoke(disp, func() error {
			var ev events.SQSEvent
			if err := json.Unmarshal(payload, &ev); err != nil {
				return err
			}
			batch := make([]dispatch.Received, len(ev.Records))
			for i, rec := range ev.Records {
				batch[i] = dispatch.Received{Message: dispatch.Message{ID: rec.MessageId, Body: []byte(rec.Body), ReceiveCount: lambdaedge.ReceiveCount(rec), SentAt: lambdaedge.SentAt(rec)},
					Receipt: rec.ReceiptHandle, Queue: rec.EventSourceARN}
			}
			res = lambdaedge.BatchResponse(ev, d.HandleSQS(ctx, batch))
			_, err := json.Marshal(res)
			return err
		}); err != nil {
			return err
		}
		var done []string
		for _, m := range msgs {
			if !slices.ContainsFunc(res.BatchItemFailures, func(f events.SQSBatchItemFailure) bool { return f.ItemIdentifier == m.ID }) {
				done = append(done, m.Receipt)
			}
		}
		if err := queue.DeleteBatch(ctx, done); err != nil {
			return err
		}
	}
	var sent int64
	for _, id := range ids {
		nt, err := env.Store.GetNotification(ctx, billWorkspace, id)
		if err != nil {
			return err
		}
		sent += nt.Counts.Sent
	}
	if sent != int64(n) || len(ses.emails()) != n {
		return fmt.Errorf("%d of %d recipients sent, %d emails reached SES", sent, n, len(ses.emails()))
	}
	fmt.Printf("dispatched %d recipients in %d invocations, %.1f s on the emulators (wall clock)\n", n, disp.invocations, time.Since(t0).Seconds())
	return nil
}

// sesConfig is the SDK configuration that sends to the fake SES through
// client.
func sesConfig(ses *fakeSES, client *timedClient) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), BaseEndpoint: aws.String(ses.srv.URL), HTTPClient: client}
}

// completed reports whether every notification completed.
func completed(ctx context.Context, store *dynamo.Store, ids []string) (bool, error) {
	for _, id := range ids {
		n, err := store.GetNotification(ctx, billWorkspace, id)
		if err != nil {
			return false, err
		}
		if n.Status != notify.StatusCompleted {
			return false, nil
		}
	}
	return true, nil
}

// callbacks puts the first count emails' SES delivery events through
// the callbacks function as AWS does (template.yaml): SES publishes each
// to SesEventsTopic, SNS hands the notifications to SesEventsQueue, and
// the queue's event source invokes the function with batches of
// SesEventsBatchSize. It returns the SQS requests billed (SNS's sends, the
// event source's receives and deletes) and the SNS publishes (64 KB
// chunks).
func (r *billRun) callbacks(ctx context.Context, cfg config.Config, store *dynamo.Store, ses *fakeSES, signer *snsSigner, cb *billFn, count int) (int64, int64, error) {
	var sqsRequests, publishes int64
	log := cfg.Logger(cb.sink)
	figures := emf.New(cb.sink, emf.Options{Namespace: cfg.MetricsNamespace, Stage: cfg.Stage})
	ports := wiring.Ports{Store: store, Figures: figures, SNSCerts: func(context.Context, string) ([]byte, error) { return signer.certPEM, nil }}
	routes := callbackroutes.New(wiring.New(cfg, ports, log), nil)
	router := webhook.NewSNSRouter(log, routes.SNS...)
	apply := func(ctx context.Context, e events.SNSEntity) error {
		return router.Apply(ctx, webhook.Notification{Type: e.Type, MessageID: e.MessageID, TopicArn: e.TopicArn, Subject: e.Subject,
			Message: e.Message, Timestamp: e.Timestamp})
	}
	// The callbacks function's handler (functions/callbacks): Sources,
	// SQS batches of SNS notifications among them.
	sources := lambdaedge.Sources{SQS: lambdaedge.NotificationsFromQueue(apply, log), Log: log}
	emails := ses.emails()[:count]
	for first := 0; first < len(emails); first += r.facts.SesEventsBatchSize {
		var batch events.SQSEvent
		size := 0
		for i := first; i < min(first+r.facts.SesEventsBatchSize, len(emails)); i++ {
			at := time.Now()
			msg, err := sesDeliveryEvent(emails[i], at)
			if err != nil {
				return 0, 0, err
			}
			publishes += sqsBilledRequests(len(msg)) // SNS bills publishes by 64 KB too
			body, err := signer.notification(billSESTopic, fmt.Sprintf("4f3e2d1c-0b9a-5876-a5b4-%012x", i), msg, at)
			if err != nil {
				return 0, 0, err
			}
			sqsRequests += sqsBilledRequests(len(body)) // SNS's send to the queue
			size += len(body)
			batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprintf("5c1d9e0a-7f3b-4d62-9a81-%012x", i), Body: string(body),
				EventSource: "aws:sqs", EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:herald-ses-events", AWSRegion: "us-east-1",
				Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": strconv.FormatInt(at.UnixMilli(), 10)}})
		}
		// The event source's receive of the batch, and its delete.
		sqsRequests += sqsBilledRequests(size) + 1
		payload, err := json.Marshal(batch)
		if err != nil {
			return 0, 0, err
		}
		var out []byte
		if err := r.invoke(cb, func() error {
			defer figures.Flush()
			var err error
			out, err = sources.Invoke(ctx, payload)
			return err
		}); err != nil {
			return 0, 0, err
		}
		var res events.SQSEventResponse
		if err := json.Unmarshal(out, &res); err != nil || len(res.BatchItemFailures) > 0 {
			return 0, 0, fmt.Errorf("a batch of SES events answered %s", out)
		}
	}
	return sqsRequests, publishes, nil
}

// printLogKinds writes what each kind of log line of fns costs per
// recipient; with fields, the fields of the kinds that cost most too.
func printLogKinds(w io.Writer, title string, fns []*billFn, n float64, unit string, fields bool) {
	fmt.Fprintln(w, title)
	for _, f := range fns {
		kinds := f.sink.kinds()
		for i, k := range kinds {
			fmt.Fprintf(w, "    %-10s %-50s %6d lines %5.0f bytes each %8.2f bytes per %s\n", f.name, clipPath(k.Kind, 50), k.Lines, float64(k.Bytes)/float64(k.Lines), float64(k.Bytes)/n, unit)
			if !fields || i >= 4 || float64(k.Bytes)/n < 1 {
				continue
			}
			type field struct {
				name  string
				bytes int64
			}
			var fs []field
			for name, b := range k.Fields {
				fs = append(fs, field{name, b})
			}
			slices.SortFunc(fs, func(a, b field) int { return int(b.bytes - a.bytes) })
			var parts []string
			for _, f := range fs {
				parts = append(parts, fmt.Sprintf("%s %.1f", f.name, float64(f.bytes)/n))
			}
			fmt.Fprintf(w, "      fields, bytes per %s: %s\n", unit, strings.Join(parts, ", "))
		}
	}
}

// printShares writes which components make the send path's bill, and
// which DynamoDB calls make its DynamoDB lines.
func printShares(w io.Writer, lines []billLine, m *ddbBillMeter, n, sum float64) {
	sorted := slices.Clone(lines)
	slices.SortFunc(sorted, func(a, b billLine) int { return cmp.Compare(b.Cost(), a.Cost()) })
	var parts []string
	for _, l := range sorted[:min(4, len(sorted))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", l.Component, 100*l.Cost()/sum))
	}
	fmt.Fprintf(w, "  largest components: %s\n", strings.Join(parts, ", "))
	type opCost struct {
		name    string
		s       ddbOpBill
		dollars float64
	}
	var ops []opCost
	m.mu.Lock()
	for _, phase := range []string{"api", "dispatch"} {
		for op, s := range m.ops[phase] {
			ops = append(ops, opCost{phase + " " + op, *s, (s.WRU*priceDynamoWRU + s.RRU*priceDynamoRRU) / n * 1e6})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(ops, func(a, b opCost) int { return cmp.Compare(b.dollars, a.dollars) })
	fmt.Fprintf(w, "  DynamoDB by call, per 1,000,000 recipients:\n")
	for _, o := range ops[:min(4, len(ops))] {
		fmt.Fprintf(w, "    %-40s $%.4f  (%.0f calls, %.4f WRU and %.4f RRU per recipient)\n", o.name, o.dollars, float64(o.s.Calls)/n*1e6, o.s.WRU/n, o.s.RRU/n)
	}
}

// printSensitivity writes how the Lambda figures move with what this
// machine does not reproduce: a function's CPU share at its memory, and
// a provider's latency.
func printSensitivity(w io.Writer, cfg config.Config, fns []*billFn, n float64) {
	fmt.Fprintln(w, "sensitivity of the Lambda duration (not in the totals):")
	for _, f := range fns {
		if f.memoryMB >= lambdaFullCPUMB || f.invocations == 0 {
			continue
		}
		// At memory M a function has M/1,769 of a vCPU: CPU work this
		// machine did on a whole core takes 1,769/M as long there.
		extra := f.cpu.Seconds() * (float64(lambdaFullCPUMB)/float64(f.memoryMB) - 1)
		fmt.Fprintf(w, "  %-10s %.2f ms CPU per invocation; at %d MB (%.2f vCPU) CPU-bound work stretches %.1f×: +$%.4f per 1,000,000 recipients\n",
			f.name, ms(f.cpu)/float64(f.invocations), f.memoryMB, float64(f.memoryMB)/lambdaFullCPUMB, float64(lambdaFullCPUMB)/float64(f.memoryMB),
			lambdaGBSeconds(extra*1000, f.memoryMB)*priceLambdaGBSecond*1e6/n)
	}
	// Each recipient's send waits on the provider, SendConcurrent at once.
	for _, lat := range []float64{10, 50} {
		gbs := lambdaGBSeconds(1e6*lat/float64(cfg.SendConcurrent), fnMemory(fns, "dispatch"))
		fmt.Fprintf(w, "  dispatch   SES answering in %.0f ms instead of at once (%d sends at a time): +%.0f GB-s, +$%.3f per 1,000,000 recipients\n",
			lat, cfg.SendConcurrent, gbs, gbs*priceLambdaGBSecond)
	}
}

// fnMemory is the memory of the function called name.
func fnMemory(fns []*billFn, name string) int {
	for _, f := range fns {
		if f.name == name {
			return f.memoryMB
		}
	}
	return 0
}

// naiveInvocation measures how long the naive design's per-recipient
// invocation runs on this machine: a user read, three status writes and
// an SES call, one after the other, each timed alone (20 times, the mean)
// on the emulators and the fake, with the bench's own clients.
func naiveInvocation(ctx context.Context, env *harness.AWS, sesConfig aws.Config, statusItem map[string]ddbtypes.AttributeValue) (time.Duration, error) {
	const rounds = 20
	client := sesv2.NewFromConfig(sesConfig)
	var took time.Duration
	for i := range rounds {
		t0 := time.Now()
		if _, err := env.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Table), Key: userKey(i), ConsistentRead: aws.Bool(true)}); err != nil {
			return 0, fmt.Errorf("naive design: read a user: %w", err)
		}
		for status := range 3 {
			item := maps.Clone(statusItem)
			item["pk"] = &ddbtypes.AttributeValueMemberS{Value: fmt.Sprintf("BENCH#NAIVE#%d", i)}
			item["sk"] = &ddbtypes.AttributeValueMemberS{Value: strconv.Itoa(status)}
			if _, err := env.DDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(env.Table), Item: item}); err != nil {
				return 0, fmt.Errorf("naive design: write a status: %w", err)
			}
		}
		if _, err := client.SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("news@acme.example"),
			Destination: &sestypes.Destination{ToAddresses: []string{"u0000000@example.com"}},
			Content: &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String(billTitle)},
				Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String(billBody)}}}}}); err != nil {
			return 0, fmt.Errorf("naive design: send: %w", err)
		}
		took += time.Since(t0)
	}
	return took / rounds, nil
}

// userKey is user i's key, in shared/dynamo/DESIGN.md's format.
func userKey(i int) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "WS#" + billWorkspace + "#U#" + harness.UserID(i)},
		"sk": &ddbtypes.AttributeValueMemberS{Value: "U"}}
}

// timedClient is an SDK HTTP client that times its requests.
type timedClient struct {
	aws.HTTPClient
	mu    sync.Mutex
	calls int64
	took  time.Duration
}

func (c *timedClient) Do(r *http.Request) (*http.Response, error) {
	t0 := time.Now()
	res, err := c.HTTPClient.Do(r)
	c.mu.Lock()
	c.calls++
	c.took += time.Since(t0)
	c.mu.Unlock()
	return res, err
}

// mean is the mean time of the requests; zero without any.
func (c *timedClient) mean() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == 0 {
		return 0
	}
	return c.took / time.Duration(c.calls)
}

// platformBytesPerInvocation is what Lambda logs of one invocation by
// itself.
func platformBytesPerInvocation(f templateFacts, memoryMB int) float64 {
	n := 0
	for _, l := range f.platformLines(time.Now(), 1, 20*time.Millisecond, memoryMB, 40) {
		n += len(l)
	}
	return float64(n)
}

// userItem is the first user's item.
func userItem(ctx context.Context, env *harness.AWS) (map[string]ddbtypes.AttributeValue, error) {
	out, err := env.DDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Table), Key: userKey(0)})
	if err != nil {
		return nil, fmt.Errorf("read a user: %w", err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("read a user: no item at its key (shared/dynamo's key format changed?)")
	}
	return out.Item, nil
}
