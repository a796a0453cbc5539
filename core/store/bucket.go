package store

import (
	"math"
	"time"
)

// Bucket is a subscription's rate-limit token bucket as a backend keeps it
// between claims (in the subscription's state row, shared by every
// instance). The arithmetic lives here once; a backend only loads and
// stores Tokens and At.
//
// A backend must give Refill its clock at the precision it stores At in
// (SQLite: milliseconds): refilling from a finer now and storing a coarser
// At would count the cut-off part of the interval again at the next claim.
type Bucket struct {
	Tokens float64
	// At is when Tokens was counted; the zero time means the bucket was
	// never used, and a bucket never used is full.
	At time.Time
}

// Refill returns b as it stands at now for rate (tokens per second) and
// burst (the bucket's size; values below 1 mean 1): it gains the time since
// At × rate, capped at burst. At never moves back: with instances whose
// clocks disagree, a claim from the one behind must not refill an interval
// the other already counted.
func (b Bucket) Refill(now time.Time, rate float64, burst int) Bucket {
	size := float64(max(burst, 1))
	if b.At.IsZero() {
		return Bucket{Tokens: size, At: now}
	}
	// Whole nanoseconds divided once: exact for any interval a bucket
	// sees, so a refill does not depend on how the interval is split.
	elapsed := float64(max(now.Sub(b.At), 0)) / float64(time.Second)
	return Bucket{Tokens: min(size, b.Tokens+elapsed*rate), At: later(b.At, now)}
}

// Whole is how many deliveries the bucket allows now: its whole tokens.
func (b Bucket) Whole() int { return int(math.Floor(b.Tokens)) }

// Take returns b after n deliveries took a token each.
func (b Bucket) Take(n int) Bucket {
	b.Tokens -= float64(n)
	return b
}

// Wait is how long, at rate (> 0), until b holds a whole token again, in
// whole milliseconds rounded up; 0 while it holds one.
func (b Bucket) Wait(rate float64) time.Duration {
	if b.Tokens >= 1 {
		return 0
	}
	// The epsilon keeps float noise from adding a millisecond.
	return time.Duration(math.Ceil((1-b.Tokens)*1000/rate-1e-6)) * time.Millisecond
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
