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
type SNSOptions struct {
	// Certs fetches the PEM certificate at an SNS SigningCertURL. Nil
	// fetches it over HTTPS with a 10 s timeout and keeps it per URL.
	Certs func(ctx context.Context, url string) ([]byte, error)
	// Confirm visits the SubscribeURL of a subscription confirmation. Nil
	// makes an HTTPS GET with a 10 s timeout.
	Confirm func(ctx context.Context, url string) error
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// TopicARNs, when not empty, are the only topics whose messages are
	// accepted and whose subscriptions are confirmed; others answer 403.
	// Without it anyone can subscribe the endpoint to a topic of their own
	// and publish validly signed messages, so production should set it.
	TopicARNs []string

	cache certCache // the default Certs' cache
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
	// maxCachedCerts bounds the default cache. SNS uses one certificate per
	// region at a time, so this is years of rotations.
	maxCachedCerts = 64
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
	if len(e.TopicARNs) > 0 && !slices.Contains(e.TopicARNs, m.TopicArn) {
		e.log.Warn(e.name+" callback from another topic", "messageId", m.MessageID, "topicArn", m.TopicArn)
		http.Error(w, "unexpected topic", http.StatusForbidden)
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
// certificate could not be fetched.
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
	if e.Certs != nil {
		return e.Certs(ctx, u)
	}
	return e.cache.get(ctx, u)
}

// certCache keeps the certificates fetched by URL; the zero value is ready.
type certCache struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (c *certCache) get(ctx context.Context, u string) ([]byte, error) {
	c.mu.Lock()
	raw, ok := c.m[u]
	c.mu.Unlock()
	if ok {
		return raw, nil
	}
	raw, err := httpsGet(ctx, u, maxCertPEM)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string][]byte)
	}
	if len(c.m) < maxCachedCerts {
		c.m[u] = raw
	}
	c.mu.Unlock()
	return raw, nil
}

// httpsGet GETs u, refusing redirects (they could leave the SNS host), and
// returns up to limit bytes of a 200 answer. Its errors leave u out.
func httpsGet(ctx context.Context, u string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, snsFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errors.New("get: bad url")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err // without the URL, which may carry a token
	}
	if err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get: status %d", res.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("get: read body: %w", err)
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
			_, err := httpsGet(ctx, u, 64<<10)
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
