package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Receiver defaults.
const (
	DefaultWebhookPath = "/v1/launchdarkly"
	DefaultMaxBody     = 1 << 20
	DefaultRetryAfter  = 5 * time.Second
	// DefaultStoreTimeout bounds how long a request waits for its entries
	// to be stored: well under the timeouts senders use, so that they hear
	// 503 and retry rather than give up on a hanging request.
	DefaultStoreTimeout = 5 * time.Second
)

// Reason names why the receiver refused a request or an entry. The set is
// fixed, so it can label metrics.
type Reason string

// Reasons a request or entry is refused.
const (
	ReasonMethod           Reason = "method_not_allowed" // 405
	ReasonNotFound         Reason = "not_found"          // 404: another path
	ReasonTooLarge         Reason = "too_large"          // 413
	ReasonSignatureMissing Reason = "signature_missing"  // 401
	ReasonSignatureInvalid Reason = "signature_invalid"  // 401
	ReasonBadJSON          Reason = "bad_json"           // 400: not JSON, or not an entry/array
	ReasonInvalidEntry     Reason = "invalid_entry"      // 400: the engine rejected an entry
	ReasonUnavailable      Reason = "unavailable"        // 503: Ingest failed
)

// Reasons lists every Reason, for pre-creating metric series.
func Reasons() []Reason {
	return []Reason{ReasonMethod, ReasonNotFound, ReasonTooLarge, ReasonSignatureMissing,
		ReasonSignatureInvalid, ReasonBadJSON, ReasonInvalidEntry, ReasonUnavailable}
}

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	// Path is the only path served, default DefaultWebhookPath.
	Path string
	// Secret is the X-LD-Signature HMAC key. Empty accepts unsigned
	// requests (a warning is logged once).
	Secret []byte
	// MaxBody bounds a request body in bytes, default DefaultMaxBody.
	MaxBody int64
	// RetryAfter is sent with 503 when the store is unavailable, default
	// DefaultRetryAfter.
	RetryAfter time.Duration
	// StoreTimeout bounds the wait for the store (another process holding
	// its lock, a database that does not answer): past it the request is
	// answered 503 with Retry-After, and its entries are not stored.
	// Default DefaultStoreTimeout.
	StoreTimeout time.Duration
	// Logger receives structured logs; nil discards them. Bodies and
	// secrets are never logged.
	Logger *slog.Logger
	// Observe, when set, is called once per request after the answer is
	// written, for metrics. It must not block.
	Observe func(ReceiverEvent)
}

// ReceiverEvent describes one handled request.
type ReceiverEvent struct {
	Status     int
	Reason     Reason // "" when every entry was accepted or a duplicate
	Received   int    // entries in the body (0 when the body was refused as a whole)
	Accepted   int    // new entries stored
	Duplicates int    // entries already stored
	Rejected   int    // entries the engine refused
	Duration   time.Duration
}

// ReceiverStats is a snapshot of a receiver's counters since it started.
type ReceiverStats struct {
	Requests   int64
	Received   int64 // entries received
	Accepted   int64
	Duplicates int64
	Rejected   map[Reason]int64 // requests (or entries, for invalid_entry) refused, by reason
}

// Receiver is the http.Handler LaunchDarkly webhooks are sent to.
//
// It accepts one entry per request (what LaunchDarkly sends) or a JSON
// array of entries (for tools). It answers 200 with
// {"accepted":N,"duplicates":M} only after the Ingester returned, that is,
// once the entries are durable. 200 rather than 202 because nothing about
// the entries is left to be accepted later: they are stored, and
// deliveries are the relay's own business. A duplicate (an _id already
// stored) is answered 200 too, so that LaunchDarkly stops retrying it.
//
// Errors: 405 for methods other than POST, 404 for other paths, 413 for a
// body over MaxBody (read no further than the limit), 401 for a missing or
// wrong X-LD-Signature when a secret is set, 400 for a body that is not an
// entry or an array of entries, or for an entry the engine refused, and
// 503 with Retry-After when Ingest failed (the store is unavailable) so
// that the sender retries. Error bodies are {"error": "..."}; for a batch
// with refused entries they also carry the per-entry reasons. Entries of
// a batch that were accepted stay stored even when others were refused;
// sending the batch again is safe because entries are deduplicated by _id.
type Receiver struct {
	cfg   ReceiverConfig
	ing   Ingester
	log   *slog.Logger
	warn  sync.Once
	stats receiverCounters
}

type receiverCounters struct {
	requests, received, accepted, duplicates atomic.Int64
	rejected                                 sync.Map // Reason → *atomic.Int64
}

