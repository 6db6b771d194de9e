package awscall

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
)

// seen is one request the fake service received.
type seen struct {
	Path, ContentType, Extra, Token, Body string
	Authorization                         string
}

// fake answers each request with the next of its statuses (200 after
// them) and records what it received.
type fake struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []seen
}

func newFake(t *testing.T, statuses ...int) *fake {
	f := &fake{statuses: statuses}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, seen{Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"), Extra: r.Header.Get("X-Endpoint-Extra"),
			Token: r.Header.Get("X-Amz-Security-Token"), Body: string(body), Authorization: r.Header.Get("Authorization")})
		status := http.StatusOK
		if len(f.statuses) > 0 {
			status, f.statuses = f.statuses[0], f.statuses[1:]
		}
		f.mu.Unlock()
		w.Header().Set("X-Amzn-RequestId", "req-1")
		w.WriteHeader(status)
		if status == http.StatusOK {
			io.WriteString(w, `{"Id":"m-1"}`)
			return
		}
		io.WriteString(w, `{"code":"ServiceUnavailable","message":"try later"}`)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.got...)
}

// readCode reads the fake's error answers.
func readCode(status int, _ http.Header, body []byte) smithy.APIError {
	if strings.Contains(string(body), "ServiceUnavailable") {
		return &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "try later", Fault: smithy.FaultServer}
	}
	return &smithy.GenericAPIError{Code: "UnknownError", Message: http.StatusText(status)}
}

func client(t *testing.T, f *fake, retryer aws.Retryer, token string) *Client {
	u, err := url.Parse(f.srv.URL + "/base")
	if err != nil {
		t.Fatal(err)
	}
	return New(Config{ServiceID: "Test", URL: *u, Header: http.Header{"X-Endpoint-Extra": {"yes"}}, SigningName: "svc", SigningRegion: "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", token), HTTPClient: f.srv.Client(), Retryer: retryer, APIError: readCode})
}

// noWait is the standard retryer without backoff, trying max times.
func noWait(max int) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = max
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}

func TestCallSendsASignedRequest(t *testing.T) {
	f := newFake(t)
	var answer string
	err := client(t, f, nil, "session-token").Call(context.Background(), "Op", "/v2/op", "application/json", []byte(`{"a":1}`), func(b []byte) error {
		answer = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if answer != `{"Id":"m-1"}` {
		t.Errorf("read got %q, want the answer's body", answer)
	}
	got := f.requests()
	if len(got) != 1 {
		t.Fatalf("the service got %d requests, want 1", len(got))
	}
	auth := got[0].Authorization
	got[0].Authorization = ""
	want := seen{Path: "/base/v2/op", ContentType: "application/json", Extra: "yes", Token: "session-token", Body: `{"a":1}`}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(auth, "/eu-west-1/svc/aws4_request") ||
		!strings.Contains(auth, "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-endpoint-extra") {
		t.Errorf("Authorization = %q, want SigV4 by AKIDTEST for svc in eu-west-1 over every header", auth)
	}
}

func TestCallRetriesAsTheRetryerSays(t *testing.T) {
	tests := []struct {
		name         string
		retryer      aws.Retryer
		statuses     []int
		wantRequests int
		wantErr      bool
	}{
		{"no retryer tries once", nil, []int{503}, 1, true},
		{"standard retries a 503 and succeeds", noWait(3), []int{503, 503}, 3, false},
		{"standard gives up after its attempts", noWait(2), []int{503, 503, 503}, 2, true},
		{"a 400 is not retried", noWait(3), []int{400}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.statuses...)
			read := 0
			err := client(t, f, tt.retryer, "").Call(context.Background(), "Op", "/op", "application/json", []byte(`{}`), func([]byte) error {
				read++
				return nil
			})
			if n := len(f.requests()); n != tt.wantRequests {
				t.Errorf("the service got %d requests, want %d", n, tt.wantRequests)
			}
			if (err != nil) != tt.wantErr || (read == 1) == tt.wantErr {
				t.Fatalf("Call = %v after %d reads, want error %t", err, read, tt.wantErr)
			}
			if err == nil {
				return
			}
			var op *smithy.OperationError
			var re *awshttp.ResponseError
			var api smithy.APIError
			if !errors.As(err, &op) || op.Service() != "Test" || op.Operation() != "Op" || !errors.As(err, &re) || !errors.As(err, &api) {
				t.Fatalf("Call error %v (%T): want a smithy.OperationError around an awshttp.ResponseError and an API error", err, err)
			}
			if re.HTTPStatusCode() != tt.statuses[len(tt.statuses)-1] || re.ServiceRequestID() != "req-1" {
				t.Errorf("response error status %d, request %q; want %d, req-1", re.HTTPStatusCode(), re.ServiceRequestID(), tt.statuses[len(tt.statuses)-1])
			}
		})
	}
}

func TestCallWithoutAnAnswerIsASendError(t *testing.T) {
	f := newFake(t)
	f.srv.Close()
	err := client(t, f, noWait(2), "").Call(context.Background(), "Op", "/op", "application/json", nil, func([]byte) error { return nil })
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) {
		t.Fatalf("Call to a closed server = %v, want a smithyhttp.RequestSendError", err)
	}
	var max *retry.MaxAttemptsError
	if !errors.As(err, &max) || max.Attempt != 2 {
		t.Errorf("Call to a closed server = %v, want it tried twice (a connection error is retryable)", err)
	}
}

func TestEndpointRegion(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"eu-west-1", "eu-west-1", false},
		{"fips-us-east-1", "us-east-1", false},
		{"us-east-1-fips", "us-east-1", false},
		{"us-fips-east-1", "us-east-1", false},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := EndpointRegion(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("EndpointRegion(%q) = %q, %v; want %q, error %t", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSetEndpoint(t *testing.T) {
	u, _ := url.Parse("https://email.eu-west-1.amazonaws.com/base")
	plain := smithyendpoints.Endpoint{URI: *u, Headers: http.Header{"X-A": {"1"}}}
	withAuth := plain
	var sp smithy.Properties
	smithyhttp.SetSigV4SigningName(&sp, "other")
	smithyhttp.SetSigV4SigningRegion(&sp, "us-east-1")
	smithyauth.SetAuthOptions(&withAuth.Properties, []*smithyauth.Option{{SchemeID: smithyauth.SchemeIDSigV4, SignerProperties: sp}})
	tests := []struct {
		name                     string
		ep                       smithyendpoints.Endpoint
		disableHTTPS             bool
		wantURL, wantName, wantR string
	}{
		{"the client's name and region", plain, false, "https://email.eu-west-1.amazonaws.com/base", "ses", "eu-west-1"},
		{"the endpoint's auth options win", withAuth, false, "https://email.eu-west-1.amazonaws.com/base", "other", "us-east-1"},
		{"https disabled", plain, true, "http://email.eu-west-1.amazonaws.com/base", "ses", "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			c.SetEndpoint(tt.ep, "ses", "eu-west-1", tt.disableHTTPS)
			if c.URL.String() != tt.wantURL || c.SigningName != tt.wantName || c.SigningRegion != tt.wantR || c.Header.Get("X-A") != "1" {
				t.Errorf("SetEndpoint: URL %s, signing %s in %s, header %v; want %s, %s in %s, X-A", &c.URL, c.SigningName, c.SigningRegion, c.Header, tt.wantURL, tt.wantName, tt.wantR)
			}
		})
	}
}
