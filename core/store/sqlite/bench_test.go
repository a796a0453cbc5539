package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/storetest"
)

func benchStore(b *testing.B, mode string) *Store {
	b.Helper()
	s, err := Open(context.Background(), Options{Path: filepath.Join(b.TempDir(), "bench.db"), Synchronous: mode, GroupCommitWindow: benchWindow()})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkIngest: one 1 KB entry with one delivery per call, from many
// goroutines, as webhook handlers would call it; every call returns after
// its commit.
func BenchmarkIngest(b *testing.B) {
	for _, mode := range []string{"normal", "full"} {
		b.Run(mode, func(b *testing.B) {
			s := benchStore(b, mode)
			commits := s.commits.Load()
			storetest.IngestConcurrently(b, s)
			if c := s.commits.Load() - commits; c > 0 {
				b.ReportMetric(float64(b.N)/float64(c), "entries/commit")
			}
		})
	}
}

// BenchmarkClaimFinish: workers claim up to 32 (or 1: a relay whose
// slots free one at a time claims that way), then finish what they
// claimed as Delivered with an attempt record, until b.N deliveries are
// done.
func BenchmarkClaimFinish(b *testing.B) {
	for _, workers := range []int{1, 4} {
		for _, mode := range []string{"normal", "full"} {
			for _, limit := range []int{32, 1} {
				b.Run(fmt.Sprintf("workers=%d/%s/claim=%d", workers, mode, limit), func(b *testing.B) {
					s := benchStore(b, mode)
					storetest.IngestPending(b, s, "e", "hook", b.N)
					b.ResetTimer()
					start, cpu := time.Now(), storetest.CPUTime()
					finished, _ := storetest.ClaimFinish(b, s, "hook", workers, limit, 0)
					elapsed := time.Since(start)
					b.StopTimer()
					if finished != int64(b.N) {
						b.Fatalf("finished %d of %d", finished, b.N)
					}
					b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
					b.ReportMetric(float64((storetest.CPUTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/delivery")
				})
			}
		}
	}
}

// BenchmarkPending100k ingests 100,000 1 KB entries with a pending delivery
// each, then claims, lists and counts, and reports the Go heap and the
// process RSS: nothing may hold all rows in memory. Run with -benchtime=1x.
func BenchmarkPending100k(b *testing.B) {
	const n = 100_000
	for i := range b.N {
		s := benchStore(b, "normal")
		storetest.IngestPending(b, s, fmt.Sprint("r", i, "-"), "hook", n)
		ctx := context.Background()
		stats, err := s.Stats(ctx)
		if err != nil || len(stats) != 1 || stats[0].Counts[store.Pending] != n {
			b.Fatalf("Stats = %+v, %v", stats, err)
		}
		if _, err := s.ListDeliveries(ctx, store.DeliveryFilter{Subscription: "hook", States: []store.State{store.Pending}}); err != nil {
			b.Fatal(err)
		}
		if res, err := s.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 32, Lease: time.Minute}); err != nil || len(res.Claimed) != 32 {
			b.Fatalf("Claim = %d, %v", len(res.Claimed), err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(float64(rssBytes())/(1<<20), "rss-MB")
		if fi, err := os.Stat(s.path); err == nil {
			b.ReportMetric(float64(fi.Size())/(1<<20), "db-MB")
		}
	}
}

// rssBytes reads VmRSS from /proc (Linux); 0 elsewhere.
func rssBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// benchWindow lets a run compare group-commit windows:
// STORE_BENCH_WINDOW=-1ns disables waiting, empty means the default.
func benchWindow() time.Duration {
	d, _ := time.ParseDuration(os.Getenv("STORE_BENCH_WINDOW"))
	return d
}

// BenchmarkSearch1M: the first page of typical console searches over
// 1,000,000 stored entries (storetest.SearchCases).
//
//	go test ./core/store/sqlite -run '^$' -bench Search1M -benchtime 20x
func BenchmarkSearch1M(b *testing.B) {
	s := benchStore(b, "normal")
	storetest.FillSearch(b, s, storetest.SearchN)
	if _, err := do(context.Background(), s, outsideTx, func(w *wtx) (struct{}, error) {
		_, err := w.s.wconn.ExecContext(context.Background(), "ANALYZE")
		return struct{}{}, err
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	storetest.Search(b, s)
}

// BenchmarkIngestLeasedFinish: the relay's path through the store — an
// entry leased at ingest, then its first attempt recorded — from many
// goroutines, every call durable.
func BenchmarkIngestLeasedFinish(b *testing.B) {
	s := benchStore(b, "normal")
	storetest.IngestLeasedFinish(b, s)
}
