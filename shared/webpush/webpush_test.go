package webpush

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/egress"
	"github.com/heraldhq/herald/shared/notify"
)

const testSubject = "mailto:push-ops@example.com"

// answer is what the fake push service replies for one subscription.
type answer struct {
	status int
	header map[string]string
	body   string
}

// accepted is autopush's and FCM's answer to a push they queued.
func accepted(location string) answer {
	a := answer{status: http.StatusCreated, header: map[string]string{}}
	if location != "" {
		a.header["Location"] = location
	}
	return a
}

// autopushError is Mozilla autopush's error body for status with errno.
func autopushError(status, errno int, header map[string]string) answer {
	return answer{status: status, header: header, body: fmt.Sprintf(
		`{"code": %d, "errno": %d, "error": %q, "message": "see more_info", "more_info": "http://autopush.readthedocs.io/en/latest/http.html#error-codes"}`,
		status, errno, http.StatusText(status))}
}

// subscriber is one browser: its subscription keys (the private half stays
// here, as it stays in the browser) and what the push service answers.
type subscriber struct {
	priv   *ecdh.PrivateKey
	auth   []byte
	answer answer
}

// received is what the fake push service decoded from one push.
type received struct {
	Token   string
	TTL     string
	Urgency string
	Topic   string
	Payload swPayload
}

// swPayload is the JSON the service worker reads, spelled out here so the
// test checks the wire names.
type swPayload struct {
	Title          string     `json:"title"`
	Body           string     `json:"body"`
	Route          string     `json:"route,omitempty"`
	Icon           string     `json:"icon,omitempty"`
	Image          string     `json:"image,omitempty"`
	Actions        []swAction `json:"actions,omitempty"`
	NotificationID string     `json:"notificationId"`
}

type swAction struct {
	Action string `json:"action"`
	Title  string `json:"title"`
	Route  string `json:"route,omitempty"`
}

// pushService is a fake push service that verifies each push the way a real
// one and the browser do together: VAPID JWT and key, headers, and the
// RFC 8291 encryption, which it decrypts with the subscriber's private key.
type pushService struct {
	t        *testing.T
	srv      *httptest.Server
	vapidPub string
	mu       sync.Mutex
	subs     map[string]*subscriber
	got      []received
}

func newPushService(t *testing.T, vapidPub string) *pushService {
	t.Helper()
	ps := &pushService{t: t, vapidPub: vapidPub, subs: map[string]*subscriber{}}
	ps.srv = httptest.NewServer(http.HandlerFunc(ps.serve))
	t.Cleanup(ps.srv.Close)
	return ps
}

// subscribe makes a browser subscription whose push service answers a and
// returns it as a device.
func (ps *pushService) subscribe(t *testing.T, id string, a answer) notify.Device {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	if _, err := rand.Read(auth); err != nil {
		t.Fatal(err)
	}
	token := "tok-" + id + "-" + base64.RawURLEncoding.EncodeToString(auth[:6])
	ps.mu.Lock()
	ps.subs[token] = &subscriber{priv: priv, auth: auth, answer: a}
	ps.mu.Unlock()
	sub := &notify.WebPushSubscription{Endpoint: ps.srv.URL + "/wpush/v2/" + token}
	sub.Keys.P256dh = base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes())
	sub.Keys.Auth = base64.RawURLEncoding.EncodeToString(auth)
	return notify.Device{ID: id, Kind: notify.DeviceWebPush, Subscription: sub}
}

func (ps *pushService) received() []received {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]received(nil), ps.got...)
}

