package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// SinkConfig configures a demo sink. Zero values take the defaults noted;
// the flaky mix (ErrorRate, ThrottleRate, TimeoutRate) is used as given,
// see FlakyDefaults.
type SinkConfig struct {
	// Delay is how long a successful answer takes (±50% jitter), default
	// 5ms.
	Delay time.Duration
	// Keep is how many recent requests are kept, default 50.
	Keep int
	// BodyExcerpt is how many bytes of each body are kept, default 2 KiB.
	BodyExcerpt int
	// Seed makes the flaky sink's answers (and the jitter) repeatable: the
	// n-th request gets the same answer in every run.
	Seed uint64

	// Flaky sinks only.
	ErrorRate    float64       // share of 500 answers
	ThrottleRate float64       // share of 429 answers with Retry-After
	RetryAfter   time.Duration // the Retry-After sent with 429, default 3s
	TimeoutRate  float64       // share of requests answered only after Hang
	// Hang is how long a "timeout" request is held before a late 200; it
	// should exceed the relay's request timeout (15s by default), default
	// 20s. Close ends held requests at once.
	Hang time.Duration
	// GonePath answers 410 Gone to every request, so that a subscription
	// pointed at it gets disabled; default "/gone".
	GonePath string
}

// FlakyDefaults is the demo's flaky mix: about 15% 500s, 5% 429s and 3%
// timeouts.
func FlakyDefaults() SinkConfig {
	return SinkConfig{ErrorRate: 0.15, ThrottleRate: 0.05, TimeoutRate: 0.03}
}

// SinkRequest is one request a sink answered.
type SinkRequest struct {
	At       time.Time
	Method   string
	Path     string
	Query    string
	Header   http.Header // credentials masked
	Body     string      // the first BodyExcerpt bytes
	BodySize int
	Status   int    // 0 when the client gave up before the answer
	Outcome  string // "ok", "error", "throttled", "timeout", "gone"
	Duration time.Duration
}

// SinkStats counts what a sink received.
type SinkStats struct {
	Requests int64
	ByStatus map[int]int64 // answered requests by status
	Timeouts int64         // requests held past Hang (answered late or abandoned by the client)
	Bytes    int64         // request body bytes
}

// Sink is a local HTTP endpoint for demo subscriptions: healthy (always
// 200) or flaky (a configurable mix of 500, 429 and timeouts). It listens
// on a random port of 127.0.0.1.
type Sink struct {
	cfg     SinkConfig
	flaky   bool
	url     string
	srv     *http.Server
	served  chan struct{}
	closing chan struct{}
	close   sync.Once

	mu     sync.Mutex
	rng    *rand.Rand
	stats  SinkStats
	recent []SinkRequest
}

// StartHealthySink starts a sink that answers 200 after Delay.
func StartHealthySink(cfg SinkConfig) (*Sink, error) { return startSink(cfg, false) }

// StartFlakySink starts a sink that answers with the configured mix of
// failures, and 410 on GonePath.
func StartFlakySink(cfg SinkConfig) (*Sink, error) { return startSink(cfg, true) }

func startSink(cfg SinkConfig, flaky bool) (*Sink, error) {
	if cfg.Delay <= 0 {
		cfg.Delay = 5 * time.Millisecond
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 50
	}
	if cfg.BodyExcerpt <= 0 {
		cfg.BodyExcerpt = 2 << 10
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = 3 * time.Second
	}
	if cfg.Hang <= 0 {
		cfg.Hang = 20 * time.Second
	}
	if cfg.GonePath == "" {
		cfg.GonePath = "/gone"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo sink: listening: %w", err)
	}
	s := &Sink{
		cfg: cfg, flaky: flaky, url: "http://" + ln.Addr().String(),
		served: make(chan struct{}), closing: make(chan struct{}),
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5bd1e9955bd1e995)),
		stats: SinkStats{ByStatus: map[int]int64{}},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // returns once closed
	}()
	return s, nil
}

