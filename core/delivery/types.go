package delivery

import (
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// Header is one HTTP header line. A slice of them keeps order and repeats,
// which a map would lose.
type Header struct {
	Name  string
	Value string
}

// Headers Send adds to every request.
const (
	HeaderDeliveryID = "X-Auditrelay-Delivery-Id"
	HeaderAttempt    = "X-Auditrelay-Attempt"
	HeaderWebhookID  = "Webhook-Id"
	HeaderWebhookTS  = "Webhook-Timestamp"
	HeaderWebhookSig = "Webhook-Signature"
)

// Request is one rendered delivery attempt.
type Request struct {
	// DeliveryID identifies the delivery across retries and restarts; it
	// is sent as X-Auditrelay-Delivery-Id (and webhook-id when signing) so
	// receivers can dedupe. Printable ASCII without spaces, 1–255 bytes.
	DeliveryID string
	// Attempt is the 1-based attempt number sent as X-Auditrelay-Attempt.
	Attempt int
	// Method defaults to POST.
	Method string
	// URL must be absolute http or https.
	URL string
	// Headers as rendered from the manifest. A Host header sets the
	// request's Host. X-Auditrelay-* and webhook-* are replaced by Send.
	Headers []Header
	// Body is sent as is (already signed with X-LD-Signature if asked).
	Body []byte
	// StandardWebhooks, when set, adds webhook-id, webhook-timestamp and
	// webhook-signature.
	StandardWebhooks *SWSigner
	// Mask knows the subscription's secrets (tokens, passwords, form
	// variables marked isSecret) and masks them out of everything Send
	// returns: errors, response headers and the response body. nil masks
	// credential headers and URL passwords only.
	Mask *mask.Masker
}

// ErrorClass is a coarse, stable name for why a Send did not get a 2xx.
type ErrorClass string

// Error classes. ClassNone means a 2xx answer.
const (
	ClassNone         ErrorClass = ""
	ClassStatus       ErrorClass = "status"          // an HTTP answer other than 2xx
	ClassTimeout      ErrorClass = "timeout"         // no (complete) answer in time
	ClassConnect      ErrorClass = "connect"         // TCP connect failed (refused, unreachable, dial timeout)
	ClassDNS          ErrorClass = "dns"             // host name did not resolve
	ClassTLS          ErrorClass = "tls"             // handshake or certificate failure
	ClassProtocol     ErrorClass = "protocol"        // connection reset/closed, malformed answer
	ClassCanceled     ErrorClass = "canceled"        // the caller's context was canceled (relay stopping)
	ClassBodyTooLarge ErrorClass = "body-too-large"  // request body over Options.MaxRequestBody; not sent
	ClassInvalid      ErrorClass = "invalid-request" // bad method, URL, header or id; not sent
	ClassTarget       ErrorClass = "target-refused"  // the address is refused by the target rules (Targets); not sent
)

// Result is what one Send observed. It never holds a secret known to
// Request.Mask or a URL password.
type Result struct {
	// StatusCode is 0 when no HTTP answer arrived.
	StatusCode int
	// Duration runs from the start of the send to the end of the body read.
	Duration time.Duration
	// ErrorClass is ClassNone for a 2xx answer.
	ErrorClass ErrorClass
	// Err describes the failure (nil for 2xx); its text is masked.
	Err error
	// RetryAfter is the parsed Retry-After header (seconds or HTTP-date),
	// 0 when absent, invalid or in the past.
	RetryAfter time.Duration
	// Headers is a selection of response headers (Options.ResponseHeaders).
	Headers []Header
	// Body holds the first Options.MaxResponseBody bytes of the answer.
	Body []byte
	// BodyTruncated reports that the answer had more bytes than Body, or
	// that reading it failed part way (see BodyErr).
	BodyTruncated bool
	// BodyErr is an error reading the body after the status arrived. It
	// does not change the classification: the receiver has answered.
	BodyErr error
	// RequestDigest is the hex SHA-256 of the request as sent (see Digest).
	RequestDigest string
	// AddedHeaders are the headers Send added to the rendered request
	// (delivery id, attempt, User-Agent, webhook-*), so the exact request
	// can be recorded next to the rendered one.
	AddedHeaders []Header
}

// Header returns the first kept response header with the given name
// (case-insensitive), or "".
func (r Result) Header(name string) string {
	for _, h := range r.Headers {
		if equalFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// equalFold compares ASCII header names case-insensitively.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// SendError is the error in Result.Err. Its message is masked; print it,
// not what it wraps. Unwrap gives the underlying transport error for
// errors.Is/As (never the *url.Error, whose text repeats the full URL).
type SendError struct {
	Class ErrorClass
	msg   string
	err   error
}

func (e *SendError) Error() string { return e.msg }

// Unwrap returns the underlying error, if any.
func (e *SendError) Unwrap() error { return e.err }
