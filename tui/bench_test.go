package tui

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/feed"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Frame load: the console redraws once per batch, and batches cover
// 100 ms, so 10,000 events/s arrive as 1,000 events per frame. Of those,
// 600 are new entries (each with four policy decisions) and 400 are
// delivery updates of recent entries. The budget's own rate, 1,000
// events/s, is a tenth of that: benchRate1k.
const (
	benchEventsPerFrame  = 1000
	benchEntriesPerFrame = 600
	benchHistory         = 10_000
)

// benchRate is a frame's load: events per frame, of which new entries.
type benchRate struct {
	name            string
	events, entries int
}

var (
	benchRate10k = benchRate{"", benchEventsPerFrame, benchEntriesPerFrame}
	benchRate1k  = benchRate{"1k-per-s", benchEventsPerFrame / 10, benchEntriesPerFrame / 10}
)

func benchEntry(i int, at time.Time) api.EntryView {
	kinds := []string{"flag", "segment", "project", "member"}
	return api.EntryView{
		ID: fmt.Sprintf("b%08d", i), Date: at, ReceivedAt: at, Source: "demo",
		Kind: kinds[i%4], Title: fmt.Sprintf("Turned on flag checkout-%d in production", i%97),
		Member: "alice@example.com", Project: "web", Environment: "production",
		Decisions: []api.Decision{
			{Subscription: fakeapi.SubSlack, Sent: true, State: api.Pending, DeliveryID: fmt.Sprintf("d%08d-s", i)},
			{Subscription: fakeapi.SubDatadog, Sent: true, State: api.Pending, DeliveryID: fmt.Sprintf("d%08d-d", i)},
			{Subscription: fakeapi.SubTeams, Sent: false, State: api.Filtered},
			{Subscription: fakeapi.SubLegacy, Sent: false, State: api.Filtered},
		},
	}
}

// benchBatches builds n frames of events ahead of time: building them is
// the engine's cost, not the console's. A benchmark cycles through them,
// so there are at least enough for every entry to have left the history
// before its batch comes again: otherwise it would be an update of an
// entry already held, not an arrival.
func benchBatches(n, start int, at time.Time, rate benchRate) []feed.BatchMsg {
	n = max(n, benchHistory/rate.entries+2)
	out := make([]feed.BatchMsg, n)
	id := start
	for f := range out {
		evs := make([]api.Event, 0, rate.events)
		first := id
		for range rate.entries {
			e := benchEntry(id, at)
			evs = append(evs, api.Event{Kind: api.EntryReceived, Entry: &e})
			id++
		}
		for j := 0; len(evs) < rate.events; j++ {
			n := first + j%rate.entries
			st := api.Delivered
			if j%10 == 0 {
				st = api.Failed
			}
			d := api.DeliveryView{ID: fmt.Sprintf("d%08d-s", n), EntryID: fmt.Sprintf("b%08d", n), Subscription: fakeapi.SubSlack, State: st, Attempts: 1, LastStatus: 200}
			evs = append(evs, api.Event{Kind: api.DeliveryUpdated, Delivery: &d})
		}
		out[f] = feed.BatchMsg{Events: evs}
	}
	return out
}

func benchModel(b *testing.B, r *lipgloss.Renderer, w, h int) *Model {
	fake := fakeapi.Demo(fixedNow)
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	m := newModel(fake, Options{Renderer: r, Role: Operator, Now: fixedNow, Context: ctx})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	hist := make([]api.EntryView, benchHistory)
	for i := range hist {
		hist[benchHistory-1-i] = benchEntry(i, fixedNow())
	}
	m.Update(startedMsg{history: hist, subs: fake.Subscriptions()})
	m.Update(ui.StatsMsg{Stats: fake.Stats(), Subs: fake.Subscriptions()})
	// A feed so every batch asks for the next one, as in a real run.
	m.batcher = feed.New(api.NewFeed(make(chan api.Event), nil), time.Hour, 0)
	if m.events.Len() != benchHistory || !m.events.Following() {
		b.Fatalf("setup: %d entries, following=%v", m.events.Len(), m.events.Following())
	}
	return m
}

// BenchmarkFrame measures one redraw: Update with a 100 ms batch of 1,000
// events (10,000 events/s) over a 10,000-entry history, then View, with the
// events pane following the stream (every visible row is new each frame:
// the worst case for the row cache). The 1k-per-s case is the budget's
// rate: 100 events per frame.
//
//	go test ./tui -run '^$' -bench BenchmarkFrame -benchmem
func BenchmarkFrame(b *testing.B) {
	color := lipgloss.NewRenderer(io.Discard)
	color.SetColorProfile(termenv.ANSI256)
	for _, tc := range []struct {
		name string
		r    *lipgloss.Renderer
		w, h int
		rate benchRate
	}{
		{"120x40/ansi256", color, 120, 40, benchRate10k},
		{"120x40/ascii", ui.PlainRenderer(), 120, 40, benchRate10k},
		{"200x60/ansi256", color, 200, 60, benchRate10k},
		{"80x24/ansi256", color, 80, 24, benchRate10k},
		{"120x40/ansi256/1k-per-s", color, 120, 40, benchRate1k},
	} {
		b.Run(tc.name, func(b *testing.B) {
			m := benchModel(b, tc.r, tc.w, tc.h)
			batches := benchBatches(32, benchHistory, fixedNow(), tc.rate)
			b.ReportAllocs()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				m.Update(batches[i%len(batches)])
				_ = m.View()
				i++
			}
			b.StopTimer()
			// The frame did the work: the newest entry of the last batch is
			// selected and the ring is still full, not growing.
			last := batches[(i-1)%len(batches)].Events[tc.rate.entries-1].Entry.ID
			if e, _ := m.events.Selected(); e == nil || e.ID != last || m.events.Len() != benchHistory {
				b.Fatalf("after %d frames: selected %v, %d entries", i, e, m.events.Len())
			}
			b.ReportMetric(float64(tc.rate.events), "events/frame")
		})
	}
}

// BenchmarkIdleFrame is a redraw with nothing new (a key press or a stats
// poll): what scrolling costs.
func BenchmarkIdleFrame(b *testing.B) {
	color := lipgloss.NewRenderer(io.Discard)
	color.SetColorProfile(termenv.ANSI256)
	m := benchModel(b, color, 120, 40)
	up := tea.KeyMsg{Type: tea.KeyUp}
	b.ReportAllocs()
	for b.Loop() {
		m.Update(up)
		_ = m.View()
	}
}
