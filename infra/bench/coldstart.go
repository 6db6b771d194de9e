package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/audience"
	"github.com/heraldhq/herald/shared/dynamo"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
	"github.com/heraldhq/herald/shared/webpush"
)

// The cold start goals (issue 18): from exec to the first
// GET /runtime/invocation/next, and what the first invocation takes more
// than the same invocation warm.
const (
	coldInitGoal  = 15 * time.Millisecond
	coldFirstGoal = 5 * time.Millisecond
)

// coldCase is one function started cold on one sample event.
type coldCase struct {
	fn    string // folder under functions/
	event string // file under events/, the one the function's tests use
	// edit, when set, changes the event before it is handed over.
	edit   func([]byte) ([]byte, error)
	label  string   // what the row measures, when not just the event
	memory int      // MemorySize in template.yaml
	env    []string // the function's own variables in template.yaml
	// seed stores what the first invocation reads, in the run's fresh
	// table, as the function's test seeds it.
	seed func(ctx context.Context, store *dynamo.Store) error
}

// benchColdStart builds every function's bootstrap as make build does,
// for this machine's architecture, and starts each one the way Lambda
// does: against a fake of the Runtime API, with the function's
// environment from template.yaml. It times exec to the first
// GET /runtime/invocation/next (init), the first invocation (the sample
// event handed over to its response) and the same event again on the same
// state, warm: first − warm is what the cold start leaves to the first
// invocation (TLS handshakes, the system's roots, whatever is made on
// first use). Each row is several runs after a warm-up run (page cache
// warm); then GODEBUG=inittrace=1 gives what the packages' initialisation
// costs (steadier than wall-clock on a busy machine). The functions reach AWS through an HTTPS proxy in this
// process that sends DynamoDB to DynamoDB Local and the rest to moto
// (SQS, SSM, S3, SNS, Scheduler), and answers Bedrock itself.
func benchColdStart(ctx context.Context, runs int) error {
	ddbURL, motoURL := os.Getenv("HERALD_TEST_DYNAMODB_ENDPOINT"), os.Getenv("HERALD_TEST_SQS_ENDPOINT")
	if ddbURL == "" || motoURL == "" {
		fmt.Println("skipped: set HERALD_TEST_DYNAMODB_ENDPOINT and HERALD_TEST_SQS_ENDPOINT (make bench starts the emulators)")
		return nil
	}
	if runs < 1 {
		runs = 1
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "herald-coldstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	if err := buildBootstraps(ctx, root, dir); err != nil {
		return err
	}
	fmt.Printf("built the bootstraps for linux/%s as make build does (-tags lambda.norpc -trimpath -ldflags='-s -w') in %.1f s\n", runtime.GOARCH, time.Since(t0).Seconds())

	env, closeEnv, err := newColdEnv(ctx, root, dir, ddbURL, motoURL)
	if err != nil {
		return err
	}
	defer closeEnv()

	fmt.Printf("%d runs per row after a warm-up run; wall-clock min/median (the machine's load moves them); CPU: the process's, all threads, median\n", runs)
	fmt.Println("first: the first invocation; warm: the same event again on the same state; extra: first − warm, the cold start's share of the first invocation")
	fmt.Printf("%-10s %-27s %13s %7s %6s %6s %13s %7s %8s %8s %8s %5s  %s\n", "function", "event", "init", "≤15ms", "first", "warm", "extra", "≤5ms",
		"CPU init", "CPU 1st", "CPU warm", "AWS", "first answer")
	type traced struct {
		fn  string
		sum inittraceSum
	}
	var traces []traced
	var misses []string
	for _, c := range coldCases(env) {
		event, err := os.ReadFile(filepath.Join(root, "events", c.event))
		if err == nil && c.edit != nil {
			event, err = c.edit(event)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.event, err)
		}
		bin := filepath.Join(dir, c.fn)
		var results []coldResult
		for i := 0; i <= runs; i++ { // run 0 warms the page cache
			r, err := env.run(ctx, bin, c, event, fmt.Sprintf("%s-%d", c.fn, i), false)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", c.fn, c.event, err)
			}
			if i > 0 {
				results = append(results, r)
			}
		}
		inits := coldCollect(results, func(r coldResult) time.Duration { return r.init })
		extras := coldCollect(results, func(r coldResult) time.Duration { return r.first.took - r.warm.took })
		med := func(f func(coldResult) time.Duration) time.Duration { return coldMedian(coldCollect(results, f)) }
		last := results[len(results)-1]
		name := c.event
		if c.label != "" {
			name = c.label
		}
		answer := last.first.answer
		if last.warm.answer != answer {
			answer += " (warm: " + last.warm.answer + ")"
		}
		fmt.Printf("%-10s %-27s %5.1f/%5.1fms %7s %6.1f %6.1f %5.1f/%5.1fms %7s %6.1fms %6.1fms %6.1fms %2d/%-2d  %s\n", c.fn, name,
			ms(inits[0]), ms(coldMedian(inits)), coldVerdict(coldMedian(inits), coldInitGoal),
			ms(med(func(r coldResult) time.Duration { return r.first.took })), ms(med(func(r coldResult) time.Duration { return r.warm.took })),
			ms(extras[0]), ms(coldMedian(extras)), coldVerdict(coldMedian(extras), coldFirstGoal),
			ms(med(func(r coldResult) time.Duration { return r.cpuInit })), ms(med(func(r coldResult) time.Duration { return r.first.cpu })),
			ms(med(func(r coldResult) time.Duration { return r.warm.cpu })), last.callsInit, last.first.calls, answer)
		if coldMedian(inits) > coldInitGoal {
			misses = append(misses, fmt.Sprintf("%s init +%.1f ms", c.fn, ms(coldMedian(inits)-coldInitGoal)))
		}
		if coldMedian(extras) > coldFirstGoal {
			misses = append(misses, fmt.Sprintf("%s first invocation (%s) +%.1f ms", c.fn, name, ms(coldMedian(extras)-coldFirstGoal)))
		}
		if !slices.ContainsFunc(traces, func(t traced) bool { return t.fn == c.fn }) {
			var sums []inittraceSum
			for i := 0; i < runs; i++ {
				r, err := env.run(ctx, bin, c, event, fmt.Sprintf("%s-trace-%d", c.fn, i), true)
				if err != nil {
					return fmt.Errorf("%s with inittrace: %w", c.fn, err)
				}
				sums = append(sums, r.trace)
			}
			slices.SortFunc(sums, func(a, b inittraceSum) int { return int(a.clock - b.clock) })
			traces = append(traces, traced{c.fn, sums[len(sums)/2]})
		}
	}
	fmt.Println("GODEBUG=inittrace=1, package initialisation before main (median run): total clock, allocations, the costliest packages")
	for _, t := range traces {
		fmt.Printf("  %-10s %5.2f ms %7d allocs %6.0f KB   %s\n", t.fn, ms(t.sum.clock), t.sum.allocs, float64(t.sum.bytes)/1024, t.sum.top(3))
	}
	fmt.Println("AWS: calls made by init / by the first invocation, through the proxy to the emulators (their time is in first and warm alike)")
	if all, file, err := coldRoots(ctx); err == nil {
		fmt.Printf("the system's roots, which a process's first TLS handshake loads: %.1f ms here as Go reads them, every file of the certificate directories too "+
			"(as on provided.al2023, golang/go#79018); %.1f ms for the bundle file alone\n", ms(all), ms(file))
	} else {
		fmt.Println("the system's roots:", err)
	}
	if len(misses) > 0 {
		fmt.Println("over the goals:", strings.Join(misses, "; "))
	} else {
		fmt.Println("every function within the goals (init ≤ 15 ms, first invocation ≤ 5 ms more)")
	}
	return nil
}

