// Package webpush delivers browser notifications through the Web Push
// protocol: each push is encrypted for the subscription (RFC 8291,
// aes128gcm), signed with the server's VAPID key (RFC 8292) and POSTed to the
// push service named by the subscription's endpoint (RFC 8030). It builds
// the payload the service worker reads, validates keys and subscriptions
// before anything is sent, encrypts and signs (encrypt.go), and classifies
// the push service's answers as accepted, permanent or transient.
package webpush

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/egress"
	"github.com/heraldhq/herald/shared/notify"
)

// DefaultTTL is how long a push service keeps a push for an offline browser
// when Config.TTL is zero.
const DefaultTTL = 24 * time.Hour

// maxPayload is the largest JSON payload that fits the single 4096-byte
// record the library writes: 4096 less the aes128gcm header (16 salt + 4
// record size + 1 key length + 65 key), the 16-byte GCM tag and the padding
// delimiter. Push services only promise to accept 4096 bytes.
const maxPayload = 4096 - 86 - 16 - 1

// concurrency bounds the pushes in flight for one message, so a user with
// many stale subscriptions does not open that many connections at once.
const concurrency = 8

// Config is what a Sender needs. Keys are base64url as GenerateVAPIDKeys
// writes them; padded or standard base64 is accepted too.
type Config struct {
	// VAPIDPublicKey is the uncompressed P-256 point (65 bytes) the browser
	// subscribed with; GET /v1/webpush/vapid-public-key serves it.
	VAPIDPublicKey string
	// VAPIDPrivateKey is the matching 32-byte P-256 scalar.
	VAPIDPrivateKey string
	// Subject is the contact of the sender, "mailto:ops@example.com" or an
	// https URL; it goes in the VAPID JWT's sub claim.
	Subject string
	// TTL is how long the push service keeps an undelivered push (whole
	// seconds; zero means DefaultTTL).
	TTL time.Duration
	// HTTPClient sends the pushes; nil means a client with a 30-second
	// timeout that does not follow redirects and connects only to public
	// internet addresses (egress.Transport). A client given here is used
	// as it is: its transport must refuse private addresses itself.
	HTTPClient *http.Client
	// AllowHTTP accepts http:// subscription endpoints. Browsers only hand
	// out https endpoints, so this is for tests and local fakes; leaving it
	// off keeps a crafted subscription from aiming pushes at plain-HTTP
	// internal services.
	AllowHTTP bool
	// AllowPrivate lets subscription endpoints be loopback, private or
	// other non-public addresses, which are otherwise refused before and
	// while connecting (see package egress): an endpoint is whatever an API
	// key registered, and pushing to an internal service would hand its
	// answer back in the delivery status. For tests and a local fake push
	// service only; the local runner sets it from a test-only setting.
	AllowPrivate bool
	// Now is the clock used to read Retry-After dates; nil means time.Now.
	Now func() time.Time
	// Connections is how many pushes the caller sends at once: the default
	// client keeps that many idle connections per push service, so that
	// each push reuses one instead of opening a TCP connection and a TLS
	// session (net/http keeps 2 by default), and opens no more than that
	// many to one service (a push waits for a busy one instead). Zero
	// keeps net/http's defaults.
	Connections int
}

// Sender delivers channel.WebPushMessage to every Web Push subscription of
// the message. It implements dispatch.WebPushSender.
type Sender struct {
	vapid      *vapid
	ttl        string // seconds, as the TTL header carries them
	client     *http.Client
	allowHTTP  bool
	allowLocal bool // Config.AllowPrivate
	now        func() time.Time
}

