package engine

import (
	"context"
	"testing"
)

// TestSlotsReuseTheirWorkers: an attempt that follows another runs on the
// goroutine the first one ran on, which waited for it; stop ends the
// waiting workers, and the slots run again after a restart.
func TestSlotsReuseTheirWorkers(t *testing.T) {
	s := newSlots()
	s.start(t.Context())
	attempt := func() {
		t.Helper()
		if s.reserve(1, 1) != 1 {
			t.Fatal("no free slot")
		}
		ran := make(chan struct{})
		s.run(func(context.Context) { close(ran) })
		<-ran
		eventually(t, "the worker to wait for the next attempt", func() bool { return s.parked.Load() == 1 })
	}
	for range 6 {
		attempt()
	}
	if n := s.spawned.Load(); n != 1 {
		t.Fatalf("6 attempts one after another started %d goroutines, want 1 reused", n)
	}
	s.stop()
	if n := s.alive.Load(); n != 0 {
		t.Fatalf("%d workers alive after stop, want 0", n)
	}
	s.start(t.Context())
	attempt()
	if n := s.spawned.Load(); n != 2 {
		t.Fatalf("after a restart: %d goroutines started in all, want 2", n)
	}
	s.stop()
	if n := s.alive.Load(); n != 0 {
		t.Fatalf("%d workers alive after the second stop, want 0", n)
	}
}
