package store

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	kflate "github.com/klauspost/compress/flate"
)

// SentRequest is the request an attempt sent, as stored: what an operator
// reads months later to know what went out, whatever the templates and
// form variables say today. Secrets are masked before it reaches the
// store (headers and body through core/mask), so nothing here is secret.
//
// The URL, template path and template hash are the Attempt's own fields.
type SentRequest struct {
	Method  string
	Headers []Header // every header sent, in the order recorded, values masked
	// VarsHash identifies the form-variable values the request was
	// rendered with: a hash over the non-secret values and which secrets
	// were set (never their values).
	VarsHash string
	// BodyDigest is the hex SHA-256 of the body bytes (as stored, masked),
	// BodySize their length.
	BodyDigest string
	BodySize   int
	// BodyEncoding says how Body is stored: "" for the bytes themselves,
	// "deflate" for RFC 1951 compressed bytes. After GetDelivery the body
	// is always expanded ("").
	BodyEncoding string
	// Body holds the bytes. A store keeps each distinct body once per
	// delivery: an attempt whose body repeats an earlier attempt's (the
	// usual retry) stores none, and GetDelivery fills it in.
	Body []byte
	// BodyError, after GetDelivery, says why the stored body could not be
	// read (a damaged row); Body is nil then.
	BodyError string
}

// Body encodings.
const (
	BodyPlain   = ""
	BodyDeflate = "deflate"
)

// MaxSentBody bounds a stored request body when it is expanded: the
// delivery client refuses larger bodies before sending, so a larger
// size means a damaged row.
const MaxSentBody = 64 << 20

// compressMin is the body size below which compression does not pay for
// the work of trying.
const compressMin = 256

// Bodies are compressed with klauspost/compress's deflate: the same
// RFC 1951 stream as the standard library's (which reads it back), made
// in less than half the time at its fastest level, on every attempt's
// path.
var flateWriters = sync.Pool{New: func() any {
	w, _ := kflate.NewWriter(nil, kflate.BestSpeed)
	return w
}}

// NewSentRequest builds the stored form of a request: it digests the
// body and compresses it when that saves at least an eighth. Callers pass
// headers and body already masked. It is meant to run on the goroutine
// that made the attempt, not in the store's writer.
func NewSentRequest(method string, headers []Header, body []byte, varsHash string) *SentRequest {
	sum := sha256.Sum256(body)
	r := &SentRequest{
		Method:     method,
		Headers:    headers,
		VarsHash:   varsHash,
		BodyDigest: hex.EncodeToString(sum[:]),
		BodySize:   len(body),
		Body:       body,
	}
	if len(body) < compressMin {
		return r
	}
	var buf bytes.Buffer
	buf.Grow(len(body) / 2)
	w := flateWriters.Get().(*kflate.Writer)
	w.Reset(&buf)
	_, err := w.Write(body)
	if err == nil {
		err = w.Close()
	}
	flateWriters.Put(w)
	if err == nil && buf.Len() <= len(body)-len(body)/8 {
		r.Body, r.BodyEncoding = buf.Bytes(), BodyDeflate
	}
	return r
}

// Expanded returns the body bytes, decompressed and checked against
// BodySize and BodyDigest.
func (r *SentRequest) Expanded() ([]byte, error) {
	if r.BodySize < 0 || r.BodySize > MaxSentBody {
		return nil, fmt.Errorf("stored body size %d is out of range", r.BodySize)
	}
	var body []byte
	switch r.BodyEncoding {
	case BodyPlain:
		body = r.Body
	case BodyDeflate:
		fr := flate.NewReader(bytes.NewReader(r.Body))
		defer fr.Close()
		b := make([]byte, 0, r.BodySize)
		buf := bytes.NewBuffer(b)
		// One byte more than the recorded size tells a damaged row.
		if _, err := io.Copy(buf, io.LimitReader(fr, int64(r.BodySize)+1)); err != nil {
			return nil, fmt.Errorf("stored body: %w", err)
		}
		body = buf.Bytes()
	default:
		return nil, fmt.Errorf("stored body: unknown encoding %q", r.BodyEncoding)
	}
	if len(body) != r.BodySize {
		return nil, fmt.Errorf("stored body has %d bytes, recorded %d", len(body), r.BodySize)
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != r.BodyDigest {
		return nil, errors.New("stored body does not match its digest")
	}
	return body, nil
}

// ExpandSent fills in the request bodies a store kept once per delivery
// and decompresses them, in place; GetDelivery calls it. attempts are one
// delivery's, in any order. A body that cannot be read leaves that
// attempt's Body nil with the reason in BodyError; the others are still
// expanded.
func ExpandSent(attempts []Attempt) {
	stored := make(map[string]*SentRequest)
	for i := range attempts {
		if r := attempts[i].Request; r != nil && r.Body != nil {
			if _, ok := stored[r.BodyDigest]; !ok {
				stored[r.BodyDigest] = r
			}
		}
	}
	type result struct {
		body []byte
		err  error
	}
	done := make(map[string]result, len(stored))
	for i := range attempts {
		r := attempts[i].Request
		if r == nil {
			continue
		}
		res, ok := done[r.BodyDigest]
		if !ok {
			switch src := stored[r.BodyDigest]; {
			case src != nil:
				res.body, res.err = src.Expanded()
			case r.BodySize == 0:
				res.body = []byte{}
			default:
				res.err = errors.New("the stored body is missing")
			}
			done[r.BodyDigest] = res
		}
		cp := *r
		cp.Body, cp.BodyEncoding = res.body, BodyPlain
		if res.err != nil {
			cp.Body, cp.BodyError = nil, res.err.Error()
		}
		attempts[i].Request = &cp
	}
}
