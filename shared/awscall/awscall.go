// Package awscall makes one signed call to an AWS API over HTTP, without
// the SDK's per-call machinery, for the calls Herald makes once per
// recipient (SES SendEmail, SNS Publish). Through an SDK client such a call
// runs some forty middleware steps (each wrapping the context and the
// request), serialises through the generic encoders and costs about
// 110 µs of CPU and 330 allocations: more than everything else Herald does
// for a recipient. Here the caller builds the body itself and parses the
// answer itself; what the SDK client was configured with — its endpoint
// (resolved once, as the client would), credentials, HTTP client and
// retryer — is kept, the request is signed with SigV4 exactly as the
// SDK's signer signs it (sigv4.go), and errors have the SDK's shapes (smithy.APIError, *awshttp.ResponseError,
// *smithyhttp.RequestSendError), so the retryer, and callers that classify
// SDK errors, read them as they read the SDK's.
package awscall

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	"github.com/aws/smithy-go/encoding/httpbinding"
	smithyendpoints "github.com/aws/smithy-go/endpoints"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// HTTPClient sends a request; *http.Client and the SDK's clients are.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Config is what a Client calls with: an SDK client's options, resolved.
type Config struct {
	// ServiceID names the service in errors ("SESv2", "SNS"), as the SDK's
	// smithy.OperationError does.
	ServiceID string
	// URL is the service endpoint, as the client's endpoint resolver gave
	// it; operations' paths are joined to it.
	URL url.URL
	// Header holds headers the endpoint asks every request to carry.
	Header http.Header
	// SigningName and SigningRegion sign the requests (SigV4).
	SigningName, SigningRegion string
	Credentials                aws.CredentialsProvider
	HTTPClient                 HTTPClient
	// Retryer decides, as in the SDK, which failures are tried again, how
	// often and after how long; nil tries once.
	Retryer aws.Retryer
	// APIError reads the service's error (code and message) from a
	// non-2xx answer; status and header are the answer's.
	APIError func(status int, header http.Header, body []byte) smithy.APIError
}

// SetEndpoint fills c's URL, Header and signing name and region from ep,
// an endpoint an SDK client's resolver gave for region: the signing name
// and region are the endpoint's own SigV4 auth options when it has them,
// name and region otherwise. disableHTTPS is the client's
// EndpointOptions.DisableHTTPS.
func (c *Config) SetEndpoint(ep smithyendpoints.Endpoint, name, region string, disableHTTPS bool) {
	if disableHTTPS {
		ep.URI.Scheme = "http"
	}
	c.URL, c.Header, c.SigningName, c.SigningRegion = ep.URI, ep.Headers, name, region
	opts, _ := smithyauth.GetAuthOptions(&ep.Properties)
	for _, a := range opts {
		if a.SchemeID != smithyauth.SchemeIDSigV4 {
			continue
		}
		if v, ok := smithyhttp.GetSigV4SigningName(&a.SignerProperties); ok && v != "" {
			c.SigningName = v
		}
		if v, ok := smithyhttp.GetSigV4SigningRegion(&a.SignerProperties); ok && v != "" {
			c.SigningRegion = v
		}
	}
}

// EndpointRegion is the region an SDK client hands its endpoint resolver
// for region: without the "fips" of a pseudo-region such as
// fips-us-east-1. An empty region is an error, as the client's calls fail
// without one.
func EndpointRegion(region string) (string, error) {
	if region == "" {
		return "", errors.New("no region")
	}
	region = strings.ReplaceAll(region, "-fips-", "-")
	region = strings.ReplaceAll(region, "fips-", "")
	return strings.ReplaceAll(region, "-fips", ""), nil
}

// Client calls one service.
type Client struct {
	cfg    Config
	signer *signer
	host   string   // the Host header, without a default port
	paths  sync.Map // operation path → *target
	now    func() time.Time
}

// target is where one operation's requests go.
type target struct {
	url          string
	canonicalURI string // its path as SigV4 signs it
}

// New returns a Client calling with cfg.
func New(cfg Config) *Client {
	if cfg.Retryer == nil {
		cfg.Retryer = aws.NopRetryer{}
	}
	if cfg.APIError == nil {
		cfg.APIError = func(status int, _ http.Header, _ []byte) smithy.APIError {
			return &smithy.GenericAPIError{Code: "UnknownError", Message: http.StatusText(status)}
		}
	}
	return &Client{cfg: cfg, signer: newSigner(cfg.SigningName, cfg.SigningRegion, cfg.Header), host: hostForHeader(cfg.URL.Scheme, cfg.URL.Host), now: time.Now}
}

