package ses

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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/dispatch"
)

var _ dispatch.EmailSender = (*Sender)(nil)

// answer is what the fake SES gives back.
type answer struct {
	status    int
	errorType string // x-amzn-ErrorType
	header    http.Header
	body      string
}

// successBody is SES's answer to an accepted SendEmail.
const successBody = `{"MessageId":"0100018f3c4d5e6f-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000"}`

// fakeSES is an httptest server standing in for the SES v2 endpoint. It
// checks that every request is a signed SendEmail and keeps its JSON body.
type fakeSES struct {
	t      *testing.T
	answer answer

	mu     sync.Mutex
	bodies []string
}

func (f *fakeSES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
		f.t.Errorf("request %s %s, want POST /v2/email/outbound-emails", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		f.t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got, want := r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/"; !strings.HasPrefix(got, want) || !strings.Contains(got, "/us-east-1/ses/aws4_request") {
		f.t.Errorf("Authorization = %q, want a SigV4 signature by AKIDTEST for ses in us-east-1", got)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	f.mu.Lock()
	f.bodies = append(f.bodies, string(body))
	f.mu.Unlock()

	a := f.answer
	if a.status == 0 {
		a = answer{status: http.StatusOK, body: successBody}
	}
	for k, vs := range a.header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", "5f6a7b8c-0000-4000-8000-000000000000")
	if a.errorType != "" {
		w.Header().Set("x-amzn-ErrorType", a.errorType)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (f *fakeSES) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// newFake starts a fake SES and a real client pointed at it, with the SDK's
// retries off so each send is one request.
func newFake(t *testing.T, a answer) (*fakeSES, *sesv2.Client) {
	t.Helper()
	f := &fakeSES{t: t, answer: a}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, newClient(srv.URL)
}

func newClient(endpoint string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer:      aws.NopRetryer{},
	})
}

func newSender(t *testing.T, client *sesv2.Client, cfg Config) *Sender {
	t.Helper()
	s, err := New(client, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

var baseConfig = Config{
	From:             "Herald <no-reply@example.com>",
	ConfigurationSet: "herald-events",
	UnsubscribeURL: func(env channel.Envelope) string {
		return "https://api.example.com/v1/unsubscribe?w=" + env.WorkspaceID + "&u=" + env.UserID + "&t=signed"
	},
	MarketingCategories: map[string]bool{"marketing": true, "newsletter": true},
}

func envelope(category string) channel.Envelope {
	return channel.Envelope{WorkspaceID: "ws_1", NotificationID: "01J0ABCDEF", RecipientKey: "user_1", UserID: "user_1", Category: category}
}

func TestSendEmailRequest(t *testing.T) {
	noUnsubscribe := baseConfig
	noUnsubscribe.UnsubscribeURL = nil
	noConfigSet := baseConfig
	noConfigSet.ConfigurationSet = ""
	unicodeFrom := baseConfig
	unicodeFrom.From = "Héraut <no-reply@example.com>"
	emptyUnsubscribe := baseConfig
	emptyUnsubscribe.UnsubscribeURL = func(channel.Envelope) string { return "" }
	longUser := envelope("marketing")
	longUser.UserID = strings.Repeat("ü", 50) // 300 characters once encoded

	tests := []struct {
		name string
		cfg  Config
		msg  channel.EmailMessage
		want string // the JSON body SES receives
	}{
		{
			name: "transactional with html",
			cfg:  baseConfig,
			msg:  channel.EmailMessage{Envelope: envelope("security"), To: "ada@example.org", Subject: "Your code", Text: "Code: 123456", HTML: "<p>Code: <b>123456</b></p>"},
			want: `{
				"FromEmailAddress": "\"Herald\" <no-reply@example.com>",
				"Destination": {"ToAddresses": ["ada@example.org"]},
				"Content": {"Simple": {
					"Subject": {"Data": "Your code", "Charset": "UTF-8"},
					"Body": {
						"Text": {"Data": "Code: 123456", "Charset": "UTF-8"},
						"Html": {"Data": "<p>Code: <b>123456</b></p>", "Charset": "UTF-8"}
					}
				}},
				"ConfigurationSetName": "herald-events",
				"EmailTags": [
					{"Name": "herald-workspace", "Value": "ws_1"},
					{"Name": "herald-notification", "Value": "01J0ABCDEF"},
					{"Name": "herald-user", "Value": "user_1"},
					{"Name": "herald-category", "Value": "security"}
				]
			}`,
		},
		{
			name: "marketing text only gets one-click unsubscribe",
			cfg:  baseConfig,
			msg:  channel.EmailMessage{Envelope: envelope("marketing"), To: "ada@example.org", Subject: "News", Text: "Hello"},
			want: `{
				"FromEmailAddress": "\"Herald\" <no-reply@example.com>",
				"Destination": {"ToAddresses": ["ada@example.org"]},
				"Content": {"Simple": {
					"Subject": {"Data": "News", "Charset": "UTF-8"},
					"Body": {"Text": {"Data": "Hello", "Charset": "UTF-8"}},
					"Headers": [
						{"Name": "List-Unsubscribe", "Value": "<https://api.example.com/v1/unsubscribe?w=ws_1&u=user_1&t=signed>"},
						{"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"}
					]
				}},
				"ConfigurationSetName": "herald-events",
				"EmailTags": [
					{"Name": "herald-workspace", "Value": "ws_1"},
					{"Name": "herald-notification", "Value": "01J0ABCDEF"},
					{"Name": "herald-user", "Value": "user_1"},
					{"Name": "herald-category", "Value": "marketing"}
				]
			}`,
		},
		{
			name: "marketing without an unsubscribe url has no headers",
			cfg:  noUnsubscribe,
			msg:  channel.EmailMessage{Envelope: envelope("newsletter"), To: "ada@example.org", Subject: "News", Text: "Hello"},
			want: `{
				"FromEmailAddress": "\"Herald\" <no-reply@example.com>",
				"Destination": {"ToAddresses": ["ada@example.org"]},
				"Content": {"Simple": {
					"Subject": {"Data": "News", "Charset": "UTF-8"},
					"Body": {"Text": {"Data": "Hello", "Charset": "UTF-8"}}
				}},
				"ConfigurationSetName": "herald-events",
				"EmailTags": [
					{"Name": "herald-workspace", "Value": "ws_1"},
					{"Name": "herald-notification", "Value": "01J0ABCDEF"},
					{"Name": "herald-user", "Value": "user_1"},
					{"Name": "herald-category", "Value": "newsletter"}
				]
			}`,
		},
		{
			name: "raw address, no configuration set, non-ascii subject and sender name, odd ids",
			cfg:  unicodeFrom,
			msg: channel.EmailMessage{
				Envelope: channel.Envelope{WorkspaceID: "ws_1", NotificationID: "n-1/2", RecipientKey: "addr#bob@example.org"},
				To:       "Bob <bob@example.org>", Subject: "Größe\r\nBcc: x", Text: "Grüße",
			},
			want: `{
				"FromEmailAddress": "=?utf-8?q?H=C3=A9raut?= <no-reply@example.com>",
				"Destination": {"ToAddresses": ["bob@example.org"]},
				"Content": {"Simple": {
					"Subject": {"Data": "=?UTF-8?q?Gr=C3=B6=C3=9Fe_Bcc:_x?=", "Charset": "UTF-8"},
					"Body": {"Text": {"Data": "Grüße", "Charset": "UTF-8"}}
				}},
				"ConfigurationSetName": "herald-events",
				"EmailTags": [
					{"Name": "herald-workspace", "Value": "ws_1"},
					{"Name": "herald-notification", "Value": "n-2D1-2F2"}
				]
			}`,
		},
		{
			name: "marketing with an empty unsubscribe url has no headers, an overlong user tag is left out",
			cfg:  emptyUnsubscribe,
			msg:  channel.EmailMessage{Envelope: longUser, To: "ada@example.org", Subject: "News", Text: "Hello"},
			want: `{
				"FromEmailAddress": "\"Herald\" <no-reply@example.com>",
				"Destination": {"ToAddresses": ["ada@example.org"]},
				"Content": {"Simple": {
					"Subject": {"Data": "News", "Charset": "UTF-8"},
					"Body": {"Text": {"Data": "Hello", "Charset": "UTF-8"}}
				}},
				"ConfigurationSetName": "herald-events",
				"EmailTags": [
					{"Name": "herald-workspace", "Value": "ws_1"},
					{"Name": "herald-notification", "Value": "01J0ABCDEF"},
					{"Name": "herald-category", "Value": "marketing"}
				]
			}`,
		},
		{
			name: "no configuration set",
			cfg:  noConfigSet,
			msg:  channel.EmailMessage{Envelope: envelope(""), To: "ada@example.org", Subject: "Hi", Text: "Hello"},
			want: `{
				"FromEmailAddress": "\"Herald\" <no-reply@example.com>",
				"Destination": {"ToAddresses": ["ada@example.org"]},
				"Content": {"Simple": {
					"Subject": {"Data": "Hi", "Charset": "UTF-8"},
					"Body": {"Text": {"Data": "Hello", "Charset": "UTF-8"}}
				}},
				"EmailTags": [
					{"Name": "herald-workspace", "Value": "ws_1"},
					{"Name": "herald-notification", "Value": "01J0ABCDEF"},
					{"Name": "herald-user", "Value": "user_1"}
				]
			}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newFake(t, answer{})
			got, err := newSender(t, client, tt.cfg).SendEmail(context.Background(), tt.msg)
			if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}
			want := channel.Receipt{ProviderMessageID: "0100018f3c4d5e6f-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("SendEmail receipt (-want +got):\n%s", diff)
			}
			reqs := fake.requests()
			if len(reqs) != 1 {
				t.Fatalf("SES got %d requests, want 1", len(reqs))
			}
			if diff := cmp.Diff(decodeJSON(t, tt.want), decodeJSON(t, reqs[0])); diff != "" {
				t.Errorf("SendEmail request body (-want +got):\n%s", diff)
			}
		})
	}
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode JSON %q: %v", s, err)
	}
	return v
}

func TestSendEmailErrors(t *testing.T) {
	const coral = ":http://internal.amazon.com/coral/com.amazonaws.sesv2/"
	tests := []struct {
		name     string
		answer   answer
		wantCode string // "" for a transient error
		wantType string // the SES error code the error still carries
	}{
		{
			name:     "message rejected naming the recipient",
			answer:   answer{status: 400, errorType: "MessageRejected" + coral, body: `{"message":"Email address is not verified. The following identities failed the check in region US-EAST-1: ada@example.org, no-reply@example.com"}`},
			wantCode: CodeRejected, wantType: "MessageRejected",
		},
		{
			name:     "mail from domain not verified",
			answer:   answer{status: 400, errorType: "MailFromDomainNotVerifiedException", body: `{"message":"The MAIL FROM domain is not verified."}`},
			wantCode: CodeSenderNotVerified, wantType: "MailFromDomainNotVerifiedException",
		},
		{
			name:     "account suspended",
			answer:   answer{status: 400, errorType: "AccountSuspendedException" + coral, body: `{"message":"The account has been suspended."}`},
			wantCode: CodeAccountSuspended, wantType: "AccountSuspendedException",
		},
		{
			name:     "sending paused",
			answer:   answer{status: 400, errorType: "SendingPausedException", body: `{"message":"Sending is paused for this configuration set."}`},
			wantCode: CodeSendingPaused, wantType: "SendingPausedException",
		},
		{
			name:     "configuration set not found",
			answer:   answer{status: 404, errorType: "NotFoundException" + coral, body: `{"message":"Configuration set <herald-events> does not exist."}`},
			wantCode: CodeNotConfigured, wantType: "NotFoundException",
		},
		{
			name:     "bad request about the address",
			answer:   answer{status: 400, errorType: "BadRequestException" + coral, body: `{"message":"Domain contains illegal character"}`},
			wantCode: CodeInvalidAddress, wantType: "BadRequestException",
		},
		{
			name:     "bad request about something else",
			answer:   answer{status: 400, errorType: "BadRequestException", body: `{"message":"Message header value contains invalid characters."}`},
			wantCode: CodeBadRequest, wantType: "BadRequestException",
		},
		{
			name:     "too many requests",
			answer:   answer{status: 429, errorType: "TooManyRequestsException" + coral, body: `{"message":"Too many requests."}`},
			wantType: "TooManyRequestsException",
		},
		{
			name:     "limit exceeded",
			answer:   answer{status: 400, errorType: "LimitExceededException", body: `{"message":"Maximum sending rate exceeded."}`},
			wantType: "LimitExceededException",
		},
		{
			name:     "throttling",
			answer:   answer{status: 400, errorType: "ThrottlingException", body: `{"message":"Daily message quota exceeded."}`},
			wantType: "ThrottlingException",
		},
		{
			name:     "internal error",
			answer:   answer{status: 500, errorType: "InternalServiceErrorException" + coral, body: `{"message":"The request couldn't be processed because an error occurred with the Amazon SES API v2."}`},
			wantType: "InternalServiceErrorException",
		},
		{
			name:     "unavailable without a type",
			answer:   answer{status: 503, body: `{"message":"Service Unavailable"}`},
			wantType: "UnknownError",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newFake(t, tt.answer)
			msg := channel.EmailMessage{Envelope: envelope("security"), To: "ada@example.org", Subject: "Your code", Text: "Code: 123456"}
			_, err := newSender(t, client, baseConfig).SendEmail(context.Background(), msg)
			if err == nil {
				t.Fatal("SendEmail succeeded, want an error")
			}
			if n := len(fake.requests()); n != 1 {
				t.Errorf("SES got %d requests, want 1", n)
			}
			code, _ := channel.IsPermanent(err)
			if code != tt.wantCode {
				t.Errorf("SendEmail error %q: permanent code %q, want %q", err, code, tt.wantCode)
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantType {
				t.Errorf("SendEmail error %q: SES code %v, want %q", err, apiErr, tt.wantType)
			}
			for _, secret := range []string{"@", "123456"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("SendEmail error %q contains %q", err, secret)
				}
			}
		})
	}
}

func TestSendEmailRefusedBeforeSES(t *testing.T) {
	badURL := baseConfig
	badURL.UnsubscribeURL = func(channel.Envelope) string { return "/v1/unsubscribe" }
	tests := []struct {
		name     string
		cfg      Config
		msg      channel.EmailMessage
		wantCode string
	}{
		{"empty address", baseConfig, channel.EmailMessage{Envelope: envelope("security"), Subject: "Hi", Text: "Hello"}, CodeInvalidAddress},
		{"not an address", baseConfig, channel.EmailMessage{Envelope: envelope("security"), To: "ada.example.org", Subject: "Hi", Text: "Hello"}, CodeInvalidAddress},
		{"non-ascii local part", baseConfig, channel.EmailMessage{Envelope: envelope("security"), To: "adà@example.org", Subject: "Hi", Text: "Hello"}, CodeInvalidAddress},
		{"relative unsubscribe url", badURL, channel.EmailMessage{Envelope: envelope("marketing"), To: "ada@example.org", Subject: "Hi", Text: "Hello"}, CodeNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, client := newFake(t, answer{})
			_, err := newSender(t, client, tt.cfg).SendEmail(context.Background(), tt.msg)
			if code, _ := channel.IsPermanent(err); code != tt.wantCode {
				t.Errorf("SendEmail error %v: permanent code %q, want %q", err, code, tt.wantCode)
			}
			if err != nil && strings.Contains(err.Error(), "example.org") {
				t.Errorf("SendEmail error %q names the address", err)
			}
			if n := len(fake.requests()); n != 0 {
				t.Errorf("SES got %d requests, want none", n)
			}
		})
	}
}

func TestSendEmailNetworkErrorIsTransient(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	s := newSender(t, newClient(srv.URL), baseConfig)
	_, err := s.SendEmail(context.Background(), channel.EmailMessage{Envelope: envelope("security"), To: "ada@example.org", Subject: "Hi", Text: "Hello"})
	if err == nil {
		t.Fatal("SendEmail to a closed server succeeded")
	}
	if code, ok := channel.IsPermanent(err); ok {
		t.Errorf("SendEmail error %q is permanent (%s), want transient", err, code)
	}
}

func TestSendEmailWithoutMessageID(t *testing.T) {
	_, client := newFake(t, answer{status: 200, body: `{}`})
	_, err := newSender(t, client, baseConfig).SendEmail(context.Background(), channel.EmailMessage{Envelope: envelope("security"), To: "ada@example.org", Subject: "Hi", Text: "Hello"})
	if err == nil {
		t.Fatal("SendEmail with no MessageId in the answer succeeded")
	}
	if code, ok := channel.IsPermanent(err); ok {
		t.Errorf("SendEmail error %q is permanent (%s), want transient", err, code)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		answer answer
		want   time.Duration
		wantOK bool
	}{
		{"429 with seconds", answer{status: 429, errorType: "TooManyRequestsException", header: http.Header{"Retry-After": {"7"}}, body: `{"message":"Too many requests."}`}, 7 * time.Second, true},
		{"503 with seconds", answer{status: 503, header: http.Header{"Retry-After": {"2"}}, body: `{}`}, 2 * time.Second, true},
		{"429 without header", answer{status: 429, errorType: "TooManyRequestsException", body: `{"message":"Too many requests."}`}, 0, false},
		{"400 with header", answer{status: 400, errorType: "MessageRejected", header: http.Header{"Retry-After": {"7"}}, body: `{"message":"Rejected."}`}, 0, false},
		{"429 with garbage", answer{status: 429, errorType: "TooManyRequestsException", header: http.Header{"Retry-After": {"soon"}}, body: `{}`}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, client := newFake(t, tt.answer)
			_, err := newSender(t, client, baseConfig).SendEmail(context.Background(), channel.EmailMessage{Envelope: envelope("security"), To: "ada@example.org", Subject: "Hi", Text: "Hello"})
			got, ok := RetryAfter(err)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%v) = %v, %v, want %v, %v", err, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	if _, ok := RetryAfter(errors.New("plain")); ok {
		t.Error("RetryAfter(plain error) reported a wait")
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		from    string
		want    string
		wantErr bool
	}{
		{"no-reply@example.com", "<no-reply@example.com>", false},
		{"Herald <no-reply@example.com>", `"Herald" <no-reply@example.com>`, false},
		{"", "", true},
		{"Herald", "", true},
		{"Herald <nö@example.com>", "", true},
	}
	for _, tt := range tests {
		s, err := New(newClient("http://127.0.0.1:1"), Config{From: tt.from})
		if (err != nil) != tt.wantErr {
			t.Errorf("New(From %q) error = %v, want error %v", tt.from, err, tt.wantErr)
			continue
		}
		if err == nil && s.from != tt.want {
			t.Errorf("New(From %q) sends from %q, want %q", tt.from, s.from, tt.want)
		}
	}
}
