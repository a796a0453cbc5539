// Package ldfake is a stand-in for LaunchDarkly's REST audit-log API, for
// tests: a real HTTP server on 127.0.0.1 serving GET /api/v2/auditlog and
// GET /api/v2/auditlog/{id} from entries the test adds, with paging,
// token checks, rate limiting and injected failures, and a log of the
// requests it answered.
//
// What it implements of the real API: newest-first listing; limit (1–20,
// default 10), before and after (Unix ms, exclusive); _links.self and,
// for a full page, _links.next (before = the page's oldest date), so a
// client can page by following next or by computing before itself;
// totalCount; the bare "Authorization: <token>" header (a "Bearer "
// prefix is refused, as a client bug); error bodies {"code", "message"};
// 429 with Retry-After and X-Ratelimit-Reset. The spec and q parameters
// are accepted and recorded but do not filter.
//
// List items and details differ as in the real API: the list serves each
// entry without currentVersion, previousVersion and delta (the listing
// representation), GET /api/v2/auditlog/{id} serves it as added (the
// detailed representation).
//
// Rate limits come in two forms: SetLimit, a budget of requests per
// window shared by both routes that every answer reports
// (X-Ratelimit-Global-Remaining, X-Ratelimit-Reset) and that answers 429
// with Retry-After once spent, as LaunchDarkly does; and SetThrottle, a
// blunt "every n-th request is refused" for testing a client's waits.
// Throttled counts the 429s sent either way.
package ldfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Config sets up a Server.
type Config struct {
	// Token is the access token clients must send; empty accepts any.
	Token string
}

// Throttle makes every Every-th request (1 = all) answer 429.
type Throttle struct {
	Every int
	// RetryAfter is sent as Retry-After in whole seconds (at least 1)
	// unless ResetOnly is set.
	RetryAfter time.Duration
	// ResetOnly sends only X-Ratelimit-Reset (Unix ms, now + RetryAfter),
	// as LaunchDarkly's route limits do.
	ResetOnly bool
}

// Limit is a budget of Requests per Window. Windows start at the first
// request after the previous one ended.
type Limit struct {
	Requests int
	Window   time.Duration
}

// Request is one request the server answered.
type Request struct {
	At     time.Time
	Method string
	Path   string
	Query  url.Values
	Status int
	Items  int // entries in the answer
}

type arrivedKey struct{}

type entry struct {
	id       string
	date     int64
	seq      int
	raw      []byte // the detailed representation, as added
	listed   []byte // the listing representation
	noDetail bool   // the detail answers 404 (deleted since it was listed)
}

// Server is the fake API.
type Server struct {
	cfg  Config
	srv  *http.Server
	ln   net.Listener
	url  string
	done chan struct{}

	mu       sync.Mutex
	entries  []entry // sorted newest first
	byID     map[string]int
	seq      int
	count    int // requests so far
	throttle Throttle
	failN    int
	failCode int
	requests []Request

	limit     Limit
	windowEnd time.Time
	used      int // requests counted in the current window
	throttled int // 429s sent
}

// Start listens on a random port of 127.0.0.1 and serves until Close.
func Start(cfg Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ldfake: listening: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, url: "http://" + ln.Addr().String(), byID: map[string]int{}, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/auditlog", s.list)
	mux.HandleFunc("GET /api/v2/auditlog/{id}", s.get)
	stamp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), arrivedKey{}, time.Now())))
	})
	s.srv = &http.Server{Handler: stamp, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns when closed
	}()
	return s, nil
}

// URL is the base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// Close stops the server.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

