// Package whatsapp delivers WhatsApp messages through Meta's WhatsApp Cloud
// API (a Graph API endpoint): approved templates with their body parameters
// and quick-reply buttons, or free-form text inside the 24-hour customer
// service window. It classifies Meta's error answers as permanent or
// transient (see Error) and verifies the signature of Meta's webhooks.
package whatsapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/shared/channel"
)

// Defaults used when Config leaves a field empty.
const (
	// DefaultBaseURL is Meta's Graph API host.
	DefaultBaseURL = "https://graph.facebook.com"
	// DefaultAPIVersion is the Graph API version the messages are sent
	// with: the newest at the time of writing (released July 2026, supported
	// for about two years). Pin another one with Config.APIVersion.
	DefaultAPIVersion = "v26.0"
)

// maxResponse bounds what is read of an answer: Meta's bodies are a few
// hundred bytes, and a misbehaving proxy must not make us buffer megabytes.
const maxResponse = 1 << 20

// Config is what a Sender needs to reach the Cloud API.
type Config struct {
	// BaseURL is the Graph API host; DefaultBaseURL when empty. Tests point
	// it at a fake.
	BaseURL string
	// APIVersion is the Graph API version, like "v26.0";
	// DefaultAPIVersion when empty.
	APIVersion string
	// PhoneNumberID is the id Meta gives the business phone number that
	// sends (not the phone number itself).
	PhoneNumberID string
	// AccessToken is a system user (or business integration) token with
	// the whatsapp_business_messaging permission.
	AccessToken string
	// HTTPClient sends the requests; a client with a 30-second timeout
	// when nil.
	HTTPClient *http.Client
	// ReplySecret keys the MAC that makes quick-reply payloads
	// unforgeable (see ButtonPayload); the callbacks must verify with the
	// same one. Empty sends them unsigned, which the callbacks accept only
	// from the phone the message went to.
	ReplySecret []byte
}

// Sender delivers WhatsApp messages through the Cloud API. It is safe for
// concurrent use.
type Sender struct {
	endpoint string
	token    string
	client   *http.Client
	secret   []byte // Config.ReplySecret
	now      func() time.Time
}

