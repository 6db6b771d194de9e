package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/compose"
)

const (
	testModel = "llama3.2"
	testKey   = "sk-test-secret-0123456789"
	// madeUpID is what the tests' id generator names tool calls the server
	// left without an id.
	madeUpID = "call_made_up"
)

// fixedNow is the tests' clock, for Retry-After dates.
var fixedNow = time.Date(2026, 3, 9, 14, 0, 0, 0, time.UTC)

// testSchema is a JSON Schema as the composer would pass it. It is decoded
// from JSON so that its numbers compare equal to what the fake decodes.
func testSchema(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	err := json.Unmarshal([]byte(`{
		"type": "object",
		"properties": {
			"variants": {
				"type": "array",
				"minItems": 1,
				"items": {
					"type": "object",
					"properties": {"subject": {"type": "string", "maxLength": 80}, "body": {"type": "string"}},
					"required": ["subject", "body"]
				}
			}
		},
		"required": ["variants"]
	}`), &s)
	if err != nil {
		t.Fatalf("decode schema: %v", err)
	}
	return s
}

func testPrompt(t *testing.T) compose.Prompt {
	return compose.Prompt{
		System: "You write notification copy. Answer by calling write_variants.",
		User:   `{"brief":"order shipped","channel":"email","variants":1}`,
		Tool: compose.Tool{
			Name:        "write_variants",
			Description: "Returns the written variants.",
			Schema:      testSchema(t),
		},
		MaxTokens:   1024,
		Temperature: 0.7,
	}
}

// wireRequest is a chat-completions request as OpenAI documents it,
// written apart from the package's own types so that the fake checks the
// wire format rather than echoing the code under test. Pointers tell an
// absent field from a zero one.
type wireRequest struct {
	Model       string        `json:"model"`
	Messages    []wireMessage `json:"messages"`
	Tools       []wireTool    `json:"tools"`
	ToolChoice  any           `json:"tool_choice"`
	Temperature *float64      `json:"temperature"`
	MaxTokens   *int          `json:"max_tokens"`
	Stream      *bool         `json:"stream"`
}

type wireMessage struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content"`
	ToolCalls  []wireToolCall `json:"tool_calls"`
	ToolCallID string         `json:"tool_call_id"`
}

type wireTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		Parameters  map[string]any `json:"parameters"`
	} `json:"function"`
}

type wireToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// reply is what the fake answers.
type reply struct {
	status int
	header map[string]string
	// file names a recorded body under testdata; body is used when it is
	// empty.
	file string
	body string
}

// fakeAPI is an httptest chat-completions server that checks every
// request it receives and keeps the decoded bodies.
type fakeAPI struct {
	t      *testing.T
	apiKey string
	// path is the path requests must reach.
	path string
	// respond chooses the reply to a request.
	respond func(wireRequest) reply

	mu       sync.Mutex
	received []wireRequest
}

