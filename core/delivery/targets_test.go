package delivery

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func prefixes(t *testing.T, ss ...string) []netip.Prefix {
	t.Helper()
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// TestTargetRules walks the decision for addresses under several rule
// sets: built-in ranges, the operator's lists, most-specific-wins and the
// IPv4-in-IPv6 forms.
func TestTargetRules(t *testing.T) {
	type probe struct {
		addr string // ip:port
		want string // "" allowed, else a substring of the refusal
	}
	cases := []struct {
		name   string
		rules  TargetRules
		probes []probe
	}{
		{
			name: "defaults",
			probes: []probe{
				{"127.0.0.1:8080", ""},
				{"[::1]:8080", ""},
				{"10.1.2.3:443", ""},
				{"192.168.1.10:443", ""},
				{"203.0.113.7:443", ""},
				{"[2001:db8::1]:443", ""},
				{"169.254.169.254:80", "169.254.169.254 is in a link-local/metadata range (169.254.0.0/16, delivery.denied_targets default)"},
				{"169.254.10.1:80", "169.254.0.0/16"},
				{"[::ffff:169.254.169.254]:80", "169.254.169.254 is in a link-local/metadata range"},
				{"[::ffff:a9fe:a9fe]:80", "169.254.169.254 is in"},
				{"[64:ff9b::a9fe:a9fe]:80", "64:ff9b::a9fe:a9fe (NAT64 for 169.254.169.254) is in a link-local/metadata range"},
				{"[fe80::1]:80", "is in a link-local range (fe80::/10"},
				{"[fe80::1%eth0]:80", "fe80::1 is in a link-local range"},
				{"[fd00:ec2::254]:80", "the AWS IPv6 metadata range (fd00:ec2::/32"},
				{"100.100.100.200:80", "Alibaba Cloud's metadata address"},
				{"100.100.100.100:80", ""},
				{"0.0.0.0:8080", "0.0.0.0 is in the \"this host\" range"},
				{"0.1.2.3:8080", "0.0.0.0/8"},
				{"[::]:8080", ":: is in the unspecified address"},
				{"[::ffff:0.0.0.0]:8080", "0.0.0.0 is in"},
			},
		},
		{
			name:  "denied list adds to the defaults",
			rules: TargetRules{Denied: prefixes(t, "127.0.0.0/8", "10.0.0.0/8")},
			probes: []probe{
				{"127.0.0.1:8080", "127.0.0.1 is in 127.0.0.0/8 (delivery.denied_targets)"},
				{"[::ffff:127.0.0.1]:8080", "127.0.0.1 is in 127.0.0.0/8"},
				{"10.9.9.9:443", "10.0.0.0/8 (delivery.denied_targets)"},
				{"[::1]:8080", ""},
				{"192.168.1.1:443", ""},
				{"169.254.169.254:80", "delivery.denied_targets default"},
			},
		},
		{
			name:  "allowed list is an allow-list",
			rules: TargetRules{Allowed: prefixes(t, "10.0.0.0/8", "192.168.50.0/24")},
			probes: []probe{
				{"10.1.2.3:443", ""},
				{"192.168.50.9:443", ""},
				{"192.168.51.9:443", "192.168.51.9 is not in delivery.allowed_targets (10.0.0.0/8, 192.168.50.0/24)"},
				{"127.0.0.1:8080", "is not in delivery.allowed_targets"},
				{"169.254.169.254:80", "delivery.denied_targets default"},
			},
		},
		{
			name: "most specific wins both ways",
			rules: TargetRules{
				Allowed: prefixes(t, "10.0.0.0/8", "10.5.5.0/24"),
				Denied:  prefixes(t, "10.5.0.0/16"),
			},
			probes: []probe{
				{"10.1.1.1:443", ""},
				{"10.5.1.1:443", "10.5.1.1 is in 10.5.0.0/16 (delivery.denied_targets)"},
				{"10.5.5.5:443", ""},
			},
		},
		{
			name:  "allowing a metadata range lifts the default, a wider range does not",
			rules: TargetRules{Allowed: prefixes(t, "0.0.0.0/0", "::/0", "169.254.169.254/32", "fe80::/10")},
			probes: []probe{
				{"169.254.169.254:80", ""},
				{"169.254.1.1:80", "link-local/metadata range"},
				{"[fe80::1]:80", ""},
				{"[fd00:ec2::254]:80", "AWS IPv6 metadata"},
				{"203.0.113.1:443", ""},
			},
		},
		{
			name:  "mapped prefixes in the lists",
			rules: TargetRules{Denied: prefixes(t, "::ffff:10.0.0.0/104", "203.0.113.5/32")},
			probes: []probe{
				{"10.2.3.4:443", "10.2.3.4 is in 10.0.0.0/8"},
				{"[::ffff:203.0.113.5]:443", "203.0.113.5 is in 203.0.113.5/32"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := NewTargets(tc.rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.probes {
				err := tg.Check(netip.MustParseAddrPort(p.addr))
				switch {
				case p.want == "" && err != nil:
					t.Errorf("%s: refused (%v), want allowed", p.addr, err)
				case p.want != "" && err == nil:
					t.Errorf("%s: allowed, want refused with %q", p.addr, p.want)
				case p.want != "" && !strings.Contains(err.Error(), p.want):
					t.Errorf("%s: %q, want it to contain %q", p.addr, err, p.want)
				}
				if _, ok := err.(*TargetError); err != nil && !ok {
					t.Errorf("%s: error is %T, want *TargetError", p.addr, err)
				}
			}
		})
	}
}

func TestTargetRulesConflict(t *testing.T) {
	_, err := NewTargets(TargetRules{Allowed: prefixes(t, "10.0.0.0/8"), Denied: prefixes(t, "10.0.0.0/8")})
	if err == nil || !strings.Contains(err.Error(), "10.0.0.0/8 is both in delivery.allowed_targets and in delivery.denied_targets") {
		t.Fatalf("err = %v", err)
	}
}

// TestOwnListeners: the relay's listeners are refused by address, a
// wildcard listener through every local address, a loopback one through
// every loopback address, and updated when bound.
func TestOwnListeners(t *testing.T) {
	tg, err := NewTargets(TargetRules{})
	if err != nil {
		t.Fatal(err)
	}
	must := func(l Listener) {
		t.Helper()
		if err := tg.SetListener(l); err != nil {
			t.Fatal(err)
		}
	}
	must(Listener{Name: "admin listener", Addr: "127.0.0.1:8081"})
	must(Listener{Name: "HTTP listener", Addr: ":8080"})
	must(Listener{Name: "SSH listener", Addr: "[::]:2222"})
	must(Listener{Name: "later listener", Addr: "127.0.0.1:0"})
	cases := []struct {
		addr, want string
	}{
		{"127.0.0.1:8081", "127.0.0.1:8081 is this relay's admin listener"},
		{"[::1]:8081", "[::1]:8081 is this relay's admin listener"},
		{"127.0.0.2:8081", "is this relay's admin listener"},
		{"[::ffff:127.0.0.1]:8081", "127.0.0.1:8081 is this relay's admin listener"},
		{"0.0.0.0:8081", "0.0.0.0:8081 is this relay's admin listener"},
		{"127.0.0.1:8080", "127.0.0.1:8080 is this relay's HTTP listener (listening on :8080)"},
		{"[::1]:2222", "is this relay's SSH listener (listening on [::]:2222)"},
		{"127.0.0.1:8082", ""},
		{"127.0.0.1:0", ""},
		{"203.0.113.10:8080", ""}, // not an address of this machine
		{"10.0.0.1:8081", ""},
	}
	for _, tc := range cases {
		err := tg.Check(netip.MustParseAddrPort(tc.addr))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused (%v), want allowed", tc.addr, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.addr, err, tc.want)
		}
	}
	// An address of this machine other than loopback reaches a wildcard
	// listener.
	if a := nonLoopbackAddr(t); a.IsValid() {
		if err := tg.Check(netip.AddrPortFrom(a, 8080)); err == nil || !strings.Contains(err.Error(), "HTTP listener") {
			t.Errorf("%s:8080 (an interface address): %v, want the HTTP listener", a, err)
		}
	}
	// Bound: the admin listener moved to another port.
	must(Listener{Name: "admin listener", Addr: "127.0.0.1:40123"})
	if err := tg.Check(netip.MustParseAddrPort("127.0.0.1:8081")); err != nil {
		t.Errorf("old admin address still refused: %v", err)
	}
	if err := tg.Check(netip.MustParseAddrPort("127.0.0.1:40123")); err == nil {
		t.Error("bound admin address allowed")
	}
	if err := tg.SetListener(Listener{Name: "x", Addr: "no-port"}); err == nil {
		t.Error("SetListener accepted an address without a port")
	}
}

func nonLoopbackAddr(t *testing.T) netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}
	}
	for _, x := range addrs {
		if n, ok := x.(*net.IPNet); ok {
			if a, ok := netip.AddrFromSlice(n.IP); ok && !a.Unmap().IsLoopback() && !a.Unmap().IsLinkLocalUnicast() {
				return a.Unmap()
			}
		}
	}
	return netip.Addr{}
}

