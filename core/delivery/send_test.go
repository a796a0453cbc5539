package delivery

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// TestServerErrorThenSuccess walks a delivery through a 500 and a 204,
// checking each Result and Verdict.
func TestServerErrorThenSuccess(t *testing.T) {
	rec := newRecorder(t, statusBody(500, "database is down"), status(204))
	c := newTestClient(t, Options{})
	sched := defaultSchedule()
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)

	r := req(rec.URL + "/hook")
	res := c.Send(context.Background(), r)
	wantClass(t, res, ClassStatus)
	if res.StatusCode != 500 || string(res.Body) != "database is down" || res.BodyTruncated {
		t.Fatalf("first result: status %d body %q truncated %v", res.StatusCode, res.Body, res.BodyTruncated)
	}
	v := sched.Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "HTTP 500 Internal Server Error", "retry 1/10")
	if v.Step != 1 {
		t.Errorf("Step = %d, want 1", v.Step)
	}
	if d := v.NextAttemptAt.Sub(now); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("first retry in %s, want 5s ±20%%", d)
	}

	r.Attempt = 2
	res = c.Send(context.Background(), r)
	wantClass(t, res, ClassNone)
	if res.StatusCode != 204 || res.Err != nil {
		t.Fatalf("second result: status %d err %v", res.StatusCode, res.Err)
	}
	v = sched.Decide(v.Step, res, now, seq(1))
	wantOutcome(t, v, Delivered, "HTTP 204 No Content")
	if v.Step != 1 || !v.NextAttemptAt.IsZero() {
		t.Errorf("delivered verdict %+v, want step 1 and no next attempt", v)
	}
	if got := len(rec.requests()); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
}

func TestStatusClassification(t *testing.T) {
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		class   ErrorClass
		outcome Outcome
		reason  []string
	}{
		{"200", status(200), ClassNone, Delivered, []string{"HTTP 200 OK"}},
		{"202", status(202), ClassNone, Delivered, []string{"202 Accepted"}},
		{"400 with body", statusBody(400, "missing field \"name\"\nsecond line"), ClassStatus, Fail,
			[]string{"HTTP 400 Bad Request", "not retried", `missing field "name"`}},
		{"401", status(401), ClassStatus, Fail, []string{"401 Unauthorized", "credentials"}},
		{"404", status(404), ClassStatus, Fail, []string{"404 Not Found", "check the endpoint URL"}},
		{"408", status(408), ClassStatus, Retry, []string{"408 Request Timeout", "retry 1/10"}},
		{"410", status(410), ClassStatus, Disable, []string{"410 Gone", "subscription disabled"}},
		{"413", status(413), ClassStatus, Fail, []string{"413"}},
		{"429 no Retry-After", status(429), ClassStatus, Retry, []string{"429 Too Many Requests"}},
		{"502", status(502), ClassStatus, Retry, []string{"502 Bad Gateway"}},
		{"504", status(504), ClassStatus, Retry, []string{"504 Gateway Timeout"}},
		{"599", status(599), ClassStatus, Retry, []string{"HTTP 599"}},
		{"304", status(304), ClassStatus, Fail, []string{"304 Not Modified", "3xx is not a success"}},
	}
	c := newTestClient(t, Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, tc.handler)
			res := c.Send(context.Background(), req(rec.URL))
			wantClass(t, res, tc.class)
			wantOutcome(t, defaultSchedule().Decide(0, res, now, seq(2)), tc.outcome, tc.reason...)
			if n := len(rec.requests()); n != 1 {
				t.Errorf("server saw %d requests, want 1", n)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	c := newTestClient(t, Options{})
	sched := defaultSchedule()

	t.Run("429 seconds", func(t *testing.T) {
		rec := newRecorder(t, status(429, "Retry-After", "120"))
		res := c.Send(context.Background(), req(rec.URL))
		if res.RetryAfter != 120*time.Second || res.Header("Retry-After") != "120" {
			t.Fatalf("RetryAfter = %s, header %q; want 120s", res.RetryAfter, res.Header("retry-after"))
		}
		now := time.Now()
		v := sched.Decide(0, res, now, seq(3))
		wantOutcome(t, v, Retry, "429 Too Many Requests", "Retry-After 2m honoured")
		if v.NextAttemptAt.Before(now.Add(120 * time.Second)) {
			t.Errorf("next attempt %s is before Retry-After (now %s + 120s)", v.NextAttemptAt, now)
		}
	})

	t.Run("429 HTTP-date", func(t *testing.T) {
		target := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		rec := newRecorder(t, status(429, "Retry-After", target.Format(http.TimeFormat)))
		res := c.Send(context.Background(), req(rec.URL))
		if res.RetryAfter < 59*time.Minute || res.RetryAfter > 61*time.Minute {
			t.Fatalf("RetryAfter = %s, want about 1h", res.RetryAfter)
		}
		v := sched.Decide(0, res, time.Now(), seq(3))
		wantOutcome(t, v, Retry, "Retry-After", "honoured")
		if v.NextAttemptAt.Before(target) {
			t.Errorf("next attempt %s is before Retry-After date %s", v.NextAttemptAt, target)
		}
	})

	t.Run("503 seconds", func(t *testing.T) {
		rec := newRecorder(t, status(503, "Retry-After", "3600"))
		res := c.Send(context.Background(), req(rec.URL))
		now := time.Now()
		v := sched.Decide(2, res, now, seq(3))
		wantOutcome(t, v, Retry, "503 Service Unavailable", "retry 3/10", "Retry-After 1h honoured")
		if v.Step != 3 || v.NextAttemptAt.Before(now.Add(time.Hour)) {
			t.Errorf("verdict %+v: want step 3, not before now+1h", v)
		}
	})

	t.Run("503 shorter than backoff", func(t *testing.T) {
		rec := newRecorder(t, status(503, "Retry-After", "1"))
		res := c.Send(context.Background(), req(rec.URL))
		now := time.Now()
		v := sched.Decide(5, res, now, seq(3)) // nominal 1h
		wantOutcome(t, v, Retry, "Retry-After 1s; backoff is later")
		if v.NextAttemptAt.Before(now.Add(48 * time.Minute)) {
			t.Errorf("next attempt %s: Retry-After must not shorten the backoff", v.NextAttemptAt)
		}
	})

	t.Run("500 ignores Retry-After", func(t *testing.T) {
		rec := newRecorder(t, status(500, "Retry-After", "7200"))
		res := c.Send(context.Background(), req(rec.URL))
		if res.RetryAfter != 2*time.Hour {
			t.Fatalf("RetryAfter = %s, want parsed 2h", res.RetryAfter)
		}
		now := time.Now()
		v := sched.Decide(0, res, now, seq(3))
		wantOutcome(t, v, Retry)
		if strings.Contains(v.Reason, "Retry-After") || v.NextAttemptAt.After(now.Add(time.Minute)) {
			t.Errorf("500 verdict %q at %s: Retry-After applies to 429 and 503 only", v.Reason, v.NextAttemptAt)
		}
	})
}

