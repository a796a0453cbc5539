package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/auditrelay/auditrelay/core/bench"
)

func newBenchCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure this machine: receiver → store → delivery throughput and latency",
		Long: `bench drives the real path — signed webhooks into the HTTP receiver
(X-LD-Signature checked), durable store, policy, a template rendered per event,
HTTP delivery — into a local sink, on loopback. Each relay is this binary's
serve in a child process of its own, as operators run it; the senders and
the sink are the bench's. It reports:

  - events/s sustained and the receive→delivered latency (p50/p99) while
    sending as fast as --concurrency senders can, with the CPU time per
    event of the relay and of the bench's senders and sink;
  - p50/p99 at a steady --paced-rate;
  - this machine's raw loopback HTTP ceiling, sampled before and after the
    runs, and the ratio to their mean (each event makes two HTTP hops:
    sender → receiver, relay → sink);
  - with --backlog N, the memory of a relay holding N deliveries pending
    (this binary's serve, run as a child process, so that its RSS is the
    relay's own and not the bench's; the bench's is shown apart), then how
    fast they are delivered once the subscription resumes.

With --store postgres://... it also runs 1, 2 and 3 instances sharing that
database (--instances), next to the SQLite figure. --integration webhook
forwards the raw entry instead (LaunchDarkly's standard payload: nothing
rendered). The database is emptied
first: do not point it at a database you use.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var o bench.Options
			o.Events, _ = f.GetInt("events")
			o.Concurrency, _ = f.GetInt("concurrency")
			o.PacedRate, _ = f.GetInt("paced-rate")
			o.PacedFor, _ = f.GetDuration("paced-for")
			o.Backlog, _ = f.GetInt("backlog")
			o.Store, _ = f.GetString("store")
			o.Instances, _ = f.GetIntSlice("instances")
			o.Synchronous, _ = f.GetString("synchronous")
			o.Integration, _ = f.GetString("integration")
			if o.Integration != bench.Templated && o.Integration != bench.Webhook {
				return usageErrorf("--integration: expected %s or %s, got %q", bench.Templated, bench.Webhook, o.Integration)
			}
			asJSON, _ := f.GetBool("json")
			if o.Events < 1 || o.Concurrency < 1 {
				return usageErrorf("--events and --concurrency must be positive")
			}
			if o.Store != "" && !strings.HasPrefix(o.Store, "postgres") {
				return usageErrorf("--store: expected a postgres:// URL (SQLite always runs), got %q", o.Store)
			}
			pf, err := createNamedFile(f, "cpuprofile")
			if err != nil {
				return err
			}
			if pf != nil {
				defer pf.Close()
				o.Profile = pf
			}
			if inProcess, _ := f.GetBool("in-process"); !inProcess {
				// Each relay runs as a child process, this very binary's
				// serve, so that its CPU and memory are its own.
				exe, err := os.Executable()
				if err != nil {
					return failure(fmt.Errorf("bench runs this binary's serve as a child process: %w", err))
				}
				o.RelayCommand = []string{exe, "serve"}
				mf, err := createNamedFile(f, "memprofile")
				if err != nil {
					return err
				}
				if mf != nil {
					defer mf.Close()
					o.Allocs = mf
				}
			} else if o.Backlog > 0 {
				return usageErrorf("--backlog measures a relay of its own: it cannot run --in-process")
			}
			var progress io.Writer = a.stderr
			if asJSON {
				progress = nil
			}
			rep, err := bench.Run(cmd.Context(), o, progress)
			if path, _ := f.GetString("memprofile"); path != "" && err == nil && len(o.RelayCommand) == 0 {
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
			rep.WriteText(a.stdout)
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
	f.String("integration", bench.Templated, "what the subscription sends: templated (a metrics-event template rendered per event) or webhook (the raw entry)")
	f.Bool("json", false, "print the report as JSON")
	f.String("cpuprofile", "", "write a CPU profile to this file, for go tool pprof: 3 s of the relay in its first throughput phase (with --store, its first on PostgreSQL; with --in-process, the whole process over the runs)")
	f.Bool("in-process", false, "run the relay inside the bench process (one Go runtime for senders, relay and sink) instead of as serve in a child process")
	f.String("memprofile", "", "write allocations to this file, for go tool pprof -sample_index=alloc_space: the relay's, from its start to the end of its first throughput phase (with --store, its first on PostgreSQL; with --in-process, the whole command's)")
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

// createNamedFile creates the file the flag name names; nil when the flag
// is empty.
func createNamedFile(f *pflag.FlagSet, name string) (*os.File, error) {
	path, _ := f.GetString(name)
	if path == "" {
		return nil, nil
	}
	file, err := os.Create(path)
	if err != nil {
		return nil, usageErrorf("--%s: %v", name, err)
	}
	return file, nil
}
