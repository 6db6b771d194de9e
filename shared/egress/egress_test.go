package egress

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestPublic(t *testing.T) {
	tests := []struct {
		ip   string
		want bool
	}{
		{"8.8.8.8", true},
		{"142.250.184.170", true}, // fcm.googleapis.com
		{"2a00:1450:4003:80f::200a", true},
		{"2606:4700::6810:84e5", true},
		{"::ffff:8.8.8.8", true},    // mapped public
		{"64:ff9b::808:808", true},  // NAT64 of 8.8.8.8: DNS64 networks dial this
		{"100.63.255.255", true},    // just below CGNAT
		{"100.128.0.0", true},       // just above CGNAT
		{"172.32.0.1", true},        // just above 172.16/12
		{"0.0.0.0", false},          // unspecified
		{"0.1.2.3", false},          // this network
		{"127.0.0.1", false},        // loopback
		{"127.255.255.254", false},  // loopback
		{"10.0.0.1", false},         // private
		{"172.16.0.1", false},       // private
		{"172.31.255.255", false},   // private
		{"192.168.1.1", false},      // private
		{"169.254.169.254", false},  // link-local: cloud metadata
		{"100.64.0.1", false},       // CGNAT
		{"192.0.0.170", false},      // IETF assignments (NAT64 discovery)
		{"192.0.2.1", false},        // documentation
		{"198.18.0.1", false},       // benchmarking
		{"224.0.0.1", false},        // multicast
		{"239.255.255.250", false},  // multicast (SSDP)
		{"240.0.0.1", false},        // reserved
		{"255.255.255.255", false},  // broadcast
		{"::", false},               // unspecified
		{"::1", false},              // loopback
		{"::ffff:127.0.0.1", false}, // mapped loopback
		{"::ffff:7f00:1", false},    // the same, in hex
		{"::ffff:169.254.169.254", false},
		{"::ffff:10.0.0.1", false},
		{"::127.0.0.1", false},        // IPv4-compatible (deprecated)
		{"64:ff9b::7f00:1", false},    // NAT64 of loopback
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of the metadata service
		{"64:ff9b:1::a00:1", false},   // local-use NAT64
		{"fe80::1", false},            // link-local
		{"fe80::1%eth0", false},       // with a zone
		{"fc00::1", false},            // unique-local
		{"fd12:3456::1", false},       // unique-local
		{"fec0::1", false},            // site-local (deprecated)
		{"ff02::1", false},            // multicast
		{"100::1", false},             // discard-only
		{"2001::1", false},            // Teredo
		{"2001:db8::1", false},        // documentation
		{"2002:7f00:1::1", false},     // 6to4 of loopback
		{"2002:808:808::1", false},    // 6to4 at all
		{"fd00:ec2::254", false},      // EC2 metadata over IPv6
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if got := Public(ip); got != tt.want {
			t.Errorf("Public(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
	if Public(netip.Addr{}) {
		t.Error("Public(zero Addr) = true, want false")
	}
}

// TestCheckHost runs URLs through url.Parse, as callers do, so that the
// spellings are the ones a request can carry.
func TestCheckHost(t *testing.T) {
	tests := []struct {
		url  string
		want bool // allowed
	}{
		{"https://fcm.googleapis.com/fcm/send/abc", true},
		{"https://updates.push.services.mozilla.com/wpush/v2/abc", true},
		{"https://web.push.apple.com/QGx", true},
		{"https://wns2-db5p.notify.windows.com/w/?token=x", true},
		{"https://FCM.GoogleAPIs.com./fcm/send/abc", true}, // case, trailing dot
		{"https://push.example.com:8443/x", true},
		{"https://8.8.8.8/x", true},
		{"https://[2a00:1450:4003:80f::200a]/x", true},

		{"https://127.0.0.1:8080/x", false},
		{"https://169.254.169.254/latest/meta-data/", false},
		{"https://[::1]/x", false},
		{"https://localhost:9000/x", false},
		{"https://localhost./x", false},
		{"https://LOCALHOST/x", false},
		{"https://push.localhost/x", false},
		{"https://push.localhost./x", false},
		{"https://metadata.google.internal/x", false},
		{"https://printer.local/x", false},
		{"https://router.home.arpa/x", false},
		{"https://intranet/x", false}, // one label: search domains
		{"https://2130706433/", false},
		{"https://0x7f.1/", false},
		{"https://0x7f000001/", false},
		{"https://017700000001/", false},
		{"https://0177.0.0.1/", false},
		{"https://127.1/", false},
		{"https://127.0.1/", false},
		{"https://0/", false},
		{"https://1.2.3.4.5/", false},
		{"https://example.123/", false}, // WHATWG reads a numeric last label as IPv4
		{"https://example.0x1f/", false},
		{"https://0.0.0.0/", false},
		{"https://[::]/", false},
		{"https://[::ffff:127.0.0.1]/", false},
		{"https://[::ffff:7f00:1]/", false},
		{"https://[64:ff9b::7f00:1]/", false},
		{"https://[::ffff:a9fe:a9fe]/", false},
		{"https://[fe80::1%25eth0]/", false},
		{"https://[fd00::1]/", false},
		{"https://10.0.0.5/", false},
		{"https://100.100.100.200/", false}, // Alibaba metadata (CGNAT range)
		{"https://local%68ost/", false},     // percent-encoded
		{"https://xn--nxasmq6b.localhost/", false},
		{"https://ｌｏｃａｌｈｏｓｔ/", false}, // not ASCII
		{"https://under_score.example.com/", false},
		{"https://-bad.example.com/", false},
		{"https://a..b.example.com/", false},
		{"https:///x", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			if tt.want {
				t.Errorf("url.Parse(%q): %v", tt.url, err)
			}
			continue // refused before it gets here
		}
		err = CheckHost(u.Hostname())
		if got := err == nil; got != tt.want {
			t.Errorf("CheckHost(%q) of %s = %v, want allowed %v", u.Hostname(), tt.url, err, tt.want)
		}
		if err != nil && !errors.Is(err, ErrNotPublic) {
			t.Errorf("CheckHost(%q) = %v, want it to wrap ErrNotPublic", u.Hostname(), err)
		}
		if uerr := CheckURL(u); (uerr == nil) != tt.want {
			t.Errorf("CheckURL(%s) = %v, want allowed %v", tt.url, uerr, tt.want)
		}
	}
}

// TestTransportRefusesPrivateAddresses dials a server on loopback by
// address, by a name that resolves there and by a mapped spelling: each is
// refused after DNS, before a byte is sent.
func TestTransportRefusesPrivateAddresses(t *testing.T) {
	var hit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	client := &http.Client{Transport: Transport()}
	for _, u := range []string{srv.URL, "http://localhost" + port + "/", "http://[::ffff:127.0.0.1]" + port + "/"} {
		res, err := client.Get(u)
		if err == nil {
			res.Body.Close()
			t.Errorf("GET %s succeeded, want it refused", u)
			continue
		}
		if !errors.Is(err, ErrNotPublic) {
			t.Errorf("GET %s = %v, want ErrNotPublic", u, err)
		}
	}
	if hit.Load() {
		t.Error("the loopback server was reached")
	}
}

func TestCheckURLRefusesUserInfo(t *testing.T) {
	for _, raw := range []string{"https://user@fcm.googleapis.com/x", "https://fcm.googleapis.com:x@push.example.com/x", "https://:@push.example.com/"} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckURL(u); !errors.Is(err, ErrNotPublic) {
			t.Errorf("CheckURL(%s) = %v, want ErrNotPublic", raw, err)
		}
	}
}

func TestControl(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8:443":             true,
		"[2a00:1450:4003::1]:443": true,
		"127.0.0.1:443":           false,
		"[::1]:443":               false,
		"[fe80::1%eth0]:443":      false,
		"169.254.169.254:80":      false,
		"not-an-address:443":      false,
	} {
		err := Control("tcp", addr, nil)
		if got := err == nil; got != want {
			t.Errorf("Control(%q) = %v, want allowed %v", addr, err, want)
		}
	}
}