// Add stores entries, each a JSON object with a string _id and a numeric
// date. Entries can be added while clients page.
func (s *Server) Add(raws ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, raw := range raws {
		var head struct {
			ID   string   `json:"_id"`
			Date *float64 `json:"date"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return fmt.Errorf("ldfake: entry is not a JSON object: %w", err)
		}
		if head.ID == "" || head.Date == nil {
			return errors.New("ldfake: entry needs a string _id and a numeric date")
		}
		if _, ok := s.byID[head.ID]; ok {
			return fmt.Errorf("ldfake: entry %s added twice", head.ID)
		}
		listed, err := listingRep(raw)
		if err != nil {
			return err
		}
		s.seq++
		s.entries = append(s.entries, entry{id: head.ID, date: int64(math.Floor(*head.Date)), seq: s.seq, raw: slices.Clone(raw), listed: listed})
	}
	// Newest first; among entries of one millisecond, the last added first.
	slices.SortFunc(s.entries, func(a, b entry) int {
		if a.date != b.date {
			return compare(b.date, a.date)
		}
		return b.seq - a.seq
	})
	clear(s.byID)
	for i, e := range s.entries {
		s.byID[e.id] = i
	}
	return nil
}

// detailOnly are the fields of the detailed representation that list
// items lack.
var detailOnly = map[string]bool{"currentVersion": true, "previousVersion": true, "delta": true}

// listingRep is raw without the detailed representation's fields, the
// other members kept in their order and bytes.
func listingRep(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("ldfake: entry is not a JSON object")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("ldfake: entry: %w", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("ldfake: entry member %q: %w", key, err)
		}
		if detailOnly[key] {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ForgetDetails makes the details of the given entries answer 404 while
// the list still shows them: entries deleted between a client's list and
// detail requests.
func (s *Server) ForgetDetails(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if i, ok := s.byID[id]; ok {
			s.entries[i].noDetail = true
		}
	}
}

// SetLimit sets (or, with Requests 0, clears) the request budget.
func (s *Server) SetLimit(l Limit) {
	s.mu.Lock()
	s.limit, s.used, s.windowEnd = l, 0, time.Time{}
	s.mu.Unlock()
}

// Throttled is the number of 429 answers sent so far.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

func compare(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Len is the number of entries held.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// SetThrottle sets (or, with Every 0, clears) rate limiting. Requests are
// counted from the server's start.
func (s *Server) SetThrottle(t Throttle) {
	s.mu.Lock()
	s.throttle = t
	s.mu.Unlock()
}

// FailNext makes the next n requests answer status (e.g. 500, 503).
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	s.failN, s.failCode = n, status
	s.mu.Unlock()
}

// Requests returns the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"code": code, "message": msg})
}

// gate applies auth, throttling and injected failures; false when it
// answered.
func (s *Server) gate(w http.ResponseWriter, r *http.Request) (status int, ok bool) {
	s.count++
	if s.cfg.Token != "" && r.Header.Get("Authorization") != s.cfg.Token {
		apiError(w, http.StatusUnauthorized, "unauthorized", "Invalid access token")
		return http.StatusUnauthorized, false
	}
	if s.failN > 0 {
		s.failN--
		apiError(w, s.failCode, "internal_server_error", "injected failure")
		return s.failCode, false
	}
	if l := s.limit; l.Requests > 0 {
		now := time.Now()
		if !now.Before(s.windowEnd) {
			s.windowEnd, s.used = now.Add(l.Window), 0
		}
		reset := strconv.FormatInt(s.windowEnd.UnixMilli(), 10)
		w.Header().Set("X-Ratelimit-Reset", reset)
		if s.used >= l.Requests {
			w.Header().Set("X-Ratelimit-Global-Remaining", "0")
			secs := max(int((s.windowEnd.Sub(now)+time.Second-1)/time.Second), 1)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.throttled++
			apiError(w, http.StatusTooManyRequests, "rate_limited", "You've exceeded the API rate limit. Try again later.")
			return http.StatusTooManyRequests, false
		}
		s.used++
		w.Header().Set("X-Ratelimit-Global-Remaining", strconv.Itoa(l.Requests-s.used))
	}
	if t := s.throttle; t.Every > 0 && s.count%t.Every == 0 {
		reset := time.Now().Add(t.RetryAfter)
		w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(reset.UnixMilli(), 10))
		w.Header().Set("X-Ratelimit-Route-Remaining", "0")
		if !t.ResetOnly {
			secs := max(int((t.RetryAfter+time.Second-1)/time.Second), 1)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		s.throttled++
		apiError(w, http.StatusTooManyRequests, "rate_limited", "You've exceeded the API rate limit. Try again later.")
		return http.StatusTooManyRequests, false
	}
	return http.StatusOK, true
}

// record logs a request; At is when the request arrived, before anything
// was answered, so that a test can compare it with a Retry-After.
func (s *Server) record(r *http.Request, status, items int) {
	s.requests = append(s.requests, Request{At: r.Context().Value(arrivedKey{}).(time.Time), Method: r.Method, Path: r.URL.Path,
		Query: r.URL.Query(), Status: status, Items: items})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status, ok := s.gate(w, r)
	if !ok {
		s.record(r, status, 0)
		return
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			apiError(w, http.StatusBadRequest, "invalid_request", "limit must be an integer between 1 and 20")
			s.record(r, http.StatusBadRequest, 0)
			return
		}
		limit = n
	}
	bound := func(name string) (int64, bool, bool) {
		v := q.Get(name)
		if v == "" {
			return 0, false, true
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			apiError(w, http.StatusBadRequest, "invalid_request", name+" must be a Unix time in milliseconds")
			s.record(r, http.StatusBadRequest, 0)
			return 0, false, false
		}
		return n, true, true
	}
	after, hasAfter, ok := bound("after")
	if !ok {
		return
	}
	before, hasBefore, ok := bound("before")
	if !ok {
		return
	}
	var matched []entry
	for _, e := range s.entries {
		if (hasAfter && e.date <= after) || (hasBefore && e.date >= before) {
			continue
		}
		matched = append(matched, e)
	}
	page := matched[:min(limit, len(matched))]
	items := make([]json.RawMessage, len(page))
	for i, e := range page {
		items[i] = e.listed
	}
	link := func(before int64, withBefore bool) map[string]string {
		lq := url.Values{}
		lq.Set("limit", strconv.Itoa(limit))
		if hasAfter {
			lq.Set("after", strconv.FormatInt(after, 10))
		}
		if withBefore {
			lq.Set("before", strconv.FormatInt(before, 10))
		}
		for _, k := range []string{"spec", "q"} {
			if v := q.Get(k); v != "" {
				lq.Set(k, v)
			}
		}
		return map[string]string{"href": "/api/v2/auditlog?" + lq.Encode(), "type": "application/json"}
	}
	links := map[string]any{"self": link(before, hasBefore)}
	if len(page) == limit && len(matched) > limit {
		links["next"] = link(page[len(page)-1].date, true)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "_links": links, "totalCount": len(matched)})
	s.record(r, http.StatusOK, len(items))
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status, ok := s.gate(w, r)
	if !ok {
		s.record(r, status, 0)
		return
	}
	i, found := s.byID[r.PathValue("id")]
	if !found || s.entries[i].noDetail {
		apiError(w, http.StatusNotFound, "not_found", "Unknown audit log entry")
		s.record(r, http.StatusNotFound, 0)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.entries[i].raw)
	s.record(r, http.StatusOK, 1)
}
