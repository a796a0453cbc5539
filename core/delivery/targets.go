package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Keys named in refusal messages, so an operator knows what to change.
const (
	KeyAllowedTargets = "delivery.allowed_targets"
	KeyDeniedTargets  = "delivery.denied_targets"
)

// BuiltinDenied is one range refused unless an operator allows it
// explicitly (see Targets).
type BuiltinDenied struct {
	Prefix netip.Prefix
	What   string // "a link-local/metadata range"
}

// DefaultDeniedTargets returns the ranges every Targets refuses by default:
// addresses that reach cloud metadata services or, dialled, this host
// itself under another name. Loopback and private ranges are not in it: a
// receiver on the same host or network is a normal setup.
func DefaultDeniedTargets() []BuiltinDenied {
	p := netip.MustParsePrefix
	return []BuiltinDenied{
		// Connecting to 0.0.0.0 (or ::) reaches this host's listeners.
		{p("0.0.0.0/8"), "the \"this host\" range (dialled, it reaches this machine)"},
		{p("::/128"), "the unspecified address (dialled, it reaches this machine)"},
		// AWS, GCP, Azure, OCI and DigitalOcean serve instance metadata
		// (and credentials) on 169.254.169.254; the rest of the range is
		// link-local and never a webhook receiver.
		{p("169.254.0.0/16"), "a link-local/metadata range"},
		{p("fe80::/10"), "a link-local range"},
		{p("fd00:ec2::/32"), "the AWS IPv6 metadata range"},
		{p("100.100.100.200/32"), "Alibaba Cloud's metadata address"},
	}
}

// TargetRules are the operator's address rules.
type TargetRules struct {
	// Allowed, when not empty, is the only place deliveries may go
	// (delivery.allowed_targets). An entry also lifts a built-in denied
	// range it equals or lies within.
	Allowed []netip.Prefix
	// Denied adds ranges to refuse (delivery.denied_targets).
	Denied []netip.Prefix
}

// Listener is one of the relay's own listening addresses. Deliveries to it
// are always refused: a subscription aimed at the admin API, the receiver
// or /metrics would otherwise store what they answer, or loop.
type Listener struct {
	// Name is the noun phrase used in messages: "admin listener".
	Name string
	// Addr is host:port as configured (":8080", "127.0.0.1:8081") or as
	// bound. An empty or unspecified host means every local address;
	// port 0 (not bound yet) registers nothing.
	Addr string
}

// Targets decides which addresses deliveries may connect to. Client calls
// Check for the address it actually dials (after DNS, for every address it
// tries, including the proxy's), and the engine calls CheckURL on URLs known
// before any delivery (config load, a form save): one set of rules for all.
//
// The decision for an address:
//
//  1. One of the relay's own listeners (SetListener): refused.
//  2. The most specific matching range among the built-in denied ranges
//     (DefaultDeniedTargets), Denied and Allowed decides. An Allowed
//     range equal to a built-in range wins over it; the same range in
//     both Allowed and Denied is refused by NewTargets.
//  3. No range matches: allowed, unless Allowed is not empty.
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as the IPv4
// address they are, and an address in the NAT64 prefix 64:ff9b::/96 must
// pass for its embedded IPv4 address too.
//
// Targets is safe for concurrent use.
type Targets struct {
	rules   []targetRule
	allowed []netip.Prefix // operator's, for messages and allow-list mode

	mu  sync.RWMutex
	own map[string]ownListener // by Listener.Name
}

type targetRule struct {
	prefix  netip.Prefix
	allow   bool
	builtin bool
	what    string // built-ins: "a link-local/metadata range"
}

type ownListener struct {
	name string
	addr netip.Addr // invalid when any
	port uint16
	any  bool // wildcard: every local address
	text string
}

// NewTargets builds the rules. It reports a range listed as both allowed
// and denied.
func NewTargets(r TargetRules) (*Targets, error) {
	t := &Targets{own: map[string]ownListener{}}
	for _, b := range DefaultDeniedTargets() {
		t.rules = append(t.rules, targetRule{prefix: b.Prefix, builtin: true, what: b.What})
	}
	denied := map[netip.Prefix]bool{}
	for _, p := range r.Denied {
		p = NormalizePrefix(p)
		denied[p] = true
		t.rules = append(t.rules, targetRule{prefix: p})
	}
	var errs []error
	for _, p := range r.Allowed {
		p = NormalizePrefix(p)
		if denied[p] {
			errs = append(errs, fmt.Errorf("%s is both in %s and in %s", p, KeyAllowedTargets, KeyDeniedTargets))
			continue
		}
		t.allowed = append(t.allowed, p)
		t.rules = append(t.rules, targetRule{prefix: p, allow: true})
	}
	return t, errors.Join(errs...)
}

