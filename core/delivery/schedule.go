package delivery

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Schedule defaults. See the package documentation for the rationale.
const (
	DefaultJitter        = 0.2
	DefaultRetryAfterMax = 24 * time.Hour
	// MaxRetries bounds any schedule; beyond it a schedule is a typo.
	MaxRetries = 1000
	// maxDelay bounds one computed exponential delay.
	maxDelay = 30 * 24 * time.Hour
)

// DefaultDelays returns the default backoff: ten retries over about 27h42m.
func DefaultDelays() []time.Duration {
	return []time.Duration{
		5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour,
		8 * time.Hour, 12 * time.Hour,
	}
}

// Schedule says when to retry. The zero Schedule is the default schedule.
//
// Delays, when non-nil, lists the wait before each retry (an empty non-nil
// list means no retries). Otherwise Exponential, when set, generates them.
// With neither, DefaultDelays is used.
type Schedule struct {
	Delays      []time.Duration
	Exponential *Exponential
	// Jitter spreads each delay uniformly over ±Jitter of its value.
	// 0 means DefaultJitter (0.2); a negative value disables jitter.
	Jitter float64
	// RetryAfterMax caps how long a Retry-After can push a retry out.
	// 0 means DefaultRetryAfterMax (24h).
	RetryAfterMax time.Duration
}

// Exponential generates delays Initial·Factor^i, capped at Max, for
// i = 0..Retries-1. Retries counts retries after the first attempt.
type Exponential struct {
	Initial time.Duration
	Factor  float64
	// Max caps one delay; 0 means no cap (beyond an internal 30 days).
	Max     time.Duration
	Retries int
}

// DefaultSchedule returns the default schedule with its defaults spelled
// out (it behaves exactly like Schedule{}).
func DefaultSchedule() Schedule {
	return Schedule{Delays: DefaultDelays(), Jitter: DefaultJitter, RetryAfterMax: DefaultRetryAfterMax}
}

// NoRetries returns a schedule that fails on the first retryable error.
func NoRetries() Schedule { return Schedule{Delays: []time.Duration{}} }

// Validate reports a schedule that cannot be used, naming the field.
func (s Schedule) Validate() error {
	var errs []error
	if s.Delays != nil && s.Exponential != nil {
		errs = append(errs, errors.New("schedule: set either delays or exponential, not both"))
	}
	if len(s.Delays) > MaxRetries {
		errs = append(errs, fmt.Errorf("schedule: %d delays, limit %d", len(s.Delays), MaxRetries))
	}
	for i, d := range s.Delays {
		if d < 0 {
			errs = append(errs, fmt.Errorf("schedule: delay %d is %s, want >= 0", i+1, d))
		}
	}
	if e := s.Exponential; e != nil && s.Delays == nil {
		if e.Initial <= 0 {
			errs = append(errs, fmt.Errorf("schedule: exponential initial is %s, want > 0", e.Initial))
		}
		if !(e.Factor >= 1) || math.IsInf(e.Factor, 0) {
			errs = append(errs, fmt.Errorf("schedule: exponential factor is %v, want >= 1", e.Factor))
		}
		if e.Max < 0 || (e.Max > 0 && e.Max < e.Initial) {
			errs = append(errs, fmt.Errorf("schedule: exponential max is %s, want 0 (no cap) or >= initial %s", e.Max, e.Initial))
		}
		if e.Retries < 0 || e.Retries > MaxRetries {
			errs = append(errs, fmt.Errorf("schedule: exponential retries is %d, want 0 to %d", e.Retries, MaxRetries))
		}
	}
	if s.Jitter >= 1 || math.IsNaN(s.Jitter) {
		errs = append(errs, fmt.Errorf("schedule: jitter is %v, want < 1 (a fraction such as 0.2; negative disables)", s.Jitter))
	}
	if s.RetryAfterMax < 0 {
		errs = append(errs, fmt.Errorf("schedule: retry-after max is %s, want > 0", s.RetryAfterMax))
	}
	return errors.Join(errs...)
}

// Retries is the number of retries after the first attempt.
func (s Schedule) Retries() int {
	switch {
	case s.Delays != nil:
		return len(s.Delays)
	case s.Exponential != nil:
		return max(0, min(s.Exponential.Retries, MaxRetries))
	default:
		return len(DefaultDelays())
	}
}

// Delay is the nominal (unjittered) wait before retry i+1 (i from 0).
func (s Schedule) Delay(i int) time.Duration {
	if i < 0 || i >= s.Retries() {
		return 0
	}
	switch {
	case s.Delays != nil:
		return max(0, s.Delays[i])
	case s.Exponential != nil:
		e := s.Exponential
		f := float64(e.Initial) * math.Pow(math.Max(e.Factor, 1), float64(i))
		limit := float64(maxDelay)
		if e.Max > 0 {
			limit = math.Min(limit, float64(e.Max))
		}
		if math.IsNaN(f) || f > limit {
			f = limit
		}
		return max(0, time.Duration(f))
	default:
		return DefaultDelays()[i]
	}
}