// coldRoots is what loading the system's roots costs a fresh process
// (this program, -child coldstart-roots), the best of five: as Go loads
// them for a process's first TLS handshake, and the bundle file alone.
func coldRoots(ctx context.Context) (all, file time.Duration, err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	for range 5 {
		cmd := exec.CommandContext(ctx, exe, "-child", "coldstart-roots")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "SSL_CERT_") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.Output()
		if err != nil {
			return 0, 0, fmt.Errorf("roots child: %w", err)
		}
		var a, f time.Duration
		if _, err := fmt.Sscan(string(out), &a, &f); err != nil {
			return 0, 0, fmt.Errorf("roots child said %q: %w", out, err)
		}
		if all == 0 || a < all {
			all = a
		}
		if file == 0 || f < file {
			file = f
		}
	}
	return all, file, nil
}

// coldRootsChild prints, in nanoseconds, how long x509.SystemCertPool
// takes (the first TLS handshake's load) and how long the first bundle
// file Go would read takes alone.
func coldRootsChild() error {
	t0 := time.Now()
	if _, err := x509.SystemCertPool(); err != nil {
		return err
	}
	all := time.Since(t0)
	for _, f := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"} {
		t1 := time.Now()
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		x509.NewCertPool().AppendCertsFromPEM(b)
		fmt.Println(int64(all), int64(time.Since(t1)))
		return nil
	}
	return fmt.Errorf("no CA bundle file")
}

// buildBootstraps builds every function into dir/<fn> with the Makefile's
// LAMBDA_FLAGS, for linux on this machine's architecture.
func buildBootstraps(ctx context.Context, root, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir+string(filepath.Separator), "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./functions/...: %v\n%s", err, out)
	}
	return nil
}

