package s3blob

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	// unsignedPayload is the payload hash of a request whose body is not
	// hashed: presigned URLs, whose body the signer never sees, and PUTs,
	// whose body may be read only once.
	unsignedPayload = "UNSIGNED-PAYLOAD"
	// emptyPayload is the SHA-256 of no bytes, the payload hash of GET,
	// HEAD and DELETE.
	emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// attempts is how many times a request is sent when S3 answers a 5xx
	// (SlowDown, InternalError) or, for one without a body, when the
	// connection fails: the SDK's standard retryer's three.
	attempts = 3
)

// rest sends S3 REST requests for one bucket, signed with SigV4.
type rest struct {
	bucket string
	region string
	creds  aws.CredentialsProvider
	signer *v4.Signer
	client aws.HTTPClient
	now    func() time.Time
	// base is the bucket's URL with no trailing slash: the scheme, the
	// host (with the bucket in it when virtual-hosted) and the path (with
	// the bucket at its end when path-style), path in Path and, escaped,
	// in RawPath. An object's path is base's path, "/" and the key.
	base url.URL
	// sleep waits out a backoff; tests make it return at once.
	sleep func(context.Context, time.Duration) error
}

func newREST(cfg aws.Config, bucket, endpoint string, o Options) (*rest, error) {
	if cfg.Region == "" || !validHostLabels(cfg.Region) {
		return nil, fmt.Errorf("region %q: want one such as eu-west-1", cfg.Region)
	}
	base, err := bucketURL(bucket, cfg.Region, endpoint, o.PathStyle)
	if err != nil {
		return nil, err
	}
	r := &rest{
		bucket: bucket,
		region: cfg.Region,
		creds:  cfg.Credentials,
		// S3 signs the path as it is sent, escaped once (the SDK's S3
		// client signs the same way).
		signer: v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true }),
		client: cfg.HTTPClient,
		now:    o.Now,
		base:   base,
		sleep:  sleep,
	}
	if r.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Objects come back byte for byte, whatever their encoding.
		t.DisableCompression = true
		r.client = &http.Client{Transport: t}
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

// bucketURL resolves the bucket's URL as the SDK's S3 endpoint rules do for
// a bucket without an access point, FIPS, dual-stack or acceleration:
// virtual-hosted (https://bucket.s3.region.amazonaws.com) unless path style
// is asked for, the endpoint is an IP address, or the bucket cannot be a
// host name (over plain HTTP, dots are allowed in one).
func bucketURL(bucket, region, endpoint string, pathStyle bool) (url.URL, error) {
	if bucket == "" {
		return url.URL{}, errors.New("no bucket name")
	}
	var u url.URL
	if endpoint == "" {
		u = url.URL{Scheme: "https", Host: "s3." + region + "." + dnsSuffix(region)}
	} else {
		p, err := url.Parse(endpoint)
		if err != nil {
			return url.URL{}, fmt.Errorf("endpoint %q: %w", endpoint, err)
		}
		if p.Scheme != "http" && p.Scheme != "https" || p.Host == "" || p.RawQuery != "" || p.Fragment != "" {
			return url.URL{}, fmt.Errorf("endpoint %q: want http(s)://host[:port][/path]", endpoint)
		}
		u = url.URL{Scheme: p.Scheme, Host: p.Host, Path: strings.TrimSuffix(p.Path, "/")}
		u.RawPath = strings.TrimSuffix(p.EscapedPath(), "/")
	}
	isIP := net.ParseIP(strings.Trim(u.Hostname(), "[]")) != nil
	if !pathStyle && !isIP && (virtualHostable(bucket, false) || u.Scheme == "http" && virtualHostable(bucket, true)) {
		u.Host = bucket + "." + u.Host
		return u, nil
	}
	if u.RawPath == "" {
		u.RawPath = u.EscapedPath()
	}
	u.Path += "/" + bucket
	u.RawPath += "/" + escape(bucket, false)
	return u, nil
}

// dnsSuffix is the domain of the partition region is in.
func dnsSuffix(region string) string {
	for _, p := range []struct{ prefix, suffix string }{
		{"cn-", "amazonaws.com.cn"},
		{"eusc-", "amazonaws.eu"},
		{"us-isob-", "sc2s.sgov.gov"},
		{"us-isof-", "csp.hci.ic.gov"},
		{"us-iso-", "c2s.ic.gov"},
		{"eu-isoe-", "cloud.adc-e.uk"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.suffix
		}
	}
	return "amazonaws.com"
}

// virtualHostable reports whether bucket can be the first labels of a host
// name: 3 to 63 lower-case letters, digits and hyphens, not an IP address;
// with subDomains, several such labels between dots.
func virtualHostable(bucket string, subDomains bool) bool {
	if net.ParseIP(bucket) != nil {
		return false
	}
	labels := []string{bucket}
	if subDomains {
		labels = strings.Split(bucket, ".")
	}
	for _, l := range labels {
		if len(l) < 3 || len(l) > 63 || strings.ToLower(l) != l || !validHostLabels(l) || strings.Contains(l, ".") {
			return false
		}
	}
	return true
}

