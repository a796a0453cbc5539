package delivery

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestScheduleLiteral(t *testing.T) {
	s := defaultSchedule()
	if s.Retries() != 10 || s.Delay(9) != 12*time.Hour || s.Delay(10) != 0 || s.Delay(-1) != 0 {
		t.Errorf("retries %d, delay 10 %s", s.Retries(), s.Delay(9))
	}
	if got, want := s.Total(), 27*time.Hour+42*time.Minute+35*time.Second; got != want {
		t.Errorf("total %s, want %s", got, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
	// The zero Schedule is no retries, not some default.
	var zero Schedule
	if zero.Retries() != 0 || zero.jitter() != 0 || zero.Validate() != nil {
		t.Errorf("zero schedule: retries %d jitter %v, %v", zero.Retries(), zero.jitter(), zero.Validate())
	}
}

// TestDefaultScheduleWalk runs a delivery that never succeeds through the
// whole default schedule.
func TestDefaultScheduleWalk(t *testing.T) {
	s := defaultSchedule()
	now := time.Date(2026, 8, 23, 9, 0, 0, 0, time.UTC)
	start := now
	res := Result{StatusCode: 503, ErrorClass: ClassStatus}
	step, attempts := 0, 1
	for {
		v := s.Decide(step, res, now, seq(42))
		if v.Outcome == Fail {
			if !strings.Contains(v.Reason, "gave up after 11 attempts over 1d3h42m35s of backoff: HTTP 503 Service Unavailable") {
				t.Errorf("final reason %q", v.Reason)
			}
			if v.Step != 10 {
				t.Errorf("final step %d, want 10", v.Step)
			}
			break
		}
		wantOutcome(t, v, Retry)
		if v.Step != step+1 {
			t.Fatalf("step %d -> %d", step, v.Step)
		}
		step, now = v.Step, v.NextAttemptAt
		attempts++
	}
	elapsed := now.Sub(start)
	if attempts != 11 || elapsed < time.Duration(0.8*float64(s.Total())) || elapsed > time.Duration(1.2*float64(s.Total())) {
		t.Errorf("%d attempts over %s, want 11 over 27h42m35s ±20%%", attempts, elapsed)
	}
}

func TestJitterBounds(t *testing.T) {
	base := time.Hour
	if got := jittered(base, 0.2, func() float64 { return 0 }); got != 48*time.Minute {
		t.Errorf("rnd=0: %s, want 48m", got)
	}
	if got := jittered(base, 0.2, func() float64 { return 0.5 }); got != time.Hour {
		t.Errorf("rnd=0.5: %s, want 1h", got)
	}
	// Broken sources are neutralised rather than trusted.
	for _, bad := range []float64{-1, 1, 7} {
		if got := jittered(base, 0.2, func() float64 { return bad }); got != time.Hour {
			t.Errorf("rnd=%v: %s, want 1h", bad, got)
		}
	}
	r := rand.New(rand.NewPCG(7, 9))
	lo, hi := 2*time.Hour, time.Duration(0)
	for range 5000 {
		d := jittered(base, 0.2, r.Float64)
		if d < 48*time.Minute || d >= 72*time.Minute {
			t.Fatalf("jittered 1h to %s, outside [48m, 72m)", d)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo > 50*time.Minute || hi < 70*time.Minute {
		t.Errorf("5000 samples spanned only [%s, %s]; jitter is not spreading", lo, hi)
	}
	// Jitter disabled.
	s := Schedule{Delays: []time.Duration{time.Minute}}
	now := time.Unix(0, 0)
	if v := s.Decide(0, Result{ErrorClass: ClassTimeout}, now, seq(1)); !v.NextAttemptAt.Equal(now.Add(time.Minute)) {
		t.Errorf("no-jitter retry at %s, want exactly +1m", v.NextAttemptAt.Sub(now))
	}
	// Same seed, same schedule: the source really is the injected one.
	a := defaultSchedule().Decide(3, Result{ErrorClass: ClassConnect}, now, seq(99))
	b := defaultSchedule().Decide(3, Result{ErrorClass: ClassConnect}, now, seq(99))
	if !a.NextAttemptAt.Equal(b.NextAttemptAt) {
		t.Error("same seed gave different retry times")
	}
}

func TestNoRetries(t *testing.T) {
	for _, s := range []Schedule{{}, {Delays: []time.Duration{}, Jitter: 0.2}} {
		v := s.Decide(0, Result{StatusCode: 500, ErrorClass: ClassStatus}, time.Now(), seq(1))
		wantOutcome(t, v, Fail, "failed, retries disabled: HTTP 500")
	}
	// LaunchDarkly parity: one immediate retry.
	ld := Schedule{Delays: []time.Duration{0}}
	now := time.Now()
	v := ld.Decide(0, Result{StatusCode: 500, ErrorClass: ClassStatus}, now, seq(1))
	if v.Outcome != Retry || !v.NextAttemptAt.Equal(now) {
		t.Errorf("LD-style retry %+v", v)
	}
}

func TestRetryAfterClamp(t *testing.T) {
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)
	res := Result{StatusCode: 429, ErrorClass: ClassStatus, RetryAfter: 72 * time.Hour}
	v := defaultSchedule().Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "Retry-After 3d clamped to 1d", "at 2026-08-24 14:00:00")
	if !v.NextAttemptAt.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("next %s, want now+24h", v.NextAttemptAt)
	}
	custom := defaultSchedule()
	custom.RetryAfterMax = 10 * time.Minute
	v = custom.Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "clamped to 10m")
	if !v.NextAttemptAt.Equal(now.Add(10 * time.Minute)) {
		t.Errorf("next %s, want now+10m", v.NextAttemptAt)
	}
	// A backoff later than the clamp wins.
	late := Schedule{Delays: []time.Duration{time.Hour}, RetryAfterMax: 10 * time.Minute}
	v = late.Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "clamped to 10m; backoff is later")
	if !v.NextAttemptAt.Equal(now.Add(time.Hour)) {
		t.Errorf("next %s, want now+1h", v.NextAttemptAt)
	}
	// RetryAfterMax 0: no cap.
	uncapped := Schedule{Delays: []time.Duration{time.Minute}}
	v = uncapped.Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "Retry-After 3d honoured")
	if !v.NextAttemptAt.Equal(now.Add(72 * time.Hour)) {
		t.Errorf("next %s, want now+72h", v.NextAttemptAt)
	}
}

