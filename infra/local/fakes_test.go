package main

// Fakes of the providers Herald talks to, for tests that run the local
// server in process against them: SNS (query API), SES v2 (REST JSON), a
// Web Push service (RFC 8030/8291/8292), WhatsApp's Graph API, and SNS
// itself as the signer of HTTPS notifications. Each records what it got,
// checks what a real provider would refuse, and answers in the provider's
// own response shapes.

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ---- SNS ----

// snsEndpointAttrs is one platform endpoint the fake SNS keeps.
type snsEndpointAttrs struct {
	App            string
	Token          string
	CustomUserData string
	Enabled        string
}

// snsPublished is one Publish the fake SNS accepted.
type snsPublished struct {
	TargetArn, PhoneNumber    string
	Message, MessageStructure string
	Attributes                map[string]string // name → "DataType:StringValue"
	MessageID                 string
}

// fakeSNS is the SNS query API (form-encoded POSTs, XML answers) for the
// actions Herald uses: platform endpoints and Publish.
type fakeSNS struct {
	t         *testing.T
	srv       *httptest.Server
	mu        sync.Mutex
	actions   []string // "Action TargetOrEndpointArn" in order
	endpoints map[string]*snsEndpointAttrs
	published []snsPublished
	seq       int
}

func newFakeSNS(t *testing.T) *fakeSNS {
	f := &fakeSNS{t: t, endpoints: map[string]*snsEndpointAttrs{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

const snsNS = `xmlns="http://sns.amazonaws.com/doc/2010-03-31/"`

func (f *fakeSNS) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		t.Errorf("sns: request %s %s, want POST /", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("sns: Content-Type = %q", got)
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(got, "/eu-west-1/sns/aws4_request") {
		t.Errorf("sns: Authorization = %q, want SigV4 by AKIDTEST for sns in eu-west-1", got)
	}
	body, _ := io.ReadAll(r.Body)
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Errorf("sns: form %q: %v", body, err)
	}
	if v := form.Get("Version"); v != "2010-03-31" {
		t.Errorf("sns: Version = %q", v)
	}
	status, answer := f.handle(form)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", "9dd01905-5012-5f99-8663-4b3ecd0dfaef")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (f *fakeSNS) handle(form url.Values) (int, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	action := form.Get("Action")
	arn := form.Get("EndpointArn")
	if action == "Publish" {
		arn = form.Get("TargetArn")
	}
	f.actions = append(f.actions, strings.TrimSpace(action+" "+arn))
	ok := func(result string) (int, string) {
		return 200, `<` + action + `Response ` + snsNS + `>` + result + `
  <ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata>
</` + action + `Response>`
	}
	switch action {
	case "CreatePlatformEndpoint":
		app, token, cud := form.Get("PlatformApplicationArn"), form.Get("Token"), form.Get("CustomUserData")
		for have, e := range f.endpoints {
			if e.App == app && e.Token == token {
				if e.CustomUserData != cud {
					return snsErrorXML(400, "Sender", "InvalidParameter",
						"Invalid parameter: Token Reason: Endpoint "+have+" already exists with the same Token, but different attributes.")
				}
				return ok("<CreatePlatformEndpointResult><EndpointArn>" + have + "</EndpointArn></CreatePlatformEndpointResult>")
			}
		}
		i := strings.Index(app, ":app/")
		if i < 0 {
			return snsErrorXML(404, "Sender", "NotFound", "PlatformApplication does not exist")
		}
		f.seq++
		arn := fmt.Sprintf("%s:endpoint/%s/%08x-7f1e-3c5e-a2b8-%012d", app[:i], app[i+len(":app/"):], f.seq, f.seq)
		f.endpoints[arn] = &snsEndpointAttrs{App: app, Token: token, CustomUserData: cud, Enabled: "true"}
		return ok("<CreatePlatformEndpointResult><EndpointArn>" + arn + "</EndpointArn></CreatePlatformEndpointResult>")
	case "SetEndpointAttributes":
		e := f.endpoints[arn]
		if e == nil {
			return snsErrorXML(404, "Sender", "NotFound", "Endpoint does not exist")
		}
		for k, v := range formMap(form, "Attributes.entry.%d.", "key", "value") {
			switch k {
			case "Token":
				e.Token = v
			case "CustomUserData":
				e.CustomUserData = v
			case "Enabled":
				e.Enabled = v
			}
		}
		return ok("")
	case "GetEndpointAttributes":
		e := f.endpoints[arn]
		if e == nil {
			return snsErrorXML(404, "Sender", "NotFound", "Endpoint does not exist")
		}
		attrs := map[string]string{"Token": e.Token, "Enabled": e.Enabled}
		if e.CustomUserData != "" {
			attrs["CustomUserData"] = e.CustomUserData
		}
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			b.WriteString("<entry><key>")
			_ = xml.EscapeText(&b, []byte(k))
			b.WriteString("</key><value>")
			_ = xml.EscapeText(&b, []byte(attrs[k]))
			b.WriteString("</value></entry>")
		}
		return ok("<GetEndpointAttributesResult><Attributes>" + b.String() + "</Attributes></GetEndpointAttributesResult>")
	case "DeleteEndpoint":
		delete(f.endpoints, arn) // idempotent, as SNS is
		return ok("")
	case "Publish":
		p := snsPublished{TargetArn: form.Get("TargetArn"), PhoneNumber: form.Get("PhoneNumber"), Message: form.Get("Message"),
			MessageStructure: form.Get("MessageStructure"), Attributes: map[string]string{}}
		for i := 1; ; i++ {
			pre := fmt.Sprintf("MessageAttributes.entry.%d.", i)
			name := form.Get(pre + "Name")
			if name == "" {
				break
			}
			p.Attributes[name] = form.Get(pre+"Value.DataType") + ":" + form.Get(pre+"Value.StringValue")
		}
		if p.TargetArn != "" {
			e := f.endpoints[p.TargetArn]
			if e == nil {
				return snsErrorXML(404, "Sender", "NotFound", "Endpoint does not exist")
			}
			if e.Enabled != "true" {
				return snsErrorXML(400, "Sender", "EndpointDisabled", "Endpoint is disabled")
			}
		}
		f.seq++
		p.MessageID = fmt.Sprintf("5f0c7c1e-%04x-5a0e-9d0b-%012d", f.seq, f.seq)
		f.published = append(f.published, p)
		return ok("<PublishResult><MessageId>" + p.MessageID + "</MessageId></PublishResult>")
	}
	f.t.Errorf("sns: unexpected action %q", action)
	return snsErrorXML(400, "Sender", "InvalidAction", "unknown action")
}

func snsErrorXML(status int, typ, code, msg string) (int, string) {
	var m strings.Builder
	_ = xml.EscapeText(&m, []byte(msg))
	return status, `<ErrorResponse ` + snsNS + `>
  <Error><Type>` + typ + `</Type><Code>` + code + `</Code><Message>` + m.String() + `</Message></Error>
  <RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId>
</ErrorResponse>`
}

// formMap decodes a query-API map: prefix.N.key / prefix.N.value.
func formMap(form url.Values, prefix, key, value string) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		p := fmt.Sprintf(prefix, i)
		k := form.Get(p + key)
		if k == "" {
			return out
		}
		out[k] = form.Get(p + value)
	}
}

