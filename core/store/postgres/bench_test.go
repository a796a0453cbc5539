package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store/storetest"
)

// Benchmarks of the PostgreSQL store on the server of AUDITRELAY_TEST_POSTGRES.
// The numbers in the README's "Scale on paper" come from:
//
//	go test ./core/store/postgres -run '^$' -bench . -benchtime 20000x
//
// Each reports a rate and the client's CPU per operation (the server's CPU
// is not in it).

func benchStore(b *testing.B, maxConns int) *Store {
	b.Helper()
	return openTest(b, newSchema(b), Options{Instance: "bench", MaxConns: maxConns})
}

// BenchmarkIngest: one 1 KB entry with one delivery per call, from 32
// goroutines, as webhook handlers call it; each call returns after its
// commit (synchronous_commit on: PostgreSQL groups concurrent WAL flushes).
func BenchmarkIngest(b *testing.B) {
	storetest.IngestConcurrently(b, benchStore(b, 16))
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
				storetest.IngestPending(b, s, "e", "hook", b.N)
				maxInFlight := 0
				if mode == "limited" {
					maxInFlight = 64 * workers
				}
				b.ResetTimer()
				start, cpu := time.Now(), storetest.CPUTime()
				done, claims := storetest.ClaimFinish(b, s, "hook", workers, 32, maxInFlight)
				elapsed := time.Since(start)
				b.StopTimer()
				if done != int64(b.N) {
					b.Fatalf("finished %d of %d", done, b.N)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(float64(claims)/elapsed.Seconds(), "claims/s")
				b.ReportMetric(float64((storetest.CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/delivery")
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
			storetest.IngestPending(b, s, "e", "hook", b.N)
			b.ResetTimer()
			start := time.Now()
			done, claims := storetest.ClaimFinish(b, s, "hook", workers, 1, 1000)
			elapsed := time.Since(start)
			b.StopTimer()
			if done != int64(b.N) {
				b.Fatalf("finished %d of %d", done, b.N)
			}
			b.ReportMetric(float64(claims)/elapsed.Seconds(), "claims/s")
		})
	}
}

// BenchmarkStats100k: Stats (run every 2 s by each instance) over 100,000
// deliveries.
func BenchmarkStats100k(b *testing.B) {
	s := benchStore(b, 4)
	storetest.IngestPending(b, s, "e", "hook", 100_000)
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

// BenchmarkSearch1M: the first page of typical console searches over
// 1,000,000 stored entries (storetest.SearchCases).
//
//	go test ./core/store/postgres -run '^$' -bench Search1M -benchtime 20x
func BenchmarkSearch1M(b *testing.B) {
	s := benchStore(b, 4)
	storetest.FillSearch(b, s, storetest.SearchN)
	if _, err := s.pool.Exec(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	storetest.Search(b, s)
}
