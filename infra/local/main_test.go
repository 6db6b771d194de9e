package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/infra/harness"
	"github.com/heraldhq/herald/shared/apikey"
)

// TestKillMidSendLosesNothingAndSendsNothingTwice kills the local server
// with SIGKILL in the middle of a send, starts it again on the same data,
// and checks that every recipient ends with exactly one delivery.
func TestKillMidSendLosesNothingAndSendsNothingTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server; skipped with -short")
	}
	const users = 20000
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := harness.Build(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, key := t.TempDir(), apikey.New()
	addr, err := harness.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	// One worker and small batches make the send slow enough to kill midway.
	slow := []string{"HERALD_WORKERS=1", "HERALD_SEND_CONCURRENCY=2"}
	p, err := harness.Start(ctx, bin, data, addr, key, slow...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill() }()
	if err := p.SeedUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	ids, err := p.SendLists(ctx, users)
	if err != nil {
		t.Fatal(err)
	}
	for {
		done, total, _, err := p.Progress(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if done >= total/10 {
			if done == total {
				t.Fatalf("the send finished before the kill; make it slower")
			}
			t.Logf("killing with %d of %d done", done, total)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Kill()

	p, err = harness.Start(ctx, bin, data, addr, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitCompleted(ctx, ids, 50*time.Millisecond); err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, p.Logs())
	}
	// Only the sends in flight at the kill (one worker, two at a time) may
	// have reached the outbox twice; a real provider would have sent those
	// twice.
	resends, err := p.VerifyExactlyOnce(ctx, ids, users, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resent after the kill: %d", resends)
	if err := p.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// TestFirstStartAndRestart runs the server in process: a first start with a
// key from HERALD_API_KEY (not in Herald's own format), then starts without
// it, which generate, print and save an admin key once and reuse it after.
func TestFirstStartAndRestart(t *testing.T) {
	data := t.TempDir()
	start := func(env map[string]string) (base string, out *strings.Builder, stop func()) {
		t.Helper()
		env["HERALD_ADDR"], env["HERALD_DATA_DIR"], env["HERALD_LOG_LEVEL"] = "127.0.0.1:0", data, "error"
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan string, 1)
		done := make(chan error, 1)
		out = &strings.Builder{}
		go func() { done <- run(ctx, func(k string) string { return env[k] }, out, io.Discard, ready) }()
		select {
		case addr := <-ready:
			return "http://" + addr, out, func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("run: %v", err)
				}
			}
		case err := <-done:
			t.Fatalf("run: %v", err)
		}
		return "", nil, nil
	}
	status := func(base, key string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/v1/keys", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	base, out, stop := start(map[string]string{"HERALD_API_KEY": "my-own-local-admin-key"})
	if got := status(base, "my-own-local-admin-key"); got != 200 {
		t.Errorf("HERALD_API_KEY answered %d, want 200 (output: %s)", got, out)
	}
	stop()

	base, out, stop = start(map[string]string{})
	saved, err := os.ReadFile(filepath.Join(data, "admin-key"))
	if err != nil {
		t.Fatal(err)
	}
	generated := strings.TrimSpace(string(saved))
	if !strings.Contains(out.String(), generated) || status(base, generated) != 200 {
		t.Errorf("first start without HERALD_API_KEY printed %q; the saved key %q must be printed and work", out, generated)
	}
	if status(base, "my-own-local-admin-key") != 200 {
		t.Errorf("the earlier HERALD_API_KEY stopped working after a restart")
	}
	stop()

	base, out, stop = start(map[string]string{})
	defer stop()
	if strings.Contains(out.String(), generated) || status(base, generated) != 200 {
		t.Errorf("restart printed the key again or lost it: %q", out)
	}
	if status(base, "hk_wrong") != 401 {
		t.Errorf("a wrong key was accepted")
	}
}

// TestWhatsAppThroughTheCloudAPI runs the local server with WhatsApp
// credentials pointing at a fake Graph API: a template send reaches it with
// its parameters, and the delivery records the wamid.
func TestWhatsAppThroughTheCloudAPI(t *testing.T) {
	type sent struct {
		Path, Auth string
		Body       map[string]any
	}
	got := make(chan sent, 4)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		got <- sent{r.URL.Path, r.Header.Get("Authorization"), body}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"messaging_product":"whatsapp","contacts":[{"input":"+34600000001","wa_id":"34600000001"}],"messages":[{"id":"wamid.HBgLMzQ2MDAwMDAwMDEVAgARGBI"}]}`)
	}))
	defer fake.Close()
	env := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_DATA_DIR": t.TempDir(), "HERALD_LOG_LEVEL": "error",
		"HERALD_API_KEY": "local-admin-key-123", "HERALD_WHATSAPP_ACCESS_TOKEN": "EAAtoken", "HERALD_WHATSAPP_PHONE_NUMBER_ID": "1055",
		"HERALD_WHATSAPP_BASE_URL": fake.URL}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	var out strings.Builder
	go func() { done <- run(ctx, func(k string) string { return env[k] }, &out, io.Discard, ready) }()
	base := "http://" + <-ready
	defer func() { cancel(); <-done }()
	if !strings.Contains(out.String(), "whatsapp → WhatsApp Cloud API") || !strings.Contains(out.String(), "sms → local outbox") {
		t.Errorf("startup output does not say which provider delivers each channel:\n%s", out.String())
	}
	call := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
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
	call("PUT", "/v1/users/c1", `{"name": "Ana", "phone": "+34600000001"}`, 200)
	tpl := call("POST", "/v1/templates", `{"name": "Bill", "channel": "whatsapp", "body": "Hola {{1}}, debes {{2}}", "whatsapp": {"name": "bill_due", "language": "es", "category": "utility", "parameters": ["name", "amount"]}}`, 201)
	n := call("POST", "/v1/notifications", `{"channel": "whatsapp", "templateId": "`+tpl["id"].(string)+`", "variables": {"amount": "42 €"}, "audience": {"userIds": ["c1"]}}`, 202)
	select {
	case s := <-got:
		if s.Path != "/v26.0/1055/messages" && !strings.HasSuffix(s.Path, "/1055/messages") {
			t.Errorf("path %q", s.Path)
		}
		tplBody, _ := s.Body["template"].(map[string]any)
		if s.Auth != "Bearer EAAtoken" || s.Body["to"] != "+34600000001" || tplBody["name"] != "bill_due" {
			t.Errorf("request = %+v", s)
		}
		params := fmt.Sprint(tplBody["components"])
		if !strings.Contains(params, "Ana") || !strings.Contains(params, "42 €") {
			t.Errorf("template components %s, want the parameters Ana and 42 €", params)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the fake Graph API got nothing")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ds := call("GET", "/v1/notifications/"+n["id"].(string)+"/deliveries", "", 200)
		if items, _ := ds["items"].([]any); len(items) == 1 {
			d := items[0].(map[string]any)
			if d["status"] != "sent" || d["providerMessageId"] != "wamid.HBgLMzQ2MDAwMDAwMDEVAgARGBI" {
				t.Errorf("delivery = %v, want sent with the wamid", d)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no delivery recorded")
}