func (ps *pushService) serve(w http.ResponseWriter, r *http.Request) {
	t := ps.t
	token, ok := strings.CutPrefix(r.URL.Path, "/wpush/v2/")
	ps.mu.Lock()
	sub := ps.subs[token]
	ps.mu.Unlock()
	if !ok || sub == nil {
		t.Errorf("push to unknown endpoint %s", r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST", r.Method)
	}
	if got := r.Header.Get("Content-Encoding"); got != "aes128gcm" {
		t.Errorf("Content-Encoding = %q, want aes128gcm", got)
	}
	if got := r.Header.Get("Urgency"); got != "normal" && got != "high" {
		t.Errorf("Urgency = %q, want normal or high", got)
	}
	if ttl, err := strconv.Atoi(r.Header.Get("TTL")); err != nil || ttl <= 0 {
		t.Errorf("TTL = %q, want positive seconds", r.Header.Get("TTL"))
	}
	if topic := r.Header.Get("Topic"); len(topic) == 0 || len(topic) > 32 || strings.Trim(topic, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("Topic = %q, want 1-32 base64url characters", topic)
	}
	ps.checkVAPID(r.Header.Get("Authorization"))

	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("read push: %v", err)
	}
	if len(body) > 4096 {
		t.Errorf("push body is %d bytes, push services need accept only 4096", len(body))
	}
	plain, err := decrypt(body, sub.priv, sub.auth)
	if err != nil {
		t.Errorf("decrypt push to %s: %v", token, err)
	}
	var p swPayload
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Errorf("decode payload %q: %v", plain, err)
	}
	ps.mu.Lock()
	ps.got = append(ps.got, received{Token: token, TTL: r.Header.Get("TTL"), Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic"), Payload: p})
	ps.mu.Unlock()

	for k, v := range sub.answer.header {
		w.Header().Set(k, v)
	}
	if sub.answer.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(sub.answer.status)
	_, _ = io.WriteString(w, sub.answer.body)
}

// checkVAPID verifies an RFC 8292 Authorization header: the key is ours,
// the JWT is ES256-signed by it, for this origin, expiring within 24 hours,
// with our contact.
func (ps *pushService) checkVAPID(h string) {
	t := ps.t
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		t.Errorf("Authorization = %q, want the vapid scheme", h)
		return
	}
	params := map[string]string{}
	for p := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[k] = v
	}
	if params["k"] != ps.vapidPub {
		t.Errorf("vapid k = %q, want %q", params["k"], ps.vapidPub)
	}
	raw, err := base64.RawURLEncoding.DecodeString(params["k"])
	if err != nil {
		t.Errorf("vapid k is not unpadded base64url: %v", err)
		return
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		t.Errorf("vapid k is not a P-256 point: %v", err)
		return
	}
	tok, err := jwt.Parse(params["t"], func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(ps.srv.URL), jwt.WithExpirationRequired())
	if err != nil {
		t.Errorf("vapid JWT: %v", err)
		return
	}
	claims := tok.Claims.(jwt.MapClaims)
	if sub, _ := claims.GetSubject(); sub != testSubject {
		t.Errorf("vapid sub = %q, want %q", sub, testSubject)
	}
	exp, _ := claims.GetExpirationTime()
	if exp == nil || exp.After(time.Now().Add(24*time.Hour)) {
		t.Errorf("vapid exp = %v, want at most 24 h ahead", exp)
	}
}

// decrypt opens an aes128gcm push (RFC 8188) keyed as RFC 8291 says, as the
// browser does, and returns the plaintext without its padding.
func decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("keyid is %d bytes, want the 65-byte sender key", idlen)
	}
	asPub, record := body[21:21+idlen], body[21+idlen:]
	if rs < 18 || len(record) > int(rs) {
		return nil, fmt.Errorf("record of %d bytes with rs %d, want one record", len(record), rs)
	}
	as, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, fmt.Errorf("sender key: %w", err)
	}
	secret, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	info := "WebPush: info\x00" + string(ua.PublicKey().Bytes()) + string(asPub)
	ikm, err := hkdf.Key(sha256.New, secret, auth, info, 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, fmt.Errorf("open record: %w", err)
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:i], nil
}

func newTestSender(t *testing.T, mod func(*Config)) (*Sender, *pushService) {
	t.Helper()
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	// The fake push service listens on loopback.
	c := Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: testSubject, AllowHTTP: true, AllowPrivate: true}
	if mod != nil {
		mod(&c)
	}
	s, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, newPushService(t, pub)
}

