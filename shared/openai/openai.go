// Package openai reaches a language model through an OpenAI-compatible
// chat-completions API: OpenAI itself, or a server on the operator's own
// machine (Ollama, llama.cpp, vLLM, LM Studio), which is what local mode
// uses instead of Bedrock. Model adapts it to compose.Model: one prompt,
// one forced tool call, and failures sorted into compose.ModelError kinds
// whose messages say which setting to change.
//
// Only net/http is used, so local mode needs no SDK, and servers that
// implement the API partially (no object form of tool_choice, tool calls
// without ids, arguments as an object) are met where they are.
package openai

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/shared/compose"
)

// DefaultTimeout bounds one call when Config.HTTPClient is nil. Local
// models are slow: loading one into memory and writing a few hundred
// tokens on a laptop CPU can take more than a minute. A context deadline
// that comes sooner still ends the call first.
const DefaultTimeout = 2 * time.Minute

// maxBody bounds what is read of an answer: a chat completion of a few
// thousand tokens is a few kilobytes, and a misbehaving server or proxy
// must not make us buffer without end.
const maxBody = 4 << 20

// Config is what a Model needs to reach the server.
type Config struct {
	// BaseURL is the API root, such as http://127.0.0.1:11434/v1 for a
	// local Ollama or https://api.openai.com/v1; requests go to
	// BaseURL/chat/completions.
	BaseURL string
	// Model is the model name the server knows, such as "llama3.2".
	Model string
	// APIKey, when set, is sent as a bearer token. Local servers usually
	// need none.
	APIKey string
	// HTTPClient sends the requests; a client with DefaultTimeout when nil.
	HTTPClient *http.Client
}

// toolChoice is how a request forces the tool call. Servers differ in what
// they accept, so a Model starts with the most precise form and falls back,
// once for the life of the Model, to a form the server takes.
type toolChoice int32

const (
	// choiceFunction names the function: {"type":"function","function":{"name":…}}.
	choiceFunction toolChoice = iota
	// choiceRequired asks for some tool call; the prompt offers only one.
	choiceRequired
	// choiceOmitted leaves tool_choice out: the model decides, guided by the
	// system prompt, and an answer in text is handled by the caller.
	choiceOmitted
)

// Model is a compose.Model served by an OpenAI-compatible chat-completions
// endpoint. It is safe for concurrent use.
type Model struct {
	endpoint string
	// base is BaseURL without any password, for messages.
	base   string
	model  string
	apiKey string
	client *http.Client
	// choice is the toolChoice the server is known to accept (or not known
	// to reject); it only ever grows.
	choice atomic.Int32
	now    func() time.Time
	// newID names a tool call the server returned without an id.
	newID func() string
}

var _ compose.Model = (*Model)(nil)

// New returns a Model for cfg. It fails when the base URL is not an
// absolute http(s) URL or the model is missing, since no call could work;
// whether the server is up is learnt on the first call.
func New(cfg Config) (*Model, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("openai: model is required (HERALD_OPENAI_MODEL)")
	}
	raw := strings.TrimSpace(cfg.BaseURL)
	if raw == "" {
		return nil, errors.New("openai: base url is required (HERALD_OPENAI_BASE_URL), such as http://127.0.0.1:11434/v1")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// *url.Error quotes the whole URL, password included; keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("openai: base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: base url %q must be an absolute http or https URL, such as http://127.0.0.1:11434/v1", u.Redacted())
	}
	u.Fragment, u.RawFragment = "", ""
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	return &Model{
		// JoinPath keeps any query (some gateways want one) and copes
		// with a trailing slash.
		endpoint: u.JoinPath("chat/completions").String(),
		base:     strings.TrimRight(u.Redacted(), "/"),
		model:    strings.TrimSpace(cfg.Model),
		apiKey:   cfg.APIKey,
		client:   client,
		now:      time.Now,
		newID:    func() string { return "call_" + rand.Text() },
	}, nil
}

// ID returns the model name, as the server knows it.
func (m *Model) ID() string { return m.model }

