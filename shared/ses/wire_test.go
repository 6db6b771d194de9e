package ses

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/heraldhq/herald/shared/channel"
)

// TestAppendString checks the hand-written JSON string encoder against
// encoding/json (without its HTML escaping, which SES does not need).
func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "new\nline\r\ttab", "\x00\x01\x1f\x7f",
		"Grüße, 日本語, emoji 🎉", "bad \xff utf-8 \xc3", "line\u2028sep\u2029", "<b>&amp;</b>",
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendString(nil, s)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want.String())
		}
	}
}

// TestSendEmailRetriesAsTheClientSays: the client's own retryer decides
// the retries of a send, as it would for the SDK's SendEmail.
func TestSendEmailRetriesAsTheClientSays(t *testing.T) {
	fake, _ := newFake(t, answer{status: 500, errorType: "InternalServiceErrorException", body: `{"message":"oops"}`})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	client := sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
	_, err := newSender(t, client, baseConfig).SendEmail(context.Background(), channel.EmailMessage{Envelope: envelope("security"), To: "ada@example.org", Subject: "Hi", Text: "Hello"})
	if code, ok := channel.IsPermanent(err); err == nil || ok {
		t.Fatalf("SendEmail = %v (permanent %q), want a transient error", err, code)
	}
	if n := len(fake.requests()); n != 3 {
		t.Errorf("SES got %d requests, want 3 (the retryer's attempts)", n)
	}
}

// TestSendEmailWithoutRegion: a client that cannot resolve its endpoint
// still makes a Sender, whose sends fail transiently (as the SDK's calls
// would) without a request.
func TestSendEmailWithoutRegion(t *testing.T) {
	client := sesv2.New(sesv2.Options{Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		HTTPClient: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			t.Error("a request was sent")
			return nil, http.ErrHandlerTimeout
		})}})
	s := newSender(t, client, baseConfig)
	_, err := s.SendEmail(context.Background(), channel.EmailMessage{Envelope: envelope("security"), To: "ada@example.org", Subject: "Hi", Text: "Hello"})
	if code, ok := channel.IsPermanent(err); err == nil || ok {
		t.Fatalf("SendEmail without a region = %v (permanent %q), want a transient error", err, code)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkSendEmail measures one send's CPU and allocations through a
// local fake SES (whose own work is part of the figure).
func BenchmarkSendEmail(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = bytes.NewBuffer(nil).ReadFrom(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(successBody))
	}))
	defer srv.Close()
	client := sesv2.New(sesv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")),
		HTTPClient:  &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}})
	s, err := New(client, Config{From: "Herald <no-reply@example.com>", ConfigurationSet: "herald-events"})
	if err != nil {
		b.Fatal(err)
	}
	m := channel.EmailMessage{Envelope: envelope("news"), To: "u0000001@example.com", Subject: "Your energy report, User 1", Text: strings.Repeat("Hello User 1, ", 30)}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.SendEmail(context.Background(), m); err != nil {
				b.Error(err)
			}
		}
	})
}

func TestMessageID(t *testing.T) {
	tests := []struct {
		answer, want string
		wantErr      bool
	}{
		{`{"MessageId":"0100018f-abc-000000"}`, "0100018f-abc-000000", false},
		{"{ \"MessageId\" :\n \"id-1\" }", "id-1", false},
		{`{"MessageId":"a\"b\u00e9"}`, `a"bé`, false},
		{`{}`, "", false},
		{`not json`, "", true},
	}
	for _, tt := range tests {
		got, err := messageID([]byte(tt.answer))
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("messageID(%s) = %q, %v; want %q, error %t", tt.answer, got, err, tt.want, tt.wantErr)
		}
	}
}