// NewReceiver returns a receiver that hands entries to ing.
func NewReceiver(cfg ReceiverConfig, ing Ingester) *Receiver {
	if cfg.Path == "" {
		cfg.Path = DefaultWebhookPath
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetryAfter
	}
	if cfg.StoreTimeout <= 0 {
		cfg.StoreTimeout = DefaultStoreTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{cfg: cfg, ing: ing, log: log.With("component", "webhook")}
}

// Path is the path the receiver serves.
func (rc *Receiver) Path() string { return rc.cfg.Path }

// Stats returns the counters since the receiver was created.
func (rc *Receiver) Stats() ReceiverStats {
	s := ReceiverStats{
		Requests:   rc.stats.requests.Load(),
		Received:   rc.stats.received.Load(),
		Accepted:   rc.stats.accepted.Load(),
		Duplicates: rc.stats.duplicates.Load(),
		Rejected:   map[Reason]int64{},
	}
	rc.stats.rejected.Range(func(k, v any) bool {
		s.Rejected[k.(Reason)] = v.(*atomic.Int64).Load()
		return true
	})
	return s
}

func (rc *Receiver) countRejected(r Reason, n int) {
	v, _ := rc.stats.rejected.LoadOrStore(r, new(atomic.Int64))
	v.(*atomic.Int64).Add(int64(n))
}

// answer is what a request ends with.
type answer struct {
	status int
	reason Reason
	msg    string // the error, for error answers
	detail string // logged, not sent: internal causes
	ev     ReceiverEvent
	body   any // JSON body for non-error answers and batch errors
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rc.stats.requests.Add(1)
	a := rc.handle(w, r)
	a.ev.Status = a.status
	a.ev.Reason = a.reason
	a.ev.Duration = time.Since(start)

	if a.reason != "" && a.reason != ReasonInvalidEntry {
		rc.countRejected(a.reason, 1)
	}
	body := a.body
	if body == nil {
		body = map[string]any{"error": a.msg}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(a.status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(body) // a client that went away cannot be told anything

	attrs := []any{"status", a.status, "remote", remoteHost(r), "entries", a.ev.Received,
		"accepted", a.ev.Accepted, "duplicates", a.ev.Duplicates, "duration", a.ev.Duration}
	switch {
	case a.status >= 500:
		rc.log.Error("webhook not stored", append(attrs, "reason", a.reason, "error", a.detail)...)
	case a.status >= 400:
		rc.log.Warn("webhook refused", append(attrs, "reason", a.reason, "error", a.msg)...)
	default:
		rc.log.Debug("webhook stored", attrs...)
	}
	if rc.cfg.Observe != nil {
		rc.cfg.Observe(a.ev)
	}
}

func fail(status int, reason Reason, format string, args ...any) answer {
	return answer{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

func (rc *Receiver) handle(w http.ResponseWriter, r *http.Request) answer {
	if r.URL.Path != rc.cfg.Path {
		return fail(http.StatusNotFound, ReasonNotFound, "no receiver at %s (LaunchDarkly webhooks go to %s)", r.URL.Path, rc.cfg.Path)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(http.StatusMethodNotAllowed, ReasonMethod, "method %s not allowed: send LaunchDarkly webhooks with POST", r.Method)
	}
	if r.ContentLength > rc.cfg.MaxBody {
		// Refuse before reading anything; the server closes the
		// connection rather than drain a body this large.
		return fail(http.StatusRequestEntityTooLarge, ReasonTooLarge,
			"body of %d bytes exceeds the limit of %d bytes", r.ContentLength, rc.cfg.MaxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rc.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return fail(http.StatusRequestEntityTooLarge, ReasonTooLarge, "body exceeds the limit of %d bytes", rc.cfg.MaxBody)
		}
		return fail(http.StatusBadRequest, ReasonBadJSON, "reading the body: %v", err)
	}

	if len(rc.cfg.Secret) > 0 {
		switch err := auditlog.Verify(rc.cfg.Secret, body, r.Header.Get(auditlog.SignatureHeader)); {
		case errors.Is(err, auditlog.ErrSignatureMissing):
			return fail(http.StatusUnauthorized, ReasonSignatureMissing, "missing %s header: this receiver requires signed webhooks", auditlog.SignatureHeader)
		case err != nil:
			// Say which check failed, never what the expected value was.
			return fail(http.StatusUnauthorized, ReasonSignatureInvalid, "%v", err)
		}
	} else {
		rc.warn.Do(func() {
			rc.log.Warn("no webhook secret configured: accepting unsigned requests; set a secret and configure it in LaunchDarkly to verify " + auditlog.SignatureHeader)
		})
	}

	raws, a, ok := splitBody(body)
	if !ok {
		return a
	}
	ref := "request " + remoteHost(r)
	items := make([]Item, len(raws))
	for i, raw := range raws {
		items[i] = Item{Raw: raw, Source: "webhook", Ref: ref}
		if len(raws) > 1 {
			items[i].Ref = ref + " [" + strconv.Itoa(i) + "]"
		}
	}
	ictx, cancel := context.WithTimeout(r.Context(), rc.cfg.StoreTimeout)
	results, err := rc.ing.Ingest(ictx, items, nil)
	cancel()
	if err == nil && len(results) != len(items) {
		err = fmt.Errorf("ingester returned %d results for %d entries", len(results), len(items))
	}
	if err == nil && len(raws) == 1 && isSyntaxError(results[0].Err, raws[0]) {
		// A single object is not validated before the ingester decodes
		// it (that would parse every entry twice): its syntax error is
		// the body's.
		return fail(http.StatusBadRequest, ReasonBadJSON, "body is not valid JSON: %s", syntaxMessage(raws[0]))
	}
	rc.stats.received.Add(int64(len(items)))
	if err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(int((rc.cfg.RetryAfter+time.Second-1)/time.Second)))
		a := fail(http.StatusServiceUnavailable, ReasonUnavailable, "store unavailable: entries not stored, retry later")
		a.detail = rc.unavailableReason(r.Context(), err)
		a.ev.Received = len(items)
		return a
	}

	ev := ReceiverEvent{Received: len(items)}
	type rejection struct {
		Index int    `json:"index"`
		ID    string `json:"id,omitempty"`
		Error string `json:"error"`
	}
	var rejected []rejection
	for i, res := range results {
		switch {
		case res.Err != nil:
			ev.Rejected++
			rejected = append(rejected, rejection{Index: i, ID: res.ID, Error: res.Err.Error()})
		case res.Duplicate:
			ev.Duplicates++
		default:
			ev.Accepted++
		}
	}
	rc.stats.accepted.Add(int64(ev.Accepted))
	rc.stats.duplicates.Add(int64(ev.Duplicates))
	if ev.Rejected == 0 {
		return answer{status: http.StatusOK, ev: ev, body: map[string]int{"accepted": ev.Accepted, "duplicates": ev.Duplicates}}
	}
	rc.countRejected(ReasonInvalidEntry, ev.Rejected)
	msg := "invalid entry: " + rejected[0].Error
	if len(raws) > 1 {
		msg = fmt.Sprintf("%d of %d entries invalid; first: entry %d: %s", ev.Rejected, len(raws), rejected[0].Index, rejected[0].Error)
	}
	a = answer{status: http.StatusBadRequest, reason: ReasonInvalidEntry, msg: msg, ev: ev}
	if len(raws) > 1 {
		a.body = map[string]any{"error": msg, "accepted": ev.Accepted, "duplicates": ev.Duplicates, "rejected": rejected}
	}
	return a
}

// splitBody returns the entries of a body: the body itself for an object,
// the elements of an array (each its exact bytes).
func splitBody(body []byte) ([][]byte, answer, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fail(http.StatusBadRequest, ReasonBadJSON, "empty body: expected an audit-log entry (a JSON object) or an array of entries"), false
	}
	if trimmed[0] == '{' {
		return [][]byte{trimmed}, answer{}, true // checked as it is decoded
	}
	if !json.Valid(trimmed) {
		return nil, fail(http.StatusBadRequest, ReasonBadJSON, "body is not valid JSON: %s", syntaxMessage(trimmed)), false
	}
	switch trimmed[0] {
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return nil, fail(http.StatusBadRequest, ReasonBadJSON, "body is not a JSON array: %v", err), false
		}
		if len(elems) == 0 {
			return nil, fail(http.StatusBadRequest, ReasonBadJSON, "empty array: no entries to store"), false
		}
		out := make([][]byte, len(elems))
		for i, e := range elems {
			out[i] = e
		}
		return out, answer{}, true
	}
	return nil, fail(http.StatusBadRequest, ReasonBadJSON, "expected an audit-log entry (a JSON object) or an array of entries, found %s", jsonKindOf(trimmed[0])), false
}

// isSyntaxError reports whether the ingester rejected raw because it is not
// JSON at all (as opposed to JSON that is not a valid entry). Only the
// error path looks at raw again.
func isSyntaxError(err error, raw []byte) bool {
	return err != nil && !json.Valid(raw)
}

// syntaxMessage explains why data is not JSON, with line and column.
func syntaxMessage(data []byte) string {
	if _, err := jsonv.Decode(data); err != nil {
		return err.Error()
	}
	return "invalid encoding"
}

// jsonKindOf names the kind of JSON value that starts with c.
func jsonKindOf(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	}
	return strconv.QuoteRune(rune(c))
}

// unavailableReason keeps a canceled request from reading as a store fault,
// and says when the store took too long.
func (rc *Receiver) unavailableReason(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return "request canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the store did not take the entries within %s (locked by another process, or not answering)", rc.cfg.StoreTimeout)
	}
	return err.Error()
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
