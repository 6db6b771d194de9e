package dynamo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/storetest"
)

// endpointVar names the DynamoDB endpoint the integration tests use, e.g.
// http://127.0.0.1:8000 after infra/dynamodb-local.sh start.
const endpointVar = "HERALD_TEST_DYNAMODB_ENDPOINT"

// newClient returns a client of the test endpoint, or skips the test.
func newClient(t *testing.T, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	endpoint := os.Getenv(endpointVar)
	if endpoint == "" {
		t.Skipf("%s is not set: start DynamoDB Local with infra/dynamodb-local.sh start and set %s=http://127.0.0.1:8000", endpointVar, endpointVar)
	}
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("herald", "herald", ""),
	}, optFns...)
}

// newTable creates a fresh, uniquely named table and deletes it after the test.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	table := "herald-test-" + hex.EncodeToString(b)
	if err := CreateTable(t.Context(), client, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Logf("delete table %s: %v", table, err)
		}
	})
	return table
}

func newStore(t *testing.T) *Store {
	client := newClient(t)
	return New(client, newTable(t, client))
}

func TestStoreContract(t *testing.T) {
	newClient(t) // skip early when there is no endpoint
	storetest.Run(t, func(t *testing.T) notify.Store { return newStore(t) })
}

// Deliveries spread over 32 shards; paging must cross every shard boundary,
// with and without a status filter that leaves most pages sparse.
func TestListDeliveriesAcrossShards(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	const total = 300
	var ds []notify.Delivery
	var failed []string
	for i := range total {
		d := notify.Delivery{
			WorkspaceID: "ws", NotificationID: "n", Key: fmt.Sprintf("cust-%04d", i), UserID: fmt.Sprintf("cust-%04d", i),
			Channel: notify.ChannelSMS, Status: notify.DeliverySent, CreatedAt: at, UpdatedAt: at,
		}
		if i%37 == 0 {
			d.Status, d.Reason = notify.DeliveryFailed, notify.ReasonProviderError
			failed = append(failed, d.Key)
		}
		ds = append(ds, d)
	}
	created, err := s.RecordDeliveries(ctx, ds)
	if err != nil {
		t.Fatalf("RecordDeliveries: %v", err)
	}
	for i, c := range created {
		if !c {
			t.Fatalf("RecordDeliveries: %s not created", ds[i].Key)
		}
	}

	tests := []struct {
		name   string
		status notify.DeliveryStatus
		limit  int
		want   []string
	}{
		{"all by 7", "", 7, keysOf(ds)},
		{"all in one page", "", notify.MaxPageSize, keysOf(ds)},
		{"failed by 2", notify.DeliveryFailed, 2, failed},
		{"read: none", notify.DeliveryRead, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			p := notify.Page{Limit: tt.limit}
			for pages := 0; ; pages++ {
				page, next, err := s.ListDeliveries(ctx, "ws", "n", tt.status, p)
				if err != nil {
					t.Fatalf("ListDeliveries: %v", err)
				}
				if len(page) > tt.limit {
					t.Fatalf("ListDeliveries page of %d, want at most %d", len(page), tt.limit)
				}
				for _, d := range page {
					got = append(got, d.Key)
				}
				if next == "" {
					break
				}
				if pages > total {
					t.Fatal("ListDeliveries does not end")
				}
				p.Cursor = next
			}
			sort.Strings(got)
			if d := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("ListDeliveries(%q) keys mismatch (-want +got):\n%s", tt.status, d)
			}
		})
	}

	got, err := s.GetDeliveries(ctx, "ws", "n", keysOf(ds))
	if err != nil {
		t.Fatalf("GetDeliveries: %v", err)
	}
	if len(got) != total {
		t.Errorf("GetDeliveries of %d keys (3 batches) = %d deliveries", total, len(got))
	}
	if d := cmp.Diff(ds[37], got[ds[37].Key]); d != "" {
		t.Errorf("GetDeliveries(%s) mismatch (-want +got):\n%s", ds[37].Key, d)
	}

	if _, _, err := s.ListDeliveries(ctx, "ws", "n", "", notify.Page{Cursor: "not-a-cursor"}); !notify.IsCode(err, notify.CodeBadRequest) {
		t.Errorf("ListDeliveries with a bad cursor: err = %v, want bad_request", err)
	}
}

func keysOf(ds []notify.Delivery) []string {
	var keys []string
	for _, d := range ds {
		keys = append(keys, d.Key)
	}
	sort.Strings(keys)
	return keys
}