func (f *fakeSNS) publishedTo(target string) []snsPublished {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []snsPublished
	for _, p := range f.published {
		if p.TargetArn == target || p.PhoneNumber == target {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeSNS) allPublished() []snsPublished {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.published)
}

func (f *fakeSNS) endpointsSnapshot() map[string]snsEndpointAttrs {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]snsEndpointAttrs{}
	for k, v := range f.endpoints {
		out[k] = *v
	}
	return out
}

func (f *fakeSNS) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.actions)
}

// ---- SES v2 ----

// sesEmail is the part of a SendEmail request the tests read.
type sesEmail struct {
	FromEmailAddress     string
	ConfigurationSetName string
	Destination          struct{ ToAddresses []string }
	Content              struct {
		Simple struct {
			Subject struct{ Data, Charset string }
			Body    struct {
				Text *struct{ Data, Charset string }
				Html *struct{ Data, Charset string }
			}
			Headers []struct{ Name, Value string }
		}
	}
	EmailTags []struct{ Name, Value string }
	MessageID string `json:"-"`
}

func (e sesEmail) tags() map[string]string {
	m := map[string]string{}
	for _, t := range e.EmailTags {
		m[t.Name] = t.Value
	}
	return m
}

func (e sesEmail) header(name string) string {
	for _, h := range e.Content.Simple.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// fakeSES is SES v2's SendEmail.
type fakeSES struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	sent []sesEmail
}