var testEnvelope = channel.Envelope{WorkspaceID: "ws1", NotificationID: "n1", RecipientKey: "u1", UserID: "u1"}

func testMessage(devices ...notify.Device) channel.WebPushMessage {
	return channel.WebPushMessage{
		Envelope: testEnvelope,
		Devices:  devices,
		Title:    "Your bill is ready",
		Body:     "Hi Ana, you saved 10% — ¡olé!",
		Route:    "billing/2026-05",
		Icon:     "https://cdn.example.com/icon.png",
		Image:    "https://cdn.example.com/hero.jpg",
		Buttons:  []notify.Button{{ID: "pay", Label: "Pay now", Route: "billing/pay"}, {ID: "later", Label: "Later"}},
	}
}

var wantPayload = swPayload{
	Title:          "Your bill is ready",
	Body:           "Hi Ana, you saved 10% — ¡olé!",
	Route:          "billing/2026-05",
	Icon:           "https://cdn.example.com/icon.png",
	Image:          "https://cdn.example.com/hero.jpg",
	Actions:        []swAction{{Action: "pay", Title: "Pay now", Route: "billing/pay"}, {Action: "later", Title: "Later"}},
	NotificationID: "n1",
}

func TestSendDeliversEncryptedSignedPush(t *testing.T) {
	tests := []struct {
		name        string
		ttl         time.Duration
		opts        SendOptions
		wantTTL     string
		wantUrgency string
	}{
		{name: "defaults", wantTTL: "86400", wantUrgency: "normal"},
		{name: "urgent with ttl", ttl: 90 * time.Second, opts: SendOptions{Urgent: true}, wantTTL: "90", wantUrgency: "high"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := newTestSender(t, func(c *Config) { c.TTL = tt.ttl })
			d1 := ps.subscribe(t, "d1", accepted(ps.srv.URL+"/m/msg-1"))
			d2 := ps.subscribe(t, "d2", accepted(""))
			fcm := notify.Device{ID: "d3", Kind: notify.DeviceFCM, Token: "fcm-token"}

			res, err := s.Send(context.Background(), testMessage(d1, fcm, d2), tt.opts)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := SendResult{
				Receipt: channel.Receipt{ProviderMessageID: ps.srv.URL + "/m/msg-1"},
				Devices: []DeviceResult{{DeviceID: "d1", ProviderMessageID: ps.srv.URL + "/m/msg-1"}, {DeviceID: "d2"}},
			}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("Send result (-want +got):\n%s", diff)
			}
			got := ps.received()
			if len(got) != 2 {
				t.Fatalf("push service received %d pushes, want 2", len(got))
			}
			_, topic := envelopeIDs(testEnvelope)
			for _, r := range got {
				if r.TTL != tt.wantTTL || r.Urgency != tt.wantUrgency || r.Topic != topic {
					t.Errorf("push to %s: TTL %q, Urgency %q, Topic %q; want %q, %q, %q", r.Token, r.TTL, r.Urgency, r.Topic, tt.wantTTL, tt.wantUrgency, topic)
				}
				if diff := cmp.Diff(wantPayload, r.Payload); diff != "" {
					t.Errorf("payload to %s (-want +got):\n%s", r.Token, diff)
				}
			}
		})
	}
}

