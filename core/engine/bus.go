package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// bus fans engine events out to feeds. Publishing never blocks: a feed
// whose buffer is full loses the event and counts it, so a stalled console
// (or SSH session) cannot slow deliveries down.
type bus struct {
	mu     sync.Mutex
	seq    uint64
	feeds  map[*feed]struct{}
	closed bool
}

type feed struct {
	c       chan Event
	dropped atomic.Uint64
}

func newBus() *bus { return &bus{feeds: map[*feed]struct{}{}} }

// subscribe registers a feed until ctx ends or the bus closes.
func (b *bus) subscribe(ctx context.Context, buffer int) *Feed {
	if buffer < 1 {
		buffer = 256
	}
	f := &feed{c: make(chan Event, buffer)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		close(f.c)
		return NewFeed(f.c, f.dropped.Load)
	}
	b.feeds[f] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.unsubscribe(f)
	}()
	return NewFeed(f.c, f.dropped.Load)
}

func (b *bus) unsubscribe(f *feed) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.feeds[f]; ok {
		delete(b.feeds, f)
		close(f.c)
	}
}

// watched reports whether any feed is open: lookups done only to publish
// events (changes made by other instances) are skipped when nobody reads.
func (b *bus) watched() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.feeds) > 0
}

// publish stamps e with a sequence number and time and offers it to every
// feed without waiting.
func (b *bus) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.seq++
	e.Seq = b.seq
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	for f := range b.feeds {
		select {
		case f.c <- e:
		default:
			f.dropped.Add(1)
		}
	}
}

// close ends every feed.
func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for f := range b.feeds {
		close(f.c)
		delete(b.feeds, f)
	}
}
