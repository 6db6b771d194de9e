package s3blob

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/notify"
)

// fakeS3 answers path-style object requests on one bucket from a map,
// records what it receives, and fails as told.
type fakeS3 struct {
	t      *testing.T
	bucket string
	// modTime is every object's Last-Modified.
	modTime time.Time

	mu      sync.Mutex
	objects map[string][]byte
	puts    []putRequest
	// status makes requests of a method answer that status and error
	// code, and nothing else.
	status map[string]fakeError
	// replaced makes a conditional HEAD fail as if another PUT had
	// replaced the object.
	replaced bool
	// noBucket makes HeadBucket answer 404 (objects still answer as told).
	noBucket bool
	// bucketHeads counts HeadBucket requests.
	bucketHeads int
	// transient makes the next n requests of a method answer 503
	// SlowDown, as S3 does when throttling.
	transient map[string]int
	// tries counts the requests of each method.
	tries map[string]int
	// url is the server's.
	url      string
	requests []signedRequest
}

// signedRequest is what a request says of its signature.
type signedRequest struct {
	Request       string // method and path
	Credential    string // the Authorization header up to the credential scope
	SecurityToken string
	ContentSHA256 string
	Date          string
}

type fakeError struct {
	status int
	code   string // empty: no body, as HEAD answers
}

type putRequest struct {
	Key           string
	ContentLength int64
	Body          []byte
	SSE           string
}