func TestSendWebPushClassifiesAnswers(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	id, _ := envelopeIDs(testEnvelope)
	tests := []struct {
		name           string
		answer         answer
		wantID         string
		wantCode       string // "" with wantErr: transient
		wantErr        bool
		wantRetryAfter time.Duration
		wantGone       []string
	}{
		{name: "201 with Location", answer: accepted("https://push.example/m/abc"), wantID: "https://push.example/m/abc"},
		{name: "201 without Location", answer: accepted(""), wantID: id},
		{name: "202", answer: answer{status: http.StatusAccepted}, wantID: id},
		{name: "404", answer: autopushError(404, 102, nil), wantErr: true, wantCode: CodeSubscriptionGone, wantGone: []string{"d1"}},
		{name: "410", answer: autopushError(410, 106, nil), wantErr: true, wantCode: CodeSubscriptionGone, wantGone: []string{"d1"}},
		{name: "413", answer: autopushError(413, 104, nil), wantErr: true, wantCode: CodePayloadTooLarge},
		{name: "400", answer: autopushError(400, 110, nil), wantErr: true, wantCode: CodeInvalidRequest},
		{name: "401", answer: autopushError(401, 109, nil), wantErr: true, wantCode: CodeVAPIDRejected},
		{name: "403", answer: answer{status: 403, body: "invalid JWT provided"}, wantErr: true, wantCode: CodeVAPIDRejected},
		{name: "other 4xx", answer: answer{status: http.StatusUnsupportedMediaType}, wantErr: true, wantCode: CodeInvalidRequest},
		{name: "429 seconds", answer: autopushError(429, 0, map[string]string{"Retry-After": "30"}), wantErr: true, wantRetryAfter: 30 * time.Second},
		{name: "429 date", answer: autopushError(429, 0, map[string]string{"Retry-After": now.Add(2 * time.Minute).Format(http.TimeFormat)}), wantErr: true, wantRetryAfter: 2 * time.Minute},
		{name: "429 bare", answer: autopushError(429, 0, nil), wantErr: true},
		{name: "406 wns throttle", answer: answer{status: http.StatusNotAcceptable}, wantErr: true},
		{name: "500", answer: autopushError(500, 999, nil), wantErr: true},
		{name: "503 retry-after", answer: autopushError(503, 201, map[string]string{"Retry-After": "120"}), wantErr: true, wantRetryAfter: 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := newTestSender(t, func(c *Config) { c.Now = func() time.Time { return now } })
			rc, err := s.SendWebPush(context.Background(), testMessage(ps.subscribe(t, "d1", tt.answer)))
			if len(ps.received()) != 1 {
				t.Errorf("push service received %d pushes, want 1", len(ps.received()))
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("SendWebPush error = %v, want error %t", err, tt.wantErr)
			}
			if diff := cmp.Diff(channel.Receipt{ProviderMessageID: tt.wantID}, rc); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			code, perm := channel.IsPermanent(err)
			if code != tt.wantCode || (tt.wantErr && perm != (tt.wantCode != "")) {
				t.Errorf("IsPermanent(%v) = %q, %t; want %q", err, code, perm, tt.wantCode)
			}
			wait, ok := RetryAfter(err)
			if wait != tt.wantRetryAfter || ok != (tt.wantRetryAfter > 0) {
				t.Errorf("RetryAfter(%v) = %s, %t; want %s", err, wait, ok, tt.wantRetryAfter)
			}
			if diff := cmp.Diff(tt.wantGone, GoneDevices(err)); diff != "" {
				t.Errorf("GoneDevices (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSendSeveralSubscriptions(t *testing.T) {
	tests := []struct {
		name     string
		answers  []answer
		wantErr  bool
		wantCode string
		wantGone []string
	}{
		{name: "one accepted one gone", answers: []answer{autopushError(410, 106, nil), accepted("")}, wantGone: []string{"d1"}},
		{name: "all gone", answers: []answer{autopushError(410, 106, nil), autopushError(404, 102, nil)}, wantErr: true, wantCode: CodeSubscriptionGone, wantGone: []string{"d1", "d2"}},
		{name: "gone and throttled", answers: []answer{autopushError(410, 106, nil), autopushError(503, 201, nil)}, wantErr: true, wantGone: []string{"d1"}},
		{name: "gone and vapid", answers: []answer{autopushError(404, 102, nil), autopushError(401, 109, nil)}, wantErr: true, wantCode: CodeVAPIDRejected, wantGone: []string{"d1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := newTestSender(t, nil)
			var devices []notify.Device
			for i, a := range tt.answers {
				devices = append(devices, ps.subscribe(t, "d"+strconv.Itoa(i+1), a))
			}
			res, err := s.Send(context.Background(), testMessage(devices...), SendOptions{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send error = %v, want error %t", err, tt.wantErr)
			}
			if code, _ := channel.IsPermanent(err); code != tt.wantCode {
				t.Errorf("IsPermanent(%v) = %q, want %q", err, code, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantGone, res.Gone()); diff != "" {
				t.Errorf("SendResult.Gone (-want +got):\n%s", diff)
			}
			if err != nil {
				if diff := cmp.Diff(tt.wantGone, GoneDevices(err)); diff != "" {
					t.Errorf("GoneDevices (-want +got):\n%s", diff)
				}
			}
			if got := len(ps.received()); got != len(tt.answers) {
				t.Errorf("push service received %d pushes, want %d", got, len(tt.answers))
			}
		})
	}
}

func TestSendWebPushRejectsBeforeSending(t *testing.T) {
	s, ps := newTestSender(t, nil)
	strict, _ := newTestSender(t, func(c *Config) { c.AllowHTTP = false })
	good := ps.subscribe(t, "d1", accepted(""))
	withKeys := func(p256dh, auth string) notify.Device {
		d := good
		sub := *good.Subscription
		sub.Keys.P256dh, sub.Keys.Auth = p256dh, auth
		d.Subscription = &sub
		return d
	}
	tooLong := testMessage(good)
	tooLong.Body = strings.Repeat("é", 2000)

	tests := []struct {
		name     string
		sender   *Sender
		msg      channel.WebPushMessage
		wantCode string
	}{
		{name: "no devices", sender: s, msg: testMessage(), wantCode: notify.ReasonNoDevice},
		{name: "only mobile devices", sender: s, msg: testMessage(notify.Device{ID: "m", Kind: notify.DeviceAPNs, Token: "apns"}), wantCode: notify.ReasonNoDevice},
		{name: "p256dh not a point", sender: s, msg: testMessage(withKeys(base64.RawURLEncoding.EncodeToString(make([]byte, 65)), good.Subscription.Keys.Auth)), wantCode: CodeInvalidSubscription},
		{name: "p256dh not base64", sender: s, msg: testMessage(withKeys("%%%", good.Subscription.Keys.Auth)), wantCode: CodeInvalidSubscription},
		{name: "short auth", sender: s, msg: testMessage(withKeys(good.Subscription.Keys.P256dh, "AAAA")), wantCode: CodeInvalidSubscription},
		{name: "http endpoint not allowed", sender: strict, msg: testMessage(good), wantCode: CodeInvalidSubscription},
		{name: "payload too large", sender: s, msg: tooLong, wantCode: CodePayloadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sender.SendWebPush(context.Background(), tt.msg)
			if code, ok := channel.IsPermanent(err); !ok || code != tt.wantCode {
				t.Errorf("SendWebPush error = %v, want permanent %q", err, tt.wantCode)
			}
		})
	}
	if got := len(ps.received()); got != 0 {
		t.Errorf("push service received %d pushes, want none", got)
	}
}

func TestSendWebPushNetworkErrorsAreTransientAndRedacted(t *testing.T) {
	s, ps := newTestSender(t, nil)
	d := ps.subscribe(t, "d1", accepted(""))
	token := strings.TrimPrefix(d.Subscription.Endpoint, ps.srv.URL+"/wpush/v2/")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.SendWebPush(ctx, testMessage(d))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("SendWebPush(canceled) = %v, want context.Canceled", err)
	}

	ps.srv.Close()
	_, err = s.SendWebPush(context.Background(), testMessage(d))
	if err == nil {
		t.Fatal("SendWebPush to a closed push service succeeded")
	}
	if code, ok := channel.IsPermanent(err); ok {
		t.Errorf("IsPermanent(%v) = %q, want transient", err, code)
	}
	if msg := err.Error(); strings.Contains(msg, token) || strings.Contains(msg, "Ana") {
		t.Errorf("error %q quotes the subscription token or the message", msg)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	std := func(s string) string {
		b, _ := base64.RawURLEncoding.DecodeString(s)
		return base64.StdEncoding.EncodeToString(b)
	}
	tests := []struct {
		name    string
		c       Config
		wantErr bool
	}{
		{name: "mailto", c: Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: "mailto:ops@example.com"}},
		{name: "https subject", c: Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: "https://herald.example.com"}},
		{name: "standard base64 keys", c: Config{VAPIDPublicKey: std(pub), VAPIDPrivateKey: std(priv), Subject: testSubject}},
		{name: "bare email subject", c: Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: "ops@example.com"}, wantErr: true},
		{name: "http subject", c: Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: "http://herald.example.com"}, wantErr: true},
		{name: "keys not a pair", c: Config{VAPIDPublicKey: otherPub, VAPIDPrivateKey: priv, Subject: testSubject}, wantErr: true},
		{name: "keys swapped", c: Config{VAPIDPublicKey: priv, VAPIDPrivateKey: pub, Subject: testSubject}, wantErr: true},
		{name: "no private key", c: Config{VAPIDPublicKey: pub, Subject: testSubject}, wantErr: true},
		{name: "negative ttl", c: Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: testSubject, TTL: -time.Second}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New error = %v, want error %t", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), priv) {
				t.Errorf("New error %q quotes the private key", err)
			}
		})
	}
}

