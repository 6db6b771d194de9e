package compose_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/heraldhq/herald/shared/bedrock"
	"github.com/heraldhq/herald/shared/compose"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/openai"
)

// These tests run Composer through the real adapters against httptest
// fakes of the providers' APIs: the retry of an answer that breaks a rule
// travels as the provider's own conversation, and the providers' errors
// reach the operator as the API's codes.

// provider fakes one API: it answers the scripted replies in order and
// keeps every request body.
type provider struct {
	mu       sync.Mutex
	replies  []reply
	requests []map[string]any
}

type reply struct {
	status int
	header map[string]string
	body   string
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(b, &req)
	p.mu.Lock()
	p.requests = append(p.requests, req)
	if len(p.replies) == 0 {
		p.mu.Unlock()
		http.Error(w, `{"message":"no reply scripted"}`, http.StatusInternalServerError)
		return
	}
	rp := p.replies[0]
	p.replies = p.replies[1:]
	p.mu.Unlock()
	for k, v := range rp.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rp.status)
	_, _ = io.WriteString(w, rp.body)
}

// answerJSON is the tool's arguments: Spanish push variants.
func answerJSON(title0 string) string {
	b, _ := json.Marshal(map[string]any{"language": "es", "variants": []map[string]string{
		{"title": title0, "body": "Descubre a qué horas gastas más y ahorra."},
		{"title": "Tu consumo, hora a hora", "body": "{{name}}, ya puedes verlo en la app."},
	}})
	return string(b)
}

func converseToolUse(args string) string {
	return `{"output":{"message":{"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_abc","name":"submit_variants","input":` + args +
		`}}]}},"stopReason":"tool_use","usage":{"inputTokens":812,"outputTokens":97,"totalTokens":909}}`
}

func converseText(text string) string {
	t, _ := json.Marshal(text)
	return `{"output":{"message":{"role":"assistant","content":[{"text":` + string(t) + `}]}},"stopReason":"end_turn","usage":{"inputTokens":812,"outputTokens":20,"totalTokens":832}}`
}

func chatToolCall(args string) string {
	a, _ := json.Marshal(args)
	return `{"id":"chatcmpl-1","object":"chat.completion","model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_1","type":"function","function":{"name":"submit_variants","arguments":` + string(a) +
		`}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":812,"completion_tokens":97,"total_tokens":909}}`
}

type fakeStore struct {
	mu    sync.Mutex
	usage []notify.ComposeUsage
}

func (s *fakeStore) GetComposeSettings(_ context.Context, ws string) (notify.ComposeSettings, error) {
	return notify.ComposeSettings{}, notify.NotFound("compose settings", ws)
}

func (s *fakeStore) AddComposeUsage(_ context.Context, u notify.ComposeUsage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage = append(s.usage, u)
	return nil
}

func (s *fakeStore) TakeRate(context.Context, string, string, time.Time, int) (bool, error) {
	return true, nil
}

type adapter struct {
	name     string
	model    func(t *testing.T, url string) compose.Model
	good     func(args string) string
	text     func(text string) string
	throttle reply
	// throttleWait is the wait throttle asks for, which must reach the
	// operator as the error's RetryAfter.
	throttleWait time.Duration
	denied       reply
	// retryTurn returns what the second request sent back: the previous
	// call's id and the problems text.
	retryTurn func(req map[string]any) (id, problems string)
}

