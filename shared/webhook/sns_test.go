package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/shared/egress"
)

// countingCerts answers certificate fetches with answer and counts them.
type countingCerts struct {
	mu     sync.Mutex
	calls  map[string]int
	answer func(u string) ([]byte, error)
}

func (c *countingCerts) get(_ context.Context, u string) ([]byte, error) {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[u]++
	c.mu.Unlock()
	return c.answer(u)
}

func (c *countingCerts) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

// unsubscribed is an UnsubscribeConfirmation, which a verified message
// answers 200 without touching the store.
func unsubscribed() map[string]string {
	return map[string]string{
		"Type": "UnsubscribeConfirmation", "MessageId": "47138184-6831-46b8-8f7c-afc488602d7d", "Token": "2336412f37fb687f5d51e6e2425c",
		"TopicArn": topicARN, "Message": "You have chosen to deactivate subscription.", "Timestamp": snsNow.Add(-time.Minute).Format("2006-01-02T15:04:05.000Z"),
		"SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topicARN + "&Token=2336412f37fb687f5d51e6e2425c",
	}
}

// TestSNSCertificateFetchesAreCached: the certificate of genuine messages
// is fetched once; forged messages naming an SNS-looking URL that has no
// certificate fetch it once per certFailureTTL, and a URL that got no
// answer once per certRetryTTL; a message of another topic fetches
// nothing.
func TestSNSCertificateFetchesAreCached(t *testing.T) {
	sns := newSigner(t)
	const forgedURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-forged.pem"
	const downURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-down.pem"
	certs := &countingCerts{answer: func(u string) ([]byte, error) {
		switch u {
		case certURL:
			return sns.pem, nil
		case forgedURL:
			return nil, fmt.Errorf("get: %w", &answerError{"status 404"})
		default:
			return nil, errors.New("get: dial tcp: i/o timeout")
		}
	}}
	now := snsNow
	h := &SES{Store: seed(t), Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return now },
		TopicARNs: []string{topicARN}}}
	at := func(u string) map[string]string {
		m := unsubscribed()
		m["SigningCertURL"] = u
		return sns.sign(t, m, "2")
	}

	for range 5 {
		if got := post(t, h, at(certURL)); got != 200 {
			t.Fatalf("genuine message = %d, want 200", got)
		}
	}
	for range 20 {
		if got := post(t, h, at(forgedURL)); got != 401 {
			t.Fatalf("message whose certificate URL answers 404 = %d, want 401", got)
		}
	}
	for range 20 {
		if got := post(t, h, at(downURL)); got != 500 {
			t.Fatalf("message whose certificate cannot be fetched = %d, want 500 (SNS retries)", got)
		}
	}
	foreign := unsubscribed()
	foreign["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:someone-else"
	foreign["SigningCertURL"] = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-other.pem"
	for range 20 {
		if got := post(t, h, sns.sign(t, foreign, "2")); got != 403 {
			t.Fatalf("message of another topic = %d, want 403", got)
		}
	}
	want := map[string]int{certURL: 1, forgedURL: 1, downURL: 1}
	if fmt.Sprint(certs.calls) != fmt.Sprint(want) {
		t.Errorf("fetches = %v, want %v", certs.calls, want)
	}

	// A failure with no answer is tried again soon; one with an answer
	// only after certFailureTTL; a certificate is kept.
	now = now.Add(certRetryTTL + time.Second)
	for _, u := range []string{certURL, forgedURL, downURL, downURL} {
		post(t, h, at(u))
	}
	want[downURL] = 2
	if fmt.Sprint(certs.calls) != fmt.Sprint(want) {
		t.Errorf("fetches after %s = %v, want %v", certRetryTTL+time.Second, certs.calls, want)
	}
	now = now.Add(certFailureTTL)
	for _, u := range []string{certURL, forgedURL, forgedURL} {
		post(t, h, at(u))
	}
	want[forgedURL] = 2
	if fmt.Sprint(certs.calls) != fmt.Sprint(want) {
		t.Errorf("fetches after %s = %v, want %v", certFailureTTL, certs.calls, want)
	}
}

