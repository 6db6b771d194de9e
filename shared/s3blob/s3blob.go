// Package s3blob is the notify.Blobs on Amazon S3, for the serverless
// deployment: one bucket, objects by key. Browsers and backends upload
// spreadsheets straight to the bucket with a presigned PUT URL (PresignPut),
// and the function that reads an upload learns its key from an S3 event
// (ParseEventKey).
//
// It speaks S3's REST API itself, each request signed with the SDK's SigV4
// signer (in the SDK's core module, which every function links already),
// rather than through the SDK's S3 client: the five object calls and the
// presigned URLs are all it needs, and the client with its serializers,
// endpoint rules and checksum and event-stream packages added about 4.6 MiB
// to each function that uploads (api, ingest). The URLs and requests are the
// ones that client made: the same host or path style, the same query, the
// same signatures (TestPresignMatchesSDK checks them against it).
//
// Encryption at rest is the bucket's default encryption; the adapter sets no
// per-object SSE. The IAM actions each method needs of its caller's role:
//
//	Put          s3:PutObject, s3:GetObject (the HeadObject that reads LastModified back)
//	Open         s3:GetObject and s3:ListBucket on the bucket
//	Stat         s3:GetObject and s3:ListBucket on the bucket
//	Delete       s3:DeleteObject
//	PresignPut   s3:PutObject (the URL acts with the signer's rights)
//	PresignGet   s3:GetObject
//
// Without s3:ListBucket S3 answers a missing key 403 instead of 404, so
// Stat and Open could not tell not_found from a denied request: they say
// so in the error. ListBucket also lets Stat ask whether a 404 is the
// object's or the bucket's (HeadObject answers both with the same
// bodiless 404).
package s3blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/heraldhq/herald/shared/notify"
)

// MaxUnsizedPut is the most bytes Put takes from a body of unknown size
// (-1) that cannot seek: S3 needs an object's length before its first byte,
// so such a body is read into memory first. A larger one fails with
// payload_too_large; give its size, or pass an io.ReadSeeker such as an
// *os.File, and Put streams it whatever its size (up to S3's 5 GiB for one
// PUT).
const MaxUnsizedPut = 64 << 20

// MaxPresignExpiry is the longest a presigned URL can live: SigV4 allows
// seven days.
const MaxPresignExpiry = 7 * 24 * time.Hour

// Options says where the bucket answers. The zero value is AWS's regional
// endpoint with the bucket in the host name, as on AWS.
type Options struct {
	// Endpoint replaces https://s3.<region>.amazonaws.com: an emulator's
	// (http://127.0.0.1:5000), or the AWS_ENDPOINT_URL_S3 that
	// EndpointFromEnv reads. Empty is the aws.Config's BaseEndpoint when
	// that is set, else AWS's.
	Endpoint string
	// PathStyle puts the bucket in the path (endpoint/bucket/key) instead
	// of the host name (bucket.endpoint/key), which emulators need. As with
	// the SDK, an endpoint that is an IP address and a bucket name that
	// cannot be a host name (dots over HTTPS, capitals) get it anyway.
	PathStyle bool
	// Now is the signing clock; nil is time.Now. Tests fix it.
	Now func() time.Time
}

// EndpointFromEnv returns the S3 endpoint that the environment configures
// the way the AWS SDKs read it: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL,
// neither when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true. Empty means
// AWS's own. The Lambda functions build their AWS configuration without the
// SDK's config loader (package config), so nothing else reads these for S3.
func EndpointFromEnv(getenv func(string) string) string {
	if strings.EqualFold(strings.TrimSpace(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")), "true") {
		return ""
	}
	if e := getenv("AWS_ENDPOINT_URL_S3"); e != "" {
		return e
	}
	return getenv("AWS_ENDPOINT_URL")
}

// Store is a notify.Blobs on one S3 bucket. It is safe for concurrent use.
type Store struct {
	bucket string
	rest   *rest
	// maxBuffered is MaxUnsizedPut; tests shrink it.
	maxBuffered int64
}

// New returns the store on bucket, signing with cfg's credentials (the
// function's role, session token included) in cfg's region, and sending
// through cfg.HTTPClient when it is set. Make it once per execution
// environment. An endpoint that does not parse is an error.
func New(cfg aws.Config, bucket string, o Options) (*Store, error) {
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = aws.ToString(cfg.BaseEndpoint)
	}
	r, err := newREST(cfg, bucket, endpoint, o)
	if err != nil {
		return nil, fmt.Errorf("s3 bucket %s: %w", bucket, err)
	}
	return &Store{bucket: bucket, rest: r, maxBuffered: MaxUnsizedPut}, nil
}

