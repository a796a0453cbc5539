package engine

import (
	"sync"
	"time"
)

// statsWindow is how far back the console's sparklines and latency
// quantiles look.
const statsWindow = 5 * time.Minute

// rateWindow is the sliding window of the header's current rates: long
// enough to smooth bursts, short enough to follow a change within seconds.
const rateWindow = 10 * time.Second

// latencyBounds are the upper edges of the latency histogram buckets used
// for the header's p50/p99: fine below 100 ms where a healthy local endpoint
// sits, coarse above.
var latencyBounds = []time.Duration{
	250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond,
	3 * time.Millisecond, 5 * time.Millisecond, 7500 * time.Microsecond, 10 * time.Millisecond,
	15 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond, 50 * time.Millisecond,
	75 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
}

// second is one second of activity.
type second struct {
	unix       int64
	entries    int
	deliveries int
	failures   int
	latency    [23]uint32 // len(latencyBounds)+1 buckets
}

// rates keeps per-second counters over statsWindow in a ring, so memory is
// fixed whatever the traffic.
type rates struct {
	mu   sync.Mutex
	ring [int(statsWindow / time.Second)]second
}

func (r *rates) slot(now time.Time) *second {
	u := now.Unix()
	s := &r.ring[u%int64(len(r.ring))]
	if s.unix != u {
		*s = second{unix: u}
	}
	return s
}

func (r *rates) entry(now time.Time, n int) {
	r.mu.Lock()
	r.slot(now).entries += n
	r.mu.Unlock()
}

// attempt records one finished attempt.
func (r *rates) attempt(now time.Time, latency time.Duration, ok bool) {
	r.mu.Lock()
	s := r.slot(now)
	if ok {
		s.deliveries++
	} else {
		s.failures++
	}
	i := 0
	for i < len(latencyBounds) && latency > latencyBounds[i] {
		i++
	}
	s.latency[i]++
	r.mu.Unlock()
}

// snapshot fills the series (oldest first, one point per second, points
// seconds long) and the latency quantiles into st.
func (r *rates) snapshot(now time.Time, points int, st *Stats) {
	if points <= 0 || points > len(r.ring) {
		points = len(r.ring)
	}
	st.EntriesPerSec = make([]float64, points)
	st.DeliveriesPerSec = make([]float64, points)
	st.FailuresPerSec = make([]float64, points)
	var hist [23]uint64
	var total uint64
	r.mu.Lock()
	end := now.Unix()
	for i := 0; i < points; i++ {
		u := end - int64(points-1-i)
		s := &r.ring[u%int64(len(r.ring))]
		if s.unix != u {
			continue
		}
		st.EntriesPerSec[i] = float64(s.entries)
		st.DeliveriesPerSec[i] = float64(s.deliveries)
		st.FailuresPerSec[i] = float64(s.failures)
	}
	for i := range r.ring {
		s := &r.ring[i]
		if s.unix <= end-int64(len(r.ring)) || s.unix > end {
			continue
		}
		for j, c := range s.latency {
			hist[j] += uint64(c)
			total += uint64(c)
		}
	}
	// The current rates: the last whole seconds of the window plus the
	// part of this second that has passed, over that span.
	var ent, del, fail float64
	whole := int64(rateWindow/time.Second) - 1
	for u := end - whole; u <= end; u++ {
		s := &r.ring[u%int64(len(r.ring))]
		if s.unix != u {
			continue
		}
		ent += float64(s.entries)
		del += float64(s.deliveries)
		fail += float64(s.failures)
	}
	r.mu.Unlock()
	span := (time.Duration(whole)*time.Second + time.Duration(now.Nanosecond())).Seconds()
	if span > 0 {
		st.EntriesRate, st.DeliveriesRate, st.FailuresRate = ent/span, del/span, fail/span
	}
	st.RateWindow = rateWindow
	st.Window = time.Duration(points) * time.Second
	st.LatencyP50 = quantile(hist[:], total, 0.50)
	st.LatencyP99 = quantile(hist[:], total, 0.99)
}

// quantile returns the upper bound of the bucket holding quantile q.
func quantile(hist []uint64, total uint64, q float64) time.Duration {
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range hist {
		seen += c
		if seen >= rank {
			if i < len(latencyBounds) {
				return latencyBounds[i]
			}
			return latencyBounds[len(latencyBounds)-1] * 2
		}
	}
	return latencyBounds[len(latencyBounds)-1] * 2
}