func newFakeSES(t *testing.T) *fakeSES {
	f := &fakeSES{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSES) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
		t.Errorf("ses: request %s %s, want POST /v2/email/outbound-emails", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("ses: Content-Type = %q", got)
	}
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDTEST/") || !strings.Contains(got, "/eu-west-1/ses/aws4_request") {
		t.Errorf("ses: Authorization = %q, want SigV4 by AKIDTEST for ses in eu-west-1", got)
	}
	var e sesEmail
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		t.Errorf("ses: decode SendEmail: %v", err)
	}
	f.mu.Lock()
	e.MessageID = fmt.Sprintf("0100018f3c4d5e6f-1a2b3c4d-5e6f-7a8b-9c0d-%012d-000000", len(f.sent)+1)
	f.sent = append(f.sent, e)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", "5f6a7b8c-0000-4000-8000-000000000000")
	_, _ = fmt.Fprintf(w, `{"MessageId":%q}`, e.MessageID)
}

func (f *fakeSES) emails() []sesEmail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// ---- Web Push ----

// webPushed is one push the fake push service decrypted.
type webPushed struct {
	Token, TTL, Urgency, Topic, Location string
	Audience, Subject                    string // from the VAPID JWT
	Payload                              map[string]any
}

type browser struct {
	priv *ecdh.PrivateKey
	auth []byte
}

// fakePushService is a Web Push service over HTTPS (subscriptions must be
// https): it checks the VAPID Authorization, the encryption headers, and
// decrypts each push with the browser's key, as the browser would.
type fakePushService struct {
	t        *testing.T
	srv      *httptest.Server
	vapidPub string
	mu       sync.Mutex
	browsers map[string]browser
	got      []webPushed
}

func newFakePushService(t *testing.T, vapidPub string) *fakePushService {
	f := &fakePushService{t: t, vapidPub: vapidPub, browsers: map[string]browser{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// subscribe makes a browser subscription: the JSON body of POST
// /v1/users/{id}/devices.
func (f *fakePushService) subscribe(t *testing.T, token string) string {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	f.mu.Lock()
	f.browsers[token] = browser{priv, auth}
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"kind": "webpush", "subscription": map[string]any{
		"endpoint": f.srv.URL + "/wpush/v2/" + token,
		"keys": map[string]string{
			"p256dh": base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
			"auth":   base64.RawURLEncoding.EncodeToString(auth),
		}}})
	return string(b)
}

func (f *fakePushService) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	token, _ := strings.CutPrefix(r.URL.Path, "/wpush/v2/")
	f.mu.Lock()
	b, ok := f.browsers[token]
	f.mu.Unlock()
	if !ok || r.Method != http.MethodPost {
		t.Errorf("web push: %s %s, want POST to a subscription", r.Method, r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	p := webPushed{Token: token, TTL: r.Header.Get("TTL"), Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic")}
	if got := r.Header.Get("Content-Encoding"); got != "aes128gcm" {
		t.Errorf("web push: Content-Encoding = %q, want aes128gcm", got)
	}
	if ttl, err := strconv.Atoi(p.TTL); err != nil || ttl <= 0 {
		t.Errorf("web push: TTL = %q, want positive seconds", p.TTL)
	}
	if p.Urgency != "normal" && p.Urgency != "high" {
		t.Errorf("web push: Urgency = %q", p.Urgency)
	}
	var err error
	if p.Audience, p.Subject, err = f.checkVAPID(r.Header.Get("Authorization")); err != nil {
		t.Errorf("web push: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if len(body) == 0 || len(body) > 4096 {
		t.Errorf("web push: body of %d bytes", len(body))
	}
	plain, err := decryptPush(body, b.priv, b.auth)
	if err != nil {
		t.Errorf("web push: decrypt: %v", err)
	} else if err := json.Unmarshal(plain, &p.Payload); err != nil {
		t.Errorf("web push: payload %q: %v", plain, err)
	}
	f.mu.Lock()
	p.Location = fmt.Sprintf("%s/m/%s-%d", f.srv.URL, token, len(f.got)+1)
	f.got = append(f.got, p)
	f.mu.Unlock()
	w.Header().Set("Location", p.Location)
	w.WriteHeader(http.StatusCreated)
}

// checkVAPID verifies "vapid t=<JWT>, k=<key>" (RFC 8292) and returns the
// JWT's audience and subject.
func (f *fakePushService) checkVAPID(h string) (aud, sub string, err error) {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return "", "", fmt.Errorf("authorization %q: want the vapid scheme", h)
	}
	params := map[string]string{}
	for p := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		params[k] = v
	}
	if params["k"] != f.vapidPub {
		return "", "", fmt.Errorf("vapid k = %q, want the configured public key", params["k"])
	}
	raw, err := base64.RawURLEncoding.DecodeString(params["k"])
	if err != nil {
		return "", "", fmt.Errorf("vapid k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return "", "", fmt.Errorf("vapid k: %w", err)
	}
	tok, err := jwt.Parse(params["t"], func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithExpirationRequired())
	if err != nil {
		return "", "", fmt.Errorf("vapid JWT: %w", err)
	}
	claims := tok.Claims.(jwt.MapClaims)
	auds, _ := claims.GetAudience()
	sub, _ = claims.GetSubject()
	if exp, _ := claims.GetExpirationTime(); exp == nil || exp.After(time.Now().Add(24*time.Hour)) {
		return "", "", fmt.Errorf("vapid exp %v: want at most 24 h ahead", exp)
	}
	return strings.Join(auds, ","), sub, nil
}

func (f *fakePushService) pushes() []webPushed {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// decryptPush opens an aes128gcm push (RFC 8188) keyed as RFC 8291 says.
func decryptPush(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("keyid of %d bytes, want the 65-byte sender key", idlen)
	}
	asPub, record := body[21:21+idlen], body[21+idlen:]
	if rs < 18 || len(record) > int(rs) {
		return nil, fmt.Errorf("record of %d bytes with rs %d", len(record), rs)
	}
	as, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		return nil, err
	}
	secret, err := ua.ECDH(as)
	if err != nil {
		return nil, err
	}
	ikm, err := hkdf.Key(sha256.New, secret, auth, "WebPush: info\x00"+string(ua.PublicKey().Bytes())+string(asPub), 32)
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
		return nil, err
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

// trustTLSServer makes http.DefaultTransport, which the Web Push sender's
// client uses when HERALD_TEST_ALLOW_PRIVATE_ENDPOINTS is on, trust srv's
// certificate besides the system roots, until the test ends. The local mode has no setting for a push service's CA or for
// plain-HTTP push services, and the API accepts only https subscriptions.
func trustTLSServer(t *testing.T, srv *httptest.Server) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pool.AddCert(srv.Certificate())
	old := http.DefaultTransport
	tr := old.(*http.Transport).Clone()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = pool
	http.DefaultTransport = tr
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		http.DefaultTransport = old
	})
}

