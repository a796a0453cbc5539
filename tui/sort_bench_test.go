package tui

import (
	"io"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/auditrelay/auditrelay/tui/internal/sorting"
)

// BenchmarkFrameSorted is BenchmarkFrame with the events pane sorted by
// a column: each batch's arrivals take their place among the 10,000 held
// entries. Sub-benchmarks at 1,000 events per frame (10,000 events/s) and
// at the budget's rate, 100 per frame (1k-per-s).
//
//	go test ./tui -run '^$' -bench BenchmarkFrameSorted -benchmem
func BenchmarkFrameSorted(b *testing.B) {
	color := lipgloss.NewRenderer(io.Discard)
	color.SetColorProfile(termenv.ANSI256)
	for _, col := range []sorting.Column{sorting.Kind, sorting.Title, sorting.Status} {
		for _, rate := range []benchRate{benchRate10k, benchRate1k} {
			name := col.String()
			if rate.name != "" {
				name += "/" + rate.name
			}
			b.Run(name, func(b *testing.B) { benchSorted(b, color, col, rate) })
		}
	}
}

// benchSorted runs frames of rate's load with the events pane sorted by col.
func benchSorted(b *testing.B, color *lipgloss.Renderer, col sorting.Column, rate benchRate) {
	m := benchModel(b, color, 120, 40)
	m.events.SetSort(sorting.Order{Col: col})
	batches := benchBatches(32, benchHistory, fixedNow(), rate)
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		m.Update(batches[i%len(batches)])
		_ = m.View()
		i++
	}
	b.StopTimer()
	if m.events.Len() != benchHistory || m.events.Visible() != benchHistory {
		b.Fatalf("after %d frames: %d entries, %d shown", i, m.events.Len(), m.events.Visible())
	}
	b.ReportMetric(float64(rate.events), "events/frame")
}