// The sample events' names: workspace, notification, bucket.
const (
	coldWorkspace    = "ws_example"
	coldNotification = "01M7YWX24G4TFF59TDWH9EDD1R"
	coldBucket       = "herald-uploads-4f1c2d3e-5a6b-11f0-8c7d-0e1f2a3b4c5d"
	coldUploadKey    = "uploads/ws_example/01M8A3K5Q7R9T1V3X5Z7B9D1F3"
	// coldUploadFile is the users file events/ingest-upload.json announces.
	coldUploadFile = "id,name,email\nc1,Ana,ana@example.com\nc2,Luis,luis@example.com\n"
	coldSMSID      = "34d9b400-c6dd-5444-820d-fbeb0f1f54cf" // events/callbacks-sms-status.json
	coldArn        = "arn:aws:sns:us-east-1:123456789012:"
	// The credentials of the functions and of the seeding alike.
	coldAccessKey, coldSecretKey = "ASIAHERALDBENCH", "herald-bench-secret"
)

// coldCases are the functions as template.yaml configures them, with SES,
// SMS and web push on (as a sender's stack has them), each on the sample
// event its tests use, seeded as those tests seed it.
func coldCases(env *coldEnv) []coldCase {
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	providers := []string{"HERALD_SES_ENABLED=1", "HERALD_SES_FROM=Acme <news@acme.example>", "HERALD_SES_CONFIGURATION_SET=",
		"HERALD_SNS_ENABLED=1", "HERALD_SNS_FCM_APPLICATION_ARN=", "HERALD_SNS_APNS_APPLICATION_ARN=", "HERALD_SMS_SENDER_ID="}
	scheduler := []string{"HERALD_SCHEDULER_GROUP=herald-bench", "HERALD_SCHEDULER_TARGET_ARN=arn:aws:lambda:us-east-1:123456789012:function:herald-bench-scheduler",
		"HERALD_SCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/herald-bench-scheduler", "HERALD_SCHEDULER_DLQ_ARN=arn:aws:sqs:us-east-1:123456789012:herald-bench-scheduler-dlq",
		"HERALD_SCHEDULER_RETRIES=5", "HERALD_SCHEDULER_MAX_EVENT_AGE=3600s", "HERALD_CAMPAIGN_REPAIR_QUEUE_URL=" + env.repairQueue}
	workspace := func(ctx context.Context, store *dynamo.Store) error {
		return store.CreateWorkspace(ctx, notify.Workspace{ID: coldWorkspace, Name: coldWorkspace, CreatedAt: at})
	}
	return []coldCase{
		{fn: "api", event: "api-send-notification.json", memory: 512, env: append(slices.Clone(scheduler), providers...),
			seed: func(ctx context.Context, store *dynamo.Store) error {
				if err := workspace(ctx, store); err != nil {
					return err
				}
				for _, id := range []string{"u1", "u2"} {
					if _, err := store.PutUser(ctx, notify.User{WorkspaceID: coldWorkspace, ID: id, Name: id, SealKey: seal.NewKey(), CreatedAt: at, UpdatedAt: at}); err != nil {
						return err
					}
				}
				return nil
			}},
		// The console's sign-in page: its first render, without the
		// password hash a sign-in costs by design.
		{fn: "api", event: "api-console-login.json", label: "GET /login (console)", memory: 512, env: append(slices.Clone(scheduler), providers...),
			edit: func(b []byte) ([]byte, error) {
				var ev events.APIGatewayV2HTTPRequest
				if err := json.Unmarshal(b, &ev); err != nil {
					return nil, err
				}
				ev.RequestContext.HTTP.Method, ev.Body, ev.IsBase64Encoded = "GET", "", false
				delete(ev.Headers, "content-type")
				delete(ev.Headers, "content-length")
				return json.Marshal(ev)
			}},
		{fn: "authorizer", event: "authorizer-request.json", memory: 256,
			seed: func(ctx context.Context, store *dynamo.Store) error {
				if err := workspace(ctx, store); err != nil {
					return err
				}
				return store.CreateAPIKey(ctx, notify.APIKey{ID: "key_example", WorkspaceID: coldWorkspace, Name: "backend",
					Scopes: []notify.Scope{notify.ScopeSend, notify.ScopeRead}, Hash: apikey.Hash("hk_example"), CreatedAt: at})
			}},
		{fn: "dispatch", event: "dispatch-batch.json", memory: 512, env: append([]string{"HERALD_PUBLIC_URL=https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
			"HERALD_MARKETING_CATEGORIES=", "HERALD_MAX_RECEIVES=5", "HERALD_DISPATCH_DLQ_ARN=arn:aws:sqs:us-east-1:123456789012:herald-dispatch-dlq"}, providers...),
			seed: func(ctx context.Context, store *dynamo.Store) error {
				for _, id := range []string{"u1", "u2", "u3", "u4"} {
					if _, err := store.PutUser(ctx, notify.User{WorkspaceID: coldWorkspace, ID: id, Name: id, Phone: "+3460000000" + id[1:], SealKey: seal.NewKey(), CreatedAt: at}); err != nil {
						return err
					}
				}
				return store.CreateNotification(ctx, notify.Notification{WorkspaceID: coldWorkspace, ID: coldNotification, Channel: notify.ChannelSMS, Status: notify.StatusQueued,
					Counts: notify.Counts{Total: 4, Queued: 4}, Content: notify.Template{Channel: notify.ChannelSMS, Body: "Hi {{name}}"}, CreatedAt: at})
			}},
		{fn: "audience", event: "audience-step.json", memory: 512,
			seed: func(ctx context.Context, store *dynamo.Store) error {
				for i := range 60 {
					u := notify.User{WorkspaceID: coldWorkspace, ID: fmt.Sprintf("u%03d", i), Status: "active", Language: "es", Email: fmt.Sprintf("u%03d@example.com", i), CreatedAt: at, UpdatedAt: at}
					if i%2 == 1 {
						u.Status = "lead"
					}
					if _, err := store.PutUser(ctx, u); err != nil {
						return err
					}
				}
				n := notify.Notification{WorkspaceID: coldWorkspace, ID: coldNotification, Channel: notify.ChannelEmail, Source: notify.SourceFilter,
					Status: notify.StatusQueued, CreatedAt: at, Content: notify.Template{Title: "t", Body: "b"}}
				c, err := audience.CountFilter(ctx, store, coldWorkspace, notify.UserFilter{Status: []string{"active"}, Language: "es"}, n)
				if err != nil {
					return err
				}
				n.Counts = audience.InitialCounts(c)
				return store.CreateNotification(ctx, n)
			}},
		{fn: "callbacks", event: "callbacks-sms-status.json", memory: 256,
			env: []string{"HERALD_SES_EVENTS_TOPIC_ARNS=" + coldArn + "herald-SesEventsTopic", "HERALD_PUSH_EVENTS_TOPIC_ARNS=" + coldArn + "herald-PushEventsTopic",
				"HERALD_SMS_STATUS_TOPIC_ARNS=" + coldArn + "herald-SmsStatusTopic"},
			seed: func(ctx context.Context, store *dynamo.Store) error {
				if err := store.CreateNotification(ctx, notify.Notification{WorkspaceID: coldWorkspace, ID: coldNotification, Channel: notify.ChannelSMS, Status: notify.StatusCompleted,
					Counts: notify.Counts{Total: 1, Sent: 1}, CreatedAt: at, Content: notify.Template{Body: "x"}}); err != nil {
					return err
				}
				d := notify.Delivery{WorkspaceID: coldWorkspace, NotificationID: coldNotification, Key: "u1", UserID: "u1", Channel: notify.ChannelSMS,
					Status: notify.DeliverySent, ProviderMessageID: coldSMSID, CreatedAt: at, UpdatedAt: at}
				if _, err := store.RecordDeliveries(ctx, []notify.Delivery{d}); err != nil {
					return err
				}
				_, err := store.PutUser(ctx, notify.User{WorkspaceID: coldWorkspace, ID: "u1", Phone: "+34600000001", CreatedAt: at, UpdatedAt: at})
				return err
			}},
		{fn: "compose", event: "compose-generate.json", memory: 256,
			env: []string{"HERALD_COMPOSE_PROVIDER=bedrock", "HERALD_BEDROCK_MODEL_ID=anthropic.claude-3-5-haiku-20241022-v1:0",
				"HERALD_BEDROCK_GUARDRAIL_ID=", "HERALD_BEDROCK_GUARDRAIL_VERSION=", "HERALD_COMPOSE_RATE_PER_MINUTE=20"},
			seed: workspace},
		{fn: "ingest", event: "ingest-upload.json", memory: 1024,
			seed: func(ctx context.Context, store *dynamo.Store) error {
				return store.CreateUpload(ctx, notify.Upload{WorkspaceID: coldWorkspace, ID: "01M8A3K5Q7R9T1V3X5Z7B9D1F3", Purpose: notify.UploadPurposeUsers,
					Filename: "users.csv", Status: notify.UploadWaiting, ObjectKey: coldUploadKey, CreatedBy: "backend (key_example)",
					CreatedAt: at, UpdatedAt: at, ExpiresAt: time.Now().Add(time.Hour)})
			}},
		// Its test's run: the campaign is not in the store, so the run
		// deletes the left-over schedule (Scheduler, on moto) and sends
		// nothing.
		{fn: "scheduler", event: "scheduler-run.json", memory: 512, env: scheduler},
	}
}

