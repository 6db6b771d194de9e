package events_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/shared/console"
)

// These tests hold template.yaml to rules that cfn-lint and sam validate
// cannot know: what the functions' adapters call, what every queue, topic
// and function of the stack must come with. Each rule is stated over every
// resource of its kind, so a resource added later is held to it too.

// yamlNode is one line of the template: "key: value", "key:" (children
// follow, more indented), "- item" (key "-"), or a line of a block scalar
// (key "", the line as value).
type yamlNode struct {
	key, value string
	line       int
	children   []*yamlNode
}

// readTemplate reads the block-style subset of YAML template.yaml is
// written in (mappings, sequences, flow values and block scalars kept as
// text, comments dropped) into a tree: enough to find resources and their
// properties, not a YAML parser.
func readTemplate(t *testing.T) *yamlNode {
	t.Helper()
	data, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := &yamlNode{key: "template"}
	type open struct {
		indent int
		node   *yamlNode
	}
	stack := []open{{-1, root}}
	blockIndent := -1 // inside a block scalar: the indent of its key
	for i, raw := range strings.Split(string(data), "\n") {
		text := strings.TrimRight(raw, " ")
		trimmed := strings.TrimLeft(text, " ")
		indent := len(text) - len(trimmed)
		if trimmed == "" {
			continue
		}
		if blockIndent >= 0 && indent > blockIndent {
			parent := stack[len(stack)-1].node
			parent.children = append(parent.children, &yamlNode{value: trimmed, line: i + 1})
			continue
		}
		blockIndent = -1
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		trimmed = dropComment(trimmed)
		for len(stack) > 1 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		parent := stack[len(stack)-1].node
		if item, ok := strings.CutPrefix(trimmed, "- "); ok || trimmed == "-" {
			n := &yamlNode{key: "-", line: i + 1}
			parent.children = append(parent.children, n)
			stack = append(stack, open{indent, n})
			if k, v, isMap := cutKey(item); isMap {
				child := &yamlNode{key: k, value: v, line: i + 1}
				n.children = append(n.children, child)
				stack = append(stack, open{indent + 2, child})
				if v == ">-" || v == ">" || v == "|" || v == "|-" {
					blockIndent = indent + 2
				}
			} else {
				n.value = item
			}
			continue
		}
		k, v, ok := cutKey(trimmed)
		if !ok {
			t.Fatalf("template.yaml:%d: %q is neither a key nor an item", i+1, trimmed)
		}
		n := &yamlNode{key: k, value: v, line: i + 1}
		parent.children = append(parent.children, n)
		stack = append(stack, open{indent, n})
		if v == ">-" || v == ">" || v == "|" || v == "|-" {
			blockIndent = indent
		}
	}
	return root
}

// cutKey splits "key: value" or "key:" (a key may hold colons, as
// "aws:SourceArn" does, or be double-quoted, as a route key with spaces
// is); a flow value or a quoted scalar is not a key.
func cutKey(s string) (key, value string, ok bool) {
	if rest, ok := strings.CutPrefix(s, `"`); ok {
		if k, v, found := strings.Cut(rest, `":`); found && !strings.Contains(k, `"`) && (v == "" || v[0] == ' ') {
			return k, strings.TrimSpace(v), true
		}
		return "", "", false
	}
	if s == "" || strings.ContainsAny(s[:1], `"'[{!`) {
		return "", "", false
	}
	if k, ok := strings.CutSuffix(s, ":"); ok && !strings.Contains(k, " ") {
		return k, "", true
	}
	k, v, found := strings.Cut(s, ": ")
	if !found || strings.Contains(k, " ") {
		return "", "", false
	}
	return k, strings.TrimSpace(v), true
}

// dropComment removes a trailing " # comment" outside quotes.
func dropComment(s string) string {
	inQuote := byte(0)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote != 0:
			if c == inQuote {
				inQuote = 0
			}
		case c == '"' || c == '\'':
			inQuote = c
		case c == '#' && i > 0 && s[i-1] == ' ':
			return strings.TrimRight(s[:i], " ")
		}
	}
	return s
}

// get follows keys down the tree; nil when one is missing.
func (n *yamlNode) get(keys ...string) *yamlNode {
	for _, k := range keys {
		if n == nil {
			return nil
		}
		var next *yamlNode
		for _, c := range n.children {
			if c.key == k {
				next = c
				break
			}
		}
		n = next
	}
	return n
}

