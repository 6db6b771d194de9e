package bedrock

import (
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/compose"
)

const (
	haiku      = "anthropic.claude-3-haiku-20240307-v1:0"
	haikuPath  = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
	toolUseID  = "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"
	toolName   = "write_notification"
	toolReason = "Write the notification: its subject and body."
)

// reply is one answer of the fake Bedrock: a status, the error type
// header of a failure, and a recorded body from testdata.
type reply struct {
	status    int
	errorType string // X-Amzn-ErrorType
	header    http.Header
	file      string
}

// success is a 200 answer with the recorded body in file.
func success(file string) reply { return reply{status: http.StatusOK, file: file} }

// received is one request the fake Bedrock got.
type received struct {
	path string // escaped, as sent
	body map[string]any
}

// fakeBedrock is an httptest server standing in for Bedrock Runtime. It
// checks that each request is a signed Converse call and answers with
// what respond says.
type fakeBedrock struct {
	t       *testing.T
	respond func(n int, req received) reply

	mu   sync.Mutex
	reqs []received
}

func (f *fakeBedrock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if r.Method != http.MethodPost || !strings.HasPrefix(path, "/model/") || !strings.HasSuffix(path, "/converse") {
		f.t.Errorf("request %s %s, want POST /model/{modelId}/converse", r.Method, path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		f.t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKID/") || !strings.Contains(got, "/us-east-1/bedrock/aws4_request") {
		f.t.Errorf("Authorization = %q, want a SigV4 signature by AKID for bedrock in us-east-1", got)
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	req := received{path: path, body: decode(f.t, string(raw)).(map[string]any)}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()

	rep := f.respond(n, req)
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", "0b0f5d0e-6d5c-4b8e-9d7a-3f1e2c4b5a69")
	if rep.errorType != "" {
		w.Header().Set("X-Amzn-ErrorType", rep.errorType)
	}
	w.WriteHeader(rep.status)
	w.Write(testdata(f.t, rep.file))
}

func (f *fakeBedrock) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.reqs...)
}

// always answers every request with r.
func always(r reply) func(int, received) reply {
	return func(int, received) reply { return r }
}

// clientAt is a real SDK client for Bedrock at url, signing as AKID in
// us-east-1, with the SDK's retries off so each call is one request.
func clientAt(url string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		RetryMaxAttempts: 1,
	})
}

// newModel starts a fake Bedrock answering with respond and returns a
// Model whose real SDK client is pointed at it.
func newModel(t *testing.T, cfg Config, respond func(int, received) reply) (*Model, *fakeBedrock) {
	t.Helper()
	f := &fakeBedrock{t: t, respond: respond}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	if cfg.ModelID == "" {
		cfg.ModelID = haiku
	}
	m, err := New(clientAt(srv.URL), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, f
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return b
}

// decode reads JSON text with exact numbers, for comparing JSON by value.
func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode JSON %q: %v", s, err)
	}
	return v
}

func schema() map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"subject":  map[string]any{"type": "string", "maxLength": 78},
			"body":     map[string]any{"type": "string"},
			"channels": map[string]any{"type": "array", "items": map[string]any{"enum": []any{"email", "push", "sms"}}},
		},
		"required":             []string{"subject", "body"},
		"additionalProperties": false,
	}
}

// schemaJSON is schema() as the request carries it.
const schemaJSON = `{
	"type": "object",
	"properties": {
		"subject": {"type": "string", "maxLength": 78},
		"body": {"type": "string"},
		"channels": {"type": "array", "items": {"enum": ["email", "push", "sms"]}}
	},
	"required": ["subject", "body"],
	"additionalProperties": false
}`

func prompt() compose.Prompt {
	return compose.Prompt{
		System:      "You write notifications for Herald. Call write_notification with the result.",
		User:        `{"request":"remind Ana that invoice 2041 is due on Friday","channels":["email","push"]}`,
		Tool:        compose.Tool{Name: toolName, Description: toolReason, Schema: schema()},
		MaxTokens:   1024,
		Temperature: 0.5,
	}
}

// toolSpecJSON is the toolConfig.tools of every request for prompt().
const toolSpecJSON = `[{"toolSpec": {
	"name": "write_notification",
	"description": "Write the notification: its subject and body.",
	"inputSchema": {"json": ` + schemaJSON + `}
}}]`