// ApplyCounts applies each chunk's delta once, however often it is retried.
func TestApplyCountsOncePerMarker(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	var ids notify.IDs
	at := time.Now().UTC().Truncate(time.Millisecond)
	n := notify.Notification{
		WorkspaceID: "ws", ID: ids.New(at), Channel: notify.ChannelPush, Source: notify.SourceList,
		Body: "hola", Status: notify.StatusSending, Counts: notify.Counts{Total: 300, Queued: 300},
		CreatedAt: at, UpdatedAt: at, Content: notify.Template{Body: "hola"},
	}
	if err := s.CreateNotification(ctx, n); err != nil {
		t.Fatalf("CreateNotification: %v", err)
	}
	part := func(marker string) notify.CountPart {
		return notify.CountPart{Marker: marker, Delta: notify.Counts{Queued: -100, Sent: 90, Skipped: 10}}
	}
	if _, err := s.ApplyCounts(ctx, "ws", n.ID, []notify.CountPart{part("c0"), part("c1")}); err != nil {
		t.Fatalf("ApplyCounts: %v", err)
	}
	// A redelivered batch: c1 again, with the new c2 and c2 twice.
	got, err := s.ApplyCounts(ctx, "ws", n.ID, []notify.CountPart{part("c1"), part("c2"), part("c2")})
	if err != nil {
		t.Fatalf("ApplyCounts (redelivered): %v", err)
	}
	want := notify.Counts{Total: 300, Queued: 0, Sent: 270, Skipped: 30}
	if d := cmp.Diff(want, got.Counts); d != "" {
		t.Errorf("counts after ApplyCounts mismatch (-want +got):\n%s", d)
	}
	if got, err := s.ApplyCounts(ctx, "ws", n.ID, []notify.CountPart{part("c0"), part("c1"), part("c2")}); err != nil || got.Counts != want {
		t.Errorf("ApplyCounts of applied parts = %+v, %v; want %+v", got.Counts, err, want)
	}
	if _, err := s.ApplyCounts(ctx, "ws", "missing", []notify.CountPart{part("c9")}); !notify.IsCode(err, notify.CodeNotFound) {
		t.Errorf("ApplyCounts of a missing notification: err = %v, want not_found", err)
	}
}

// A send's deliveries cost one write unit each, and counts applied once per
// queue batch keep the send path under 1.1 write units a recipient.
func TestWriteUnitsPerRecipient(t *testing.T) {
	meter := NewMeter()
	client := newClient(t, meter.Instrument)
	s := New(client, newTable(t, client))
	ctx := t.Context()
	var ids notify.IDs
	at := time.Now().UTC().Truncate(time.Millisecond)
	n := notify.Notification{
		WorkspaceID: "ws", ID: ids.New(at), Channel: notify.ChannelEmail, Source: notify.SourceFilter,
		Title: "Tu factura", Body: "Hola {{name}}, tu factura de {{month}} está lista",
		Status: notify.StatusSending, CreatedAt: at, UpdatedAt: at,
		Content: notify.Template{Body: "Hola", Email: &notify.EmailExtras{HTML: strings.Repeat("<p>factura</p>", 2500)}},
	}
	if err := s.CreateNotification(ctx, n); err != nil {
		t.Fatalf("CreateNotification: %v", err)
	}
	meter.Reset()

	const recipients, perChunk = 2000, notify.RecipientsPerMessage
	var parts []notify.CountPart
	for c := range recipients / perChunk {
		var ds []notify.Delivery
		for i := range perChunk {
			key := fmt.Sprintf("user-%06d", c*perChunk+i)
			ds = append(ds, notify.Delivery{
				WorkspaceID: "ws", NotificationID: n.ID, Key: key, UserID: key,
				Address: "sealed:" + strings.Repeat("A", 120), Channel: notify.ChannelEmail,
				Status: notify.DeliverySent, ProviderMessageID: "0102018c-aaaa-bbbb-cccc-000000000000-000000",
				Chunk: fmt.Sprintf("%s:%d", n.ID, c), CreatedAt: at, UpdatedAt: at,
			})
		}
		if _, err := s.RecordDeliveries(ctx, ds); err != nil {
			t.Fatalf("RecordDeliveries: %v", err)
		}
		// Dispatch applies the counts of one queue batch (ten chunks) at once.
		parts = append(parts, notify.CountPart{Marker: fmt.Sprintf("%s:%d", n.ID, c), Delta: notify.Counts{Sent: perChunk}})
		if len(parts) == 10 {
			if _, err := s.ApplyCounts(ctx, "ws", n.ID, parts); err != nil {
				t.Fatalf("ApplyCounts: %v", err)
			}
			parts = nil
		}
	}
	total := meter.Total()
	t.Logf("send of %d recipients:\n%s", recipients, meter)
	if total.WriteUnits == 0 {
		t.Skip("the endpoint reports no consumed capacity")
	}
	if perRecipient := total.WriteUnits / recipients; perRecipient > 1.1 {
		t.Errorf("send path: %.3f write units a recipient, want at most 1.1", perRecipient)
	}
	if puts := meter.Stats()["PutItem"]; puts.WriteUnits != recipients {
		t.Errorf("RecordDeliveries: %.1f write units for %d deliveries, want one each", puts.WriteUnits, recipients)
	}
}