// coldEnv is what every cold start shares: the emulators' clients, the
// queues, bucket and secrets the functions are configured with, and the
// HTTPS proxy they reach AWS through.
type coldEnv struct {
	dir                                       string
	ddb                                       *dynamodb.Client
	proxy                                     *awsProxy
	certFile                                  string
	dispatchQueue, audienceQueue, repairQueue string
	secretsPath                               string
}

// newColdEnv creates the queues, the bucket with the sample upload, the
// secrets in SSM, and starts the proxy.
func newColdEnv(ctx context.Context, root, dir, ddbURL, motoURL string) (*coldEnv, func(), error) {
	// The functions' own credentials: DynamoDB Local keeps a database per
	// access key.
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(coldAccessKey, coldSecretKey, "")}
	e := &coldEnv{dir: dir, ddb: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddbURL) })}
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(motoURL) })
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	var cleanups []func()
	closeAll := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	for _, qu := range []struct {
		name string
		url  *string
	}{{"dispatch", &e.dispatchQueue}, {"audience", &e.audienceQueue}, {"repair", &e.repairQueue}} {
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("herald-cold-" + qu.name + "-" + suffix)})
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("create queue: %w", err)
		}
		*qu.url = *out.QueueUrl
		cleanups = append(cleanups, func() { q.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	}
	// The secrets the dispatch and callbacks functions read at start.
	e.secretsPath = "/herald-cold-" + suffix + "/"
	ps := ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(motoURL) })
	pub, priv, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	for name, v := range map[string]string{"unsubscribe-secret": apikey.New(), "vapid-public-key": pub, "vapid-private-key": priv} {
		if _, err := ps.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(e.secretsPath + name), Value: aws.String(v), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("put parameter: %w", err)
		}
		cleanups = append(cleanups, func() {
			ps.DeleteParameter(context.WithoutCancel(ctx), &ssm.DeleteParameterInput{Name: aws.String(e.secretsPath + name)})
		})
	}
	// The sample upload's file, where events/ingest-upload.json says.
	bs := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(motoURL), true })
	if _, err := bs.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(coldBucket)}); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		closeAll()
		return nil, nil, fmt.Errorf("create bucket: %w", err)
	}
	if _, err := bs.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(coldBucket), Key: aws.String(coldUploadKey), Body: strings.NewReader(coldUploadFile)}); err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("put the sample upload: %w", err)
	}
	p, err := newAWSProxy(ddbURL, motoURL)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	cleanups = append(cleanups, p.close)
	e.proxy = p
	// The functions trust the proxy's CA beside the system's roots: the
	// bundle file with the CA added (SSL_CERT_FILE), the certificate
	// directories left as they are. Go reads those too, every file: on
	// provided.al2023 /etc/ssl/certs holds each root again in a file of
	// its own (golang/go#79018), as it does on Debian, so a cold start's
	// first TLS handshake here costs about what it costs there.
	bundle := slices.Clone(p.caPEM)
	for _, f := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt"} {
		if b, err := os.ReadFile(f); err == nil {
			bundle = append(b, bundle...)
			break
		}
	}
	e.certFile = filepath.Join(dir, "ca-bundle.crt")
	if err := os.WriteFile(e.certFile, bundle, 0o600); err != nil {
		closeAll()
		return nil, nil, err
	}
	return e, closeAll, nil
}

