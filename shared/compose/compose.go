// Package compose writes notification text with a language model: an
// operator picks a tone, a category, a channel and a language, and gets
// variants that respect the channel's limits, checked before they are
// returned. The model is a port (Bedrock Converse on AWS, an
// OpenAI-compatible endpoint locally); the prompts, the rules, the retry
// and the accounting live here, once.
//
// Prompt injection: what the operator types (brief, facts, brand) travels
// only as a JSON document in the user turn; the instructions say it is
// data; the answer is forced through a tool with a fixed schema; and the
// answer is parsed strictly and checked, so text that talks the model out of
// its rules comes back as a failed generation, not as a message.
package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// NotConfigured says how to configure a model: the API's 503 and the
// console's Generate with AI without a model.
const NotConfigured = "AI composition is not configured. Locally, set HERALD_COMPOSE_PROVIDER=openai with HERALD_OPENAI_BASE_URL " +
	"(such as http://127.0.0.1:11434/v1 for Ollama) and HERALD_OPENAI_MODEL, or HERALD_COMPOSE_PROVIDER=bedrock with HERALD_BEDROCK_MODEL_ID " +
	"and AWS credentials. On AWS, deploy with the ComposeModelId parameter."

// Request is what an operator asks for (the body of POST /v1/compose).
type Request struct {
	Tone     string         `json:"tone"`
	Category string         `json:"category"`
	Channel  notify.Channel `json:"channel"`
	// Language is a BCP 47 tag; empty is English.
	Language string `json:"language"`
	// Brief says what the message is about, in the operator's words.
	Brief string `json:"brief"`
	// Facts are true statements about the product the text may use.
	Facts []string `json:"facts"`
	// KeepVariables are variables ({{name}}) the text must carry unchanged.
	KeepVariables []string `json:"keepVariables"`
	// Variants is how many to write (1–5; 0 is 3).
	Variants int `json:"variants"`
	// SMSSegments bounds an SMS body (1–3; 0 is 1).
	SMSSegments int `json:"smsSegments"`
}

// Variant is one written text.
type Variant struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	// Parameters name the variable of each numbered WhatsApp parameter:
	// Parameters[0] is {{1}}.
	Parameters []string `json:"parameters,omitempty"`
	// SMS is how an SMS body travels.
	SMS *SMSInfo `json:"sms,omitempty"`
}

// SMSInfo is the encoding and size of an SMS body (with its variables
// still written as {{name}}).
type SMSInfo struct {
	Encoding channel.SMSEncoding `json:"encoding"`
	Units    int                 `json:"units"`
	Segments int                 `json:"segments"`
}

// Result is the answer to a Request.
type Result struct {
	Variants []Variant `json:"variants"`
	Model    string    `json:"model"`
	Language string    `json:"language"`
	Usage    Usage     `json:"usage"`
	// Attempts is 2 when the first answer broke a rule and the model
	// corrected it.
	Attempts int `json:"attempts"`
}

// Store is what Composer keeps: the workspace's settings, its usage and
// its rate window. notify.Store is one.
type Store interface {
	GetComposeSettings(ctx context.Context, workspaceID string) (notify.ComposeSettings, error)
	AddComposeUsage(ctx context.Context, u notify.ComposeUsage) error
	TakeRate(ctx context.Context, workspaceID, name string, window time.Time, limit int) (bool, error)
}

// Config tunes a Composer.
type Config struct {
	// RatePerMinute bounds the requests of one workspace per minute
	// (0 is 20; negative is no limit).
	RatePerMinute int
	// Temperature is the sampling temperature (0 is 0.7).
	Temperature float64
	// MaxTokens bounds one answer (0 is 2048).
	MaxTokens int
}

// Composer writes text with a model.
type Composer struct {
	model Model
	store Store
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
}

