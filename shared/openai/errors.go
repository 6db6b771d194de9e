package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/shared/compose"
)

// maxMessage bounds how much of the server's own error message is quoted,
// in runes: enough to name the problem, not a page of HTML from a proxy.
const maxMessage = 300

// ollamaExample is the base URL the messages suggest, the local setup most
// operators of local mode have.
const ollamaExample = "http://127.0.0.1:11434/v1"

// apiError turns a non-2xx answer into a *compose.ModelError whose message
// says what to change. The server's message is quoted, cleaned of the API
// key, because it is usually the most precise account of the problem.
func (m *Model) apiError(resp *http.Response, raw []byte) error {
	status := resp.StatusCode
	e := parseError(raw)
	msg := m.clean(e.message)
	if msg == "" {
		msg = http.StatusText(status)
	}
	detail := fmt.Sprintf("HTTP %d: %s", status, msg)
	me := &compose.ModelError{Err: errors.New(detail)}
	switch {
	case status == http.StatusUnauthorized:
		me.Kind = compose.Denied
		if m.apiKey == "" {
			me.Message = fmt.Sprintf("%s requires an API key (%s): set HERALD_OPENAI_API_KEY", m.base, detail)
		} else {
			me.Message = fmt.Sprintf("%s rejected the API key (%s): check HERALD_OPENAI_API_KEY", m.base, detail)
		}
	case status == http.StatusForbidden:
		me.Kind = compose.Denied
		me.Message = fmt.Sprintf("%s refused model %q to this API key (%s): check HERALD_OPENAI_API_KEY and its access to the model",
			m.base, m.model, detail)
	case status == http.StatusNotFound:
		me.Kind = compose.Misconfigured
		me.Message = fmt.Sprintf("model %q not found at %s (%s): check HERALD_OPENAI_MODEL; with Ollama, `ollama pull %s`",
			m.model, m.base, detail, m.model)
		if !strings.Contains(strings.ToLower(msg), "model") {
			// A bare "404 page not found" is more often a base URL
			// without its /v1.
			me.Message += fmt.Sprintf("; or check HERALD_OPENAI_BASE_URL, the API root such as %s", ollamaExample)
		}
	case status == http.StatusTooManyRequests && e.code == "insufficient_quota":
		// OpenAI's answer when the account's credit is spent: waiting
		// does not help.
		me.Kind = compose.Denied
		me.Message = fmt.Sprintf("the account of the API key has no quota left at %s (%s): check its plan and billing, or HERALD_OPENAI_API_KEY",
			m.base, detail)
	case status == http.StatusTooManyRequests:
		me.Kind = compose.Throttled
		me.Message = fmt.Sprintf("%s is limiting the rate of requests (%s); retry later", m.base, detail)
		me.RetryAfter = retryAfter(resp.Header, m.now())
	case (status == http.StatusBadRequest || status == http.StatusUnprocessableEntity) && e.code == "content_filter":
		// Azure OpenAI refuses a prompt its filter flags this way.
		me.Kind = compose.Blocked
		me.Message = fmt.Sprintf("the content filter of %s refused the request (%s): change the brief", m.base, detail)
	case (status == http.StatusBadRequest || status == http.StatusUnprocessableEntity) &&
		strings.Contains(strings.ToLower(msg), "does not support tools"):
		me.Kind = compose.Misconfigured
		me.Message = fmt.Sprintf("model %q cannot call tools (%s): set HERALD_OPENAI_MODEL to a model with tool support", m.model, detail)
	case status == http.StatusBadRequest || status == http.StatusUnprocessableEntity:
		me.Kind = compose.Misconfigured
		me.Message = fmt.Sprintf("%s rejected the request for model %q (%s): check HERALD_OPENAI_MODEL and the server's settings",
			m.base, m.model, detail)
	case status == http.StatusRequestTimeout || status >= 500:
		me.Kind = compose.Unavailable
		me.Message = fmt.Sprintf("%s failed (%s); retry later", m.base, detail)
		me.RetryAfter = retryAfter(resp.Header, m.now())
	default:
		me.Kind = compose.Misconfigured
		me.Message = fmt.Sprintf("%s answered %s: check HERALD_OPENAI_BASE_URL, the API root such as %s", m.base, detail, ollamaExample)
	}
	return me
}

