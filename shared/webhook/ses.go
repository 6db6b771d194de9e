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

	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/ses"
)

// SESStore is what SES callbacks need of the store: deliveries move
// forward, and a bounced or complaining address turns the user's email off.
type SESStore interface {
	Deliveries
	UpdateUser(ctx context.Context, workspaceID, id string, fn func(*notify.User) error) (notify.User, error)
}

// SES serves POST /webhooks/ses, the HTTPS subscription of the SNS topic
// that the SES configuration set publishes its events to. Every SNS message
// (subscription confirmations included) is authenticated by its SNS
// signature before anything in it is used: the signing certificate must
// come over HTTPS from an SNS host (sns.<region>.amazonaws.com, or .com.cn),
// and a message older than an hour is refused as a replay. The
// certificate's chain is not checked: HTTPS to an amazonaws.com host is
// what vouches for it.
//
// Event handling:
//
//	Delivery                      the delivery becomes delivered
//	Bounce, bounceType Permanent  the delivery fails ("bounce"); the user's email is turned off
//	Complaint                     the user's email is turned off; the delivery stays as it is
//	anything else                 ignored (transient bounces, Send, Open, …)
//
// An email is recognised by the tags the ses package puts on it; one
// without them, or for a delivery or user the store does not know, is
// acknowledged and ignored. A store failure answers 500 so that SNS
// delivers the message again; every change is idempotent.
type SES struct {
	Store SESStore
	Log   *slog.Logger
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
	// Without it anyone can subscribe this endpoint to a topic of their
	// own and publish validly signed events, so production should set it.
	TopicARNs []string

	mu    sync.Mutex
	certs map[string][]byte // default Certs' cache
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
	// reasonBounce is the reason of a delivery failed by a permanent bounce.
	reasonBounce = "bounce"
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

// ServeHTTP receives one SNS message.
func (h *SES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
		h.Log.Warn("ses callback that is not an SNS message")
		http.Error(w, "not an SNS message", http.StatusBadRequest)
		return
	}
	if err := h.verify(r.Context(), &m); err != nil {
		if errors.Is(err, errNotSNS) {
			h.Log.Warn("ses callback with a bad signature", "messageId", m.MessageID, "err", err.Error())
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		h.Log.Error("ses callback signing certificate", "messageId", m.MessageID, "err", err.Error())
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	if len(h.TopicARNs) > 0 && !slices.Contains(h.TopicARNs, m.TopicArn) {
		h.Log.Warn("ses callback from another topic", "messageId", m.MessageID, "topicArn", m.TopicArn)
		http.Error(w, "unexpected topic", http.StatusForbidden)
		return
	}
	if t := r.Header.Get("x-amz-sns-message-type"); t != "" && t != m.Type {
		http.Error(w, "message type header does not match the message", http.StatusBadRequest)
		return
	}
	switch m.Type {
	case snsSubscriptionConfirmation:
		h.confirm(w, r, &m)
	case snsUnsubscribeConfirmation:
		h.Log.Warn("ses events unsubscribed", "topicArn", m.TopicArn)
		w.WriteHeader(http.StatusOK)
	case snsNotification:
		h.notification(w, r, &m)
	}
}

// verify checks m's SNS signature. Its errors wrap errNotSNS unless the
// certificate could not be fetched.
func (h *SES) verify(ctx context.Context, m *snsMessage) error {
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
	raw, err := h.cert(ctx, m.SigningCertURL)
	if err != nil {
		return fmt.Errorf("fetch signing certificate %s: %w", m.SigningCertURL, err)
	}
	now := h.now()
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

func (h *SES) cert(ctx context.Context, u string) ([]byte, error) {
	if h.Certs != nil {
		return h.Certs(ctx, u)
	}
	h.mu.Lock()
	raw, ok := h.certs[u]
	h.mu.Unlock()
	if ok {
		return raw, nil
	}
	raw, err := httpsGet(ctx, u, maxCertPEM)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	if h.certs == nil {
		h.certs = make(map[string][]byte)
	}
	if len(h.certs) < maxCachedCerts {
		h.certs[u] = raw
	}
	h.mu.Unlock()
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
func (h *SES) confirm(w http.ResponseWriter, r *http.Request, m *snsMessage) {
	if err := checkSNSURL(m.SubscribeURL, false); err != nil {
		h.Log.Warn("ses subscription confirmation with a foreign SubscribeURL", "topicArn", m.TopicArn)
		http.Error(w, "subscribe url is not on an SNS host", http.StatusBadRequest)
		return
	}
	confirm := h.Confirm
	if confirm == nil {
		confirm = func(ctx context.Context, u string) error {
			_, err := httpsGet(ctx, u, 64<<10)
			return err
		}
	}
	if err := confirm(r.Context(), m.SubscribeURL); err != nil {
		h.Log.Error("ses subscription confirmation", "topicArn", m.TopicArn, "err", err.Error())
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	h.Log.Info("ses events subscribed", "topicArn", m.TopicArn)
	w.WriteHeader(http.StatusOK)
}

// sesEvent is the part of an SES event Herald reads. Event publishing
// names its type eventType; the identity's feedback notifications name it
// notificationType (and carry no tags, so Herald ignores them).
type sesEvent struct {
	EventType        string `json:"eventType"`
	NotificationType string `json:"notificationType"`
	Mail             struct {
		MessageID   string              `json:"messageId"`
		Destination []string            `json:"destination"`
		Tags        map[string][]string `json:"tags"`
	} `json:"mail"`
	Bounce *struct {
		BounceType string `json:"bounceType"`
		Timestamp  string `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		Timestamp string `json:"timestamp"`
	} `json:"complaint"`
	Delivery *struct {
		Timestamp string `json:"timestamp"`
	} `json:"delivery"`
}

func (e *sesEvent) kind() string {
	if e.EventType != "" {
		return e.EventType
	}
	return e.NotificationType
}

// tag returns the decoded value of the tag name, "" when it is missing or
// not made by ses.TagValue.
func (e *sesEvent) tag(name string) string {
	vs := e.Mail.Tags[name]
	if len(vs) == 0 {
		return ""
	}
	v, err := ses.ParseTagValue(vs[0])
	if err != nil {
		return ""
	}
	return v
}

// notification applies one SES event.
func (h *SES) notification(w http.ResponseWriter, r *http.Request, m *snsMessage) {
	var e sesEvent
	if err := json.Unmarshal([]byte(m.Message), &e); err != nil {
		h.Log.Warn("ses notification that is not an SES event", "messageId", m.MessageID)
		w.WriteHeader(http.StatusOK) // signed by SNS: sending it again will not help
		return
	}
	kind := e.kind()
	ws, nid, user := e.tag(ses.TagWorkspace), e.tag(ses.TagNotification), e.tag(ses.TagUser)
	log := h.Log.With("messageId", m.MessageID, "event", kind, "workspaceId", ws, "notificationId", nid)
	if ws == "" || nid == "" {
		log.Info("ses event ignored", "why", "not an email Herald sent")
		w.WriteHeader(http.StatusOK)
		return
	}
	// Herald sends every email to one address; the delivery of a raw
	// address is keyed by it, lower-cased as the API stores it.
	addr := ""
	if len(e.Mail.Destination) == 1 {
		addr = strings.ToLower(e.Mail.Destination[0])
	}
	key := user
	if key == "" && addr != "" {
		key = "addr#" + addr
	}
	var err error
	outcome := "ignored"
	switch {
	case kind == "Delivery" && key != "":
		var at string
		if e.Delivery != nil {
			at = e.Delivery.Timestamp
		}
		outcome, err = h.move(r.Context(), notify.DeliveryUpdate{WorkspaceID: ws, NotificationID: nid, Key: key,
			Status: notify.DeliveryDelivered, At: h.eventTime(at)})
	case kind == "Bounce" && e.Bounce != nil && e.Bounce.BounceType == "Permanent":
		if key != "" {
			outcome, err = h.move(r.Context(), notify.DeliveryUpdate{WorkspaceID: ws, NotificationID: nid, Key: key,
				Status: notify.DeliveryFailed, Reason: reasonBounce, At: h.eventTime(e.Bounce.Timestamp)})
		}
		if err == nil && user != "" {
			var off string
			off, err = h.emailOff(r.Context(), ws, user, addr)
			outcome += ", " + off
		}
	case kind == "Complaint" && user != "":
		outcome, err = h.emailOff(r.Context(), ws, user, addr)
	}
	if err != nil {
		log.Error("ses event", "err", err.Error())
		http.Error(w, "try again", http.StatusInternalServerError)
		return
	}
	log.Info("ses event", "outcome", outcome)
	w.WriteHeader(http.StatusOK)
}

// move applies u; a delivery the store does not know is ignored.
func (h *SES) move(ctx context.Context, u notify.DeliveryUpdate) (string, error) {
	changed, err := h.Store.UpdateDeliveryStatus(ctx, u)
	switch {
	case notify.IsCode(err, notify.CodeNotFound):
		return "unknown delivery", nil
	case err != nil:
		return "", fmt.Errorf("update delivery: %w", err)
	case changed:
		return "delivery " + string(u.Status), nil
	}
	return "delivery unchanged", nil
}

// errNoChange stops UpdateUser from writing a user who needs no change.
var errNoChange = errors.New("no change")

// emailOff turns the user's email preference off. A bounce or a complaint
// is about an address: when the user's address is no longer the one the
// email went to (addr, "" when unknown), the preference stays as it is.
func (h *SES) emailOff(ctx context.Context, workspaceID, userID, addr string) (string, error) {
	outcome := "email turned off"
	_, err := h.Store.UpdateUser(ctx, workspaceID, userID, func(u *notify.User) error {
		if addr != "" && u.Email != "" && !strings.EqualFold(u.Email, addr) {
			outcome = "email address changed since"
			return errNoChange
		}
		if on, ok := u.Preferences.Channels[notify.ChannelEmail]; ok && !on {
			outcome = "email already off"
			return errNoChange
		}
		if u.Preferences.Channels == nil {
			u.Preferences.Channels = make(map[notify.Channel]bool)
		}
		u.Preferences.Channels[notify.ChannelEmail] = false
		u.UpdatedAt = h.now()
		return nil
	})
	switch {
	case errors.Is(err, errNoChange):
		return outcome, nil
	case notify.IsCode(err, notify.CodeNotFound):
		return "unknown user", nil
	case err != nil:
		return "", fmt.Errorf("turn email off: %w", err)
	}
	return outcome, nil
}

func (h *SES) now() time.Time {
	if h.Now != nil {
		return h.Now().UTC()
	}
	return time.Now().UTC()
}

// eventTime is the time SES reports for the event, or now.
func (h *SES) eventTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return h.now().Truncate(time.Second)
}
