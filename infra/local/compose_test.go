package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// composeServer runs the local server with extra settings and answers
// requests with the admin key.
type composeServer struct {
	t    *testing.T
	base string
	out  string
}

func startComposeServer(t *testing.T, extra map[string]string) *composeServer {
	t.Helper()
	env := map[string]string{"HERALD_ADDR": "127.0.0.1:0", "HERALD_DATA_DIR": filepath.Join(t.TempDir(), "data"), "HERALD_LOG_LEVEL": "warn", "HERALD_API_KEY": sheetKey}
	for k, v := range extra {
		env[k] = v
	}
	logs := &lockedBuffer{}
	var out strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, &out, logs, ready) }()
	s := &composeServer{t: t}
	select {
	case addr := <-ready:
		s.base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
	}
	s.out = out.String()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if t.Failed() {
			t.Logf("server logs:\n%s", logs.String())
		}
	})
	return s
}

// call sends a JSON request and decodes the JSON answer.
func (s *composeServer) call(method, path string, body any) (int, map[string]any, http.Header) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+sheetKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp.Header
}

// spanishVariants is what the fake models answer: two Spanish push
// variants that keep {{name}}.
const spanishVariants = `{"language":"es","variants":[{"title":"{{name}}, mira tu consumo","body":"Descubre a qué horas gastas más y ahorra en la factura."},{"title":"Tu consumo, hora a hora","body":"{{name}}, ya puedes verlo en la app."}]}`

// modelFake fakes a provider's API and keeps what it was sent.
type modelFake struct {
	mu       sync.Mutex
	paths    []string
	auth     []string
	requests []map[string]any
	answer   string
}

func (f *modelFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(b, &req)
	f.mu.Lock()
	f.paths = append(f.paths, r.URL.EscapedPath())
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, f.answer)
}

func composeBody() map[string]any {
	return map[string]any{"tone": "activation", "category": "energy_savings", "channel": "push", "language": "es",
		"brief": "Nueva función: consumo por horas en la app", "keepVariables": []string{"name"}, "variants": 2}
}

// TestComposeNotConfigured: without a model the route says how to
// configure one, and the options still answer.
func TestComposeNotConfigured(t *testing.T) {
	s := startComposeServer(t, nil)
	if !strings.Contains(s.out, "AI composition: off") {
		t.Errorf("startup output does not say composition is off:\n%s", s.out)
	}
	status, body, _ := s.call("POST", "/v1/compose", composeBody())
	e, _ := body["error"].(map[string]any)
	if status != 503 || e["code"] != "not_configured" || !strings.Contains(e["message"].(string), "HERALD_COMPOSE_PROVIDER=openai") {
		t.Fatalf("POST /v1/compose = %d %v, want 503 not_configured with directions", status, body)
	}
	status, body, _ = s.call("GET", "/v1/compose/options", nil)
	if status != 200 || body["configured"] != false || len(body["tones"].([]any)) != 5 {
		t.Errorf("GET /v1/compose/options = %d %v, want 200, not configured, 5 tones", status, body)
	}
}

