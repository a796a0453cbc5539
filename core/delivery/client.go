package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// Client sends deliveries over one shared, tuned transport. It is safe for
// concurrent use. Close it to release idle connections.
type Client struct {
	opts   Options
	keep   map[string]int // canonical response header name → order
	dialer *net.Dialer
	tr     *http.Transport
	hc     *http.Client
	// proxies holds the host:port of every proxy Proxy has chosen, so a
	// dial to one is checked as a proxy (see Targets.check).
	proxies sync.Map
}

// NewClient builds a Client; zero Options fields take their defaults.
func NewClient(o Options) (*Client, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	dialer := &net.Dialer{
		Timeout:   o.DialTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  o.Resolver,
	}
	c := &Client{opts: o, dialer: dialer}
	tr := &http.Transport{
		Proxy:                  c.proxy,
		DialContext:            c.dial,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        o.TLSConfig,
		TLSHandshakeTimeout:    o.TLSHandshakeTimeout,
		ResponseHeaderTimeout:  o.ResponseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        o.IdleConnTimeout,
		MaxIdleConns:           o.MaxIdleConns,
		MaxIdleConnsPerHost:    o.MaxIdleConnsPerHost,
		MaxConnsPerHost:        o.MaxConnsPerHost,
		MaxResponseHeaderBytes: o.MaxResponseHeaderBytes,
		// Raw bytes only: transparent gunzip would let a small compressed
		// answer expand past every cap below.
		DisableCompression: true,
	}
	hc := &http.Client{
		Transport: tr,
		// A 3xx is the receiver's answer; following it could send an
		// audit payload (and its signature) somewhere nobody configured.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	keep := make(map[string]int, len(o.ResponseHeaders))
	for i, name := range o.ResponseHeaders {
		if _, dup := keep[http.CanonicalHeaderKey(name)]; !dup {
			keep[http.CanonicalHeaderKey(name)] = i
		}
	}
	c.keep, c.tr, c.hc = keep, tr, hc
	return c, nil
}

// Options returns the effective options (defaults filled in).
func (c *Client) Options() Options { return c.opts }

// Targets returns the rules the client dials by, to record the relay's
// listeners and check URLs ahead of a delivery.
func (c *Client) Targets() *Targets { return c.opts.Targets }

// proxy wraps Options.Proxy. Through a proxy the client dials only the
// proxy, and the proxy resolves the target's name; what can still be
// checked here is a target written as a literal address (or localhost),
// before the request is handed over.
func (c *Client) proxy(r *http.Request) (*url.URL, error) {
	p, err := c.opts.Proxy(r)
	if err != nil || p == nil {
		return p, err
	}
	port, ok := urlPort(p)
	if !ok {
		return nil, fmt.Errorf("proxy %s: port %q is not a number", p.Redacted(), p.Port())
	}
	addr := net.JoinHostPort(p.Hostname(), strconv.Itoa(int(port)))
	c.proxies.Store(addr, true)
	if err := c.opts.Targets.checkURL(r.URL, addr); err != nil {
		return nil, err
	}
	return p, nil
}

// dial connects with the target rules applied to each address actually
// dialled, after DNS: a name that resolves (or re-resolves) into a denied
// range cannot pass, whatever it resolved to before.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	name := host
	if _, err := netip.ParseAddr(host); err == nil {
		name = "" // a literal: no "resolved to" in messages
	}
	_, isProxy := c.proxies.Load(addr)
	d := *c.dialer
	d.ControlContext = func(_ context.Context, _, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dialling %s: unexpected address %q", addr, address)
		}
		return c.opts.Targets.check(ap, name, isProxy)
	}
	return d.DialContext(ctx, network, addr)
}

// Close closes idle connections. In-flight Sends finish normally.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// errSendTimeout is the cause attached to Send's own deadline, so that it
// can be told apart from the caller's context ending.
var errSendTimeout = errors.New("send timeout")