func TestSendStandardBase64KeysReachThePushService(t *testing.T) {
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{VAPIDPublicKey: pub + "=", VAPIDPrivateKey: priv, Subject: testSubject, AllowHTTP: true, AllowPrivate: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ps := newPushService(t, pub)
	d := ps.subscribe(t, "d1", accepted(""))
	raw, _ := base64.RawURLEncoding.DecodeString(d.Subscription.Keys.P256dh)
	d.Subscription.Keys.P256dh = base64.StdEncoding.EncodeToString(raw)
	if _, err := s.SendWebPush(context.Background(), testMessage(d)); err != nil {
		t.Fatalf("SendWebPush: %v", err)
	}
	if got := ps.received(); len(got) != 1 || got[0].Payload.Title != wantPayload.Title {
		t.Errorf("push service received %+v, want the message", got)
	}
}

// TestSendWebPushRefusesPrivateEndpoints: a subscription whose endpoint
// names a non-public address (as an API key can register one) is a
// permanent invalid_subscription, and nothing reaches the address: not
// when the address is written in the endpoint, not when a name resolves
// to it, and not through the default client's dialer.
func TestSendWebPushRefusesPrivateEndpoints(t *testing.T) {
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	ps := newPushService(t, pub)
	good := ps.subscribe(t, "d1", accepted(""))
	token := strings.TrimPrefix(good.Subscription.Endpoint, ps.srv.URL)
	port := ps.srv.URL[strings.LastIndex(ps.srv.URL, ":"):]
	at := func(endpoint string) notify.Device {
		d := good
		sub := *good.Subscription
		sub.Endpoint = endpoint
		d.Subscription = &sub
		return d
	}
	s, err := New(Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: testSubject, AllowHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, endpoint := range []string{
		ps.srv.URL + token,
		"http://localhost" + port + token,
		"http://[::1]" + port + token,
		"http://[::ffff:127.0.0.1]" + port + token,
		"http://2130706433" + port + token,
		"http://127.1" + port + token,
		"https://169.254.169.254/latest/meta-data/iam/security-credentials/",
		"https://metadata.google.internal/computeMetadata/v1/",
		"https://user:pass@fcm.googleapis.com/fcm/send/x",
		"https://fcm.googleapis.com/" + strings.Repeat("x", maxEndpoint),
	} {
		_, err := s.SendWebPush(context.Background(), testMessage(at(endpoint)))
		if code, ok := channel.IsPermanent(err); !ok || code != CodeInvalidSubscription {
			t.Errorf("SendWebPush to %.60s = %v, want permanent %s", endpoint, err, CodeInvalidSubscription)
		}
		if err != nil && strings.Contains(err.Error(), token) {
			t.Errorf("error %q quotes the subscription token", err)
		}
	}

	// A name that passes the endpoint check but resolves to loopback: the
	// dialer refuses the address DNS gave.
	dialer := &net.Dialer{Control: egress.Control}
	resolvesToLoopback := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, ps.srv.Listener.Addr().String())
	}}}
	rebound, err := New(Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: testSubject, AllowHTTP: true, HTTPClient: resolvesToLoopback})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rebound.SendWebPush(context.Background(), testMessage(at("http://push.example.com"+token)))
	if code, ok := channel.IsPermanent(err); !ok || code != CodeInvalidSubscription || !errors.Is(err, egress.ErrNotPublic) {
		t.Errorf("SendWebPush to a name resolving to loopback = %v, want permanent %s wrapping egress.ErrNotPublic", err, CodeInvalidSubscription)
	}
	if err != nil && strings.Contains(err.Error(), token) {
		t.Errorf("error %q quotes the subscription token", err)
	}

	// The default client dials through the egress rule.
	tr, ok := s.client.Transport.(*http.Transport)
	if !ok || tr.DialContext == nil {
		t.Fatalf("default client transport = %T, want an *http.Transport with a guarded dialer", s.client.Transport)
	}
	if c, err := tr.DialContext(context.Background(), "tcp", ps.srv.Listener.Addr().String()); !errors.Is(err, egress.ErrNotPublic) {
		if c != nil {
			c.Close()
		}
		t.Errorf("default client dial to %s = %v, want egress.ErrNotPublic", ps.srv.Listener.Addr(), err)
	}
	if got := len(ps.received()); got != 0 {
		t.Errorf("push service received %d pushes, want none", got)
	}
}

