package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestFilterSendEndToEnd: in local mode, a dry run counts a filter
// audience, a send with that count walks it in parallel segments, and every
// selected user gets exactly one delivery (skips with their reasons); a
// stale count is refused with the count now.
func TestFilterSendEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server; skipped with -short")
	}
	s := startLocal(t, t.TempDir(), nil)
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
			s.must(200, "POST", "/v1/users:batch", map[string]any{"users": users})
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
	dry := s.must(200, "POST", "/v1/notifications:dryRun", body(nil))
	if dry["users"] != 800.0 || dry["recipients"] != 400.0 || dry["skipped"].(map[string]any)["invalid_address"] != 400.0 {
		t.Fatalf("dry run = %v, want 400 of 800 (400 without email)", dry)
	}
	stale := s.must(409, "POST", "/v1/notifications", body(401))
	if e := stale["error"].(map[string]any); e["code"] != "audience_changed" || e["currentCount"] != 400.0 {
		t.Errorf("stale count = %v", stale)
	}
	n := s.must(202, "POST", "/v1/notifications", body(400))
	id := n["id"].(string)
	got := s.waitFor("the send to complete", func() map[string]any {
		return s.must(200, "GET", "/v1/notifications/"+id, nil)
	}, func(n map[string]any) bool { return n["status"] == "completed" })
	counts := got["counts"].(map[string]any)
	if got["status"] != "completed" || counts["total"] != 800.0 || counts["delivered"] != 400.0 || counts["skipped"] != 400.0 || counts["queued"] != 0.0 {
		t.Fatalf("notification = %v, want completed: 800 total, 400 delivered to the outbox, 400 skipped", got)
	}
	settledOverAPI(t, s.composeServer, id)
	outbox := 0
	for cursor := ""; ; {
		page := s.must(200, "GET", "/v1/outbox?channel=email&limit=500&cursor="+cursor, nil)
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
