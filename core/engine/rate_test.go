package engine

import (
	"math"
	"testing"
	"time"
)

// TestRatesFromTimestamps: the current rates count the engine's own
// timestamps over the sliding window, including the part of the current
// second that has passed, so a poll at any moment (early in a second,
// late, after a stall) reads the true rate, not the partial last second.
func TestRatesFromTimestamps(t *testing.T) {
	var r rates
	start := time.Unix(1_800_000_000, 0)
	// 5 entries a second, one every 200 ms, for 30 s; 2 attempts a second.
	for ms := 0; ms < 30_000; ms += 200 {
		at := start.Add(time.Duration(ms) * time.Millisecond)
		r.entry(at, 1)
		if ms%1000 < 400 {
			r.attempt(at, time.Millisecond, ms%1000 == 0)
		}
	}
	for _, frac := range []time.Duration{time.Millisecond, 500 * time.Millisecond, 999 * time.Millisecond} {
		// Polled at 29 s + frac, after the events up to then; the ones
		// after frac in that second have not happened yet.
		now := start.Add(29*time.Second + frac)
		var cut rates
		for ms := 0; ms < 30_000; ms += 200 {
			at := start.Add(time.Duration(ms) * time.Millisecond)
			if at.After(now) {
				break
			}
			cut.entry(at, 1)
		}
		var st Stats
		cut.snapshot(now, 60, &st)
		inSecond := float64(frac/(200*time.Millisecond) + 1)
		want := (9*5 + inSecond) / (9 + frac.Seconds())
		if math.Abs(st.EntriesRate-want) > 1e-9 {
			t.Errorf("at +%v: entries %.3f/s, want %.3f/s", frac, st.EntriesRate, want)
		}
		if math.Abs(st.EntriesRate-5) > 0.6 {
			t.Errorf("at +%v: entries %.3f/s is far from the 5/s sent", frac, st.EntriesRate)
		}
		if last := st.EntriesPerSec[len(st.EntriesPerSec)-1]; last >= 5 && frac < 800*time.Millisecond {
			t.Errorf("at +%v: the partial last second holds %v: the old reading would have been right", frac, last)
		}
		if st.RateWindow != rateWindow {
			t.Errorf("RateWindow = %v", st.RateWindow)
		}
	}
	var st Stats
	r.snapshot(start.Add(29*time.Second+500*time.Millisecond), 60, &st)
	if math.Abs(st.DeliveriesRate-1) > 0.2 || math.Abs(st.FailuresRate-1) > 0.2 {
		t.Errorf("deliveries %.3f/s failures %.3f/s, want about 1/s each", st.DeliveriesRate, st.FailuresRate)
	}
	// Long after the traffic stopped, the rates are zero.
	r.snapshot(start.Add(time.Minute), 60, &st)
	if st.EntriesRate != 0 || st.DeliveriesRate != 0 || st.FailuresRate != 0 {
		t.Errorf("idle rates: %v %v %v", st.EntriesRate, st.DeliveriesRate, st.FailuresRate)
	}
}