func newFakeAPI(t *testing.T, apiKey string, respond func(wireRequest) reply) (*fakeAPI, *httptest.Server) {
	t.Helper()
	f := &fakeAPI{t: t, apiKey: apiKey, path: "/v1/chat/completions", respond: respond}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// always replies r to every request.
func always(r reply) func(wireRequest) reply {
	return func(wireRequest) reply { return r }
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if r.URL.Path != f.path {
		t.Errorf("path = %q, want %q", r.URL.Path, f.path)
	}
	auth, hasAuth := r.Header.Get("Authorization"), r.Header.Values("Authorization") != nil
	if f.apiKey == "" && hasAuth {
		t.Errorf("Authorization = %q, want none without an API key", auth)
	}
	if f.apiKey != "" && auth != "Bearer "+f.apiKey {
		t.Errorf("Authorization = %q, want %q", auth, "Bearer "+f.apiKey)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var req wireRequest
	if err := dec.Decode(&req); err != nil {
		t.Errorf("decode request %s: %v", raw, err)
	}
	if req.Stream == nil || *req.Stream {
		t.Errorf("stream = %v, want false (a streamed answer is not read)", req.Stream)
	}
	f.mu.Lock()
	f.received = append(f.received, req)
	f.mu.Unlock()

	rep := f.respond(req)
	body := []byte(rep.body)
	if rep.file != "" {
		body = readTestdata(t, rep.file)
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	w.Write(body)
}

func (f *fakeAPI) requests() []wireRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wireRequest(nil), f.received...)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return b
}

// newTestModel returns a Model for the fake at baseURL with the tests'
// clock and id generator.
func newTestModel(t *testing.T, cfg Config) *Model {
	t.Helper()
	if cfg.Model == "" {
		cfg.Model = testModel
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	m.now = func() time.Time { return fixedNow }
	m.newID = func() string { return madeUpID }
	return m
}

func TestNew(t *testing.T) {
	tests := []struct {
		name         string
		cfg          Config
		wantEndpoint string
		// wantErr is a part of the error; "" when New must succeed.
		wantErr string
	}{
		{name: "ollama", cfg: Config{BaseURL: "http://127.0.0.1:11434/v1", Model: "llama3.2"}, wantEndpoint: "http://127.0.0.1:11434/v1/chat/completions"},
		{name: "trailing slash", cfg: Config{BaseURL: "http://127.0.0.1:11434/v1/", Model: "llama3.2"}, wantEndpoint: "http://127.0.0.1:11434/v1/chat/completions"},
		{name: "https with key", cfg: Config{BaseURL: "https://api.openai.com/v1", Model: "gpt-4.1-mini", APIKey: testKey}, wantEndpoint: "https://api.openai.com/v1/chat/completions"},
		{name: "host only", cfg: Config{BaseURL: "http://localhost:8080", Model: "qwen2.5"}, wantEndpoint: "http://localhost:8080/chat/completions"},
		{name: "query kept", cfg: Config{BaseURL: "https://gw.example.com/openai/v1?api-version=2024-10-21", Model: "gpt-4o"}, wantEndpoint: "https://gw.example.com/openai/v1/chat/completions?api-version=2024-10-21"},
		{name: "no model", cfg: Config{BaseURL: "http://127.0.0.1:11434/v1"}, wantErr: "HERALD_OPENAI_MODEL"},
		{name: "blank model", cfg: Config{BaseURL: "http://127.0.0.1:11434/v1", Model: "  "}, wantErr: "model is required"},
		{name: "no base url", cfg: Config{Model: "llama3.2"}, wantErr: "HERALD_OPENAI_BASE_URL"},
		{name: "relative", cfg: Config{BaseURL: "/v1", Model: "llama3.2"}, wantErr: "absolute http or https URL"},
		{name: "no scheme", cfg: Config{BaseURL: "127.0.0.1:11434/v1", Model: "llama3.2"}, wantErr: "base url"},
		{name: "other scheme", cfg: Config{BaseURL: "ftp://user:hunter2@example.com/v1", Model: "llama3.2"}, wantErr: "absolute http or https URL"},
		{name: "bad escape", cfg: Config{BaseURL: "http://user:hunter2@example.com/%zz", Model: "llama3.2"}, wantErr: "base url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("New(%+v) = nil error, want one containing %q", tt.cfg, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("New(%+v) = %q, want it to contain %q", tt.cfg, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("New(%+v) = %q, which shows the URL's password", tt.cfg, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v) = %v", tt.cfg, err)
			}
			if m.endpoint != tt.wantEndpoint {
				t.Errorf("endpoint = %q, want %q", m.endpoint, tt.wantEndpoint)
			}
			if got := m.ID(); got != tt.cfg.Model {
				t.Errorf("ID() = %q, want %q", got, tt.cfg.Model)
			}
			if m.client.Timeout != DefaultTimeout {
				t.Errorf("default client timeout = %v, want %v", m.client.Timeout, DefaultTimeout)
			}
		})
	}
}

func TestNewIDs(t *testing.T) {
	m, err := New(Config{BaseURL: "http://127.0.0.1:11434/v1", Model: testModel})
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.newID(), m.newID()
	if !strings.HasPrefix(a, "call_") || len(a) < len("call_")+16 {
		t.Errorf("newID() = %q, want call_ and a random suffix", a)
	}
	if a == b {
		t.Errorf("newID() = %q twice, want distinct ids", a)
	}
}