// TestNewSizesTheDefaultClient: with Connections, the default client keeps
// an idle connection per push in flight to a push service, so that pushes
// reuse connections instead of opening one (and a TLS session) each.
func TestNewSizesTheDefaultClient(t *testing.T) {
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	for _, private := range []bool{false, true} {
		s, err := New(Config{VAPIDPublicKey: pub, VAPIDPrivateKey: priv, Subject: testSubject, AllowPrivate: private, Connections: 128})
		if err != nil {
			t.Fatal(err)
		}
		tr, ok := s.client.Transport.(*http.Transport)
		if !ok {
			t.Fatalf("AllowPrivate %t: default client transport = %T, want an *http.Transport", private, s.client.Transport)
		}
		if tr.MaxIdleConnsPerHost != 128 || tr.MaxIdleConns < 128 || tr.MaxConnsPerHost != 128 {
			t.Errorf("AllowPrivate %t: transport keeps %d idle connections per host (%d in all), opens at most %d; want 128, ≥ 128, 128",
				private, tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tr.MaxConnsPerHost)
		}
		if private && tr == http.DefaultTransport {
			t.Error("AllowPrivate: the sender changed http.DefaultTransport itself")
		}
	}
}

// TestVAPIDHeaderIsReusedPerPushService: the signed header is made once
// per push service and reused for an hour, then signed anew.
func TestVAPIDHeaderIsReusedPerPushService(t *testing.T) {
	pub, priv, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	p, d, err := vapidKeys(pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := newVAPID(p, d, "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	v.now = func() time.Time { return at }
	a1, _ := v.header("https://fcm.googleapis.com")
	a2, _ := v.header("https://fcm.googleapis.com")
	b1, _ := v.header("https://updates.push.services.mozilla.com")
	if a1 != a2 {
		t.Error("the header for one push service was signed again within the hour")
	}
	if a1 == b1 {
		t.Error("two push services got the same header")
	}
	at = at.Add(vapidReuse + time.Second)
	if a3, _ := v.header("https://fcm.googleapis.com"); a3 == a1 {
		t.Error("the header was reused past the hour")
	}
	for _, h := range []string{a1, b1} {
		if !strings.HasPrefix(h, "vapid t=") || !strings.HasSuffix(h, ", k="+pub) {
			t.Errorf("header %q, want vapid t=<jwt>, k=<our key>", h)
		}
	}
}
