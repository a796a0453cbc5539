// Package feed adapts the engine's live event feed to Bubble Tea.
//
// Bubble Tea runs Update and View after every message, so one message per
// engine event would rebuild the screen thousands of times a second. The
// adapter instead coalesces events into one BatchMsg per interval (or when a
// batch is full). It reads the engine's feed with a wait-on-channel command:
// no goroutine of its own, at most one read outstanding, and the engine never
// waits on the console because its feed drops (and counts) what the
// console cannot keep up with.
package feed

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

// Defaults for New.
const (
	// DefaultInterval is how long a batch collects after its first event:
	// 10 redraws per second at most, steady under any event rate.
	DefaultInterval = 100 * time.Millisecond
	// DefaultMax caps a batch so a burst cannot make one huge Update.
	DefaultMax = 4096
	// DefaultBuffer is the engine-side channel size asked for.
	DefaultBuffer = 8192
)

// BatchMsg is the events that arrived during one interval.
type BatchMsg struct {
	Events []api.Event
	// Dropped is the engine's running count of events this feed lost
	// because the console was slow.
	Dropped uint64
	// Closed is set when the feed ended (the engine stopped or the
	// console's context ended); no further batches follow.
	Closed bool
}

// Batcher turns a feed into batches.
type Batcher struct {
	feed     *api.Feed
	interval time.Duration
	max      int
}

// New returns a batcher over f. interval and max fall back to the defaults
// when zero.
func New(f *api.Feed, interval time.Duration, max int) *Batcher {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if max <= 0 {
		max = DefaultMax
	}
	return &Batcher{feed: f, interval: interval, max: max}
}

// Next returns a command that waits for the next event, then collects
// whatever else arrives within the interval, and returns them as one
// BatchMsg. Call it again after handling each batch.
func (b *Batcher) Next() tea.Cmd {
	return func() tea.Msg { return b.collect() }
}

func (b *Batcher) collect() BatchMsg {
	first, ok := <-b.feed.C
	if !ok {
		return BatchMsg{Closed: true, Dropped: b.feed.Dropped()}
	}
	events := make([]api.Event, 1, 64)
	events[0] = first
	timer := time.NewTimer(b.interval)
	defer timer.Stop()
	for len(events) < b.max {
		select {
		case ev, ok := <-b.feed.C:
			if !ok {
				return BatchMsg{Events: events, Dropped: b.feed.Dropped(), Closed: true}
			}
			events = append(events, ev)
		case <-timer.C:
			return BatchMsg{Events: events, Dropped: b.feed.Dropped()}
		}
	}
	return BatchMsg{Events: events, Dropped: b.feed.Dropped()}
}