func TestCheckURLWithoutDNS(t *testing.T) {
	tg, err := NewTargets(TargetRules{Denied: prefixes(t, "127.0.0.0/8")})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.SetListener(Listener{Name: "admin listener", Addr: "127.0.0.1:8081"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ url, want string }{
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is in a link-local/metadata range"},
		{"http://[fd00:ec2::254]/latest/", "AWS IPv6 metadata"},
		{"https://127.0.0.1/hook", "127.0.0.1 is in 127.0.0.0/8 (delivery.denied_targets)"},
		{"http://localhost:8081/admin/v1/deliveries", "localhost resolved to 127.0.0.1:8081, which is this relay's admin listener"},
		{"http://LOCALHOST:9000/", ""}, // ::1 is still allowed
		{"http://[::1]:8081/", "is this relay's admin listener"},
		{"https://hooks.example.com/x", ""}, // a name: checked when dialled
		{"http://10.0.0.1:99999/", ""},      // a bad port: Send's to report
	}
	for _, tc := range cases {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		err = tg.CheckURL(u)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused (%v), want allowed", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.url, err, tc.want)
		}
	}
}

// ownServer is a real HTTP server registered as one of the relay's own
// listeners; it counts what reaches it.
type ownServer struct {
	*httptest.Server
	mu  sync.Mutex
	hit int
}

