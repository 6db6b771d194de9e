package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/metrics"
	"github.com/heraldhq/herald/shared/whatsapp"
)

// TestSendFiguresAtMetrics runs the local server, sends SMS through the
// outbox and a WhatsApp template through a fake Cloud API, posts Meta's
// "delivered" callback, and finds it all in GET /v1/metrics: the sends
// and the skip by channel and reason, their provider latency and queue
// age, and the callback, with none of the sends' ids or addresses.
func TestSendFiguresAtMetrics(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"messaging_product":"whatsapp","contacts":[{"input":"+34600000001","wa_id":"34600000001"}],"messages":[{"id":"wamid.HBgLMzQ2MDAwMDAwMDEVAgARGBI"}]}`)
	}))
	defer fake.Close()
	const appSecret = "local-app-secret"
	env := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_DATA_DIR": t.TempDir(), "HERALD_LOG_LEVEL": "error",
		"HERALD_API_KEY": "local-admin-key-123", "HERALD_WHATSAPP_ACCESS_TOKEN": "EAAtoken", "HERALD_WHATSAPP_PHONE_NUMBER_ID": "1055",
		"HERALD_WHATSAPP_BASE_URL": fake.URL, "HERALD_WHATSAPP_APP_SECRET": appSecret}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, io.Discard, io.Discard, ready) }()
	base := "http://" + <-ready
	defer func() { cancel(); <-done }()
	call := func(method, path, body string, want int) (map[string]any, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer local-admin-key-123")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		if res.StatusCode != want {
			t.Fatalf("%s %s = %d, want %d: %s", method, path, res.StatusCode, want, raw)
		}
		return m, string(raw)
	}
	// Before anything is sent: every channel, nothing counted.
	_, raw := call("GET", "/v1/metrics", "", 200)
	var empty metrics.Snapshot
	if err := json.Unmarshal([]byte(raw), &empty); err != nil || len(empty.Channels) != 6 || len(empty.Deliveries) != 0 {
		t.Fatalf("GET /v1/metrics at start = %s, %v; want the six channels and no deliveries", raw, err)
	}

	call("PUT", "/v1/users/c-secret-1", `{"name": "Ana", "phone": "+34600000001"}`, 200)
	call("PUT", "/v1/users/c-secret-2", `{"name": "Luis", "phone": "+34600000002"}`, 200)
	call("PUT", "/v1/users/c-secret-3", `{"name": "Eva"}`, 200) // no phone: skipped, invalid_address
	sms, _ := call("POST", "/v1/notifications", `{"channel": "sms", "content": {"body": "Hola {{name}}"}, "audience": {"userIds": ["c-secret-1", "c-secret-2", "c-secret-3"]}}`, 202)
	tpl, _ := call("POST", "/v1/templates", `{"name": "Bill", "channel": "whatsapp", "body": "Hola {{1}}", "whatsapp": {"name": "bill_due", "language": "es", "category": "utility", "parameters": ["name"]}}`, 201)
	wa, _ := call("POST", "/v1/notifications", `{"channel": "whatsapp", "templateId": "`+tpl["id"].(string)+`", "audience": {"userIds": ["c-secret-1"]}}`, 202)
	smsID, waID := sms["id"].(string), wa["id"].(string)
	for _, id := range []string{smsID, waID} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			n, _ := call("GET", "/v1/notifications/"+id, "", 200)
			if n["status"] == "completed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("notification %s is %v, want completed", id, n["status"])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Meta reports the WhatsApp message delivered, twice.
	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp",`+
		`"statuses":[{"id":"wamid.x","status":"delivered","timestamp":"%d","recipient_id":"34600000001","biz_opaque_callback_data":%q}]}}]}]}`,
		time.Now().Unix(), whatsapp.CallbackData(channel.Envelope{WorkspaceID: WorkspaceID, NotificationID: waID, RecipientKey: "c-secret-1"}))
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte(body))
	for range 2 {
		req, _ := http.NewRequest("POST", base+"/webhooks/whatsapp", strings.NewReader(body))
		req.Header.Set(whatsapp.SignatureHeader, "sha256="+hex.EncodeToString(mac.Sum(nil)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("POST /webhooks/whatsapp = %d", res.StatusCode)
		}
	}

	_, raw = call("GET", "/v1/metrics", "", 200)
	var got metrics.Snapshot
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	wantDeliveries := []metrics.Count{
		{Channel: "sms", Outcome: "sent", Reason: "none", Count: 2},
		{Channel: "sms", Outcome: "skipped", Reason: "invalid_address", Count: 1},
		{Channel: "whatsapp", Outcome: "sent", Reason: "none", Count: 1},
	}
	if diff := cmp.Diff(wantDeliveries, got.Deliveries); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]metrics.Count{{Channel: "whatsapp", Outcome: "delivered", Reason: "none", Count: 1}}, got.Callbacks); diff != "" {
		t.Errorf("callbacks (-want +got):\n%s", diff)
	}
	zero := 0.0
	if c := got.Channels[2]; c.Channel != "sms" || c.Sent != 2 || c.Skipped != 1 || c.FailureRate == nil || *c.FailureRate != zero {
		t.Errorf("sms totals = %+v, want 2 sent, 1 skipped, failure rate 0", c)
	}
	counts := map[string]int64{}
	for _, s := range got.ProviderLatency {
		counts["latency "+s.Channel] = s.Count
	}
	for _, s := range got.QueueAge {
		counts["age "+s.Channel] = s.Count
	}
	// One dispatch message per send; two sends to the SMS outbox, one
	// call to the fake Cloud API.
	if diff := cmp.Diff(map[string]int64{"latency sms": 2, "latency whatsapp": 1, "age sms": 1, "age whatsapp": 1}, counts); diff != "" {
		t.Errorf("durations counted (-want +got):\n%s", diff)
	}
	for _, secret := range []string{"c-secret", "34600000001", "Ana", smsID, waID, "wamid", WorkspaceID} {
		if strings.Contains(raw, secret) {
			t.Errorf("GET /v1/metrics carries %q: %s", secret, raw)
		}
	}
}