// transportError turns a failure to get any answer into an error. The
// caller's own cancellation is not the model's failure and stays a plain
// wrapped context error; a deadline or timeout is Unavailable.
func (m *Model) transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.Canceled) {
			return fmt.Errorf("openai: call %s: %w", m.base, ctxErr)
		}
		return &compose.ModelError{
			Kind:    compose.Unavailable,
			Message: fmt.Sprintf("no answer from %s before the deadline: a local model may still be loading; retry", m.base),
			Err:     err,
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &compose.ModelError{
			Kind:    compose.Unavailable,
			Message: fmt.Sprintf("no answer from %s within %s: a local model may still be loading; retry", m.base, m.client.Timeout),
			Err:     err,
		}
	}
	// Connection refused, unknown host, reset, TLS failure: the server is
	// down or the URL is wrong. *url.Error leaves any password out.
	return &compose.ModelError{
		Kind:    compose.Unavailable,
		Message: fmt.Sprintf("cannot reach %s: is the server running?", m.base),
		Err:     err,
	}
}

// serverError is what an error answer says.
type serverError struct {
	message string
	code    string
}

// parseError reads an error body in any of the shapes servers use:
// {"error":{"message","code"}} (OpenAI, vLLM, Ollama's /v1),
// {"error":"…"} (Ollama's own API, llama.cpp proxies), {"message":"…"},
// {"detail":…} (FastAPI), or plain text.
func parseError(raw []byte) serverError {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return serverError{message: string(raw)}
	}
	if v, ok := body["error"]; ok {
		if e := parseErrorValue(v); e.message != "" || e.code != "" {
			return e
		}
	}
	for _, k := range []string{"message", "detail"} {
		if v, ok := body[k]; ok {
			return serverError{message: text(v)}
		}
	}
	return serverError{message: string(raw)}
}

// parseErrorValue reads the value of an "error" field: a string or an
// object with a message and a code (a string or a number).
func parseErrorValue(v json.RawMessage) serverError {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return serverError{message: s}
	}
	var obj struct {
		Message json.RawMessage `json:"message"`
		Code    json.RawMessage `json:"code"`
		Type    string          `json:"type"`
	}
	if json.Unmarshal(v, &obj) != nil {
		return serverError{message: string(v)}
	}
	e := serverError{message: text(obj.Message), code: text(obj.Code)}
	if e.code == "" {
		e.code = obj.Type
	}
	return e
}

// text is a JSON string's value, or the JSON itself for anything else
// (FastAPI's detail is a list of objects), "" for null.
func text(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// clean makes a server's message safe and short enough to show: the API
// key is removed (a proxy may echo the header), whitespace collapsed, and
// the length bounded.
func (m *Model) clean(s string) string {
	if m.apiKey != "" {
		s = strings.ReplaceAll(s, m.apiKey, "[redacted]")
	}
	s = strings.Join(strings.Fields(s), " ")
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "�")
	}
	if utf8.RuneCountInString(s) > maxMessage {
		s = string([]rune(s)[:maxMessage]) + "…"
	}
	return s
}

// retryAfter is how long the server asks to wait: OpenAI's retry-after-ms
// when present, else Retry-After in seconds or as an HTTP date; zero when
// neither says.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil {
		if d := seconds(ms / 1000); d > 0 {
			return d
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return seconds(secs)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// seconds converts a wait the server gave, zero unless it is above zero
// and under a day (which also rules out NaN and infinities).
func seconds(s float64) time.Duration {
	if s > 0 && s < (24*time.Hour).Seconds() {
		return time.Duration(s * float64(time.Second))
	}
	return 0
}
