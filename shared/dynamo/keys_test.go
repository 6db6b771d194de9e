package dynamo

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

func TestKeys(t *testing.T) {
	created := time.Date(2026, 11, 21, 10, 30, 0, 5, time.UTC)
	window := time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC) // Unix 1795257000
	tests := []struct {
		name string
		got  [2]string
		want [2]string
	}{
		{"workspace", pair(workspaceKey("ws1")), [2]string{"WS#ws1", "WS"}},
		{"api key by hash", pair(apiKeyByHashKey("abc123")), [2]string{"KEY#abc123", "KEY"}},
		{"api key by id", pair(apiKeyByIDKey("ws1", "01K")), [2]string{"WS#ws1", "KEY#01K"}},
		{"user", pair(userKey("ws1", "cust-1")), [2]string{"WS#ws1#U#cust-1", "U"}},
		{"user index", pair(userIndexKey("ws1", "cust-1")), [2]string{fmt.Sprintf("WS#ws1#USERS#%02d", shardOf("cust-1", userShards)), "cust-1"}},
		{"template", pair(templateKey("ws1", "t1")), [2]string{"WS#ws1#T#t1", "T"}},
		{"template version", pair(templateVersionKey("ws1", "t1", 12)), [2]string{"WS#ws1#T#t1", "V#0000000012"}},
		{"template index", pair(templateIndexKey("ws1", "t1", created)), [2]string{"WS#ws1#T", "2026-11-21T10:30:00.000000005Z#t1"}},
		{"notification", pair(notificationKey("ws1", "01N")), [2]string{"WS#ws1#N#01N", "N"}},
		{"notification content", pair(notificationContentKey("ws1", "01N")), [2]string{"WS#ws1#N#01N", "CONTENT"}},
		{"notification counts", pair(notificationCountsKey("ws1", "01N")), [2]string{"WS#ws1#N#01N", "COUNTS"}},
		{"history index", pair(historyIndexKey("ws1", "01N")), [2]string{"WS#ws1#N", "01N"}},
		{"term", pair(termKey("ws1", "energia", "01N")), [2]string{"WS#ws1#TERM#energia", "01N"}},
		{"delivery", pair(deliveryKey("ws1", "01N", "cust-1")), [2]string{fmt.Sprintf("WS#ws1#N#01N#D#%02d", shardOf("cust-1", deliveryShards)), "cust-1"}},
		{"delivery to an address", pair(deliveryKey("ws1", "01N", "addr#+34600000001")), [2]string{fmt.Sprintf("WS#ws1#N#01N#D#%02d", shardOf("addr#+34600000001", deliveryShards)), "addr#+34600000001"}},
		{"count marker", pair(countMarkerKey("ws1", "01N", "01N:7")), [2]string{"WS#ws1#N#01N#C", "01N:7"}},
		{"idempotency", pair(idempotencyKey("ws1", "k-1")), [2]string{"WS#ws1#IDEM#k-1", "IDEM"}},
		{"upload", pair(uploadKey("ws1", "01U")), [2]string{"WS#ws1", "UPLOAD#01U"}},
		{"campaign", pair(campaignKey("ws1", "01C")), [2]string{"WS#ws1", "CAMPAIGN#01C"}},
		{"campaign kind index", pair(campaignKindIndexKey("ws1", "send", "01C")), [2]string{"WS#ws1#CAMPAIGNS#send", "01C"}},
		{"campaign run", pair(runKey("ws1", "01C", window)), [2]string{"WS#ws1#CAMPAIGN#01C", "RUN#2026-11-21T10:30:00.000Z"}},
		{"campaign run, another zone, milliseconds", pair(runKey("ws1", "01C", window.In(time.FixedZone("CET", 3600)).Add(7*time.Millisecond))), [2]string{"WS#ws1#CAMPAIGN#01C", "RUN#2026-11-21T10:30:00.007Z"}},
		{"campaign run, below the millisecond", pair(runKey("ws1", "01C", window.Add(999*time.Microsecond))), [2]string{"WS#ws1#CAMPAIGN#01C", "RUN#2026-11-21T10:30:00.000Z"}},
		{"compose settings", pair(composeSettingsKey("ws1")), [2]string{"WS#ws1", "COMPOSE"}},
		{"console settings", pair(consoleSettingsKey("ws1")), [2]string{"WS#ws1", "CONSOLE"}},
		{"compose usage", pair(composeUsageKey("ws1", "2026-11-21", "gpt-4o-mini")), [2]string{"WS#ws1", "COMPOSEUSAGE#2026-11-21#gpt-4o-mini"}},
		{"compose usage of a model with #", pair(composeUsageKey("ws1", "2026-11-21", "org#m:1")), [2]string{"WS#ws1", "COMPOSEUSAGE#2026-11-21#org#m:1"}},
		{"compose usage range, low", pair(composeUsageRangeLow("ws1", "2026-11-01", "2026-11-30")), [2]string{"WS#ws1", "COMPOSEUSAGE#2026-11-01#"}},
		{"compose usage range, high", pair(composeUsageRangeHigh("ws1", "2026-11-01", "2026-11-30")), [2]string{"WS#ws1", "COMPOSEUSAGE#2026-11-30$"}},
		{"rate", pair(rateKey("ws1", "compose", window)), [2]string{"WS#ws1", "RATE#compose#1795257000"}},
		{"rate, window in another zone and mid-second", pair(rateKey("ws1", "compose", window.In(time.FixedZone("CET", 3600)).Add(999*time.Millisecond))), [2]string{"WS#ws1", "RATE#compose#1795257000"}},
		{"rate of a name with #", pair(rateKey("ws1", "compose#1", window)), [2]string{"WS#ws1", "RATE#compose#1#1795257000"}},
		{"operator", pair(operatorKey("ws1", "01O")), [2]string{"WS#ws1", "OP#01O"}},
		{"operator email", pair(operatorEmailKey("ana@example.com")), [2]string{"OPEMAIL#ana@example.com", "OPEMAIL"}},
		{"operator email with #", pair(operatorEmailKey("a#b@example.com")), [2]string{"OPEMAIL#a#b@example.com", "OPEMAIL"}},
		{"session", pair(sessionKey("5f1c")), [2]string{"SESSION#5f1c", "SESSION"}},
		{"operator's session", pair(operatorSessionKey("ws1", "01O", "5f1c")), [2]string{"WS#ws1#OP#01O", "SESSION#5f1c"}},
		{"one-time link", pair(operatorTokenKey("9a2b")), [2]string{"OPTOKEN#9a2b", "OPTOKEN"}},
		{"audit entry", pair(auditKey("ws1", "01A")), [2]string{"WS#ws1#AUDIT", "01A"}},
		{"inbox state", pair(inboxStateKey("ws1", "cust-1")), [2]string{"WS#ws1#INBOX#cust-1", "STATE"}},
		{"inbox message", pair(inboxMessageKey("ws1", "cust-1", "01M")), [2]string{"WS#ws1#INBOX#cust-1", "M#01M"}},
		{"inbox note", pair(inboxNoteKey("ws1", "cust-1", "01N")), [2]string{"WS#ws1#INBOX#cust-1", "N#01N"}},
		{"inbox range", pair(inboxMessageRange(time.UnixMilli(0))), [2]string{"M#0000000000", "M#~"}},
		{"inbox unread day", [2]string{inboxUnreadAttr(created.In(time.FixedZone("X", -12*3600))), ""}, [2]string{"unread20261121", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("key = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func pair(pk, sk string) [2]string { return [2]string{pk, sk} }

// The TTL of a session or link never falls before its exact expiry: a
// fraction of a second rounds up.
func TestTTLSeconds(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC) // Unix 1795257000
	tests := []struct {
		name string
		t    time.Time
		want int64
	}{
		{"on the second", at, 1795257000},
		{"a millisecond past", at.Add(time.Millisecond), 1795257001},
		{"a nanosecond short of the next", at.Add(time.Second - time.Nanosecond), 1795257001},
		{"another zone", at.In(time.FixedZone("CET", 3600)), 1795257000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ttlSeconds(tt.t); got != tt.want {
				t.Errorf("ttlSeconds(%v) = %d, want %d", tt.t, got, tt.want)
			}
		})
	}
}

func composeUsageRangeLow(ws, from, to string) (pk, sk string) {
	pk, lo, _ := composeUsageRange(ws, from, to)
	return pk, lo
}

func composeUsageRangeHigh(ws, from, to string) (pk, sk string) {
	pk, _, hi := composeUsageRange(ws, from, to)
	return pk, hi
}

// The range of days from..to must hold the usage of every model of those
// days, and nothing of the days around them, whatever the model id.
func TestComposeUsageRange(t *testing.T) {
	const from, to = "2026-11-19", "2026-11-22"
	pk, lo, hi := composeUsageRange("ws1", from, to)
	tests := []struct {
		day, model string
		want       bool
	}{
		{from, "", true},
		{from, "anthropic.claude-3-5-haiku-20241022-v1:0", true},
		{"2026-11-20", "gpt-4o-mini", true},
		{to, "", true},
		{to, "org#model", true},
		{to, "\U0010ffff", true},
		{"2026-11-18", "\U0010ffff", false},
		{"2026-11-23", "", false},
		{"2026-11-23", "!", false},
	}
	for _, tt := range tests {
		gotPK, sk := composeUsageKey("ws1", tt.day, tt.model)
		if gotPK != pk {
			t.Errorf("composeUsageKey(%s, %q) pk = %q, want the range's %q", tt.day, tt.model, gotPK, pk)
		}
		if got := lo <= sk && sk <= hi; got != tt.want {
			t.Errorf("%q BETWEEN %q AND %q = %t, want %t", sk, lo, hi, got, tt.want)
		}
	}
}

func TestRateExpiresAt(t *testing.T) {
	window := time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		window time.Time
		want   int64
	}{
		{"an hour after the window starts", window, window.Add(time.Hour).Unix()},
		{"any zone", window.In(time.FixedZone("CET", 3600)), 1795257000 + 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rateExpiresAt(tt.window); got != tt.want {
				t.Errorf("rateExpiresAt(%v) = %d, want %d", tt.window, got, tt.want)
			}
		})
	}
}