// TestTimeoutSlowServer: the handler answers only after the client gave up.
func TestTimeoutSlowServer(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // the client hanging up ends the handler
	})
	c := newTestClient(t, Options{Timeout: 200 * time.Millisecond})
	res := c.Send(context.Background(), req(rec.URL))
	wantClass(t, res, ClassTimeout)
	if res.StatusCode != 0 {
		t.Errorf("StatusCode = %d, want 0", res.StatusCode)
	}
	v := defaultSchedule().Decide(0, res, time.Now(), seq(4))
	wantOutcome(t, v, Retry, "timeout", "retry 1/10")
}

// TestTimeoutSilentPeer: a raw listener accepts the connection and never
// answers. Send must end as a timeout and leave no goroutine behind.
func TestTimeoutSilentPeer(t *testing.T) {
	base := runtime.NumGoroutine()
	url, stop := rawListener(t, nil)
	c, err := NewClient(Options{Timeout: 300 * time.Millisecond, Proxy: direct})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Send(context.Background(), req(url))
	wantClass(t, res, ClassTimeout)
	c.Close()
	stop()
	waitGoroutines(t, base)
}

// TestTimeoutHeadersThenSilence: headers arrive, the body never finishes.
// The receiver has answered, so the status decides; the body is marked
// truncated with the read error.
func TestTimeoutHeadersThenSilence(t *testing.T) {
	url, _ := rawListener(t, func(conn net.Conn) {
		br := bufio.NewReader(conn)
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
		io.Copy(io.Discard, conn) // hold until the client hangs up
	})
	c := newTestClient(t, Options{Timeout: 300 * time.Millisecond})
	res := c.Send(context.Background(), req(url))
	wantClass(t, res, ClassNone)
	if res.StatusCode != 200 || !res.BodyTruncated || res.BodyErr == nil || string(res.Body) != "partial" {
		t.Fatalf("result %+v: want 200, truncated body %q with BodyErr", res, "partial")
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, Options{})
	r := req("http://relay:hunter2@" + addr + "/in?token=tok-123456")
	r.Mask = mask.New("tok-123456")
	res := c.Send(context.Background(), r)
	wantClass(t, res, ClassConnect)
	msg := res.Err.Error()
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "tok-123456") {
		t.Errorf("error %q leaks a secret", msg)
	}
	wantOutcome(t, defaultSchedule().Decide(0, res, time.Now(), seq(5)), Retry, "connect", "refused")
}