// ---- WhatsApp Graph API ----

// graphSent is one message the fake Graph API accepted.
type graphSent struct {
	Path, Auth string
	Body       map[string]any
	WAMID      string
}

type fakeGraph struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	sent []graphSent
}

func newFakeGraph(t *testing.T) *fakeGraph {
	f := &fakeGraph{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("graph: decode: %v", err)
		}
		to, _ := body["to"].(string)
		f.mu.Lock()
		wamid := fmt.Sprintf("wamid.HBgL%sFQIAERgS%04d", strings.TrimPrefix(to, "+"), len(f.sent)+1)
		f.sent = append(f.sent, graphSent{Path: r.URL.Path, Auth: r.Header.Get("Authorization"), Body: body, WAMID: wamid})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":%q}]}`,
			to, strings.TrimPrefix(to, "+"), wamid)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) messages() []graphSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// metaSignature is X-Hub-Signature-256 of body under secret.
func metaSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ---- SNS as a signer of HTTPS notifications ----

// snsCertURL looks like SNS's: the webhooks refuse any other host.
const snsCertURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"

// snsSigner plays SNS: a key and the self-signed certificate that
// HERALD_SNS_TEST_CERT names.
type snsSigner struct {
	key *rsa.PrivateKey
	pem []byte
	seq int
}

func newSNSSigner(t *testing.T) *snsSigner {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &snsSigner{key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// notification is an SNS Notification of topic carrying message, signed
// (SignatureVersion 2) as SNS signs HTTPS deliveries.
func (s *snsSigner) notification(t *testing.T, topic, message string) []byte {
	s.seq++
	m := map[string]string{
		"Type":           "Notification",
		"MessageId":      fmt.Sprintf("22b80b92-fdea-4c2c-8f9d-%012d", s.seq),
		"TopicArn":       topic,
		"Message":        message,
		"Timestamp":      time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic + ":c9135db0",
	}
	var b strings.Builder
	for _, n := range []string{"Message", "MessageId", "Timestamp", "TopicArn", "Type"} {
		b.WriteString(n + "\n" + m[n] + "\n")
	}
	d := sha256.Sum256([]byte(b.String()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	m["SignatureVersion"], m["SigningCertURL"], m["Signature"] = "2", snsCertURL, base64.StdEncoding.EncodeToString(sig)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
