package authn

import (
	"fmt"
	"net/netip"
	"strings"
)

// TrustedIP is one entry of an accessTokenTrustedIps / clientSecretTrustedIps
// list in its stored form.
type TrustedIP struct {
	IPAddress string `json:"ipAddress"`
	Type      string `json:"type"` // "ipv4" | "ipv6"
	Prefix    *int   `json:"prefix,omitempty"`
}

// AnyIP is the default list: every IPv4 and IPv6 address.
func AnyIP() []TrustedIP {
	z4, z6 := 0, 0
	return []TrustedIP{{IPAddress: "0.0.0.0", Type: "ipv4", Prefix: &z4}, {IPAddress: "::", Type: "ipv6", Prefix: &z6}}
}

// ParseTrustedIPs converts request entries (an IP or a CIDR each) into the
// stored form. The error names the offending entry.
func ParseTrustedIPs(entries []string) ([]TrustedIP, error) {
	out := make([]TrustedIP, 0, len(entries))
	for i, e := range entries {
		e = strings.TrimSpace(e)
		var pfx netip.Prefix
		if strings.Contains(e, "/") {
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("trusted IP #%d %q is not a valid IP or CIDR", i, e)
			}
			pfx = p.Masked()
		} else {
			a, err := netip.ParseAddr(e)
			if err != nil {
				return nil, fmt.Errorf("trusted IP #%d %q is not a valid IP or CIDR", i, e)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		pfx = unmapPrefix(pfx)
		bits := pfx.Bits()
		t := TrustedIP{IPAddress: pfx.Addr().String(), Type: "ipv4", Prefix: &bits}
		if pfx.Addr().Is6() {
			t.Type = "ipv6"
		}
		out = append(out, t)
	}
	return out, nil
}

// IPSet is a compiled trusted-IP list.
type IPSet struct {
	prefixes []netip.Prefix
	any      bool
}

// CompileIPs compiles a stored list. An empty list allows everything.
func CompileIPs(list []TrustedIP) IPSet {
	if len(list) == 0 {
		return IPSet{any: true}
	}
	s := IPSet{}
	for _, t := range list {
		a, err := netip.ParseAddr(t.IPAddress)
		if err != nil {
			continue
		}
		bits := a.BitLen()
		if t.Prefix != nil {
			bits = *t.Prefix
		}
		p, err := a.Prefix(bits)
		if err != nil {
			continue
		}
		// Lists stored before IPv4-mapped entries were normalized.
		p = unmapPrefix(p)
		if bits == 0 {
			// 0.0.0.0/0 or ::/0: treat both families as allowed, as upstream
			// does for its wildcard entries.
			s.any = true
		}
		s.prefixes = append(s.prefixes, p)
	}
	return s
}

// Restricted reports whether the set limits anything (a non-wildcard entry).
func (s IPSet) Restricted() bool { return !s.any }

// Allows reports whether ip (a textual address, possibly with a port or a
// zone) is in the set.
func (s IPSet) Allows(ip string) bool {
	if s.any {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, err2 := netip.ParseAddrPort(ip)
		if err2 != nil {
			return false
		}
		a = ap.Addr()
	}
	a = a.Unmap()
	for _, p := range s.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into
// its IPv4 form (10.0.0.0/8). Allows compares IPv4 callers in their IPv4
// form, so a mapped prefix would otherwise never match anything. A masked
// prefix has an IPv4-mapped address only when it is at least /96.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}
