package webhook

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/heraldhq/herald/shared/boltstore"
	"github.com/heraldhq/herald/shared/notify"
	"github.com/heraldhq/herald/shared/ses"
)

const (
	certURL  = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"
	topicARN = "arn:aws:sns:eu-west-1:123456789012:herald-ses-events"
)

var snsNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// signer plays SNS: it holds a key and the self-signed certificate that
// SigningCertURL serves.
type signer struct {
	key *rsa.PrivateKey
	pem []byte
}

func newSigner(t *testing.T) signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    snsNow.Add(-24 * time.Hour),
		NotAfter:     snsNow.Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return signer{key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// sign sets SignatureVersion, SigningCertURL and Signature on m, signing
// the fields AWS lists for m's Type, in their order, absent ones left out,
// and returns m.
func (s signer) sign(t *testing.T, m map[string]string, version string) map[string]string {
	t.Helper()
	names := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var b strings.Builder
	for _, n := range names {
		if v, ok := m[n]; ok {
			b.WriteString(n + "\n" + v + "\n")
		}
	}
	var sig []byte
	var err error
	if version == "1" {
		d := sha1.Sum([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, d[:])
	} else {
		d := sha256.Sum256([]byte(b.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m["SignatureVersion"] = version
	if _, ok := m["SigningCertURL"]; !ok {
		m["SigningCertURL"] = certURL
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	return m
}

// notification is an SNS Notification carrying message, as SNS posts it
// to an HTTPS subscription (unsigned).
func notification(message string) map[string]string {
	return map[string]string{
		"Type":           "Notification",
		"MessageId":      "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn":       topicARN,
		"Message":        message,
		"Timestamp":      snsNow.Add(-time.Minute).Format("2006-01-02T15:04:05.000Z"),
		"UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topicARN + ":c9135db0",
	}
}

// heraldTags are the tags ses.Sender puts on an email, as SES repeats them
// next to its own.
func heraldTags(ws, nid, user string) map[string][]string {
	tags := map[string][]string{
		"ses:configuration-set": {"herald"},
		"ses:source-ip":         {"192.0.2.0"},
		"ses:from-domain":       {"example.com"},
		"ses:caller-identity":   {"herald-dispatch"},
		ses.TagWorkspace:        {ses.TagValue(ws)},
		ses.TagNotification:     {ses.TagValue(nid)},
	}
	if user != "" {
		tags[ses.TagUser] = []string{ses.TagValue(user)}
	}
	return tags
}

// sesEventJSON is an SES event record as event publishing sends it to SNS
// (the shapes of "Examples of event data that Amazon SES publishes to
// Amazon SNS"); typeField is "eventType", or "notificationType" for the
// older feedback notifications.
func sesEventJSON(t *testing.T, typeField, kind, to string, tags map[string][]string, detail map[string]any) string {
	t.Helper()
	e := map[string]any{
		typeField: kind,
		"mail": map[string]any{
			"timestamp":        "2026-11-21T09:58:02.012Z",
			"source":           "Herald <notify@example.com>",
			"sourceArn":        "arn:aws:ses:eu-west-1:123456789012:identity/example.com",
			"sendingAccountId": "123456789012",
			"messageId":        "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
			"destination":      []string{to},
			"headersTruncated": false,
			"headers": []any{
				map[string]string{"name": "From", "value": "Herald <notify@example.com>"},
				map[string]string{"name": "To", "value": to},
				map[string]string{"name": "Subject", "value": "Your order shipped"},
			},
			"commonHeaders": map[string]any{"from": []string{"Herald <notify@example.com>"}, "to": []string{to}, "subject": "Your order shipped"},
			"tags":          tags,
		},
	}
	for k, v := range detail {
		e[k] = v
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func deliveryDetail() map[string]any {
	return map[string]any{"delivery": map[string]any{
		"timestamp": "2026-11-21T09:58:04.133Z", "processingTimeMillis": 2121, "recipients": []string{"x"},
		"smtpResponse": "250 2.6.0 Message received", "reportingMTA": "a8-70.smtp-out.amazonses.com",
	}}
}

func bounceDetail(bounceType, subType string) map[string]any {
	return map[string]any{"bounce": map[string]any{
		"bounceType": bounceType, "bounceSubType": subType,
		"bouncedRecipients": []any{map[string]string{"emailAddress": "x", "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}},
		"timestamp":         "2026-11-21T09:59:02.669Z",
		"feedbackId":        "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
		"reportingMTA":      "dsn; mta.example.com",
	}}
}

func complaintDetail() map[string]any {
	return map[string]any{"complaint": map[string]any{
		"complainedRecipients":  []any{map[string]string{"emailAddress": "x"}},
		"timestamp":             "2026-11-21T09:59:30.000Z",
		"feedbackId":            "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
		"userAgent":             "Mozilla/5.0",
		"complaintFeedbackType": "abuse",
		"arrivalDate":           "2026-11-21T09:59:29.000Z",
	}}
}

// failingStore fails every write, as an unreachable table would.
type failingStore struct{ SESStore }

var errStoreDown = errors.New("store down")

func (failingStore) UpdateDeliveryStatus(context.Context, notify.DeliveryUpdate) (bool, error) {
	return false, errStoreDown
}

func (failingStore) UpdateUser(context.Context, string, string, func(*notify.User) error) (notify.User, error) {
	return notify.User{}, errStoreDown
}

const (
	wsID     = "ws1"
	notifID  = "NE"
	alice    = "cust-42" // tagged as "cust-2D42"
	bob      = "u2"
	rawAddr  = "walk-in@example.com"
	aliceTo  = "alice@example.com"
	bobTo    = "bob@example.com"
	bobToNow = "bob@new.example.com"
)

// seed records an email notification sent to alice, bob and a raw address.
func seed(t *testing.T) *boltstore.Store {
	t.Helper()
	store := openStore(t)
	sent := snsNow.Add(-time.Hour)
	n := notify.Notification{WorkspaceID: wsID, ID: notifID, Channel: notify.ChannelEmail, Status: notify.StatusCompleted,
		Counts: notify.Counts{Total: 3, Sent: 3}, CreatedAt: sent, Content: notify.Template{Body: "x"}}
	var ds []notify.Delivery
	for _, k := range []string{alice, bob, "addr#" + rawAddr} {
		ds = append(ds, notify.Delivery{WorkspaceID: wsID, NotificationID: notifID, Key: k, Channel: notify.ChannelEmail, Status: notify.DeliverySent, CreatedAt: sent, UpdatedAt: sent})
	}
	seedNotification(t, store, n, ds)
	// Bob changed his address after the send.
	for id, email := range map[string]string{alice: aliceTo, bob: bobToNow} {
		if _, err := store.PutUser(context.Background(), notify.User{WorkspaceID: wsID, ID: id, Email: email, CreatedAt: sent, UpdatedAt: sent}); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

// snapshot is what the SES callbacks may change: each delivery as
// "status/reason" and each user's email preference.
func snapshot(t *testing.T, store *boltstore.Store) map[string]string {
	t.Helper()
	return outcomes(t, store, notifID, []string{alice, bob, "addr#" + rawAddr}, notify.ChannelEmail, alice, bob)
}

// untouched is the snapshot of a freshly seeded store, with changes.
func untouched(changes map[string]string) map[string]string {
	return with(map[string]string{
		"delivery " + alice: "sent/", "delivery " + bob: "sent/", "delivery addr#" + rawAddr: "sent/",
		"email " + alice: "true", "email " + bob: "true",
	}, changes)
}

// certsFake serves the test certificate at certURL and counts the calls.
type certsFake struct {
	t     *testing.T
	pem   []byte
	mu    sync.Mutex
	calls int
}

func (f *certsFake) get(_ context.Context, u string) ([]byte, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if u != certURL {
		f.t.Errorf("Certs(%q), want %q", u, certURL)
		return nil, errors.New("no such certificate")
	}
	return f.pem, nil
}

func post(t *testing.T, h http.Handler, m map[string]string) int {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/ses", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
	req.Header.Set("x-amz-sns-message-type", m["Type"])
	req.Header.Set("x-amz-sns-topic-arn", m["TopicArn"])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestSESNotifications(t *testing.T) {
	sns := newSigner(t)
	other := newSigner(t)
	ev := func(kind, to string, tags map[string][]string, detail map[string]any) string {
		return sesEventJSON(t, "eventType", kind, to, tags, detail)
	}
	aliceTags := heraldTags(wsID, notifID, alice)
	signed := func(version, message string) map[string]string {
		return sns.sign(t, notification(message), version)
	}
	delivered := ev("Delivery", aliceTo, aliceTags, deliveryDetail())

	type test struct {
		name      string
		msg       map[string]string
		store     func(*boltstore.Store) SESStore
		topics    []string
		code      int
		certCalls int
		want      map[string]string
	}
	tests := []test{
		{
			name: "delivery, signature version 1",
			msg:  signed("1", delivered),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery " + alice: "delivered/"}),
		},
		{
			name: "delivery, signature version 2",
			msg:  signed("2", delivered),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery " + alice: "delivered/"}),
		},
		{
			name: "delivery with a subject",
			msg: func() map[string]string {
				m := notification(delivered)
				m["Subject"] = "Amazon SES Email Event Notification"
				sns.sign(t, m, "2")
				return m
			}(),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery " + alice: "delivered/"}),
		},
		{
			name: "delivery to a raw address, keyed by the lower-cased destination",
			msg:  signed("2", ev("Delivery", "Walk-In@Example.com", heraldTags(wsID, notifID, ""), deliveryDetail())),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery addr#" + rawAddr: "delivered/"}),
		},
		{
			name: "delivery named by notificationType",
			msg:  signed("2", sesEventJSON(t, "notificationType", "Delivery", aliceTo, aliceTags, deliveryDetail())),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery " + alice: "delivered/"}),
		},
		{
			name: "permanent bounce fails the delivery and turns email off",
			msg:  signed("2", ev("Bounce", aliceTo, aliceTags, bounceDetail("Permanent", "General"))),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery " + alice: "failed/bounce", "email " + alice: "false"}),
		},
		{
			name: "permanent bounce of an address the user no longer has",
			msg:  signed("2", ev("Bounce", bobTo, heraldTags(wsID, notifID, bob), bounceDetail("Permanent", "NoEmail"))),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery " + bob: "failed/bounce"}),
		},
		{
			name: "permanent bounce of a raw address",
			msg:  signed("1", ev("Bounce", rawAddr, heraldTags(wsID, notifID, ""), bounceDetail("Permanent", "General"))),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"delivery addr#" + rawAddr: "failed/bounce"}),
		},
		{
			name: "complaint turns email off and leaves the delivery",
			msg:  signed("2", ev("Complaint", aliceTo, aliceTags, complaintDetail())),
			code: 200, certCalls: 1,
			want: untouched(map[string]string{"email " + alice: "false"}),
		},
		{
			name: "transient bounce changes nothing",
			msg:  signed("2", ev("Bounce", aliceTo, aliceTags, bounceDetail("Transient", "MailboxFull"))),
			code: 200, certCalls: 1,
			want: untouched(nil),
		},
		{
			name: "send event changes nothing",
			msg:  signed("2", ev("Send", aliceTo, aliceTags, map[string]any{"send": map[string]any{}})),
			code: 200, certCalls: 1,
			want: untouched(nil),
		},
		{
			name: "email without Herald's tags",
			msg:  signed("2", ev("Bounce", aliceTo, map[string][]string{"ses:configuration-set": {"other"}}, bounceDetail("Permanent", "General"))),
			code: 200, certCalls: 1,
			want: untouched(nil),
		},
		{
			name: "delivery that does not exist",
			msg:  signed("2", ev("Delivery", aliceTo, heraldTags(wsID, "NX", alice), deliveryDetail())),
			code: 200, certCalls: 1,
			want: untouched(nil),
		},
		{
			name: "bounce of a user that does not exist",
			msg:  signed("2", ev("Bounce", aliceTo, heraldTags(wsID, notifID, "ghost"), bounceDetail("Permanent", "General"))),
			code: 200, certCalls: 1,
			want: untouched(nil),
		},
		{
			name:  "store failure asks SNS to retry",
			msg:   signed("2", delivered),
			store: func(s *boltstore.Store) SESStore { return failingStore{s} },
			code:  500, certCalls: 1,
			want: untouched(nil),
		},
		{
			name:   "topic on the list",
			msg:    signed("2", delivered),
			topics: []string{topicARN},
			code:   200, certCalls: 1,
			want: untouched(map[string]string{"delivery " + alice: "delivered/"}),
		},
		{
			name:   "topic not on the list",
			msg:    signed("2", delivered),
			topics: []string{"arn:aws:sns:eu-west-1:123456789012:other"},
			code:   403, certCalls: 0, // refused before any fetch
			want: untouched(nil),
		},
		{
			name: "forged signature",
			msg: func() map[string]string {
				m := notification(delivered)
				other.sign(t, m, "2")
				return m
			}(),
			code: 401, certCalls: 1,
			want: untouched(nil),
		},
		{
			name: "tampered message",
			msg: func() map[string]string {
				m := signed("2", ev("Delivery", aliceTo, heraldTags(wsID, notifID, bob), deliveryDetail()))
				m["Message"] = strings.Replace(m["Message"], ses.TagValue(bob), ses.TagValue(alice), 1)
				return m
			}(),
			code: 401, certCalls: 1,
			want: untouched(nil),
		},
		{
			name: "subject added after signing",
			msg: func() map[string]string {
				m := signed("2", delivered)
				m["Subject"] = "hi"
				return m
			}(),
			code: 401, certCalls: 1,
			want: untouched(nil),
		},
		{
			name: "missing signature",
			msg: func() map[string]string {
				m := signed("2", delivered)
				delete(m, "Signature")
				return m
			}(),
			code: 401,
			want: untouched(nil),
		},
		{
			name: "unknown signature version",
			msg: func() map[string]string {
				m := signed("2", delivered)
				m["SignatureVersion"] = "3"
				return m
			}(),
			code: 401,
			want: untouched(nil),
		},
		{
			name: "older than an hour",
			msg: func() map[string]string {
				m := notification(delivered)
				m["Timestamp"] = snsNow.Add(-61 * time.Minute).Format("2006-01-02T15:04:05.000Z")
				sns.sign(t, m, "2")
				return m
			}(),
			code: 401, certCalls: 1,
			want: untouched(nil),
		},
	}
	for _, u := range []string{
		"https://evil.example.com/x.pem",
		"http://sns.eu-west-1.amazonaws.com/x.pem",
		"https://sns.eu-west-1.amazonaws.com.evil.example.com/x.pem",
		"https://sns.eu-west-1.amazonaws.com@evil.example.com/x.pem",
		"https://sns.eu-west-1.amazonaws.com:8443/x.pem",
		"https://sns.eu-west-1.amazonaws.com/x.crt",
		"",
	} {
		m := notification(delivered)
		m["SigningCertURL"] = u
		tests = append(tests, test{name: "certificate at " + u, msg: sns.sign(t, m, "2"), code: 401, want: untouched(nil)})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := seed(t)
			certs := &certsFake{t: t, pem: sns.pem}
			h := &SES{Store: store, Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow },
				TopicARNs: tt.topics,
				Confirm: func(context.Context, string) error {
					t.Error("Confirm called for a notification")
					return nil
				}}}
			if tt.store != nil {
				h.Store = tt.store(store)
			}
			if got := post(t, h, tt.msg); got != tt.code {
				t.Errorf("POST = %d, want %d", got, tt.code)
			}
			if certs.calls != tt.certCalls {
				t.Errorf("Certs called %d times, want %d", certs.calls, tt.certCalls)
			}
			if diff := cmp.Diff(tt.want, snapshot(t, store)); diff != "" {
				t.Errorf("store (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSESDeliveryCounts(t *testing.T) {
	sns := newSigner(t)
	store := seed(t)
	certs := &certsFake{t: t, pem: sns.pem}
	h := &SES{Store: store, Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }}}
	for _, msg := range []string{
		sesEventJSON(t, "eventType", "Delivery", aliceTo, heraldTags(wsID, notifID, alice), deliveryDetail()),
		sesEventJSON(t, "eventType", "Delivery", aliceTo, heraldTags(wsID, notifID, alice), deliveryDetail()), // SNS delivers twice
		sesEventJSON(t, "eventType", "Bounce", bobTo, heraldTags(wsID, notifID, bob), bounceDetail("Permanent", "General")),
	} {
		if got := post(t, h, sns.sign(t, notification(msg), "2")); got != 200 {
			t.Fatalf("POST = %d, want 200", got)
		}
	}
	n, err := store.GetNotification(context.Background(), wsID, notifID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(notify.Counts{Total: 3, Sent: 1, Delivered: 1, Failed: 1}, n.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	ds, err := store.GetDeliveries(context.Background(), wsID, notifID, []string{alice})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ds[alice].UpdatedAt, time.Date(2026, 11, 21, 9, 58, 4, 133e6, time.UTC); !got.Equal(want) {
		t.Errorf("delivered at %v, want the event's %v", got, want)
	}
}

func TestSESSubscription(t *testing.T) {
	sns := newSigner(t)
	const subscribeURL = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=2336412f37fb687f5d51e6e2425c464de257ef"
	message := func(typ, subscribeURL string) map[string]string {
		return map[string]string{
			"Type":         typ,
			"MessageId":    "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
			"Token":        "2336412f37fb687f5d51e6e2425c464de257ef",
			"TopicArn":     topicARN,
			"Message":      "You have chosen to subscribe to the topic " + topicARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
			"SubscribeURL": subscribeURL,
			"Timestamp":    snsNow.Add(-time.Second).Format("2006-01-02T15:04:05.000Z"),
		}
	}
	tests := []struct {
		name    string
		msg     map[string]string
		code    int
		confirm []string
	}{
		{
			name: "confirmation, version 1",
			msg:  sns.sign(t, message("SubscriptionConfirmation", subscribeURL), "1"),
			code: 200, confirm: []string{subscribeURL},
		},
		{
			name: "confirmation, version 2",
			msg:  sns.sign(t, message("SubscriptionConfirmation", subscribeURL), "2"),
			code: 200, confirm: []string{subscribeURL},
		},
		{
			name: "confirmation with a tampered SubscribeURL",
			msg: func() map[string]string {
				m := sns.sign(t, message("SubscriptionConfirmation", subscribeURL), "2")
				m["SubscribeURL"] = "https://evil.example.com/?Action=ConfirmSubscription"
				return m
			}(),
			code: 401,
		},
		{
			name: "confirmation pointing off SNS",
			msg:  sns.sign(t, message("SubscriptionConfirmation", "https://evil.example.com/?Action=ConfirmSubscription"), "2"),
			code: 400,
		},
		{
			name: "unsubscribe confirmation",
			msg:  sns.sign(t, message("UnsubscribeConfirmation", subscribeURL), "2"),
			code: 200,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var confirmed []string
			certs := &certsFake{t: t, pem: sns.pem}
			h := &SES{Store: seed(t), Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow },
				Confirm: func(_ context.Context, u string) error {
					confirmed = append(confirmed, u)
					return nil
				}}}
			if got := post(t, h, tt.msg); got != tt.code {
				t.Errorf("POST = %d, want %d", got, tt.code)
			}
			if diff := cmp.Diff(tt.confirm, confirmed); diff != "" {
				t.Errorf("confirmed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSESRequests(t *testing.T) {
	h := &SES{Store: seed(t), Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Now: func() time.Time { return snsNow },
		Certs: func(context.Context, string) ([]byte, error) {
			t.Error("Certs called")
			return nil, errors.New("unexpected")
		}}}
	tests := []struct {
		method, body string
		code         int
	}{
		{"GET", "", 405},
		{"POST", "not json", 400},
		{"POST", `{"Type":"Notification"}`, 401},
		{"POST", `{"Type":"Other","SigningCertURL":"` + certURL + `","SignatureVersion":"2","Signature":"AA=="}`, 401},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, "/webhooks/ses", strings.NewReader(tt.body)))
		if rec.Code != tt.code {
			t.Errorf("%s %q = %d, want %d", tt.method, tt.body, rec.Code, tt.code)
		}
	}
}
