package delivery

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestClient builds a Client that never uses a proxy from the
// environment and is closed with the test.
func newTestClient(t testing.TB, o Options) *Client {
	t.Helper()
	if o.Proxy == nil {
		o.Proxy = direct
	}
	if o.Version == "" {
		o.Version = "test"
	}
	c, err := NewClient(o)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// direct is an Options.Proxy that never uses a proxy.
func direct(*http.Request) (*url.URL, error) { return nil, nil }

// defaultSchedule is the schedule configuration gives by default
// (core/config, delivery.retry): ten retries over about 27h42m, ±20%.
func defaultSchedule() Schedule {
	return Schedule{
		Delays: []time.Duration{
			5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
			30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
			8 * time.Hour, 12 * time.Hour,
		},
		Jitter:        0.2,
		RetryAfterMax: 24 * time.Hour,
	}
}

// seq returns a deterministic jitter source.
func seq(seed uint64) func() float64 {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)).Float64
}

func req(url string) Request {
	return Request{
		DeliveryID: "dlv_01J9ZQ4K7T",
		Attempt:    1,
		Method:     http.MethodPost,
		URL:        url,
		Headers:    []Header{{Name: "Content-Type", Value: "application/json"}},
		Body:       []byte(`{"kind":"flag","name":"beta"}`),
	}
}

// seen is one request as a test server received it.
type seen struct {
	method string
	uri    string
	host   string
	header http.Header
	body   []byte
}

// recorder is a real HTTP server that answers with the next scripted
// handler and records what it received.
type recorder struct {
	*httptest.Server
	mu     sync.Mutex
	got    []seen
	script []http.HandlerFunc
}

func newRecorder(t testing.TB, script ...http.HandlerFunc) *recorder {
	t.Helper()
	rec := &recorder{script: script}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 0, 1024)
		buf := make([]byte, 512)
		for {
			n, err := r.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		rec.mu.Lock()
		i := len(rec.got)
		rec.got = append(rec.got, seen{method: r.Method, uri: r.RequestURI, host: r.Host, header: r.Header.Clone(), body: body})
		var h http.HandlerFunc
		if len(rec.script) > 0 {
			h = rec.script[min(i, len(rec.script)-1)]
		}
		rec.mu.Unlock()
		if h == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.got...)
}

func status(code int, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
	}
}

func statusBody(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}

// rawListener accepts TCP connections on 127.0.0.1 and hands each to fn
// (nil: hold it open without reading or answering). stop closes the
// listener and every connection and waits for its goroutines; it also runs
// at cleanup.
func rawListener(t testing.TB, fn func(net.Conn)) (url string, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if fn == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				fn(c)
			}()
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

// nxdomainResolver returns a resolver whose DNS server is a real UDP
// server on 127.0.0.1 that answers NXDOMAIN to every query.
func nxdomainResolver(t testing.TB) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			// Echo the query with QR=1, RD copied, RA=1, RCODE=3
			// (NXDOMAIN), no answers.
			resp := append([]byte(nil), buf[:n]...)
			flags := binary.BigEndian.Uint16(resp[2:4])
			flags = 0x8000 | (flags & 0x0100) | 0x0080 | 3
			binary.BigEndian.PutUint16(resp[2:4], flags)
			binary.BigEndian.PutUint16(resp[6:8], 0)   // ANCOUNT
			binary.BigEndian.PutUint16(resp[8:10], 0)  // NSCOUNT
			binary.BigEndian.PutUint16(resp[10:12], 0) // ARCOUNT
			resp = resp[:12+questionLen(resp[12:])]
			pc.WriteTo(resp, addr)
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		wg.Wait()
	})
	addr := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

// questionLen is the length of the first question section (name + type +
// class) in a DNS message body.
func questionLen(b []byte) int {
	i := 0
	for i < len(b) && b[i] != 0 {
		i += int(b[i]) + 1
	}
	return min(i+1+4, len(b))
}

// waitGoroutines waits until the goroutine count is back to at most base,
// and fails with a stack dump if it never is. It polls because goroutines
// of closed connections exit asynchronously; it asserts a count, not a time.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d, want <= %d\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantClass(t *testing.T, res Result, class ErrorClass) {
	t.Helper()
	if res.ErrorClass != class {
		t.Fatalf("ErrorClass = %q (err %v, status %d), want %q", res.ErrorClass, res.Err, res.StatusCode, class)
	}
	if class != ClassNone {
		var se *SendError
		if !errors.As(res.Err, &se) || se.Class != class {
			t.Fatalf("Err = %#v, want *SendError of class %q", res.Err, class)
		}
	}
}

func wantOutcome(t *testing.T, v Verdict, o Outcome, reasonParts ...string) {
	t.Helper()
	if v.Outcome != o {
		t.Fatalf("Outcome = %s (%s), want %s", v.Outcome, v.Reason, o)
	}
	t.Logf("%s: %s", v.Outcome, v.Reason)
	for _, p := range reasonParts {
		if !strings.Contains(v.Reason, p) {
			t.Errorf("Reason %q does not mention %q", v.Reason, p)
		}
	}
}