// NominalDelays lists every nominal delay.
func (s Schedule) NominalDelays() []time.Duration {
	out := make([]time.Duration, s.Retries())
	for i := range out {
		out[i] = s.Delay(i)
	}
	return out
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

func (s Schedule) jitter() float64 {
	switch {
	case s.Jitter == 0:
		return DefaultJitter
	case s.Jitter < 0 || math.IsNaN(s.Jitter):
		return 0
	default:
		return math.Min(s.Jitter, 0.99)
	}
}

func (s Schedule) retryAfterMax() time.Duration {
	if s.RetryAfterMax <= 0 {
		return DefaultRetryAfterMax
	}
	return s.RetryAfterMax
}

// String renders the schedule for display and round-trips via
// ParseSchedule, e.g. "5s,30s,2m,10m,30m,1h,2h,4h,8h,12h ±20%".
func (s Schedule) String() string {
	var b strings.Builder
	switch {
	case s.Retries() == 0:
		b.WriteString("none")
	case s.Delays == nil && s.Exponential != nil:
		e := s.Exponential
		fmt.Fprintf(&b, "exp:initial=%s,factor=%s,max=%s,retries=%d",
			humanDuration(e.Initial), strconv.FormatFloat(e.Factor, 'g', -1, 64), humanDuration(e.Max), e.Retries)
	default:
		for i, d := range s.NominalDelays() {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(humanDuration(d))
		}
	}
	if s.Retries() > 0 {
		fmt.Fprintf(&b, " ±%s%%", strconv.FormatFloat(math.Round(s.jitter()*10000)/100, 'f', -1, 64))
	}
	return b.String()
}

// ParseSchedule reads a schedule from configuration text:
//
//	default                                    the default schedule
//	none                                       no retries
//	5s,30s,2m,1h                               explicit delays
//	exp:initial=30s,factor=2,max=1h,retries=8  exponential
//
// Any form may end with " ±N%" (or " jitter=N%") to set the jitter; "±0%"
// disables it. Durations accept Go syntax plus a "d" (24h) unit.
func ParseSchedule(text string) (Schedule, error) {
	var s Schedule
	body := strings.TrimSpace(text)
	if i := strings.LastIndexAny(body, " \t"); i >= 0 && isJitterToken(body[i+1:]) {
		j, err := parseJitter(body[i+1:])
		if err != nil {
			return s, fmt.Errorf("schedule %q: %w", text, err)
		}
		if j == 0 {
			s.Jitter = -1
		} else {
			s.Jitter = j
		}
		body = strings.TrimSpace(body[:i])
	}
	switch {
	case body == "":
		return s, fmt.Errorf("schedule %q: empty (want default, none, a delay list or exp:...)", text)
	case body == "default":
	case body == "none":
		s.Delays = []time.Duration{}
	case strings.HasPrefix(body, "exp:"):
		e, err := parseExponential(body[len("exp:"):])
		if err != nil {
			return s, fmt.Errorf("schedule %q: %w", text, err)
		}
		s.Exponential = e
	default:
		parts := strings.Split(body, ",")
		s.Delays = make([]time.Duration, 0, len(parts))
		for i, p := range parts {
			d, err := parseDuration(strings.TrimSpace(p))
			if err != nil {
				return s, fmt.Errorf("schedule %q: delay %d: %w", text, i+1, err)
			}
			s.Delays = append(s.Delays, d)
		}
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("schedule %q: %w", text, err)
	}
	return s, nil
}

func isJitterToken(v string) bool {
	return strings.HasPrefix(v, "±") || strings.HasPrefix(v, "jitter=")
}

func parseJitter(v string) (float64, error) {
	v, ok := strings.CutPrefix(v, "±")
	if !ok {
		v, ok = strings.CutPrefix(v, "jitter=")
	}
	if !ok {
		return 0, fmt.Errorf("unexpected %q (want ±N%% or jitter=N%%)", v)
	}
	pct, ok := strings.CutSuffix(v, "%")
	if !ok {
		return 0, fmt.Errorf("jitter %q: want a percentage such as 20%%", v)
	}
	f, err := strconv.ParseFloat(pct, 64)
	if err != nil || f < 0 || f >= 100 || math.IsNaN(f) {
		return 0, fmt.Errorf("jitter %q: want 0%% to 99%%", v)
	}
	return f / 100, nil
}

func parseExponential(v string) (*Exponential, error) {
	e := &Exponential{Factor: 2}
	seen := map[string]bool{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("exponential: %q is not key=value", kv)
		}
		if seen[k] {
			return nil, fmt.Errorf("exponential: %s given twice", k)
		}
		seen[k] = true
		var err error
		switch k {
		case "initial":
			e.Initial, err = parseDuration(val)
		case "max":
			e.Max, err = parseDuration(val)
		case "factor":
			e.Factor, err = strconv.ParseFloat(val, 64)
		case "retries":
			e.Retries, err = strconv.Atoi(val)
		default:
			return nil, fmt.Errorf("exponential: unknown key %q (want initial, factor, max, retries)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("exponential: %s: %w", k, err)
		}
	}
	if !seen["initial"] || !seen["retries"] {
		return nil, errors.New("exponential: initial and retries are required")
	}
	return e, nil
}

// parseDuration is time.ParseDuration plus a leading "Nd" for days.
func parseDuration(v string) (time.Duration, error) {
	if v == "" {
		return 0, errors.New("empty duration")
	}
	var days time.Duration
	if i := strings.IndexByte(v, 'd'); i > 0 {
		n, err := strconv.Atoi(v[:i])
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("duration %q: bad day count", v)
		}
		days = time.Duration(n) * 24 * time.Hour
		v = v[i+1:]
		if v == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", v)
	}
	return days + d, nil
}

// humanDuration prints a duration compactly: 250ms, 5s, 2m, 1h30m, 1d3h42m35s.
func humanDuration(d time.Duration) string {
	if d < 0 {
		return "-" + humanDuration(-d)
	}
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Second)
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}
