package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// The workloads of the backends' benchmarks, shared so that their figures
// measure the same thing.

// benchRaw is a 1 KB audit-log entry body.
var benchRaw = bytes.Repeat([]byte("x"), 1024)

// BenchEntry is an entry with a 1 KB body and one Pending delivery for sub,
// "<id>/<sub>".
func BenchEntry(id, sub string) store.NewEntry {
	return store.NewEntry{
		EntrySummary: store.EntrySummary{ID: id, Kind: "flag", Title: "Alice updated flag " + id, Member: "alice@example.com",
			Project: "default", Environment: "production", Source: "webhook", Date: time.Now()},
		Raw:        benchRaw,
		Deliveries: []store.NewDelivery{{ID: id + "/" + sub, Subscription: sub, State: store.Pending}},
	}
}

// IngestPending fills s with n BenchEntry entries "<prefix>0000000"... for
// sub, 500 per Ingest.
func IngestPending(tb testing.TB, s store.Store, prefix, sub string, n int) {
	tb.Helper()
	const batch = 500
	ctx := context.Background()
	es := make([]store.NewEntry, 0, batch)
	for i := 0; i < n; i += batch {
		es = es[:0]
		for j := i; j < min(i+batch, n); j++ {
			es = append(es, BenchEntry(fmt.Sprintf("%s%07d", prefix, j), sub))
		}
		if _, err := s.Ingest(ctx, es, nil); err != nil {
			tb.Fatalf("Ingest: %v", err)
		}
	}
}

// IngestConcurrently makes b.N Ingest calls of one BenchEntry each, for
// subscription "hook", from 16 × GOMAXPROCS goroutines, as webhook
// handlers call it, and reports entries/s and cpu-µs/entry. It resets the
// timer before and stops it after.
func IngestConcurrently(b *testing.B, s store.Store) {
	runConcurrently(b, "entry", "entries", func(ctx context.Context, id string) error {
		_, err := s.Ingest(ctx, []store.NewEntry{BenchEntry(id, "hook")}, nil)
		return err
	})
}

// runConcurrently calls op b.N times, each with a fresh id, from 16 ×
// GOMAXPROCS goroutines, and reports <plural>/s and cpu-µs/<unit>. It
// resets the timer before and stops it after.
func runConcurrently(b *testing.B, unit, plural string, op func(ctx context.Context, id string) error) {
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start, cpu := time.Now(), CPUTime()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if err := op(ctx, strconv.FormatInt(n.Add(1), 10)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), plural+"/s")
	b.ReportMetric(float64((CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/"+unit)
}

// ClaimFinish runs workers as the engine's subscription loops would: each
// claims up to limit deliveries of sub (under maxInFlight, 0 for none),
// then finishes them as Delivered with an attempt record in one Finish,
// until a claim finds nothing. It returns how many deliveries were
// finished and how many claims were made.
func ClaimFinish(b *testing.B, s store.Store, sub string, workers, limit, maxInFlight int) (finished, claims int64) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var done, claimed atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("w", w)
			for {
				res, err := s.Claim(ctx, store.ClaimParams{Subscription: sub, Owner: owner, Limit: limit, MaxInFlight: maxInFlight, Lease: time.Minute})
				if err != nil {
					b.Error(err)
					return
				}
				claimed.Add(1)
				if len(res.Claimed) == 0 {
					return
				}
				os := make([]store.Outcome, len(res.Claimed))
				for i, c := range res.Claimed {
					os[i] = store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: owner, Attempt: c.Attempts, State: store.Delivered,
						Record: &store.Attempt{StatusCode: 200, StartedAt: time.Now(), Duration: time.Millisecond, URL: "http://127.0.0.1/hook"}}
				}
				fr, err := s.Finish(ctx, os)
				if err != nil || fr.Applied != len(os) {
					b.Errorf("Finish = %+v, %v", fr, err)
					return
				}
				done.Add(int64(fr.Applied))
			}
		}()
	}
	wg.Wait()
	return done.Load(), claimed.Load()
}

// IngestLeasedFinish is the store's share of the relay's path as an
// engine with free workers drives it: b.N Ingest calls of one BenchEntry
// each, leased at ingest, from 16 × GOMAXPROCS goroutines; each then
// records its delivery's first attempt (Delivered, with the request it
// sent: headers and a 600-byte body) with Finish. It reports events/s and
// cpu-µs/event, and resets the timer before and stops it after.
func IngestLeasedFinish(b *testing.B, s store.Store) {
	body := bytes.Repeat([]byte(`{"k":"v"},`), 60)
	headers := []store.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "DD-API-KEY", Value: "********"}}
	runConcurrently(b, "event", "events", func(ctx context.Context, id string) error {
		e := BenchEntry(id, "hook")
		now := time.Now()
		e.Deliveries[0].Lease = &store.Lease{Owner: "bench", Until: now.Add(time.Minute)}
		if _, err := s.Ingest(ctx, []store.NewEntry{e}, nil); err != nil {
			return err
		}
		rec := &store.Attempt{
			DeliveryID: e.Deliveries[0].ID, Number: 1, Instance: "bench", Trigger: "auto", StartedAt: now,
			Duration: time.Millisecond, URL: "https://example.com/hook", StatusCode: 202,
			Request: store.NewSentRequest("POST", headers, body, ""),
		}
		out := store.Outcome{DeliveryID: rec.DeliveryID, Subscription: "hook", Owner: "bench", Attempt: 1, State: store.Delivered, Reason: "delivered", Record: rec}
		if res, err := s.Finish(ctx, []store.Outcome{out}); err != nil || res.Applied != 1 {
			return fmt.Errorf("Finish: %+v %v", res, err)
		}
		return nil
	})
}