// URL is the sink's base URL, e.g. http://127.0.0.1:40123.
func (s *Sink) URL() string { return s.url }

// GoneURL is the URL that answers 410 Gone (flaky sinks).
func (s *Sink) GoneURL() string { return s.url + s.cfg.GonePath }

// Close stops the sink, ending held requests at once.
func (s *Sink) Close() error {
	var err error
	s.close.Do(func() {
		close(s.closing)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
		<-s.served
	})
	return err
}

// Stats returns the counters so far.
func (s *Sink) Stats() SinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = make(map[int]int64, len(s.stats.ByStatus))
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	return st
}

// Recent returns the last Keep requests, oldest first.
func (s *Sink) Recent() []SinkRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recent)
}

// decide picks the answer for the next request, in arrival order.
func (s *Sink) decide(path string) (outcome string, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	jitter := 0.5 + s.rng.Float64()
	delay = time.Duration(float64(s.cfg.Delay) * jitter)
	if !s.flaky {
		return "ok", delay
	}
	if path == s.cfg.GonePath || strings.HasPrefix(path, s.cfg.GonePath+"/") {
		return "gone", 0
	}
	u := s.rng.Float64()
	switch {
	case u < s.cfg.ErrorRate:
		return "error", delay
	case u < s.cfg.ErrorRate+s.cfg.ThrottleRate:
		return "throttled", 0
	case u < s.cfg.ErrorRate+s.cfg.ThrottleRate+s.cfg.TimeoutRate:
		s.stats.Timeouts++
		return "timeout", s.cfg.Hang
	}
	return "ok", delay
}

func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	outcome, delay := s.decide(r.URL.Path)

	wait := func(d time.Duration) bool {
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-r.Context().Done(): // the client gave up
		case <-s.closing:
		}
		return false
	}
	status, msg := 0, map[string]any(nil)
	switch outcome {
	case "gone":
		status, msg = http.StatusGone, map[string]any{"error": "this endpoint is gone; stop sending"}
	case "throttled":
		w.Header().Set("Retry-After", strconv.Itoa(int((s.cfg.RetryAfter+time.Second-1)/time.Second)))
		status, msg = http.StatusTooManyRequests, map[string]any{"error": "slow down"}
	case "error":
		if wait(delay) {
			status, msg = http.StatusInternalServerError, map[string]any{"error": "internal error (demo)"}
		}
	default: // ok, timeout
		if wait(delay) {
			status, msg = http.StatusOK, map[string]any{"ok": true}
		}
	}
	// Record before answering, so that a client that got its answer finds
	// its request in Recent.
	s.record(r, body, status, outcome, time.Since(start), start)
	if status == 0 {
		// Held until the client left or the sink closed: drop the
		// connection rather than let net/http send an empty 200.
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(msg)
}

func (s *Sink) record(r *http.Request, body []byte, status int, outcome string, d time.Duration, at time.Time) {
	excerpt := body[:min(len(body), s.cfg.BodyExcerpt)]
	req := SinkRequest{
		At: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Header: shownHeaders(r.Header), Body: string(excerpt), BodySize: len(body),
		Status: status, Outcome: outcome, Duration: d,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Bytes += int64(len(body))
	if status != 0 {
		s.stats.ByStatus[status]++
	}
	s.recent = append(s.recent, req)
	if over := len(s.recent) - s.cfg.Keep; over > 0 {
		s.recent = slices.Delete(s.recent, 0, over)
	}
}

// shownHeaders is h as auditrelay shows headers, credentials masked
// (core/mask): a sink knows no secret values, so this is by header name.
func shownHeaders(h http.Header) http.Header {
	out := h.Clone()
	var m *mask.Masker
	for name, vals := range out {
		for i, v := range vals {
			vals[i] = m.Header(name, v, false)
		}
	}
	return out
}
