package delivery

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ProxyFromEnv returns a proxy function for HTTP_PROXY, HTTPS_PROXY and
// NO_PROXY (or their lower-case forms; upper case wins), read once from
// getenv. It differs from http.ProxyFromEnvironment (and x/net's
// httpproxy) in one deliberate way: loopback targets and "localhost" are
// proxied like any other. An operator who routes deliveries through an
// egress proxy (smokescreen, squid) for control or audit means all of
// them; list loopback in NO_PROXY to keep it direct.
//
// NO_PROXY is a comma- or space-separated list of:
//
//   - "*": no proxy for any target;
//   - an IP address (10.1.2.3, ::1) or a CIDR range (10.0.0.0/8), matching
//     targets written as literal addresses;
//   - a domain (example.com, .example.com or *.example.com), matching that
//     name and every name under it;
//
// each optionally with ":port" (example.com:8443, [::1]:8080) to match that
// port only. Names are not resolved to match IP entries.
//
// A proxy value without a scheme means http://; https://, socks5:// and
// socks5h:// are accepted too. A value that is not a usable URL is an
// error naming the variable.
func ProxyFromEnv(getenv func(string) string) (func(*http.Request) (*url.URL, error), error) {
	get := func(names ...string) (string, string) {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return n, v
			}
		}
		return "", ""
	}
	httpName, httpVal := get("HTTP_PROXY", "http_proxy")
	httpsName, httpsVal := get("HTTPS_PROXY", "https_proxy")
	noName, noVal := get("NO_PROXY", "no_proxy")
	httpProxy, err := parseProxyURL(httpName, httpVal)
	if err != nil {
		return nil, err
	}
	httpsProxy, err := parseProxyURL(httpsName, httpsVal)
	if err != nil {
		return nil, err
	}
	np, err := parseNoProxy(noName, noVal)
	if err != nil {
		return nil, err
	}
	return func(r *http.Request) (*url.URL, error) {
		var p *url.URL
		switch strings.ToLower(r.URL.Scheme) {
		case "http":
			p = httpProxy
		case "https":
			p = httpsProxy
		}
		if p == nil || np.matches(r.URL) {
			return nil, nil
		}
		return p, nil
	}, nil
}

func parseProxyURL(name, v string) (*url.URL, error) {
	if v == "" {
		return nil, nil
	}
	raw := v
	if !strings.Contains(v, "://") {
		raw = "http://" + v
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: not a proxy URL such as http://proxy.internal:3128: %v", name, innerError(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks5", "socks5h":
	default:
		return nil, fmt.Errorf("%s: proxy scheme %q, want http, https, socks5 or socks5h", name, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%s: proxy URL has no host", name)
	}
	if _, ok := urlPort(u); !ok {
		return nil, fmt.Errorf("%s: proxy port %q is not a number from 0 to 65535", name, u.Port())
	}
	return u, nil
}

// noProxy is a parsed NO_PROXY.
type noProxy struct {
	all     bool
	entries []noProxyEntry
}

type noProxyEntry struct {
	prefix netip.Prefix // valid for IP and CIDR entries
	domain string       // lower case, without leading "." or "*."
	port   string       // "" = any port
}

func parseNoProxy(name, v string) (noProxy, error) {
	var np noProxy
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		f = strings.ToLower(f)
		if f == "*" {
			np.all = true
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			np.entries = append(np.entries, noProxyEntry{prefix: NormalizePrefix(p)})
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			a = a.Unmap().WithZone("")
			np.entries = append(np.entries, noProxyEntry{prefix: netip.PrefixFrom(a, a.BitLen())})
			continue
		}
		e := noProxyEntry{}
		host := f
		if h, p, err := net.SplitHostPort(f); err == nil {
			if _, err := strconv.ParseUint(p, 10, 16); err != nil {
				return np, fmt.Errorf("%s: entry %q: port %q is not a number", name, f, p)
			}
			host, e.port = h, p
		}
		if a, err := netip.ParseAddr(host); err == nil {
			a = a.Unmap().WithZone("")
			e.prefix = netip.PrefixFrom(a, a.BitLen())
		} else {
			host = strings.TrimPrefix(strings.TrimPrefix(host, "*"), ".")
			if host == "" {
				return np, fmt.Errorf("%s: entry %q names no host", name, f)
			}
			e.domain = host
		}
		np.entries = append(np.entries, e)
	}
	return np, nil
}

// matches reports whether u goes direct.
func (np noProxy) matches(u *url.URL) bool {
	if np.all {
		return true
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	port := u.Port()
	if port == "" {
		if p, ok := urlPort(u); ok {
			port = strconv.Itoa(int(p))
		}
	}
	addr, err := netip.ParseAddr(host)
	isIP := err == nil
	if isIP {
		addr = addr.Unmap().WithZone("")
	}
	for _, e := range np.entries {
		if e.port != "" && e.port != port {
			continue
		}
		switch {
		case e.prefix.IsValid():
			if isIP && e.prefix.Contains(addr) {
				return true
			}
		case !isIP && (host == e.domain || strings.HasSuffix(host, "."+e.domain)):
			return true
		}
	}
	return false
}
