package webhook

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/egress"
)

// SNSOptions are what every endpoint that receives SNS HTTPS deliveries
// (SES events, SMS delivery status, push platform events) needs to
// authenticate them. Every SNS message (subscription confirmations
// included) is authenticated by its SNS signature, version 1 (SHA1) or 2
// (SHA256), before anything in it is used: the signing certificate must
// come over HTTPS from an SNS host (sns.<region>.amazonaws.com, or .com.cn),
// and a message older than an hour is refused as a replay. The
// certificate's chain is not checked: HTTPS to an amazonaws.com host is
// what vouches for it.
//
// Anyone can post a message naming a certificate URL, so fetching is
// bounded: a message of a topic not in TopicARNs is refused before any
// fetch, certificates are kept by URL and failures for a while (a flood of
// forged messages fetches once), and the default fetch connects only to
// public addresses, follows no redirect, and reads at most 64 KiB within
// 10 s.
type SNSOptions struct {
	// Certs fetches the PEM certificate at an SNS SigningCertURL. Nil
	// fetches it over HTTPS (see above). Either way what it returns is
	// cached per URL, and so are its failures.
	Certs func(ctx context.Context, url string) ([]byte, error)
	// Confirm visits the SubscribeURL of a subscription confirmation. Nil
	// makes an HTTPS GET bounded as certificate fetches are.
	Confirm func(ctx context.Context, url string) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// TopicARNs, when not empty, are the only topics whose messages are
	// accepted and whose subscriptions are confirmed; others answer 403.
	// Without it anyone can subscribe the endpoint to a topic of their own
	// and publish validly signed messages, so production should set it.
	TopicARNs []string

	cache certCache // what Certs returned, by URL
}

// snsEndpoint serves one SNS HTTPS subscription: it authenticates the
// message, confirms subscriptions, and hands notifications to apply.
type snsEndpoint struct {
	*SNSOptions
	name string // "ses", "sms", "push": in log messages
	log  *slog.Logger
}

func (o *SNSOptions) endpoint(name string, log *slog.Logger) *snsEndpoint {
	return &snsEndpoint{SNSOptions: o, name: name, log: log}
}