var adapters = []adapter{
	{
		name: "bedrock",
		model: func(t *testing.T, url string) compose.Model {
			client := bedrockruntime.New(bedrockruntime.Options{Region: "eu-west-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
			m, err := bedrock.New(client, bedrock.Config{ModelID: "eu.amazon.nova-lite-v1:0"})
			if err != nil {
				t.Fatal(err)
			}
			return m
		},
		good: converseToolUse,
		text: converseText,
		throttle: reply{status: 429, header: map[string]string{"X-Amzn-ErrorType": "ThrottlingException", "Retry-After": "3"},
			body: `{"message":"Too many requests, please wait before trying again."}`},
		throttleWait: 3 * time.Second,
		denied: reply{status: 403, header: map[string]string{"X-Amzn-ErrorType": "AccessDeniedException"},
			body: `{"message":"User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: bedrock:InvokeModel"}`},
		retryTurn: func(req map[string]any) (string, string) {
			msgs, _ := req["messages"].([]any)
			if len(msgs) < 3 {
				return "", ""
			}
			last, _ := msgs[len(msgs)-1].(map[string]any)
			content, _ := last["content"].([]any)
			for _, c := range content {
				if tr, ok := c.(map[string]any)["toolResult"].(map[string]any); ok {
					parts, _ := tr["content"].([]any)
					text := ""
					for _, p := range parts {
						if s, ok := p.(map[string]any)["text"].(string); ok {
							text += s
						}
					}
					return tr["toolUseId"].(string), text
				}
				if s, ok := c.(map[string]any)["text"].(string); ok {
					return "", s
				}
			}
			return "", ""
		},
	},
	{
		name: "openai",
		model: func(t *testing.T, url string) compose.Model {
			m, err := openai.New(openai.Config{BaseURL: url + "/v1", Model: "llama3.2"})
			if err != nil {
				t.Fatal(err)
			}
			return m
		},
		good: chatToolCall,
		text: func(text string) string {
			t, _ := json.Marshal(text)
			return `{"choices":[{"index":0,"message":{"role":"assistant","content":` + string(t) + `},"finish_reason":"stop"}],"usage":{"prompt_tokens":812,"completion_tokens":20}}`
		},
		throttle:     reply{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"error":{"message":"rate limit reached"}}`},
		throttleWait: 7 * time.Second,
		denied:       reply{status: 401, body: `{"error":{"message":"Incorrect API key provided"}}`},
		retryTurn: func(req map[string]any) (string, string) {
			msgs, _ := req["messages"].([]any)
			if len(msgs) < 3 {
				return "", ""
			}
			last, _ := msgs[len(msgs)-1].(map[string]any)
			id, _ := last["tool_call_id"].(string)
			content, _ := last["content"].(string)
			return id, content
		},
	},
}

func request() compose.Request {
	return compose.Request{Tone: "activation", Category: "energy_savings", Channel: notify.ChannelPush, Language: "es",
		Brief: "Nueva función: consumo por horas", KeepVariables: []string{"name"}, Variants: 2}
}

func TestAdaptersRetryABrokenAnswer(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			fake := &provider{replies: []reply{
				{status: 200, body: ad.good(answerJSON(strings.Repeat("Ahorra ", 10) + "{{name}}"))}, // title over 50
				{status: 200, body: ad.good(answerJSON("{{name}}, mira tu consumo"))},
			}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			s := &fakeStore{}
			res, err := compose.New(ad.model(t, srv.URL), s, compose.Config{}, nil, nil).Compose(t.Context(), "ws1", request())
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			if res.Attempts != 2 || res.Variants[0].Title != "{{name}}, mira tu consumo" {
				t.Errorf("result = %+v, want the corrected answer on attempt 2", res)
			}
			if res.Usage != (compose.Usage{InputTokens: 1624, OutputTokens: 194}) || len(s.usage) != 1 || s.usage[0].InputTokens != 1624 {
				t.Errorf("usage = %+v, recorded %+v; want both calls", res.Usage, s.usage)
			}
			if len(fake.requests) != 2 {
				t.Fatalf("%d requests, want 2", len(fake.requests))
			}
			id, problems := ad.retryTurn(fake.requests[1])
			if id == "" || !strings.Contains(problems, "variants[0].title: 78 characters; at most 50") {
				t.Errorf("retry turn: id %q, problems %q; want the tool call answered with the broken rule", id, problems)
			}
		})
	}
}

func TestAdaptersMalformedJSONThenGiveUp(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			fake := &provider{replies: []reply{
				{status: 200, body: ad.text(`{"language": "es", "variants": [{"title": "{{name}}", "body": "sin cerrar"`)},
				{status: 200, body: ad.text("Lo siento, no puedo usar herramientas.")},
			}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			_, err := compose.New(ad.model(t, srv.URL), &fakeStore{}, compose.Config{}, nil, nil).Compose(t.Context(), "ws1", request())
			if notify.ErrorCode(err) != notify.CodeGenerationFailed || !strings.Contains(err.Error(), "no call of the tool") {
				t.Fatalf("Compose = %v, want generation_failed naming the missing tool call", err)
			}
			_, problems := ad.retryTurn(fake.requests[1])
			if !strings.Contains(problems, "not the tool's JSON") {
				t.Errorf("retry problems %q, want the malformed JSON explained", problems)
			}
		})
	}
}

func TestAdaptersErrors(t *testing.T) {
	for _, ad := range adapters {
		t.Run(ad.name, func(t *testing.T) {
			for _, tt := range []struct {
				name  string
				reply reply
				code  string
			}{
				{"throttled", ad.throttle, notify.CodeRateLimited},
				{"access denied", ad.denied, notify.CodeNotConfigured},
			} {
				fake := &provider{replies: []reply{tt.reply}}
				srv := httptest.NewServer(fake)
				_, err := compose.New(ad.model(t, srv.URL), &fakeStore{}, compose.Config{}, nil, nil).Compose(t.Context(), "ws1", request())
				srv.Close()
				var e *notify.Error
				if !errors.As(err, &e) || e.Code != tt.code {
					t.Errorf("%s: Compose = %v, want %s", tt.name, err, tt.code)
					continue
				}
				// Composer waits 5 s when the provider gives no wait; the
				// provider's own must win.
				if tt.code == notify.CodeRateLimited && e.RetryAfter != ad.throttleWait {
					t.Errorf("%s: RetryAfter = %v, want the provider's %v", tt.name, e.RetryAfter, ad.throttleWait)
				}
				if strings.Contains(e.Message, "123456789012") {
					t.Errorf("%s: message leaks the account: %q", tt.name, e.Message)
				}
			}
		})
	}
}