func newFake(t *testing.T) (*fakeS3, *Store) {
	t.Helper()
	f := &fakeS3{
		t: t, bucket: "herald-fake", modTime: time.Date(2026, 3, 2, 10, 15, 30, 0, time.UTC),
		objects: map[string][]byte{}, status: map[string]fakeError{}, tries: map[string]int{},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	s, err := New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")},
		f.bucket, Options{Endpoint: srv.URL, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	return f, s
}

func etagOf(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tries[r.Method]++
	credential, _, _ := strings.Cut(r.Header.Get("Authorization"), ", ")
	f.requests = append(f.requests, signedRequest{r.Method + " " + r.URL.EscapedPath(), credential,
		r.Header.Get("X-Amz-Security-Token"), r.Header.Get("X-Amz-Content-Sha256"), r.Header.Get("X-Amz-Date")})
	if f.transient[r.Method] > 0 {
		f.transient[r.Method]--
		f.mu.Unlock()
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		return
	}
	f.mu.Unlock()
	if r.Method == http.MethodHead && r.URL.Path == "/"+f.bucket {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.bucketHeads++
		if f.noBucket {
			w.WriteHeader(http.StatusNotFound)
		}
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, "/"+f.bucket+"/")
	if !ok {
		f.t.Errorf("request %s %s, want a path-style object path in bucket %s", r.Method, r.URL.Path, f.bucket)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.status[r.Method]; ok {
		if e.code == "" {
			w.WriteHeader(e.status)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(e.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>fake %s</Message></Error>`, e.code, e.code)
		return
	}
	switch r.Method {
	case http.MethodPut:
		f.puts = append(f.puts, putRequest{key, r.ContentLength, body, r.Header.Get("X-Amz-Server-Side-Encryption")})
		f.objects[key] = body
		w.Header().Set("ETag", `"`+etagOf(body)+`"`)
	case http.MethodHead, http.MethodGet:
		b, ok := f.objects[key]
		if !ok {
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
			return
		}
		etag := `"` + etagOf(b) + `"`
		if m := r.Header.Get("If-Match"); m != "" && (m != etag || f.replaced) {
			w.WriteHeader(http.StatusPreconditionFailed)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", f.modTime.Format(http.TimeFormat))
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		if r.Method == http.MethodGet {
			w.Write(b)
		}
	case http.MethodDelete:
		delete(f.objects, key)
		w.WriteHeader(http.StatusNoContent)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusBadRequest)
	}
}

func (f *fakeS3) triesOf(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries[method]
}

func (f *fakeS3) signed() []signedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]signedRequest(nil), f.requests...)
}

func (f *fakeS3) sentPuts() []putRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]putRequest(nil), f.puts...)
}

// streamOnly hides Seek from the SDK.
type streamOnly struct{ io.Reader }

func TestPut(t *testing.T) {
	content := []byte("name,phone\nZoë,+34600000000\n")
	tests := []struct {
		name string
		body func() io.Reader
		size int64
		want []byte
	}{
		{"known size, seekable", func() io.Reader { return bytes.NewReader(content) }, int64(len(content)), content},
		{"known size, stream", func() io.Reader { return streamOnly{bytes.NewReader(content)} }, int64(len(content)), content},
		{"unknown size, stream", func() io.Reader { return streamOnly{bytes.NewReader(content)} }, -1, content},
		{"unknown size, seekable, partly read", func() io.Reader {
			r := bytes.NewReader(content)
			r.Seek(5, io.SeekStart)
			return r
		}, -1, content[5:]},
		{"empty stream", func() io.Reader { return streamOnly{strings.NewReader("")} }, 0, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newFake(t)
			info, err := s.Put(t.Context(), "uploads/ws_1/a.csv", tt.body(), tt.size)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			want := []putRequest{{Key: "uploads/ws_1/a.csv", ContentLength: int64(len(tt.want)), Body: tt.want}}
			if diff := cmp.Diff(want, f.sentPuts()); diff != "" {
				t.Errorf("PUT requests (-want +got):\n%s", diff)
			}
			wantInfo := notify.BlobInfo{Size: int64(len(tt.want)), ETag: etagOf(tt.want), ModTime: f.modTime}
			if diff := cmp.Diff(wantInfo, info); diff != "" {
				t.Errorf("Put info (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutUnknownSizeIsCapped(t *testing.T) {
	f, s := newFake(t)
	s.maxBuffered = 1024
	_, err := s.Put(t.Context(), "big", streamOnly{bytes.NewReader(make([]byte, 1025))}, -1)
	if !notify.IsCode(err, notify.CodePayloadTooLarge) {
		t.Errorf("Put(1025 bytes of unknown size, cap 1024) = %v, want a %s error", err, notify.CodePayloadTooLarge)
	}
	if n := len(f.sentPuts()); n != 0 {
		t.Errorf("a refused Put sent %d PUT requests, want none", n)
	}
	if _, err := s.Put(t.Context(), "fits", streamOnly{bytes.NewReader(make([]byte, 1024))}, -1); err != nil {
		t.Errorf("Put(1024 bytes of unknown size, cap 1024) = %v, want nil", err)
	}
	// A known size or a seekable body is not buffered, so not capped.
	if _, err := s.Put(t.Context(), "sized", streamOnly{bytes.NewReader(make([]byte, 4096))}, 4096); err != nil {
		t.Errorf("Put(4096 bytes of known size, cap 1024) = %v, want nil", err)
	}
	if _, err := s.Put(t.Context(), "seekable", bytes.NewReader(make([]byte, 4096)), -1); err != nil {
		t.Errorf("Put(4096 seekable bytes of unknown size, cap 1024) = %v, want nil", err)
	}
}

func TestPutModTimeWhenReplaced(t *testing.T) {
	f, s := newFake(t)
	f.replaced = true
	before := time.Now().Add(-time.Second)
	info, err := s.Put(t.Context(), "k", strings.NewReader("x"), 1)
	if err != nil {
		t.Fatalf("Put whose read-back finds another object = %v, want nil: the object was stored", err)
	}
	if info.ModTime.Before(before) || info.ModTime.After(time.Now()) || info.ETag != etagOf([]byte("x")) {
		t.Errorf("Put = %+v, want its own ETag and about now as ModTime", info)
	}
}

func TestOpenAndStat(t *testing.T) {
	f, s := newFake(t)
	f.objects["a/b"] = []byte("hello")
	want := notify.BlobInfo{Size: 5, ETag: etagOf([]byte("hello")), ModTime: f.modTime}
	rc, info, err := s.Open(t.Context(), "a/b")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" {
		t.Errorf("Open read %q, want %q", b, "hello")
	}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("Open info (-want +got):\n%s", diff)
	}
	got, err := s.Stat(t.Context(), "a/b")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stat (-want +got):\n%s", diff)
	}
}

func TestMissingObject(t *testing.T) {
	tests := []struct {
		name     string
		fail     map[string]fakeError
		noBucket bool
		op       string
		notFound bool
		// wantInErr is in the error's text when not empty.
		wantInErr string
	}{
		{"GET NoSuchKey", nil, false, "open", true, ""},
		{"HEAD 404", nil, false, "stat", true, ""},
		// S3 answers HeadObject on a missing bucket with the same 404.
		{"HEAD 404, bucket missing", nil, true, "stat", false, "bucket herald-fake cannot be read"},
		{"GET NoSuchBucket", map[string]fakeError{http.MethodGet: {http.StatusNotFound, "NoSuchBucket"}}, false, "open", false, ""},
		{"GET AccessDenied", map[string]fakeError{http.MethodGet: {http.StatusForbidden, "AccessDenied"}}, false, "open", false, "s3:ListBucket"},
		{"HEAD 403", map[string]fakeError{http.MethodHead: {http.StatusForbidden, ""}}, false, "stat", false, "s3:ListBucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, s := newFake(t)
			for m, e := range tt.fail {
				f.status[m] = e
			}
			f.noBucket = tt.noBucket
			var err error
			if tt.op == "open" {
				var rc io.ReadCloser
				if rc, _, err = s.Open(t.Context(), "missing"); err == nil {
					rc.Close()
				}
			} else {
				_, err = s.Stat(t.Context(), "missing")
			}
			if err == nil {
				t.Fatalf("%s = nil error, want one", tt.op)
			}
			if got := notify.IsCode(err, notify.CodeNotFound); got != tt.notFound {
				t.Errorf("%s error %v: not_found = %v, want %v", tt.op, err, got, tt.notFound)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("%s error %q, want %q in it", tt.op, err, tt.wantInErr)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	f, s := newFake(t)
	f.objects["k"] = []byte("x")
	if err := s.Delete(t.Context(), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, ok := f.objects["k"]; ok {
		t.Errorf("object still stored after Delete")
	}
	f.status[http.MethodDelete] = fakeError{http.StatusForbidden, "AccessDenied"}
	if err := s.Delete(t.Context(), "k"); err == nil {
		t.Errorf("Delete answered 403 = nil error, want one")
	}
}

func TestPresignPutURL(t *testing.T) {
	_, s := newFake(t)
	tests := []struct {
		expires       time.Duration
		contentType   string
		wantSigned    string
		wantExpiresIn string
	}{
		{15 * time.Minute, "text/csv", "content-type;host", "900"},
		{time.Second, "", "host", "1"},
		{MaxPresignExpiry, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "content-type;host", "604800"},
	}
	for _, tt := range tests {
		raw, err := s.PresignPut(t.Context(), "uploads/ws_1/sheet.xlsx", tt.expires, tt.contentType)
		if err != nil {
			t.Fatalf("PresignPut(%v, %q): %v", tt.expires, tt.contentType, err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("PresignPut returned %q: %v", raw, err)
		}
		if want := "/herald-fake/uploads/ws_1/sheet.xlsx"; u.Path != want {
			t.Errorf("presigned path = %q, want %q", u.Path, want)
		}
		q := u.Query()
		if got := q.Get("X-Amz-Expires"); got != tt.wantExpiresIn {
			t.Errorf("PresignPut(%v): X-Amz-Expires = %q, want %q", tt.expires, got, tt.wantExpiresIn)
		}
		if got := q.Get("X-Amz-SignedHeaders"); got != tt.wantSigned {
			t.Errorf("PresignPut(content type %q): X-Amz-SignedHeaders = %q, want %q", tt.contentType, got, tt.wantSigned)
		}
		if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" || q.Get("X-Amz-Signature") == "" {
			t.Errorf("presigned URL %s is not SigV4-signed", raw)
		}
		// A checksum or SSE the uploader would have to send along would
		// break a plain browser PUT.
		for name := range q {
			if l := strings.ToLower(name); strings.Contains(l, "checksum") || strings.Contains(l, "server-side") {
				t.Errorf("presigned URL has %s: a plain PUT could not satisfy it", name)
			}
		}
	}
	for _, expires := range []time.Duration{0, 500 * time.Millisecond, MaxPresignExpiry + time.Second} {
		if _, err := s.PresignPut(t.Context(), "k", expires, ""); err == nil {
			t.Errorf("PresignPut(expires %v) = nil error, want one", expires)
		}
		if _, err := s.PresignGet(t.Context(), "k", expires); err == nil {
			t.Errorf("PresignGet(expires %v) = nil error, want one", expires)
		}
	}
	if _, err := s.PresignPut(t.Context(), "../k", time.Minute, ""); !notify.IsCode(err, notify.CodeValidation) {
		t.Errorf("PresignPut(../k) = %v, want a %s error", err, notify.CodeValidation)
	}
	if _, err := s.PresignGet(t.Context(), "../k", time.Minute); !notify.IsCode(err, notify.CodeValidation) {
		t.Errorf("PresignGet(../k) = %v, want a %s error", err, notify.CodeValidation)
	}
}

// TestPresignGet fetches through the URL from the fake, which checks the
// path; the fake checks no signature, so the query is checked here.
func TestPresignGet(t *testing.T) {
	f, s := newFake(t)
	f.objects["reports/r.csv"] = []byte("a,b\n")
	raw, err := s.PresignGet(t.Context(), "reports/r.csv", 10*time.Minute)
	if err != nil {
		t.Fatalf("PresignGet: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("X-Amz-Expires") != "600" || q.Get("X-Amz-Signature") == "" {
		t.Errorf("presigned GET URL %s: want X-Amz-Expires=600 and a signature", raw)
	}
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatalf("GET presigned URL: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "a,b\n" {
		t.Errorf("GET presigned URL = %s %q, want 200 and the object", resp.Status, b)
	}
}
