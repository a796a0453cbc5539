package engine

import (
	"context"
	"sync"
)

// slots are a running subscription's delivery slots: at most Concurrency
// attempts at once, whether the claim loop took them from the store or
// Ingest handed over an entry it had just stored (see leaseAtIngest).
// A slot is reserved before the work is known, so that the two never take
// more than the limit between them, and it is held until the attempt ends.
type slots struct {
	mu   sync.Mutex
	open bool // the claim loop runs: reservations are possible
	used int  // reserved or attempting
	work context.Context
	// wg counts reserved and attempting slots: the claim loop waits for
	// them when it stops.
	wg sync.WaitGroup
	// freed wakes the claim loop when an attempt ends.
	freed chan struct{}
}

func newSlots() *slots { return &slots{freed: make(chan struct{}, 1)} }

// start opens the slots; attempts run under work.
func (s *slots) start(work context.Context) {
	s.mu.Lock()
	s.open, s.work = true, work
	s.mu.Unlock()
}

// stop refuses new reservations and waits for the attempts (and the
// reservations not yet started or released) to end.
func (s *slots) stop() {
	s.mu.Lock()
	s.open = false
	s.mu.Unlock()
	s.wg.Wait()
}

// reserve takes up to n free slots of limit and returns how many it took.
func (s *slots) reserve(n, limit int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return 0
	}
	n = min(n, limit-s.used)
	if n <= 0 {
		return 0
	}
	s.used += n
	s.wg.Add(n)
	return n
}

// release gives back n reserved slots that got no work.
func (s *slots) release(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.used -= n
	s.mu.Unlock()
	s.wg.Add(-n)
	s.signal()
}

// run runs fn on a reserved slot in its own goroutine, with the work
// context, and frees the slot when fn returns.
func (s *slots) run(fn func(work context.Context)) {
	s.mu.Lock()
	work := s.work
	s.mu.Unlock()
	go func() {
		defer s.release(1)
		fn(work)
	}()
}

func (s *slots) signal() {
	select {
	case s.freed <- struct{}{}:
	default:
	}
}