// Put implements notify.Blobs with one PutObject, then a HeadObject for the
// new object's LastModified, which PutObject does not return. If that read
// fails (or another Put replaced the object meanwhile) the object is stored
// all the same, and ModTime is the local clock's time instead.
//
// A body of known size streams; one of unknown size streams when it is an
// io.ReadSeeker and is buffered up to MaxUnsizedPut otherwise. A body must
// hold exactly size bytes; a shorter one fails and stores nothing. The
// payload is sent UNSIGNED-PAYLOAD, as the SDK sends it over TLS, which
// protects it on the way; a body that can seek is sent again if S3 answers
// a 5xx.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64) (notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return notify.BlobInfo{}, err
	}
	body, size, err := s.sized(body, size)
	if err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	res, err := s.rest.do(ctx, call{method: http.MethodPut, key: key, body: body, size: size})
	if err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	drain(res)
	etag := res.Header.Get("ETag")
	info := notify.BlobInfo{Size: size, ETag: unquote(etag), ModTime: time.Now().UTC().Truncate(time.Second)}
	head, err := s.rest.do(ctx, call{method: http.MethodHead, key: key, header: http.Header{"If-Match": {etag}}})
	if err == nil {
		drain(head)
		if t, err := http.ParseTime(head.Header.Get("Last-Modified")); err == nil {
			info.ModTime = t
		}
	}
	return info, nil
}

// sized returns body and its length in bytes: size when known, otherwise
// what is left of a body that seeks, otherwise the body read into memory.
func (s *Store) sized(body io.Reader, size int64) (io.Reader, int64, error) {
	if size >= 0 {
		return body, size, nil
	}
	if size != -1 {
		return nil, 0, fmt.Errorf("size %d: want -1 (unknown) or more", size)
	}
	if rs, ok := body.(io.ReadSeeker); ok {
		if n, err := remaining(rs); err == nil {
			return body, n, nil
		}
		// Such as an *os.File on a pipe: it has Seek, but Seek fails.
		body = struct{ io.Reader }{body}
	}
	b, err := io.ReadAll(io.LimitReader(body, s.maxBuffered+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > s.maxBuffered {
		return nil, 0, notify.Errorf(notify.CodePayloadTooLarge,
			"an object of unknown size may be at most %d bytes; give its size", s.maxBuffered)
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// remaining returns the bytes from rs's offset to its end, leaving the
// offset where it was.
func remaining(rs io.Seeker) (int64, error) {
	at, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := rs.Seek(at, io.SeekStart); err != nil {
		return 0, err
	}
	return end - at, nil
}

// Open implements notify.Blobs with GetObject. The body streams from S3;
// close it, or the connection is not reused.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return nil, notify.BlobInfo{}, err
	}
	res, err := s.rest.do(ctx, call{method: http.MethodGet, key: key})
	if err != nil {
		return nil, notify.BlobInfo{}, s.objectError(ctx, "open", key, err)
	}
	return res.Body, infoOf(res), nil
}

// Stat implements notify.Blobs with HeadObject.
func (s *Store) Stat(ctx context.Context, key string) (notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return notify.BlobInfo{}, err
	}
	res, err := s.rest.do(ctx, call{method: http.MethodHead, key: key})
	if err != nil {
		return notify.BlobInfo{}, s.objectError(ctx, "stat", key, err)
	}
	drain(res)
	return infoOf(res), nil
}

// infoOf reads an object's size, ETag and LastModified from the headers of
// S3's answer to a GetObject or HeadObject.
func infoOf(res *http.Response) notify.BlobInfo {
	info := notify.BlobInfo{Size: res.ContentLength, ETag: unquote(res.Header.Get("ETag"))}
	if info.Size < 0 {
		info.Size = 0
	}
	if t, err := http.ParseTime(res.Header.Get("Last-Modified")); err == nil {
		info.ModTime = t
	}
	return info
}

// Delete implements notify.Blobs with DeleteObject, which S3 answers the
// same whether the object existed or not.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := notify.ValidBlobKey(key); err != nil {
		return err
	}
	res, err := s.rest.do(ctx, call{method: http.MethodDelete, key: key})
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	drain(res)
	return nil
}