// New returns a Composer; now and log may be nil.
func New(m Model, s Store, cfg Config, now func() time.Time, log *slog.Logger) *Composer {
	if cfg.RatePerMinute == 0 {
		cfg.RatePerMinute = 20
	}
	if cfg.Temperature == 0 {
		cfg.Temperature = 0.7
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 2048
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Composer{model: m, store: s, cfg: cfg, now: now, log: log}
}

// ModelID names the model the Composer uses.
func (c *Composer) ModelID() string { return c.model.ID() }

// LoadOptions returns the workspace's options: its settings over the
// defaults.
func LoadOptions(ctx context.Context, s interface {
	GetComposeSettings(ctx context.Context, workspaceID string) (notify.ComposeSettings, error)
}, workspaceID string) (Options, error) {
	set, err := s.GetComposeSettings(ctx, workspaceID)
	if err != nil && !notify.IsCode(err, notify.CodeNotFound) {
		return Options{}, fmt.Errorf("compose settings of %s: %w", workspaceID, err)
	}
	return OptionsOf(set), nil
}

// Normalize validates r against the workspace's options and fills its
// defaults; a bad request is a validation error naming every bad field.
func (r Request) Normalize(o Options) (Request, error) {
	var bad []notify.FieldError
	add := func(f, p string) { bad = append(bad, notify.FieldError{Field: f, Problem: p}) }
	if _, ok := find(o.Tones, r.Tone); !ok {
		add("tone", "must be one of "+ids(o.Tones))
	}
	if _, ok := find(o.Categories, r.Category); !ok {
		add("category", "must be one of the workspace's categories: "+ids(o.Categories))
	}
	if _, ok := ChannelLimits[r.Channel]; !ok {
		add("channel", "must be "+notify.ChannelList)
	}
	if r.Language == "" {
		r.Language = "en"
	}
	if t, err := language.Parse(strings.ReplaceAll(r.Language, "_", "-")); err != nil {
		add("language", "must be a BCP 47 language tag, such as es, pl or pt-BR")
	} else {
		r.Language = t.String()
	}
	if n := utf8.RuneCountInString(r.Brief); n > maxBrief {
		add("brief", fmt.Sprintf("%d characters; at most %d", n, maxBrief))
	}
	if len(r.Facts) > maxFacts {
		add("facts", fmt.Sprintf("at most %d facts", maxFacts))
	}
	for i, f := range r.Facts {
		if strings.TrimSpace(f) == "" || utf8.RuneCountInString(f) > maxFact {
			add(fmt.Sprintf("facts[%d]", i), fmt.Sprintf("1–%d characters", maxFact))
		}
	}
	if len(r.KeepVariables) > maxKeepVariables {
		add("keepVariables", fmt.Sprintf("at most %d variables", maxKeepVariables))
	}
	seen := map[string]bool{}
	r.KeepVariables = append([]string(nil), r.KeepVariables...) // r is the caller's copy, its slice is not
	for i, v := range r.KeepVariables {
		v = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "{{"), "}}")
		switch {
		case !varName.MatchString(v) || len(v) > 64 || numberedParam.MatchString(v):
			add(fmt.Sprintf("keepVariables[%d]", i), "a variable name such as name or attributes.plan (letters, digits, _ . -)")
		case seen[v]:
			add(fmt.Sprintf("keepVariables[%d]", i), "listed twice")
		}
		seen[v] = true
		r.KeepVariables[i] = v
	}
	switch {
	case r.Variants == 0:
		r.Variants = DefaultVariants
	case r.Variants < 1 || r.Variants > MaxVariants:
		add("variants", fmt.Sprintf("1–%d", MaxVariants))
	}
	switch {
	case r.Channel != notify.ChannelSMS && r.SMSSegments != 0:
		add("smsSegments", "only for sms")
	case r.SMSSegments == 0:
		r.SMSSegments = ChannelLimits[notify.ChannelSMS].SMSSegments
	case r.SMSSegments < 1 || r.SMSSegments > maxSMSSegments:
		add("smsSegments", fmt.Sprintf("1–%d", maxSMSSegments))
	}
	if len(bad) > 0 {
		return r, notify.Invalid(bad...)
	}
	return r, nil
}

// answer is the tool's arguments, parsed strictly.
type answer struct {
	Language string `json:"language"`
	Variants []struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	} `json:"variants"`
}

// Compose writes r.Variants variants for workspace ws: it checks the
// request, counts it against the workspace's rate, asks the model, checks
// the answer and, when the answer breaks a rule, asks once more with the
// problems explained. The tokens of every call are recorded for the
// workspace and returned.
func (c *Composer) Compose(ctx context.Context, ws string, r Request) (Result, error) {
	o, err := LoadOptions(ctx, c.store, ws)
	if err != nil {
		return Result{}, err
	}
	if r, err = r.Normalize(o); err != nil {
		return Result{}, err
	}
	if err := c.takeRate(ctx, ws); err != nil {
		return Result{}, err
	}
	lim := ChannelLimits[r.Channel]
	p := buildPrompt(r, o, lim, c.cfg)
	res := Result{Model: c.model.ID(), Language: r.Language}
	defer func() {
		// A blocked or cut-off answer has spent tokens too.
		if res.Attempts > 0 || res.Usage != (Usage{}) {
			c.record(ctx, ws, res.Usage)
		}
	}()
	var bad []Problem
	for attempt := 1; attempt <= 2; attempt++ {
		a, err := c.model.Generate(ctx, p)
		res.Usage = res.Usage.Add(a.Usage)
		if err != nil {
			return res, c.modelError(ws, err)
		}
		res.Attempts = attempt
		var got answer
		got, bad = parse(a)
		if len(bad) == 0 {
			bad = checkSet(r, got)
			for i, v := range got.Variants {
				bad = append(bad, check(r, lim, i, Variant{Title: v.Title, Body: v.Body})...)
			}
		}
		if len(bad) == 0 {
			res.Variants = variants(r, got)
			return res, nil
		}
		c.log.Info("compose answer rejected", "workspaceId", ws, "model", res.Model, "attempt", attempt, "problems", len(bad), "first", bad[0].Field+": "+bad[0].Problem)
		p.Retry = &Retry{Answer: a, Problems: problemsText(r, bad)}
	}
	return res, &notify.Error{Code: notify.CodeGenerationFailed,
		Message: fmt.Sprintf("the model's answer broke the channel's rules twice (%s: %s); try again, or loosen the request (fewer variables, more SMS segments, a shorter brief)", bad[0].Field, bad[0].Problem),
		Details: bad}
}

