package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

const (
	testToken   = "EAAtest-token-not-real"
	testPhoneID = "106540352242922"
	testTo      = "+16505551234"
	// successBody is Meta's answer to an accepted message.
	successBody = `{"messaging_product":"whatsapp","contacts":[{"input":"+16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA","message_status":"accepted"}]}`
	wamid       = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
)

// metaRequest is the Cloud API's send-message body as Meta documents it,
// written independently of the package's own types so that the fake checks
// the wire format rather than echoing the code under test.
type metaRequest struct {
	MessagingProduct      string        `json:"messaging_product"`
	RecipientType         string        `json:"recipient_type"`
	To                    string        `json:"to"`
	Type                  string        `json:"type"`
	BizOpaqueCallbackData string        `json:"biz_opaque_callback_data"`
	Template              *metaTemplate `json:"template"`
	Text                  *metaText     `json:"text"`
}

type metaTemplate struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []metaComponent `json:"components"`
}

type metaComponent struct {
	Type       string          `json:"type"`
	SubType    string          `json:"sub_type"`
	Index      string          `json:"index"`
	Parameters []metaParameter `json:"parameters"`
}

type metaParameter struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

type metaText struct {
	Body       string `json:"body"`
	PreviewURL *bool  `json:"preview_url"`
}

// answer is what the fake replies.
type answer struct {
	status int
	header http.Header
	body   string
	// hangUp closes the connection without an answer.
	hangUp bool
}

// fakeGraph is an httptest Graph API that checks every request it receives
// and keeps the decoded bodies.
type fakeGraph struct {
	t        *testing.T
	path     string
	answer   answer
	mu       sync.Mutex
	received []metaRequest
}

func newFakeGraph(t *testing.T, version string, a answer) (*fakeGraph, *httptest.Server) {
	t.Helper()
	f := &fakeGraph{t: t, path: "/" + version + "/" + testPhoneID + "/messages", answer: a}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGraph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if r.URL.Path != f.path {
		t.Errorf("path = %q, want %q", r.URL.Path, f.path)
	}
	if r.URL.RawQuery != "" {
		t.Errorf("query = %q, want none (the token belongs in the header)", r.URL.RawQuery)
	}
	if got, want := r.Header.Get("Authorization"), "Bearer "+testToken; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
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
	var req metaRequest
	if err := dec.Decode(&req); err != nil {
		t.Errorf("decode body strictly: %v\n%s", err, raw)
	}
	f.mu.Lock()
	f.received = append(f.received, req)
	f.mu.Unlock()

	a := f.answer
	if a.hangUp {
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Errorf("response writer cannot hijack")
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
		return
	}
	for k, vs := range a.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (f *fakeGraph) requests() []metaRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]metaRequest(nil), f.received...)
}

