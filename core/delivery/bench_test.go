package delivery

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
)

// BenchmarkSend measures Client.Send throughput against a local server
// answering 204 to 1 KiB POSTs, with 16 senders per CPU. Compare with
// LoopbackCeiling (raw net/http, same shape).
func BenchmarkSend(b *testing.B) {
	for _, sign := range []bool{false, true} {
		name := "plain"
		if sign {
			name = "standard-webhooks"
		}
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			c := newTestClient(b, Options{})
			r := req(srv.URL + "/hook")
			r.Body = bytes.Repeat([]byte("x"), 1024)
			if sign {
				s, err := NewSWSigner(vectorSecret)
				if err != nil {
					b.Fatal(err)
				}
				r.StandardWebhooks = s
			}
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if res := c.Send(context.Background(), r); res.ErrorClass != ClassNone {
						b.Errorf("send: %v", res.Err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkSendHugeResponse shows memory per Send stays bounded when the
// receiver answers with 10 MiB: see B/op.
func BenchmarkSendHugeResponse(b *testing.B) {
	srv, _ := bigServer(b, 10<<20)
	c := newTestClient(b, Options{})
	r := req(srv.URL)
	b.ReportAllocs()
	for b.Loop() {
		if res := c.Send(context.Background(), r); !res.BodyTruncated {
			b.Fatalf("body not truncated: %d bytes", len(res.Body))
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
}

// BenchmarkLoopbackCeiling reports the raw ceiling next to BenchmarkSend.
func BenchmarkLoopbackCeiling(b *testing.B) {
	var rps float64
	for b.Loop() {
		var err error
		rps, err = LoopbackCeiling(context.Background(), time.Second, 32)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(rps, "req/s")
}

func BenchmarkDecide(b *testing.B) {
	s := defaultSchedule()
	res := Result{StatusCode: 503, ErrorClass: ClassStatus, RetryAfter: time.Minute}
	now := time.Now()
	rnd := seq(1)
	b.ReportAllocs()
	for b.Loop() {
		s.Decide(3, res, now, rnd)
	}
}

// BenchmarkSendMasked is Send as the engine calls it: with the
// subscription's secrets to mask out of a small JSON answer (the response
// body and kept headers pass through core/mask).
func BenchmarkSendMasked(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"ok":true,"channel":"C0123456","ts":"1737540002.113","message":{"text":"Turned on flag pricing-page in production"}}`)
	}))
	defer srv.Close()
	c := newTestClient(b, Options{})
	r := req(srv.URL + "/hook")
	r.Body = bytes.Repeat([]byte("x"), 1024)
	r.Mask = mask.New("xoxb-0123456789-abcdefghij", "sk_live_abcdefghijklmnop")
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := c.Send(context.Background(), r); res.ErrorClass != ClassNone {
				b.Errorf("send: %v", res.Err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
