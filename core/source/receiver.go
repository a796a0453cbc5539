package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/auditlog"
	"github.com/auditrelay/auditrelay/core/jsonv"
)

// Receiver defaults.
const (
	DefaultWebhookPath = "/v1/launchdarkly"
	DefaultMaxBody     = 1 << 20
	DefaultRetryAfter  = 5 * time.Second
	// DefaultMaxEntries bounds the entries of one request. LaunchDarkly
	// sends one; a tool's batch of 1,000 typical entries (1-4 KB) is
	// already past the default body limit.
	DefaultMaxEntries = 1000
	// DefaultMaxInFlight bounds the requests handled at once. Ordinary
	// entries take a few milliseconds each, so 32 at once is far beyond
	// what LaunchDarkly sends.
	DefaultMaxInFlight = 32
	// inFlightBodies is how many bodies of MaxBody may be in flight
	// together. A request holds its body and, while it is decoded and
	// stored, up to ~30 times that (see jsonv.Decode): 32 bodies of 1 MiB
	// of the costliest JSON took 950 MB; 8 take about a quarter of that.
	// Real entries are a few KB, so this bound only meets large bodies.
	inFlightBodies = 8
	// DefaultStoreTimeout bounds how long a request waits for its entries
	// to be stored: well under the timeouts senders use, so that they hear
	// 503 and retry rather than give up on a hanging request.
	DefaultStoreTimeout = 5 * time.Second
)

// maxListedRejections bounds the per-entry errors of a batch's answer;
// the rest are counted.
const maxListedRejections = 20

// Reason names why the receiver refused a request or an entry. The set is
// fixed, so it can label metrics.
type Reason string

// Reasons a request or entry is refused.
const (
	ReasonMethod           Reason = "method_not_allowed"     // 405
	ReasonNotFound         Reason = "not_found"              // 404: another path
	ReasonMediaType        Reason = "unsupported_media_type" // 415: not sent as JSON
	ReasonTooLarge         Reason = "too_large"              // 413: body over MaxBody, or more than MaxEntries entries
	ReasonSignatureMissing Reason = "signature_missing"      // 401
	ReasonSignatureInvalid Reason = "signature_invalid"      // 401
	ReasonBadJSON          Reason = "bad_json"               // 400: not JSON, or not an entry/array
	ReasonInvalidEntry     Reason = "invalid_entry"          // 400: the engine rejected an entry
	ReasonBusy             Reason = "busy"                   // 503: MaxInFlight requests, or 8 × MaxBody of bodies, in flight
	ReasonUnavailable      Reason = "unavailable"            // 503: Ingest failed
)