const firstTurnJSON = `{"role": "user", "content": [{"text": "{\"request\":\"remind Ana that invoice 2041 is due on Friday\",\"channels\":[\"email\",\"push\"]}"}]}`

func TestNew(t *testing.T) {
	client := bedrockruntime.New(bedrockruntime.Options{Region: "us-east-1"})
	tests := []struct {
		name    string
		client  Converser
		cfg     Config
		wantErr string
	}{
		{name: "model only", client: client, cfg: Config{ModelID: haiku}},
		{name: "model and guardrail", client: client, cfg: Config{ModelID: haiku, GuardrailID: "gr-abc123", GuardrailVersion: "3"}},
		{name: "no model", client: client, cfg: Config{ModelID: "  "}, wantErr: "no model id"},
		{name: "guardrail without version", client: client, cfg: Config{ModelID: haiku, GuardrailID: "gr-abc123"}, wantErr: "has no version"},
		{name: "version without guardrail", client: client, cfg: Config{ModelID: haiku, GuardrailVersion: "3"}, wantErr: "without a guardrail id"},
		{name: "no client", cfg: Config{ModelID: haiku}, wantErr: "no client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.client, tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New(%+v) error = %v, want one containing %q", tt.cfg, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%+v): %v", tt.cfg, err)
			}
			if got := m.ID(); got != tt.cfg.ModelID {
				t.Errorf("ID() = %q, want %q", got, tt.cfg.ModelID)
			}
		})
	}
}

