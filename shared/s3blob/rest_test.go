package s3blob

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"
)

// signedAt is the signing time of the presigning tests.
var signedAt = time.Date(2026, 3, 2, 10, 15, 30, 0, time.UTC)

// atSignedAt is the SDK's S3 presigner (a v4 signer that does not escape
// the path twice, as the S3 client makes it) with its clock fixed.
type atSignedAt struct{ signer *v4.Signer }

func (p atSignedAt) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.signer.PresignHTTP(ctx, creds, r, payloadHash, service, region, signedAt, optFns...)
}

// TestPresignMatchesSDK compares the presigned URLs with the ones the SDK's
// S3 client makes for the same bucket, key, endpoint, credentials and time,
// byte for byte: the same host or path style, query and signature.
func TestPresignMatchesSDK(t *testing.T) {
	tests := []struct {
		name, region, endpoint, bucket string
		pathStyle                      bool
		token                          string
	}{
		{name: "AWS, us-east-1", region: "us-east-1", bucket: "herald-uploads"},
		{name: "AWS, eu-west-1, session token", region: "eu-west-1", bucket: "herald-uploads", token: "IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJGMEQCIBZ+token/=="},
		{name: "AWS China", region: "cn-north-1", bucket: "herald-uploads", token: "TOKEN"},
		{name: "AWS, bucket with dots: path style", region: "eu-west-1", bucket: "herald.uploads.example"},
		{name: "AWS, path style asked for", region: "eu-west-1", bucket: "herald-uploads", pathStyle: true},
		{name: "emulator on an IP address", region: "us-east-1", endpoint: "http://127.0.0.1:5000", bucket: "herald-uploads"},
		{name: "emulator, path style, trailing slash", region: "us-east-1", endpoint: "http://localhost:4566/", bucket: "herald-uploads", pathStyle: true},
		{name: "endpoint by name: virtual-hosted", region: "eu-west-1", endpoint: "http://localhost:4566", bucket: "herald-uploads"},
		{name: "endpoint with a path", region: "eu-west-1", endpoint: "https://s3.example.com/base", bucket: "herald-uploads", token: "TOKEN"},
		{name: "endpoint with a path, path style", region: "eu-west-1", endpoint: "https://s3.example.com/base/", bucket: "herald-uploads", pathStyle: true},
		{name: "plain HTTP allows dots in the host", region: "eu-west-1", endpoint: "http://s3.example.com", bucket: "herald.uploads"},
		{name: "HTTPS endpoint, dots: path style", region: "eu-west-1", endpoint: "https://s3.example.com", bucket: "herald.uploads"},
	}
	keys := []string{"uploads/ws_1/01J5Z8X0000000000000000000/contacts.csv", "reports/A=b_c-d.e.xlsx"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := aws.Config{Region: tt.region, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", tt.token)}
			if tt.endpoint != "" {
				cfg.BaseEndpoint = aws.String(tt.endpoint)
			}
			sdk := s3.NewPresignClient(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = tt.pathStyle }),
				func(o *s3.PresignOptions) {
					o.Presigner = atSignedAt{v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })}
				})
			s, err := New(cfg, tt.bucket, Options{PathStyle: tt.pathStyle, Now: func() time.Time { return signedAt }})
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range keys {
				for _, ct := range []string{"", "text/csv"} {
					want, err := sdk.PresignPutObject(t.Context(), &s3.PutObjectInput{Bucket: &tt.bucket, Key: &key, ContentType: nonEmpty(ct)},
						s3.WithPresignExpires(15*time.Minute))
					if err != nil {
						t.Fatalf("SDK PresignPutObject: %v", err)
					}
					got, err := s.PresignPut(t.Context(), key, 15*time.Minute, ct)
					if err != nil {
						t.Fatalf("PresignPut: %v", err)
					}
					if got != want.URL {
						t.Errorf("PresignPut(%q, content type %q) =\n%s\nthe SDK's:\n%s", key, ct, got, want.URL)
					}
				}
				want, err := sdk.PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: &tt.bucket, Key: &key}, s3.WithPresignExpires(time.Hour))
				if err != nil {
					t.Fatalf("SDK PresignGetObject: %v", err)
				}
				got, err := s.PresignGet(t.Context(), key, time.Hour)
				if err != nil {
					t.Fatalf("PresignGet: %v", err)
				}
				if got != want.URL {
					t.Errorf("PresignGet(%q) =\n%s\nthe SDK's:\n%s", key, got, want.URL)
				}
			}
		})
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// TestPresignKnownVector signs the example of a presigned GET in S3's
// documentation ("Authenticating Requests: Using Query Parameters"), whose
// signature is published, without the x-id parameter the SDK adds.
func TestPresignKnownVector(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "")}
	s, err := New(cfg, "examplebucket", Options{Endpoint: "https://s3.amazonaws.com",
		Now: func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.rest.presign(t.Context(), http.MethodGet, "test.txt", nil, http.Header{}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const want = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z" +
		"&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	if got != want {
		t.Errorf("presigned GET =\n%s\nwant the documentation's\n%s", got, want)
	}
}

func TestBucketURL(t *testing.T) {
	tests := []struct {
		bucket, region, endpoint string
		pathStyle                bool
		want                     string // the URL of key "a=b/c"
	}{
		{"herald-uploads", "eu-west-1", "", false, "https://herald-uploads.s3.eu-west-1.amazonaws.com/a%3Db/c"},
		{"herald-uploads", "cn-northwest-1", "", false, "https://herald-uploads.s3.cn-northwest-1.amazonaws.com.cn/a%3Db/c"},
		{"herald.uploads", "eu-west-1", "", false, "https://s3.eu-west-1.amazonaws.com/herald.uploads/a%3Db/c"},
		{"Herald-Uploads", "eu-west-1", "", false, "https://s3.eu-west-1.amazonaws.com/Herald-Uploads/a%3Db/c"},
		{"herald-uploads", "eu-west-1", "", true, "https://s3.eu-west-1.amazonaws.com/herald-uploads/a%3Db/c"},
		{"herald-uploads", "us-east-1", "http://127.0.0.1:5000", false, "http://127.0.0.1:5000/herald-uploads/a%3Db/c"},
		{"herald-uploads", "us-east-1", "http://[::1]:5000/", false, "http://[::1]:5000/herald-uploads/a%3Db/c"},
		{"herald-uploads", "us-east-1", "http://localhost:5000", false, "http://herald-uploads.localhost:5000/a%3Db/c"},
		{"herald-uploads", "us-east-1", "http://localhost:5000/", true, "http://localhost:5000/herald-uploads/a%3Db/c"},
		{"herald-uploads", "us-east-1", "https://s3.example.com/base/", false, "https://herald-uploads.s3.example.com/base/a%3Db/c"},
	}
	for _, tt := range tests {
		u, err := bucketURL(tt.bucket, tt.region, tt.endpoint, tt.pathStyle)
		if err != nil {
			t.Errorf("bucketURL(%q, %q, %q, %v): %v", tt.bucket, tt.region, tt.endpoint, tt.pathStyle, err)
			continue
		}
		r := rest{base: u}
		if got := r.objectURL("a=b/c").String(); got != tt.want {
			t.Errorf("bucketURL(%q, %q, %q, %v): object at %s, want %s", tt.bucket, tt.region, tt.endpoint, tt.pathStyle, got, tt.want)
		}
	}
	for _, bad := range []struct{ region, endpoint string }{
		{"", ""}, {"eu west 1", ""}, {"eu-west-1", "127.0.0.1:5000"}, {"eu-west-1", "ftp://example.com"}, {"eu-west-1", "http://example.com/?x=1"},
	} {
		if _, err := New(aws.Config{Region: bad.region}, "b", Options{Endpoint: bad.endpoint}); err == nil {
			t.Errorf("New(region %q, endpoint %q) = nil error, want one", bad.region, bad.endpoint)
		}
	}
}

func TestEndpointFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ""},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all:1"}, "http://all:1"},
		{map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_S3": "http://s3:2"}, "http://s3:2"},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://s3:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, ""},
		{map[string]string{"AWS_ENDPOINT_URL_S3": "http://s3:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}, "http://s3:2"},
	}
	for _, tt := range tests {
		if got := EndpointFromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("EndpointFromEnv(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// TestRequestsAreSigned checks what the store sends to S3: a SigV4
// Authorization for s3 in the region, the session token, and the payload
// hash header S3 requires.
func TestRequestsAreSigned(t *testing.T) {
	f, _ := newFake(t)
	s, err := New(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "TOKEN")},
		f.bucket, Options{Endpoint: f.url, Now: func() time.Time { return signedAt }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(t.Context(), "a/b", strings.NewReader("hello"), 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), "a/b"); err != nil {
		t.Fatal(err)
	}
	want := []signedRequest{
		{"PUT /herald-fake/a/b", "AWS4-HMAC-SHA256 Credential=AKID/20260302/eu-west-1/s3/aws4_request", "TOKEN", "UNSIGNED-PAYLOAD", "20260302T101530Z"},
		{"HEAD /herald-fake/a/b", "AWS4-HMAC-SHA256 Credential=AKID/20260302/eu-west-1/s3/aws4_request", "TOKEN", emptyPayload, "20260302T101530Z"},
		{"HEAD /herald-fake/a/b", "AWS4-HMAC-SHA256 Credential=AKID/20260302/eu-west-1/s3/aws4_request", "TOKEN", emptyPayload, "20260302T101530Z"},
	}
	if diff := cmp.Diff(want, f.signed()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestRetries sends again what S3 answered with a 5xx when the body can be
// sent again, as the SDK's retryer did, and gives up after three tries.
func TestRetries(t *testing.T) {
	stat := func(s *Store) error { _, err := s.Stat(t.Context(), "k"); return err }
	tests := []struct {
		name      string
		method    string
		failures  int
		op        func(s *Store) error
		wantErr   bool
		wantTries int
	}{
		{"HEAD answered 503 once", http.MethodHead, 1, stat, false, 2},
		{"HEAD answered 503 three times", http.MethodHead, 3, stat, true, 3},
		{"DELETE answered 503 twice", http.MethodDelete, 2, func(s *Store) error { return s.Delete(t.Context(), "k") }, false, 3},
		{"seekable PUT answered 503 once", http.MethodPut, 1, func(s *Store) error {
			_, err := s.Put(t.Context(), "k", strings.NewReader("hello"), 5)
			return err
		}, false, 2},
		{"stream PUT answered 503 once: not sent again", http.MethodPut, 1, func(s *Store) error {
			_, err := s.Put(t.Context(), "k", streamOnly{strings.NewReader("hello")}, 5)
			return err
		}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newFake(t)
			s.rest.sleep = func(context.Context, time.Duration) error { return nil }
			f.objects["k"] = []byte("hello")
			f.transient = map[string]int{tt.method: tt.failures}
			err := tt.op(s)
			if (err != nil) != tt.wantErr {
				t.Errorf("error %v, want one: %v", err, tt.wantErr)
			}
			if got := f.triesOf(tt.method); got != tt.wantTries {
				t.Errorf("%d %s requests, want %d", got, tt.method, tt.wantTries)
			}
			if tt.method == http.MethodPut && !tt.wantErr {
				if diff := cmp.Diff([]putRequest{{Key: "k", ContentLength: 5, Body: []byte("hello")}}, f.sentPuts()); diff != "" {
					t.Errorf("stored PUTs after the retry (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestAPIErrorNamesTheCode(t *testing.T) {
	f, s := newFake(t)
	f.status[http.MethodPut] = fakeError{http.StatusForbidden, "AccessDenied"}
	_, err := s.Put(t.Context(), "k", strings.NewReader("x"), 1)
	want := "put blob k: s3 PUT: 403 AccessDenied: fake AccessDenied"
	if err == nil || err.Error() != want {
		t.Errorf("Put answered 403 AccessDenied = %v, want %q", err, want)
	}
}
