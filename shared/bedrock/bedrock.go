// Package bedrock is the compose.Model of Amazon Bedrock: it asks a model
// for a structured answer through the Converse API, forcing a call of the
// prompt's one tool so the answer arrives as the tool's JSON arguments
// rather than as prose, and turns Bedrock's failures into
// *compose.ModelError an operator can act on.
//
// Converse is the one Bedrock API that speaks the same request to every
// model family (Anthropic, Amazon Nova, Mistral, Meta, Cohere …), so the
// model is configuration, not code. Models differ in how far they let a
// caller force a tool (see Model), and the adapter learns that from
// Bedrock's answers instead of from a list of model ids that would age.
package bedrock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/heraldhq/herald/shared/compose"
)

// Converser is the part of *bedrockruntime.Client a Model uses. It is an
// interface so tests and callers can wrap the client (with tracing, say)
// without the adapter knowing.
type Converser interface {
	Converse(ctx context.Context, params *bedrockruntime.ConverseInput, optFns ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error)
}

// Config names what a Model asks Bedrock for.
type Config struct {
	// ModelID is what Converse calls the modelId: a foundation model id
	// (anthropic.claude-3-haiku-20240307-v1:0), an inference profile id
	// (us.anthropic.claude-sonnet-4-20250514-v1:0), or the ARN of either.
	// Newer models can only be invoked through an inference profile.
	// Required.
	ModelID string
	// GuardrailID is the id or ARN of a Bedrock guardrail to apply to the
	// request and the answer; empty applies none. A guardrail that
	// intervenes makes Generate fail with compose.Blocked.
	GuardrailID string
	// GuardrailVersion is the guardrail's version ("1", "DRAFT"). Required
	// with GuardrailID, which Bedrock does not default: a silent DRAFT
	// would let edits in the console change production behaviour.
	GuardrailVersion string
}

// toolChoice is how firmly a request tells the model to call the tool.
// The levels only go down, one model at a time, as Bedrock reports that
// the model does not support the firmer one.
type toolChoice int32

const (
	// choiceTool names the tool: the model must call it (Anthropic Claude
	// 3 and later, Amazon Nova).
	choiceTool toolChoice = iota
	// choiceAny makes the model call some tool, and there is only one
	// (Mistral Large, among others).
	choiceAny
	// choiceAuto leaves the choice to the model (Meta Llama, among
	// others): the system prompt must ask for the call, and a model that
	// answers in text instead leaves Composer to find the JSON in it.
	choiceAuto
)

func (c toolChoice) String() string {
	switch c {
	case choiceTool:
		return "tool"
	case choiceAny:
		return "any"
	default:
		return "auto"
	}
}

// Model is a Bedrock model reached through Converse. It implements
// compose.Model and is safe for concurrent use.
//
// Not every model accepts a named tool choice. When Bedrock rejects one
// (a ValidationException about toolChoice), the Model resends the request
// with the "any" choice, and if that is rejected too, with none; it
// remembers the level that worked, so later calls pay for the probe only
// once per execution environment.
//
// Retries of throttled and failed calls are the client's: the SDK's
// standard retryer retries throttling, ModelNotReadyException and 5xx
// answers within one Generate. A Model never retries a call itself except
// to step down the tool choice.
type Model struct {
	client Converser
	cfg    Config
	// choice is the firmest toolChoice the model is known to accept.
	choice atomic.Int32
}

var _ compose.Model = (*Model)(nil)

// New returns a Model asking client for cfg.ModelID. It checks cfg now so
// that a function with a bad configuration fails at start rather than on
// the first request.
func New(client Converser, cfg Config) (*Model, error) {
	if client == nil {
		return nil, errors.New("bedrock model: no client")
	}
	cfg.ModelID = strings.TrimSpace(cfg.ModelID)
	cfg.GuardrailID = strings.TrimSpace(cfg.GuardrailID)
	cfg.GuardrailVersion = strings.TrimSpace(cfg.GuardrailVersion)
	if cfg.ModelID == "" {
		return nil, errors.New("bedrock model: no model id")
	}
	if cfg.GuardrailID == "" && cfg.GuardrailVersion != "" {
		return nil, fmt.Errorf("bedrock model %s: guardrail version %q without a guardrail id", cfg.ModelID, cfg.GuardrailVersion)
	}
	if cfg.GuardrailID != "" && cfg.GuardrailVersion == "" {
		return nil, fmt.Errorf("bedrock model %s: guardrail %s has no version", cfg.ModelID, cfg.GuardrailID)
	}
	return &Model{client: client, cfg: cfg}, nil
}

// ID returns the configured model id or inference profile, which is what
// Bedrock bills and what usage records should name.
func (m *Model) ID() string { return m.cfg.ModelID }