// coldResult is one cold start: init, then the first invocation and a
// second, warm one of the same event on the same state.
type coldResult struct {
	init    time.Duration // exec → first GET next
	cpuInit time.Duration // the process's CPU time by then
	// callsInit counts the AWS calls init made.
	callsInit   int
	first, warm coldInvocation
	trace       inittraceSum
}

// coldInvocation is one invocation: event handed over → response.
type coldInvocation struct {
	took, cpu time.Duration
	calls     int // AWS calls
	answer    string
}

// run starts bin cold once on a fresh, seeded table, hands it the event,
// then seeds the table afresh and hands it the event again: the second
// invocation does the same work warm. traceOnly runs it with
// GODEBUG=inittrace=1 up to its first next, and reads the trace.
func (e *coldEnv) run(ctx context.Context, bin string, c coldCase, event []byte, id string, traceOnly bool) (coldResult, error) {
	table := "herald-cold-" + strings.ReplaceAll(id, "_", "-") + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	seed := func() error {
		if err := dynamo.CreateTable(ctx, e.ddb, table); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
		if c.seed != nil {
			if err := c.seed(ctx, dynamo.New(e.ddb, table)); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
		}
		return nil
	}
	drop := func() error {
		_, err := e.ddb.DeleteTable(context.WithoutCancel(ctx), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		return err
	}
	if !traceOnly {
		if err := seed(); err != nil {
			return coldResult{}, err
		}
		defer drop()
	}
	rt, err := newRuntimeAPI(c.fn)
	if err != nil {
		return coldResult{}, err
	}
	defer rt.close()

	name := "herald-bench-" + c.fn
	cmd := exec.Command(bin)
	cmd.Dir = e.dir
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin", "LANG=en_US.UTF-8", "TZ=:UTC",
		"LAMBDA_TASK_ROOT=" + e.dir, "LAMBDA_RUNTIME_DIR=/var/runtime", "_HANDLER=bootstrap",
		"AWS_LAMBDA_RUNTIME_API=" + rt.addr,
		"AWS_LAMBDA_FUNCTION_NAME=" + name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(c.memory), "AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + name, "AWS_LAMBDA_LOG_STREAM_NAME=2026/11/21/[$LATEST]0123456789abcdef",
		"AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + coldAccessKey, "AWS_SECRET_ACCESS_KEY=" + coldSecretKey, "AWS_SESSION_TOKEN=herald-bench-token",
		"AWS_XRAY_CONTEXT_MISSING=LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS=169.254.79.129:2000",
		// AWS through the proxy, which the functions trust.
		"HTTPS_PROXY=http://" + e.proxy.addr, "SSL_CERT_FILE=" + e.certFile,
		// The template's Globals.
		"HERALD_STAGE=bench", "HERALD_METRICS_NAMESPACE=Herald/herald-bench", "HERALD_TABLE=" + table,
		"HERALD_DISPATCH_QUEUE_URL=" + e.dispatchQueue, "HERALD_AUDIENCE_QUEUE_URL=" + e.audienceQueue,
		"HERALD_UPLOADS_BUCKET=" + coldBucket, "HERALD_LOG_LEVEL=info", "HERALD_SECRETS_PATH=" + e.secretsPath, "HERALD_VAPID_PUBLIC_KEY=",
	}
	cmd.Env = append(cmd.Env, c.env...)
	if traceOnly {
		cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
	}
	var stdout, stderr coldTail
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	e.proxy.reset()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return coldResult{}, err
	}
	rt.pid.Store(int64(cmd.Process.Pid))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	failed := func(what string) error {
		return fmt.Errorf("%s\nstderr: %s\nstdout: %s", what, stderr.String(), stdout.String())
	}
	select {
	case <-rt.inited:
	case err := <-rt.initError:
		return coldResult{}, failed("init error reported: " + string(err))
	case err := <-exited:
		exited <- err
		return coldResult{}, failed(fmt.Sprintf("exited before asking for an event: %v", err))
	case <-time.After(10 * time.Second):
		return coldResult{}, failed("no GET /runtime/invocation/next after 10 s")
	case <-ctx.Done():
		return coldResult{}, ctx.Err()
	}
	r := coldResult{init: rt.initAt.Sub(start), cpuInit: rt.initCPU}
	r.callsInit = e.proxy.count(start, rt.initAt)
	if traceOnly {
		cmd.Process.Kill()
		exited <- <-exited
		r.trace = parseInittrace(stderr.String())
		return r, nil
	}
	invoke := func(n int) (coldInvocation, error) {
		inv := rt.invoke(fmt.Sprintf("%s-%d", runtimeRequestID, n), event)
		select {
		case <-inv.done:
		case err := <-exited:
			exited <- err
			return coldInvocation{}, failed(fmt.Sprintf("exited during invocation %d: %v", n, err))
		case <-time.After(30 * time.Second):
			return coldInvocation{}, failed(fmt.Sprintf("no answer to invocation %d after 30 s", n))
		case <-ctx.Done():
			return coldInvocation{}, ctx.Err()
		}
		return coldInvocation{took: inv.doneAt.Sub(inv.handedAt), cpu: inv.doneCPU - inv.handedCPU,
			calls: e.proxy.count(inv.handedAt, inv.doneAt), answer: coldSummarize(inv.errored, inv.body)}, nil
	}
	if r.first, err = invoke(1); err != nil {
		return r, err
	}
	// The same work again, warm: the state the first found.
	if err := drop(); err != nil {
		return r, fmt.Errorf("drop table: %w", err)
	}
	if err := seed(); err != nil {
		return r, err
	}
	r.warm, err = invoke(2)
	return r, err
}

