package delivery

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Defaults for Options. Timeouts follow Standard Webhooks (15–30 s total)
// and Hook0 (5 s connect); connection limits are sized so that one dead
// endpoint can hold at most MaxConnsPerHost sockets.
const (
	DefaultTimeout                = 15 * time.Second
	DefaultDialTimeout            = 5 * time.Second
	DefaultTLSHandshakeTimeout    = 5 * time.Second
	DefaultResponseHeaderTimeout  = 10 * time.Second
	DefaultIdleConnTimeout        = 90 * time.Second
	DefaultMaxIdleConns           = 512
	DefaultMaxConnsPerHost        = 32
	DefaultMaxIdleConnsPerHost    = 32
	DefaultMaxResponseBody        = 64 << 10
	DefaultMaxDrain               = 1 << 20
	DefaultMaxRequestBody         = 5 << 20
	DefaultMaxResponseHeaderBytes = 64 << 10
	DefaultVersion                = "dev"
)

// DefaultResponseHeaders returns the response headers kept in Result.Headers
// by default: what an operator needs to understand an answer (throttling,
// redirects, the receiver's request id for a support ticket).
func DefaultResponseHeaders() []string {
	return []string{
		"Retry-After", "Content-Type", "Content-Length", "Location",
		"X-Request-Id", "X-Correlation-Id", "X-Amzn-Requestid", "X-Amz-Request-Id",
		"Cf-Ray", "Date", "Server", "Www-Authenticate",
		"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset",
	}
}

// Options configures a Client. The zero value of every field means "use the
// default"; negative values are rejected by NewClient.
type Options struct {
	// Version goes into the User-Agent "auditrelay/<Version>".
	Version string
	// UserAgent overrides the whole User-Agent. A User-Agent header in a
	// Request (set by the integration's manifest) wins over both.
	UserAgent string

	// Timeout bounds one Send end to end: connect, TLS, request, response
	// headers and the capped body read.
	Timeout time.Duration
	// DialTimeout bounds the TCP connect.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for response headers once the
	// request is written. Capped at Timeout.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout closes keep-alive connections idle this long.
	IdleConnTimeout time.Duration

	// MaxIdleConns bounds idle keep-alive connections over all hosts.
	MaxIdleConns int
	// MaxIdleConnsPerHost bounds idle keep-alive connections per host.
	MaxIdleConnsPerHost int
	// MaxConnsPerHost bounds all connections per host (dialing, active,
	// idle), so a slow or dead endpoint cannot take every socket. Sends
	// beyond it wait, within their Timeout.
	MaxConnsPerHost int

	// MaxResponseBody is how many response-body bytes Result.Body keeps.
	MaxResponseBody int
	// MaxDrain is how many further bytes are read and discarded so the
	// connection can be reused; a longer body drops the connection.
	MaxDrain int64
	// MaxRequestBody refuses larger request bodies (ErrorClass
	// "body-too-large") instead of sending them.
	MaxRequestBody int
	// MaxResponseHeaderBytes bounds the response header block.
	MaxResponseHeaderBytes int64
	// ResponseHeaders names the response headers copied into
	// Result.Headers; nil means DefaultResponseHeaders().
	ResponseHeaders []string

	// TLSConfig is cloned for the transport; nil means system roots and
	// TLS 1.2 or newer.
	TLSConfig *tls.Config
	// Proxy picks a proxy per request; nil means ProxyFromEnv(os.Getenv):
	// HTTP_PROXY, HTTPS_PROXY and NO_PROXY, applied to loopback targets
	// too (so an egress proxy such as smokescreen sees every delivery).
	// A function returning nil, nil disables proxies.
	Proxy func(*http.Request) (*url.URL, error)
	// Targets decides which addresses may be dialled; nil means
	// NewTargets(TargetRules{}): the built-in denied ranges only.
	Targets *Targets
	// Resolver is used by the dialer; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// withDefaults validates o and fills in defaults.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	dur := func(name string, v *time.Duration, def time.Duration) {
		switch {
		case *v < 0:
			errs = append(errs, fmt.Errorf("delivery options: %s is %s, want > 0 (0 = default %s)", name, *v, def))
		case *v == 0:
			*v = def
		}
	}
	num := func(name string, v *int, def int) {
		switch {
		case *v < 0:
			errs = append(errs, fmt.Errorf("delivery options: %s is %d, want > 0 (0 = default %d)", name, *v, def))
		case *v == 0:
			*v = def
		}
	}
	num64 := func(name string, v *int64, def int64) {
		switch {
		case *v < 0:
			errs = append(errs, fmt.Errorf("delivery options: %s is %d, want > 0 (0 = default %d)", name, *v, def))
		case *v == 0:
			*v = def
		}
	}
	dur("Timeout", &o.Timeout, DefaultTimeout)
	dur("DialTimeout", &o.DialTimeout, DefaultDialTimeout)
	dur("TLSHandshakeTimeout", &o.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout)
	dur("ResponseHeaderTimeout", &o.ResponseHeaderTimeout, DefaultResponseHeaderTimeout)
	dur("IdleConnTimeout", &o.IdleConnTimeout, DefaultIdleConnTimeout)
	num("MaxIdleConns", &o.MaxIdleConns, DefaultMaxIdleConns)
	num("MaxIdleConnsPerHost", &o.MaxIdleConnsPerHost, DefaultMaxIdleConnsPerHost)
	num("MaxConnsPerHost", &o.MaxConnsPerHost, DefaultMaxConnsPerHost)
	num("MaxResponseBody", &o.MaxResponseBody, DefaultMaxResponseBody)
	num64("MaxDrain", &o.MaxDrain, DefaultMaxDrain)
	num("MaxRequestBody", &o.MaxRequestBody, DefaultMaxRequestBody)
	num64("MaxResponseHeaderBytes", &o.MaxResponseHeaderBytes, DefaultMaxResponseHeaderBytes)
	if len(errs) > 0 {
		return o, errors.Join(errs...)
	}
	o.ResponseHeaderTimeout = min(o.ResponseHeaderTimeout, o.Timeout)
	o.DialTimeout = min(o.DialTimeout, o.Timeout)
	o.TLSHandshakeTimeout = min(o.TLSHandshakeTimeout, o.Timeout)
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.UserAgent == "" {
		o.UserAgent = "auditrelay/" + o.Version
	}
	if o.ResponseHeaders == nil {
		o.ResponseHeaders = DefaultResponseHeaders()
	}
	if o.Proxy == nil {
		p, err := ProxyFromEnv(os.Getenv)
		if err != nil {
			return o, fmt.Errorf("proxy from the environment: %w", err)
		}
		o.Proxy = p
	}
	if o.Targets == nil {
		t, err := NewTargets(TargetRules{})
		if err != nil {
			return o, err
		}
		o.Targets = t
	}
	if o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		o.TLSConfig = o.TLSConfig.Clone()
	}
	return o, nil
}
