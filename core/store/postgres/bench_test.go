package postgres

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// Benchmarks of the PostgreSQL store on the server of AUDITRELAY_TEST_POSTGRES.
// The numbers in the README's "Scale on paper" come from:
//
//	go test ./core/store/postgres -run '^$' -bench . -benchtime 20000x
//
// Each reports a rate and the client's CPU per operation (the server's CPU
// is not in it).

var rawEntry = make([]byte, 1024) // a 1 KB audit-log entry body

func benchEntry(id, sub string) store.NewEntry {
	return store.NewEntry{
		EntrySummary: store.EntrySummary{ID: id, Kind: "flag", Title: "Alice updated flag " + id, Member: "alice@example.com",
			Project: "default", Environment: "production", Source: "webhook", Date: time.Now()},
		Raw:        rawEntry,
		Deliveries: []store.NewDelivery{{ID: id + "/" + sub, Subscription: sub, State: store.Pending}},
	}
}

func benchStore(b *testing.B, maxConns int) *Store {
	b.Helper()
	return openTest(b, newSchema(b), Options{Instance: "bench", MaxConns: maxConns})
}

func ingestPending(tb testing.TB, s *Store, prefix, sub string, n int) {
	tb.Helper()
	const batch = 500
	ctx := context.Background()
	es := make([]store.NewEntry, 0, batch)
	for i := 0; i < n; i += batch {
		es = es[:0]
		for j := i; j < min(i+batch, n); j++ {
			es = append(es, benchEntry(fmt.Sprintf("%s%07d", prefix, j), sub))
		}
		if _, err := s.Ingest(ctx, es, nil); err != nil {
			tb.Fatalf("Ingest: %v", err)
		}
	}
}

// BenchmarkIngest: one 1 KB entry with one delivery per call, from 32
// goroutines, as webhook handlers call it; each call returns after its
// commit (synchronous_commit on: PostgreSQL groups concurrent WAL flushes).
func BenchmarkIngest(b *testing.B) {
	s := benchStore(b, 16)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			id := strconv.FormatInt(n.Add(1), 10)
			if _, err := s.Ingest(ctx, []store.NewEntry{benchEntry(id, "hook")}, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/entry")
}

// BenchmarkClaimFinish: workers (as instances' subscription loops would)
// claim up to 32, then finish them as Delivered with an attempt record in
// one Finish, until b.N deliveries are done. "limited" passes MaxInFlight,
// as the engine always does, which serialises claims of the subscription
// on its advisory lock; "free" claims with SKIP LOCKED alone.
func BenchmarkClaimFinish(b *testing.B) {
	for _, mode := range []string{"limited", "free"} {
		for _, workers := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/workers=%d", mode, workers), func(b *testing.B) {
				s := benchStore(b, workers+2)
				ingestPending(b, s, "e", "hook", b.N)
				maxInFlight := 0
				if mode == "limited" {
					maxInFlight = 64 * workers
				}
				b.ResetTimer()
				start, cpu := time.Now(), cpuTime()
				var claims atomic.Int64
				done := runClaimers(b, s, "hook", workers, 32, maxInFlight, &claims)
				elapsed := time.Since(start)
				b.StopTimer()
				if done != int64(b.N) {
					b.Fatalf("finished %d of %d", done, b.N)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(float64(claims.Load())/elapsed.Seconds(), "claims/s")
				b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/delivery")
			})
		}
	}
}

// BenchmarkClaimOne: claims of one delivery each (Limit 1) under
// MaxInFlight, the worst case for the per-subscription lock: the rate is
// the ceiling of claim transactions per second for one subscription.
func BenchmarkClaimOne(b *testing.B) {
	for _, workers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			s := benchStore(b, workers+2)
			ingestPending(b, s, "e", "hook", b.N)
			b.ResetTimer()
			start := time.Now()
			var claims atomic.Int64
			done := runClaimers(b, s, "hook", workers, 1, 1000, &claims)
			elapsed := time.Since(start)
			b.StopTimer()
			if done != int64(b.N) {
				b.Fatalf("finished %d of %d", done, b.N)
			}
			b.ReportMetric(float64(claims.Load())/elapsed.Seconds(), "claims/s")
		})
	}
}

func runClaimers(b *testing.B, s *Store, sub string, workers, limit, maxInFlight int, claims *atomic.Int64) int64 {
	ctx := context.Background()
	var wg sync.WaitGroup
	var finished atomic.Int64
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
				claims.Add(1)
				if len(res.Claimed) == 0 {
					return
				}
				os := make([]store.Outcome, len(res.Claimed))
				for i, c := range res.Claimed {
					os[i] = store.Outcome{DeliveryID: c.ID, Owner: owner, Attempt: c.Attempts, State: store.Delivered,
						Record: &store.Attempt{StatusCode: 200, StartedAt: time.Now(), Duration: time.Millisecond, URL: "http://127.0.0.1/hook"}}
				}
				fr, err := s.Finish(ctx, os)
				if err != nil || fr.Applied != len(os) {
					b.Errorf("Finish = %+v, %v", fr, err)
					return
				}
				finished.Add(int64(fr.Applied))
			}
		}()
	}
	wg.Wait()
	return finished.Load()
}

// BenchmarkStats100k: Stats (run every 2 s by each instance) over 100,000
// deliveries.
func BenchmarkStats100k(b *testing.B) {
	s := benchStore(b, 4)
	ingestPending(b, s, "e", "hook", 100_000)
	ctx := context.Background()
	if _, err := s.pool.Exec(ctx, "ANALYZE deliveries"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := s.Stats(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