func newOwnServer(t *testing.T) *ownServer {
	s := &ownServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hit++
		s.mu.Unlock()
		w.Write([]byte(`{"deliveries":[{"id":"dlv_secret_admin_data"}]}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *ownServer) hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hit
}

// TestSendRefusesOwnListener: a delivery aimed at the relay's admin
// listener (bound on a specific address or on every address) is refused
// at connect time, fails at once with the reason, and carries no body.
func TestSendRefusesOwnListener(t *testing.T) {
	for _, form := range []string{"exact", "wildcard"} {
		t.Run(form, func(t *testing.T) {
			admin := newOwnServer(t)
			addr := admin.Listener.Addr().(*net.TCPAddr)
			c := newTestClient(t, Options{})
			reg := addr.String()
			if form == "wildcard" {
				reg = net.JoinHostPort("", strconv.Itoa(addr.Port))
			}
			if err := c.Targets().SetListener(Listener{Name: "admin listener", Addr: reg}); err != nil {
				t.Fatal(err)
			}
			res := c.Send(context.Background(), req(admin.URL+"/admin/v1/deliveries"))
			wantClass(t, res, ClassTarget)
			if want := addr.String() + " is this relay's admin listener"; !strings.Contains(res.Err.Error(), want) {
				t.Errorf("error %q, want %q", res.Err, want)
			}
			if res.StatusCode != 0 || len(res.Body) != 0 || len(res.Headers) != 0 {
				t.Errorf("status %d, body %q, headers %v: want nothing received", res.StatusCode, res.Body, res.Headers)
			}
			if n := admin.hits(); n != 0 {
				t.Errorf("the admin listener received %d requests", n)
			}
			v := defaultSchedule().Decide(0, res, time.Now(), seq(1))
			wantOutcome(t, v, Fail, "not sent: target refused: "+addr.String()+" is this relay's admin listener")
		})
	}
}

// TestSendRefusesNameResolvingIntoDeniedRange: the check is on the address
// the name resolves to when dialled, not on the name.
func TestSendRefusesNameResolvingIntoDeniedRange(t *testing.T) {
	sink := newRecorder(t)
	port := sink.Listener.Addr().(*net.TCPAddr).Port
	tg, err := NewTargets(TargetRules{Denied: prefixes(t, "127.0.0.0/8", "::1/128")})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, Options{Targets: tg})
	res := c.Send(context.Background(), req("http://localhost:"+strconv.Itoa(port)+"/hook"))
	wantClass(t, res, ClassTarget)
	msg := res.Err.Error()
	if !strings.Contains(msg, "target refused: localhost resolved to ") || !strings.Contains(msg, "(delivery.denied_targets)") {
		t.Errorf("error %q, want the name, the address and the rule", msg)
	}
	if n := len(sink.requests()); n != 0 {
		t.Errorf("the sink received %d requests", n)
	}
	wantOutcome(t, defaultSchedule().Decide(0, res, time.Now(), seq(2)), Fail, "not sent: target refused: localhost resolved to")

	// The same name is fine when the rules allow it.
	ok := newTestClient(t, Options{})
	if res := ok.Send(context.Background(), req("http://localhost:"+strconv.Itoa(port)+"/hook")); res.Err != nil {
		t.Fatalf("allowed send: %v", res.Err)
	}
}

// proxyRecorder is a real forward proxy stand-in: it records the
// absolute-form request line it is sent and answers itself.
type proxyRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	uris []string
}

func newProxyRecorder(t *testing.T) *proxyRecorder {
	p := &proxyRecorder{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.uris = append(p.uris, r.RequestURI)
		p.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *proxyRecorder) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.uris...)
}

// TestProxyFromEnvironmentForLoopback: HTTP_PROXY is used for a loopback
// target too (net/http's ProxyFromEnvironment would go direct), and
// NO_PROXY can still exempt it.
func TestProxyFromEnvironmentForLoopback(t *testing.T) {
	proxy := newProxyRecorder(t)
	sink := newRecorder(t)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", "")
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	c, err := NewClient(Options{}) // Proxy nil: the environment
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target := sink.URL + "/hook"
	res := c.Send(context.Background(), req(target))
	if res.Err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("send through the proxy: status %d, %v", res.StatusCode, res.Err)
	}
	if got := proxy.seen(); len(got) != 1 || got[0] != target {
		t.Errorf("proxy saw %q, want [%q]", got, target)
	}
	if n := len(sink.requests()); n != 0 {
		t.Errorf("the sink was reached directly %d times", n)
	}

	t.Setenv("NO_PROXY", "localhost, 127.0.0.0/8 ,::1")
	direct, err := NewClient(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	if res := direct.Send(context.Background(), req(target)); res.Err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("direct send: status %d, %v", res.StatusCode, res.Err)
	}
	if n := len(sink.requests()); n != 1 {
		t.Errorf("with NO_PROXY the sink got %d requests, want 1", n)
	}
	if n := len(proxy.seen()); n != 1 {
		t.Errorf("with NO_PROXY the proxy got %d requests in all, want 1", n)
	}
}

// TestProxyStillChecks: through a proxy, a literal target address is
// checked before the request is handed over, and the proxy's own address
// is checked when dialled.
func TestProxyStillChecks(t *testing.T) {
	proxy := newProxyRecorder(t)
	admin := newOwnServer(t)
	proxyURL, _ := url.Parse(proxy.URL)

	c := newTestClient(t, Options{Proxy: http.ProxyURL(proxyURL)})
	if err := c.Targets().SetListener(Listener{Name: "admin listener", Addr: admin.Listener.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	res := c.Send(context.Background(), req(admin.URL+"/admin/v1/deliveries"))
	wantClass(t, res, ClassTarget)
	want := admin.Listener.Addr().String() + " is this relay's admin listener (checked before handing the request to proxy " + proxyURL.Host + ")"
	if !strings.Contains(res.Err.Error(), want) {
		t.Errorf("error %q, want %q", res.Err, want)
	}
	if n := len(proxy.seen()); n != 0 {
		t.Errorf("the proxy received %d requests", n)
	}

	// The proxy is itself one of the relay's listeners.
	c2 := newTestClient(t, Options{Proxy: http.ProxyURL(proxyURL)})
	if err := c2.Targets().SetListener(Listener{Name: "HTTP listener", Addr: proxyURL.Host}); err != nil {
		t.Fatal(err)
	}
	res = c2.Send(context.Background(), req("http://hooks.example.com/x"))
	wantClass(t, res, ClassTarget)
	if want := "target refused: proxy " + proxyURL.Host + " is this relay's HTTP listener"; !strings.Contains(res.Err.Error(), want) {
		t.Errorf("error %q, want %q", res.Err, want)
	}
	if n := len(proxy.seen()); n != 0 {
		t.Errorf("the proxy received %d requests", n)
	}

	// allowed_targets lists where deliveries go; the proxy the operator
	// set need not be in it, and names are left to the proxy.
	tg, err := NewTargets(TargetRules{Allowed: prefixes(t, "192.0.2.0/24")})
	if err != nil {
		t.Fatal(err)
	}
	c3 := newTestClient(t, Options{Proxy: http.ProxyURL(proxyURL), Targets: tg})
	res = c3.Send(context.Background(), req("http://hooks.example.com/x"))
	if res.Err != nil || res.StatusCode != http.StatusAccepted {
		t.Fatalf("through an allowed proxy: status %d, %v", res.StatusCode, res.Err)
	}
	res = c3.Send(context.Background(), req("http://198.51.100.7/x"))
	wantClass(t, res, ClassTarget)
	if !strings.Contains(res.Err.Error(), "198.51.100.7 is not in delivery.allowed_targets (192.0.2.0/24)") {
		t.Errorf("error %q", res.Err)
	}
}

func TestNoProxyMatching(t *testing.T) {
	cases := []struct {
		noProxy string
		url     string
		direct  bool
	}{
		{"", "http://127.0.0.1:8080/", false},
		{"", "http://localhost/", false},
		{"*", "http://hooks.example.com/", true},
		{"example.com", "http://example.com/", true},
		{"example.com", "http://hooks.example.com/", true},
		{"example.com", "http://badexample.com/", false},
		{".example.com", "http://example.com/", true},
		{"*.example.com", "http://a.b.example.com/", true},
		{"EXAMPLE.com", "http://Hooks.Example.COM./", true},
		{"example.com:8443", "https://example.com:8443/", true},
		{"example.com:8443", "https://example.com/", false},
		{"example.com:443", "https://example.com/", true},
		{"10.0.0.0/8", "http://10.2.3.4/", true},
		{"10.0.0.0/8", "http://11.2.3.4/", false},
		{"10.0.0.0/8", "http://ten.internal/", false}, // names are not resolved
		{"127.0.0.1", "http://127.0.0.1:9/", true},
		{"127.0.0.1", "http://[::ffff:127.0.0.1]:9/", true},
		{"127.0.0.1:80", "http://127.0.0.1:9/", false},
		{"::1", "http://[::1]:9/", true},
		{"[::1]:9", "http://[::1]:9/", true},
		{"localhost", "http://localhost:9/", true},
		{"localhost", "http://127.0.0.1:9/", false},
		{"a.test, b.test", "http://b.test/", true},
	}
	for _, tc := range cases {
		np, err := parseNoProxy("NO_PROXY", tc.noProxy)
		if err != nil {
			t.Fatalf("%q: %v", tc.noProxy, err)
		}
		u, _ := url.Parse(tc.url)
		if got := np.matches(u); got != tc.direct {
			t.Errorf("NO_PROXY=%q %s: direct = %v, want %v", tc.noProxy, tc.url, got, tc.direct)
		}
	}
}

func TestProxyFromEnvErrors(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HTTPS_PROXY": "ftp://proxy:21"}, `HTTPS_PROXY: proxy scheme "ftp"`},
		{map[string]string{"http_proxy": "http://:3128"}, "http_proxy: proxy URL has no host"},
		{map[string]string{"HTTP_PROXY": "http://proxy:99999"}, `HTTP_PROXY: proxy port "99999"`},
		{map[string]string{"NO_PROXY": "example.com:http"}, `NO_PROXY: entry "example.com:http"`},
		{map[string]string{"HTTP_PROXY": "proxy.internal:3128"}, ""},
		{map[string]string{"HTTP_PROXY": "socks5h://127.0.0.1:1080"}, ""},
	}
	for _, tc := range cases {
		_, err := ProxyFromEnv(func(k string) string { return tc.env[k] })
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v, want %q", tc.env, err, tc.want)
		}
	}
	// Upper case wins; a value without a scheme is http.
	f, err := ProxyFromEnv(func(k string) string {
		return map[string]string{"HTTPS_PROXY": "up:1", "https_proxy": "low:2"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest(http.MethodPost, "https://hooks.example.com/", nil)
	if p, _ := f(r); p == nil || p.String() != "http://up:1" {
		t.Errorf("proxy = %v, want http://up:1", p)
	}
	r, _ = http.NewRequest(http.MethodPost, "http://hooks.example.com/", nil)
	if p, _ := f(r); p != nil {
		t.Errorf("http target proxied by HTTPS_PROXY: %v", p)
	}
}

// TestBadProxyEnvironmentStopsTheClient: a proxy variable that is not a
// usable URL is an error naming it, not a silent direct connection.
func TestBadProxyEnvironmentStopsTheClient(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "ftp://proxy.internal:21")
	_, err := NewClient(Options{})
	if err == nil || !strings.Contains(err.Error(), `proxy from the environment: HTTPS_PROXY: proxy scheme "ftp", want http, https, socks5 or socks5h`) {
		t.Fatalf("NewClient: %v", err)
	}
}

// BenchmarkTargetsCheck is the cost added to every new connection: the
// decision for an allowed address with a realistic rule set and listeners
// (one of them a wildcard on another port).
func BenchmarkTargetsCheck(b *testing.B) {
	tg, err := NewTargets(TargetRules{Allowed: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.0/8")}, Denied: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}})
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range []Listener{{Name: "HTTP listener", Addr: ":8080"}, {Name: "admin listener", Addr: "127.0.0.1:8081"}, {Name: "SSH listener", Addr: ":2222"}} {
		if err := tg.SetListener(l); err != nil {
			b.Fatal(err)
		}
	}
	ap := netip.MustParseAddrPort("10.1.2.3:443")
	b.ReportAllocs()
	for b.Loop() {
		if err := tg.Check(ap); err != nil {
			b.Fatal(err)
		}
	}
}