func newTestSender(t *testing.T, srv *httptest.Server, version string) *Sender {
	t.Helper()
	s, err := New(Config{BaseURL: srv.URL + "/", APIVersion: version, PhoneNumberID: testPhoneID, AccessToken: testToken, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

var testEnvelope = channel.Envelope{WorkspaceID: "ws_1", NotificationID: "ntf_1", RecipientKey: "user_1", UserID: "user_1", Category: "orders"}

func TestSendWhatsApp(t *testing.T) {
	no := false
	tests := []struct {
		name    string
		version string // "" uses DefaultAPIVersion
		msg     channel.WhatsAppMessage
		want    metaRequest
	}{
		{
			name:    "template with two parameters and two quick replies",
			version: "v21.0",
			msg: channel.WhatsAppMessage{
				Envelope: testEnvelope,
				To:       testTo,
				Template: &channel.WhatsAppTemplate{
					Name:       "order_ready",
					Language:   "en_US",
					Parameters: []string{"Ada", "#1042"},
					Buttons:    []notify.Button{{ID: "accept", Label: "Accept"}, {ID: "decline", Label: "Decline"}},
				},
			},
			want: metaRequest{
				MessagingProduct:      "whatsapp",
				RecipientType:         "individual",
				To:                    testTo,
				Type:                  "template",
				BizOpaqueCallbackData: `{"w":"ws_1","n":"ntf_1","r":"user_1"}`,
				Template: &metaTemplate{
					Name: "order_ready",
					Language: struct {
						Code string `json:"code"`
					}{Code: "en_US"},
					Components: []metaComponent{
						{Type: "body", Parameters: []metaParameter{{Type: "text", Text: "Ada"}, {Type: "text", Text: "#1042"}}},
						{Type: "button", SubType: "quick_reply", Index: "0", Parameters: []metaParameter{{Type: "payload", Payload: `{"w":"ws_1","n":"ntf_1","r":"user_1","b":"accept"}`}}},
						{Type: "button", SubType: "quick_reply", Index: "1", Parameters: []metaParameter{{Type: "payload", Payload: `{"w":"ws_1","n":"ntf_1","r":"user_1","b":"decline"}`}}},
					},
				},
			},
		},
		{
			name: "template without parameters has no components",
			msg: channel.WhatsAppMessage{
				Envelope: testEnvelope,
				To:       testTo,
				Template: &channel.WhatsAppTemplate{Name: "hello_world", Language: "en_US"},
			},
			want: metaRequest{
				MessagingProduct:      "whatsapp",
				RecipientType:         "individual",
				To:                    testTo,
				Type:                  "template",
				BizOpaqueCallbackData: `{"w":"ws_1","n":"ntf_1","r":"user_1"}`,
				Template: &metaTemplate{
					Name: "hello_world",
					Language: struct {
						Code string `json:"code"`
					}{Code: "en_US"},
				},
			},
		},
		{
			name: "free-form text",
			msg:  channel.WhatsAppMessage{Envelope: testEnvelope, To: testTo, Text: "Your order is ready: https://example.com/o/1042"},
			want: metaRequest{
				MessagingProduct:      "whatsapp",
				RecipientType:         "individual",
				To:                    testTo,
				Type:                  "text",
				BizOpaqueCallbackData: `{"w":"ws_1","n":"ntf_1","r":"user_1"}`,
				Text:                  &metaText{Body: "Your order is ready: https://example.com/o/1042", PreviewURL: &no},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			version := tt.version
			if version == "" {
				version = DefaultAPIVersion
			}
			f, srv := newFakeGraph(t, version, answer{status: http.StatusOK, body: successBody})
			s := newTestSender(t, srv, tt.version)

			got, err := s.SendWhatsApp(context.Background(), tt.msg)
			if err != nil {
				t.Fatalf("SendWhatsApp: %v", err)
			}
			if diff := cmp.Diff(channel.Receipt{ProviderMessageID: wamid}, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]metaRequest{tt.want}, f.requests()); diff != "" {
				t.Errorf("request body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendWhatsAppRefusesBeforeSending(t *testing.T) {
	tests := []struct {
		name string
		msg  channel.WhatsAppMessage
		want string
	}{
		{"no number", channel.WhatsAppMessage{Envelope: testEnvelope, Text: "hi"}, CodeInvalidAddress},
		{"national number", channel.WhatsAppMessage{Envelope: testEnvelope, To: "6505551234", Text: "hi"}, CodeInvalidAddress},
		{"formatted number", channel.WhatsAppMessage{Envelope: testEnvelope, To: "+1 650 555 1234", Text: "hi"}, CodeInvalidAddress},
		{"nothing to send", channel.WhatsAppMessage{Envelope: testEnvelope, To: testTo}, CodeInvalidRequest},
		{"template without language", channel.WhatsAppMessage{Envelope: testEnvelope, To: testTo, Template: &channel.WhatsAppTemplate{Name: "x"}}, CodeInvalidRequest},
		{"button without id", channel.WhatsAppMessage{Envelope: testEnvelope, To: testTo, Template: &channel.WhatsAppTemplate{Name: "x", Language: "en", Buttons: []notify.Button{{Label: "Yes"}}}}, CodeInvalidRequest},
		{"eleven buttons", channel.WhatsAppMessage{Envelope: testEnvelope, To: testTo, Template: &channel.WhatsAppTemplate{Name: "x", Language: "en", Buttons: make([]notify.Button, 11)}}, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeGraph(t, DefaultAPIVersion, answer{status: http.StatusOK, body: successBody})
			s := newTestSender(t, srv, "")
			_, err := s.SendWhatsApp(context.Background(), tt.msg)
			code, ok := channel.IsPermanent(err)
			if !ok || code != tt.want {
				t.Errorf("SendWhatsApp error = %v, want permanent %q", err, tt.want)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("fake received %d requests, want 0", n)
			}
		})
	}
}

// metaError builds one of Meta's error answers with an error_data.details
// that the error message must never repeat.
func metaError(code int, typ, message, extra string) string {
	b, _ := json.Marshal(map[string]any{"error": json.RawMessage(`{"message":` + quote(message) + `,"type":` + quote(typ) + `,"code":` + itoa(code) + extra + `,"error_data":{"messaging_product":"whatsapp","details":"SECRET-DETAILS for +16505551234"},"fbtrace_id":"AbCdEf123"}`)})
	return string(b)
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
func itoa(n int) string     { b, _ := json.Marshal(n); return string(b) }

func TestSendWhatsAppErrors(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	type want struct {
		permanent  string // "" for transient
		metaCode   int    // Meta's code on the *Error; -1 when no *Error is expected
		retryAfter time.Duration
	}
	tests := []struct {
		name   string
		answer answer
		want   want
	}{
		{
			name:   "131047 outside the 24-hour window",
			answer: answer{status: 400, body: metaError(131047, "OAuthException", "(#131047) Re-engagement message", "")},
			want:   want{permanent: CodeWindowExpired, metaCode: 131047},
		},
		{
			name:   "131026 undeliverable",
			answer: answer{status: 400, body: metaError(131026, "OAuthException", "(#131026) Message Undeliverable.", "")},
			want:   want{permanent: CodeInvalidAddress, metaCode: 131026},
		},
		{
			name:   "131030 not on the test number's allowed list",
			answer: answer{status: 400, body: metaError(131030, "OAuthException", "(#131030) Recipient phone number not in allowed list", "")},
			want:   want{permanent: CodeInvalidAddress, metaCode: 131030},
		},
		{
			name:   "132000 parameter count",
			answer: answer{status: 400, body: metaError(132000, "OAuthException", "(#132000) Number of parameters does not match the expected number of params", "")},
			want:   want{permanent: CodeTemplateRejected, metaCode: 132000},
		},
		{
			name:   "132001 template does not exist",
			answer: answer{status: 404, body: metaError(132001, "OAuthException", "(#132001) Template name does not exist in the translation", "")},
			want:   want{permanent: CodeTemplateRejected, metaCode: 132001},
		},
		{
			name:   "132015 template paused",
			answer: answer{status: 400, body: metaError(132015, "OAuthException", "(#132015) Template is paused", "")},
			want:   want{permanent: CodeTemplateRejected, metaCode: 132015},
		},
		{
			name:   "131050 stopped marketing messages",
			answer: answer{status: 400, body: metaError(131050, "OAuthException", "(#131050) Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.", "")},
			want:   want{permanent: CodeOptedOut, metaCode: 131050},
		},
		{
			name:   "131049 Meta chose not to deliver",
			answer: answer{status: 400, body: metaError(131049, "OAuthException", "(#131049) This message was not delivered to maintain healthy ecosystem engagement.", "")},
			want:   want{permanent: CodeProviderDeclined, metaCode: 131049},
		},
		{
			name:   "100 invalid parameter",
			answer: answer{status: 400, body: metaError(100, "OAuthException", "(#100) Invalid parameter", "")},
			want:   want{permanent: CodeInvalidRequest, metaCode: 100},
		},
		{
			name:   "100/33 unknown phone number id",
			answer: answer{status: 400, body: `{"error":{"message":"Unsupported post request. Object with ID '106540352242922' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"A2kq9mX7"}}`},
			want:   want{permanent: CodeInvalidRequest, metaCode: 100},
		},
		{
			name:   "190 expired token",
			answer: answer{status: 401, body: `{"error":{"message":"Error validating access token: Session has expired on Friday, 20-Nov-26 04:00:00 PST. The current time is Saturday, 21-Nov-26 04:00:00 PST.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AqZ3m1"}}`},
			want:   want{permanent: CodeAuthFailed, metaCode: 190},
		},
		{
			name:   "10 missing permission",
			answer: answer{status: 403, body: `{"error":{"message":"(#10) Application does not have permission for this action","type":"OAuthException","code":10,"fbtrace_id":"B9x"}}`},
			want:   want{permanent: CodePermissionDenied, metaCode: 10},
		},
		{
			name:   "368 policy block",
			answer: answer{status: 403, body: metaError(368, "OAuthException", "(#368) Temporarily blocked for policies violations", "")},
			want:   want{permanent: CodeAccountRestricted, metaCode: 368},
		},
		{
			name:   "130429 throughput, no Retry-After",
			answer: answer{status: 400, body: metaError(130429, "OAuthException", "(#130429) Rate limit hit", "")},
			want:   want{metaCode: 130429, retryAfter: time.Second},
		},
		{
			name:   "130429 as a 429 with Retry-After seconds",
			answer: answer{status: 429, header: http.Header{"Retry-After": {"30"}}, body: metaError(130429, "OAuthException", "(#130429) Rate limit hit", "")},
			want:   want{metaCode: 130429, retryAfter: 30 * time.Second},
		},
		{
			// One recipient's limit: retried for that recipient, with no
			// pause of the whole channel (no RetryAfter).
			name:   "131056 pair rate limit",
			answer: answer{status: 400, body: metaError(131056, "OAuthException", "(#131056) (Business Account, Consumer Account) pair rate limit hit", "")},
			want:   want{metaCode: 131056},
		},
		{
			name:   "131048 spam rate limit",
			answer: answer{status: 400, body: metaError(131048, "OAuthException", "(#131048) Spam rate limit hit", "")},
			want:   want{metaCode: 131048, retryAfter: 5 * time.Minute},
		},
		{
			name:   "4 application request limit",
			answer: answer{status: 400, body: `{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","is_transient":true,"code":4,"fbtrace_id":"Cx1"}}`},
			want:   want{metaCode: 4, retryAfter: time.Minute},
		},
		{
			name:   "80007 business account limit with an HTTP-date Retry-After",
			answer: answer{status: 429, header: http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, body: `{"error":{"message":"(#80007) There have been too many calls to this WhatsApp Business account. Wait a bit and try again.","type":"OAuthException","is_transient":true,"code":80007,"fbtrace_id":"Dx2"}}`},
			want:   want{metaCode: 80007, retryAfter: 90 * time.Second},
		},
		{
			name:   "500 unknown error",
			answer: answer{status: 500, body: `{"error":{"message":"An unknown error has occurred.","type":"OAuthException","is_transient":true,"code":1,"fbtrace_id":"Ex3"}}`},
			want:   want{metaCode: 1},
		},
		{
			name:   "131000 something went wrong",
			answer: answer{status: 500, body: metaError(131000, "OAuthException", "(#131000) Something went wrong", "")},
			want:   want{metaCode: 131000},
		},
		{
			name:   "503 from a proxy, not JSON",
			answer: answer{status: 503, header: http.Header{"Content-Type": {"text/html"}}, body: "<html><body>Service Unavailable</body></html>"},
			want:   want{metaCode: 0},
		},
		{
			name:   "429 without a body",
			answer: answer{status: 429, header: http.Header{"Retry-After": {"7"}}},
			want:   want{metaCode: 0, retryAfter: 7 * time.Second},
		},
		{
			name:   "400 that is not Meta's JSON",
			answer: answer{status: 400, header: http.Header{"Content-Type": {"text/plain"}}, body: "bad request"},
			want:   want{permanent: CodeInvalidRequest, metaCode: 0},
		},
		{
			name:   "200 with a malformed body",
			answer: answer{status: 200, body: `{"messaging_product":"whatsapp","messages":[{"id":`},
			want:   want{metaCode: -1},
		},
		{
			name:   "200 without a message id",
			answer: answer{status: 200, body: `{"messaging_product":"whatsapp","contacts":[],"messages":[]}`},
			want:   want{metaCode: -1},
		},
		{
			name:   "connection closed without an answer",
			answer: answer{hangUp: true},
			want:   want{metaCode: -1},
		},
	}
	msg := channel.WhatsAppMessage{
		Envelope: testEnvelope,
		To:       testTo,
		Template: &channel.WhatsAppTemplate{Name: "order_ready", Language: "en_US", Parameters: []string{"SECRET-PARAM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeGraph(t, DefaultAPIVersion, tt.answer)
			s := newTestSender(t, srv, "")
			s.now = func() time.Time { return now }

			_, err := s.SendWhatsApp(context.Background(), msg)
			if err == nil {
				t.Fatal("SendWhatsApp succeeded, want an error")
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("fake received %d requests, want 1", n)
			}
			code, permanent := channel.IsPermanent(err)
			if got, want := code, tt.want.permanent; got != want || permanent != (want != "") {
				t.Errorf("IsPermanent(%v) = %q, %v; want %q, %v", err, got, permanent, want, want != "")
			}
			var e *Error
			switch isAPI := errors.As(err, &e); {
			case tt.want.metaCode < 0 && isAPI:
				t.Errorf("error %v is an *Error, want a plain transient error", err)
			case tt.want.metaCode >= 0 && !isAPI:
				t.Errorf("error %v is not an *Error", err)
			case isAPI && e.Code != tt.want.metaCode:
				t.Errorf("Error.Code = %d, want %d", e.Code, tt.want.metaCode)
			}
			gotWait, ok := RetryAfter(err)
			if gotWait != tt.want.retryAfter || ok != (tt.want.retryAfter > 0) {
				t.Errorf("RetryAfter(%v) = %v, %v; want %v, %v", err, gotWait, ok, tt.want.retryAfter, tt.want.retryAfter > 0)
			}
			for _, secret := range []string{testToken, testTo, "16505551234", "SECRET-PARAM", "SECRET-DETAILS"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains %q", err, secret)
				}
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Status: 400, Code: 131047, Subcode: 2494010, Type: "OAuthException", Message: "(#131047) Re-engagement message", TraceID: "AbC"}
	want := "whatsapp: cloud api status 400, code 131047, subcode 2494010, type OAuthException, fbtrace_id AbC: (#131047) Re-engagement message"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	err := channel.Permanent(CodeWindowExpired, e)
	if got, want := err.Error(), "permanent window_expired: "+want; got != want {
		t.Errorf("permanent Error() = %q, want %q", got, want)
	}
}

func TestSendWhatsAppContextCancelled(t *testing.T) {
	_, srv := newFakeGraph(t, DefaultAPIVersion, answer{status: 200, body: successBody})
	s := newTestSender(t, srv, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.SendWhatsApp(ctx, channel.WhatsAppMessage{Envelope: testEnvelope, To: testTo, Text: "hi"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("SendWhatsApp error = %v, want context.Canceled", err)
	}
	if _, ok := channel.IsPermanent(err); ok {
		t.Errorf("cancelled send is permanent: %v", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
		want    string
	}{
		{"defaults", Config{PhoneNumberID: "123", AccessToken: "t"}, false, "https://graph.facebook.com/" + DefaultAPIVersion + "/123/messages"},
		{"explicit", Config{BaseURL: "http://127.0.0.1:9000/", APIVersion: "v21.0", PhoneNumberID: "123", AccessToken: "t"}, false, "http://127.0.0.1:9000/v21.0/123/messages"},
		{"no phone number id", Config{AccessToken: "t"}, true, ""},
		{"no token", Config{PhoneNumberID: "123"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && s.endpoint != tt.want {
				t.Errorf("endpoint = %q, want %q", s.endpoint, tt.want)
			}
		})
	}
}

func TestCallbackData(t *testing.T) {
	tests := []struct {
		name string
		env  channel.Envelope
	}{
		{"user", channel.Envelope{WorkspaceID: "ws_1", NotificationID: "ntf_1", RecipientKey: "user_1"}},
		{"raw address", channel.Envelope{WorkspaceID: "ws:1", NotificationID: "ntf\"1", RecipientKey: "addr#+16505551234"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := CallbackData(tt.env)
			ws, n, key, ok := ParseCallbackData(s)
			if !ok {
				t.Fatalf("ParseCallbackData(%q) not ok", s)
			}
			if diff := cmp.Diff([]string{tt.env.WorkspaceID, tt.env.NotificationID, tt.env.RecipientKey}, []string{ws, n, key}); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	if got := CallbackData(channel.Envelope{WorkspaceID: "ws_1", NotificationID: "ntf_1", RecipientKey: strings.Repeat("x", 600)}); got != "" {
		t.Errorf("CallbackData of an oversized key = %q, want empty", got)
	}
	for _, s := range []string{"", "order-42", `{"w":"ws"}`, `{"w":"ws","n":"n","r":"k","x":1}`, `{"w":"ws","n":"n","r":"k"} trailing`} {
		if _, _, _, ok := ParseCallbackData(s); ok {
			t.Errorf("ParseCallbackData(%q) ok, want not ok", s)
		}
	}
}

func TestButtonPayload(t *testing.T) {
	env := channel.Envelope{WorkspaceID: "ws_1", NotificationID: "01JD0000000000000000000000", RecipientKey: "cust:42|\"x\""}
	for _, secret := range [][]byte{nil, []byte("reply-secret")} {
		p := ButtonPayload(secret, env, "+34600000001", "accept")
		r, ok := ParseButtonPayload(p)
		if !ok || r.WorkspaceID != env.WorkspaceID || r.NotificationID != env.NotificationID || r.RecipientKey != env.RecipientKey || r.ButtonID != "accept" {
			t.Errorf("ParseButtonPayload(ButtonPayload(%q, …)) = %+v, %v", secret, r, ok)
		}
		if r.Signed() != (secret != nil) {
			t.Errorf("ButtonPayload(%q, …) signed = %v, want %v", secret, r.Signed(), secret != nil)
		}
	}
	// Without a notification, or too long for Meta: the bare id, which names no delivery.
	for _, env := range []channel.Envelope{{}, {WorkspaceID: "ws_1", NotificationID: "n", RecipientKey: strings.Repeat("k", 300)}} {
		if got := ButtonPayload([]byte("s"), env, "+34600000001", "decline"); got != "decline" {
			t.Errorf("ButtonPayload(%.20v) = %q, want the bare id", env, got)
		}
	}
	for _, s := range []string{"accept", "", `{"w":"a","n":"b","r":"c"}`, `{"w":"a","n":"b","r":"c","b":"d","x":1}`, `{"w":"a","n":"b","r":"c","b":"d"}{}`} {
		if _, ok := ParseButtonPayload(s); ok {
			t.Errorf("ParseButtonPayload(%q) ok, want not Herald's", s)
		}
	}
}

// TestButtonPayloadMAC: a signed payload verifies only under its secret,
// for the phone the message went to, with none of its fields changed.
func TestButtonPayloadMAC(t *testing.T) {
	secret := []byte("reply-secret")
	env := channel.Envelope{WorkspaceID: "ws_1", NotificationID: "01JD0000000000000000000000", RecipientKey: "ana"}
	payload := ButtonPayload(secret, env, "+34600000001", "accept")
	var fields map[string]string
	if err := json.Unmarshal([]byte(payload), &fields); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(payload, "34600000001") {
		t.Errorf("payload %s carries the phone; only its MAC should", payload)
	}
	with := func(k, v string) string {
		m := maps.Clone(fields)
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	tests := []struct {
		name    string
		payload string
		secret  []byte
		from    string
		want    bool
	}{
		{"as sent, from the recipient (wa_id)", payload, secret, "34600000001", true},
		{"as sent, from the recipient (E.164)", payload, secret, "+34600000001", true},
		{"from another phone", payload, secret, "34600000002", false},
		{"from no phone", payload, secret, "", false},
		{"from something else", payload, secret, "34600000001; DROP", false},
		{"under another secret", payload, []byte("other"), "34600000001", false},
		{"with no secret", payload, nil, "34600000001", false},
		{"another workspace", with("w", "ws_2"), secret, "34600000001", false},
		{"another notification", with("n", "01JD0000000000000000000001"), secret, "34600000001", false},
		{"another delivery", with("r", "bea"), secret, "34600000001", false},
		{"another button", with("b", "decline"), secret, "34600000001", false},
		{"MAC not base64", with("m", "!!!"), secret, "34600000001", false},
		{"MAC of another payload", with("m", fields["m"][:len(fields["m"])-2]+"AA"), secret, "34600000001", false},
		{"no MAC", with("m", ""), secret, "34600000001", false},
	}
	for _, tt := range tests {
		r, ok := ParseButtonPayload(tt.payload)
		if !ok {
			t.Fatalf("%s: ParseButtonPayload(%s) not ok", tt.name, tt.payload)
		}
		if got := r.SignedBy(tt.secret, tt.from); got != tt.want {
			t.Errorf("%s: SignedBy = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSendWhatsAppSignsQuickReplies: a sender with a reply secret sends
// payloads that verify for the recipient's phone.
func TestSendWhatsAppSignsQuickReplies(t *testing.T) {
	fg, srv := newFakeGraph(t, DefaultAPIVersion, answer{status: 200, body: successBody})
	s, err := New(Config{BaseURL: srv.URL, PhoneNumberID: testPhoneID, AccessToken: testToken, HTTPClient: srv.Client(), ReplySecret: []byte("reply-secret")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.SendWhatsApp(context.Background(), channel.WhatsAppMessage{Envelope: testEnvelope, To: testTo,
		Template: &channel.WhatsAppTemplate{Name: "order_ready", Language: "en_US", Buttons: []notify.Button{{ID: "accept", Label: "Accept"}}}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := fg.requests()
	if len(reqs) != 1 || reqs[0].Template == nil || len(reqs[0].Template.Components) != 1 {
		t.Fatalf("requests = %+v, want one template with one button", reqs)
	}
	r, ok := ParseButtonPayload(reqs[0].Template.Components[0].Parameters[0].Payload)
	if !ok || r.ButtonID != "accept" || !r.SignedBy([]byte("reply-secret"), testTo) || r.SignedBy([]byte("reply-secret"), "+34600000002") {
		t.Errorf("sent payload %+v: want it signed for %s only", r, testTo)
	}
}
