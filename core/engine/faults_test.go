package engine

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Each fault ends in the documented state with its attempts recorded.

func TestTimeoutIsRetriedAndRecorded(t *testing.T) {
	var slow atomic.Bool
	slow.Store(true)
	s := newSink(t, func(n int, r *http.Request) int {
		if slow.Load() {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second): // longer than the 500ms timeout
			}
		}
		return http.StatusOK
	})
	h := startEngine(t, testConfig(t, webhookSub("slow", s.URL, "")))
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	id := DeliveryID("slow", "e1")
	var d DeliveryDetail
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, _ = h.eng.Delivery(context.Background(), id)
		if len(d.Attempts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a := d.Attempts[0]; a.ErrorClass != "timeout" || a.StatusCode != 0 {
		t.Errorf("first attempt = class %q status %d, want timeout", a.ErrorClass, a.StatusCode)
	}
	slow.Store(false)
	d = h.waitState(id, Delivered)
	if d.Attempts[len(d.Attempts)-1].StatusCode != 200 {
		t.Errorf("attempts = %+v", d.Attempts)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var firstAt, secondAt atomic.Int64
	s := newSink(t, func(n int, _ *http.Request) int {
		switch n {
		case 1:
			firstAt.Store(time.Now().UnixNano())
			return http.StatusTooManyRequests // the sink sends Retry-After: 1
		case 2:
			secondAt.Store(time.Now().UnixNano())
		}
		return http.StatusOK
	})
	h := startEngine(t, testConfig(t, webhookSub("throttled", s.URL, "")))
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	d := h.waitState(DeliveryID("throttled", "e1"), Delivered)
	if len(d.Attempts) != 2 || d.Attempts[0].StatusCode != 429 {
		t.Fatalf("attempts = %+v", d.Attempts)
	}
	// The schedule says 20ms; the receiver asked for a second.
	if gap := time.Duration(secondAt.Load() - firstAt.Load()); gap < time.Second {
		t.Errorf("retried after %s, before the 1s Retry-After", gap)
	}
}

func TestServerThatNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // read the request, never answer, hold the socket
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	cfg := testConfig(t, webhookSub("silent", "http://"+ln.Addr().String()+"/hook", ""))
	cfg.Delivery.Schedule = []time.Duration{20 * time.Millisecond}
	h := startEngine(t, cfg)
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	d := h.waitState(DeliveryID("silent", "e1"), Failed)
	if len(d.Attempts) != 2 {
		t.Fatalf("attempts = %d, want 2 (one retry)", len(d.Attempts))
	}
	for _, a := range d.Attempts {
		if a.ErrorClass != "timeout" {
			t.Errorf("attempt %d class %q, want timeout", a.Number, a.ErrorClass)
		}
	}
	if !strings.Contains(d.Reason, "gave up") {
		t.Errorf("reason = %q", d.Reason)
	}
}

func TestHugeResponseBodyIsCapped(t *testing.T) {
	huge := bytes.Repeat([]byte("x"), 10<<20)
	srv := newSinkHandler(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway) // a failure, so the body is kept
		w.Write(huge)
	})
	cfg := testConfig(t, webhookSub("chatty", srv, ""))
	cfg.Delivery.Schedule = []time.Duration{20 * time.Millisecond}
	h := startEngine(t, cfg)
	h.ingest(entryJSON("e1", "updateOn", "proj/p:env/production:flag/f"))
	d := h.waitState(DeliveryID("chatty", "e1"), Failed)
	for _, a := range d.Attempts {
		if a.StatusCode != 502 {
			t.Errorf("attempt %d status %d", a.Number, a.StatusCode)
		}
		if n := len(a.ResponseBody); n == 0 || n > 64<<10 {
			t.Errorf("attempt %d kept %d bytes of the 10 MB body, want at most 64 KiB", a.Number, n)
		}
	}
}

func newSinkHandler(t *testing.T, h http.HandlerFunc) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/hook"
}
