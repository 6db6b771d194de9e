package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// fakeSES answers SES v2 SendEmail at once with a message id, as SES
// does, and keeps what it was sent, so that the bill can make the events
// SES would publish of those emails. It does nothing else while the send
// runs: its CPU is the bench's, in the same process as the handlers.
type fakeSES struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent []sesSent
}

// sesSent is one SendEmail request and the id it was answered.
type sesSent struct {
	MessageID string
	Body      []byte
}

func newFakeSES() *fakeSES {
	f := &fakeSES{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
			http.Error(w, "not SendEmail", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		id := fmt.Sprintf("0100019%09x-%08x-5e6f-7a8b-9c0d-%012x-000000", len(f.sent), len(f.sent), len(f.sent))
		f.sent = append(f.sent, sesSent{MessageID: id, Body: body})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"MessageId":%q}`, id)
	}))
	return f
}

func (f *fakeSES) emails() []sesSent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sesSent(nil), f.sent...)
}

// sesDeliveryEvent is the event an SES configuration set publishes when an
// email is delivered (its event publishing's Delivery), for the email s,
// shaped and sized as SES's: the email's headers, its tags (Herald's and
// SES's own), the delivery's SMTP answer.
func sesDeliveryEvent(s sesSent, at time.Time) (string, error) {
	var req struct {
		FromEmailAddress string
		Destination      struct{ ToAddresses []string }
		Content          struct {
			Simple *struct{ Subject struct{ Data string } }
		}
		EmailTags            []struct{ Name, Value string }
		ConfigurationSetName string
	}
	if err := json.Unmarshal(s.Body, &req); err != nil {
		return "", fmt.Errorf("read SendEmail: %w", err)
	}
	subject := ""
	if req.Content.Simple != nil {
		subject = req.Content.Simple.Subject.Data
	}
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	tags := map[string][]string{
		"ses:operation": {"SendEmail"}, "ses:configuration-set": {req.ConfigurationSetName}, "ses:source-ip": {"203.0.113.10"},
		"ses:from-domain": {"acme.example"}, "ses:caller-identity": {"herald-prod-DispatchFunctionRole-1A2B3C4D5E6F"}, "ses:outgoing-ip": {"54.240.8.21"},
	}
	for _, t := range req.EmailTags {
		tags[t.Name] = []string{t.Value}
	}
	type header struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	to := strings.Join(req.Destination.ToAddresses, ", ")
	ev := map[string]any{
		"eventType": "Delivery",
		"mail": map[string]any{
			"timestamp": ts, "source": req.FromEmailAddress, "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/acme.example",
			"sendingAccountId": "123456789012", "messageId": s.MessageID, "destination": req.Destination.ToAddresses, "headersTruncated": false,
			"headers": []header{{"From", req.FromEmailAddress}, {"To", to}, {"Subject", subject}, {"MIME-Version", "1.0"},
				{"Content-Type", `multipart/alternative; boundary="----=_Part_1234567_123456789.1700000000000"`}},
			"commonHeaders": map[string]any{"from": []string{req.FromEmailAddress}, "to": req.Destination.ToAddresses, "messageId": s.MessageID, "subject": subject},
			"tags":          tags,
		},
		"delivery": map[string]any{
			"timestamp": ts, "processingTimeMillis": 1422, "recipients": req.Destination.ToAddresses,
			"smtpResponse": "250 2.0.0 OK  1700000000 a1b2c3d4e5f6a7b8.123 - gsmtp", "reportingMTA": "a8-70.smtp-out.amazonses.com",
			"remoteMtaIp": "142.250.153.27",
		},
	}
	b, err := json.Marshal(ev)
	return string(b), err
}

// snsSigner signs SNS HTTP(S) notifications as SNS does (signature
// version 1), with a certificate of its own that the callbacks are given
// in place of SNS's (wiring.Ports.SNSCerts).
type snsSigner struct {
	key     *rsa.PrivateKey
	certPEM []byte
	certURL string
}

func newSNSSigner() (*snsSigner, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("sns signing key: %w", err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sns signing certificate: %w", err)
	}
	return &snsSigner{key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		certURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem"}, nil
}

// notification is the body SNS posts to an HTTPS subscription for a
// message of topic.
func (s *snsSigner) notification(topic, id, message string, at time.Time) ([]byte, error) {
	ts := at.UTC().Format("2006-01-02T15:04:05.000Z")
	signed := "Message\n" + message + "\nMessageId\n" + id + "\nTimestamp\n" + ts + "\nTopicArn\n" + topic + "\nType\nNotification\n"
	digest := sha1.Sum([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign sns message: %w", err)
	}
	return json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": id, "TopicArn": topic, "Message": message, "Timestamp": ts,
		"SignatureVersion": "1", "Signature": base64.StdEncoding.EncodeToString(sig), "SigningCertURL": s.certURL,
		"UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + topic + ":0b6941c4-8f3a-4a37-9d5e-2c8b6f1e7a90",
	})
}