// TestComposeThroughOpenAICompatible: the local mode with an
// OpenAI-compatible endpoint (such as Ollama) writes variants, saves one as
// a draft template that cannot be sent until it is published, and records
// the tokens.
func TestComposeThroughOpenAICompatible(t *testing.T) {
	args, _ := json.Marshal(spanishVariants)
	fake := &modelFake{answer: `{"choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"submit_variants","arguments":` +
		string(args) + `}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":800,"completion_tokens":90}}`}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	s := startComposeServer(t, map[string]string{"HERALD_COMPOSE_PROVIDER": "openai", "HERALD_OPENAI_BASE_URL": srv.URL + "/v1", "HERALD_OPENAI_MODEL": "llama3.2"})
	if !strings.Contains(s.out, "AI composition: llama3.2 (openai)") {
		t.Errorf("startup output does not name the model:\n%s", s.out)
	}

	req := composeBody()
	req["save"] = map[string]any{"name": "Consumo por horas", "variant": 1}
	status, body, _ := s.call("POST", "/v1/compose", req)
	if status != 201 {
		t.Fatalf("POST /v1/compose with save = %d %v, want 201", status, body)
	}
	if fake.paths[0] != "/v1/chat/completions" {
		t.Errorf("fake called at %q, want /v1/chat/completions", fake.paths[0])
	}
	msgs := fake.requests[0]["messages"].([]any)
	if sys := msgs[0].(map[string]any)["content"].(string); !strings.Contains(sys, "Spanish (es)") {
		t.Errorf("system prompt does not ask for Spanish:\n%s", sys)
	}
	vs := body["variants"].([]any)
	tpl := body["template"].(map[string]any)
	if len(vs) != 2 || tpl["status"] != "draft" || tpl["title"] != "Tu consumo, hora a hora" || body["model"] != "llama3.2" {
		t.Fatalf("compose answer = %v, want 2 variants and the second saved as a draft", body)
	}

	s.call("PUT", "/v1/users/u1", map[string]any{"name": "Ana"})
	send := map[string]any{"channel": "push", "templateId": tpl["id"], "audience": map[string]any{"userIds": []string{"u1"}}}
	if status, body, _ := s.call("POST", "/v1/notifications", send); status != 422 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "draft") {
		t.Fatalf("send of a draft = %d %v, want 422 saying it is a draft", status, body)
	}
	publish := map[string]any{"name": tpl["name"], "channel": "push", "title": tpl["title"], "body": tpl["body"], "status": "published"}
	if status, body, _ := s.call("PUT", "/v1/templates/"+tpl["id"].(string), publish); status != 200 || body["status"] != "published" {
		t.Fatalf("publish = %d %v", status, body)
	}
	if status, body, _ := s.call("POST", "/v1/notifications", send); status != 202 {
		t.Fatalf("send of the published template = %d %v, want 202", status, body)
	}

	status, body, _ = s.call("GET", "/v1/compose/usage", nil)
	total, _ := body["total"].(map[string]any)
	if status != 200 || total["requests"] != 1.0 || total["inputTokens"] != 800.0 || total["outputTokens"] != 90.0 {
		t.Errorf("GET /v1/compose/usage = %d %v, want 1 request of 800 + 90 tokens", status, body)
	}
}

// TestComposeThroughBedrock: the local mode with Bedrock honours
// AWS_ENDPOINT_URL_BEDROCK_RUNTIME, signs the call and names the model in
// the path.
func TestComposeThroughBedrock(t *testing.T) {
	fake := &modelFake{answer: `{"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_1","name":"submit_variants","input":` +
		spanishVariants + `}}]}},"stopReason":"tool_use","usage":{"inputTokens":700,"outputTokens":80,"totalTokens":780}}`}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	tmp := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(tmp, "no-aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(tmp, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "",
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": srv.URL,
	} {
		t.Setenv(k, v)
	}
	s := startComposeServer(t, map[string]string{"HERALD_COMPOSE_PROVIDER": "bedrock", "HERALD_BEDROCK_MODEL_ID": "eu.amazon.nova-lite-v1:0"})
	status, body, _ := s.call("POST", "/v1/compose", composeBody())
	if status != 200 || len(body["variants"].([]any)) != 2 || body["model"] != "eu.amazon.nova-lite-v1:0" {
		t.Fatalf("POST /v1/compose = %d %v, want 200 with 2 variants from the Bedrock model", status, body)
	}
	if len(fake.paths) != 1 || fake.paths[0] != "/model/eu.amazon.nova-lite-v1%3A0/converse" {
		t.Errorf("Converse called at %v, want /model/eu.amazon.nova-lite-v1%%3A0/converse", fake.paths)
	}
	if !strings.Contains(fake.auth[0], "Credential=AKIDTEST/") || !strings.Contains(fake.auth[0], "/eu-west-1/bedrock/aws4_request") {
		t.Errorf("Authorization = %q, want SigV4 for bedrock in eu-west-1", fake.auth[0])
	}
	tc, _ := fake.requests[0]["toolConfig"].(map[string]any)
	if choice, _ := tc["toolChoice"].(map[string]any); choice["tool"] == nil {
		t.Errorf("toolConfig = %v, want the tool forced", tc)
	}
}
