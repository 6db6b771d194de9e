package awscall

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// capture is an HTTP client that keeps the request and answers 200.
type capture struct{ req *http.Request }

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	c.req = r
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(nil))}, nil
}

// TestSignMatchesTheSDK: the hand-made signature is the SDK signer's for
// the same request, time and credentials.
func TestSignMatchesTheSDK(t *testing.T) {
	at := time.Date(2026, 3, 1, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name, endpoint, path string
		header               http.Header
		token                string
		body                 string
	}{
		{name: "ses", endpoint: "https://email.eu-west-1.amazonaws.com", path: "/v2/email/outbound-emails", body: `{"a":"b"}`},
		{name: "session token", endpoint: "https://sns.eu-west-1.amazonaws.com", path: "/", token: "FwoGZXIvYXdzEJr//////////wEaDH", body: "Action=Publish"},
		{name: "default port and base path", endpoint: "https://email.eu-west-1.amazonaws.com:443/base", path: "/v2/a b/ü", body: "x"},
		{name: "local endpoint with a port", endpoint: "http://127.0.0.1:4566", path: "/", body: "Action=Publish&Version=2010-03-31"},
		{name: "endpoint headers", endpoint: "http://localhost:80", path: "/op",
			header: http.Header{"X-Amz-Extra": {"  a   b ", "c"}, "X-Other": {"1"}, "User-Agent": {"ignored"}}, body: "{}"},
		{name: "empty body", endpoint: "https://sns.us-east-1.amazonaws.com", path: "/", body: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.endpoint)
			if err != nil {
				t.Fatal(err)
			}
			hc := &capture{}
			creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "secret/key+1", tt.token)
			c := New(Config{ServiceID: "T", URL: *u, Header: tt.header, SigningName: "ses", SigningRegion: "eu-west-1", Credentials: creds, HTTPClient: hc})
			c.now = func() time.Time { return at }
			if err := c.Call(context.Background(), "Op", tt.path, "application/x-www-form-urlencoded; charset=utf-8", []byte(tt.body), func([]byte) error { return nil }); err != nil {
				t.Fatalf("Call: %v", err)
			}
			got := hc.req.Header.Get("Authorization")

			want := hc.req.Clone(context.Background())
			want.Header.Del("Authorization")
			want.Header.Del("X-Amz-Date")
			want.Header.Del("X-Amz-Security-Token")
			want.Header.Set("User-Agent", "ignored")
			want.ContentLength = int64(len(tt.body))
			sum := sha256.Sum256([]byte(tt.body))
			cr, _ := creds.Retrieve(context.Background())
			if err := v4.NewSigner().SignHTTP(context.Background(), cr, want, hex.EncodeToString(sum[:]), "ses", "eu-west-1", at); err != nil {
				t.Fatal(err)
			}
			if w := want.Header.Get("Authorization"); got != w {
				t.Errorf("Authorization\n got %s\nwant %s (the SDK's)", got, w)
			}
			if want.Host != "" && want.Host != hc.req.Host {
				t.Errorf("Host %q, the SDK's %q", hc.req.Host, want.Host)
			}
			if hc.req.Header.Get("X-Amz-Date") != want.Header.Get("X-Amz-Date") || hc.req.Header.Get("X-Amz-Security-Token") != want.Header.Get("X-Amz-Security-Token") {
				t.Errorf("X-Amz-Date %q token %q, the SDK's %q %q", hc.req.Header.Get("X-Amz-Date"), hc.req.Header.Get("X-Amz-Security-Token"),
					want.Header.Get("X-Amz-Date"), want.Header.Get("X-Amz-Security-Token"))
			}
		})
	}
}

// TestSigningKeyFollowsTheDayAndCredentials: a new day or new credentials
// derive a new key.
func TestSigningKeyFollowsTheDayAndCredentials(t *testing.T) {
	s := newSigner("ses", "eu-west-1", nil)
	a := aws.Credentials{AccessKeyID: "A", SecretAccessKey: "s1"}
	k1 := s.keyFor("20260301", a)
	if s.keyFor("20260301", a) != k1 {
		t.Error("the same day and credentials derived a new key")
	}
	if s.keyFor("20260302", a) == k1 {
		t.Error("a new day kept the old key")
	}
	if s.keyFor("20260302", aws.Credentials{AccessKeyID: "A", SecretAccessKey: "s2"}).secret != "s2" {
		t.Error("new credentials kept the old key")
	}
}