// wantFirst is the request for testPrompt with the given tool_choice.
func wantFirst(t *testing.T, p compose.Prompt, toolChoice any) wireRequest {
	temp, maxTokens, stream := p.Temperature, p.MaxTokens, false
	req := wireRequest{
		Model: testModel,
		Messages: []wireMessage{
			{Role: "system", Content: &p.System},
			{Role: "user", Content: &p.User},
		},
		ToolChoice:  toolChoice,
		Temperature: &temp,
		Stream:      &stream,
	}
	if maxTokens > 0 {
		req.MaxTokens = &maxTokens
	}
	var tl wireTool
	tl.Type = "function"
	tl.Function.Name = p.Tool.Name
	tl.Function.Description = p.Tool.Description
	tl.Function.Parameters = testSchema(t)
	req.Tools = []wireTool{tl}
	return req
}

func namedChoice(name string) any {
	return map[string]any{"type": "function", "function": map[string]any{"name": name}}
}

func TestGenerateRequest(t *testing.T) {
	tests := []struct {
		name    string
		baseURL func(srv string) string
		apiKey  string
		edit    func(*compose.Prompt)
	}{
		{name: "local without key", baseURL: func(s string) string { return s + "/v1" }},
		{name: "with key", baseURL: func(s string) string { return s + "/v1" }, apiKey: testKey},
		{name: "trailing slash", baseURL: func(s string) string { return s + "/v1/" }},
		{
			name:    "zero temperature and no token bound",
			baseURL: func(s string) string { return s + "/v1" },
			edit:    func(p *compose.Prompt) { p.Temperature, p.MaxTokens = 0, 0 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFakeAPI(t, tt.apiKey, always(reply{file: "tool_call.json"}))
			m := newTestModel(t, Config{BaseURL: tt.baseURL(srv.URL), APIKey: tt.apiKey})
			p := testPrompt(t)
			if tt.edit != nil {
				tt.edit(&p)
			}
			if _, err := m.Generate(context.Background(), p); err != nil {
				t.Fatalf("Generate() = %v", err)
			}
			got := fake.requests()
			want := []wireRequest{wantFirst(t, p, namedChoice(p.Tool.Name))}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("requests received (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerateRetry(t *testing.T) {
	const problems = "variants[0].subject: longer than 80 characters"
	input := json.RawMessage(`{"variants":[{"subject":"A very long subject","body":"Hi"}]}`)
	tests := []struct {
		name  string
		retry compose.Retry
		// want is what follows the system and user messages.
		want []wireMessage
	}{
		{
			name:  "tool call",
			retry: compose.Retry{Answer: compose.Answer{Input: input, ToolUseID: "call_12345xyz"}, Problems: problems},
			want: []wireMessage{
				{Role: "assistant", ToolCalls: []wireToolCall{toolCallOf("call_12345xyz", "write_variants", string(input))}},
				{Role: "tool", ToolCallID: "call_12345xyz", Content: ptr(problems)},
			},
		},
		{
			name:  "tool call with text",
			retry: compose.Retry{Answer: compose.Answer{Input: input, ToolUseID: madeUpID, Text: "Here you go."}, Problems: problems},
			want: []wireMessage{
				{Role: "assistant", Content: ptr("Here you go."), ToolCalls: []wireToolCall{toolCallOf(madeUpID, "write_variants", string(input))}},
				{Role: "tool", ToolCallID: madeUpID, Content: ptr(problems)},
			},
		},
		{
			name:  "text answer",
			retry: compose.Retry{Answer: compose.Answer{Text: "Sure! Subject: Your order shipped"}, Problems: "no JSON object in the answer"},
			want: []wireMessage{
				{Role: "assistant", Content: ptr("Sure! Subject: Your order shipped")},
				{Role: "user", Content: ptr("no JSON object in the answer")},
			},
		},
		{
			// Servers that parse the arguments of past calls would refuse
			// to replay these, so they go back as text.
			name:  "malformed arguments",
			retry: compose.Retry{Answer: compose.Answer{ToolUseID: "call_x1y2z3", Text: `{"variants":[{"subject":"Hi`}, Problems: "malformed JSON"},
			want: []wireMessage{
				{Role: "assistant", Content: ptr(`{"variants":[{"subject":"Hi`)},
				{Role: "user", Content: ptr("malformed JSON")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFakeAPI(t, "", always(reply{file: "tool_call.json"}))
			m := newTestModel(t, Config{BaseURL: srv.URL + "/v1"})
			p := testPrompt(t)
			p.Retry = &tt.retry
			if _, err := m.Generate(context.Background(), p); err != nil {
				t.Fatalf("Generate() = %v", err)
			}
			want := wantFirst(t, p, namedChoice(p.Tool.Name))
			want.Messages = append(want.Messages, tt.want...)
			if diff := cmp.Diff([]wireRequest{want}, fake.requests()); diff != "" {
				t.Errorf("requests received (-want +got):\n%s", diff)
			}
		})
	}
}

func toolCallOf(id, name, args string) wireToolCall {
	var c wireToolCall
	c.ID, c.Type, c.Function.Name, c.Function.Arguments = id, "function", name, args
	return c
}

func TestGenerateAnswer(t *testing.T) {
	const variants = `{"variants":[{"subject":"Your order has shipped","body":"Hi {{name}}, your order is on its way."}]}`
	tests := []struct {
		name string
		file string
		want compose.Answer
	}{
		{
			name: "tool call",
			file: "tool_call.json",
			want: compose.Answer{
				Input: json.RawMessage(variants), ToolUseID: "call_12345xyz", StopReason: "tool_calls",
				Usage: compose.Usage{InputTokens: 412, OutputTokens: 37},
			},
		},
		{
			name: "arguments as an object, no call id",
			file: "arguments_object.json",
			want: compose.Answer{
				Input: json.RawMessage(variants), ToolUseID: madeUpID, StopReason: "tool_calls",
				Usage: compose.Usage{InputTokens: 388, OutputTokens: 52},
			},
		},
		{
			name: "text only",
			file: "text_only.json",
			want: compose.Answer{
				Text: "Here are the variants:\n" + variants, StopReason: "stop",
				Usage: compose.Usage{InputTokens: 388, OutputTokens: 41},
			},
		},
		{
			name: "malformed arguments",
			file: "malformed_arguments.json",
			want: compose.Answer{
				ToolUseID: "call_x1y2z3", StopReason: "length",
				Text:  `{"variants":[{"subject":"Your order has shipped","body":"Hi {{name}}, your`,
				Usage: compose.Usage{InputTokens: 388, OutputTokens: 20},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFakeAPI(t, "", always(reply{file: tt.file}))
			m := newTestModel(t, Config{BaseURL: srv.URL + "/v1"})
			got, err := m.Generate(context.Background(), testPrompt(t))
			if err != nil {
				t.Fatalf("Generate() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Generate() answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestArguments(t *testing.T) {
	tests := []struct {
		raw       string
		wantInput string
		wantText  string
	}{
		{raw: `"{\"a\": 1}"`, wantInput: `{"a":1}`},
		{raw: `{"a": 1}`, wantInput: `{"a":1}`},
		{raw: `"{\"a\": "`, wantText: `{"a": `},
		{raw: `"not json"`, wantText: "not json"},
		{raw: `""`},
		{raw: `null`},
		{raw: ``},
	}
	for _, tt := range tests {
		input, text := arguments(json.RawMessage(tt.raw))
		if string(input) != tt.wantInput || text != tt.wantText {
			t.Errorf("arguments(%s) = %s, %q, want %s, %q", tt.raw, input, text, tt.wantInput, tt.wantText)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name      string
		apiKey    string
		reply     reply
		wantKind  compose.ErrorKind
		wantRetry time.Duration
		// wantMessage are parts of the ModelError's Message.
		wantMessage []string
	}{
		{
			name:        "throttled",
			apiKey:      testKey,
			reply:       reply{status: 429, header: map[string]string{"Retry-After": "7"}, file: "throttled.json"},
			wantKind:    compose.Throttled,
			wantRetry:   7 * time.Second,
			wantMessage: []string{"HTTP 429", "Rate limit reached", "retry later"},
		},
		{
			name:        "throttled until a date",
			reply:       reply{status: 429, header: map[string]string{"Retry-After": fixedNow.Add(30 * time.Second).Format(http.TimeFormat)}, file: "throttled.json"},
			wantKind:    compose.Throttled,
			wantRetry:   30 * time.Second,
			wantMessage: []string{"HTTP 429"},
		},
		{
			name:        "throttled in milliseconds",
			reply:       reply{status: 429, header: map[string]string{"Retry-After-Ms": "1500", "Retry-After": "2"}, file: "throttled.json"},
			wantKind:    compose.Throttled,
			wantRetry:   1500 * time.Millisecond,
			wantMessage: []string{"HTTP 429"},
		},
		{
			name:        "throttled without a wait",
			reply:       reply{status: 429, file: "throttled.json"},
			wantKind:    compose.Throttled,
			wantMessage: []string{"HTTP 429"},
		},
		{
			name:        "quota spent",
			apiKey:      testKey,
			reply:       reply{status: 429, file: "insufficient_quota.json"},
			wantKind:    compose.Denied,
			wantMessage: []string{"no quota left", "billing", "HERALD_OPENAI_API_KEY"},
		},
		{
			name:        "access denied",
			apiKey:      testKey,
			reply:       reply{status: 401, file: "denied.json"},
			wantKind:    compose.Denied,
			wantMessage: []string{"rejected the API key", "HTTP 401", "Incorrect API key provided", "check HERALD_OPENAI_API_KEY"},
		},
		{
			name:        "key needed",
			reply:       reply{status: 401, body: `{"error":{"message":"You didn't provide an API key.","type":"invalid_request_error","code":null}}`},
			wantKind:    compose.Denied,
			wantMessage: []string{"requires an API key", "set HERALD_OPENAI_API_KEY"},
		},
		{
			name:        "proxy echoes the key",
			apiKey:      testKey,
			reply:       reply{status: 401, body: "invalid token: Bearer " + testKey + "\n"},
			wantKind:    compose.Denied,
			wantMessage: []string{"invalid token: Bearer [redacted]"},
		},
		{
			name:        "forbidden",
			apiKey:      testKey,
			reply:       reply{status: 403, body: `{"error":"project does not have access to model"}`},
			wantKind:    compose.Denied,
			wantMessage: []string{"HTTP 403: project does not have access to model", "HERALD_OPENAI_API_KEY"},
		},
		{
			name:     "model not found",
			reply:    reply{status: 404, file: "model_not_found.json"},
			wantKind: compose.Misconfigured,
			wantMessage: []string{
				`model "llama3.2" not found`, `HTTP 404: model "llama3.2" not found, try pulling it first`,
				"check HERALD_OPENAI_MODEL", "`ollama pull llama3.2`",
			},
		},
		{
			name:        "no API at the path",
			reply:       reply{status: 404, body: "404 page not found"},
			wantKind:    compose.Misconfigured,
			wantMessage: []string{"HTTP 404: 404 page not found", "HERALD_OPENAI_MODEL", "HERALD_OPENAI_BASE_URL"},
		},
		{
			name:        "model without tools",
			reply:       reply{status: 400, file: "no_tool_support.json"},
			wantKind:    compose.Misconfigured,
			wantMessage: []string{"cannot call tools", "does not support tools", "HERALD_OPENAI_MODEL"},
		},
		{
			name:        "bad request",
			reply:       reply{status: 400, file: "context_length.json"},
			wantKind:    compose.Misconfigured,
			wantMessage: []string{"HTTP 400: This model's maximum context length is 8192 tokens", "HERALD_OPENAI_MODEL"},
		},
		{
			name:        "unprocessable, FastAPI detail",
			reply:       reply{status: 422, body: `{"detail":[{"loc":["body","temperature"],"msg":"less than or equal to 2","type":"value_error"}]}`},
			wantKind:    compose.Misconfigured,
			wantMessage: []string{"HTTP 422:", "less than or equal to 2"},
		},
		{
			name:        "content filter on the prompt",
			reply:       reply{status: 400, body: `{"error":{"message":"The response was filtered due to the prompt triggering content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}}`},
			wantKind:    compose.Blocked,
			wantMessage: []string{"content filter", "change the brief"},
		},
		{
			name:        "server error",
			reply:       reply{status: 500, file: "server_error.json"},
			wantKind:    compose.Unavailable,
			wantMessage: []string{"HTTP 500: llama runner process has terminated: signal: killed", "retry later"},
		},
		{
			name:        "overloaded",
			reply:       reply{status: 503, header: map[string]string{"Retry-After": "20"}, body: "<html><body><h1>503 Service Unavailable</h1>\n</body></html>"},
			wantKind:    compose.Unavailable,
			wantRetry:   20 * time.Second,
			wantMessage: []string{"HTTP 503: <html><body><h1>503 Service Unavailable</h1> </body></html>"},
		},
		{
			name:        "long message truncated",
			reply:       reply{status: 500, body: `{"error":{"message":"` + strings.Repeat("x", 1000) + `"}}`},
			wantKind:    compose.Unavailable,
			wantMessage: []string{strings.Repeat("x", maxMessage) + "…)"},
		},
		{
			name:        "no choices",
			reply:       reply{file: "no_choices.json"},
			wantKind:    compose.Unavailable,
			wantMessage: []string{"without a completion", "retry"},
		},
		{
			name:        "error in a 200",
			reply:       reply{body: `{"error":{"message":"upstream provider timed out","code":502}}`},
			wantKind:    compose.Unavailable,
			wantMessage: []string{"upstream provider timed out"},
		},
		{
			name:        "content filter on the answer",
			reply:       reply{file: "content_filter.json"},
			wantKind:    compose.Blocked,
			wantMessage: []string{"content filter"},
		},
		{
			name:        "not a chat completion",
			reply:       reply{body: "<!doctype html><title>Open WebUI</title>"},
			wantKind:    compose.Misconfigured,
			wantMessage: []string{"not a chat completion", "HERALD_OPENAI_BASE_URL"},
		},
		{
			name:        "answer too large",
			reply:       reply{body: `{"choices":[` + strings.Repeat(" ", maxBody) + `]}`},
			wantKind:    compose.Unavailable,
			wantMessage: []string{"larger than 4 MiB"},
		},
		{
			name:        "redirect",
			reply:       reply{status: 304},
			wantKind:    compose.Misconfigured,
			wantMessage: []string{"HTTP 304", "HERALD_OPENAI_BASE_URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFakeAPI(t, tt.apiKey, always(tt.reply))
			m := newTestModel(t, Config{BaseURL: srv.URL + "/v1", APIKey: tt.apiKey})
			_, err := m.Generate(context.Background(), testPrompt(t))
			me := checkModelError(t, err, tt.wantKind, tt.wantMessage)
			if me == nil {
				return
			}
			if me.RetryAfter != tt.wantRetry {
				t.Errorf("RetryAfter = %v, want %v", me.RetryAfter, tt.wantRetry)
			}
		})
	}
}

// checkModelError checks that err is a *compose.ModelError of kind whose
// message holds each of want and never the API key, and returns it.
func checkModelError(t *testing.T, err error, kind compose.ErrorKind, want []string) *compose.ModelError {
	t.Helper()
	me, ok := compose.AsModelError(err)
	if !ok {
		t.Fatalf("Generate() error = %v (%T), want a *compose.ModelError", err, err)
	}
	if me.Kind != kind {
		t.Errorf("Kind = %q, want %q (%v)", me.Kind, kind, err)
	}
	for _, w := range want {
		if !strings.Contains(me.Message, w) {
			t.Errorf("Message = %q, want it to contain %q", me.Message, w)
		}
	}
	if strings.Contains(err.Error(), testKey) {
		t.Errorf("Error() = %q, which shows the API key", err)
	}
	return me
}

func TestGenerateUnreachable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL + "/v1"
		srv.Close()
		m := newTestModel(t, Config{BaseURL: base, APIKey: testKey})
		_, err := m.Generate(context.Background(), testPrompt(t))
		checkModelError(t, err, compose.Unavailable, []string{"cannot reach " + base + ": is the server running?"})
	})

	// slow answers only when the test ends, as a model that is still
	// loading would.
	slow := func(t *testing.T) string {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		return srv.URL + "/v1"
	}

	t.Run("context deadline", func(t *testing.T) {
		// The default client waits two minutes; the caller's deadline
		// must end the call first.
		m := newTestModel(t, Config{BaseURL: slow(t)})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := m.Generate(ctx, testPrompt(t))
		checkModelError(t, err, compose.Unavailable, []string{"before the deadline"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Generate() = %v, want it to wrap context.DeadlineExceeded", err)
		}
	})

	t.Run("client timeout", func(t *testing.T) {
		m := newTestModel(t, Config{BaseURL: slow(t), HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
		_, err := m.Generate(context.Background(), testPrompt(t))
		checkModelError(t, err, compose.Unavailable, []string{"no answer from", "within 50ms"})
	})

	t.Run("canceled", func(t *testing.T) {
		m := newTestModel(t, Config{BaseURL: slow(t)})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := m.Generate(ctx, testPrompt(t))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Generate() = %v, want it to wrap context.Canceled", err)
		}
		if _, ok := compose.AsModelError(err); ok {
			t.Errorf("Generate() = %v, a *compose.ModelError, want the caller's cancellation as is", err)
		}
	})
}

// rejecting answers like a server that refuses the given tool_choice forms
// ("function" for the object form, "required") with a 400 naming
// tool_choice, and gives the recorded tool call otherwise.
func rejecting(forms ...string) func(wireRequest) reply {
	return func(req wireRequest) reply {
		form := "omitted"
		switch c := req.ToolChoice.(type) {
		case string:
			form = c
		case map[string]any:
			form = "function"
		}
		for _, f := range forms {
			if f == form {
				file := "tool_choice_object_rejected.json"
				if form == "required" {
					file = "tool_choice_required_rejected.json"
				}
				return reply{status: http.StatusBadRequest, file: file}
			}
		}
		return reply{file: "tool_call.json"}
	}
}

func TestGenerateToolChoiceFallback(t *testing.T) {
	named := namedChoice("write_variants")
	tests := []struct {
		name    string
		rejects []string
		// wantFirst and wantLater are the tool_choice of each request of
		// the first call and of a later one.
		wantFirst []any
		wantLater []any
	}{
		{name: "object accepted", wantFirst: []any{named}, wantLater: []any{named}},
		{name: "object rejected", rejects: []string{"function"}, wantFirst: []any{named, "required"}, wantLater: []any{"required"}},
		{
			name: "object and required rejected", rejects: []string{"function", "required"},
			wantFirst: []any{named, "required", nil}, wantLater: []any{nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, srv := newFakeAPI(t, "", rejecting(tt.rejects...))
			m := newTestModel(t, Config{BaseURL: srv.URL + "/v1"})
			p := testPrompt(t)
			for call, want := range [][]any{tt.wantFirst, tt.wantLater} {
				before := len(fake.requests())
				got, err := m.Generate(context.Background(), p)
				if err != nil {
					t.Fatalf("call %d: Generate() = %v", call+1, err)
				}
				if got.ToolUseID != "call_12345xyz" {
					t.Errorf("call %d: ToolUseID = %q, want call_12345xyz", call+1, got.ToolUseID)
				}
				var choices []any
				for _, req := range fake.requests()[before:] {
					choices = append(choices, req.ToolChoice)
					// Nothing but tool_choice changes between attempts.
					if diff := cmp.Diff(wantFirst(t, p, req.ToolChoice), req); diff != "" {
						t.Errorf("call %d: request (-want +got):\n%s", call+1, diff)
					}
				}
				if diff := cmp.Diff(want, choices); diff != "" {
					t.Errorf("call %d: tool_choice of each request (-want +got):\n%s", call+1, diff)
				}
			}
		})
	}
}

func TestGenerateToolChoiceRejectedForGood(t *testing.T) {
	// A 400 that names tool_choice when none was sent is the server's
	// last word, not a reason to loop.
	fake, srv := newFakeAPI(t, "", always(reply{status: http.StatusBadRequest, file: "tool_choice_object_rejected.json"}))
	m := newTestModel(t, Config{BaseURL: srv.URL + "/v1"})
	_, err := m.Generate(context.Background(), testPrompt(t))
	checkModelError(t, err, compose.Misconfigured, []string{"HTTP 400: Invalid tool_choice"})
	if got := len(fake.requests()); got != 3 {
		t.Errorf("requests = %d, want 3 (object, required, omitted)", got)
	}
}

func TestGenerateConcurrent(t *testing.T) {
	fake, srv := newFakeAPI(t, "", rejecting("function", "required"))
	m := newTestModel(t, Config{BaseURL: srv.URL + "/v1"})
	p := testPrompt(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := m.Generate(context.Background(), p); err != nil {
				t.Errorf("Generate() = %v", err)
			}
		})
	}
	wg.Wait()
	before := len(fake.requests())
	if _, err := m.Generate(context.Background(), p); err != nil {
		t.Fatalf("Generate() = %v", err)
	}
	later := fake.requests()[before:]
	if len(later) != 1 || later[0].ToolChoice != nil {
		t.Errorf("after concurrent fallbacks, requests = %+v, want one without tool_choice", later)
	}
}