// A rate counter carries the table's TTL attribute, so DynamoDB deletes old
// windows; without it they would stay forever.
func TestRateCounterExpires(t *testing.T) {
	s := newStore(t)
	window := time.Now().UTC().Truncate(time.Minute)
	for range 2 {
		if ok, err := s.TakeRate(t.Context(), "ws1", "compose", window, 5); err != nil || !ok {
			t.Fatalf("TakeRate = %t, %v; want true, nil", ok, err)
		}
	}
	pk, sk := rateKey("ws1", "compose", window)
	res, err := s.db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	var got struct {
		N         int64 `dynamodbav:"n"`
		ExpiresAt int64 `dynamodbav:"expiresAt"`
	}
	if err := attributevalue.UnmarshalMap(res.Item, &got); err != nil {
		t.Fatalf("decode rate counter %v: %v", res.Item, err)
	}
	if got.N != 2 || got.ExpiresAt != window.Add(time.Hour).Unix() {
		t.Errorf("rate counter = n %d, %s %d; want n 2, %s %d", got.N, attrExpiresAt, got.ExpiresAt, attrExpiresAt, window.Add(time.Hour).Unix())
	}
}

// A finished run carries the table's TTL attribute, so a frequent
// campaign's history does not grow for ever; a running one does not (it
// is the dedupe of a run in progress).
func TestFinishedRunsExpire(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)
	expiresAt := func(r notify.CampaignRun) int64 {
		t.Helper()
		pk, sk := runKey(r.WorkspaceID, r.CampaignID, r.ScheduledAt)
		res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("GetItem: %v", err)
		}
		var got struct {
			ExpiresAt int64 `dynamodbav:"expiresAt"`
		}
		if err := attributevalue.UnmarshalMap(res.Item, &got); err != nil {
			t.Fatalf("decode run %v: %v", res.Item, err)
		}
		return got.ExpiresAt
	}
	running := notify.CampaignRun{WorkspaceID: "ws1", CampaignID: "01C", ScheduledAt: at, Status: notify.RunRunning, StartedAt: at}
	if _, _, err := s.StartRun(ctx, running); err != nil {
		t.Fatal(err)
	}
	if got := expiresAt(running); got != 0 {
		t.Errorf("running run expiresAt = %d, want none", got)
	}
	fin := at.Add(time.Minute)
	running.Status, running.FinishedAt = notify.RunSucceeded, &fin
	if err := s.FinishRun(ctx, running); err != nil {
		t.Fatal(err)
	}
	if got, want := expiresAt(running), fin.Add(RunRetention).Unix(); got != want {
		t.Errorf("finished run expiresAt = %d, want %d", got, want)
	}
	missed := notify.CampaignRun{WorkspaceID: "ws1", CampaignID: "01C", ScheduledAt: at.Add(time.Hour), Status: notify.RunMissed, StartedAt: fin, FinishedAt: &fin}
	if _, _, err := s.StartRun(ctx, missed); err != nil {
		t.Fatal(err)
	}
	if got, want := expiresAt(missed), fin.Add(RunRetention).Unix(); got != want {
		t.Errorf("missed run expiresAt = %d, want %d", got, want)
	}
}