// Send performs one attempt. It never panics on bad input: problems with
// the request come back as ClassInvalid or ClassBodyTooLarge without
// anything being sent.
func (c *Client) Send(ctx context.Context, r Request) Result {
	if ctx == nil {
		ctx = context.Background()
	}
	var res Result
	method, u, err := c.validate(r)
	if err != nil {
		class := ClassInvalid
		if errors.Is(err, errBodyTooLarge) {
			class = ClassBodyTooLarge
		}
		res.ErrorClass = class
		res.Err = &SendError{Class: class, msg: r.Mask.Text(err.Error())}
		return res
	}

	hdr := make(http.Header, len(r.Headers)+6)
	host := ""
	for _, h := range r.Headers {
		if equalFold(h.Name, "Host") {
			host = h.Value
			continue
		}
		hdr.Add(h.Name, h.Value)
	}
	added := make([]Header, 0, 6)
	set := func(name, value string) {
		hdr.Set(name, value)
		added = append(added, Header{Name: http.CanonicalHeaderKey(name), Value: value})
	}
	set(HeaderDeliveryID, r.DeliveryID)
	set(HeaderAttempt, strconv.Itoa(r.Attempt))
	if hdr.Get("User-Agent") == "" {
		set("User-Agent", c.opts.UserAgent)
	}
	if r.StandardWebhooks != nil {
		ts := time.Now()
		set(HeaderWebhookID, r.DeliveryID)
		set(HeaderWebhookTS, strconv.FormatInt(ts.Unix(), 10))
		set(HeaderWebhookSig, r.StandardWebhooks.Sign(r.DeliveryID, ts, r.Body))
	}
	target := u.String()
	res.AddedHeaders = added
	res.RequestDigest = digestHTTP(method, target, host, hdr, r.Body)

	sendCtx, cancel := context.WithTimeoutCause(ctx, c.opts.Timeout, errSendTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(sendCtx, method, target, bytes.NewReader(r.Body))
	if err != nil {
		res.ErrorClass = ClassInvalid
		res.Err = &SendError{Class: ClassInvalid, msg: r.Mask.Text("invalid request: " + innerError(err).Error()), err: innerError(err)}
		return res
	}
	req.Header = hdr
	if host != "" {
		req.Host = host
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		res.Duration = time.Since(start)
		res.ErrorClass, res.Err = c.classify(ctx, sendCtx, err, r.Mask)
		return res
	}
	res.StatusCode = resp.StatusCode
	res.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	res.Headers = keepHeaders(resp.Header, c.keep, r.Mask)
	res.Body, res.BodyTruncated, res.BodyErr = readCapped(resp.Body, c.opts.MaxResponseBody, c.opts.MaxDrain)
	// Closing before EOF (a body longer than the drain bound) makes the
	// transport drop the connection instead of reusing it.
	resp.Body.Close()
	res.Duration = time.Since(start)
	res.Body = r.Mask.Bytes(res.Body)
	if res.BodyErr != nil {
		res.BodyErr = &SendError{Class: ClassProtocol, msg: r.Mask.Text("reading response body: " + res.BodyErr.Error()), err: res.BodyErr}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.ErrorClass = ClassStatus
		res.Err = &SendError{Class: ClassStatus, msg: "HTTP " + statusLine(resp.StatusCode)}
	}
	return res
}

// statusLine is "503 Service Unavailable", or just the number for codes
// without a standard text.
func statusLine(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return strconv.Itoa(code)
}

// readCapped keeps the first max bytes, then discards up to drain more so a
// fully read body lets the connection be reused. Memory stays O(max).
func readCapped(body io.Reader, max int, drain int64) ([]byte, bool, error) {
	kept, err := io.ReadAll(io.LimitReader(body, int64(max)))
	if err != nil {
		return kept, true, err
	}
	if len(kept) < max {
		return kept, false, nil
	}
	n, err := io.CopyN(io.Discard, body, drain)
	if err != nil && !errors.Is(err, io.EOF) {
		return kept, true, err
	}
	return kept, n > 0, nil
}

// keepHeaders copies the response headers named in keep (canonical name →
// position in Options.ResponseHeaders), masked, in that order.
func keepHeaders(h http.Header, keep map[string]int, m *mask.Masker) []Header {
	var out []Header
	for name, vals := range h {
		if _, ok := keep[name]; !ok {
			continue
		}
		for _, v := range vals {
			out = append(out, Header{Name: name, Value: m.Header(name, v, false)})
		}
	}
	// Map order is random; keep the configured order, values in order.
	slices.SortStableFunc(out, func(a, b Header) int { return keep[a.Name] - keep[b.Name] })
	return out
}

// innerError strips a *url.Error, whose text repeats the full URL.
func innerError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}

// sendErr builds a SendError whose message is masked.
func sendErr(class ErrorClass, inner error, m *mask.Masker, format string, args ...any) *SendError {
	return &SendError{Class: class, msg: m.Text(fmt.Sprintf(format, args...)), err: inner}
}