// PresignPut returns a URL that lets whoever holds it PUT one object at key
// for expires (1 s to MaxPresignExpiry), with no AWS credentials of their
// own. When contentType is not empty it is signed, and the upload must send
// the same Content-Type header. The URL cannot cap the body's size: check
// the object's Stat before trusting it. A URL signed with temporary
// credentials (a Lambda role's) stops working when they expire, if that is
// sooner; their session token is in the URL (X-Amz-Security-Token).
func (s *Store) PresignPut(ctx context.Context, key string, expires time.Duration, contentType string) (string, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return "", err
	}
	if expires < time.Second || expires > MaxPresignExpiry {
		return "", fmt.Errorf("presign put %s: expiry %v: want 1s to %v", key, expires, MaxPresignExpiry)
	}
	header := http.Header{}
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	u, err := s.rest.presign(ctx, http.MethodPut, key, url.Values{"x-id": {"PutObject"}}, header, expires)
	if err != nil {
		return "", fmt.Errorf("presign put %s: %w", key, err)
	}
	return u, nil
}

// PresignGet returns a URL that lets whoever holds it download the object
// at key for expires (1 s to MaxPresignExpiry), such as a report a browser
// fetches; the same limits as PresignPut's apply.
func (s *Store) PresignGet(ctx context.Context, key string, expires time.Duration) (string, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return "", err
	}
	if expires < time.Second || expires > MaxPresignExpiry {
		return "", fmt.Errorf("presign get %s: expiry %v: want 1s to %v", key, expires, MaxPresignExpiry)
	}
	u, err := s.rest.presign(ctx, http.MethodGet, key, url.Values{"x-id": {"GetObject"}}, http.Header{}, expires)
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return u, nil
}

// ParseEventKey decodes the object key of an S3 event notification
// (Records[].s3.object.key), which S3 sends URL-encoded as in an HTML form
// (application/x-www-form-urlencoded): a space as '+', other bytes as %XX,
// so "red flower+1.jpg" arrives as "red+flower%2B1.jpg". The result is the
// key as stored; it may still be one that notify.ValidBlobKey refuses, if
// something other than Herald wrote it.
func ParseEventKey(key string) (string, error) {
	decoded, err := url.QueryUnescape(key)
	if err != nil {
		return "", fmt.Errorf("s3 event key %q: %w", key, err)
	}
	if !utf8.ValidString(decoded) {
		return "", fmt.Errorf("s3 event key %q: decodes to invalid UTF-8", key)
	}
	return decoded, nil
}

// objectError maps S3's answer for a missing object to not_found: NoSuchKey
// from GetObject, or a bodiless 404 (NotFound) from HeadObject once
// HeadBucket says the bucket is there (a missing bucket answers HeadObject
// the same way, and is no object's absence: the caller must not let that
// be). A denied request says what may be missing from the role.
func (s *Store) objectError(ctx context.Context, op, key string, err error) error {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case "NoSuchKey":
			return notify.NotFound("blob", key)
		case "NotFound":
			res, berr := s.rest.do(ctx, call{method: http.MethodHead})
			if berr != nil {
				return fmt.Errorf("%s blob %s: not found, and bucket %s cannot be read: %w", op, key, s.bucket, berr)
			}
			drain(res)
			return notify.NotFound("blob", key)
		case "AccessDenied", "Forbidden":
			return fmt.Errorf("%s blob %s (a missing object is denied too when the role lacks s3:ListBucket on %s): %w", op, key, s.bucket, err)
		}
	}
	return fmt.Errorf("%s blob %s: %w", op, key, err)
}

// unquote strips the quotes S3 puts around an ETag.
func unquote(etag string) string {
	return strings.Trim(etag, `"`)
}