// A counter update rewrites the small counts item only, never the
// notification item or its history-index copy: it costs the same write units
// whether the body is 10 characters or 10,000 "é" (20,000 bytes of UTF-8).
// A status change, which does rewrite the notification item, shows that the
// meter sees the difference.
func TestCounterUpdateCostIndependentOfBody(t *testing.T) {
	meter := NewMeter()
	client := newClient(t, meter.Instrument)
	s := New(client, newTable(t, client))
	ctx := t.Context()
	var ids notify.IDs

	type cost struct{ add, apply, status OpStats }
	tests := []struct {
		name string
		body string
	}{
		{"body of 10 characters", "Hola, Ana."},
		{"body of 10,000 é", strings.Repeat("é", 10000)}, // the longest body the API takes,
	}
	costs := make([]cost, len(tests))
	for i, tt := range tests {
		at := time.Now().UTC().Truncate(time.Millisecond)
		n := notify.Notification{
			WorkspaceID: "ws", ID: ids.New(at), Channel: notify.ChannelPush, Source: notify.SourceList,
			Title: "Aviso", Body: tt.body, Variables: map[string]string{"name": "Ana"},
			Status: notify.StatusSending, Counts: notify.Counts{Total: 200, Queued: 200},
			CreatedAt: at, UpdatedAt: at, Content: notify.Template{Title: "Aviso", Body: tt.body},
		}
		if err := s.CreateNotification(ctx, n); err != nil {
			t.Fatalf("CreateNotification(%s): %v", tt.name, err)
		}
		delta := notify.Counts{Queued: -100, Sent: 100}

		meter.Reset()
		if _, err := s.AddNotificationCounts(ctx, "ws", n.ID, delta); err != nil {
			t.Fatalf("AddNotificationCounts(%s): %v", tt.name, err)
		}
		costs[i].add = meter.Stats()["UpdateItem"]

		// A queue batch of one chunk: the costliest ApplyCounts per recipient.
		meter.Reset()
		got, err := s.ApplyCounts(ctx, "ws", n.ID, []notify.CountPart{{Marker: n.ID + ":0", Delta: delta}})
		if err != nil {
			t.Fatalf("ApplyCounts(%s): %v", tt.name, err)
		}
		costs[i].apply = meter.Stats()["TransactWriteItems"]
		if want := (notify.Counts{Total: 200, Sent: 200}); got.Counts != want || got.Body != tt.body {
			t.Errorf("ApplyCounts(%s) = counts %+v, body of %d bytes; want %+v, %d bytes", tt.name, got.Counts, len(got.Body), want, len(tt.body))
		}

		meter.Reset()
		if _, err := s.SetNotificationStatus(ctx, "ws", n.ID, notify.StatusCompleted); err != nil {
			t.Fatalf("SetNotificationStatus(%s): %v", tt.name, err)
		}
		costs[i].status = meter.Stats()["UpdateItem"]
		t.Logf("%s: AddNotificationCounts %.1f WCU (index %.1f), ApplyCounts of one chunk %.1f WCU (index %.1f), SetNotificationStatus %.1f WCU (index %.1f)",
			tt.name, costs[i].add.WriteUnits, costs[i].add.IndexUnits, costs[i].apply.WriteUnits, costs[i].apply.IndexUnits,
			costs[i].status.WriteUnits, costs[i].status.IndexUnits)
	}
	if costs[0].add.WriteUnits == 0 {
		t.Skip("the endpoint reports no consumed capacity")
	}

	small, large := costs[0], costs[len(costs)-1]
	if large.status.WriteUnits <= 4*small.status.WriteUnits {
		t.Errorf("SetNotificationStatus: %.1f WCU with the large body, %.1f with the small; want the meter to see the size", large.status.WriteUnits, small.status.WriteUnits)
	}
	for i, c := range costs {
		name := tests[i].name
		if c.add.WriteUnits != 1 || c.add.IndexUnits != 0 {
			t.Errorf("AddNotificationCounts (%s) = %.1f WCU, %.1f on the index; want 1, 0", name, c.add.WriteUnits, c.add.IndexUnits)
		}
		// A marker and the counts item, 1 unit each; AWS doubles both in a
		// transaction (4), DynamoDB Local does not (2).
		if c.apply.WriteUnits > 4 || c.apply.IndexUnits != 0 {
			t.Errorf("ApplyCounts (%s) = %.1f WCU, %.1f on the index; want at most 4, 0", name, c.apply.WriteUnits, c.apply.IndexUnits)
		}
		if c.add.WriteUnits != small.add.WriteUnits || c.apply.WriteUnits != small.apply.WriteUnits {
			t.Errorf("counter updates (%s) = %.1f + %.1f WCU, want the same as with %s: %.1f + %.1f",
				name, c.add.WriteUnits, c.apply.WriteUnits, tests[0].name, small.add.WriteUnits, small.apply.WriteUnits)
		}
	}
}