// summarize says what a first invocation answered: an HTTP status, the
// failed records of a batch, or the error.
func coldSummarize(errored bool, body []byte) string {
	var v struct {
		StatusCode   int                `json:"statusCode"`
		Failures     *[]json.RawMessage `json:"batchItemFailures"`
		IsAuthorized *bool              `json:"isAuthorized"`
		ErrorMessage string             `json:"errorMessage"`
		ErrorType    string             `json:"errorType"`
	}
	err := json.Unmarshal(body, &v)
	switch {
	case errored:
		return fmt.Sprintf("ERROR %s: %s", v.ErrorType, v.ErrorMessage)
	case err != nil:
		return fmt.Sprintf("%.60q", body)
	case v.StatusCode != 0:
		return fmt.Sprintf("HTTP %d", v.StatusCode)
	case v.Failures != nil:
		return fmt.Sprintf("%d failed records", len(*v.Failures))
	case v.IsAuthorized != nil:
		return fmt.Sprintf("isAuthorized %v", *v.IsAuthorized)
	}
	return fmt.Sprintf("%.60s", body)
}

// runtimeAPI is a fake of the Lambda Runtime API for one execution
// environment: each GET .../invocation/next waits for the next
// invocation the bench hands over, and the invocation's response or error
// ends it.
type runtimeAPI struct {
	fn   string
	addr string
	srv  *http.Server
	pid  atomic.Int64

	initOnce  sync.Once
	inited    chan struct{} // closed at the first next
	initAt    time.Time
	initCPU   time.Duration
	initError chan []byte
	pending   chan *runtimeInvocation
	mu        sync.Mutex
	byID      map[string]*runtimeInvocation
}

