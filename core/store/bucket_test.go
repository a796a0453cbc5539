package store

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.UTC)

func TestBucketRefill(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name   string
		b      Bucket
		now    time.Time
		rate   float64
		burst  int
		tokens float64
		at     time.Time
	}{
		{"never used: full", Bucket{}, t0, 10, 5, 5, t0},
		{"never used, burst 0 means 1", Bucket{}, t0, 0.5, 0, 1, t0},
		{"never used, negative burst means 1", Bucket{}, t0, 0.5, -3, 1, t0},
		{"no time passed", Bucket{Tokens: 0.5, At: t0}, t0, 10, 5, 0.5, t0},
		{"100ms at 10/s is one token", Bucket{Tokens: 0, At: t0}, t0.Add(100 * ms), 10, 5, 1, t0.Add(100 * ms)},
		{"250ms at 10/s", Bucket{Tokens: 0.25, At: t0}, t0.Add(250 * ms), 10, 5, 2.75, t0.Add(250 * ms)},
		{"capped at burst", Bucket{Tokens: 1, At: t0}, t0.Add(time.Hour), 10, 5, 5, t0.Add(time.Hour)},
		{"never above burst when stored above it", Bucket{Tokens: 9, At: t0}, t0, 10, 5, 5, t0},
		{"debt refills", Bucket{Tokens: -1, At: t0}, t0.Add(time.Second), 1, 5, 0, t0.Add(time.Second)},
		// A clock behind the one that stored the bucket: no refill, and the
		// bucket keeps its time so the interval is not counted twice.
		{"clock behind", Bucket{Tokens: 0.5, At: t0}, t0.Add(-time.Second), 10, 5, 0.5, t0},
	}
	for _, c := range cases {
		got := c.b.Refill(c.now, c.rate, c.burst)
		if got.Tokens != c.tokens || !got.At.Equal(c.at) {
			t.Errorf("%s: Refill = %+v, want %v tokens at %v", c.name, got, c.tokens, c.at)
		}
	}
}

func TestBucketClockBehindDoesNotRefillTwice(t *testing.T) {
	// Instance A empties the bucket at t0 and takes the token it got back
	// at t0+1s. Instance B, whose clock is behind, claims at t0+0.5s: it
	// gets nothing and must leave the bucket's time at t0+1s, or A would
	// count the half second after t0+0.5s a second time at t0+2s.
	a := Bucket{}.Refill(t0, 1, 10).Take(10)
	a = a.Refill(t0.Add(time.Second), 1, 10).Take(1)
	b := a.Refill(t0.Add(500*time.Millisecond), 1, 10)
	if b.Tokens != 0 || !b.At.Equal(t0.Add(time.Second)) {
		t.Fatalf("refill from a clock behind = %+v, want 0 tokens at t0+1s", b)
	}
	if got := b.Refill(t0.Add(2*time.Second), 1, 10); got.Tokens != 1 {
		t.Fatalf("A's refill at t0+2s = %v tokens, want 1", got.Tokens)
	}
}

func TestBucketWholeAndTake(t *testing.T) {
	for _, c := range []struct {
		tokens float64
		whole  int
	}{{5, 5}, {2.75, 2}, {0.999, 0}, {0, 0}, {-0.5, -1}} {
		if got := (Bucket{Tokens: c.tokens}).Whole(); got != c.whole {
			t.Errorf("Whole(%v) = %d, want %d", c.tokens, got, c.whole)
		}
	}
	if got := (Bucket{Tokens: 2.75, At: t0}).Take(2); got.Tokens != 0.75 || !got.At.Equal(t0) {
		t.Errorf("Take(2) from 2.75 = %+v", got)
	}
}

func TestBucketWait(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name   string
		tokens float64
		rate   float64
		want   time.Duration
	}{
		{"holds a token", 1, 10, 0},
		{"holds more", 3.5, 10, 0},
		{"half a token at 10/s", 0.5, 10, 50 * ms},
		{"empty at 10/s", 0, 10, 100 * ms},
		{"empty at 0.5/s", 0, 0.5, 2 * time.Second},
		{"rounded up to a millisecond", 0.9999, 1, ms},
		{"in debt", -1, 2, time.Second},
	}
	for _, c := range cases {
		if got := (Bucket{Tokens: c.tokens}).Wait(c.rate); got != c.want {
			t.Errorf("%s: Wait = %v, want %v", c.name, got, c.want)
		}
	}
	// 18ms at 10/s leaves 0.18 tokens, (1-0.18)*1000/10 computes as
	// 82.00000000000001: float noise must not add a millisecond.
	b := Bucket{At: t0}.Refill(t0.Add(18*ms), 10, 5)
	if got := b.Wait(10); got != 82*ms {
		t.Errorf("Wait after 18ms at 10/s = %v, want 82ms", got)
	}
}
