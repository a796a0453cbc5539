package store

import (
	"context"
	"sync"
)

// Hub fans changes out to a backend's watchers without ever blocking the
// writer: a watcher whose buffer is full loses the change, and the next
// change it gets counts what it lost. Backends embed one and implement
// Watch with Add.
type Hub struct {
	mu       sync.Mutex
	watchers map[int]*hubWatcher
	next     int
	done     bool
	wg       sync.WaitGroup
	closing  chan struct{}
}

type hubWatcher struct {
	ch   chan Change
	lost int // changes dropped since the last one delivered
}

// NewHub returns a hub with no watchers.
func NewHub() *Hub {
	return &Hub{watchers: map[int]*hubWatcher{}, closing: make(chan struct{})}
}

// Add registers a watcher until ctx ends or the hub closes; then its
// channel (WatchBuffer deep) is closed.
func (h *Hub) Add(ctx context.Context) <-chan Change {
	ch := make(chan Change, WatchBuffer)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		close(ch)
		return ch
	}
	id := h.next
	h.next++
	h.watchers[id] = &hubWatcher{ch: ch}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		select {
		case <-ctx.Done():
		case <-h.closing:
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.watchers, id)
		close(ch)
	}()
	return ch
}

// Publish hands changes to every watcher without blocking. The slices in
// a Change are shared between watchers: read-only.
func (h *Hub) Publish(changes ...Change) {
	if len(changes) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.watchers {
		for _, c := range changes {
			c.Lost = w.lost
			select {
			case w.ch <- c:
				w.lost = 0
			default:
				w.lost++
			}
		}
	}
}

// Close ends every watcher and waits for their goroutines.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.done {
		h.mu.Unlock()
		return
	}
	h.done = true
	close(h.closing)
	h.mu.Unlock()
	h.wg.Wait()
}
