package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// rawEntry is a 1 KB audit-log entry body.
var rawEntry = bytes.Repeat([]byte("x"), 1024)

func benchEntry(id string) store.NewEntry {
	return store.NewEntry{
		EntrySummary: store.EntrySummary{ID: id, Kind: "flag", Title: "Alice updated flag " + id, Member: "alice@example.com",
			Project: "default", Environment: "production", Source: "webhook", Date: time.Now()},
		Raw:        rawEntry,
		Deliveries: []store.NewDelivery{{ID: id + "/hook", Subscription: "hook", State: store.Pending}},
	}
}

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
			var n atomic.Int64
			b.SetParallelism(16) // 16 × GOMAXPROCS callers
			commits := s.commits.Load()
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					id := strconv.FormatInt(n.Add(1), 10)
					if _, err := s.Ingest(ctx, []store.NewEntry{benchEntry(id)}, nil); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "entries/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/entry")
			if c := s.commits.Load() - commits; c > 0 {
				b.ReportMetric(float64(b.N)/float64(c), "entries/commit")
			}
		})
	}
}

// ingestPending fills s with n pending deliveries of subscription hook.
func ingestPending(tb testing.TB, s *Store, prefix string, n int) {
	tb.Helper()
	const batch = 500
	ctx := context.Background()
	es := make([]store.NewEntry, 0, batch)
	for i := 0; i < n; i += batch {
		es = es[:0]
		for j := i; j < min(i+batch, n); j++ {
			es = append(es, benchEntry(fmt.Sprintf("%s%07d", prefix, j)))
		}
		if _, err := s.Ingest(ctx, es, nil); err != nil {
			tb.Fatalf("Ingest: %v", err)
		}
	}
}

// BenchmarkClaimFinish: workers claim 32, then finish the 32 as Delivered
// with an attempt record, until b.N deliveries are done.
func BenchmarkClaimFinish(b *testing.B) {
	for _, workers := range []int{1, 4} {
		for _, mode := range []string{"normal", "full"} {
			b.Run(fmt.Sprintf("workers=%d/%s", workers, mode), func(b *testing.B) {
				s := benchStore(b, mode)
				ingestPending(b, s, "e", b.N)
				ctx := context.Background()
				b.ResetTimer()
				start, cpu := time.Now(), cpuTime()
				var wg sync.WaitGroup
				var finished atomic.Int64
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						owner := fmt.Sprint("w", w)
						for {
							res, err := s.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: owner, Limit: 32, Lease: time.Minute})
							if err != nil {
								b.Error(err)
								return
							}
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
				elapsed := time.Since(start)
				b.StopTimer()
				if got := finished.Load(); got != int64(b.N) {
					b.Fatalf("finished %d of %d", got, b.N)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
				b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/delivery")
			})
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
		ingestPending(b, s, fmt.Sprint("r", i, "-"), n)
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

// cpuTime is the process's user+system CPU time so far. Benchmarks report
// CPU per operation besides wall-clock rates: on a shared machine the rate
// moves with the neighbours' load, the CPU cost much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
