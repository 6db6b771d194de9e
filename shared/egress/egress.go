// Package egress is the rule for where Herald may connect on someone else's
// say-so: a Web Push endpoint an API key registered, a certificate URL an
// SNS message names. Only addresses on the public internet qualify; a
// loopback, private, link-local, unique-local, shared (CGNAT), multicast,
// unspecified or otherwise special address would let the caller aim
// Herald at its own network (server-side request forgery) and read the
// answer back through a delivery's status.
//
// The rule is applied twice. CheckHost judges a URL's host when the URL is
// accepted, without DNS: literal addresses in every spelling, and names
// that are local by definition (localhost, .internal). Transport's dialer
// judges every connection after DNS, so a name that resolves (or later
// re-resolves) to a private address is refused too, redirects included.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrNotPublic is why a destination was refused; errors of CheckHost and
// of connections Transport refused wrap it.
var ErrNotPublic = errors.New("not a public internet address")

// notPublic4 are the IPv4 ranges that are not globally reachable unicast
// (RFC 6890 and its updates).
var notPublic4 = prefixes(
	"0.0.0.0/8",       // "this network", 0.0.0.0 included
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (CGNAT)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, cloud metadata services
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation
	"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, 255.255.255.255 included
)

var (
	// global6 is IPv6 global unicast; everything outside it (::, ::1,
	// fc00::/7, fe80::/10, ff00::/8, 100::/64, ::/96 …) is refused.
	global6 = netip.MustParsePrefix("2000::/3")
	// notPublic6 are the parts of global6 that are not public.
	notPublic6 = prefixes(
		"2001::/23",     // IETF protocol assignments: Teredo, benchmarking, ORCHID
		"2001:db8::/32", // documentation
		"2002::/16",     // 6to4: an IPv4 address in disguise
		"3fff::/20",     // documentation
	)
	// nat64 is the well-known NAT64 prefix (RFC 6052): the address is the
	// IPv4 address in its last 32 bits, which decides.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

// Public reports whether ip is a unicast address on the public internet.
// An IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address is
// judged by the IPv4 address it carries; an address with a zone is never
// public.
func Public(ip netip.Addr) bool {
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte(b[12:]))
	}
	if ip.Is4() {
		return !inAny(notPublic4, ip)
	}
	return global6.Contains(ip) && !inAny(notPublic6, ip)
}

func inAny(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// localSuffixes are names that never leave the local network (RFC 6761,
// RFC 6762, RFC 8375, and the cloud providers' .internal).
var localSuffixes = []string{"localhost", "local", "internal", "localdomain", "home.arpa", "lan", "intranet"}

// CheckHost judges a URL's host (url.URL.Hostname: no brackets, no port)
// without resolving it. It refuses a literal address that is not public,
// an IPv4 address in any spelling but dotted-quad (2130706433, 0x7f.1,
// 017700000001, 127.1: other parsers read those as 127.0.0.1), a name of
// one label (resolved through search domains, to internal hosts), a local
// name (localhost, *.localhost, *.internal …), and anything that is not
// a plain ASCII host name. A name that passes may still resolve to a
// private address: Transport refuses that when it dials.
func CheckHost(host string) error {
	if host == "" {
		return fmt.Errorf("%w: no host", ErrNotPublic)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !Public(ip) {
			return fmt.Errorf("%w: a %s address", ErrNotPublic, describe(ip))
		}
		return nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if len(name) > 253 {
		return fmt.Errorf("%w: host name too long", ErrNotPublic)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if !ldh(l) {
			return fmt.Errorf("%w: not a host name", ErrNotPublic)
		}
	}
	if numeric(labels[len(labels)-1]) {
		return fmt.Errorf("%w: an IPv4 address that is not in dotted-quad form", ErrNotPublic)
	}
	if len(labels) < 2 {
		return fmt.Errorf("%w: a single-label host name", ErrNotPublic)
	}
	for _, s := range localSuffixes {
		if name == s || strings.HasSuffix(name, "."+s) {
			return fmt.Errorf("%w: a local host name", ErrNotPublic)
		}
	}
	return nil
}

// CheckURL judges an absolute URL as CheckHost judges its host, and
// refuses user info too: "https://fcm.googleapis.com@10.0.0.1/" reads as
// one host to a person and is another to a client. The scheme is the
// caller's to check.
func CheckURL(u *url.URL) error {
	if u.User != nil {
		return fmt.Errorf("%w: user info in the URL", ErrNotPublic)
	}
	return CheckHost(u.Hostname())
}

// ldh reports whether l is a DNS label of letters, digits and hyphens.
func ldh(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// numeric reports whether a host's last label is a number (decimal, octal
// or 0x hex): URL parsers then read the whole host as an IPv4 address.
func numeric(l string) bool {
	digits := l
	if strings.HasPrefix(l, "0x") {
		digits = l[2:]
		if digits == "" {
			return true // "0x" alone is zero to the WHATWG parser
		}
		return strings.Trim(digits, "0123456789abcdef") == ""
	}
	return strings.Trim(digits, "0123456789") == ""
}

// describe names the kind of a refused address for error messages.
func describe(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.Zone() != "":
		return "scoped (zone)"
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast():
		return "link-local"
	case ip.IsMulticast():
		return "multicast"
	case ip.IsUnspecified():
		return "unspecified"
	default:
		return "non-public"
	}
}

// Control is a net.Dialer Control function: it refuses a connection to an
// address that is not public. It runs after DNS, on the address actually
// dialed, so it also covers redirects and names that resolve to private
// addresses.
func Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrNotPublic, address)
	}
	if !Public(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrNotPublic, ap.Addr())
	}
	return nil
}

// Transport returns an HTTP transport that connects only to public
// addresses (Control) and ignores HTTP(S)_PROXY: through a proxy the
// dialer would judge the proxy's address, not the destination's. Its
// other settings are http.DefaultTransport's.
func Transport() *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: Control}
	return &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