func TestDNSFailure(t *testing.T) {
	c := newTestClient(t, Options{Resolver: nxdomainResolver(t)})
	res := c.Send(context.Background(), req("http://receiver.auditrelay-test.invalid/hook"))
	wantClass(t, res, ClassDNS)
	wantOutcome(t, defaultSchedule().Decide(0, res, time.Now(), seq(6)), Retry, "dns", "no such host")
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// An empty root pool, not the system one: same failure, and loading
	// the system roots can take seconds on a busy machine.
	untrusting := newTestClient(t, Options{TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}})
	res := untrusting.Send(context.Background(), req(srv.URL))
	wantClass(t, res, ClassTLS)
	wantOutcome(t, defaultSchedule().Decide(0, res, time.Now(), seq(7)), Retry, "tls")

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	trusting := newTestClient(t, Options{TLSConfig: &tls.Config{RootCAs: pool}})
	res = trusting.Send(context.Background(), req(srv.URL))
	wantClass(t, res, ClassNone)

	// https:// against a plain HTTP server.
	plain := newRecorder(t)
	res = trusting.Send(context.Background(), req(strings.Replace(plain.URL, "http://", "https://", 1)))
	wantClass(t, res, ClassTLS)
}

func TestProtocolErrors(t *testing.T) {
	c := newTestClient(t, Options{Timeout: 2 * time.Second})
	garbage, _ := rawListener(t, func(conn net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
			return
		}
		io.WriteString(conn, "SMTP READY\r\n\r\n")
	})
	res := c.Send(context.Background(), req(garbage))
	wantClass(t, res, ClassProtocol)
	if !strings.Contains(res.Err.Error(), "malformed HTTP") {
		t.Errorf("Err = %q, want the parser's complaint", res.Err)
	}

	hangup, _ := rawListener(t, func(conn net.Conn) {
		http.ReadRequest(bufio.NewReader(conn))
	})
	res = c.Send(context.Background(), req(hangup))
	wantClass(t, res, ClassProtocol)
	wantOutcome(t, defaultSchedule().Decide(0, res, time.Now(), seq(8)), Retry, "protocol: connection closed by the receiver")
}

func TestRedirectNotFollowed(t *testing.T) {
	var followed atomic.Int32
	target := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.WriteHeader(200)
	})
	rec := newRecorder(t, status(302, "Location", target.URL+"/new?token=tok-abcdef"))
	c := newTestClient(t, Options{})
	r := req(rec.URL)
	r.Mask = mask.New("tok-abcdef")
	res := c.Send(context.Background(), r)
	wantClass(t, res, ClassStatus)
	if res.StatusCode != 302 || followed.Load() != 0 {
		t.Fatalf("status %d, target hit %d times: redirect must not be followed", res.StatusCode, followed.Load())
	}
	v := defaultSchedule().Decide(0, res, time.Now(), seq(9))
	wantOutcome(t, v, Fail, "302 Found", target.URL+"/new?token="+mask.Masked, "not followed")
	if strings.Contains(v.Reason, "tok-abcdef") {
		t.Errorf("reason %q leaks the token", v.Reason)
	}
}

// TestCanceledMidRequest: the relay stops while the receiver is thinking.
func TestCanceledMidRequest(t *testing.T) {
	arrived := make(chan struct{})
	var once sync.Once
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(arrived) })
		<-r.Context().Done()
	})
	c := newTestClient(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	res := c.Send(ctx, req(rec.URL))
	wantClass(t, res, ClassCanceled)
	now := time.Now()
	v := defaultSchedule().Decide(4, res, now, seq(10))
	wantOutcome(t, v, Retry, "canceled", "no retry used")
	if v.Step != 4 || !v.NextAttemptAt.Equal(now) {
		t.Errorf("verdict %+v: a canceled attempt must not use a step and is due at once", v)
	}
}