// Generate asks the model to answer p by calling p.Tool, in one Converse
// call (two or three while the Model learns the model's tool choice).
//
// Its failures are *compose.ModelError, except for a prompt without a
// tool or with a schema that is not a JSON object, which is the caller's
// bug. The failures Bedrock reports in a successful response, by its stop
// reason, come with the Answer as well, so the tokens they used can still
// be counted: Blocked when a guardrail (guardrail_intervened) or the
// model's own filter (content_filtered) stopped it, Unavailable when it
// was cut off at the token limit (max_tokens), since its tool call cannot
// be trusted to be complete, and Misconfigured when the request did not
// fit the model's context window. Any other answer is returned as the
// model gave it: Input empty when the model wrote text instead of calling
// the tool, Text not JSON when it wrote prose; judging it is Composer's
// job.
func (m *Model) Generate(ctx context.Context, p compose.Prompt) (compose.Answer, error) {
	if p.Tool.Name == "" {
		return compose.Answer{}, errors.New("bedrock generate: prompt has no tool")
	}
	schema, err := jsonDocument(p.Tool.Schema)
	if err != nil {
		return compose.Answer{}, fmt.Errorf("bedrock generate: tool %s schema: %w", p.Tool.Name, err)
	}
	choice := toolChoice(m.choice.Load())
	for {
		out, err := m.client.Converse(ctx, m.request(p, schema, choice))
		if err != nil {
			if choice < choiceAuto && rejectsToolChoice(err) {
				choice++
				m.lowerChoice(choice)
				continue
			}
			return compose.Answer{}, m.classify(err)
		}
		return m.answer(out, p)
	}
}

// lowerChoice records that the model needs choice or a looser one. It
// never raises the level: a concurrent call that learned less must not
// undo what another learned.
func (m *Model) lowerChoice(choice toolChoice) {
	for {
		cur := m.choice.Load()
		if cur >= int32(choice) || m.choice.CompareAndSwap(cur, int32(choice)) {
			return
		}
	}
}

// request builds the Converse request for p at the given tool choice.
func (m *Model) request(p compose.Prompt, schema document.Interface, choice toolChoice) *bedrockruntime.ConverseInput {
	in := &bedrockruntime.ConverseInput{
		ModelId:  aws.String(m.cfg.ModelID),
		Messages: messages(p, choice),
		ToolConfig: &types.ToolConfiguration{
			Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{
				Name:        aws.String(p.Tool.Name),
				Description: optional(p.Tool.Description),
				InputSchema: &types.ToolInputSchemaMemberJson{Value: schema},
			}}},
		},
		InferenceConfig: &types.InferenceConfiguration{
			Temperature: aws.Float32(float32(p.Temperature)),
		},
	}
	switch choice {
	case choiceTool:
		in.ToolConfig.ToolChoice = &types.ToolChoiceMemberTool{Value: types.SpecificToolChoice{Name: aws.String(p.Tool.Name)}}
	case choiceAny:
		in.ToolConfig.ToolChoice = &types.ToolChoiceMemberAny{}
	}
	if strings.TrimSpace(p.System) != "" {
		in.System = []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: p.System}}
	}
	if p.MaxTokens > 0 {
		in.InferenceConfig.MaxTokens = aws.Int32(int32(min(p.MaxTokens, math.MaxInt32)))
	}
	if m.cfg.GuardrailID != "" {
		in.GuardrailConfig = &types.GuardrailConfiguration{
			GuardrailIdentifier: aws.String(m.cfg.GuardrailID),
			GuardrailVersion:    aws.String(m.cfg.GuardrailVersion),
		}
	}
	return in
}

// defaultProblems stands in for a Retry without problems: Bedrock refuses
// a blank text block.
const defaultProblems = "The answer was rejected. Call the tool again with a corrected answer."

// messages lays out the conversation: the user's request and, on a retry,
// the model's first answer as its own turn followed by the problems, so
// the model corrects itself in context.
//
// A first answer that was a tool call is answered by an error tool
// result, the form the tool-use models are trained to correct. Only
// Anthropic and Nova models accept the result's "error" status, and they
// are the ones that accept a named tool choice, so the status is sent only
// at that level. A first answer in text is answered in text. A first
// answer with neither is left out, with the problems added to the user's
// turn, since Converse wants user and assistant turns to alternate.
func messages(p compose.Prompt, choice toolChoice) []types.Message {
	user := []types.ContentBlock{&types.ContentBlockMemberText{Value: p.User}}
	if p.Retry == nil {
		return []types.Message{{Role: types.ConversationRoleUser, Content: user}}
	}
	prev := p.Retry.Answer
	problems := p.Retry.Problems
	if strings.TrimSpace(problems) == "" {
		problems = defaultProblems
	}
	hasText := strings.TrimSpace(prev.Text) != ""
	switch {
	case prev.ToolUseID != "":
		var said []types.ContentBlock
		if hasText {
			said = append(said, &types.ContentBlockMemberText{Value: prev.Text})
		}
		said = append(said, &types.ContentBlockMemberToolUse{Value: types.ToolUseBlock{
			ToolUseId: aws.String(prev.ToolUseID),
			Name:      aws.String(p.Tool.Name),
			Input:     previousInput(prev.Input),
		}})
		result := types.ToolResultBlock{
			ToolUseId: aws.String(prev.ToolUseID),
			Content:   []types.ToolResultContentBlock{&types.ToolResultContentBlockMemberText{Value: problems}},
		}
		if choice == choiceTool {
			result.Status = types.ToolResultStatusError
		}
		return []types.Message{
			{Role: types.ConversationRoleUser, Content: user},
			{Role: types.ConversationRoleAssistant, Content: said},
			{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberToolResult{Value: result}}},
		}
	case hasText:
		return []types.Message{
			{Role: types.ConversationRoleUser, Content: user},
			{Role: types.ConversationRoleAssistant, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: prev.Text}}},
			{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: problems}}},
		}
	default:
		user = append(user, &types.ContentBlockMemberText{Value: problems})
		return []types.Message{{Role: types.ConversationRoleUser, Content: user}}
	}
}

