package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// workerIdle is how long an attempt's goroutine waits for the next attempt
// before it ends. Reusing it saves more than the goroutine: render and
// send run deep (goldmark's parser, net/http), and a new goroutine grows
// its stack to that depth by copying it, several times, on every attempt.
const workerIdle = 2 * time.Second

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
	// idle hands an attempt to a worker goroutine waiting for one
	// (unbuffered: a send succeeds only when one waits). quit, closed by
	// stop, ends the waiting workers; workers counts them, so that stop
	// returns only once they are gone.
	idle    chan func()
	quit    chan struct{}
	workers sync.WaitGroup
	// Worker goroutines started, alive and parked waiting for an attempt.
	spawned atomic.Int64
	alive   atomic.Int32
	parked  atomic.Int32
}

func newSlots() *slots { return &slots{freed: make(chan struct{}, 1), idle: make(chan func())} }

// start opens the slots; attempts run under work.
func (s *slots) start(work context.Context) {
	s.mu.Lock()
	s.open, s.work = true, work
	s.quit = make(chan struct{})
	s.mu.Unlock()
}

// stop refuses new reservations and waits for the attempts (and the
// reservations not yet started or released) to end, then for the idle
// workers to leave.
func (s *slots) stop() {
	s.mu.Lock()
	s.open = false
	quit := s.quit
	s.mu.Unlock()
	s.wg.Wait()
	if quit != nil {
		close(quit)
	}
	s.workers.Wait()
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

// run runs fn on a reserved slot, with the work context, on a worker
// goroutine waiting for work or a new one, and frees the slot when fn
// returns.
func (s *slots) run(fn func(work context.Context)) {
	s.mu.Lock()
	work, quit := s.work, s.quit
	s.mu.Unlock()
	job := func() {
		defer s.release(1)
		fn(work)
	}
	select {
	case s.idle <- job:
	default:
		s.workers.Add(1)
		s.spawned.Add(1)
		s.alive.Add(1)
		go s.worker(job, quit)
	}
}

// worker runs job, then the attempts handed to it while it waits, until
// none comes for workerIdle or the slots stop.
func (s *slots) worker(job func(), quit <-chan struct{}) {
	defer s.workers.Done()
	defer s.alive.Add(-1)
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		job()
		t.Reset(workerIdle)
		s.parked.Add(1)
		var next func()
		select {
		case next = <-s.idle:
		case <-t.C:
		case <-quit:
		}
		s.parked.Add(-1)
		if next == nil {
			return
		}
		job = next
	}
}

func (s *slots) signal() {
	select {
	case s.freed <- struct{}{}:
	default:
	}
}
