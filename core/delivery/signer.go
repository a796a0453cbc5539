package delivery

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/auditrelay/auditrelay/core/duration"
)

// Standard Webhooks secret format: "whsec_" + base64 of 24–64 random bytes.
const (
	SWSecretPrefix      = "whsec_"
	SWMinKeyBytes       = 24
	SWMaxKeyBytes       = 64
	DefaultSWTolerance  = 5 * time.Minute
	swSignaturePrefixV1 = "v1,"
)

// SWSigner signs (and verifies) Standard Webhooks v1 signatures:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
// With several secrets (rotation) Sign emits one signature per secret,
// space-separated, in the order given; Verify accepts any of them.
//
// It never prints its keys: String and GoString describe only the count.
type SWSigner struct {
	keys [][]byte
}

// NewSWSigner parses one or more "whsec_" secrets. Errors name the secret by
// position, never by value.
func NewSWSigner(secrets ...string) (*SWSigner, error) {
	if len(secrets) == 0 {
		return nil, errors.New("standard webhooks: no secret given")
	}
	s := &SWSigner{keys: make([][]byte, 0, len(secrets))}
	for i, sec := range secrets {
		key, err := parseSWSecret(sec)
		if err != nil {
			return nil, fmt.Errorf("standard webhooks: secret %d of %d: %w", i+1, len(secrets), err)
		}
		s.keys = append(s.keys, key)
	}
	return s, nil
}

func parseSWSecret(sec string) ([]byte, error) {
	sec = strings.TrimSpace(sec)
	if sec == "" {
		return nil, errors.New("empty")
	}
	if !strings.HasPrefix(sec, SWSecretPrefix) {
		return nil, fmt.Errorf("missing %q prefix (want %s<base64 of %d-%d random bytes>)", SWSecretPrefix, SWSecretPrefix, SWMinKeyBytes, SWMaxKeyBytes)
	}
	b64 := sec[len(SWSecretPrefix):]
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// Some generators drop the padding; accept that, report the
		// original error otherwise.
		k2, err2 := base64.RawStdEncoding.DecodeString(b64)
		if err2 != nil {
			return nil, fmt.Errorf("not valid base64 after %q: %v", SWSecretPrefix, err)
		}
		key = k2
	}
	if len(key) < SWMinKeyBytes || len(key) > SWMaxKeyBytes {
		return nil, fmt.Errorf("key is %d bytes, want %d to %d", len(key), SWMinKeyBytes, SWMaxKeyBytes)
	}
	return key, nil
}

// Keys reports how many secrets the signer holds.
func (s *SWSigner) Keys() int { return len(s.keys) }

// String describes the signer without revealing keys.
func (s *SWSigner) String() string { return fmt.Sprintf("SWSigner(%d keys)", len(s.keys)) }

// GoString is String, so %#v cannot print keys either.
func (s *SWSigner) GoString() string { return s.String() }

// Sign returns the webhook-signature header value for id, ts and body.
func (s *SWSigner) Sign(id string, ts time.Time, body []byte) string {
	tsText := strconv.FormatInt(ts.Unix(), 10)
	var b strings.Builder
	for i, key := range s.keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(swSignaturePrefixV1)
		b.WriteString(base64.StdEncoding.EncodeToString(swMAC(key, id, tsText, body)))
	}
	return b.String()
}

func swMAC(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	prefix := make([]byte, 0, len(id)+len(ts)+2)
	prefix = append(append(append(append(prefix, id...), '.'), ts...), '.')
	m.Write(prefix)
	m.Write(body)
	return m.Sum(nil)
}

// Verification errors, for errors.Is.
var (
	ErrSWMissingHeader = errors.New("standard webhooks: missing header")
	ErrSWTimestamp     = errors.New("standard webhooks: timestamp outside tolerance")
	ErrSWNoMatch       = errors.New("standard webhooks: no matching signature")
)

// Verify checks webhook-id, webhook-timestamp and webhook-signature in h
// against body, as a receiver would: the timestamp must be within
// tolerance of now (0 means DefaultSWTolerance) and at least one v1
// signature must match one of the keys. Comparison is constant-time.
func (s *SWSigner) Verify(h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, tsText, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTS), h.Get(HeaderWebhookSig)
	switch {
	case id == "":
		return fmt.Errorf("%w %s", ErrSWMissingHeader, HeaderWebhookID)
	case tsText == "":
		return fmt.Errorf("%w %s", ErrSWMissingHeader, HeaderWebhookTS)
	case sigs == "":
		return fmt.Errorf("%w %s", ErrSWMissingHeader, HeaderWebhookSig)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("standard webhooks: %s %q is not integer Unix seconds", HeaderWebhookTS, tsText)
	}
	if tolerance <= 0 {
		tolerance = DefaultSWTolerance
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: %s is %s from now, tolerance %s", ErrSWTimestamp, HeaderWebhookTS, duration.Format(abs(skew)), duration.Format(tolerance))
	}
	want := make([][]byte, len(s.keys))
	for i, key := range s.keys {
		want[i] = swMAC(key, id, tsText, body)
	}
	for _, sig := range strings.Fields(sigs) {
		b64, ok := strings.CutPrefix(sig, swSignaturePrefixV1)
		if !ok {
			continue // other schemes (v1a) are not ours to check
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, w := range want {
			if hmac.Equal(got, w) {
				return nil
			}
		}
	}
	return ErrSWNoMatch
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
