package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/apikey"
	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/config"
	"github.com/heraldhq/herald/shared/dispatch"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/seal"
	"github.com/heraldhq/herald/shared/sqsqueue"
	"github.com/heraldhq/herald/shared/wiring"
	wiringapi "github.com/heraldhq/herald/shared/wiring/api"
)

// accountStore is what benchWorkspace needs of a store.
type accountStore interface {
	CreateWorkspace(ctx context.Context, w notify.Workspace) error
	CreateAPIKey(ctx context.Context, k notify.APIKey) error
}

// benchWorkspace creates the workspace ws and an admin API key of it, and
// returns the key's secret.
func benchWorkspace(ctx context.Context, store accountStore, ws string) (string, error) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if err := store.CreateWorkspace(ctx, notify.Workspace{ID: ws, Name: "bench", CreatedAt: now}); err != nil {
		return "", fmt.Errorf("create workspace: %w", err)
	}
	secret := apikey.New()
	if err := store.CreateAPIKey(ctx, notify.APIKey{ID: "key_bench", WorkspaceID: ws, Name: "bench", Scopes: []notify.Scope{notify.ScopeAdmin}, Hash: apikey.Hash(secret), CreatedAt: now}); err != nil {
		return "", fmt.Errorf("create api key: %w", err)
	}
	return secret, nil
}

// benchAWS runs one list send through the AWS adapters against the
// emulators and counts the SDK calls: the API call and the dispatch of every
// recipient, with the sandbox sender.
func benchAWS(ctx context.Context, users int) error {
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
	store, queue, ddb, ddbMeter, sqsMeter := env.Store, env.Queue, env.DDB, env.DDBMeter, env.SQSMeter
	table := env.Table

	now := time.Now().UTC().Truncate(time.Millisecond)
	secret, err := benchWorkspace(ctx, store, "ws_bench")
	if err != nil {
		return err
	}
	t0 := time.Now()
	sem := make(chan struct{}, 16)
	errs := make(chan error, users)
	for i := 0; i < users; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			id := harness.UserID(i)
			_, err := store.PutUser(ctx, notify.User{WorkspaceID: "ws_bench", ID: id, Name: id, Email: id + "@example.com", PushPermission: notify.PermissionAsk, SealKey: seal.NewKey(), CreatedAt: now, UpdatedAt: now})
			errs <- err
		}()
	}
	for i := 0; i < users; i++ {
		if err := <-errs; err != nil {
			return fmt.Errorf("seed user: %w", err)
		}
	}
	fmt.Printf("seeded %d users on DynamoDB Local in %.1f s\n", users, time.Since(t0).Seconds())
	ddbMeter.Reset()
	sqsMeter.Reset()

	// The API call, in process, on the AWS adapters.
	log := slog.New(slog.DiscardHandler)
	srv := httptest.NewServer(wiringapi.API(&wiringapi.Set{Graph: wiring.New(config.Config{}, wiring.Ports{Store: store, Dispatch: queue}, log)}))
	defer srv.Close()
	p := &harness.Proc{Base: srv.URL, Key: secret}
	t1 := time.Now()
	ids, err := p.SendLists(ctx, users)
	if err != nil {
		return err
	}
	apiSQS, apiDDB := sqsMeter.Counts(), ddbMeter.Total()
	fmt.Printf("API: %d recipients accepted in %.2f s\n", users, time.Since(t1).Seconds())

	// Dispatch, as the SQS event source would drive it: batches of 10.
	sb := channel.NewSandbox(log)
	d := dispatch.New(store, dispatch.Senders{Push: sb, WebPush: sb, SMS: sb, Email: sb, WhatsApp: sb}, dispatch.Options{Log: log})
	consumerMeter := &sqsqueue.Meter{}
	consumer := sqsqueue.New(sqs.NewFromConfig(env.Config, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) }, consumerMeter.Register), env.QueueURL)
	t2 := time.Now()
	for {
		_, _, all, err := p.Progress(ctx, ids)
		if err != nil {
			return err
		}
		finished := true
		for _, n := range all {
			finished = finished && n.Status == "completed"
		}
		if finished {
			break
		}
		msgs, err := consumer.Receive(ctx, 10, time.Second)
		if err != nil {
			return err
		}
		in := make([]dispatch.Message, len(msgs))
		for i, m := range msgs {
			in[i] = dispatch.Message{ID: m.ID, Body: m.Body}
		}
		var done []string
		for i, err := range d.Handle(ctx, in) {
			if err != nil {
				return fmt.Errorf("dispatch: %w", err)
			}
			done = append(done, msgs[i].Receipt)
		}
		if err := consumer.DeleteBatch(ctx, done); err != nil {
			return err
		}
	}
	fmt.Printf("dispatch: %d recipients in %.2f s on the emulators\n", users, time.Since(t2).Seconds())

	var sends int64
	for op, c := range apiSQS {
		if strings.HasPrefix(op, "SendMessage") {
			sends += c
		}
	}
	per1000 := func(v float64) float64 { return v * 1000 / float64(users) }
	fmt.Printf("SQS requests to enqueue: %d for %d recipients = %.1f per 1,000 recipients (target ≤ 10)\n", sends, users, per1000(float64(sends)))
	fmt.Printf("SQS requests of the consumer loop (made by the Lambda event source on AWS, not by Herald): %v\n", consumerMeter.Counts())
	total := ddbMeter.Total()
	fmt.Printf("DynamoDB on the send path (API + dispatch):\n%s", ddbMeter)
	fmt.Printf("write units per recipient: %.3f as DynamoDB Local reports them (target ≤ 1.1); of which the API call: %.3f\n",
		total.WriteUnits/float64(users), apiDDB.WriteUnits/float64(users))
	fmt.Println("  (Local charges a transaction about twice its largest item, AWS twice every item: shared/dynamo/DESIGN.md has the AWS arithmetic)")

	// How the delivery writes spread over partition keys.
	perKey := map[string]int{}
	pager := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table), ProjectionExpression: aws.String("pk")})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if pk, ok := it["pk"].(*ddbtypes.AttributeValueMemberS); ok && strings.Contains(pk.Value, "#D#") {
				perKey[pk.Value]++
			}
		}
	}
	counts := make([]int, 0, len(perKey))
	for _, c := range perKey {
		counts = append(counts, c)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	if len(counts) > 0 {
		share := float64(counts[0]) / float64(users)
		fmt.Printf("deliveries spread over %d partition keys; the busiest holds %.1f%%: a 1,000,000-recipient send at 10,000/s puts %.0f writes/s on it (DynamoDB's limit is 1,000 per key)\n",
			len(counts), 100*share, 10000*share)
	}
	return nil
}