// New validates c and returns a Sender. The VAPID keys must be a matching
// P-256 pair, so a misconfigured deployment fails at start rather than with
// 401/403 from every push service.
func New(c Config) (*Sender, error) {
	pub, priv, err := vapidKeys(c.VAPIDPublicKey, c.VAPIDPrivateKey)
	if err != nil {
		return nil, err
	}
	var sub string
	switch {
	case strings.HasPrefix(c.Subject, "mailto:") && len(c.Subject) > len("mailto:"):
		sub = strings.TrimPrefix(c.Subject, "mailto:")
	case strings.HasPrefix(c.Subject, "https://") && len(c.Subject) > len("https://"):
		sub = c.Subject
	default:
		return nil, errors.New("vapid subject: want a mailto: address or an https URL")
	}
	if c.TTL < 0 {
		return nil, fmt.Errorf("ttl %s: must not be negative", c.TTL)
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.HTTPClient == nil {
		tr := egress.Transport()
		if c.AllowPrivate {
			if dt, ok := http.DefaultTransport.(*http.Transport); ok {
				tr = dt.Clone()
			} else {
				tr = nil
			}
		}
		var rt http.RoundTripper = http.DefaultTransport
		if tr != nil {
			tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, c.Connections)
			tr.MaxIdleConns = max(tr.MaxIdleConns, 2*c.Connections)
			if c.Connections > 0 {
				// No more than the pool keeps: a connection beyond it
				// would be closed as soon as it is idle. The pushes of one
				// message to one service, when there are more in flight,
				// wait for a connection (HTTP/2 services share one anyway).
				tr.MaxConnsPerHost = c.Connections
			}
			rt = tr
		}
		c.HTTPClient = &http.Client{
			Transport: rt,
			Timeout:   30 * time.Second,
			// A push service answers with a status, never a redirect to
			// follow; following one would resend the push to another host
			// with a JWT whose audience does not match.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	v, err := newVAPID(pub, priv, sub)
	if err != nil {
		return nil, err
	}
	return &Sender{
		vapid:      v,
		ttl:        strconv.Itoa(int(c.TTL / time.Second)),
		client:     c.HTTPClient,
		allowHTTP:  c.AllowHTTP,
		allowLocal: c.AllowPrivate,
		now:        c.Now,
	}, nil
}

// SendOptions are per-message settings that channel.WebPushMessage does not
// carry.
type SendOptions struct {
	// Urgent sends with "Urgency: high", which lets the push service wake a
	// device on low battery; otherwise "Urgency: normal".
	Urgent bool
}

// SendResult is the outcome of one message: the receipt of SendWebPush and
// what happened on each subscription, in the order of the message's
// devices (devices that are not Web Push subscriptions are left out).
type SendResult struct {
	Receipt channel.Receipt
	Devices []DeviceResult
}

// DeviceResult is the outcome on one subscription.
type DeviceResult struct {
	DeviceID string
	// ProviderMessageID is the push service's Location for the push, when
	// it gave one.
	ProviderMessageID string
	// Err is nil when the push service accepted the push.
	Err *DeviceError
}

// Gone lists the ids of the devices whose subscription the push service
// reports expired or unknown (404/410). The caller removes them whether or
// not the message as a whole was accepted.
func (r SendResult) Gone() []string {
	var ids []string
	for _, d := range r.Devices {
		if d.Err != nil && d.Err.Code == CodeSubscriptionGone {
			ids = append(ids, d.DeviceID)
		}
	}
	return ids
}

// SendWebPush sends m with normal urgency. It succeeds when at least one
// subscription accepted the push. It implements dispatch.WebPushSender; see
// Send for the per-device outcome (the list of gone subscriptions on
// success) and GoneDevices for that list on failure.
func (s *Sender) SendWebPush(ctx context.Context, m channel.WebPushMessage) (channel.Receipt, error) {
	res, err := s.Send(ctx, m, SendOptions{})
	if err != nil {
		return channel.Receipt{}, err // the error names the gone devices
	}
	rc := res.Receipt
	rc.InvalidDevices = res.Gone()
	return rc, nil
}

// Send pushes m to every Web Push subscription in m.Devices, concurrently.
//
// It returns a nil error when at least one push service accepted the push;
// Receipt.ProviderMessageID is then the first accepted push's Location, or
// an id derived from the envelope when the push service gave none. When
// none accepted, the error is an *Error listing each device's failure: it is
// channel.Permanent with the first non-"subscription_gone" code (or
// "subscription_gone" when every subscription is gone) if no failure was
// transient, and a plain, retryable error otherwise (see RetryAfter).
// Subscriptions that failed while another accepted are not retried.
//
// Every push carries a Topic derived from the envelope, so a push retried
// while the first copy is still waiting for the browser replaces it rather
// than showing twice.
func (s *Sender) Send(ctx context.Context, m channel.WebPushMessage, o SendOptions) (SendResult, error) {
	id, topic := envelopeIDs(m.Envelope)
	var devices []notify.Device
	for _, d := range m.Devices {
		if d.Subscription != nil && (d.Kind == notify.DeviceWebPush || d.Kind == "") {
			devices = append(devices, d)
		}
	}
	if len(devices) == 0 {
		return SendResult{}, channel.Permanent(notify.ReasonNoDevice, errors.New("web push: no subscription"))
	}
	payload, err := json.Marshal(newPayload(m))
	if err != nil {
		return SendResult{}, fmt.Errorf("encode web push payload: %w", err)
	}
	if len(payload) > maxPayload {
		return SendResult{}, channel.Permanent(CodePayloadTooLarge,
			fmt.Errorf("web push payload is %d bytes, at most %d fit", len(payload), maxPayload))
	}
	urgency := "normal"
	if o.Urgent {
		urgency = "high"
	}

	res := SendResult{Devices: make([]DeviceResult, len(devices))}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, d := range devices {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			loc, derr := s.push(ctx, d, payload, topic, urgency)
			res.Devices[i] = DeviceResult{DeviceID: d.ID, ProviderMessageID: loc, Err: derr}
		}()
	}
	wg.Wait()

	var failed []*DeviceError
	for _, d := range res.Devices {
		if d.Err != nil {
			failed = append(failed, d.Err)
			continue
		}
		if res.Receipt.ProviderMessageID == "" {
			res.Receipt.ProviderMessageID = d.ProviderMessageID
			if d.ProviderMessageID == "" {
				res.Receipt.ProviderMessageID = id
			}
		}
	}
	if len(failed) < len(res.Devices) {
		return res, nil
	}
	return res, classify(failed)
}

// push sends one encrypted push and returns the push service's Location.
func (s *Sender) push(ctx context.Context, d notify.Device, payload []byte, topic, urgency string) (string, *DeviceError) {
	sub, err := s.subscription(d.Subscription)
	if err != nil {
		return "", &DeviceError{DeviceID: d.ID, Code: CodeInvalidSubscription, Err: err}
	}
	body, err := encrypt(payload, sub.p256dh, sub.auth)
	if err != nil {
		return "", sendError(d.ID, err)
	}
	auth, err := s.vapid.header(sub.audience)
	if err != nil {
		return "", sendError(d.ID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", &DeviceError{DeviceID: d.ID, Code: CodeInvalidSubscription, Err: errors.New("endpoint is not a URL")}
	}
	h := req.Header
	h["Content-Encoding"] = []string{"aes128gcm"}
	h["Content-Type"] = []string{"application/octet-stream"}
	h["Ttl"] = []string{s.ttl}
	if topic != "" {
		h["Topic"] = []string{topic}
	}
	h["Urgency"] = []string{urgency}
	h["Authorization"] = []string{auth}
	resp, err := s.client.Do(req)
	if errors.Is(err, egress.ErrNotPublic) {
		// The name resolved to a private address: as permanent as a
		// private address written in the endpoint.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, whose path is the subscription's token
		}
		return "", &DeviceError{DeviceID: d.ID, Code: CodeInvalidSubscription, Err: fmt.Errorf("post to push service: %w", err)}
	}
	if err != nil {
		return "", sendError(d.ID, err)
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused; bodies are short
	// JSON or text and are not kept (they could echo the request).
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.Header.Get("Location"), nil
	}
	return "", s.statusError(d.ID, resp)
}

// target is a stored subscription, checked and decoded for a push.
type target struct {
	endpoint string
	audience string // the push service's origin, the VAPID JWT's aud
	p256dh   *ecdh.PublicKey
	auth     []byte
}

// subscription checks a stored subscription before it is used: a bad key
// or endpoint is permanent, and encrypting would not say so. The endpoint
// is checked as the API's device registration checks it, since
// subscriptions stored before that check existed may not pass it.
func (s *Sender) subscription(ws *notify.WebPushSubscription) (target, error) {
	u, err := checkEndpoint(ws.Endpoint, s.allowHTTP, s.allowLocal)
	if err != nil {
		return target{}, err
	}
	p256dh, err := decodeKey(ws.Keys.P256dh)
	if err != nil {
		return target{}, fmt.Errorf("p256dh key: %w", err)
	}
	ua, err := ecdh.P256().NewPublicKey(p256dh)
	if err != nil || len(p256dh) != 65 {
		return target{}, errors.New("p256dh key: not an uncompressed P-256 point")
	}
	auth, err := decodeKey(ws.Keys.Auth)
	if err != nil {
		return target{}, fmt.Errorf("auth secret: %w", err)
	}
	if len(auth) != 16 {
		return target{}, fmt.Errorf("auth secret is %d bytes, want 16", len(auth))
	}
	return target{endpoint: ws.Endpoint, audience: u.Scheme + "://" + u.Host, p256dh: ua, auth: auth}, nil
}

// maxEndpoint bounds a subscription endpoint's length, as the API does at
// registration; push services' are a few hundred characters.
const maxEndpoint = 2048

// checkEndpoint is the rule for a subscription endpoint before each push
// (the API applies the same at registration): an absolute https URL (http
// too when allowHTTP) of at most maxEndpoint characters, with no user
// info, whose host is on the public internet (egress.CheckURL) unless
// allowPrivate. Its errors never quote the endpoint, whose path is the
// subscription's secret.
func checkEndpoint(endpoint string, allowHTTP, allowPrivate bool) (*url.URL, error) {
	if len(endpoint) > maxEndpoint {
		return nil, fmt.Errorf("endpoint longer than %d characters", maxEndpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, errors.New("endpoint is not a URL")
	}
	if u.Host == "" || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
		return nil, fmt.Errorf("endpoint scheme %q or host not allowed", u.Scheme)
	}
	if u.User != nil {
		return nil, errors.New("endpoint has user info")
	}
	if !allowPrivate {
		if err := egress.CheckURL(u); err != nil {
			return nil, fmt.Errorf("endpoint: %w", err)
		}
	}
	return u, nil
}

// envelopeIDs derives from the delivery the fallback message id and the
// RFC 8030 Topic (at most 32 characters of the base64url alphabet).
func envelopeIDs(env channel.Envelope) (id, topic string) {
	sum := sha256.Sum256([]byte(env.WorkspaceID + "\x00" + env.NotificationID + "\x00" + env.RecipientKey + "\x00webpush"))
	return "webpush-" + hex.EncodeToString(sum[:12]), base64.RawURLEncoding.EncodeToString(sum[:24])
}

// payload is what the service worker receives in the push event
// (event.data.json()) and shows with registration.showNotification.
type payload struct {
	Title          string   `json:"title"`
	Body           string   `json:"body"`
	Route          string   `json:"route,omitempty"`
	Icon           string   `json:"icon,omitempty"`
	Image          string   `json:"image,omitempty"`
	Actions        []action `json:"actions,omitempty"`
	NotificationID string   `json:"notificationId"`
}

// action is a NotificationAction plus the route to open when it is clicked.
type action struct {
	Action string `json:"action"`
	Title  string `json:"title"`
	Route  string `json:"route,omitempty"`
}

func newPayload(m channel.WebPushMessage) payload {
	p := payload{Title: m.Title, Body: m.Body, Route: m.Route, Icon: m.Icon, Image: m.Image, NotificationID: m.NotificationID}
	for _, b := range m.Buttons {
		p.Actions = append(p.Actions, action{Action: b.ID, Title: b.Label, Route: b.Route})
	}
	return p
}
