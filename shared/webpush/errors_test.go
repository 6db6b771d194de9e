package webpush

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/heraldhq/herald/shared/channel"
	"github.com/heraldhq/herald/shared/notify"
)

// closedAddr is a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// at is d with its subscription's endpoint moved to endpoint.
func at(d notify.Device, endpoint string) notify.Device {
	sub := *d.Subscription
	sub.Endpoint = endpoint
	d.Subscription = &sub
	return d
}

// TestTransportFailuresNameTheirReason sends to endpoints that never
// answer with a status: each failure is transient (a retry may pass) but
// names its reason, and the error says the recipient's endpoints are to
// blame, so dispatch can bound its retries of that recipient alone.
func TestTransportFailuresNameTheirReason(t *testing.T) {
	s, ps := newTestSender(t, nil)
	good := ps.subscribe(t, "d1", accepted(""))
	untrusted := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	untrusted.StartTLS()
	defer untrusted.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }))
	defer plain.Close()
	tests := []struct {
		name     string
		endpoint string
		want     string
	}{
		{name: "connection refused", endpoint: "http://" + closedAddr(t) + "/wpush/v2/secret-token", want: ReasonUnreachable},
		{name: "untrusted certificate", endpoint: untrusted.URL + "/wpush/v2/secret-token", want: ReasonTLSError},
		{name: "not TLS at all", endpoint: strings.Replace(plain.URL, "http:", "https:", 1) + "/wpush/v2/secret-token", want: ReasonTLSError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.SendWebPush(context.Background(), testMessage(at(good, tt.endpoint)))
			if err == nil {
				t.Fatal("SendWebPush succeeded")
			}
			if code, ok := channel.IsPermanent(err); ok {
				t.Errorf("IsPermanent(%v) = %q, want transient", err, code)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("SendWebPush error %T, want *Error", err)
			}
			if got := e.RecipientReason(); got != tt.want {
				t.Errorf("RecipientReason() = %q, want %q (error %v)", got, tt.want, err)
			}
			if got := e.Devices[0].Reason; got != tt.want {
				t.Errorf("DeviceError.Reason = %q, want %q", got, tt.want)
			}
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %q quotes the subscription token", err)
			}
		})
	}
	if got := len(ps.received()); got != 0 {
		t.Errorf("push service received %d pushes, want none", got)
	}
}

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestTransportReason(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"connection refused", refused, ReasonUnreachable},
		{"connection reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, ReasonUnreachable},
		{"no route", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.EHOSTUNREACH)}, ReasonUnreachable},
		{"closed mid-request", io.ErrUnexpectedEOF, ReasonUnreachable},
		{"plain HTTP at https", errors.New("http: server gave HTTP response to HTTPS client"), ReasonTLSError},
		{"no such host", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "push.invalid", IsNotFound: true}}, ReasonDNSError},
		{"dns server failure", &net.DNSError{Err: "server misbehaving", Name: "push.example", IsTemporary: true}, ReasonDNSError},
		{"unknown authority", fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), ReasonTLSError},
		{"wrong host", x509.HostnameError{Host: "push.example"}, ReasonTLSError},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, ReasonTLSError},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, ReasonTimeout},
		{"client timeout", fmt.Errorf("awaiting headers: %w", context.DeadlineExceeded), ReasonTimeout},
		{"cancelled by the caller", context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := &url.Error{Op: "Post", URL: "https://push.example/wpush/v2/secret-token", Err: tt.err}
			d := sendError("d1", err)
			if d.Reason != tt.want || d.Code != "" {
				t.Errorf("sendError(%v) = reason %q code %q, want reason %q and no code", tt.err, d.Reason, d.Code, tt.want)
			}
			if strings.Contains(d.Error(), "secret-token") {
				t.Errorf("error %q quotes the subscription token", d.Error())
			}
		})
	}
}

// TestRecipientReasonOnlyWhenTheEndpointsAreToBlame: a push service's
// 429 or 5xx on any subscription makes the failure everyone's; permanent
// failures beside a transport one leave it the recipient's.
func TestRecipientReasonOnlyWhenTheEndpointsAreToBlame(t *testing.T) {
	unreachable := &DeviceError{DeviceID: "a", Reason: ReasonUnreachable}
	dns := &DeviceError{DeviceID: "b", Reason: ReasonDNSError}
	gone := &DeviceError{DeviceID: "c", Code: CodeSubscriptionGone, StatusCode: 410}
	busy := &DeviceError{DeviceID: "d", StatusCode: 503}
	tests := []struct {
		name    string
		devices []*DeviceError
		want    string
	}{
		{"one unreachable", []*DeviceError{unreachable}, ReasonUnreachable},
		{"first reason wins", []*DeviceError{dns, unreachable}, ReasonDNSError},
		{"gone and unreachable", []*DeviceError{gone, unreachable}, ReasonUnreachable},
		{"unreachable and busy", []*DeviceError{unreachable, busy}, ""},
		{"busy", []*DeviceError{busy}, ""},
		{"gone", []*DeviceError{gone}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&Error{Devices: tt.devices}).RecipientReason(); got != tt.want {
				t.Errorf("RecipientReason() = %q, want %q", got, tt.want)
			}
		})
	}
}