// Generate sends p and returns the model's answer. Failures the caller can
// act on are *compose.ModelError; a canceled ctx returns its error wrapped.
//
// When the server rejects the object form of tool_choice, Generate resends
// once with "required" and then without tool_choice, and later calls start
// with the form that was not rejected.
func (m *Model) Generate(ctx context.Context, p compose.Prompt) (compose.Answer, error) {
	req := m.newRequest(p)
	for {
		choice := toolChoice(m.choice.Load())
		req.ToolChoice = nil
		if len(req.Tools) > 0 {
			req.ToolChoice = choice.value(p.Tool.Name)
		}
		body, err := json.Marshal(req)
		if err != nil {
			return compose.Answer{}, fmt.Errorf("openai: encode request: %w", err)
		}
		resp, raw, err := m.post(ctx, body)
		if err != nil {
			return compose.Answer{}, err
		}
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return m.answer(raw)
		}
		if len(req.Tools) > 0 && choice < choiceOmitted && rejectsToolChoice(resp.StatusCode, raw) {
			m.fallBack(choice + 1)
			continue
		}
		return compose.Answer{}, m.apiError(resp, raw)
	}
}

// value is c as the tool_choice field, nil to leave it out.
func (c toolChoice) value(name string) any {
	switch c {
	case choiceFunction:
		return map[string]any{"type": "function", "function": map[string]string{"name": name}}
	case choiceRequired:
		return "required"
	}
	return nil
}

// fallBack records that forms before next are rejected. Concurrent calls
// may fall back at once; the furthest fallback wins.
func (m *Model) fallBack(next toolChoice) {
	for {
		cur := m.choice.Load()
		if cur >= int32(next) || m.choice.CompareAndSwap(cur, int32(next)) {
			return
		}
	}
}

// rejectsToolChoice reports whether an answer refuses the request because
// of tool_choice: llama.cpp, older vLLM and some gateways take only "auto"
// or "required" and say so in a 400 (or 422, for FastAPI-based servers).
func rejectsToolChoice(status int, raw []byte) bool {
	if status != http.StatusBadRequest && status != http.StatusUnprocessableEntity {
		return false
	}
	s := strings.ToLower(string(raw))
	return strings.Contains(s, "tool_choice") || strings.Contains(s, "tool choice")
}

// chatRequest is the body of POST /chat/completions.
type chatRequest struct {
	Model       string    `json:"model"`
	Messages    []message `json:"messages"`
	Tools       []tool    `json:"tools,omitempty"`
	ToolChoice  any       `json:"tool_choice,omitempty"`
	Temperature float64   `json:"temperature"`
	MaxTokens   int       `json:"max_tokens,omitempty"`
	Stream      bool      `json:"stream"`
}

type message struct {
	Role string `json:"role"`
	// Content is null only in an assistant turn that holds just tool calls.
	Content    *string    `json:"content"`
	ToolCalls  []toolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Parameters  map[string]any `json:"parameters,omitempty"`
}

type toolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function functionCall `json:"function"`
}

type functionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// newRequest lays p out as a conversation. A retry replays the rejected
// answer as the model's own turn and the problems as the answer to it: the
// tool's result when the model called the tool with valid JSON, otherwise
// a user turn, since servers that parse tool-call arguments (Ollama, vLLM)
// refuse to replay arguments that are not JSON.
func (m *Model) newRequest(p compose.Prompt) chatRequest {
	req := chatRequest{
		Model: m.model,
		Messages: []message{
			{Role: "system", Content: ptr(p.System)},
			{Role: "user", Content: ptr(p.User)},
		},
		Temperature: p.Temperature,
		MaxTokens:   p.MaxTokens,
	}
	if p.Tool.Name != "" {
		req.Tools = []tool{{Type: "function", Function: toolFunction{
			Name: p.Tool.Name, Description: p.Tool.Description, Parameters: p.Tool.Schema,
		}}}
	}
	if r := p.Retry; r != nil {
		prev := r.Answer
		if prev.ToolUseID != "" && p.Tool.Name != "" && json.Valid(prev.Input) {
			var content *string
			if prev.Text != "" {
				content = ptr(prev.Text)
			}
			req.Messages = append(req.Messages,
				message{Role: "assistant", Content: content, ToolCalls: []toolCall{{
					ID: prev.ToolUseID, Type: "function",
					Function: functionCall{Name: p.Tool.Name, Arguments: string(prev.Input)},
				}}},
				message{Role: "tool", ToolCallID: prev.ToolUseID, Content: ptr(r.Problems)},
			)
		} else {
			req.Messages = append(req.Messages,
				message{Role: "assistant", Content: ptr(prev.Text)},
				message{Role: "user", Content: ptr(r.Problems)},
			)
		}
	}
	return req
}

