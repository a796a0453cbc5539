package delivery

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// MaxRetries bounds any schedule; beyond it a schedule is a typo.
const MaxRetries = 1000

// Schedule says when to retry. Its fields mean what they say: the zero
// Schedule retries nothing. The defaults operators get, and the reasons
// for them (see the package documentation), are configuration's:
// delivery.retry in core/config.
type Schedule struct {
	// Delays lists the wait before each retry; empty means no retries.
	Delays []time.Duration
	// Jitter spreads each delay uniformly over ±Jitter of its value: a
	// fraction in [0, 1), 0 for none.
	Jitter float64
	// RetryAfterMax caps how long a receiver's Retry-After can push a
	// retry out; 0 means no cap.
	RetryAfterMax time.Duration
}

// Validate reports a schedule that cannot be used, naming the field.
func (s Schedule) Validate() error {
	var errs []error
	if len(s.Delays) > MaxRetries {
		errs = append(errs, fmt.Errorf("schedule: %d delays, limit %d", len(s.Delays), MaxRetries))
	}
	for i, d := range s.Delays {
		if d < 0 {
			errs = append(errs, fmt.Errorf("schedule: delay %d is %s, want >= 0", i+1, d))
		}
	}
	if !(s.Jitter >= 0 && s.Jitter < 1) {
		errs = append(errs, fmt.Errorf("schedule: jitter is %v, want a fraction in [0, 1) such as 0.2", s.Jitter))
	}
	if s.RetryAfterMax < 0 {
		errs = append(errs, fmt.Errorf("schedule: retry-after max is %s, want >= 0", s.RetryAfterMax))
	}
	return errors.Join(errs...)
}

// Retries is the number of retries after the first attempt.
func (s Schedule) Retries() int { return min(len(s.Delays), MaxRetries) }

// Delay is the nominal (unjittered) wait before retry i+1 (i from 0).
func (s Schedule) Delay(i int) time.Duration {
	if i < 0 || i >= s.Retries() {
		return 0
	}
	return max(0, s.Delays[i])
}

// Total is the sum of the nominal delays: how long retries last without
// jitter or Retry-After.
func (s Schedule) Total() time.Duration {
	var t time.Duration
	for i := range s.Retries() {
		t += s.Delay(i)
	}
	return t
}

// jitter is Jitter made safe for an unvalidated Schedule.
func (s Schedule) jitter() float64 {
	if !(s.Jitter > 0) {
		return 0
	}
	return math.Min(s.Jitter, 0.99)
}