// A search reads the term index of one word and the notifications it lists:
// never the history, however many other notifications there are.
func TestSearchReadsTheTermIndexOnly(t *testing.T) {
	meter := NewMeter()
	client := newClient(t, meter.Instrument)
	s := New(client, newTable(t, client))
	ctx := t.Context()
	var ids notify.IDs
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	for i := range 200 {
		at := base.Add(time.Duration(i) * time.Minute)
		n := notify.Notification{
			WorkspaceID: "ws", ID: ids.New(at), Channel: notify.ChannelPush, Source: notify.SourceSingle,
			Title: "Aviso", Body: fmt.Sprintf("Mensaje número %d", i), Status: notify.StatusCompleted,
			CreatedAt: at, UpdatedAt: at, Content: notify.Template{Body: "x"},
		}
		if i%50 == 7 {
			n.Body = "Descuento en baterías " + n.Body
			want = append([]string{n.ID}, want...)
		}
		if err := s.CreateNotification(ctx, n); err != nil {
			t.Fatalf("CreateNotification: %v", err)
		}
	}
	meter.Reset()
	page, next, err := s.ListNotifications(ctx, "ws", notify.NotificationQuery{Q: "BATERIAS descuento"}, notify.Page{Limit: 10})
	if err != nil {
		t.Fatalf("ListNotifications: %v", err)
	}
	var got []string
	for _, n := range page {
		got = append(got, n.ID)
	}
	if d := cmp.Diff(want, got); d != "" || next != "" {
		t.Errorf("search ids mismatch (-want +got):\n%s; next = %q", d, next)
	}
	stats := meter.Stats()
	if q := stats["Query"].Calls; q != 1 {
		t.Errorf("search made %d queries, want 1 (the term index)", q)
	}
	if _, scanned := stats["Scan"]; scanned {
		t.Error("search scanned the table")
	}
	t.Logf("search of 200 notifications:\n%s", meter)

	// Both date bounds with a cursor, one item a page, with and without words.
	from, to := base.Add(7*time.Minute), base.Add(157*time.Minute) // matches 7, 57 and 107; 157 is excluded
	for _, q := range []notify.NotificationQuery{{Q: "descuento", From: from, To: to}, {From: from, To: from.Add(3 * time.Minute)}} {
		var got []string
		p := notify.Page{Limit: 1}
		for pages := 0; ; pages++ {
			page, next, err := s.ListNotifications(ctx, "ws", q, p)
			if err != nil {
				t.Fatalf("ListNotifications(%+v): %v", q, err)
			}
			for _, n := range page {
				got = append(got, n.ID)
			}
			if next == "" {
				break
			}
			if pages > 10 {
				t.Fatalf("ListNotifications(%+v) does not end", q)
			}
			p.Cursor = next
		}
		if len(got) != 3 {
			t.Errorf("ListNotifications(%+v) by 1 = %d notifications, want 3", q, len(got))
		}
	}
}
