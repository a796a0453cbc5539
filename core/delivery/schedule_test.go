package delivery

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefaultSchedule(t *testing.T) {
	want := []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
		30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 12 * time.Hour}
	for name, s := range map[string]Schedule{"zero": {}, "DefaultSchedule": DefaultSchedule()} {
		if got := s.NominalDelays(); !slices.Equal(got, want) {
			t.Errorf("%s: delays %v, want %v", name, got, want)
		}
		if got, want := s.Total(), 27*time.Hour+42*time.Minute+35*time.Second; got != want {
			t.Errorf("%s: total %s, want %s", name, got, want)
		}
		if s.Retries() != 10 || s.jitter() != 0.2 || s.retryAfterMax() != 24*time.Hour {
			t.Errorf("%s: retries %d jitter %v retry-after max %s", name, s.Retries(), s.jitter(), s.retryAfterMax())
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	if got := DefaultSchedule().String(); got != "5s,30s,2m,10m,30m,1h,2h,4h,8h,12h ±20%" {
		t.Errorf("String = %q", got)
	}
}

// TestDefaultScheduleWalk runs a delivery that never succeeds through the
// whole default schedule.
func TestDefaultScheduleWalk(t *testing.T) {
	s := DefaultSchedule()
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
	s := Schedule{Delays: []time.Duration{time.Minute}, Jitter: -1}
	now := time.Unix(0, 0)
	if v := s.Decide(0, Result{ErrorClass: ClassTimeout}, now, seq(1)); !v.NextAttemptAt.Equal(now.Add(time.Minute)) {
		t.Errorf("no-jitter retry at %s, want exactly +1m", v.NextAttemptAt.Sub(now))
	}
	// Same seed, same schedule: the source really is the injected one.
	a := DefaultSchedule().Decide(3, Result{ErrorClass: ClassConnect}, now, seq(99))
	b := DefaultSchedule().Decide(3, Result{ErrorClass: ClassConnect}, now, seq(99))
	if !a.NextAttemptAt.Equal(b.NextAttemptAt) {
		t.Error("same seed gave different retry times")
	}
}

func TestExponentialSchedule(t *testing.T) {
	s := Schedule{Exponential: &Exponential{Initial: 30 * time.Second, Factor: 2, Max: time.Hour, Retries: 8}}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour}
	if got := s.NominalDelays(); !slices.Equal(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
	// Uncapped growth stops at the internal bound instead of overflowing.
	huge := Schedule{Exponential: &Exponential{Initial: time.Hour, Factor: 10, Retries: 40}}
	for i, d := range huge.NominalDelays() {
		if d <= 0 || d > maxDelay {
			t.Fatalf("delay %d = %s", i, d)
		}
	}
	v := s.Decide(8, Result{ErrorClass: ClassTimeout, Err: errors.New("timeout: no complete answer within 15s")}, time.Now(), seq(1))
	wantOutcome(t, v, Fail, "gave up after 9 attempts over 2h3m30s of backoff: timeout")
}

func TestNoRetries(t *testing.T) {
	v := NoRetries().Decide(0, Result{StatusCode: 500, ErrorClass: ClassStatus}, time.Now(), seq(1))
	wantOutcome(t, v, Fail, "failed, retries disabled: HTTP 500")
	if NoRetries().String() != "none" {
		t.Errorf("String = %q", NoRetries().String())
	}
	// LaunchDarkly parity: one immediate retry.
	ld := Schedule{Delays: []time.Duration{0}}
	now := time.Now()
	v = ld.Decide(0, Result{StatusCode: 500, ErrorClass: ClassStatus}, now, seq(1))
	if v.Outcome != Retry || !v.NextAttemptAt.Equal(now) {
		t.Errorf("LD-style retry %+v", v)
	}
}

func TestRetryAfterClamp(t *testing.T) {
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)
	res := Result{StatusCode: 429, ErrorClass: ClassStatus, RetryAfter: 72 * time.Hour}
	v := DefaultSchedule().Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "Retry-After 3d clamped to 1d", "at 2026-08-24 14:00:00")
	if !v.NextAttemptAt.Equal(now.Add(24 * time.Hour)) {
		t.Errorf("next %s, want now+24h", v.NextAttemptAt)
	}
	custom := Schedule{RetryAfterMax: 10 * time.Minute}
	v = custom.Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "clamped to 10m")
	if !v.NextAttemptAt.Equal(now.Add(10 * time.Minute)) {
		t.Errorf("next %s, want now+10m", v.NextAttemptAt)
	}
	// A backoff later than the clamp wins.
	late := Schedule{Delays: []time.Duration{time.Hour}, Jitter: -1, RetryAfterMax: 10 * time.Minute}
	v = late.Decide(0, res, now, seq(1))
	wantOutcome(t, v, Retry, "clamped to 10m; backoff is later")
	if !v.NextAttemptAt.Equal(now.Add(time.Hour)) {
		t.Errorf("next %s, want now+1h", v.NextAttemptAt)
	}
}