// Newest first is a reverse Query of the runs partition: the sort keys of
// runs must sort as their scheduled times, whatever the zone they come in.
func TestRunKeysSortByTime(t *testing.T) {
	base := time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		name           string
		earlier, later time.Time
	}{
		{"a millisecond apart", base, base.Add(time.Millisecond)},
		{"across a second", base.Add(999 * time.Millisecond), base.Add(time.Second)},
		{"across a year", time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"zones that would sort the other way", base.In(time.FixedZone("UTC-5", -5*3600)), base.Add(time.Hour).In(time.FixedZone("UTC+5", 5*3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, a := runKey("ws1", "01C", tt.earlier)
			_, b := runKey("ws1", "01C", tt.later)
			if !(a < b) {
				t.Errorf("run key of %v = %q, not before %q of %v", tt.earlier, a, b, tt.later)
			}
		})
	}
}

// A second StartRun of a running run is two requests: the failed put
// returns the stored run (ReturnValuesOnConditionCheckFailure, which
// DynamoDB Local supports too), and the attempt is added; no extra read.
func TestStartRunRetryRequests(t *testing.T) {
	meter := NewMeter()
	client := newClient(t, meter.Instrument)
	s := New(client, newTable(t, client))
	at := time.Date(2026, 11, 21, 10, 30, 0, 0, time.UTC)
	r := notify.CampaignRun{WorkspaceID: "ws1", CampaignID: "01C", ScheduledAt: at, Status: notify.RunRunning, StartedAt: at}
	if _, started, err := s.StartRun(t.Context(), r); err != nil || !started {
		t.Fatalf("first StartRun = %t, %v; want true, nil", started, err)
	}
	meter.Reset()
	got, started, err := s.StartRun(t.Context(), r)
	if err != nil || started || got.Attempts != 2 {
		t.Fatalf("second StartRun = attempts %d, %t, %v; want 2, false, nil", got.Attempts, started, err)
	}
	stats := meter.Stats()
	if stats["PutItem"].Calls != 1 || stats["UpdateItem"].Calls != 1 || stats["GetItem"].Calls != 0 {
		t.Errorf("second StartRun made PutItem %d, UpdateItem %d, GetItem %d calls; want 1, 1, 0\n%s",
			stats["PutItem"].Calls, stats["UpdateItem"].Calls, stats["GetItem"].Calls, meter)
	}
}