// runtimeInvocation is one event handed over, and what came back.
type runtimeInvocation struct {
	id                 string
	event              []byte
	handedAt, doneAt   time.Time
	handedCPU, doneCPU time.Duration
	errored            bool
	body               []byte
	once               sync.Once
	done               chan struct{} // closed at the response or error
}

const runtimeRequestID = "8476a536-e9f4-11e8-9739-2dfe598c3fcd"

func newRuntimeAPI(fn string) (*runtimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rt := &runtimeAPI{fn: fn, addr: ln.Addr().String(), inited: make(chan struct{}), initError: make(chan []byte, 1),
		pending: make(chan *runtimeInvocation, 1), byID: map[string]*runtimeInvocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", rt.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) { rt.finish(w, r, false) })
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) { rt.finish(w, r, true) })
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case rt.initError <- b:
		default:
		}
		w.WriteHeader(http.StatusAccepted)
	})
	rt.srv = &http.Server{Handler: mux}
	go rt.srv.Serve(ln)
	return rt, nil
}

// invoke queues an invocation for the next GET next.
func (rt *runtimeAPI) invoke(id string, event []byte) *runtimeInvocation {
	inv := &runtimeInvocation{id: id, event: event, done: make(chan struct{})}
	rt.mu.Lock()
	rt.byID[id] = inv
	rt.mu.Unlock()
	rt.pending <- inv
	return inv
}

func (rt *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	rt.initOnce.Do(func() {
		rt.initAt, rt.initCPU = now, processCPU(int(rt.pid.Load()))
		close(rt.inited)
	})
	var inv *runtimeInvocation
	select {
	case inv = <-rt.pending:
	case <-r.Context().Done(): // the process was killed
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:herald-bench-"+rt.fn)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-6b017c8d-5c0e8a7b3d2f1e4a6b9c8d7e;Parent=4d1c7e2a9b3f5e60;Sampled=0")
	h.Set("Content-Type", "application/json")
	inv.handedCPU = processCPU(int(rt.pid.Load()))
	inv.handedAt = time.Now()
	w.Write(inv.event)
}

func (rt *runtimeAPI) finish(w http.ResponseWriter, r *http.Request, errored bool) {
	b, _ := io.ReadAll(r.Body)
	now := time.Now()
	rt.mu.Lock()
	inv := rt.byID[r.PathValue("id")]
	rt.mu.Unlock()
	if inv == nil {
		http.Error(w, "unknown request id", http.StatusBadRequest)
		return
	}
	inv.once.Do(func() {
		inv.doneAt, inv.doneCPU, inv.errored, inv.body = now, processCPU(int(rt.pid.Load())), errored, b
		close(inv.done)
	})
	w.WriteHeader(http.StatusAccepted)
}

func (rt *runtimeAPI) close() { rt.srv.Close() }

// processCPU is the CPU time of every thread of process pid, to the
// nanosecond (/proc/<pid>/task/<tid>/schedstat), or 0.
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// inittraceSum adds up GODEBUG=inittrace=1's lines: the packages'
// initialisation before main.
type inittraceSum struct {
	clock  time.Duration
	bytes  int64
	allocs int64
	pkgs   []inittracePkg
}

type inittracePkg struct {
	name  string
	clock time.Duration
}

// top names the n packages whose initialisation took longest.
func (s inittraceSum) top(n int) string {
	pkgs := slices.Clone(s.pkgs)
	slices.SortFunc(pkgs, func(a, b inittracePkg) int { return int(b.clock - a.clock) })
	var out []string
	for _, p := range pkgs[:min(n, len(pkgs))] {
		out = append(out, fmt.Sprintf("%s %.2f ms", strings.TrimPrefix(p.name, "github.com/"), ms(p.clock)))
	}
	return strings.Join(out, ", ")
}

// parseInittrace reads lines such as
// "init internal/bytealg @0.008 ms, 0.004 ms clock, 0 bytes, 0 allocs".
func parseInittrace(stderr string) inittraceSum {
	var s inittraceSum
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) != 11 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		clock, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		bytes, _ := strconv.ParseInt(f[7], 10, 64)
		allocs, _ := strconv.ParseInt(f[9], 10, 64)
		d := time.Duration(clock * float64(time.Millisecond))
		s.clock += d
		s.bytes += bytes
		s.allocs += allocs
		s.pkgs = append(s.pkgs, inittracePkg{f[1], d})
	}
	return s
}

// awsProxy is the HTTPS proxy the functions reach AWS through
// (HTTPS_PROXY): it answers CONNECT, ends TLS with a certificate of its
// own CA for the host asked for, and forwards each request, its Host kept,
// to DynamoDB Local (dynamodb.*) or moto (every other service, which moto
// tells by the Host), except Bedrock, which it answers itself. It records
// every call, so that a run can say how many it made and how long the
// emulators took.
type awsProxy struct {
	addr   string
	caPEM  []byte
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	certs  sync.Map // host → *tls.Certificate
	outer  *http.Server
	inner  *http.Server
	conns  *coldConnListener
	ddb    *httputil.ReverseProxy
	moto   *httputil.ReverseProxy
	mu     sync.Mutex
	calls  []awsCall
	serial atomic.Int64
}