// parse reads the tool's arguments (or, from a model that wrote text, the
// JSON object in it) strictly: an unknown field, a second object or a
// wrong type is a problem, never ignored.
func parse(a Answer) (answer, []Problem) {
	raw := bytes.TrimSpace(a.Input)
	if len(raw) == 0 {
		raw = jsonIn(a.Text)
	}
	if len(raw) == 0 {
		return answer{}, []Problem{{Field: "answer", Problem: "no call of the tool " + ToolName + " and no JSON object in the text: answer only by calling the tool"}}
	}
	var got answer
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		return answer{}, []Problem{{Field: "answer", Problem: "not the tool's JSON: " + err.Error()}}
	}
	if dec.More() {
		return answer{}, []Problem{{Field: "answer", Problem: "more than one JSON value: call the tool once"}}
	}
	return got, nil
}

// jsonIn finds the JSON object in a text answer, with or without a
// Markdown code fence around it.
func jsonIn(text string) []byte {
	i, j := strings.IndexByte(text, '{'), strings.LastIndexByte(text, '}')
	if i < 0 || j < i {
		return nil
	}
	return []byte(text[i : j+1])
}

func variants(r Request, a answer) []Variant {
	out := make([]Variant, len(a.Variants))
	for i, v := range a.Variants {
		out[i] = Variant{Title: strings.TrimSpace(v.Title), Body: strings.TrimSpace(v.Body)}
		if r.Channel == notify.ChannelWhatsApp && len(r.KeepVariables) > 0 {
			out[i].Parameters = append([]string{}, r.KeepVariables...)
		}
		if r.Channel == notify.ChannelSMS {
			enc, units, segs := channel.SMSSegments(out[i].Body)
			out[i].SMS = &SMSInfo{Encoding: enc, Units: units, Segments: segs}
		}
	}
	return out
}

// takeRate counts the request in the workspace's minute.
func (c *Composer) takeRate(ctx context.Context, ws string) error {
	if c.cfg.RatePerMinute < 0 {
		return nil
	}
	now := c.now().UTC()
	window := now.Truncate(time.Minute)
	ok, err := c.store.TakeRate(ctx, ws, "compose", window, c.cfg.RatePerMinute)
	if err != nil {
		return fmt.Errorf("compose rate of %s: %w", ws, err)
	}
	if !ok {
		wait := window.Add(time.Minute).Sub(now)
		return &notify.Error{Code: notify.CodeRateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("this workspace asked for AI text %d times this minute, its limit; retry in %d s", c.cfg.RatePerMinute, int(math.Ceil(wait.Seconds())))}
	}
	return nil
}

// record adds the tokens to the workspace's usage. It runs after the
// answer is decided, on a context the request's cancellation does not
// reach: a client that hung up has still spent the tokens.
func (c *Composer) record(ctx context.Context, ws string, u Usage) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := c.store.AddComposeUsage(ctx, notify.ComposeUsage{WorkspaceID: ws, Day: c.now().UTC().Format(time.DateOnly), Model: c.model.ID(),
		Requests: 1, InputTokens: int64(u.InputTokens), OutputTokens: int64(u.OutputTokens)})
	if err != nil {
		c.log.Error("compose usage not recorded", "workspaceId", ws, "inputTokens", u.InputTokens, "outputTokens", u.OutputTokens, "err", err.Error())
	}
}

// modelError turns a model failure into what the operator sees.
func (c *Composer) modelError(ws string, err error) error {
	me, ok := AsModelError(err)
	if !ok {
		if errors.Is(err, context.Canceled) {
			return err
		}
		c.log.Error("compose model failed", "workspaceId", ws, "model", c.model.ID(), "err", err.Error())
		return &notify.Error{Code: notify.CodeModelUnavailable, Message: "the model did not answer; retry in a moment", RetryAfter: 5 * time.Second}
	}
	c.log.Warn("compose model failed", "workspaceId", ws, "model", c.model.ID(), "kind", string(me.Kind), "err", me.Error())
	wait := me.RetryAfter
	if wait <= 0 {
		wait = 5 * time.Second
	}
	switch me.Kind {
	case Throttled:
		return &notify.Error{Code: notify.CodeRateLimited, RetryAfter: wait, Message: "the model is busy (the provider throttled the request): " + me.Message}
	case Denied, Misconfigured:
		return notify.Errorf(notify.CodeNotConfigured, "AI composition is not set up right: %s", me.Message)
	case Blocked:
		return notify.Errorf(notify.CodeContentBlocked, "the guardrail blocked the request or its answer: %s", me.Message)
	default:
		return &notify.Error{Code: notify.CodeModelUnavailable, RetryAfter: wait, Message: "the model did not answer: " + me.Message}
	}
}