// val is the node's value; "" when the node is missing.
func (n *yamlNode) val() string {
	if n == nil {
		return ""
	}
	return n.value
}

// text is the node and everything under it, one line per node.
func (n *yamlNode) text() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*yamlNode, int)
	walk = func(n *yamlNode, depth int) {
		fmt.Fprintf(&b, "%s%s: %s\n", strings.Repeat("  ", depth), n.key, n.value)
		for _, c := range n.children {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// resources returns the template's resources of type typ, by logical id.
func resources(tpl *yamlNode, typ string) map[string]*yamlNode {
	out := map[string]*yamlNode{}
	for _, r := range tpl.get("Resources").children {
		if r.get("Type").val() == typ {
			out[r.key] = r
		}
	}
	return out
}

// sortedKeys returns m's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestTemplateReader(t *testing.T) {
	tpl := readTemplate(t)
	fns := resources(tpl, "AWS::Serverless::Function")
	if len(fns) < 8 {
		t.Fatalf("read %d functions (%v); the reader lost some", len(fns), sortedKeys(fns))
	}
	if got := fns["ApiFunction"].get("Properties", "Timeout").val(); got != "29" {
		t.Errorf("ApiFunction Timeout = %q, want 29 (comment dropped)", got)
	}
	if got := tpl.get("Resources", "HeraldTable", "Properties", "BillingMode").val(); got != "PAY_PER_REQUEST" {
		t.Errorf("HeraldTable BillingMode = %q", got)
	}
}

// TestTemplateAlarms: every function has its errors alarm (the rule at the
// top of the template), every dead-letter queue an alarm on its messages,
// every queue a function consumes an alarm on its oldest message's age,
// and every alarm says when it is over (OKActions), so that a page is
// never left open.
func TestTemplateAlarms(t *testing.T) {
	tpl := readTemplate(t)
	alarms := resources(tpl, "AWS::CloudWatch::Alarm")
	for _, name := range sortedKeys(alarms) {
		p := alarms[name].get("Properties")
		if p.get("OKActions") == nil {
			t.Errorf("%s has AlarmActions but no OKActions", name)
		}
	}
	// alarmOn reports whether an alarm watches metric of the resource ref.
	alarmOn := func(metric, ref string) bool {
		for _, a := range alarms {
			txt := a.text()
			if strings.Contains(txt, "MetricName: "+metric+"\n") && (strings.Contains(txt, "!Ref "+ref+"\n") || strings.Contains(txt, "!GetAtt "+ref+".QueueName\n")) {
				return true
			}
		}
		return false
	}
	for _, fn := range sortedKeys(resources(tpl, "AWS::Serverless::Function")) {
		if !alarmOn("Errors", fn) {
			t.Errorf("%s has no Errors alarm", fn)
		}
	}
	queues := resources(tpl, "AWS::SQS::Queue")
	consumed := map[string]bool{}
	for _, esm := range resources(tpl, "AWS::Lambda::EventSourceMapping") {
		q, _ := strings.CutPrefix(esm.get("Properties", "EventSourceArn").val(), "!GetAtt ")
		consumed[strings.TrimSuffix(q, ".Arn")] = true
	}
	// Repairs wait six minutes between tries by design, an hour in all:
	// their age says nothing, their dead-letter queue does.
	noAgeAlarm := map[string]bool{"CampaignRepairQueue": true}
	for _, q := range sortedKeys(queues) {
		// A dead-letter queue a function settles stays empty: its alarm
		// counts what arrives instead of what waits.
		if strings.HasSuffix(q, "DeadLetterQueue") && !alarmOn("ApproximateNumberOfMessagesVisible", q) && !(consumed[q] && alarmOn("NumberOfMessagesReceived", q)) {
			t.Errorf("dead-letter queue %s has no alarm on its messages", q)
		}
		if consumed[q] && !noAgeAlarm[q] && !alarmOn("ApproximateAgeOfOldestMessage", q) {
			t.Errorf("queue %s is consumed by a function but has no ApproximateAgeOfOldestMessage alarm", q)
		}
	}
}

// TestTemplateQueues: queues are encrypted; a dead-letter queue says which
// queues may dead-letter into it (RedriveAllowPolicy), byQueue for the one
// that does and denyAll for those only Lambda, EventBridge Scheduler or
// SNS write to, so no other queue of the account can bury messages in it.
func TestTemplateQueues(t *testing.T) {
	tpl := readTemplate(t)
	queues := resources(tpl, "AWS::SQS::Queue")
	sources := map[string]string{} // dead-letter queue → its source queue
	for _, q := range sortedKeys(queues) {
		p := queues[q].get("Properties")
		if p.get("SqsManagedSseEnabled").val() != "true" {
			t.Errorf("queue %s is not encrypted (SqsManagedSseEnabled)", q)
		}
		if dlq := p.get("RedrivePolicy", "deadLetterTargetArn"); dlq != nil {
			sources[strings.TrimSuffix(strings.TrimPrefix(dlq.value, "!GetAtt "), ".Arn")] = q
		}
	}
	for _, q := range sortedKeys(queues) {
		if !strings.HasSuffix(q, "DeadLetterQueue") {
			continue
		}
		allow := queues[q].get("Properties", "RedriveAllowPolicy")
		perm := allow.get("redrivePermission")
		switch src, ok := sources[q]; {
		case perm == nil:
			t.Errorf("dead-letter queue %s has no RedriveAllowPolicy", q)
		case ok && (perm.value != "byQueue" || !strings.Contains(allow.text(), "${AWS::StackName}-")):
			t.Errorf("dead-letter queue %s of %s: RedriveAllowPolicy %s, want byQueue naming its source", q, src, perm.value)
		case !ok && perm.value != "denyAll":
			t.Errorf("dead-letter queue %s has no source queue: RedriveAllowPolicy %s, want denyAll", q, perm.value)
		}
	}
}

// TestTemplateConcurrency: no function scales without a bound. A function
// invoked only by its queue is bounded by the event source mapping's
// MaximumConcurrency; any other (API Gateway, S3, SNS, EventBridge
// Scheduler) needs reserved concurrency.
func TestTemplateConcurrency(t *testing.T) {
	tpl := readTemplate(t)
	bounded := map[string]bool{}
	for _, esm := range resources(tpl, "AWS::Lambda::EventSourceMapping") {
		p := esm.get("Properties")
		if p.get("ScalingConfig", "MaximumConcurrency") != nil {
			bounded[strings.TrimPrefix(p.get("FunctionName").val(), "!Ref ")] = true
		}
	}
	fns := resources(tpl, "AWS::Serverless::Function")
	for _, fn := range sortedKeys(fns) {
		p := fns[fn].get("Properties")
		onlyQueue := p.get("Events") == nil && p.get("EventInvokeConfig") == nil && bounded[fn]
		if rc := p.get("ReservedConcurrentExecutions"); rc == nil && !onlyQueue {
			t.Errorf("%s has no ReservedConcurrentExecutions and is not invoked by a bounded queue alone", fn)
		}
	}
}

// TestTemplateSNS: the HTTPS subscriptions of the stack's topics are
// created once their route can answer SNS's confirmation, retry for as
// long as an HTTPS delivery policy may, and keep what still fails; the
// topics are encrypted where a key can be used.
func TestTemplateSNS(t *testing.T) {
	tpl := readTemplate(t)
	subs := resources(tpl, "AWS::SNS::Subscription")
	https := 0
	for _, name := range sortedKeys(subs) {
		sub := subs[name]
		if sub.get("Properties", "Protocol").val() != "https" {
			continue
		}
		https++
		route := sub.get("Properties", "Endpoint").val()
		route = route[strings.LastIndex(route, "/")+1:]
		deps := sub.get("DependsOn").val()
		permission := "CallbacksFunction" + map[string]string{"ses": "SesEvents", "push": "PushEvents", "sms": "SmsStatus"}[route] + "Permission"
		for _, want := range []string{"HttpApiApiGatewayDefaultStage", permission, "WebhookEventsDeadLetterQueuePolicy"} {
			if !strings.Contains(deps, want) {
				t.Errorf("%s (/webhooks/%s) DependsOn %q, want %s in it", name, route, deps, want)
			}
		}
		if sub.get("Properties", "DeliveryPolicy", "healthyRetryPolicy", "numRetries") == nil {
			t.Errorf("%s has no DeliveryPolicy: SNS's default gives up after a minute", name)
		}
		if sub.get("Properties", "RedrivePolicy", "deadLetterTargetArn") == nil {
			t.Errorf("%s has no RedrivePolicy: what SNS fails to deliver is dropped", name)
		}
	}
	if https < 2 {
		t.Errorf("%d HTTPS subscriptions, want one per SNS route (push, sms)", https)
	}
	// A queue subscription (SES's events, in batches) is created once its
	// queue lets the topic send (else SNS's first deliveries fail), keeps
	// what SNS cannot deliver, and its queue is the callbacks function's.
	queued := 0
	policies := resources(tpl, "AWS::SQS::QueuePolicy")
	mappings := resources(tpl, "AWS::Lambda::EventSourceMapping")
	for _, name := range sortedKeys(subs) {
		sub := subs[name]
		if sub.get("Properties", "Protocol").val() != "sqs" {
			continue
		}
		queued++
		queue := strings.TrimSuffix(strings.TrimPrefix(sub.get("Properties", "Endpoint").val(), "!GetAtt "), ".Arn")
		topic := sub.get("Properties", "TopicArn").val()
		policy := ""
		for _, pn := range sortedKeys(policies) {
			if strings.Contains(policies[pn].get("Properties", "Queues").val(), "!Ref "+queue) {
				policy = pn
			}
		}
		if policy == "" || !strings.Contains(sub.get("DependsOn").val(), policy) {
			t.Errorf("%s: queue %s's policy %q is not among its DependsOn %q", name, queue, policy, sub.get("DependsOn").val())
		} else if txt := policies[policy].text(); !strings.Contains(txt, "sqs:SendMessage") || !strings.Contains(txt, "aws:SourceArn: "+topic) {
			t.Errorf("%s: %s does not let %s (only) send to %s", name, policy, topic, queue)
		}
		if sub.get("Properties", "RedrivePolicy", "deadLetterTargetArn") == nil {
			t.Errorf("%s has no RedrivePolicy: what SNS fails to deliver is dropped", name)
		}
		consumed := false
		for _, m := range mappings {
			if m.get("Properties", "EventSourceArn").val() == "!GetAtt "+queue+".Arn" && m.get("Properties", "FunctionName").val() == "!Ref CallbacksFunction" {
				consumed = true
			}
		}
		if !consumed {
			t.Errorf("%s: queue %s is no event source of CallbacksFunction", name, queue)
		}
	}
	if queued < 1 {
		t.Error("no queue subscription: SES's events should reach the callbacks function in batches")
	}
	// SNS itself publishes the push platform applications' events: no
	// documented key policy lets it use a customer managed key for them.
	unencrypted := map[string]bool{"PushEventsTopic": true}
	topics := resources(tpl, "AWS::SNS::Topic")
	for _, name := range sortedKeys(topics) {
		if topics[name].get("Properties", "KmsMasterKeyId") == nil && !unencrypted[name] {
			t.Errorf("topic %s is not encrypted (KmsMasterKeyId)", name)
		}
	}
}

// TestTemplateCallbacksRoutes: every SNS route of the callbacks function
// is served, which needs its topics in the environment
// (functions/callbacks/main.go registers a route only then).
func TestTemplateCallbacksRoutes(t *testing.T) {
	tpl := readTemplate(t)
	fn := resources(tpl, "AWS::Serverless::Function")["CallbacksFunction"]
	env := fn.get("Properties", "Environment", "Variables")
	need := map[string]string{"/webhooks/ses": "HERALD_SES_EVENTS_TOPIC_ARNS", "/webhooks/push": "HERALD_PUSH_EVENTS_TOPIC_ARNS", "/webhooks/sms": "HERALD_SMS_STATUS_TOPIC_ARNS"}
	for _, ev := range fn.get("Properties", "Events").children {
		path := ev.get("Properties", "Path").val()
		if v, ok := need[path]; ok && env.get(v) == nil {
			t.Errorf("route %s (%s) is never served: %s is not set", path, ev.key, v)
		}
	}
}

// TestTemplateLeastPrivilege: each function may do what its adapters
// call and no more. s3blob's Stat and Open tell a missing object from a
// denied request only with s3:ListBucket (S3 answers 403 instead of 404
// without it); publishing to any phone number ("*") is for SMS alone; push
// endpoints are those of the stack's platform applications.
func TestTemplateLeastPrivilege(t *testing.T) {
	tpl := readTemplate(t)
	fns := resources(tpl, "AWS::Serverless::Function")
	for _, name := range sortedKeys(fns) {
		policies := fns[name].get("Properties", "Policies").text()
		if strings.Contains(policies, "s3:GetObject") && !strings.Contains(policies, "s3:ListBucket") {
			t.Errorf("%s may s3:GetObject but not s3:ListBucket: a missing upload is a 403, not not_found", name)
		}
		for _, wide := range []string{":app/*", ":endpoint/*"} {
			if strings.Contains(policies, wide) {
				t.Errorf("%s's policies name every SNS %s of the account", name, wide)
			}
		}
		for _, p := range fns[name].get("Properties", "Policies").children {
			txt := p.text()
			if strings.Contains(txt, "Action: sns:Publish") && strings.Contains(txt, `Resource: "*"`) && !strings.Contains(txt, "-: SmsOn") {
				t.Errorf("%s may sns:Publish to \"*\" even when SMS is off", name)
			}
		}
	}
}

// TestTemplateConsoleRoutes: every console route reaches the api
// function without the API key authorizer (the console has its own
// sessions), and no console route is left to the gateway's 404.
func TestTemplateConsoleRoutes(t *testing.T) {
	tpl := readTemplate(t)
	fn := resources(tpl, "AWS::Serverless::Function")["ApiFunction"]
	var open []string
	for _, ev := range fn.get("Properties", "Events").children {
		if ev.get("Properties", "Auth", "Authorizer").val() == "NONE" {
			open = append(open, ev.get("Properties", "Path").val())
		}
	}
	for _, p := range console.RoutePaths() {
		// A sample path of the pattern: each {name} segment filled in.
		sample := regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(strings.TrimSuffix(p, "{$}"), "x")
		if !slices.ContainsFunc(open, func(route string) bool { return gatewayMatches(route, sample) }) {
			t.Errorf("console path %s (as %s) has no route without the authorizer in ApiFunction's events", p, sample)
		}
	}
}

// TestTemplateSDKThrottling: the SDK's route, polled by every open page,
// has its own throttling from a parameter, not the API routes' 100/s.
func TestTemplateSDKThrottling(t *testing.T) {
	tpl := readTemplate(t)
	api := resources(tpl, "AWS::Serverless::HttpApi")["HttpApi"]
	sdk := api.get("Properties", "RouteSettings", "ANY /sdk/{proxy+}")
	for _, k := range []string{"ThrottlingRateLimit", "ThrottlingBurstLimit"} {
		if got := sdk.get(k).val(); got != "!Ref SdkRequestsPerSecond" {
			t.Errorf("HttpApi RouteSettings[ANY /sdk/{proxy+}].%s = %q, want !Ref SdkRequestsPerSecond", k, got)
		}
	}
	fn := resources(tpl, "AWS::Serverless::Function")["ApiFunction"]
	if got := fn.get("Properties", "Events", "SDK", "Properties", "Path").val(); got != "/sdk/{proxy+}" {
		t.Errorf("ApiFunction's SDK event path = %q: the route settings name another route", got)
	}
}

// gatewayMatches reports whether an HTTP API route path matches path:
// {name} is one segment, {proxy+} one or more.
func gatewayMatches(route, path string) bool {
	rs, ps := strings.Split(strings.Trim(route, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	for i, r := range rs {
		if strings.HasSuffix(r, "+}") {
			return i < len(ps)
		}
		if i >= len(ps) || (!strings.HasPrefix(r, "{") && r != ps[i]) {
			return false
		}
	}
	return len(rs) == len(ps)
}

// TestTemplateUploadsCORS: New send's script PUTs spreadsheets from the
// console's pages, served on the HTTP API's domain, straight to presigned
// S3 URLs. The uploads bucket answers that origin's PUT, and those of the
// UploadOrigins parameter (a custom domain), and no other method or
// origin.
func TestTemplateUploadsCORS(t *testing.T) {
	tpl := readTemplate(t)
	bucket := resources(tpl, "AWS::S3::Bucket")["UploadsBucket"]
	rules := bucket.get("Properties", "CorsConfiguration", "CorsRules").children
	if len(rules) != 1 {
		t.Fatalf("UploadsBucket has %d CORS rules, want the console's one:\n%s", len(rules), bucket.get("Properties", "CorsConfiguration").text())
	}
	rule := rules[0]
	if got := rule.get("AllowedMethods").val(); got != "[PUT]" {
		t.Errorf("the uploads' CORS allows %s, want [PUT] only", got)
	}
	consoleOrigin := "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
	if api := tpl.get("Outputs", "ApiUrl", "Value").val(); !strings.Contains(api, consoleOrigin) {
		t.Fatalf("ApiUrl is %s: the console is not served on %s any more", api, consoleOrigin)
	}
	origins := rule.get("AllowedOrigins").text()
	for _, want := range []string{consoleOrigin, "!Ref UploadOrigins", "HasUploadOrigins"} {
		if !strings.Contains(origins, want) {
			t.Errorf("the uploads' CORS origins lack %s:\n%s", want, origins)
		}
	}
	if strings.Contains(origins, `"*"`) || strings.Contains(rule.text(), "AllowedHeaders: [\"*\"]") {
		t.Errorf("the uploads' CORS lets any origin or header in:\n%s", rule.text())
	}
	p := tpl.get("Parameters", "UploadOrigins")
	if p.get("Type").val() != "CommaDelimitedList" || p.get("Default").val() != `""` || !strings.Contains(p.get("Description").text(), "custom domain") {
		t.Errorf("the UploadOrigins parameter:\n%s", p.text())
	}
	if tpl.get("Conditions", "HasUploadOrigins") == nil {
		t.Error("no HasUploadOrigins condition")
	}
}

// TestTemplateAPIReadsTheLinkSecretAlone: the api function signs and
// checks the preference page's links with the unsubscribe secret, so it
// may read that parameter, and no other secret (the providers'
// credentials stay with dispatch and callbacks).
func TestTemplateAPIReadsTheLinkSecretAlone(t *testing.T) {
	tpl := readTemplate(t)
	policies := resources(tpl, "AWS::Serverless::Function")["ApiFunction"].get("Properties", "Policies").text()
	if !strings.Contains(policies, "Action: ssm:GetParameters\n") || !strings.Contains(policies, "parameter${SecretsPath}unsubscribe-secret") {
		t.Errorf("ApiFunction cannot read the unsubscribe secret:\n%s", policies)
	}
	if strings.Contains(policies, "GetParametersByPath") || strings.Contains(policies, "parameter${SecretsPath}*") {
		t.Errorf("ApiFunction may read every secret:\n%s", policies)
	}
}

// TestTemplateSDKRoute: the browser SDK's routes reach the api function
// without the API key authorizer (pages hold user tokens, which the
// function checks), for every method, OPTIONS preflights included, and
// the gateway answers no preflight itself: a CorsConfiguration on the
// HttpApi would, with its own origins instead of each workspace's.
func TestTemplateSDKRoute(t *testing.T) {
	tpl := readTemplate(t)
	fn := resources(tpl, "AWS::Serverless::Function")["ApiFunction"]
	var sdk *yamlNode
	for _, ev := range fn.get("Properties", "Events").children {
		if ev.get("Properties", "Path").val() == "/sdk/{proxy+}" {
			sdk = ev
		}
	}
	if sdk == nil {
		t.Fatal("ApiFunction has no /sdk/{proxy+} route")
	}
	p := sdk.get("Properties")
	if p.get("Type").val() != "" || sdk.get("Type").val() != "HttpApi" || p.get("ApiId").val() != "!Ref HttpApi" || p.get("Method").val() != "ANY" || p.get("Auth", "Authorizer").val() != "NONE" {
		t.Errorf("the SDK's route:\n%s", sdk.text())
	}
	for _, path := range []string{"/sdk/v1/config", "/sdk/v1/me/presence", "/sdk/v1/me/devices/dev_1"} {
		if !gatewayMatches("/sdk/{proxy+}", path) {
			t.Errorf("%s does not match /sdk/{proxy+}", path)
		}
	}
	for _, api := range resources(tpl, "AWS::Serverless::HttpApi") {
		if api.get("Properties", "CorsConfiguration") != nil {
			t.Errorf("%s has a CorsConfiguration: the gateway would answer the SDK's preflights itself", api.key)
		}
	}
}
