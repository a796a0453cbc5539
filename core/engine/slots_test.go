package engine

import (
	"context"
	"runtime"
	"strings"
	"testing"
)

// TestSlotsReuseTheirWorkers: an attempt that follows another runs on the
// goroutine the first one ran on, which waited for it; stop ends the
// waiting workers, and the slots run again after a restart.
func TestSlotsReuseTheirWorkers(t *testing.T) {
	base := runtime.NumGoroutine()
	s := newSlots()
	s.start(t.Context())
	attempt := func() (running int) {
		t.Helper()
		if s.reserve(1, 1) != 1 {
			t.Fatal("no free slot")
		}
		got := make(chan int)
		s.run(func(context.Context) { got <- runtime.NumGoroutine() })
		running = <-got
		eventually(t, "the worker to wait for the next attempt", func() bool { return idleWorkers() == 1 })
		return running
	}
	if n := attempt(); n != base+1 {
		t.Fatalf("first attempt ran with %d goroutines, want %d (base %d + its worker)", n, base+1, base)
	}
	for i := range 5 {
		if n := attempt(); n != base+1 {
			t.Fatalf("attempt %d ran with %d goroutines, want %d: a new goroutine instead of the waiting worker", i+2, n, base+1)
		}
	}
	s.stop()
	if n := runtime.NumGoroutine(); n != base {
		t.Fatalf("%d goroutines after stop, want %d: a worker outlived the slots", n, base)
	}
	s.start(t.Context())
	if n := attempt(); n != base+1 {
		t.Fatalf("after a restart: attempt ran with %d goroutines, want %d", n, base+1)
	}
	s.stop()
	if n := runtime.NumGoroutine(); n != base {
		t.Fatalf("%d goroutines after the second stop, want %d", n, base)
	}
}

// idleWorkers counts the slots' workers parked waiting for an attempt.
func idleWorkers() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "[select") && strings.Contains(g, "engine.(*slots).worker(") {
			n++
		}
	}
	return n
}
