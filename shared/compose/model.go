package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Model is a language model reached through one provider's API (Bedrock
// Converse, an OpenAI-compatible chat-completions endpoint). It answers a
// Prompt by calling the prompt's one tool; the adapters know nothing of
// channels, tones or rules, and Composer knows nothing of providers.
type Model interface {
	// Generate sends p and returns the model's answer. Failures the caller
	// can act on are *ModelError; with one, the Answer may still carry the
	// Usage the failed call spent (a blocked or cut-off answer is billed).
	Generate(ctx context.Context, p Prompt) (Answer, error)
	// ID names the model in responses and usage records (the Bedrock model
	// id or inference profile, the OpenAI-compatible model name).
	ID() string
}

// Tool is the one function the model must call: its arguments are the
// answer, so their shape is fixed by Schema (a JSON Schema object) rather
// than by anything written in the request.
type Tool struct {
	Name        string
	Description string
	Schema      map[string]any
}

// Prompt is one request to a model.
type Prompt struct {
	// System holds the instructions. Nothing the operator typed is in it.
	System string
	// User is the operator's request as a JSON document: data for the
	// model to write about, never instructions.
	User string
	// Tool is the function the model must call with its answer.
	Tool Tool
	// MaxTokens bounds the answer; Temperature is the sampling temperature.
	MaxTokens   int
	Temperature float64
	// Retry, on the second attempt, is the first answer and what was wrong
	// with it. Adapters send it as the model's own turn (its tool call, or
	// its text) followed by the problems (as the tool's result, marked as an
	// error where the provider can), so the model corrects its answer
	// within one conversation.
	Retry *Retry
}

// Retry is a rejected answer and why it was rejected.
type Retry struct {
	Answer   Answer
	Problems string
}

// Answer is what the model returned.
type Answer struct {
	// Input is the arguments of the tool call as JSON. A model that wrote
	// its answer as text instead leaves Input empty and Text set; Composer
	// then looks for a JSON object in the text.
	Input json.RawMessage
	// ToolUseID is the provider's id of the tool call, needed to answer it
	// on a retry.
	ToolUseID string
	// Text is any text the model wrote besides (or instead of) the call.
	Text string
	// StopReason is the provider's reason the answer ended (end_turn,
	// tool_use, max_tokens, guardrail_intervened, stop, tool_calls …).
	StopReason string
	Usage      Usage
}

// Usage counts the tokens of one call (or, in a Result, of every call).
type Usage struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{InputTokens: u.InputTokens + v.InputTokens, OutputTokens: u.OutputTokens + v.OutputTokens}
}

// ErrorKind sorts model failures by what the operator can do about them.
type ErrorKind string

// Kinds of model failure.
const (
	// Throttled: the provider is rate limiting this account; retry later.
	Throttled ErrorKind = "throttled"
	// Denied: the credentials may not use the model (IAM, model access,
	// a bad API key). Configuration must change.
	Denied ErrorKind = "denied"
	// Misconfigured: the model id, endpoint or guardrail does not exist, or
	// the provider rejected the request as malformed for this model.
	Misconfigured ErrorKind = "misconfigured"
	// Unavailable: the provider failed or timed out; retry later.
	Unavailable ErrorKind = "unavailable"
	// Blocked: a guardrail (content filter) stopped the request or the
	// answer. Message holds what the guardrail answers instead.
	Blocked ErrorKind = "blocked"
)

// ModelError is a failure of a model call the caller can act on.
type ModelError struct {
	Kind ErrorKind
	// Message is safe to show to the operator: it names the problem and,
	// when configuration is at fault, what to change. It never carries
	// credentials.
	Message string
	// RetryAfter is how long to wait when the provider said (Throttled,
	// Unavailable); zero when it did not.
	RetryAfter time.Duration
	// Err is the provider error, for logs.
	Err error
}

func (e *ModelError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("model %s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("model %s: %s", e.Kind, e.Message)
}

func (e *ModelError) Unwrap() error { return e.Err }

// AsModelError returns err's *ModelError, if it carries one.
func AsModelError(err error) (*ModelError, bool) {
	var me *ModelError
	ok := errors.As(err, &me)
	return me, ok
}