// Reasons lists every Reason, for pre-creating metric series.
func Reasons() []Reason {
	return []Reason{ReasonMethod, ReasonNotFound, ReasonMediaType, ReasonTooLarge, ReasonSignatureMissing,
		ReasonSignatureInvalid, ReasonBadJSON, ReasonInvalidEntry, ReasonBusy, ReasonUnavailable}
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
	// MaxEntries bounds the entries of an array body, default
	// DefaultMaxEntries.
	MaxEntries int
	// MaxInFlight bounds the requests read, decoded and stored at once,
	// default DefaultMaxInFlight; their bodies may also total at most 8
	// times MaxBody (a body without Content-Length counts as MaxBody).
	// Past either bound a request is answered 503 with Retry-After before
	// its body is read.
	MaxInFlight int
	// RetryAfter is sent with 503 (store unavailable, or too many
	// requests in flight), default DefaultRetryAfter.
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
// Errors: 405 for methods other than POST, 404 for other paths, 415 for a
// body not sent as JSON (Content-Type application/json or any +json type,
// parameters allowed; a charset other than UTF-8 or no Content-Type at all
// is refused), 413 for a body over MaxBody (read no further than the
// limit) or an array of more than MaxEntries entries, 401 for a missing or
// wrong X-LD-Signature when a secret is set, 400 for a body that is not an
// entry or an array of entries (with line and column), or for an entry the
// engine refused (naming the field), and 503 with Retry-After when
// MaxInFlight requests (or bodies totalling 8 × MaxBody) are already being
// handled or Ingest failed (the store is unavailable), so that the sender
// retries. Error bodies are
// {"error": "..."}; for a batch with refused entries they also carry the
// first per-entry reasons (up to 20, then a count). Entries of a batch
// that were accepted stay stored even when others were refused; sending
// the batch again is safe because entries are deduplicated by _id.
//
// Memory: a request holds its body and, while it is decoded and stored,
// what decoding it takes (at most ~30 bytes per body byte, see
// jsonv.Decode); the bodies in flight total at most 8 × MaxBody, which
// bounds what all requests hold together. A body is checked as JSON
// without building values before an array is split, and nothing is
// allocated per element of an array longer than MaxEntries.
type Receiver struct {
	cfg   ReceiverConfig
	ing   Ingester
	log   *slog.Logger
	warn  sync.Once
	stats receiverCounters
	busy  busyLog

	mu       sync.Mutex
	inFlight int   // requests admitted and not finished
	bodies   int64 // their body sizes (MaxBody when unknown)
}

// busyLog keeps refusals for lack of a slot to one log line a second: an
// overload must not flood the log as well.
type busyLog struct {
	mu      sync.Mutex
	last    time.Time
	pending int // refusals not logged yet
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
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Receiver{cfg: cfg, ing: ing, log: log.With("component", "webhook")}
}

// admit takes a place for a request whose body has size bytes (-1 when
// unknown), or says why there is none.
func (rc *Receiver) admit(size int64) (release func(), refusal string) {
	if size < 0 {
		size = rc.cfg.MaxBody
	}
	budget := inFlightBodies * rc.cfg.MaxBody
	rc.mu.Lock()
	defer rc.mu.Unlock()
	switch {
	case rc.inFlight >= rc.cfg.MaxInFlight:
		return nil, fmt.Sprintf("too many requests in flight (%d); retry later", rc.cfg.MaxInFlight)
	case rc.bodies+size > budget:
		return nil, fmt.Sprintf("too many large requests in flight (their bodies total over %d bytes); retry later", budget)
	}
	rc.inFlight++
	rc.bodies += size
	return func() {
		rc.mu.Lock()
		rc.inFlight--
		rc.bodies -= size
		rc.mu.Unlock()
	}, ""
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

// Refused returns how many requests were refused for reason r (entries,
// for ReasonInvalidEntry) since the receiver was created.
func (rc *Receiver) Refused(r Reason) int64 {
	if v, ok := rc.stats.rejected.Load(r); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
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
	case a.reason == ReasonBusy:
		rc.logBusy(a.msg)
	case a.status >= 500:
		rc.log.Error("webhook not stored", append(attrs, "reason", a.reason, "err", a.detail)...)
	case a.status >= 400:
		rc.log.Warn("webhook refused", append(attrs, "reason", a.reason, "err", a.msg)...)
	default:
		rc.log.Debug("webhook stored", attrs...)
	}
	if rc.cfg.Observe != nil {
		rc.cfg.Observe(a.ev)
	}
}

// logBusy logs a refusal for lack of a slot, at most once a second, with
// the number of refusals since the last line.
func (rc *Receiver) logBusy(msg string) {
	b := &rc.busy
	b.mu.Lock()
	b.pending++
	now := time.Now()
	if now.Sub(b.last) < time.Second {
		b.mu.Unlock()
		return
	}
	n := b.pending
	b.last, b.pending = now, 0
	b.mu.Unlock()
	rc.log.Warn("webhook refused: "+msg, "reason", ReasonBusy, "refused", n, "max_in_flight", rc.cfg.MaxInFlight)
}

func fail(status int, reason Reason, format string, args ...any) answer {
	return answer{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

func (rc *Receiver) handle(w http.ResponseWriter, r *http.Request) answer {
	if r.URL.Path != rc.cfg.Path {
		return fail(http.StatusNotFound, ReasonNotFound, "no receiver at %s (LaunchDarkly webhooks go to %s)", clip(r.URL.Path, 200), rc.cfg.Path)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(http.StatusMethodNotAllowed, ReasonMethod, "method %s not allowed: send LaunchDarkly webhooks with POST", clip(r.Method, 20))
	}
	if problem := mediaTypeProblem(r.Header.Get("Content-Type")); problem != "" {
		w.Header().Set("Accept-Post", "application/json")
		return fail(http.StatusUnsupportedMediaType, ReasonMediaType, "%s", problem)
	}
	if r.ContentLength > rc.cfg.MaxBody {
		// Refuse before reading anything; the server closes the
		// connection rather than drain a body this large.
		return fail(http.StatusRequestEntityTooLarge, ReasonTooLarge,
			"body of %d bytes exceeds the limit of %d bytes", r.ContentLength, rc.cfg.MaxBody)
	}
	release, refusal := rc.admit(r.ContentLength)
	if refusal != "" {
		// Refused before the body is read: what a request costs is
		// held only by the ones in flight.
		w.Header().Set("Retry-After", rc.retryAfter())
		return fail(http.StatusServiceUnavailable, ReasonBusy, "%s", refusal)
	}
	defer release()
	body, err := readBody(w, r, rc.cfg.MaxBody)
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

	raws, a, ok := splitBody(body, rc.cfg.MaxEntries)
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
	if err == nil && len(raws) == 1 && results[0].Err != nil {
		// A single object is not checked before the ingester decodes
		// it (that would parse every entry twice): its syntax error is
		// the body's.
		if serr := jsonv.Check(raws[0]); serr != nil {
			return fail(http.StatusBadRequest, ReasonBadJSON, "body is not valid JSON: %s", syntaxText(serr))
		}
	}
	rc.stats.received.Add(int64(len(items)))
	if err != nil {
		w.Header().Set("Retry-After", rc.retryAfter())
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
	// The answer lists the first rejections and counts the rest: it
	// must not grow with the number of bad elements.
	var rejected []rejection
	for i, res := range results {
		switch {
		case res.Err != nil:
			ev.Rejected++
			if len(rejected) < maxListedRejections {
				rejected = append(rejected, rejection{Index: i, ID: res.ID, Error: clip(res.Err.Error(), 512)})
			}
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
		body := map[string]any{"error": msg, "accepted": ev.Accepted, "duplicates": ev.Duplicates, "rejected": rejected}
		if more := ev.Rejected - len(rejected); more > 0 {
			body["rejected_not_listed"] = more
		}
		a.body = body
	}
	return a
}

func (rc *Receiver) retryAfter() string {
	return strconv.Itoa(int((rc.cfg.RetryAfter + time.Second - 1) / time.Second))
}

// mediaTypeProblem says why a Content-Type does not name JSON, or "" when
// it does: application/json or any type with the +json suffix (RFC 6839),
// with parameters. JSON is UTF-8 (RFC 8259 §8.1): a charset parameter, if
// any, must say so.
func mediaTypeProblem(ct string) string {
	const want = "send the body as application/json"
	if ct == "application/json" {
		return "" // what LaunchDarkly sends: no parsing
	}
	if strings.TrimSpace(ct) == "" {
		return "missing Content-Type: " + want
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Sprintf("Content-Type %q is not a valid media type: %s", clip(ct, 100), want)
	}
	if mt != "application/json" && !(strings.Contains(mt, "/") && strings.HasSuffix(mt, "+json")) {
		return fmt.Sprintf("Content-Type %s is not JSON: %s", clip(mt, 100), want)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return fmt.Sprintf("charset %s is not supported: JSON is UTF-8 (send charset=utf-8, or no charset)", clip(cs, 40))
	}
	return ""
}

// readBody reads a body of at most limit bytes. A body with a length is
// read into a buffer of that size; a chunked one grows by doubling.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n >= 0 && n <= limit {
		body := make([]byte, n)
		if _, err := io.ReadFull(rd, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// splitBody returns the entries of a body: the body itself for an object,
// the elements of an array (each its exact bytes), at most maxEntries.
func splitBody(body []byte, maxEntries int) ([][]byte, answer, bool) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, fail(http.StatusBadRequest, ReasonBadJSON, "empty body: expected an audit-log entry (a JSON object) or an array of entries"), false
	}
	if trimmed[0] == '{' {
		return [][]byte{trimmed}, answer{}, true // checked as it is decoded
	}
	// Checked without building values: an array's elements are cut out
	// of the body only once it is known to be JSON and not too long.
	if err := jsonv.Check(trimmed); err != nil {
		return nil, fail(http.StatusBadRequest, ReasonBadJSON, "body is not valid JSON: %s", syntaxText(err)), false
	}
	if trimmed[0] != '[' {
		return nil, fail(http.StatusBadRequest, ReasonBadJSON, "expected an audit-log entry (a JSON object) or an array of entries, found %s", jsonKindOf(trimmed[0])), false
	}
	n := countElements(trimmed)
	switch {
	case n == 0:
		return nil, fail(http.StatusBadRequest, ReasonBadJSON, "empty array: no entries to store"), false
	case n > maxEntries:
		return nil, fail(http.StatusRequestEntityTooLarge, ReasonTooLarge,
			"array of %d entries exceeds the limit of %d entries per request; send fewer at a time", n, maxEntries), false
	}
	out := make([][]byte, 0, n)
	forElements(trimmed, func(start, end int) { out = append(out, trimmed[start:end:end]) })
	return out, answer{}, true
}

// syntaxText is a JSON syntax error with its position and, when it is in
// a member or element, the path to it: `1:9: "_id": invalid UTF-8 …`.
func syntaxText(err error) string {
	var se *jsonv.SyntaxError
	if errors.As(err, &se) && se.Path != "" {
		return fmt.Sprintf("%d:%d: %q: %s", se.Line, se.Col, se.Path, se.Msg)
	}
	return err.Error()
}

// countElements counts the elements of a well-formed JSON array.
func countElements(arr []byte) int {
	n := 0
	forElements(arr, func(int, int) { n++ })
	return n
}

// forElements calls fn with the byte range of each element of arr, a
// well-formed JSON array (so a scan of brackets and strings finds them).
func forElements(arr []byte, fn func(start, end int)) {
	depth, start := 0, -1
	for i := 0; i < len(arr); i++ {
		switch c := arr[i]; c {
		case '"':
			if depth == 1 && start < 0 {
				start = i
			}
			for i++; arr[i] != '"'; i++ {
				if arr[i] == '\\' {
					i++
				}
			}
		case '[', '{':
			if depth == 1 && start < 0 {
				start = i
			}
			depth++
		case ']', '}':
			depth--
			if depth == 0 && start >= 0 {
				fn(start, trimEnd(arr, i))
			}
		case ',':
			if depth == 1 {
				fn(start, trimEnd(arr, i))
				start = -1
			}
		case ' ', '\t', '\n', '\r':
		default:
			if depth == 1 && start < 0 {
				start = i
			}
		}
	}
}

// trimEnd returns end moved back over the white space before it.
func trimEnd(b []byte, end int) int {
	for end > 0 && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\n' || b[end-1] == '\r') {
		end--
	}
	return end
}

// clip cuts s to at most n bytes (at a character boundary) for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
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
