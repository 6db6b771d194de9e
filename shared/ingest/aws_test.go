package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/s3blob"
	"github.com/heraldhq/herald/shared/spreadsheet"
)

// TestIngestOnTheAWSAdapters runs an upload through the production
// adapters on the emulators: the file in S3 (moto), the upload and the
// notification in DynamoDB (DynamoDB Local), the chunks on SQS (moto).
func TestIngestOnTheAWSAdapters(t *testing.T) {
	ddbURL, sqsURL, s3URL := os.Getenv("HERALD_TEST_DYNAMODB_ENDPOINT"), os.Getenv("HERALD_TEST_SQS_ENDPOINT"), os.Getenv("HERALD_TEST_S3_ENDPOINT")
	if ddbURL == "" || sqsURL == "" || s3URL == "" {
		t.Skip("set HERALD_TEST_DYNAMODB_ENDPOINT, HERALD_TEST_SQS_ENDPOINT and HERALD_TEST_S3_ENDPOINT (make test does)")
	}
	ctx := t.Context()
	env, closeEnv, err := harness.NewAWS(ctx, ddbURL, sqsURL, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeEnv)
	client := s3.NewFromConfig(env.Config, func(o *s3.Options) { o.BaseEndpoint = aws.String(s3URL); o.UsePathStyle = true })
	bucket := fmt.Sprintf("herald-ingest-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	blobs, err := s3blob.New(env.Config, bucket, s3blob.Options{Endpoint: s3URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	store := env.Store
	tpl := notify.Template{WorkspaceID: ws, ID: "tpl_offer", Name: "Offer", Channel: notify.ChannelSMS,
		Body: "Hola {{name}}: {{offer}}", Variables: []string{"name", "offer"}, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := store.SaveTemplate(ctx, tpl); err != nil {
		t.Fatal(err)
	}
	ids := &notify.IDs{}
	id := ids.New(now)
	up := notify.Upload{WorkspaceID: ws, ID: id, Purpose: notify.UploadPurposeSend, TemplateID: tpl.ID, Channel: notify.ChannelSMS,
		Filename: "list.csv", Status: notify.UploadWaiting, ObjectKey: ObjectKey(ws, id), CreatedBy: "test",
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := store.CreateUpload(ctx, up); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("phone;name;offer\n")
	const rows = 1050
	for i := range rows {
		phone := fmt.Sprintf("6%08d", i)
		if i == 7 {
			phone = "bad"
		}
		fmt.Fprintf(&b, "%s;Cliente %d;%d%%\n", phone, i, i%30)
	}
	if _, err := blobs.Put(ctx, up.ObjectKey, strings.NewReader(b.String()), int64(b.Len())); err != nil {
		t.Fatal(err)
	}

	g := &Ingester{Store: store, Blobs: blobs, Dispatch: env.Queue, IDs: ids, Config: Config{DefaultRegion: "ES", TempDir: t.TempDir()}}
	if err := g.Ingest(ctx, up.ObjectKey); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetUpload(ctx, ws, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != notify.UploadQueued || got.Rows != (notify.UploadRows{Total: rows, Valid: rows - 1, Invalid: 1}) || len(got.Errors) != 1 || got.Errors[0].Row != 9 {
		t.Fatalf("upload = %+v", got)
	}
	n, err := store.GetNotification(ctx, ws, got.NotificationID)
	if err != nil || n.Source != notify.SourceSpreadsheet || n.Audience.UploadID != id || n.Counts.Queued != rows-1 || n.Content.Body != tpl.Body {
		t.Fatalf("notification = %+v, %v", n, err)
	}

	// Every valid row is on the queue once, in chunks of 100.
	seen := map[string]bool{}
	chunks := 0
	for deadline := time.Now().Add(20 * time.Second); len(seen) < rows-1 && time.Now().Before(deadline); {
		msgs, err := env.Queue.Receive(ctx, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			var dm notify.DispatchMessage
			if err := json.Unmarshal(m.Body, &dm); err != nil {
				t.Fatal(err)
			}
			chunks++
			for _, r := range dm.Recipients {
				if seen[r.Address] || r.Variables["name"] == "" {
					t.Errorf("recipient %+v twice or without variables", r)
				}
				seen[r.Address] = true
			}
			if err := env.Queue.Delete(ctx, m.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != rows-1 || chunks != 11 || !seen["+34600001049"] {
		t.Errorf("%d recipients in %d chunks, want %d in 11", len(seen), chunks, rows-1)
	}

	// The report joins the file in S3 with the deliveries in DynamoDB.
	if _, err := store.RecordDeliveries(ctx, []notify.Delivery{{WorkspaceID: ws, NotificationID: n.ID, Key: "addr#+34600000000",
		Address: "+34600000000", Channel: notify.ChannelSMS, Status: notify.DeliverySent, ProviderMessageID: "sns-1",
		Chunk: n.ID + ":0", CreatedAt: now, UpdatedAt: now}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := (&Reporter{Store: store, Blobs: blobs, Config: g.Config}).Report(ctx, &out, spreadsheet.CSV, n); err != nil {
		t.Fatal(err)
	}
	sheet := readSheet(t, out.Bytes())
	if len(sheet) != rows+1 || sheet[1][3] != "sent" || sheet[1][5] != "sns-1" || sheet[8][3] != "invalid" || sheet[9][3] != "queued" {
		t.Errorf("report has %d rows; rows 1, 8, 9: %q %q %q", len(sheet), sheet[1], sheet[8], sheet[9])
	}
}