// NormalizePrefix turns an IPv4-mapped prefix (::ffff:10.0.0.0/104) into
// the IPv4 prefix it covers and clears host bits, so rules compare with
// unmapped addresses.
func NormalizePrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr().WithZone("")
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return netip.PrefixFrom(a, p.Bits()).Masked()
}

// SetListener records (or, by name, updates) one of the relay's own
// listening addresses. Call it with the configured address before
// listening, so a static URL can be checked at load, and with the bound
// address once listening (port 0, a host name).
func (t *Targets) SetListener(l Listener) error {
	host, portText, err := net.SplitHostPort(l.Addr)
	if err != nil {
		return fmt.Errorf("listener %s %q: %w", l.Name, l.Addr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		// A service name such as ":http".
		p, lerr := net.LookupPort("tcp", portText)
		if lerr != nil {
			return fmt.Errorf("listener %s %q: port: %w", l.Name, l.Addr, lerr)
		}
		port = uint64(p)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.own, l.Name)
	if port == 0 {
		return nil // chosen when bound; the bound address comes later
	}
	o := ownListener{name: l.Name, port: uint16(port), text: l.Addr}
	switch {
	case host == "":
		o.any = true
	case strings.EqualFold(host, "localhost"):
		// Any loopback address counts (see ownAt).
		o.addr = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	default:
		a, err := netip.ParseAddr(host)
		if err != nil {
			// A host name: known once bound.
			return nil
		}
		a = a.Unmap().WithZone("")
		if a.IsUnspecified() {
			o.any = true
		} else {
			o.addr = a
		}
	}
	t.own[l.Name] = o
	return nil
}

// TargetError says why an address was refused. Send reports it as
// ClassTarget: the attempt fails at once, nothing was sent.
type TargetError struct {
	// Host is the name that was resolved, "" for a literal address.
	Host string
	// Addr is the address refused (with the port when the port matters).
	Addr string
	// Reason completes the sentence "<Addr> <Reason>", e.g. "is in a
	// link-local/metadata range (169.254.0.0/16, delivery.denied_targets
	// default)" or "is this relay's admin listener".
	Reason string
	// Proxy is the proxy the request would have been handed to, when a
	// target written as an address was checked before that.
	Proxy string
	// IsProxy says Addr is the proxy's own address, refused when dialled.
	IsProxy bool
}

func (e *TargetError) Error() string {
	var b strings.Builder
	if e.IsProxy {
		b.WriteString("proxy ")
	}
	if e.Host != "" {
		b.WriteString(e.Host)
		b.WriteString(" resolved to ")
		b.WriteString(e.Addr)
		b.WriteString(", which ")
	} else {
		b.WriteString(e.Addr)
		b.WriteByte(' ')
	}
	b.WriteString(e.Reason)
	if e.Proxy != "" && !e.IsProxy {
		b.WriteString(" (checked before handing the request to proxy ")
		b.WriteString(e.Proxy)
		b.WriteByte(')')
	}
	return b.String()
}

// Check decides whether a delivery may connect to addr. It returns nil or
// a *TargetError.
func (t *Targets) Check(addr netip.AddrPort) error {
	return t.check(addr, "", false)
}

// check is the one decision; host is the resolved name for messages,
// proxy says addr is an egress proxy's own address. A proxy is configured
// by whoever runs the relay, not by a subscription, so allowed_targets
// (which lists where deliveries go) does not apply to it; the denied
// ranges and the relay's own listeners do.
func (t *Targets) check(ap netip.AddrPort, host string, proxy bool) error {
	a := ap.Addr().Unmap().WithZone("")
	port := ap.Port()
	refuse := func(subject, reason string) error {
		return &TargetError{Host: host, Addr: subject, Reason: reason, IsProxy: proxy}
	}
	if name, ok := t.ownAt(a, port); ok {
		return refuse(netip.AddrPortFrom(a, port).String(), "is this relay's "+name)
	}
	var buf [2]netip.Addr
	candidates := append(buf[:0], a)
	if nat64.Contains(a) {
		b := a.As16()
		candidates = append(candidates, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, c := range candidates {
		best := -1
		for i, r := range t.rules {
			if !r.prefix.Contains(c) {
				continue
			}
			if best < 0 || r.prefix.Bits() > t.rules[best].prefix.Bits() ||
				(r.prefix.Bits() == t.rules[best].prefix.Bits() && t.rules[best].builtin) {
				best = i
			}
		}
		subject := a.String()
		if c != a {
			subject = fmt.Sprintf("%s (NAT64 for %s)", a, c)
		}
		switch {
		case best >= 0 && t.rules[best].allow:
		case best >= 0 && t.rules[best].builtin:
			r := t.rules[best]
			return refuse(subject, fmt.Sprintf("is in %s (%s, %s default)", r.what, r.prefix, KeyDeniedTargets))
		case best >= 0:
			return refuse(subject, fmt.Sprintf("is in %s (%s)", t.rules[best].prefix, KeyDeniedTargets))
		case len(t.allowed) > 0 && !proxy:
			return refuse(subject, fmt.Sprintf("is not in %s (%s)", KeyAllowedTargets, listPrefixes(t.allowed, 4)))
		}
	}
	return nil
}

// nat64 is the well-known NAT64 prefix (RFC 6052): a gateway turns
// 64:ff9b::a9fe:a9fe into 169.254.169.254 on its side.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

func listPrefixes(ps []netip.Prefix, n int) string {
	parts := make([]string, 0, min(len(ps), n)+1)
	for i, p := range ps {
		if i == n {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-n))
			break
		}
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ", ")
}

// ownAt reports whether a:port reaches one of the relay's own listeners.
// A wildcard listener is reached through every local address; a listener
// on a loopback address through every loopback address (so "localhost"
// means it whichever family the resolver returns first); dialling the
// unspecified address reaches any of them.
func (t *Targets) ownAt(a netip.Addr, port uint16) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var names []string
	for _, o := range t.own {
		if o.port != port {
			continue
		}
		switch {
		case a.IsUnspecified(),
			!o.any && o.addr == a,
			!o.any && o.addr.IsLoopback() && a.IsLoopback():
			names = append(names, o.name)
		case o.any && isLocal(a):
			names = append(names, o.name+" (listening on "+o.text+")")
		}
	}
	if len(names) == 0 {
		return "", false
	}
	slices.Sort(names) // map order is random; messages should not be
	return strings.Join(names, " and "), true
}

