package awscall

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// signer signs a Client's requests with SigV4, as the SDK's v4.Signer
// signs them (the same canonical request, so the same Authorization), for
// the one shape of request a Client sends: a POST without a query, with
// Content-Length, Content-Type, Host, X-Amz-Date, the session token when
// there is one, and the endpoint's own headers. The SDK's signer, general
// for every request, was a third of the allocations of a send: it clones
// the headers, sorts and joins them and derives its HMACs anew each time.
// Here the signing key is derived once a day per credentials and its HMAC
// reused through a pool.
type signer struct {
	name, region string
	// fixed are the endpoint's headers, lower-cased with their cleaned
	// values, besides those every request has.
	fixed []canonicalHeader
	key   atomic.Pointer[signingKey]
}

type canonicalHeader struct{ name, value string }

// signingKey is the key of one day, region, service and credentials, with
// a pool of HMACs keyed with it.
type signingKey struct {
	day, akid, secret string
	macs              sync.Pool
}

func newSigner(name, region string, h http.Header) *signer {
	s := &signer{name: name, region: region}
	for k, vs := range h {
		if ignoredHeaders[http.CanonicalHeaderKey(k)] {
			continue
		}
		cleaned := make([]string, len(vs))
		for i, v := range vs {
			cleaned[i] = strings.TrimSpace(stripExcessSpaces(v))
		}
		s.fixed = append(s.fixed, canonicalHeader{strings.ToLower(k), strings.Join(cleaned, ",")})
	}
	return s
}

// keyFor returns the signing key of day for creds.
func (s *signer) keyFor(day string, creds aws.Credentials) *signingKey {
	if k := s.key.Load(); k != nil && k.day == day && k.akid == creds.AccessKeyID && k.secret == creds.SecretAccessKey {
		return k
	}
	mac := func(key []byte, data string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(data))
		return m.Sum(nil)
	}
	key := mac(mac(mac(mac([]byte("AWS4"+creds.SecretAccessKey), day), s.region), s.name), "aws4_request")
	k := &signingKey{day: day, akid: creds.AccessKeyID, secret: creds.SecretAccessKey}
	k.macs.New = func() any { return hmac.New(sha256.New, key) }
	s.key.Store(k)
	return k
}

// ignoredHeaders are the headers the SDK's signer never signs.
var ignoredHeaders = map[string]bool{"Authorization": true, "User-Agent": true, "X-Amzn-Trace-Id": true, "Expect": true, "Transfer-Encoding": true}

// canonicals hold canonical requests while they are hashed.
var canonicals = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// sign sets req's X-Amz-Date, X-Amz-Security-Token (when creds have a
// session token) and Authorization for a POST to canonicalURI of a body
// of length bytes whose SHA-256 is payloadHash. req.Host must be set, and
// its Content-Type.
func (s *signer) sign(req *http.Request, creds aws.Credentials, canonicalURI, payloadHash string, length int, now time.Time) {
	now = now.UTC()
	amzDate := now.Format("20060102T150405Z")
	day := amzDate[:8]
	req.Header["X-Amz-Date"] = []string{amzDate}
	if creds.SessionToken != "" {
		req.Header["X-Amz-Security-Token"] = []string{creds.SessionToken}
	}
	var hs [12]canonicalHeader
	headers := append(hs[:0],
		canonicalHeader{"content-length", strconv.Itoa(length)},
		canonicalHeader{"content-type", strings.TrimSpace(stripExcessSpaces(req.Header.Get("Content-Type")))},
		canonicalHeader{"host", stripExcessSpaces(req.Host)},
		canonicalHeader{"x-amz-date", amzDate})
	if creds.SessionToken != "" {
		headers = append(headers, canonicalHeader{"x-amz-security-token", strings.TrimSpace(stripExcessSpaces(creds.SessionToken))})
	}
	headers = append(headers, s.fixed...)
	// Insertion sort: a handful of headers, no allocation.
	for i := 1; i < len(headers); i++ {
		for j := i; j > 0 && headers[j].name < headers[j-1].name; j-- {
			headers[j], headers[j-1] = headers[j-1], headers[j]
		}
	}
	if length == 0 {
		// The SDK signs Content-Length only when there is a body.
		headers = removeHeader(headers, "content-length")
	}

	cp := canonicals.Get().(*[]byte)
	b := append((*cp)[:0], "POST\n"...)
	b = append(b, canonicalURI...)
	b = append(b, "\n\n"...)
	for _, h := range headers {
		b = append(b, h.name...)
		b = append(b, ':')
		b = append(b, h.value...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	signedStart := len(b)
	for i, h := range headers {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, h.name...)
	}
	signedHeaders := string(b[signedStart:])
	b = append(b, '\n')
	b = append(b, payloadHash...)
	canonicalSum := sha256.Sum256(b)

	scope := day + "/" + s.region + "/" + s.name + "/aws4_request"
	b = append(b[:0], "AWS4-HMAC-SHA256\n"...)
	b = append(b, amzDate...)
	b = append(b, '\n')
	b = append(b, scope...)
	b = append(b, '\n')
	b = hex.AppendEncode(b, canonicalSum[:])

	k := s.keyFor(day, creds)
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(b)
	var sig [sha256.Size]byte
	m.Sum(sig[:0])
	k.macs.Put(m)

	b = append(b[:0], "AWS4-HMAC-SHA256 Credential="...)
	b = append(b, creds.AccessKeyID...)
	b = append(b, '/')
	b = append(b, scope...)
	b = append(b, ", SignedHeaders="...)
	b = append(b, signedHeaders...)
	b = append(b, ", Signature="...)
	b = hex.AppendEncode(b, sig[:])
	req.Header["Authorization"] = []string{string(b)}
	*cp = b
	canonicals.Put(cp)
}

func removeHeader(hs []canonicalHeader, name string) []canonicalHeader {
	for i, h := range hs {
		if h.name == name {
			return append(hs[:i], hs[i+1:]...)
		}
	}
	return hs
}

// stripExcessSpaces trims the spaces around s and collapses runs of
// spaces inside it into one, as the SDK's signer does to header values.
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && space {
			continue
		}
		space = s[i] == ' '
		b.WriteByte(s[i])
	}
	return b.String()
}

// hostForHeader is host without its port when the port is the scheme's
// default, as the SDK sends and signs it.
func hostForHeader(scheme, host string) string {
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return strings.TrimSuffix(host, ":80")
	}
	return host
}