// Listing one kind of campaign reads only that kind: a workspace's many
// scheduled sends cost nothing to a list of its operator campaigns.
func TestListCampaignsOfAKindReadsOnlyThatKind(t *testing.T) {
	meter := NewMeter()
	client := newClient(t, meter.Instrument)
	s := New(client, newTable(t, client))
	ctx := t.Context()
	var ids notify.IDs
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var want []string
	for i := range 60 {
		at := base.Add(time.Duration(i) * time.Minute)
		c := notify.Campaign{
			WorkspaceID: "ws1", ID: ids.New(at), Kind: notify.CampaignKindSend, Name: "send",
			Schedule: "at(2026-12-01T09:00:00)", Notification: []byte(`{"templateId":"t"}`),
			Status: notify.CampaignActive, CreatedAt: at, UpdatedAt: at,
		}
		if i%20 == 0 {
			c.Kind = notify.CampaignKindCampaign
			want = append([]string{c.ID}, want...)
		}
		if err := s.CreateCampaign(ctx, c); err != nil {
			t.Fatalf("CreateCampaign: %v", err)
		}
	}
	meter.Reset()
	page, next, err := s.ListCampaigns(ctx, "ws1", notify.CampaignKindCampaign, notify.Page{Limit: 10})
	if err != nil {
		t.Fatalf("ListCampaigns: %v", err)
	}
	var got []string
	for _, c := range page {
		got = append(got, c.ID)
	}
	if d := cmp.Diff(want, got); d != "" || next != "" {
		t.Errorf("ListCampaigns(campaign) ids mismatch (-want +got):\n%s; next = %q", d, next)
	}
	t.Logf("list of one kind among 60 campaigns:\n%s", meter)
	// Three items of ~200 bytes are one read unit (half of one, eventually
	// consistent); the 57 sends would be several.
	if q := meter.Stats()["Query"]; q.Calls != 1 || q.ReadUnits > 1 {
		t.Errorf("ListCampaigns(campaign) = %d queries, %.1f RCU; want 1 query of at most 1 RCU\n%s", q.Calls, q.ReadUnits, meter)
	}
}

