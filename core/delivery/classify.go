package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/auditrelay/auditrelay/core/duration"
	"github.com/auditrelay/auditrelay/core/mask"
)

var errBodyTooLarge = errors.New("request body too large")

// validate checks what Send would otherwise hand to net/http, so bad input
// gets an error naming the field instead of a transport error later.
func (c *Client) validate(r Request) (string, *url.URL, error) {
	if err := checkDeliveryID(r.DeliveryID); err != nil {
		return "", nil, err
	}
	if r.Attempt < 1 {
		return "", nil, fmt.Errorf("invalid request: attempt is %d, want >= 1", r.Attempt)
	}
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	if !isToken(method) {
		return "", nil, fmt.Errorf("invalid request: method %q is not an HTTP token", method)
	}
	if strings.TrimSpace(r.URL) == "" {
		return "", nil, errors.New("invalid request: url is empty")
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return "", nil, fmt.Errorf("invalid request: url: %w", innerError(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return "", nil, fmt.Errorf("invalid request: url scheme %q, want http or https", u.Scheme)
	}
	if u.Host == "" {
		return "", nil, errors.New("invalid request: url has no host")
	}
	for i, h := range r.Headers {
		if !isToken(h.Name) {
			return "", nil, fmt.Errorf("invalid request: header %d name %q is not an HTTP token", i+1, h.Name)
		}
		if j := badValueByte(h.Value); j >= 0 {
			// The value may be a secret: name the header and position only.
			return "", nil, fmt.Errorf("invalid request: header %q value has a control character at byte %d", h.Name, j)
		}
	}
	if len(r.Body) > c.opts.MaxRequestBody {
		return "", nil, fmt.Errorf("%w: %d bytes, limit %d (Options.MaxRequestBody)", errBodyTooLarge, len(r.Body), c.opts.MaxRequestBody)
	}
	return method, u, nil
}

// checkDeliveryID keeps the id safe as a header value and as the Standard
// Webhooks message id.
func checkDeliveryID(id string) error {
	if id == "" {
		return errors.New("invalid request: delivery id is empty")
	}
	if len(id) > 255 {
		return fmt.Errorf("invalid request: delivery id is %d bytes, limit 255", len(id))
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] >= 0x7f {
			return fmt.Errorf("invalid request: delivery id has byte 0x%02x at %d, want printable ASCII without spaces", id[i], i)
		}
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// badValueByte returns the index of the first byte not allowed in a header
// value (controls other than tab, DEL), or -1.
func badValueByte(v string) int {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return i
		}
	}
	return -1
}

// classify maps a transport error to an ErrorClass and a masked message.
// Order matters: the caller stopping wins over everything, then our own
// deadline, then the most specific network cause.
func (c *Client) classify(parent, sendCtx context.Context, err error, m *mask.Masker) (ErrorClass, error) {
	inner := innerError(err)
	if perr := parent.Err(); perr != nil {
		if errors.Is(perr, context.Canceled) {
			return ClassCanceled, sendErr(ClassCanceled, inner, m, "canceled: %v", context.Cause(parent))
		}
		return ClassTimeout, sendErr(ClassTimeout, inner, m, "timeout: caller's deadline passed before an answer")
	}
	if errors.Is(context.Cause(sendCtx), errSendTimeout) {
		return ClassTimeout, sendErr(ClassTimeout, inner, m, "timeout: no complete answer within %s", duration.Format(c.opts.Timeout))
	}

	// Refused by the target rules: nothing was sent, and the same
	// address will be refused next time.
	var te *TargetError
	if errors.As(err, &te) {
		return ClassTarget, sendErr(ClassTarget, te, m, "target refused: %s", te.Error())
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		what := dnsErr.Err
		if dnsErr.IsNotFound {
			what = "no such host"
		}
		return ClassDNS, sendErr(ClassDNS, inner, m, "dns: lookup %s: %s", dnsErr.Name, what)
	}
	if isTLSError(err) {
		msg := inner.Error()
		if !strings.HasPrefix(msg, "tls: ") {
			msg = "tls: " + msg
		}
		return ClassTLS, sendErr(ClassTLS, inner, m, "%s", msg)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return ClassConnect, sendErr(ClassConnect, inner, m, "connect: %v", inner)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		if strings.Contains(inner.Error(), "awaiting response headers") {
			return ClassTimeout, sendErr(ClassTimeout, inner, m, "timeout: no response headers within %s", duration.Format(c.opts.ResponseHeaderTimeout))
		}
		return ClassTimeout, sendErr(ClassTimeout, inner, m, "timeout: %v", inner)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ClassTimeout, sendErr(ClassTimeout, inner, m, "timeout: %v", inner)
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled, sendErr(ClassCanceled, inner, m, "canceled: %v", inner)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ClassProtocol, sendErr(ClassProtocol, inner, m, "protocol: connection closed by the receiver before a complete answer (%v)", inner)
	}
	return ClassProtocol, sendErr(ClassProtocol, inner, m, "protocol: %v", inner)
}

// isTLSError recognises handshake and certificate failures.
func isTLSError(err error) bool {
	var (
		rec     tls.RecordHeaderError
		alert   tls.AlertError
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		ech     *tls.ECHRejectionError
	)
	switch {
	case errors.As(err, &rec), errors.As(err, &alert), errors.As(err, &verify),
		errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid),
		errors.As(err, &ech):
		return true
	}
	// net/http's handshake timeout and the tls package's plain errors have
	// no exported type.
	msg := innerError(err).Error()
	return strings.Contains(msg, "TLS handshake") || strings.Contains(msg, "tls: ") ||
		strings.Contains(msg, "HTTP response to HTTPS client")
}
