package auditlog

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// SignatureHeader is the header LaunchDarkly puts the webhook signature in.
const SignatureHeader = "X-LD-Signature"

// Errors from Verify. Each names one reason, so a receiver can log which
// check failed without logging the secret or the signature.
var (
	ErrNoSecret           = errors.New("signature: no secret configured")
	ErrSignatureMissing   = errors.New("signature: " + SignatureHeader + " header is missing or empty")
	ErrSignatureMalformed = errors.New("signature: " + SignatureHeader + " is not 64 hexadecimal characters (optionally prefixed \"sha256=\")")
	ErrSignatureMismatch  = errors.New("signature: " + SignatureHeader + " does not match the body")
)

// Sign returns the X-LD-Signature value for body: the lower-case hex
// HMAC-SHA256 of the exact body bytes, keyed with secret, with no prefix,
// as LaunchDarkly sends it. It is the project's one signer of this
// header: hook signs deliveries with it (under whatever header name an
// integration's hmacSignature gives), tests and benchmarks sign the
// webhooks they send with it, and the receiver checks them with Verify.
func Sign(secret, body []byte) string {
	return hex.EncodeToString(sum(secret, body))
}

// sum is the HMAC-SHA256 of body keyed with secret: what Sign writes and
// Verify compares, computed in one place.
func sum(secret, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return mac.Sum(nil)
}

// Verify checks an X-LD-Signature header value against body.
//
// LaunchDarkly sends a bare hex digest. Verify also accepts the digest with
// a "sha256=" prefix (any case) and upper-case hex, the form some proxies
// and GitHub-style receivers rewrite it to; the prefix names the only
// algorithm there is, so accepting it admits no other signature. Surrounding
// whitespace is ignored. The comparison is constant-time (hmac.Equal).
//
// An empty secret is refused with ErrNoSecret rather than checked: an HMAC
// keyed with nothing proves nothing.
func Verify(secret, body []byte, header string) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	h := strings.TrimSpace(header)
	if h == "" {
		return ErrSignatureMissing
	}
	if len(h) > len("sha256=") && strings.EqualFold(h[:len("sha256=")], "sha256=") {
		h = h[len("sha256="):]
	}
	if len(h) != hex.EncodedLen(sha256.Size) {
		return ErrSignatureMalformed
	}
	got, err := hex.DecodeString(h)
	if err != nil {
		return ErrSignatureMalformed
	}
	if !hmac.Equal(got, sum(secret, body)) {
		return ErrSignatureMismatch
	}
	return nil
}