type awsCall struct {
	host       string
	start, end time.Time
}

func newAWSProxy(ddbURL, motoURL string) (*awsProxy, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "herald bench proxy CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	p := &awsProxy{ca: ca, caKey: key, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
	p.serial.Store(1)
	for _, b := range []struct {
		raw string
		rp  **httputil.ReverseProxy
	}{{ddbURL, &p.ddb}, {motoURL, &p.moto}} {
		u, err := url.Parse(b.raw)
		if err != nil {
			return nil, err
		}
		*b.rp = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // moto tells the service by it
		}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.conns = &coldConnListener{conns: make(chan net.Conn), closed: make(chan struct{}), addr: ln.Addr()}
	p.outer = &http.Server{Handler: http.HandlerFunc(p.connect)}
	p.inner = &http.Server{Handler: http.HandlerFunc(p.forward), TLSConfig: &tls.Config{GetCertificate: p.certificate}}
	go p.outer.Serve(ln)
	go p.inner.Serve(p.conns)
	return p, nil
}

// connect answers CONNECT host:443 and hands the tunnel, TLS ended here,
// to the inner server.
func (p *awsProxy) connect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijacking", http.StatusInternalServerError)
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	var c net.Conn = conn
	if buf.Reader.Buffered() > 0 {
		c = &coldBufferedConn{Conn: conn, r: buf.Reader}
	}
	select {
	case p.conns.conns <- tls.Server(c, p.inner.TLSConfig):
	case <-p.conns.closed:
		conn.Close()
	}
}

// certificate makes (once per host) a certificate of the proxy's CA for
// the host the client asks for.
func (p *awsProxy) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	host := hello.ServerName
	if c, ok := p.certs.Load(host); ok {
		return c.(*tls.Certificate), nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial.Add(1)), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	actual, _ := p.certs.LoadOrStore(host, c)
	return actual.(*tls.Certificate), nil
}

// forward sends a request on to its emulator and records the call.
func (p *awsProxy) forward(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	switch {
	case strings.HasPrefix(host, "dynamodb."):
		p.ddb.ServeHTTP(w, r)
	case strings.HasPrefix(host, "bedrock-runtime."):
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, bedrockAnswer)
	default:
		p.moto.ServeHTTP(w, r)
	}
	p.mu.Lock()
	p.calls = append(p.calls, awsCall{host: host, start: start, end: time.Now()})
	p.mu.Unlock()
}

// bedrockAnswer is a Converse answer calling compose's tool with three
// variants of events/compose-generate.json's push.
const bedrockAnswer = `{"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_bench","name":"submit_variants","input":{"language":"es",` +
	`"variants":[{"title":"Tu consumo, hora a hora","body":"{{name}}, ya puedes ver tu consumo por horas en la app."},` +
	`{"title":"Nuevo en la app","body":"{{name}}, consulta cuánta energía usas cada hora."},` +
	`{"title":"¿Cuándo gastas más?","body":"{{name}}, descubre tus horas de más consumo en la app."}]}}}]}},` +
	`"stopReason":"tool_use","usage":{"inputTokens":812,"outputTokens":97,"totalTokens":909},"metrics":{"latencyMs":900}}`

// reset forgets the calls recorded so far.
func (p *awsProxy) reset() {
	p.mu.Lock()
	p.calls = p.calls[:0]
	p.mu.Unlock()
}

// count counts the calls that started in [from, to].
func (p *awsProxy) count(from, to time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.calls {
		if !c.start.Before(from) && !c.start.After(to) {
			n++
		}
	}
	return n
}

func (p *awsProxy) close() {
	p.outer.Close()
	p.conns.Close()
	p.inner.Close()
}

// coldConnListener is a net.Listener of the proxy's tunnels.
type coldConnListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	addr   net.Addr
}

func (l *coldConnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *coldConnListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *coldConnListener) Addr() net.Addr { return l.addr }

// coldBufferedConn reads first what the CONNECT request's reader buffered.
type coldBufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *coldBufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// coldTail keeps the last megabytes written to it (inittrace's lines and
// the logs).
type coldTail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *coldTail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if t.buf.Len() > 4<<20 {
		t.buf.Next(t.buf.Len() - 1<<20)
	}
	return len(b), nil
}

func (t *coldTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

func coldCollect(rs []coldResult, f func(coldResult) time.Duration) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	slices.Sort(out)
	return out
}

func coldMedian(sorted []time.Duration) time.Duration { return sorted[len(sorted)/2] }

// verdict says whether d meets goal, or by how much it misses.
func coldVerdict(d, goal time.Duration) string {
	if d <= goal {
		return "ok"
	}
	return fmt.Sprintf("+%.1fms", ms(d-goal))
}
