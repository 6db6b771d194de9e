// Package s3blob is the notify.Blobs on Amazon S3, for the serverless
// deployment: one bucket, objects by key. Browsers and backends upload
// spreadsheets straight to the bucket with a presigned PUT URL (PresignPut),
// and the function that reads an upload learns its key from an S3 event
// (ParseEventKey).
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
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

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

// Store is a notify.Blobs on one S3 bucket. It is safe for concurrent use.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
	// maxBuffered is MaxUnsizedPut; tests shrink it.
	maxBuffered int64
}

// New returns the store on bucket. The caller makes the client once per
// execution environment; tests and local emulators need its UsePathStyle.
func New(client *s3.Client, bucket string) *Store {
	return &Store{
		client:      client,
		presign:     s3.NewPresignClient(client),
		bucket:      bucket,
		maxBuffered: MaxUnsizedPut,
	}
}

// Put implements notify.Blobs with one PutObject, then a HeadObject for the
// new object's LastModified, which PutObject does not return. If that read
// fails (or another Put replaced the object meanwhile) the object is stored
// all the same, and ModTime is the local clock's time instead.
//
// A body of known size streams; one of unknown size streams when it is an
// io.ReadSeeker and is buffered up to MaxUnsizedPut otherwise. A body must
// hold exactly size bytes; a shorter one fails and stores nothing.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64) (notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return notify.BlobInfo{}, err
	}
	body, size, err := s.sized(body, size)
	if err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	var opts []func(*s3.Options)
	if _, ok := body.(io.Seeker); !ok {
		// The SDK hashes a body to sign it unless it goes over TLS, and it
		// cannot hash one it cannot rewind: sign it UNSIGNED-PAYLOAD, as
		// the SDK does over TLS anyway (where the body still carries a
		// trailing checksum). Only plain-HTTP endpoints, such as local
		// emulators, see a difference.
		opts = append(opts, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	out, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &key,
		Body:          body,
		ContentLength: &size,
	}, opts...)
	if err != nil {
		return notify.BlobInfo{}, fmt.Errorf("put blob %s: %w", key, err)
	}
	info := notify.BlobInfo{Size: size, ETag: unquote(out.ETag), ModTime: time.Now().UTC().Truncate(time.Second)}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key, IfMatch: out.ETag})
	if err == nil && head.LastModified != nil {
		info.ModTime = *head.LastModified
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
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, notify.BlobInfo{}, s.objectError(ctx, "open", key, err)
	}
	return out.Body, notify.BlobInfo{
		Size:    aws.ToInt64(out.ContentLength),
		ETag:    unquote(out.ETag),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

// Stat implements notify.Blobs with HeadObject.
func (s *Store) Stat(ctx context.Context, key string) (notify.BlobInfo, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return notify.BlobInfo{}, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return notify.BlobInfo{}, s.objectError(ctx, "stat", key, err)
	}
	return notify.BlobInfo{
		Size:    aws.ToInt64(out.ContentLength),
		ETag:    unquote(out.ETag),
		ModTime: aws.ToTime(out.LastModified),
	}, nil
}

// Delete implements notify.Blobs with DeleteObject, which S3 answers the
// same whether the object existed or not.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := notify.ValidBlobKey(key); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return fmt.Errorf("delete blob %s: %w", key, err)
	}
	return nil
}

// PresignPut returns a URL that lets whoever holds it PUT one object at key
// for expires (1 s to MaxPresignExpiry), with no AWS credentials of their
// own. When contentType is not empty it is signed, and the upload must send
// the same Content-Type header. The URL cannot cap the body's size: check
// the object's Stat before trusting it. A URL signed with temporary
// credentials (a Lambda role's) stops working when they expire, if that is
// sooner.
func (s *Store) PresignPut(ctx context.Context, key string, expires time.Duration, contentType string) (string, error) {
	if err := notify.ValidBlobKey(key); err != nil {
		return "", err
	}
	if expires < time.Second || expires > MaxPresignExpiry {
		return "", fmt.Errorf("presign put %s: expiry %v: want 1s to %v", key, expires, MaxPresignExpiry)
	}
	in := &s3.PutObjectInput{Bucket: &s.bucket, Key: &key}
	if contentType != "" {
		in.ContentType = &contentType
	}
	req, err := s.presign.PresignPutObject(ctx, in, s3.WithPresignExpires(expires))
	if err != nil {
		return "", fmt.Errorf("presign put %s: %w", key, err)
	}
	return req.URL, nil
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
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}, s3.WithPresignExpires(expires))
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return req.URL, nil
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
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey":
			return notify.NotFound("blob", key)
		case "NotFound":
			if _, berr := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket}); berr != nil {
				return fmt.Errorf("%s blob %s: not found, and bucket %s cannot be read: %w", op, key, s.bucket, berr)
			}
			return notify.NotFound("blob", key)
		case "AccessDenied", "Forbidden":
			return fmt.Errorf("%s blob %s (a missing object is denied too when the role lacks s3:ListBucket on %s): %w", op, key, s.bucket, err)
		}
	}
	return fmt.Errorf("%s blob %s: %w", op, key, err)
}

// unquote strips the quotes S3 puts around an ETag.
func unquote(etag *string) string {
	return strings.Trim(aws.ToString(etag), `"`)
}