// validHostLabels reports whether s is one or more host-name labels between
// dots, each of letters, digits and hyphens, not starting or ending with a
// hyphen.
func validHostLabels(s string) bool {
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// escape is S3's URI encoding: every byte but the unreserved ones
// (A-Z a-z 0-9 - . _ ~) as %XX, and '/' too unless keepSlash.
func escape(s string, keepSlash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' && keepSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// objectURL is the URL of key in the bucket, or the bucket's own with no
// key.
func (r *rest) objectURL(key string) *url.URL {
	u := r.base
	if key != "" {
		u.Path += "/" + key
		u.RawPath += "/" + escape(key, true)
	} else if u.Path == "" {
		u.Path, u.RawPath = "/", "/"
	}
	return &u
}

// call is one request to S3: on an object, or on the bucket when key is
// empty (HeadBucket).
type call struct {
	method string
	key    string
	header http.Header
	// body of size bytes, for a PUT.
	body io.Reader
	size int64
}

// do sends c, signed, and returns S3's 2xx answer, whose body the caller
// reads or drains and closes. Any other answer is an *APIError. A 5xx is
// sent again, after a backoff, when the body can be sent again (none, or a
// seekable one); so is a request without a body whose connection failed.
func (r *rest) do(ctx context.Context, c call) (*http.Response, error) {
	if r.creds == nil {
		return nil, errors.New("s3: no credentials")
	}
	payload, start := emptyPayload, int64(-1)
	if c.body != nil {
		payload = unsignedPayload
		if s, ok := c.body.(io.Seeker); ok {
			if at, err := s.Seek(0, io.SeekCurrent); err == nil {
				start = at
			}
		}
	}
	for attempt := 1; ; attempt++ {
		res, err := r.send(ctx, c, payload)
		again := attempt < attempts && ctx.Err() == nil
		switch {
		case err != nil:
			again = again && c.body == nil
		case res.StatusCode >= 500:
			again = again && (c.body == nil || start >= 0)
			if again {
				drain(res)
			}
		default:
			again = false
		}
		if !again {
			if err != nil {
				return nil, err
			}
			if res.StatusCode/100 != 2 {
				return nil, apiError(c.method, res)
			}
			return res, nil
		}
		if start >= 0 {
			if _, err := c.body.(io.Seeker).Seek(start, io.SeekStart); err != nil {
				return nil, fmt.Errorf("rewind the body to send it again: %w", err)
			}
		}
		if err := r.sleep(ctx, backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

// send makes, signs and sends one request of c.
func (r *rest) send(ctx context.Context, c call, payload string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, c.method, r.objectURL(c.key).String(), nil)
	if err != nil {
		return nil, err
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.body != nil {
		req.ContentLength = c.size
		req.Body = io.NopCloser(c.body)
		if c.size == 0 {
			// A zero ContentLength with a body would be sent chunked.
			req.Body = http.NoBody
		}
	}
	req.Header.Set("X-Amz-Content-Sha256", payload)
	creds, err := r.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("s3 credentials: %w", err)
	}
	if err := r.signer.SignHTTP(ctx, creds, req, payload, "s3", r.region, r.now().UTC()); err != nil {
		return nil, fmt.Errorf("sign s3 request: %w", err)
	}
	return r.client.Do(req)
}

// presign returns the URL of method on key with query, signed for expires
// with header (which whoever uses the URL must send as it is), as the SDK's
// S3 presigner makes it: the X-Amz-* parameters and query sorted by name,
// then X-Amz-Signature.
func (r *rest) presign(ctx context.Context, method, key string, query url.Values, header http.Header, expires time.Duration) (string, error) {
	if r.creds == nil {
		return "", errors.New("no credentials")
	}
	creds, err := r.creds.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("credentials: %w", err)
	}
	u := r.objectURL(key)
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expires/time.Second), 10))
	u.RawQuery = q.Encode()
	req := &http.Request{Method: method, URL: u, Host: u.Host, Header: header}
	signed, _, err := r.signer.PresignHTTP(ctx, creds, req, unsignedPayload, "s3", r.region, r.now().UTC())
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return signed, nil
}

// APIError is S3's answer to a request that failed: its status and, from
// the XML error body (a HEAD has none), its code and message. A bodiless
// answer's code is its status text without spaces ("NotFound",
// "Forbidden"), as the SDK names them.
type APIError struct {
	Method     string
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("s3 %s: %d %s", e.Method, e.StatusCode, e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// apiError reads S3's failed answer and closes its body.
func apiError(method string, res *http.Response) error {
	defer res.Body.Close()
	e := &APIError{Method: method, StatusCode: res.StatusCode, RequestID: res.Header.Get("X-Amz-Request-Id")}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	var body struct {
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
	}
	if xml.Unmarshal(raw, &body) == nil {
		e.Code, e.Message = body.Code, body.Message
		if e.RequestID == "" {
			e.RequestID = body.RequestID
		}
	}
	if e.Code == "" {
		e.Code = strings.ReplaceAll(http.StatusText(res.StatusCode), " ", "")
	}
	if e.Code == "" {
		e.Code = strconv.Itoa(res.StatusCode)
	}
	return e
}

// drain reads what is left of an answer's body and closes it, so that its
// connection is reused.
func drain(res *http.Response) {
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
}

// backoff is the wait before the next of attempts: up to 50 ms, then up to
// 100 ms, at random (full jitter), as the SDK's retryer waits.
func backoff(attempt int) time.Duration {
	return time.Duration(rand.Int64N(int64(50*time.Millisecond) << (attempt - 1)))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