func ptr(s string) *string { return &s }

// post sends body and reads the answer, whatever its status. Errors are
// failures to get an answer at all.
func (m *Model) post(ctx context.Context, body []byte) (*http.Response, []byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, m.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("openai: new request: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if m.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+m.apiKey)
	}
	resp, err := m.client.Do(hreq)
	if err != nil {
		return nil, nil, m.transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, nil, m.transportError(ctx, fmt.Errorf("read answer (HTTP %d): %w", resp.StatusCode, err))
	}
	if len(raw) > maxBody {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return nil, nil, &compose.ModelError{
				Kind:    compose.Unavailable,
				Message: fmt.Sprintf("the answer from %s is larger than %d MiB; retry", m.base, maxBody>>20),
				Err:     fmt.Errorf("answer over %d bytes", maxBody),
			}
		}
		// An error answer is only read for its message.
		raw = raw[:maxBody]
	}
	return resp, raw, nil
}

// chatResponse is the part of a chat completion that Generate uses.
type chatResponse struct {
	Choices []struct {
		Message struct {
			Content   string `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Function struct {
					Name string `json:"name"`
					// Arguments is a JSON string by the spec; some servers
					// send the object itself.
					Arguments json.RawMessage `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// answer turns a 2xx body into an Answer.
func (m *Model) answer(raw []byte) (compose.Answer, error) {
	var resp chatResponse
	if err := json.Unmarshal(raw, &resp); err != nil {
		return compose.Answer{}, &compose.ModelError{
			Kind: compose.Misconfigured,
			Message: fmt.Sprintf("the answer from %s is not a chat completion: check HERALD_OPENAI_BASE_URL "+
				"(the API root, such as http://127.0.0.1:11434/v1)", m.base),
			Err: fmt.Errorf("decode chat completion: %w", err),
		}
	}
	if len(resp.Choices) == 0 {
		detail := "no choices"
		if e := parseError(resp.Error); e.message != "" {
			detail = m.clean(e.message)
		}
		return compose.Answer{}, &compose.ModelError{
			Kind:    compose.Unavailable,
			Message: fmt.Sprintf("%s answered without a completion (%s); retry", m.base, detail),
			Err:     errors.New("chat completion has no choices"),
		}
	}
	c := resp.Choices[0]
	if c.FinishReason == "content_filter" {
		return compose.Answer{}, &compose.ModelError{
			Kind:    compose.Blocked,
			Message: fmt.Sprintf("the content filter of %s stopped the answer: change the brief", m.base),
			Err:     errors.New("finish_reason content_filter"),
		}
	}
	a := compose.Answer{
		Text:       c.Message.Content,
		StopReason: c.FinishReason,
		Usage: compose.Usage{
			InputTokens:  resp.Usage.PromptTokens,
			OutputTokens: resp.Usage.CompletionTokens,
		},
	}
	if len(c.Message.ToolCalls) > 0 {
		call := c.Message.ToolCalls[0]
		a.ToolUseID = call.ID
		if a.ToolUseID == "" {
			// Ollama gives no ids; a retry needs one to answer the call.
			a.ToolUseID = m.newID()
		}
		input, text := arguments(call.Function.Arguments)
		a.Input = input
		if text != "" {
			// Not JSON: hand it over as text, so the caller reports
			// what is wrong with it and retries.
			if a.Text != "" {
				text = a.Text + "\n" + text
			}
			a.Text = text
		}
	}
	return a, nil
}

// arguments reads a tool call's arguments: a JSON string holding JSON, or
// the JSON itself. It returns them compacted as input when they are valid
// JSON, and otherwise as text.
func arguments(raw json.RawMessage) (input json.RawMessage, text string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, ""
	}
	args := []byte(raw)
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, ""
		}
		args = []byte(s)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, args); err != nil {
		return nil, string(args)
	}
	return buf.Bytes(), ""
}