// TestSNSCertificateCacheBounds: distinct URLs do not grow the cache past
// its bounds, a too-large certificate is a failure, and a too-long URL is
// refused without a fetch.
func TestSNSCertificateCacheBounds(t *testing.T) {
	var c certCache
	fail := func(context.Context, string) ([]byte, error) { return nil, &answerError{"status 404"} }
	ok := func(context.Context, string) ([]byte, error) { return []byte("pem"), nil }
	for i := range maxFailedCerts + 50 {
		_, _ = c.get(t.Context(), fmt.Sprintf("https://sns.eu-west-1.amazonaws.com/f%d.pem", i), snsNow.Add(time.Duration(i)*time.Millisecond), fail)
	}
	for i := range maxCachedCerts + 50 {
		_, _ = c.get(t.Context(), fmt.Sprintf("https://sns.eu-west-1.amazonaws.com/c%d.pem", i), snsNow.Add(time.Duration(i)*time.Millisecond), ok)
	}
	if len(c.failed) != maxFailedCerts || len(c.certs) != maxCachedCerts {
		t.Errorf("cache holds %d failures and %d certificates, want %d and %d", len(c.failed), len(c.certs), maxFailedCerts, maxCachedCerts)
	}
	if _, kept := c.failed["https://sns.eu-west-1.amazonaws.com/f0.pem"]; kept {
		t.Error("the oldest failure was kept, want it evicted")
	}
	if _, kept := c.failed[fmt.Sprintf("https://sns.eu-west-1.amazonaws.com/f%d.pem", maxFailedCerts+49)]; !kept {
		t.Error("the newest failure was evicted")
	}

	big := func(context.Context, string) ([]byte, error) { return make([]byte, maxCertPEM+1), nil }
	if _, err := c.get(t.Context(), "https://sns.eu-west-1.amazonaws.com/big.pem", snsNow, big); err == nil {
		t.Error("a certificate larger than maxCertPEM was accepted")
	}
	if _, kept := c.certs["https://sns.eu-west-1.amazonaws.com/big.pem"]; kept {
		t.Error("a certificate larger than maxCertPEM was cached")
	}

	sns := newSigner(t)
	certs := &countingCerts{answer: func(string) ([]byte, error) { return sns.pem, nil }}
	h := &SES{Store: seed(t), Log: slog.New(slog.DiscardHandler), SNSOptions: SNSOptions{Certs: certs.get, Now: func() time.Time { return snsNow }}}
	m := unsubscribed()
	m["SigningCertURL"] = "https://sns.eu-west-1.amazonaws.com/" + strings.Repeat("a", maxSNSURL) + ".pem"
	if got := post(t, h, sns.sign(t, m, "2")); got != 401 || certs.total() != 0 {
		t.Errorf("message with a %d-character certificate URL = %d after %d fetches, want 401 after none", len(m["SigningCertURL"]), got, certs.total())
	}
}

// TestSNSDefaultFetch: the default GET connects to public addresses only,
// follows no redirect and reads a bounded body.
func TestSNSDefaultFetch(t *testing.T) {
	var elsewhere atomic.Bool
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Store(true) }))
	defer target.Close()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect.pem":
			http.Redirect(w, r, target.URL+"/x.pem", http.StatusFound)
		case "/big.pem":
			_, _ = w.Write(make([]byte, maxCertPEM+1))
		default:
			_, _ = w.Write([]byte("-----BEGIN CERTIFICATE-----"))
		}
	}))
	defer srv.Close()

	if _, err := httpsGet(t.Context(), snsClient(nil), srv.URL+"/cert.pem", maxCertPEM); !errors.Is(err, egress.ErrNotPublic) {
		t.Errorf("default GET of a loopback URL = %v, want egress.ErrNotPublic", err)
	}
	// The rest through a transport that may reach the test servers.
	client := snsClient(srv.Client().Transport)
	if b, err := httpsGet(t.Context(), client, srv.URL+"/cert.pem", maxCertPEM); err != nil || !strings.HasPrefix(string(b), "-----BEGIN") {
		t.Errorf("GET /cert.pem = %q, %v", b, err)
	}
	var ae *answerError
	if _, err := httpsGet(t.Context(), client, srv.URL+"/redirect.pem", maxCertPEM); !errors.As(err, &ae) || elsewhere.Load() {
		t.Errorf("GET of a redirect = %v (followed: %v), want an answer error and no request elsewhere", err, elsewhere.Load())
	}
	if _, err := httpsGet(t.Context(), client, srv.URL+"/big.pem", maxCertPEM); !errors.As(err, &ae) {
		t.Errorf("GET of %d bytes = %v, want an answer error", maxCertPEM+1, err)
	}
}