func TestGenerateRequest(t *testing.T) {
	withRetry := func(a compose.Answer, problems string) compose.Prompt {
		p := prompt()
		p.Retry = &compose.Retry{Answer: a, Problems: problems}
		return p
	}
	noMax := prompt()
	noMax.MaxTokens = 0
	noMax.Tool.Description = ""

	tests := []struct {
		name     string
		cfg      Config
		prompt   compose.Prompt
		wantPath string
		want     string // the whole request body
	}{
		{
			name:     "first call",
			prompt:   prompt(),
			wantPath: haikuPath,
			want: `{
				"system": [{"text": "You write notifications for Herald. Call write_notification with the result."}],
				"messages": [` + firstTurnJSON + `],
				"toolConfig": {"tools": ` + toolSpecJSON + `, "toolChoice": {"tool": {"name": "write_notification"}}},
				"inferenceConfig": {"maxTokens": 1024, "temperature": 0.5}
			}`,
		},
		{
			name:     "guardrail",
			cfg:      Config{GuardrailID: "gr-abc123", GuardrailVersion: "3"},
			prompt:   prompt(),
			wantPath: haikuPath,
			want: `{
				"system": [{"text": "You write notifications for Herald. Call write_notification with the result."}],
				"messages": [` + firstTurnJSON + `],
				"toolConfig": {"tools": ` + toolSpecJSON + `, "toolChoice": {"tool": {"name": "write_notification"}}},
				"inferenceConfig": {"maxTokens": 1024, "temperature": 0.5},
				"guardrailConfig": {"guardrailIdentifier": "gr-abc123", "guardrailVersion": "3"}
			}`,
		},
		{
			name:     "inference profile ARN, no token limit, no description",
			cfg:      Config{ModelID: "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0"},
			prompt:   noMax,
			wantPath: "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-sonnet-4-20250514-v1%3A0/converse",
			want: `{
				"system": [{"text": "You write notifications for Herald. Call write_notification with the result."}],
				"messages": [` + firstTurnJSON + `],
				"toolConfig": {
					"tools": [{"toolSpec": {"name": "write_notification", "inputSchema": {"json": ` + schemaJSON + `}}}],
					"toolChoice": {"tool": {"name": "write_notification"}}
				},
				"inferenceConfig": {"temperature": 0.5}
			}`,
		},
		{
			name: "retry after a tool call",
			prompt: withRetry(compose.Answer{
				Input:     json.RawMessage(`{"subject":"Invoice due","body":"","invoice":9007199254740993}`),
				ToolUseID: toolUseID,
				Text:      "Here it is.",
			}, "body: must not be empty"),
			wantPath: haikuPath,
			want: `{
				"system": [{"text": "You write notifications for Herald. Call write_notification with the result."}],
				"messages": [
					` + firstTurnJSON + `,
					{"role": "assistant", "content": [
						{"text": "Here it is."},
						{"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "write_notification", "input": {"subject": "Invoice due", "body": "", "invoice": 9007199254740993}}}
					]},
					{"role": "user", "content": [
						{"toolResult": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "content": [{"text": "body: must not be empty"}], "status": "error"}}
					]}
				],
				"toolConfig": {"tools": ` + toolSpecJSON + `, "toolChoice": {"tool": {"name": "write_notification"}}},
				"inferenceConfig": {"maxTokens": 1024, "temperature": 0.5}
			}`,
		},
		{
			name: "retry after a tool call whose input is not an object",
			prompt: withRetry(compose.Answer{
				Input:     json.RawMessage(`{"subject":"Invoice d`),
				ToolUseID: toolUseID,
			}, ""),
			wantPath: haikuPath,
			want: `{
				"system": [{"text": "You write notifications for Herald. Call write_notification with the result."}],
				"messages": [
					` + firstTurnJSON + `,
					{"role": "assistant", "content": [
						{"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "write_notification", "input": {}}}
					]},
					{"role": "user", "content": [
						{"toolResult": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "content": [{"text": "The answer was rejected. Call the tool again with a corrected answer."}], "status": "error"}}
					]}
				],
				"toolConfig": {"tools": ` + toolSpecJSON + `, "toolChoice": {"tool": {"name": "write_notification"}}},
				"inferenceConfig": {"maxTokens": 1024, "temperature": 0.5}
			}`,
		},
		{
			name:     "retry after a text answer",
			prompt:   withRetry(compose.Answer{Text: "Sure! Your invoice is due on Friday."}, "answer by calling write_notification"),
			wantPath: haikuPath,
			want: `{
				"system": [{"text": "You write notifications for Herald. Call write_notification with the result."}],
				"messages": [
					` + firstTurnJSON + `,
					{"role": "assistant", "content": [{"text": "Sure! Your invoice is due on Friday."}]},
					{"role": "user", "content": [{"text": "answer by calling write_notification"}]}
				],
				"toolConfig": {"tools": ` + toolSpecJSON + `, "toolChoice": {"tool": {"name": "write_notification"}}},
				"inferenceConfig": {"maxTokens": 1024, "temperature": 0.5}
			}`,
		},
		{
			name:     "retry after an empty answer",
			prompt:   withRetry(compose.Answer{Text: " \n"}, "answer by calling write_notification"),
			wantPath: haikuPath,
			want: `{
				"system": [{"text": "You write notifications for Herald. Call write_notification with the result."}],
				"messages": [
					{"role": "user", "content": [
						{"text": "{\"request\":\"remind Ana that invoice 2041 is due on Friday\",\"channels\":[\"email\",\"push\"]}"},
						{"text": "answer by calling write_notification"}
					]}
				],
				"toolConfig": {"tools": ` + toolSpecJSON + `, "toolChoice": {"tool": {"name": "write_notification"}}},
				"inferenceConfig": {"maxTokens": 1024, "temperature": 0.5}
			}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, f := newModel(t, tt.cfg, always(success("converse-tool-use.json")))
			if _, err := m.Generate(context.Background(), tt.prompt); err != nil {
				t.Fatalf("Generate: %v", err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("Bedrock got %d requests, want 1", len(reqs))
			}
			if reqs[0].path != tt.wantPath {
				t.Errorf("path = %q, want %q", reqs[0].path, tt.wantPath)
			}
			if diff := cmp.Diff(decode(t, tt.want), any(reqs[0].body)); diff != "" {
				t.Errorf("request body mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerateAnswer(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		want     compose.Answer
		wantKind compose.ErrorKind // empty: no error
		wantMsg  string
	}{
		{
			name: "tool call",
			file: "converse-tool-use.json",
			want: compose.Answer{
				Input:      json.RawMessage(`{"amount":120.50,"body":"Hi Ana, invoice 2041 for 120.50 EUR is due on Friday.","channels":["email","push"],"footer":null,"invoice":9007199254740993,"subject":"Your invoice is due Friday","urgent":false}`),
				ToolUseID:  toolUseID,
				Text:       "I'll write the reminder now.",
				StopReason: "tool_use",
				Usage:      compose.Usage{InputTokens: 812, OutputTokens: 97},
			},
		},
		{
			name: "text instead of a tool call",
			file: "converse-text.json",
			want: compose.Answer{
				Text:       `{"subject": "Your invoice is due Friday", "body": "Hi Ana, invoice 2041 is due on Friday."}`,
				StopReason: "end_turn",
				Usage:      compose.Usage{InputTokens: 640, OutputTokens: 38},
			},
		},
		{
			name: "prose that is not JSON",
			file: "converse-malformed.json",
			want: compose.Answer{
				Text:       "Sure! Here is a friendly reminder: your invoice is due on Friday.",
				StopReason: "end_turn",
				Usage:      compose.Usage{InputTokens: 640, OutputTokens: 17},
			},
		},
		{
			name: "cut off at the token limit",
			file: "converse-max-tokens.json",
			want: compose.Answer{
				Input:      json.RawMessage(`{}`),
				ToolUseID:  "tooluse_9xQw2cR4TuGmZ1bY0aLp3s",
				StopReason: "max_tokens",
				Usage:      compose.Usage{InputTokens: 812, OutputTokens: 64},
			},
			wantKind: compose.Unavailable,
			wantMsg:  "model " + haiku + " reached the token limit (1024) before finishing its answer: try again, ask for shorter content, or raise the limit",
		},
		{
			name: "guardrail intervened",
			file: "converse-guardrail.json",
			want: compose.Answer{
				Text:       "Sorry, this notification cannot be written: it touches a denied topic.",
				StopReason: "guardrail_intervened",
			},
			wantKind: compose.Blocked,
			wantMsg:  "Sorry, this notification cannot be written: it touches a denied topic.",
		},
		{
			name: "content filtered",
			file: "converse-content-filtered.json",
			want: compose.Answer{
				StopReason: "content_filtered",
				Usage:      compose.Usage{InputTokens: 702},
			},
			wantKind: compose.Blocked,
			wantMsg:  "the content filter of model " + haiku + " stopped the answer: rephrase the request",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newModel(t, Config{GuardrailID: "gr-abc123", GuardrailVersion: "3"}, always(success(tt.file)))
			got, err := m.Generate(context.Background(), prompt())
			if tt.wantKind == "" && err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if tt.wantKind != "" {
				me, ok := compose.AsModelError(err)
				if !ok {
					t.Fatalf("Generate error = %v, want a *compose.ModelError", err)
				}
				if me.Kind != tt.wantKind || me.Message != tt.wantMsg {
					t.Errorf("Generate error = %s %q, want %s %q", me.Kind, me.Message, tt.wantKind, tt.wantMsg)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Generate answer mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	notFound := reply{status: http.StatusNotFound, errorType: "ResourceNotFoundException", file: "error-not-found.json"}
	// The messages several codes share.
	const (
		throttling = "Bedrock is throttling requests to model " + haiku + ": try again in a minute, or request a higher requests- or tokens-per-minute quota for it (a cross-region inference profile also spreads the load)"
		failed     = "Bedrock or model " + haiku + " failed to answer: try again later"
		denied     = "the function's role may not invoke model " + haiku + ": grant it bedrock:InvokeModel on the model (and on the inference profile and the models it routes to, when the id is a profile), and enable access to the model in the Bedrock console"
	)
	tests := []struct {
		name           string
		cfg            Config
		reply          reply
		wantKind       compose.ErrorKind
		wantMsg        string
		wantRetryAfter time.Duration
	}{
		{
			name:     "throttled",
			reply:    reply{status: http.StatusTooManyRequests, errorType: "ThrottlingException", file: "error-throttling.json"},
			wantKind: compose.Throttled,
			wantMsg:  throttling,
		},
		{
			name: "throttled, with the service's error type suffix and a Retry-After",
			reply: reply{
				status:    http.StatusTooManyRequests,
				errorType: "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
				header:    http.Header{"Retry-After": {"7"}},
				file:      "error-throttling.json",
			},
			wantKind:       compose.Throttled,
			wantMsg:        throttling,
			wantRetryAfter: 7 * time.Second,
		},
		{
			name:     "quota used up",
			reply:    reply{status: http.StatusBadRequest, errorType: "ServiceQuotaExceededException", file: "error-quota.json"},
			wantKind: compose.Throttled,
			wantMsg:  "the AWS account has used up its Bedrock quota for model " + haiku + ": wait for it to reset, or request a higher quota in Service Quotas",
		},
		{
			name:     "access denied",
			reply:    reply{status: http.StatusForbidden, errorType: "AccessDeniedException", file: "error-access-denied.json"},
			wantKind: compose.Denied,
			wantMsg:  denied,
		},
		{
			name:     "access denied with a guardrail",
			cfg:      Config{GuardrailID: "gr-abc123", GuardrailVersion: "3"},
			reply:    reply{status: http.StatusForbidden, errorType: "AccessDeniedException", file: "error-access-denied.json"},
			wantKind: compose.Denied,
			wantMsg:  denied + "; it also needs bedrock:ApplyGuardrail on guardrail gr-abc123",
		},
		{
			name:     "bad credentials",
			reply:    reply{status: http.StatusForbidden, errorType: "UnrecognizedClientException", file: "error-unrecognized-client.json"},
			wantKind: compose.Denied,
			wantMsg:  "Bedrock refused the function's AWS credentials (UnrecognizedClientException): check the function's role and region",
		},
		{
			name:     "model not found",
			reply:    notFound,
			wantKind: compose.Misconfigured,
			wantMsg:  "Bedrock found no model " + haiku + " in this region (The provided model identifier is invalid.): check the model id or inference profile, the guardrail and the region",
		},
		{
			name:     "model or guardrail not found",
			cfg:      Config{GuardrailID: "gr-abc123", GuardrailVersion: "3"},
			reply:    notFound,
			wantKind: compose.Misconfigured,
			wantMsg:  "Bedrock found no model " + haiku + " with guardrail gr-abc123 version 3 in this region (The provided model identifier is invalid.): check the model id or inference profile, the guardrail and the region",
		},
		{
			name:     "invalid request",
			reply:    reply{status: http.StatusBadRequest, errorType: "ValidationException", file: "error-validation.json"},
			wantKind: compose.Misconfigured,
			wantMsg:  "Bedrock rejected the request to model " + haiku + " (Invocation of model ID anthropic.claude-3-5-sonnet-20241022-v2:0 with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model.): check the model id (some models need an inference profile) and that the model supports tool use",
		},
		{
			name:     "service unavailable",
			reply:    reply{status: http.StatusServiceUnavailable, errorType: "ServiceUnavailableException", file: "error-service-unavailable.json"},
			wantKind: compose.Unavailable,
			wantMsg:  failed,
		},
		{
			name:     "internal error",
			reply:    reply{status: http.StatusInternalServerError, errorType: "InternalServerException", file: "error-internal.json"},
			wantKind: compose.Unavailable,
			wantMsg:  failed,
		},
		{
			name:     "model error",
			reply:    reply{status: http.StatusFailedDependency, errorType: "ModelErrorException", file: "error-model-error.json"},
			wantKind: compose.Unavailable,
			wantMsg:  failed,
		},
		{
			name:     "model not ready",
			reply:    reply{status: http.StatusTooManyRequests, errorType: "ModelNotReadyException", file: "error-model-not-ready.json"},
			wantKind: compose.Unavailable,
			wantMsg:  "model " + haiku + " is not ready yet: try again in a few minutes",
		},
		{
			name:     "model timeout",
			reply:    reply{status: http.StatusRequestTimeout, errorType: "ModelTimeoutException", file: "error-model-timeout.json"},
			wantKind: compose.Unavailable,
			wantMsg:  "model " + haiku + " took too long to answer: try again, maybe with a shorter request",
		},
		{
			name:     "undocumented code, sorted by status",
			reply:    reply{status: http.StatusTooManyRequests, errorType: "SlowDownException", file: "error-throttling.json"},
			wantKind: compose.Throttled,
			wantMsg:  throttling,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, f := newModel(t, tt.cfg, always(tt.reply))
			got, err := m.Generate(context.Background(), prompt())
			me, ok := compose.AsModelError(err)
			if !ok {
				t.Fatalf("Generate error = %v, want a *compose.ModelError", err)
			}
			if me.Kind != tt.wantKind {
				t.Errorf("Kind = %s, want %s", me.Kind, tt.wantKind)
			}
			if me.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", me.Message, tt.wantMsg)
			}
			if me.RetryAfter != tt.wantRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", me.RetryAfter, tt.wantRetryAfter)
			}
			if strings.Contains(me.Message, "123456789012") || strings.Contains(me.Error(), "SECRET") {
				t.Errorf("error %q shows the account or the secret key", me.Error())
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || !strings.HasPrefix(tt.reply.errorType, apiErr.ErrorCode()) {
				t.Errorf("Generate error %v does not unwrap to the SDK's %s", err, tt.reply.errorType)
			}
			if diff := cmp.Diff(compose.Answer{}, got); diff != "" {
				t.Errorf("Generate answer on error (-want +got):\n%s", diff)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("Bedrock got %d requests, want 1", n)
			}
		})
	}
}

// toolChoices returns the toolChoice of each request, "none" for a
// request without one.
func toolChoices(reqs []received) []string {
	var got []string
	for _, r := range reqs {
		tc, ok := r.body["toolConfig"].(map[string]any)["toolChoice"].(map[string]any)
		if !ok {
			got = append(got, "none")
			continue
		}
		for k := range tc {
			got = append(got, k)
		}
	}
	return got
}

func TestGenerateToolChoiceFallback(t *testing.T) {
	rejectTool := reply{status: http.StatusBadRequest, errorType: "ValidationException", file: "error-tool-choice-tool.json"}
	rejectAny := reply{status: http.StatusBadRequest, errorType: "ValidationException", file: "error-tool-choice-any.json"}
	// mistral accepts "any" but not a named tool; llama accepts neither.
	mistral := func(_ int, req received) reply {
		switch toolChoices([]received{req})[0] {
		case "tool":
			return rejectTool
		default:
			return success("converse-tool-use.json")
		}
	}
	llama := func(_ int, req received) reply {
		switch toolChoices([]received{req})[0] {
		case "tool":
			return rejectTool
		case "any":
			return rejectAny
		default:
			return success("converse-text.json")
		}
	}
	retry := prompt()
	retry.Retry = &compose.Retry{Answer: compose.Answer{Input: json.RawMessage(`{"subject":""}`), ToolUseID: toolUseID}, Problems: "subject: must not be empty"}

	tests := []struct {
		name        string
		respond     func(int, received) reply
		wantChoices []string // of the two Generate calls, in order
		wantStatus  string   // of the retry's tool result
	}{
		{name: "named tool accepted", respond: always(success("converse-tool-use.json")), wantChoices: []string{"tool", "tool"}, wantStatus: "error"},
		{name: "any", respond: mistral, wantChoices: []string{"tool", "any", "any"}},
		{name: "auto", respond: llama, wantChoices: []string{"tool", "any", "none", "none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, f := newModel(t, Config{}, tt.respond)
			if _, err := m.Generate(context.Background(), prompt()); err != nil {
				t.Fatalf("first Generate: %v", err)
			}
			if _, err := m.Generate(context.Background(), retry); err != nil {
				t.Fatalf("second Generate: %v", err)
			}
			reqs := f.requests()
			if diff := cmp.Diff(tt.wantChoices, toolChoices(reqs)); diff != "" {
				t.Errorf("tool choices of the requests (-want +got):\n%s", diff)
			}
			// Apart from the tool choice, the resent request is the same.
			for i := 1; i < len(reqs)-1; i++ {
				a, b := reqs[0].body, reqs[i].body
				delete(a["toolConfig"].(map[string]any), "toolChoice")
				delete(b["toolConfig"].(map[string]any), "toolChoice")
				if diff := cmp.Diff(a, b); diff != "" {
					t.Errorf("request %d differs from the first beyond the tool choice (-first +resent):\n%s", i, diff)
				}
			}
			last := reqs[len(reqs)-1].body["messages"].([]any)
			result := last[2].(map[string]any)["content"].([]any)[0].(map[string]any)["toolResult"].(map[string]any)
			status, _ := result["status"].(string)
			if status != tt.wantStatus {
				t.Errorf("tool result status = %q, want %q", status, tt.wantStatus)
			}
		})
	}
}

func TestGenerateConcurrentFallback(t *testing.T) {
	m, f := newModel(t, Config{}, func(_ int, req received) reply {
		if toolChoices([]received{req})[0] == "tool" {
			return reply{status: http.StatusBadRequest, errorType: "ValidationException", file: "error-tool-choice-tool.json"}
		}
		return success("converse-tool-use.json")
	})
	const calls = 16
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			if _, err := m.Generate(context.Background(), prompt()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Generate: %v", err)
	}
	if got := toolChoice(m.choice.Load()); got != choiceAny {
		t.Errorf("tool choice after the calls = %s, want %s", got, choiceAny)
	}
	if _, err := m.Generate(context.Background(), prompt()); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	reqs := f.requests()
	if got := toolChoices(reqs[len(reqs)-1:]); got[0] != "any" {
		t.Errorf("tool choice of a later call = %s, want any", got[0])
	}
}

func TestGenerateTransportErrors(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) })
		m := modelAt(t, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := m.Generate(ctx, prompt())
		me, ok := compose.AsModelError(err)
		if !ok || me.Kind != compose.Unavailable {
			t.Fatalf("Generate error = %v, want an unavailable *compose.ModelError", err)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Generate error = %v, want it to wrap context.DeadlineExceeded", err)
		}
		if want := "model " + haiku + " did not answer in time: try again, maybe with a shorter request"; me.Message != want {
			t.Errorf("Message = %q, want %q", me.Message, want)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := modelAt(t, url).Generate(context.Background(), prompt())
		me, ok := compose.AsModelError(err)
		if !ok || me.Kind != compose.Unavailable {
			t.Fatalf("Generate error = %v, want an unavailable *compose.ModelError", err)
		}
		if want := "could not reach Bedrock for model " + haiku + ": try again later"; me.Message != want {
			t.Errorf("Message = %q, want %q", me.Message, want)
		}
	})
}

func modelAt(t *testing.T, url string) *Model {
	t.Helper()
	m, err := New(clientAt(url), Config{ModelID: haiku})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func TestGeneratePromptErrors(t *testing.T) {
	m, f := newModel(t, Config{}, always(success("converse-tool-use.json")))
	noTool := prompt()
	noTool.Tool = compose.Tool{}
	noSchema := prompt()
	noSchema.Tool.Schema = nil
	badSchema := prompt()
	badSchema.Tool.Schema = map[string]any{"type": func() {}}
	for _, p := range []compose.Prompt{noTool, noSchema, badSchema} {
		if _, err := m.Generate(context.Background(), p); err == nil {
			t.Errorf("Generate(tool %+v) succeeded, want an error", p.Tool)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("Bedrock got %d requests, want none", n)
	}
}

// TestDocumentRoundTrip checks that JSON survives the SDK's documents both
// ways with its values, numbers included, unchanged.
func TestDocumentRoundTrip(t *testing.T) {
	tests := []string{
		`{}`,
		`{"a":null,"b":false,"c":0,"d":"","e":[],"f":{}}`,
		`{"big":9007199254740993,"neg":-12,"exp":1.5e-3,"dec":120.50,"huge":1e400}`,
		`{"html":"<b>Hi</b> & bye","nested":[{"x":[1,[2,[3]]]}],"unicode":"café ☕"}`,
	}
	for _, in := range tests {
		doc, err := rawDocument([]byte(in))
		if err != nil {
			t.Fatalf("rawDocument(%s): %v", in, err)
		}
		got, err := doc.MarshalSmithyDocument()
		if err != nil {
			t.Fatalf("MarshalSmithyDocument(%s): %v", in, err)
		}
		if diff := cmp.Diff(decode(t, in), decode(t, string(got))); diff != "" {
			t.Errorf("round trip of %s = %s (-want +got):\n%s", in, got, diff)
		}
	}
	for _, bad := range []string{``, `{"a":`, `{} {}`} {
		if _, err := rawDocument([]byte(bad)); err == nil {
			t.Errorf("rawDocument(%q) succeeded, want an error", bad)
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		in, want string
	}{
		{"", "no details"},
		{"  Model\n  not found. ", "Model not found."},
		{long, strings.Repeat("é", 150) + "…"},
	}
	for _, tt := range tests {
		if got := excerpt(tt.in); got != tt.want {
			t.Errorf("excerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