func TestDecideReasonFormat(t *testing.T) {
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)
	s := Schedule{Delays: []time.Duration{time.Minute, time.Minute, 2*time.Minute + 11*time.Second}}
	v := s.Decide(2, Result{StatusCode: 503, ErrorClass: ClassStatus, RetryAfter: 120 * time.Second}, now, nil)
	if v.Reason != "HTTP 503 Service Unavailable, retry 3/3 in 2m11s at 14:02:11 (Retry-After 2m; backoff is later)" {
		t.Errorf("Reason = %q", v.Reason)
	}
	v = s.Decide(0, Result{StatusCode: 503, ErrorClass: ClassStatus, RetryAfter: 120 * time.Second}, now, nil)
	if v.Reason != "HTTP 503 Service Unavailable, retry 1/3 in 2m at 14:02:00 (Retry-After 2m honoured)" {
		t.Errorf("Reason = %q", v.Reason)
	}
	if strings.ContainsAny(v.Reason, "\n\r") {
		t.Error("reason spans lines")
	}
	v = s.Decide(0, Result{StatusCode: 200, Duration: 35 * time.Millisecond}, now, nil)
	if v.Reason != "HTTP 200 OK in 35ms" {
		t.Errorf("Reason = %q", v.Reason)
	}
	long := strings.Repeat("é", 300)
	v = s.Decide(0, Result{StatusCode: 422, ErrorClass: ClassStatus, Body: []byte("\x00bad\t" + long)}, now, nil)
	if !strings.HasPrefix(v.Reason, "HTTP 422 Unprocessable Entity: not retried (client error): bad é") || !strings.HasSuffix(v.Reason, "…") {
		t.Errorf("Reason = %q", v.Reason)
	}
	// A zero Result keeps the delivery alive.
	wantOutcome(t, s.Decide(0, Result{}, now, nil), Retry, "no result recorded")
}

func TestScheduleValidate(t *testing.T) {
	bad := []struct {
		s    Schedule
		want string
	}{
		{Schedule{Delays: []time.Duration{time.Second, -time.Second}}, "delay 2 is -1s"},
		{Schedule{Delays: make([]time.Duration, MaxRetries+1)}, "1001 delays"},
		{Schedule{Jitter: 1}, "jitter is 1"},
		{Schedule{Jitter: -0.1}, "jitter is -0.1"},
		{Schedule{Jitter: math.NaN()}, "jitter is NaN"},
		{Schedule{RetryAfterMax: -time.Second}, "retry-after max"},
	}
	for _, tc := range bad {
		err := tc.s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
	}
}