func TestShardsSpread(t *testing.T) {
	tests := []struct {
		name   string
		shards int
	}{
		{"deliveries", deliveryShards},
		{"users", userShards},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 32000
			counts := make([]int, tt.shards)
			for i := range n {
				s := shardOf(fmt.Sprintf("cust-%d", i), tt.shards)
				if s < 0 || s >= tt.shards {
					t.Fatalf("shardOf = %d, want [0, %d)", s, tt.shards)
				}
				counts[s]++
			}
			mean := n / tt.shards
			for s, c := range counts {
				if c < mean*8/10 || c > mean*12/10 {
					t.Errorf("shard %d holds %d of %d keys, want within 20%% of %d", s, c, n, mean)
				}
			}
		})
	}
}

func TestULIDTimePrefix(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"now", time.Now()},
		{"epoch", time.Unix(0, 0)},
		{"millisecond boundary", time.Date(2026, 11, 21, 10, 0, 0, 999_999_999, time.UTC)},
		{"far future", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids notify.IDs // fresh: an IDs never goes back in time
			id := ids.New(tt.at)
			if got := ulidTimePrefix(tt.at); got != id[:10] {
				t.Errorf("ulidTimePrefix(%v) = %q, want %q (prefix of %s)", tt.at, got, id[:10], id)
			}
			before, after := ulidTimePrefix(tt.at.Add(-time.Millisecond)), ulidTimePrefix(tt.at.Add(time.Millisecond))
			if !(before < id && id > ulidTimePrefix(tt.at) && id < after) {
				t.Errorf("id %s not between %s and %s", id, before, after)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	tests := []cursor{{}, {Shard: 31, After: "addr#+34600000001"}, {After: "01KABC"}}
	for _, want := range tests {
		got, err := decodeCursor(want.encode())
		if err != nil || got != want {
			t.Errorf("decodeCursor(encode(%+v)) = %+v, %v", want, got, err)
		}
	}
	for _, bad := range []string{"%%%", "bm90IGpzb24", "eyJzIjotMX0"} {
		if _, err := decodeCursor(bad); !notify.IsCode(err, notify.CodeBadRequest) {
			t.Errorf("decodeCursor(%q) err = %v, want bad_request", bad, err)
		}
	}
}

// itemSize is DynamoDB's size of an item: attribute names plus values
// (strings by UTF-8 length, numbers by about one byte per two digits).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += (len(strings.TrimLeft(v.Value, "-0"))+1)/2 + 1
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		default:
			n += 100 // not used by deliveries; overestimate
		}
	}
	return n
}