// New returns a Sender for cfg. It fails when the phone number id or the
// access token is missing, since no message could be sent without them.
func New(cfg Config) (*Sender, error) {
	if cfg.PhoneNumberID == "" {
		return nil, errors.New("whatsapp: phone number id is required")
	}
	if cfg.AccessToken == "" {
		return nil, errors.New("whatsapp: access token is required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	if _, err := url.Parse(base); err != nil {
		return nil, fmt.Errorf("whatsapp: base url: %w", err)
	}
	version := cfg.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Sender{
		endpoint: base + "/" + url.PathEscape(version) + "/" + url.PathEscape(cfg.PhoneNumberID) + "/messages",
		token:    cfg.AccessToken,
		client:   client,
		secret:   cfg.ReplySecret,
		now:      time.Now,
	}, nil
}

// SendWhatsApp sends m and returns Meta's message id (the wamid that the
// status webhooks name). Meta has no idempotency key: a send retried after
// a lost answer may reach the user twice. Every message carries the
// delivery's identity in biz_opaque_callback_data (see CallbackData), so the
// status webhooks of either copy find the delivery.
//
// Errors are *Error (wrapped in a channel.PermanentError when retrying
// cannot help), a permanent error for a message that cannot be sent as it
// is, or a transient network error.
func (s *Sender) SendWhatsApp(ctx context.Context, m channel.WhatsAppMessage) (channel.Receipt, error) {
	req, err := newRequest(m, s.secret)
	if err != nil {
		return channel.Receipt{}, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return channel.Receipt{}, fmt.Errorf("whatsapp: encode message: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return channel.Receipt{}, fmt.Errorf("whatsapp: new request: %w", err)
	}
	hreq.Header.Set("Authorization", "Bearer "+s.token)
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")

	resp, err := s.client.Do(hreq)
	if err != nil {
		// *url.Error names the URL, which holds no secret (the token
		// travels in a header), so it is safe to wrap.
		return channel.Receipt{}, fmt.Errorf("whatsapp: send message: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return channel.Receipt{}, fmt.Errorf("whatsapp: read answer (status %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return channel.Receipt{}, s.apiError(resp, raw)
	}
	var ok sendResponse
	if err := json.Unmarshal(raw, &ok); err != nil {
		// Meta accepted something but the answer is unreadable: retrying
		// is the only way to learn the message id.
		return channel.Receipt{}, fmt.Errorf("whatsapp: decode answer (status %d): %w", resp.StatusCode, err)
	}
	if len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
		return channel.Receipt{}, fmt.Errorf("whatsapp: answer (status %d) has no message id", resp.StatusCode)
	}
	return channel.Receipt{ProviderMessageID: ok.Messages[0].ID}, nil
}

// sendRequest is the body of POST /{phone-number-id}/messages.
type sendRequest struct {
	MessagingProduct string    `json:"messaging_product"`
	RecipientType    string    `json:"recipient_type"`
	To               string    `json:"to"`
	Type             string    `json:"type"`
	Template         *template `json:"template,omitempty"`
	Text             *text     `json:"text,omitempty"`
	CallbackData     string    `json:"biz_opaque_callback_data,omitempty"`
}

type template struct {
	Name       string      `json:"name"`
	Language   language    `json:"language"`
	Components []component `json:"components,omitempty"`
}

type language struct {
	Code string `json:"code"`
}

type component struct {
	Type       string      `json:"type"`
	SubType    string      `json:"sub_type,omitempty"`
	Index      string      `json:"index,omitempty"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type    string `json:"type"`
	Text    string `json:"text,omitempty"`
	Payload string `json:"payload,omitempty"`
}

type text struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

// sendResponse is Meta's answer to an accepted message.
type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// maxQuickReplies is the most quick-reply buttons a template can have.
const maxQuickReplies = 10

// newRequest builds the Cloud API body for m, its quick-reply payloads
// signed with secret, or a permanent error when m cannot be sent as it is.
// Error messages name fields, never their values.
func newRequest(m channel.WhatsAppMessage, secret []byte) (sendRequest, error) {
	if !isE164(m.To) {
		return sendRequest{}, channel.Permanent(CodeInvalidAddress, errors.New("whatsapp: recipient is not an E.164 phone number"))
	}
	req := sendRequest{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		// Meta accepts the leading "+" and recommends it: without it the
		// business number's country code is prepended to the recipient.
		To:           m.To,
		CallbackData: CallbackData(m.Envelope),
	}
	switch {
	case m.Template != nil:
		t := m.Template
		if t.Name == "" || t.Language == "" {
			return sendRequest{}, channel.Permanent(CodeInvalidRequest, errors.New("whatsapp: template name and language are required"))
		}
		if len(t.Buttons) > maxQuickReplies {
			return sendRequest{}, channel.Permanent(CodeInvalidRequest, fmt.Errorf("whatsapp: %d quick-reply buttons, at most %d", len(t.Buttons), maxQuickReplies))
		}
		tpl := &template{Name: t.Name, Language: language{Code: t.Language}}
		if len(t.Parameters) > 0 {
			body := component{Type: "body", Parameters: make([]parameter, len(t.Parameters))}
			for i, p := range t.Parameters {
				body.Parameters[i] = parameter{Type: "text", Text: p}
			}
			tpl.Components = append(tpl.Components, body)
		}
		for i, b := range t.Buttons {
			if b.ID == "" {
				return sendRequest{}, channel.Permanent(CodeInvalidRequest, fmt.Errorf("whatsapp: quick-reply button %d has no id", i))
			}
			tpl.Components = append(tpl.Components, component{
				Type:       "button",
				SubType:    "quick_reply",
				Index:      strconv.Itoa(i),
				Parameters: []parameter{{Type: "payload", Payload: ButtonPayload(secret, m.Envelope, m.To, b.ID)}},
			})
		}
		req.Type, req.Template = "template", tpl
	case m.Text != "":
		req.Type, req.Text = "text", &text{Body: m.Text}
	default:
		return sendRequest{}, channel.Permanent(CodeInvalidRequest, errors.New("whatsapp: message has neither a template nor a text"))
	}
	return req, nil
}

// isE164 reports whether s is "+" and 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// maxCallbackData is Meta's limit on biz_opaque_callback_data.
const maxCallbackData = 512

// callbackData is the identity of a delivery as it travels through Meta.
type callbackData struct {
	WorkspaceID    string `json:"w"`
	NotificationID string `json:"n"`
	RecipientKey   string `json:"r"`
}

// CallbackData is the biz_opaque_callback_data sent with a message: the
// delivery's workspace id, notification id and recipient key as a small
// JSON object. Meta returns it untouched in the message's status webhooks,
// so the callbacks function can find the delivery even when the wamid of a
// send was never recorded (an answer lost, then a retry). The recipient key
// may hold the phone number of a raw-address send; Meta already has it and
// repeats it in the same webhook, so nothing new is disclosed — but the
// value must not be logged. It is empty when the envelope has no
// notification or the result would exceed Meta's 512 characters.
func CallbackData(env channel.Envelope) string {
	if env.WorkspaceID == "" || env.NotificationID == "" {
		return ""
	}
	b, err := json.Marshal(callbackData{env.WorkspaceID, env.NotificationID, env.RecipientKey})
	if err != nil || len(b) > maxCallbackData {
		return ""
	}
	return string(b)
}

// ParseCallbackData reads what CallbackData wrote, as it comes back in a
// status webhook's biz_opaque_callback_data; ok is false for anything else.
func ParseCallbackData(s string) (workspaceID, notificationID, recipientKey string, ok bool) {
	var d callbackData
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil || dec.More() || d.WorkspaceID == "" || d.NotificationID == "" {
		return "", "", "", false
	}
	return d.WorkspaceID, d.NotificationID, d.RecipientKey, true
}

// maxButtonPayload bounds a quick-reply payload: the length Meta allows for
// reply-button ids, well under what template payloads take.
const maxButtonPayload = 256

// buttonPayload is a quick-reply button's payload: the delivery, as in
// callbackData, the button's id, and the MAC over them and the recipient's
// phone (absent from payloads sent before they were signed).
type buttonPayload struct {
	callbackData
	Button string `json:"b"`
	MAC    string `json:"m,omitempty"`
}

// ButtonPayload is the payload of a template's quick-reply button: the
// delivery's identity (as CallbackData), the button's id and, when secret
// is not empty, a MAC over them and to, the phone the message goes to
// (E.164), as a small JSON object. Meta sends it back when the recipient
// presses the button, in an inbound message that names only their phone,
// so the callbacks function can record the answer on the delivery; the MAC
// makes a payload that names another delivery or button, or that comes
// from another phone, fail Reply.SignedBy. The phone is not in the
// payload, only in the MAC. When the envelope names no notification, or
// the payload would be too long, it is the bare button id (the press then
// opens the conversation window but names no delivery).
func ButtonPayload(secret []byte, env channel.Envelope, to, buttonID string) string {
	if env.WorkspaceID == "" || env.NotificationID == "" {
		return buttonID
	}
	p := buttonPayload{callbackData: callbackData{env.WorkspaceID, env.NotificationID, env.RecipientKey}, Button: buttonID}
	if len(secret) > 0 {
		p.MAC = base64.RawURLEncoding.EncodeToString(replyMAC(secret, p, phoneDigits(to)))
	}
	b, err := json.Marshal(p)
	if err != nil || len(b) > maxButtonPayload {
		return buttonID
	}
	return string(b)
}

// replyMAC is HMAC-SHA256 truncated to 16 bytes, as unsubscribe links are
// signed, under its own label so that neither can stand for the other.
// Every field is length-prefixed, so no two payloads sign the same bytes.
func replyMAC(secret []byte, p buttonPayload, phone string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("herald-whatsapp-reply\x00"))
	for _, f := range []string{p.WorkspaceID, p.NotificationID, p.RecipientKey, p.Button, phone} {
		h.Write([]byte(strconv.Itoa(len(f)) + ":" + f))
	}
	return h.Sum(nil)[:16]
}

// phoneDigits is an E.164 number (+34600000001) or a WhatsApp id
// (34600000001, as the webhooks' "from" has it) as its digits: the same
// number is the same string either way. Anything else is "".
func phoneDigits(s string) string {
	d := strings.TrimPrefix(s, "+")
	if d == "" || strings.Trim(d, "0123456789") != "" {
		return ""
	}
	return d
}

// Reply is a quick-reply press as its payload names it.
type Reply struct {
	WorkspaceID, NotificationID, RecipientKey, ButtonID string
	p                                                   buttonPayload
}

// Signed reports whether the payload carries a MAC; those sent before
// payloads were signed do not.
func (r Reply) Signed() bool { return r.p.MAC != "" }

// SignedBy reports, in constant time, whether the payload's MAC is
// secret's for a message sent to from (E.164 or a WhatsApp id): whether
// Herald made this payload, unchanged, for this phone.
func (r Reply) SignedBy(secret []byte, from string) bool {
	got, err := base64.RawURLEncoding.DecodeString(r.p.MAC)
	phone := phoneDigits(from)
	if err != nil || len(secret) == 0 || phone == "" {
		return false
	}
	return hmac.Equal(got, replyMAC(secret, r.p, phone))
}

// ParseButtonPayload reads what ButtonPayload wrote; ok is false for
// anything else (a bare button id, another sender's payload). It does not
// check the MAC: see Reply.SignedBy.
func ParseButtonPayload(s string) (r Reply, ok bool) {
	var p buttonPayload
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || dec.More() || p.WorkspaceID == "" || p.NotificationID == "" || p.RecipientKey == "" || p.Button == "" {
		return Reply{}, false
	}
	return Reply{WorkspaceID: p.WorkspaceID, NotificationID: p.NotificationID, RecipientKey: p.RecipientKey, ButtonID: p.Button, p: p}, true
}