// bigServer answers every request with size bytes, written from one shared
// buffer so the server itself allocates little, and counts connections.
func bigServer(t testing.TB, size int) (*httptest.Server, *atomic.Int32) {
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = 'a' + byte(i%26)
	}
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(size))
		for left := size; left > 0; {
			n := min(left, len(chunk))
			if _, err := w.Write(chunk[:n]); err != nil {
				return
			}
			left -= n
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestLargeResponseBounded(t *testing.T) {
	const size = 10 << 20
	srv, conns := bigServer(t, size)
	c := newTestClient(t, Options{})

	// Warm up so one-time allocations (connection, TLS-free transport
	// state) are not counted.
	c.Send(context.Background(), req(srv.URL))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := c.Send(context.Background(), req(srv.URL))
	runtime.ReadMemStats(&after)

	wantClass(t, res, ClassNone)
	if len(res.Body) != DefaultMaxResponseBody || !res.BodyTruncated {
		t.Fatalf("body %d bytes truncated=%v, want %d and truncated", len(res.Body), res.BodyTruncated, DefaultMaxResponseBody)
	}
	if got := res.Header("Content-Length"); got != strconv.Itoa(size) {
		t.Errorf("Content-Length header %q, want %d", got, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("one Send of a 10 MiB answer allocated %d bytes; the body must not be buffered", alloc)
	}
	// Longer than MaxDrain: each answer costs its connection.
	if n := conns.Load(); n != 2 {
		t.Errorf("server saw %d connections for 2 oversized answers, want 2 (dropped each time)", n)
	}
}

func TestConnectionReusedAfterDrain(t *testing.T) {
	srv, conns := bigServer(t, 200<<10) // over MaxResponseBody, under MaxDrain
	c := newTestClient(t, Options{})
	for i := range 3 {
		res := c.Send(context.Background(), req(srv.URL))
		wantClass(t, res, ClassNone)
		if !res.BodyTruncated || len(res.Body) != DefaultMaxResponseBody {
			t.Fatalf("send %d: body %d truncated=%v", i, len(res.Body), res.BodyTruncated)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 sends used %d connections, want 1 (drained answers keep the connection)", n)
	}
}

func TestInvalidRequestsNotSent(t *testing.T) {
	rec := newRecorder(t)
	c := newTestClient(t, Options{MaxRequestBody: 1024})
	mod := func(f func(*Request)) Request {
		r := req(rec.URL)
		f(&r)
		return r
	}
	cases := []struct {
		name  string
		r     Request
		class ErrorClass
		msg   string
	}{
		{"empty id", mod(func(r *Request) { r.DeliveryID = "" }), ClassInvalid, "delivery id is empty"},
		{"id with space", mod(func(r *Request) { r.DeliveryID = "a b" }), ClassInvalid, "delivery id has byte 0x20"},
		{"attempt 0", mod(func(r *Request) { r.Attempt = 0 }), ClassInvalid, "attempt is 0"},
		{"bad method", mod(func(r *Request) { r.Method = "PO ST" }), ClassInvalid, "method"},
		{"ftp url", mod(func(r *Request) { r.URL = "ftp://example.com/x" }), ClassInvalid, `scheme "ftp"`},
		{"relative url", mod(func(r *Request) { r.URL = "/hook" }), ClassInvalid, "scheme"},
		{"no host", mod(func(r *Request) { r.URL = "http:///hook" }), ClassInvalid, "no host"},
		{"bad url", mod(func(r *Request) { r.URL = "http://a b/" }), ClassInvalid, "url"},
		{"empty url", mod(func(r *Request) { r.URL = "" }), ClassInvalid, "url is empty"},
		{"bad header name", mod(func(r *Request) { r.Headers = append(r.Headers, Header{"X Bad", "v"}) }), ClassInvalid, `header 2 name "X Bad"`},
		{"header value newline", mod(func(r *Request) {
			r.Headers = append(r.Headers, Header{"Authorization", "Bearer sec\nret"})
			r.Mask = mask.New("sec\nret")
		}), ClassInvalid, `header "Authorization" value has a control character at byte 10`},
		{"body too large", mod(func(r *Request) { r.Body = make([]byte, 1025) }), ClassBodyTooLarge, "1025 bytes, limit 1024"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.Send(context.Background(), tc.r)
			wantClass(t, res, tc.class)
			if !strings.Contains(res.Err.Error(), tc.msg) {
				t.Errorf("Err = %q, want it to mention %q", res.Err, tc.msg)
			}
			if strings.Contains(res.Err.Error(), "Bearer") {
				t.Errorf("Err = %q echoes a header value", res.Err)
			}
			wantOutcome(t, defaultSchedule().Decide(0, res, time.Now(), seq(11)), Fail, "not sent")
		})
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestSecretsMaskedInResult(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("token")
		w.Header().Set("X-Request-Id", "req-"+tok)
		w.WriteHeader(500)
		io.WriteString(w, "bad token "+tok+" for user")
	})
	c := newTestClient(t, Options{})
	r := req(rec.URL + "/in?token=tok-987654")
	r.Mask = mask.New("tok-987654")
	res := c.Send(context.Background(), r)
	wantClass(t, res, ClassStatus)
	if string(res.Body) != "bad token "+mask.Masked+" for user" {
		t.Errorf("Body = %q, want the token masked", res.Body)
	}
	if got := res.Header("X-Request-Id"); got != "req-"+mask.Masked {
		t.Errorf("X-Request-Id = %q, want masked", got)
	}
	// The server did get the real token: masking is on the way back only.
	if got := rec.requests()[0].uri; !strings.Contains(got, "tok-987654") {
		t.Errorf("server saw %q, want the real token", got)
	}
}

func TestOptionsValidation(t *testing.T) {
	_, err := NewClient(Options{Timeout: -1, MaxConnsPerHost: -3})
	if err == nil || !strings.Contains(err.Error(), "Timeout") || !strings.Contains(err.Error(), "MaxConnsPerHost") {
		t.Fatalf("NewClient(bad) = %v, want errors naming Timeout and MaxConnsPerHost", err)
	}
	c := newTestClient(t, Options{Timeout: 2 * time.Second})
	o := c.Options()
	if o.ResponseHeaderTimeout != 2*time.Second || o.DialTimeout != 2*time.Second {
		t.Errorf("sub-timeouts %s/%s, want capped at Timeout 2s", o.ResponseHeaderTimeout, o.DialTimeout)
	}
	if o.UserAgent != "auditrelay/test" || o.MaxResponseBody != DefaultMaxResponseBody || o.MaxConnsPerHost != DefaultMaxConnsPerHost {
		t.Errorf("defaults not applied: %+v", o)
	}
}

// TestDeadEndpointCannotTakeEveryConnection: with MaxConnsPerHost 2 a
// silent endpoint holds at most 2 sockets, further sends to it wait (and
// time out) without dialing, and other endpoints are unaffected.
func TestDeadEndpointCannotTakeEveryConnection(t *testing.T) {
	var accepted atomic.Int32
	held := make(chan struct{}, 8)
	dead, _ := rawListener(t, func(conn net.Conn) {
		accepted.Add(1)
		held <- struct{}{}
		io.Copy(io.Discard, conn) // never answer; return when the client hangs up
	})
	healthy := newRecorder(t)
	c := newTestClient(t, Options{MaxConnsPerHost: 2, Timeout: 500 * time.Millisecond})

	var wg sync.WaitGroup
	results := make([]Result, 4)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.Send(context.Background(), req(dead))
		}()
	}
	<-held
	<-held
	for i := 2; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			results[i] = c.Send(ctx, req(dead))
		}()
	}
	if res := c.Send(context.Background(), req(healthy.URL)); res.ErrorClass != ClassNone {
		t.Errorf("healthy endpoint while another is dead: %v", res.Err)
	}
	wg.Wait()
	for i, res := range results {
		if res.ErrorClass != ClassTimeout {
			t.Errorf("send %d to the dead endpoint: class %q (%v), want timeout", i, res.ErrorClass, res.Err)
		}
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("dead endpoint accepted %d connections, want 2 (MaxConnsPerHost)", n)
	}
}

func TestHTTP2OverTLS(t *testing.T) {
	var proto atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(int32(r.ProtoMajor))
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := newTestClient(t, Options{TLSConfig: &tls.Config{RootCAs: pool}})
	res := c.Send(context.Background(), req(srv.URL))
	wantClass(t, res, ClassNone)
	if proto.Load() != 2 {
		t.Errorf("server saw HTTP/%d, want HTTP/2", proto.Load())
	}
}
