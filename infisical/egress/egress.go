// Package egress decides which network addresses the server may connect to
// on behalf of its users. An organization admin who registers an endpoint
// (an audit-log stream, later webhooks) chooses where the server sends
// requests; without a check, that is a way to make the server reach its own
// loopback services, the cloud metadata service (169.254.169.254) or hosts
// of the private network it runs in.
//
// The check runs in the dialer, on the address actually connected to after
// name resolution, so a name that resolves to a private address (or
// changes its answer between a check and the connection) is refused too.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrNotPublic is wrapped by every refusal of an address.
var ErrNotPublic = errors.New("address is not public")

// nonPublic lists the special-purpose ranges that IsPublic refuses beside
// the ones net/netip classifies itself (loopback, private, link-local,
// multicast, unspecified).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT (RFC 6598)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64 (RFC 8215)
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
}

// nat64 is the well-known NAT64 prefix: its addresses embed an IPv4
// address in their last 32 bits, which is what the check must look at.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// IsPublic reports whether a is a globally routable unicast address.
// IPv4-mapped and NAT64 IPv6 forms are judged by the IPv4 address they
// carry.
func IsPublic(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap()
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		return IsPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// CheckHost refuses a URL host that is an IP literal of a non-public
// address; names pass (the dialer checks what they resolve to). It lets a
// configuration error be reported when an endpoint is registered rather
// than at its first delivery.
func CheckHost(host string) error {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		if h := strings.TrimSuffix(strings.ToLower(host), "."); h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return fmt.Errorf("%w: %s", ErrNotPublic, host)
		}
		return nil
	}
	if !IsPublic(a) {
		return fmt.Errorf("%w: %s", ErrNotPublic, a)
	}
	return nil
}

// control is a net.Dialer Control function refusing connections to
// non-public addresses. It runs for every address the dialer tries.
func control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrNotPublic, address)
	}
	if !IsPublic(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrNotPublic, ap.Addr())
	}
	return nil
}

// Dialer returns a dialer that connects only to public addresses.
func Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: control}
}

// Client returns an HTTP client whose connections go only to public
// addresses. It connects directly: a proxy from the environment would be
// the address dialed, and the check must see the endpoint's own address.
func Client(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           Dialer(10 * time.Second).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: tr}
}
