package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// localServer runs the local server on a data dir that outlives it, so a
// test can stop it and start it again.
type localServer struct {
	*composeServer
	stop func()
}

func startLocal(t *testing.T, data string, extra map[string]string) *localServer {
	t.Helper()
	env := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_DATA_DIR": data, "HERALD_LOG_LEVEL": "warn", "HERALD_API_KEY": sheetKey}
	for k, v := range extra {
		env[k] = v
	}
	logs := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, &strings.Builder{}, logs, ready) }()
	s := &localServer{composeServer: &composeServer{t: t}}
	select {
	case addr := <-ready:
		s.base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	}
	t.Cleanup(s.stop)
	return s
}

// must calls and fails the test unless the status is want.
func (s *localServer) must(want int, method, path string, body any) map[string]any {
	s.t.Helper()
	status, got, _ := s.call(method, path, body)
	if status != want {
		s.t.Fatalf("%s %s = %d %v, want %d", method, path, status, got, want)
	}
	return got
}

// waitFor polls get until ok says so, for up to 30 s.
func (s *localServer) waitFor(what string, get func() map[string]any, ok func(map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := get()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s: last seen %v", what, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// atIn is an at() expression d from now, in UTC, to the second.
func atIn(d time.Duration) string {
	return "at(" + time.Now().UTC().Add(d).Format("2006-01-02T15:04:05") + ")"
}

func emailTo(user string) map[string]any {
	return map[string]any{"channel": "email", "content": map[string]any{"title": "Hola {{name}}", "body": "Tu resumen semanal"},
		"audience": map[string]any{"userIds": []string{user}}}
}

func (s *localServer) outboxFor(address string) []any {
	s.t.Helper()
	return s.must(200, "GET", "/v1/outbox?channel=email&address="+address, nil)["items"].([]any)
}

// TestAtCampaignRunsOnce: an at() campaign a few seconds ahead runs once, by
// itself, and its run is a notification with source campaign that reaches
// the outbox.
func TestAtCampaignRunsOnce(t *testing.T) {
	s := startLocal(t, t.TempDir(), nil)
	s.must(200, "PUT", "/v1/users/u1", map[string]any{"name": "Ana", "email": "ana@example.com", "status": "active"})
	c := s.must(201, "POST", "/v1/campaigns", map[string]any{"name": "Soon", "schedule": atIn(3 * time.Second), "notification": emailTo("u1")})
	id := c["id"].(string)
	if next := c["nextRuns"].([]any); len(next) != 1 {
		t.Errorf("nextRuns of an at() = %v, want one", next)
	}
	c = s.waitFor("the campaign to complete", func() map[string]any { return s.must(200, "GET", "/v1/campaigns/"+id, nil) },
		func(c map[string]any) bool { return c["status"] == "completed" })
	runs := s.must(200, "GET", "/v1/campaigns/"+id+"/runs", nil)["items"].([]any)
	if len(runs) != 1 {
		t.Fatalf("runs = %v, want one", runs)
	}
	run := runs[0].(map[string]any)
	if run["status"] != "succeeded" || run["recipients"] != float64(1) || run["notificationId"] == nil {
		t.Fatalf("run = %v, want succeeded to 1 recipient", run)
	}
	nid := run["notificationId"].(string)
	n := s.waitFor("the notification to complete", func() map[string]any { return s.must(200, "GET", "/v1/notifications/"+nid, nil) },
		func(n map[string]any) bool { return n["status"] == "completed" })
	if n["source"] != "campaign" || !strings.Contains(n["createdBy"].(string), id) {
		t.Errorf("notification = %v, want source campaign, created by %s", n, id)
	}
	if got := s.outboxFor("ana@example.com"); len(got) != 1 {
		t.Errorf("outbox = %v, want one email", got)
	}
	// Nothing more happens: the schedule is gone.
	time.Sleep(1500 * time.Millisecond)
	if runs := s.must(200, "GET", "/v1/campaigns/"+id+"/runs", nil)["items"].([]any); len(runs) != 1 {
		t.Errorf("runs later = %v, want still one", runs)
	}
	if got := s.outboxFor("ana@example.com"); len(got) != 1 {
		t.Errorf("outbox later = %v, want still one email", got)
	}
	if c["lastRunAt"] == nil || len(c["nextRuns"].([]any)) != 0 {
		t.Errorf("completed campaign = %v, want lastRunAt and no nextRuns", c)
	}
}

// TestScheduledSendEndToEnd: a send with scheduleAt waits as scheduled,
// then goes; a cancelled one never goes.
func TestScheduledSendEndToEnd(t *testing.T) {
	s := startLocal(t, t.TempDir(), nil)
	s.must(200, "PUT", "/v1/users/u1", map[string]any{"name": "Ana", "email": "ana@example.com", "status": "active"})
	s.must(200, "PUT", "/v1/users/u2", map[string]any{"name": "Bo", "email": "bo@example.com", "status": "active"})
	at := time.Now().UTC().Add(3 * time.Second).Truncate(time.Second)
	later := emailTo("u1")
	later["scheduleAt"] = at.Format(time.RFC3339)
	sent := s.must(202, "POST", "/v1/notifications", later)
	if sent["status"] != "scheduled" {
		t.Fatalf("answer = %v, want scheduled", sent)
	}
	cancelled := emailTo("u2")
	cancelled["scheduleAt"] = at.Format(time.RFC3339)
	other := s.must(202, "POST", "/v1/notifications", cancelled)
	s.must(200, "POST", fmt.Sprintf("/v1/notifications/%s/cancel", other["id"]), nil)

	id := sent["id"].(string)
	if n := s.must(200, "GET", "/v1/notifications/"+id, nil); n["status"] != "scheduled" {
		t.Errorf("before its time = %v, want scheduled", n["status"])
	}
	n := s.waitFor("the scheduled send to complete", func() map[string]any { return s.must(200, "GET", "/v1/notifications/"+id, nil) },
		func(n map[string]any) bool { return n["status"] == "completed" })
	if counts := n["counts"].(map[string]any); counts["total"] != float64(1) || counts["delivered"] != float64(1) {
		t.Errorf("counts = %v, want one delivered", counts)
	}
	if got := s.outboxFor("ana@example.com"); len(got) != 1 {
		t.Errorf("outbox = %v, want one email", got)
	}
	if time.Now().Before(at) {
		t.Errorf("delivered before its time %v", at)
	}
	time.Sleep(time.Second)
	if got := s.outboxFor("bo@example.com"); len(got) != 0 {
		t.Errorf("the cancelled send went: %v", got)
	}
	if n := s.must(200, "GET", fmt.Sprintf("/v1/notifications/%s", other["id"]), nil); n["status"] != "cancelled" {
		t.Errorf("cancelled send = %v, want still cancelled", n["status"])
	}
}

// TestRunsMissedWhileStopped: a time that passed while Herald was stopped
// runs once when it starts again within the grace period, and is recorded
// missed beyond it.
func TestRunsMissedWhileStopped(t *testing.T) {
	for _, tt := range []struct {
		name, grace string
		want        string
	}{
		{"within grace", "1h", "succeeded"},
		{"beyond grace", "1s", "missed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"HERALD_SCHEDULE_GRACE": tt.grace}
			s := startLocal(t, data, env)
			s.must(200, "PUT", "/v1/users/u1", map[string]any{"name": "Ana", "email": "ana@example.com", "status": "active"})
			c := s.must(201, "POST", "/v1/campaigns", map[string]any{"name": "While away", "schedule": atIn(2 * time.Second), "notification": emailTo("u1")})
			id := c["id"].(string)
			s.stop()
			time.Sleep(4 * time.Second) // past its time, and past a 1 s grace

			s = startLocal(t, data, env)
			s.waitFor("the campaign to complete", func() map[string]any { return s.must(200, "GET", "/v1/campaigns/"+id, nil) },
				func(c map[string]any) bool { return c["status"] == "completed" })
			runs := s.must(200, "GET", "/v1/campaigns/"+id+"/runs", nil)["items"].([]any)
			if len(runs) != 1 || runs[0].(map[string]any)["status"] != tt.want {
				t.Fatalf("runs = %v, want one %s", runs, tt.want)
			}
			want := 1
			if tt.want == "missed" {
				want = 0
			}
			if tt.want == "succeeded" {
				nid := runs[0].(map[string]any)["notificationId"].(string)
				s.waitFor("the notification to complete", func() map[string]any { return s.must(200, "GET", "/v1/notifications/"+nid, nil) },
					func(n map[string]any) bool { return n["status"] == "completed" })
			}
			if got := s.outboxFor("ana@example.com"); len(got) != want {
				t.Errorf("outbox = %v, want %d emails", got, want)
			}
		})
	}
}
