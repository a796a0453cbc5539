package tui

import (
	"io"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/auditrelay/auditrelay/tui/internal/sorting"
)

// BenchmarkFrameSorted is BenchmarkFrame with the events pane sorted by
// a column: each batch re-sorts the 10,000 held entries once.
//
//	go test ./tui -run '^$' -bench BenchmarkFrameSorted -benchmem
func BenchmarkFrameSorted(b *testing.B) {
	color := lipgloss.NewRenderer(io.Discard)
	color.SetColorProfile(termenv.ANSI256)
	for _, col := range []sorting.Column{sorting.Kind, sorting.Title} {
		b.Run(col.String(), func(b *testing.B) {
			m := benchModel(b, color, 120, 40)
			m.events.SetSort(sorting.Order{Col: col})
			batches := benchBatches(32, benchHistory, fixedNow())
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
		})
	}
}