// targetOf is the target of path, built once.
func (c *Client) targetOf(path string) *target {
	if t, ok := c.paths.Load(path); ok {
		return t.(*target)
	}
	u := c.cfg.URL
	u.Path = smithyhttp.JoinPath(u.Path, path)
	if u.RawPath != "" {
		u.RawPath = smithyhttp.JoinPath(u.RawPath, path)
	}
	uri := u.EscapedPath()
	if uri == "" {
		uri = "/"
	}
	t := &target{url: u.String(), canonicalURI: httpbinding.EscapePath(uri, false)}
	c.paths.Store(path, t)
	return t
}

// buffers hold answers while they are read; answers are small (a message
// id), and a buffer is kept only up to maxKept.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxKept = 64 << 10

// Call posts body, of contentType, to path under the endpoint, signed,
// trying again as the retryer says, and hands the body of the 2xx answer
// to read, which must not keep it. op names the operation in errors. The
// error of an answer that is not 2xx wraps an *awshttp.ResponseError around
// the service's smithy.APIError; that of a request that got no answer
// wraps a *smithyhttp.RequestSendError.
func (c *Client) Call(ctx context.Context, op, path, contentType string, body []byte, read func(answer []byte) error) error {
	sum := sha256.Sum256(body)
	var hash [2 * sha256.Size]byte
	hex.Encode(hash[:], sum[:])
	t := c.targetOf(path)
	err := c.retry(ctx, func() error {
		return c.attempt(ctx, t, contentType, body, string(hash[:]), read)
	})
	if err != nil {
		return &smithy.OperationError{ServiceID: c.cfg.ServiceID, OperationName: op, Err: err}
	}
	return nil
}

// retry runs attempt until it succeeds, the error is not retryable or the
// attempts are used up, taking and releasing the retryer's tokens and
// waiting its delays, as the SDK's retry middleware does.
func (c *Client) retry(ctx context.Context, attempt func() error) error {
	r := c.cfg.Retryer
	maxAttempts := r.MaxAttempts()
	releaseRetry := func(error) error { return nil }
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		releaseAttempt, err := attemptToken(ctx, r)
		if err != nil {
			return fmt.Errorf("get retry send token: %w", err)
		}
		err = attempt()
		_ = releaseRetry(err)
		_ = releaseAttempt(err)
		if err == nil || !r.IsErrorRetryable(err) {
			return err
		}
		if maxAttempts > 0 && n >= maxAttempts {
			return &retry.MaxAttemptsError{Attempt: n, Err: err}
		}
		release, terr := r.GetRetryToken(ctx, err)
		if terr != nil {
			return errors.Join(err, terr)
		}
		releaseRetry = release
		delay, derr := r.RetryDelay(n, err)
		if derr != nil {
			return derr
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return &aws.RequestCanceledError{Err: ctx.Err()}
		case <-t.C:
		}
	}
}

// attemptToken takes the retryer's token for an attempt: RetryerV2's
// GetAttemptToken, or the older GetInitialToken.
func attemptToken(ctx context.Context, r aws.Retryer) (func(error) error, error) {
	if v2, ok := r.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.GetInitialToken(), nil
}

func (c *Client) attempt(ctx context.Context, t *target, contentType string, body []byte, payloadHash string, read func([]byte) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Host = c.host
	for k, vs := range c.cfg.Header {
		req.Header[k] = vs
	}
	req.Header["Content-Type"] = []string{contentType}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieve credentials: %w", err)
	}
	c.signer.sign(req, creds, t.canonicalURI, payloadHash, len(body), c.now())
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return &smithyhttp.RequestSendError{Err: err}
	}
	defer res.Body.Close()
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxKept {
			buffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(res.Body); err != nil {
		// The answer was cut: whether the call took effect is unknown,
		// as after a lost connection.
		return &smithyhttp.RequestSendError{Err: fmt.Errorf("read answer: %w", err)}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: res},
				Err: c.cfg.APIError(res.StatusCode, res.Header, buf.Bytes())},
			RequestID: requestID(res.Header),
		}
	}
	return read(buf.Bytes())
}

// requestID is the AWS request id of an answer, from the header the
// JSON and query protocols put it in.
func requestID(h http.Header) string {
	if id := h.Get("X-Amzn-Requestid"); id != "" {
		return id
	}
	return h.Get("X-Amz-Request-Id")
}
