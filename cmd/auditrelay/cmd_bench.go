package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure this machine: receiver → store → delivery throughput and latency",
		Long: `bench drives the real path — HTTP receiver, durable store, policy, render,
HTTP delivery — into a local sink, on loopback, and reports:

  - events/s sustained and the receive→delivered latency (p50/p99) while
    sending as fast as --concurrency senders can;
  - p50/p99 at a steady --paced-rate;
  - this machine's raw loopback HTTP ceiling, and the ratio to it (each
    event makes two HTTP hops: sender → receiver, relay → sink);
  - with --backlog N, the process's memory with N deliveries pending,
    then how fast they are delivered once the subscription resumes.

With --store postgres://... it also runs 1, 2 and 3 instances sharing that
database (--instances), next to the SQLite figure. The database is emptied
first: do not point it at a database you use.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			o := benchOptions{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			o.Events, _ = f.GetInt("events")
			o.Concurrency, _ = f.GetInt("concurrency")
			o.PacedRate, _ = f.GetInt("paced-rate")
			o.PacedFor, _ = f.GetDuration("paced-for")
			o.Backlog, _ = f.GetInt("backlog")
			o.Store, _ = f.GetString("store")
			o.Instances, _ = f.GetIntSlice("instances")
			o.Synchronous, _ = f.GetString("synchronous")
			asJSON, _ := f.GetBool("json")
			if o.Events < 1 || o.Concurrency < 1 {
				return usageErrorf("--events and --concurrency must be positive")
			}
			if o.Store != "" && !strings.HasPrefix(o.Store, "postgres") {
				return usageErrorf("--store: expected a postgres:// URL (SQLite always runs), got %q", o.Store)
			}
			if path, _ := f.GetString("cpuprofile"); path != "" {
				pf, err := os.Create(path)
				if err != nil {
					return usageErrorf("%v", err)
				}
				defer pf.Close()
				o.Profile = pf
			}
			var progress io.Writer = a.stderr
			if asJSON {
				progress = nil
			}
			rep, err := runBench(cmd.Context(), o, progress)
			if path, _ := f.GetString("memprofile"); path != "" && err == nil {
				if werr := writeAllocProfile(path); werr != nil {
					return werr
				}
			}
			if err != nil {
				return failure(err)
			}
			if asJSON {
				return printJSON(a.stdout, rep)
			}
			printBench(a.stdout, rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.Int("events", 20000, "events in the throughput phase")
	f.Int("concurrency", 32, "concurrent senders")
	f.Int("paced-rate", 1000, "events per second in the latency phase (0 skips it)")
	f.Duration("paced-for", 10*time.Second, "length of the latency phase")
	f.Int("backlog", 0, "pending deliveries for the memory phase (e.g. 100000; 0 skips it)")
	f.String("store", "", "also run on this PostgreSQL database (emptied first)")
	f.IntSlice("instances", []int{1, 2, 3}, "instance counts to run on PostgreSQL")
	f.String("synchronous", "normal", "SQLite synchronous mode (normal or full)")
	f.Bool("json", false, "print the report as JSON")
	f.String("cpuprofile", "", "write a CPU profile of the runs (not the loopback measurement) to this file, for go tool pprof")
	f.String("memprofile", "", "write the allocations of the whole command to this file, for go tool pprof -sample_index=alloc_space")
	return cmd
}

// writeAllocProfile writes every allocation since the process started.
func writeAllocProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("memprofile %s: %w", path, err)
	}
	return f.Close()
}

func printBench(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "machine: %s\n", rep.Machine)
	fmt.Fprintf(w, "loopback HTTP ceiling: %.0f requests/s (one hop, 1 KB POSTs, 32 connections)\n\n", rep.Loopback)
	fmt.Fprintf(w, "%-28s %9s %12s %9s %9s %14s %9s %9s\n", "store", "instances", "events/s", "p50", "p99", "paced", "p50", "p99")
	for _, r := range rep.Runs {
		fmt.Fprintf(w, "%-28s %9d %12.0f %7.1fms %7.1fms %12d/s %7.1fms %7.1fms\n", r.Store, r.Instances, r.EventsPerSec, r.P50ms, r.P99ms, r.PacedRate, r.PacedP50ms, r.PacedP99ms)
	}
	if b := rep.Backlog; b != nil {
		fmt.Fprintf(w, "\nbacklog: %d deliveries pending, RSS %.0f MB (Go heap %.0f MB), ingested at %.0f entries/s, delivered at %.0f/s once resumed\n",
			b.Pending, b.RSSMB, b.HeapMB, b.IngestPerS, b.DrainPerSec)
	}
	if len(rep.Runs) > 0 {
		r := rep.Runs[0]
		latency := fmt.Sprintf("p99 %.1fms at %d/s", r.PacedP99ms, r.PacedRate)
		if r.PacedRate == 0 {
			latency = fmt.Sprintf("p99 %.1fms at full load", r.P99ms)
		}
		fmt.Fprintf(w, "\nbench: %.0f events/s sustained (%s, durable), %s, %.2f of the loopback ceiling of %.0f req/s (each event makes two hops)\n",
			r.EventsPerSec, r.Store, latency, r.Ratio, rep.Loopback)
	}
}