// previousInput is the first answer's tool arguments as the document to
// send back. Bedrock wants a JSON object there, so arguments that were not
// one (a call cut short) are sent as an empty object; the problems say
// what was wrong.
func previousInput(raw json.RawMessage) document.Interface {
	doc, err := rawDocument(raw)
	if err != nil || !isObject(raw) {
		return document.NewLazyDocument(map[string]any{})
	}
	return doc
}

// answer reads the Converse output and decides, from its stop reason,
// whether it is an answer or a failure.
func (m *Model) answer(out *bedrockruntime.ConverseOutput, p compose.Prompt) (compose.Answer, error) {
	a := compose.Answer{StopReason: string(out.StopReason), Usage: usage(out.Usage)}
	message, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return a, &compose.ModelError{
			Kind:    compose.Unavailable,
			Message: fmt.Sprintf("model %s answered without a message (stop reason %q): try again", m.cfg.ModelID, out.StopReason),
		}
	}
	var text strings.Builder
	for _, block := range message.Value.Content {
		switch b := block.(type) {
		case *types.ContentBlockMemberText:
			text.WriteString(b.Value)
		case *types.ContentBlockMemberToolUse:
			if a.ToolUseID != "" {
				continue // there is one tool; a second call adds nothing
			}
			input, err := documentJSON(b.Value.Input)
			if err != nil {
				return a, &compose.ModelError{
					Kind:    compose.Unavailable,
					Message: fmt.Sprintf("model %s called the tool with arguments that are not JSON: try again", m.cfg.ModelID),
					Err:     err,
				}
			}
			a.Input = input
			a.ToolUseID = aws.ToString(b.Value.ToolUseId)
		}
	}
	a.Text = text.String()

	switch out.StopReason {
	case types.StopReasonGuardrailIntervened:
		msg := strings.TrimSpace(a.Text)
		if msg == "" {
			msg = fmt.Sprintf("guardrail %s (version %s) stopped the request or the answer", m.cfg.GuardrailID, m.cfg.GuardrailVersion)
		}
		return a, &compose.ModelError{Kind: compose.Blocked, Message: msg}
	case types.StopReasonContentFiltered:
		msg := strings.TrimSpace(a.Text)
		if msg == "" {
			msg = fmt.Sprintf("the content filter of model %s stopped the answer: rephrase the request", m.cfg.ModelID)
		}
		return a, &compose.ModelError{Kind: compose.Blocked, Message: msg}
	case types.StopReasonMaxTokens:
		limit := "its default token limit"
		if p.MaxTokens > 0 {
			limit = fmt.Sprintf("the token limit (%d)", p.MaxTokens)
		}
		return a, &compose.ModelError{
			Kind: compose.Unavailable,
			Message: fmt.Sprintf("model %s reached %s before finishing its answer: try again, ask for shorter content, or raise the limit",
				m.cfg.ModelID, limit),
		}
	case types.StopReasonModelContextWindowExceeded:
		return a, &compose.ModelError{
			Kind:    compose.Misconfigured,
			Message: fmt.Sprintf("the request and its answer do not fit the context window of model %s: shorten the request or choose a model with a larger window", m.cfg.ModelID),
		}
	}
	return a, nil
}

// usage converts Bedrock's token counts. Herald sends no cache points, so
// the cache read and write counts are always zero and left out.
func usage(u *types.TokenUsage) compose.Usage {
	if u == nil {
		return compose.Usage{}
	}
	return compose.Usage{
		InputTokens:  int(aws.ToInt32(u.InputTokens)),
		OutputTokens: int(aws.ToInt32(u.OutputTokens)),
	}
}

// optional is nil for an empty s: Bedrock refuses an empty description.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
