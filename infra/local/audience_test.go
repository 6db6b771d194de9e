package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFilterSendEndToEnd: in local mode, a dry run counts a filter
// audience, a send with that count walks it in parallel segments, and every
// selected user gets exactly one delivery (skips with their reasons); a
// stale count is refused with the count now.
func TestFilterSendEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	env := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_DATA_DIR": t.TempDir(), "HERALD_LOG_LEVEL": "error", "HERALD_API_KEY": "local-admin-key-123"}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, io.Discard, io.Discard, ready) }()
	base := "http://" + <-ready
	defer func() { cancel(); <-done }()
	call := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer local-admin-key-123")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode != want {
			t.Fatalf("%s %s = %d, want %d: %v", method, path, res.StatusCode, want, m)
		}
		return m
	}
	// 1,200 users: 800 in Madrid, of whom those with an email (every other) can get email.
	var users []map[string]any
	for i := range 1200 {
		u := map[string]any{"id": fmt.Sprintf("c%04d", i), "attributes": map[string]string{"city": "Bilbao"}}
		if i%3 != 0 {
			u["attributes"] = map[string]string{"city": "Madrid"}
		}
		if i%2 == 0 {
			u["email"] = fmt.Sprintf("c%04d@example.com", i)
		}
		users = append(users, u)
		if len(users) == 1000 || i == 1199 {
			call("POST", "/v1/users:batch", map[string]any{"users": users}, 200)
			users = nil
		}
	}
	body := func(expected any) map[string]any {
		a := map[string]any{"filter": map[string]any{"attributes": map[string]string{"city": "Madrid"}}}
		if expected != nil {
			a["expectedCount"] = expected
		}
		return map[string]any{"channel": "email", "content": map[string]any{"title": "Corte de luz", "body": "Mañana de 9 a 11."}, "audience": a}
	}
	dry := call("POST", "/v1/notifications:dryRun", body(nil), 200)
	if dry["users"] != 800.0 || dry["recipients"] != 400.0 || dry["skipped"].(map[string]any)["invalid_address"] != 400.0 {
		t.Fatalf("dry run = %v, want 400 of 800 (400 without email)", dry)
	}
	stale := call("POST", "/v1/notifications", body(401), 409)
	if e := stale["error"].(map[string]any); e["code"] != "audience_changed" || e["currentCount"] != 400.0 {
		t.Errorf("stale count = %v", stale)
	}
	n := call("POST", "/v1/notifications", body(400), 202)
	id := n["id"].(string)
	deadline := time.Now().Add(30 * time.Second)
	var got map[string]any
	for time.Now().Before(deadline) {
		if got = call("GET", "/v1/notifications/"+id, nil, 200); got["status"] == "completed" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	counts := got["counts"].(map[string]any)
	if got["status"] != "completed" || counts["total"] != 800.0 || counts["delivered"] != 400.0 || counts["skipped"] != 400.0 || counts["queued"] != 0.0 {
		t.Fatalf("notification = %v, want completed: 800 total, 400 delivered to the outbox, 400 skipped", got)
	}
	outbox := 0
	for cursor := ""; ; {
		page := call("GET", "/v1/outbox?channel=email&limit=500&cursor="+cursor, nil, 200)
		for _, e := range page["items"].([]any) {
			if !strings.Contains(fmt.Sprint(e), id) {
				continue
			}
			outbox++
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if outbox != 400 {
		t.Errorf("the outbox holds %d emails of the send, want 400 (each recipient once)", outbox)
	}
}