// isLocal reports whether a is one of this machine's addresses. Interface
// addresses are read per call: they change (DHCP, VPNs), and the call only
// happens for a port a wildcard listener uses.
func isLocal(a netip.Addr) bool {
	if a.IsLoopback() || a.IsUnspecified() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, x := range addrs {
		var ip net.IP
		switch v := x.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if ia, ok := netip.AddrFromSlice(ip); ok && ia.Unmap() == a {
			return true
		}
	}
	return false
}

// CheckURL checks what can be checked of u without DNS: a literal IP host,
// or "localhost" (refused only when both 127.0.0.1 and ::1 are). Other
// names are checked when dialled. It returns nil or a *TargetError.
func (t *Targets) CheckURL(u *url.URL) error {
	return t.checkURL(u, "")
}

func (t *Targets) checkURL(u *url.URL, proxy string) error {
	if u == nil {
		return nil
	}
	host := u.Hostname()
	port, ok := urlPort(u)
	if !ok {
		return nil // Send reports a bad port
	}
	var candidates []netip.Addr
	if strings.EqualFold(host, "localhost") {
		candidates = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	} else if a, err := netip.ParseAddr(host); err == nil {
		candidates = []netip.Addr{a}
	} else {
		return nil
	}
	var first error
	for _, a := range candidates {
		err := t.check(netip.AddrPortFrom(a, port), "", false)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	if te, ok := first.(*TargetError); ok {
		if len(candidates) > 1 {
			te.Host = host
		}
		te.Proxy = proxy
	}
	return first
}

// urlPort is u's port, or the scheme's default.
func urlPort(u *url.URL) (uint16, bool) {
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		return uint16(n), err == nil
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return 80, true
	case "https":
		return 443, true
	case "socks5", "socks5h":
		return 1080, true
	}
	return 0, false
}
