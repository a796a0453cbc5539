package bench

import (
	"fmt"
	"io"
)

// WriteText prints the report as a table, with the figure to quote on the
// last line.
func (rep *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "machine: %s\n", rep.Machine)
	fmt.Fprintf(w, "path: signed webhooks (X-LD-Signature) → receiver → store → %s → local sink\n", pathOf(rep.Integration))
	fmt.Fprintf(w, "loopback HTTP ceiling: %.0f requests/s (one hop, 1 KB POSTs, 32 connections; %.0f before the runs, %.0f after)\n\n", rep.Loopback, rep.LoopbackBefore, rep.LoopbackAfter)
	fmt.Fprintf(w, "%-28s %9s %12s %9s %9s %11s %11s %9s %14s %9s %9s\n", "store", "instances", "events/s", "p50", "p99", "relay CPU", "bench CPU", "relay RSS", "paced", "p50", "p99")
	for _, r := range rep.Runs {
		relayCPU, relayRSS := "in process", "-"
		if r.RelayCPUus > 0 {
			relayCPU, relayRSS = fmt.Sprintf("%.0fµs/ev", r.RelayCPUus), fmt.Sprintf("%.0f MB", r.RelayPeakMB)
		}
		fmt.Fprintf(w, "%-28s %9d %12.0f %7.1fms %7.1fms %11s %11s %9s %12d/s %7.1fms %7.1fms\n", r.Store, r.Instances, r.EventsPerSec, r.P50ms, r.P99ms,
			relayCPU, fmt.Sprintf("%.0fµs/ev", r.CPUus), relayRSS, r.PacedRate, r.PacedP50ms, r.PacedP99ms)
	}
	if b := rep.Backlog; b != nil {
		fmt.Fprintf(w, "\nbacklog: %d deliveries pending in the relay (serve, a child process): relay RSS %.0f MB (Go heap %.0f MB), relay peak RSS %.0f MB through the drain; bench process RSS %.0f MB (not the relay's)\n",
			b.Pending, b.RelayRSSMB, b.RelayHeapMB, b.RelayPeakMB, b.BenchRSSMB)
		fmt.Fprintf(w, "backlog: ingested at %.0f entries/s over the admin API, delivered at %.0f/s once resumed\n", b.IngestPerS, b.DrainPerSec)
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

// pathOf says what the subscription does with an entry.
func pathOf(integration string) string {
	if integration == Webhook {
		return "webhook integration (the raw entry, nothing rendered)"
	}
	return "templated integration (a metrics event rendered per entry)"
}