// now is the clock, in UTC.
func (o *SNSOptions) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// SNS message types (the x-amz-sns-message-type header and the Type field).
const (
	snsSubscriptionConfirmation = "SubscriptionConfirmation"
	snsNotification             = "Notification"
	snsUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

const (
	// snsMaxAge is how old a message may be. SNS retries an HTTP delivery
	// for at most an hour (the delivery policy's limit), so nothing older
	// is SNS's own, while a replayed bounce could turn email off again
	// after the user turned it back on.
	snsMaxAge = time.Hour
	// snsFetchTimeout bounds the default certificate and confirmation GETs.
	snsFetchTimeout = 10 * time.Second
	// maxCertPEM bounds a certificate download; SNS's are about 2 KiB.
	maxCertPEM = 64 << 10
	// maxSNSURL bounds a SigningCertURL or SubscribeURL (SNS's are a few
	// hundred characters), and so the cache's keys.
	maxSNSURL = 2048
	// maxCachedCerts bounds the certificates kept. SNS uses one
	// certificate per region at a time, so this is years of rotations.
	maxCachedCerts = 64
	// maxFailedCerts bounds the failures kept; the oldest goes first.
	maxFailedCerts = 256
	// certFailureTTL is how long a certificate URL that answered but gave
	// no certificate (not 200, too large) is not fetched again: such a URL
	// is a forger's, and SNS never changes a certificate at a URL.
	certFailureTTL = 10 * time.Minute
	// certRetryTTL is the same for a fetch that got no answer (network,
	// timeout), which may be ours to blame: short, so that SNS's retries
	// of a genuine message, 20 s apart by default, fetch again.
	certRetryTTL = 10 * time.Second
)

var snsHost = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// snsMessage is an SNS HTTP(S) delivery. Subject is a pointer because the
// string to sign has it only when the message has one.
type snsMessage struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token"`
	TopicArn         string  `json:"TopicArn"`
	Subject          *string `json:"Subject"`
	Message          string  `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
}

// stringToSign is the canonical form AWS documents: "Name\nvalue\n" for
// each field, in byte order of the names, Subject only when present.
func (m *snsMessage) stringToSign() (string, error) {
	var fields []string
	switch m.Type {
	case snsNotification:
		fields = []string{"Message", m.Message, "MessageId", m.MessageID}
		if m.Subject != nil {
			fields = append(fields, "Subject", *m.Subject)
		}
		fields = append(fields, "Timestamp", m.Timestamp, "TopicArn", m.TopicArn, "Type", m.Type)
	case snsSubscriptionConfirmation, snsUnsubscribeConfirmation:
		fields = []string{"Message", m.Message, "MessageId", m.MessageID, "SubscribeURL", m.SubscribeURL,
			"Timestamp", m.Timestamp, "Token", m.Token, "TopicArn", m.TopicArn, "Type", m.Type}
	default:
		return "", fmt.Errorf("unknown message type %q", m.Type)
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// errNotSNS marks a message whose signature cannot be verified: it answers
// 401. Other verification errors (fetching the certificate) answer 500.
var errNotSNS = errors.New("not a verifiable SNS message")

// serve receives one SNS message. apply handles a notification; its error
// answers 500 so that SNS delivers the message again (every apply is
// idempotent), while a notification it cannot use is its to log and
// acknowledge: signed by SNS, sending it again will not help.
func (e *snsEndpoint) serve(w http.ResponseWriter, r *http.Request, apply func(ctx context.Context, m *snsMessage) error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		e.log.Warn(e.name + " callback that is not an SNS message")
		http.Error(w, "not an SNS message", http.StatusBadRequest)
		return
	}
	// The topic is checked before the signature, since checking that may
	// fetch a certificate: a message of another topic, forged or not, is
	// refused at no cost (the TopicArn is signed, so one that passes here
	// and then verifies is the topic's).
	if len(e.TopicARNs) > 0 && !slices.Contains(e.TopicARNs, m.TopicArn) {
		e.log.Warn(e.name+" callback from another topic", "messageId", m.MessageID, "topicArn", m.TopicArn)
		http.Error(w, "unexpected topic", http.StatusForbidden)
		return
	}
	if err := e.verify(r.Context(), &m); err != nil {
		if errors.Is(err, errNotSNS) {
			e.log.Warn(e.name+" callback with a bad signature", "messageId", m.MessageID, "err", err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		e.log.Error(e.name+" callback signing certificate", "messageId", m.MessageID, "err", err.Error())
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	if t := r.Header.Get("x-amz-sns-message-type"); t != "" && t != m.Type {
		http.Error(w, "message type header does not match the message", http.StatusBadRequest)
		return
	}
	switch m.Type {
	case snsSubscriptionConfirmation:
		e.confirm(w, r, &m)
	case snsUnsubscribeConfirmation:
		e.log.Warn(e.name+" events unsubscribed", "topicArn", m.TopicArn)
		w.WriteHeader(http.StatusOK)
	case snsNotification:
		if err := apply(r.Context(), &m); err != nil {
			e.log.Error(e.name+" notification", "messageId", m.MessageID, "err", err.Error())
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
}

// verify checks m's SNS signature. Its errors wrap errNotSNS unless the
// certificate could not be fetched for want of an answer (which SNS's
// retry may get).
func (e *snsEndpoint) verify(ctx context.Context, m *snsMessage) error {
	if err := checkSNSURL(m.SigningCertURL, true); err != nil {
		return fmt.Errorf("%w: signing certificate url: %v", errNotSNS, err)
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: signature version %q", errNotSNS, m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: signature is not base64", errNotSNS)
	}
	signed, err := m.stringToSign()
	if err != nil {
		return fmt.Errorf("%w: %v", errNotSNS, err)
	}
	at, err := time.Parse(time.RFC3339, m.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: timestamp: %v", errNotSNS, err)
	}
	raw, err := e.cert(ctx, m.SigningCertURL)
	var ae *answerError
	if errors.As(err, &ae) {
		// SNS's host answered, with no certificate: a forged URL.
		return fmt.Errorf("%w: signing certificate %s: %v", errNotSNS, m.SigningCertURL, err)
	}
	if err != nil {
		return fmt.Errorf("fetch signing certificate %s: %w", m.SigningCertURL, err)
	}
	now := e.now()
	key, err := rsaKey(raw, now)
	if err != nil {
		return fmt.Errorf("%w: signing certificate: %v", errNotSNS, err)
	}
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum([]byte(signed))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(signed))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(key, hash, digest, sig); err != nil {
		return fmt.Errorf("%w: signature does not match", errNotSNS)
	}
	if now.Sub(at) > snsMaxAge {
		return fmt.Errorf("%w: message of %s is older than %s", errNotSNS, m.Timestamp, snsMaxAge)
	}
	return nil
}

// checkSNSURL accepts only https URLs on an SNS host; a certificate URL
// must also name a .pem file.
func checkSNSURL(raw string, pemFile bool) error {
	if len(raw) > maxSNSURL {
		return errors.New("too long")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || !snsHost.MatchString(u.Hostname()) {
		return errors.New("not https on an SNS host")
	}
	if pemFile && !strings.HasSuffix(u.Path, ".pem") {
		return errors.New("not a .pem file")
	}
	return nil
}

// rsaKey returns the RSA key of the PEM certificate raw, valid at now.
func rsaKey(raw []byte, now time.Time) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, errors.New("expired or not yet valid")
	}
	key, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return key, nil
}

func (e *snsEndpoint) cert(ctx context.Context, u string) ([]byte, error) {
	fetch := e.Certs
	if fetch == nil {
		fetch = func(ctx context.Context, u string) ([]byte, error) {
			return httpsGet(ctx, snsClient(nil), u, maxCertPEM)
		}
	}
	return e.cache.get(ctx, u, e.now(), fetch)
}

// certCache keeps what fetching certificate URLs gave: certificates, and
// failures until they expire (see certFailureTTL). Messages that name one
// URL at the same time share its fetch. The zero value is ready.
type certCache struct {
	mu       sync.Mutex
	certs    map[string]cachedCert
	failed   map[string]cachedCert
	fetching map[string]*certFetch
}

type cachedCert struct {
	raw   []byte
	err   error
	at    time.Time // when it was fetched, to evict the oldest
	until time.Time // failures: when to fetch again
}

// certFetch is a fetch in progress; done closes when raw and err are set.
type certFetch struct {
	done chan struct{}
	raw  []byte
	err  error
}

func (c *certCache) get(ctx context.Context, u string, now time.Time, fetch func(context.Context, string) ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	if e, ok := c.certs[u]; ok {
		c.mu.Unlock()
		return e.raw, nil
	}
	if e, ok := c.failed[u]; ok && now.Before(e.until) {
		c.mu.Unlock()
		return nil, e.err
	}
	if f, ok := c.fetching[u]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.raw, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c.fetching == nil {
		c.certs, c.failed, c.fetching = map[string]cachedCert{}, map[string]cachedCert{}, map[string]*certFetch{}
	}
	f := &certFetch{done: make(chan struct{})}
	c.fetching[u] = f
	c.mu.Unlock()

	// The fetch serves every message waiting for it, so one that hangs up
	// does not cancel it for the others (the fetch has its own timeout).
	raw, err := fetch(context.WithoutCancel(ctx), u)
	if err == nil && len(raw) > maxCertPEM {
		raw, err = nil, &answerError{fmt.Sprintf("certificate of more than %d bytes", maxCertPEM)}
	}

	c.mu.Lock()
	delete(c.fetching, u)
	if err == nil {
		keep(c.certs, u, cachedCert{raw: raw, at: now}, maxCachedCerts)
	} else {
		ttl := certRetryTTL
		var ae *answerError
		if errors.As(err, &ae) {
			ttl = certFailureTTL
		}
		keep(c.failed, u, cachedCert{err: err, at: now, until: now.Add(ttl)}, maxFailedCerts)
	}
	f.raw, f.err = raw, err
	close(f.done)
	c.mu.Unlock()
	return raw, err
}

// keep puts e in m under u, evicting the oldest entry when m is full.
func keep(m map[string]cachedCert, u string, e cachedCert, limit int) {
	if _, ok := m[u]; !ok && len(m) >= limit {
		oldest := ""
		for k, v := range m {
			if oldest == "" || v.at.Before(m[oldest].at) {
				oldest = k
			}
		}
		delete(m, oldest)
	}
	m[u] = e
}

// answerError is a fetch that got an answer that is not what was asked
// for: another status, a body too large.
type answerError struct{ msg string }

func (e *answerError) Error() string { return e.msg }

// snsClient is the client of the default certificate and confirmation
// GETs: it follows no redirect (one could leave the SNS host), and with a
// nil tr it connects only to public addresses (the SNS host is checked by
// name; this covers what the name resolves to) and keeps no connection
// (fetches are rare, once per certificate). Tests pass their own tr.
func snsClient(tr http.RoundTripper) *http.Client {
	if tr == nil {
		t := egress.Transport()
		t.DisableKeepAlives = true
		tr = t
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       snsFetchTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// httpsGet GETs u with client and returns the body of a 200 answer, of at
// most limit bytes. Its errors leave u out.
func httpsGet(ctx context.Context, client *http.Client, u string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, snsFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errors.New("get: bad url")
	}
	res, err := client.Do(req)
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err // without the URL, which may carry a token
	}
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get: %w", &answerError{fmt.Sprintf("status %d", res.StatusCode)})
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("get: read body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("get: %w", &answerError{fmt.Sprintf("body of more than %d bytes", limit)})
	}
	return b, nil
}

// confirm visits the SubscribeURL, which SNS signed along with the rest.
func (e *snsEndpoint) confirm(w http.ResponseWriter, r *http.Request, m *snsMessage) {
	if err := checkSNSURL(m.SubscribeURL, false); err != nil {
		e.log.Warn(e.name+" subscription confirmation with a foreign SubscribeURL", "topicArn", m.TopicArn)
		http.Error(w, "subscribe url is not on an SNS host", http.StatusBadRequest)
		return
	}
	confirm := e.Confirm
	if confirm == nil {
		confirm = func(ctx context.Context, u string) error {
			_, err := httpsGet(ctx, snsClient(nil), u, 64<<10)
			return err
		}
	}
	if err := confirm(r.Context(), m.SubscribeURL); err != nil {
		e.log.Error(e.name+" subscription confirmation", "topicArn", m.TopicArn, "err", err.Error())
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	e.log.Info(e.name+" events subscribed", "topicArn", m.TopicArn)
	w.WriteHeader(http.StatusOK)
}