// A delivery must cost one write unit: under 1 KB even with every field at a
// realistic maximum (64-character ids, a sealed email address, a long
// provider message id).
func TestDeliveryItemUnder1KB(t *testing.T) {
	long := strings.Repeat("x", 64)
	at := time.Now()
	d := notify.Delivery{
		WorkspaceID:       "01KAZZZZZZZZZZZZZZZZZZZZZZ",
		NotificationID:    "01KAZZZZZZZZZZZZZZZZZZZZZZ",
		Key:               "addr#" + strings.Repeat("e", 254), // longest email
		UserID:            long,
		Address:           strings.Repeat("s", 400), // sealed: nonce + ciphertext + tag, base64
		Channel:           notify.ChannelWhatsApp,
		Status:            notify.DeliveryDelivered,
		Reason:            notify.ReasonMissingVariable,
		ProviderMessageID: "wamid." + strings.Repeat("A", 80),
		Chunk:             "01KAZZZZZZZZZZZZZZZZZZZZZZ:99999",
		CreatedAt:         at,
		UpdatedAt:         at,
	}
	item, err := attributevalue.MarshalMap(newDeliveryItem(d))
	if err != nil {
		t.Fatal(err)
	}
	if size := itemSize(item); size >= 1024 {
		t.Errorf("delivery item is %d bytes, want under 1024 (one write unit)", size)
	}
	var it deliveryItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		t.Fatal(err)
	}
	got := it.delivery(d.WorkspaceID, d.NotificationID)
	if !got.CreatedAt.Equal(d.CreatedAt) || got.Key != d.Key || got.Chunk != d.Chunk || got.Address != d.Address {
		t.Errorf("delivery round trip = %+v, want %+v", got, d)
	}
}

// A counter update must cost one write unit whatever the notification holds:
// the counts item stays under 1 KB with the longest ids and the largest
// counters.
func TestCountsItemUnder1KB(t *testing.T) {
	const most = int64(math.MaxInt64)
	n := notify.Notification{
		WorkspaceID: strings.Repeat("w", 64),
		ID:          "01KAZZZZZZZZZZZZZZZZZZZZZZ",
		Body:        strings.Repeat("é", 10000),
		Variables:   map[string]string{"name": strings.Repeat("x", 1000)},
		Counts:      notify.Counts{Total: most, Queued: -most, Sent: most, Delivered: most, Read: most, Failed: most, Skipped: most},
		UpdatedAt:   time.Date(2026, 11, 21, 10, 30, 0, 123456789, time.UTC),
	}
	item, err := attributevalue.MarshalMap(newCountsItem(n))
	if err != nil {
		t.Fatal(err)
	}
	if size := itemSize(item); size >= 1024 {
		t.Errorf("counts item is %d bytes, want under 1024 (one write unit)", size)
	}
	var it countsItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		t.Fatal(err)
	}
	if it.counts() != n.Counts || !it.UpdatedAt.Equal(n.UpdatedAt) {
		t.Errorf("counts round trip = %+v at %v, want %+v at %v", it.counts(), it.UpdatedAt, n.Counts, n.UpdatedAt)
	}
}