func TestDecideReasonFormat(t *testing.T) {
	now := time.Date(2026, 8, 23, 14, 0, 0, 0, time.UTC)
	s := Schedule{Delays: []time.Duration{time.Minute, time.Minute, 2*time.Minute + 11*time.Second}, Jitter: -1}
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
		{Schedule{Exponential: &Exponential{Initial: 0, Factor: 2, Retries: 3}}, "initial is 0s"},
		{Schedule{Exponential: &Exponential{Initial: time.Second, Factor: 0.5, Retries: 3}}, "factor is 0.5"},
		{Schedule{Exponential: &Exponential{Initial: time.Minute, Factor: 2, Max: time.Second, Retries: 3}}, "max is 1s"},
		{Schedule{Exponential: &Exponential{Initial: time.Second, Factor: 2, Retries: -1}}, "retries is -1"},
		{Schedule{Jitter: 1}, "jitter is 1"},
		{Schedule{RetryAfterMax: -time.Second}, "retry-after max"},
		{Schedule{Delays: []time.Duration{}, Exponential: &Exponential{Initial: time.Second, Factor: 2}}, "not both"},
	}
	for _, tc := range bad {
		err := tc.s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
	}
}

func TestParseSchedule(t *testing.T) {
	cases := []struct {
		in     string
		delays []time.Duration
		jitter float64
		str    string
	}{
		{"default", DefaultDelays(), 0.2, "5s,30s,2m,10m,30m,1h,2h,4h,8h,12h ±20%"},
		{"none", []time.Duration{}, 0.2, "none"},
		{"5s, 1m,1d2h", []time.Duration{5 * time.Second, time.Minute, 26 * time.Hour}, 0.2, "5s,1m,1d2h ±20%"},
		{"5s,1m ±10%", []time.Duration{5 * time.Second, time.Minute}, 0.1, "5s,1m ±10%"},
		{"5s jitter=0%", []time.Duration{5 * time.Second}, 0, "5s ±0%"},
		{"exp:initial=30s,factor=2,max=1h,retries=3", []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute}, 0.2,
			"exp:initial=30s,factor=2,max=1h,retries=3 ±20%"},
	}
	for _, tc := range cases {
		s, err := ParseSchedule(tc.in)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tc.in, err)
			continue
		}
		if got := s.NominalDelays(); !slices.Equal(got, tc.delays) || s.jitter() != tc.jitter || s.String() != tc.str {
			t.Errorf("ParseSchedule(%q) = %v jitter %v %q; want %v %v %q", tc.in, got, s.jitter(), s.String(), tc.delays, tc.jitter, tc.str)
		}
		back, err := ParseSchedule(s.String())
		if err != nil || !slices.Equal(back.NominalDelays(), s.NominalDelays()) || back.jitter() != s.jitter() {
			t.Errorf("round trip of %q via %q failed: %v", tc.in, s.String(), err)
		}
	}
	for in, want := range map[string]string{
		"":                                    "empty",
		"5s,,1m":                              "delay 2",
		"5s,-1m":                              "delay 2",
		"5 minutes":                           "delay 1",
		"5s ±200%":                            "jitter",
		"5s ±20":                              "percentage",
		"exp:initial=1s":                      "initial and retries are required",
		"exp:initial=1s,retries=2,initial=2s": "given twice",
		"exp:initial=1s,retries=2,base=3":     "unknown key",
		"exp:initial=1s,retries=2,factor=0.1": "factor is 0.1",
	} {
		_, err := ParseSchedule(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSchedule(%q) = %v, want an error mentioning %q", in, err, want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 412 * time.Microsecond: "412µs", 250 * time.Millisecond: "250ms", 5 * time.Second: "5s", 120 * time.Second: "2m",
		90 * time.Minute: "1h30m", 99755 * time.Second: "1d3h42m35s", -5 * time.Second: "-5s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	for _, s := range []string{"default", "none", "5s,30s ±20%", "exp:initial=30s,factor=2,max=1h,retries=8", "1d,2d jitter=5%", "exp:initial=1ns,factor=1e308,retries=1000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSchedule(in)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ParseSchedule(%q) accepted an invalid schedule: %v", in, err)
		}
		for i, d := range s.NominalDelays() {
			if d < 0 {
				t.Fatalf("delay %d negative: %s", i, d)
			}
		}
		v := s.Decide(0, Result{ErrorClass: ClassTimeout}, time.Unix(0, 0), seq(1))
		if v.Outcome != Retry && v.Outcome != Fail {
			t.Fatalf("timeout verdict %s", v.Outcome)
		}
	})
}