// An upload is one item holding up to notify.MaxUploadErrors row errors: it
// must stay well under DynamoDB's 400 KB item limit with every field at a
// realistic maximum (row numbers of the largest sheet, 100-byte column
// names, 300-byte messages).
func TestUploadItemUnder400KB(t *testing.T) {
	long := strings.Repeat("x", 64)
	at := time.Now()
	errs := make([]notify.RowError, notify.MaxUploadErrors)
	for i := range errs {
		errs[i] = notify.RowError{Row: 1_048_576, Column: strings.Repeat("é", 50), Message: strings.Repeat("m", 300)}
	}
	u := notify.Upload{
		WorkspaceID: long, ID: "01KAZZZZZZZZZZZZZZZZZZZZZZ", Purpose: notify.UploadPurposeSend,
		TemplateID: long, Channel: notify.ChannelWhatsApp, Filename: strings.Repeat("f", 255),
		DefaultRegion: "ES", Category: long, Status: notify.UploadRejected,
		Rows:   notify.UploadRows{Total: 1_048_575, Valid: 1_048_575, Invalid: 1_048_575},
		Errors: errs, NotificationID: "01KAZZZZZZZZZZZZZZZZZZZZZZ", ObjectKey: strings.Repeat("k", 512),
		ETag: strings.Repeat("e", 70), Size: 1 << 40, Version: 1 << 40, CreatedBy: long,
		CreatedAt: at, UpdatedAt: at, ExpiresAt: at,
	}
	it, err := newUploadItem(u)
	if err != nil {
		t.Fatal(err)
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		t.Fatal(err)
	}
	if size := itemSize(item); size >= 250_000 {
		t.Errorf("upload item is %d bytes, want under 250,000 (DynamoDB's limit is 400 KB)", size)
	}
	var back uploadItem
	if err := attributevalue.UnmarshalMap(item, &back); err != nil {
		t.Fatal(err)
	}
	got, err := back.upload()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Errors) != len(u.Errors) || got.Errors[0] != u.Errors[0] || got.ObjectKey != u.ObjectKey {
		t.Errorf("upload round trip = %d errors, first %+v, object %q; want %d, %+v, %q", len(got.Errors), got.Errors[0], got.ObjectKey, len(u.Errors), u.Errors[0], u.ObjectKey)
	}
}

// Sessions, their entries in the operator's list and one-time links carry
// the table's TTL attribute, so DynamoDB forgets them once expired; audit
// entries do not, since the trail is kept.
func TestOperatorItemsExpire(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	at := time.Now().UTC().Truncate(time.Millisecond)
	ends := at.Add(12*time.Hour + 500*time.Millisecond)
	if err := s.CreateOperator(ctx, notify.Operator{ID: "op-1", WorkspaceID: "ws1", Email: "ana@example.com", Role: notify.RoleAdmin, CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, notify.Session{ID: "sess-1", WorkspaceID: "ws1", OperatorID: "op-1", CSRF: "c", CreatedAt: at, ExpiresAt: ends}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOperatorToken(ctx, notify.OperatorToken{Hash: "h1", WorkspaceID: "ws1", Kind: notify.TokenReset, OperatorID: "op-1", CreatedAt: at, ExpiresAt: ends}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendAudit(ctx, notify.AuditEntry{ID: "01A", WorkspaceID: "ws1", At: at, Actor: "operator ana@example.com", Action: "key.create"}); err != nil {
		t.Fatal(err)
	}
	expiresAt := func(pk, sk string) (int64, bool) {
		t.Helper()
		res, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatalf("GetItem %s %s: %v", pk, sk, err)
		}
		if res.Item == nil {
			t.Fatalf("GetItem %s %s: no item", pk, sk)
		}
		var got struct {
			ExpiresAt *int64 `dynamodbav:"expiresAt"`
		}
		if err := attributevalue.UnmarshalMap(res.Item, &got); err != nil {
			t.Fatalf("decode %v: %v", res.Item, err)
		}
		if got.ExpiresAt == nil {
			return 0, false
		}
		return *got.ExpiresAt, true
	}
	want := ends.Unix() + 1 // rounded up past the half second
	for _, tt := range []struct {
		name string
		key  [2]string
	}{
		{"session", pair(sessionKey("sess-1"))},
		{"operator's session entry", pair(operatorSessionKey("ws1", "op-1", "sess-1"))},
		{"one-time link", pair(operatorTokenKey("h1"))},
	} {
		if got, ok := expiresAt(tt.key[0], tt.key[1]); !ok || got != want {
			t.Errorf("%s %s = %d (set %t), want %d", tt.name, attrExpiresAt, got, ok, want)
		}
	}
	pk, sk := auditKey("ws1", "01A")
	if got, ok := expiresAt(pk, sk); ok {
		t.Errorf("audit entry %s = %d, want none", attrExpiresAt, got)
	}
	pk, sk = operatorKey("ws1", "op-1")
	if got, ok := expiresAt(pk, sk); ok {
		t.Errorf("operator %s = %d, want none", attrExpiresAt, got)
	}
}
