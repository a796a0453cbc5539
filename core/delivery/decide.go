package delivery

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/auditrelay/auditrelay/core/duration"
)

// Outcome is what the engine does with a delivery after an attempt.
type Outcome int

// Outcomes.
const (
	Delivered Outcome = iota + 1 // done
	Retry                        // schedule another attempt at NextAttemptAt
	Fail                         // stop; keep the delivery as failed (manual retry possible)
	Disable                      // fail the delivery and disable its subscription
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Fail:
		return "fail"
	case Disable:
		return "disable"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Verdict is the decision after one attempt.
type Verdict struct {
	Outcome Outcome
	// NextAttemptAt is set for Retry only.
	NextAttemptAt time.Time
	// Step is the number of scheduled retries used so far, including the
	// one just scheduled; store it and pass it to the next Decide.
	Step int
	// Reason is one line for the operator, e.g. "HTTP 503 Service
	// Unavailable, retry 3/10 in 2m at 14:02:11 (Retry-After 2m honoured)".
	Reason string
}

// Decide classifies attempt result r, made after step retries were used,
// and schedules what follows. now is the time of the decision; rnd returns
// values in [0,1) for jitter (pass a seeded (*rand.Rand).Float64 in tests;
// nil uses math/rand/v2's goroutine-safe source).
func (s Schedule) Decide(step int, r Result, now time.Time, rnd func() float64) Verdict {
	step = max(step, 0)
	switch r.ErrorClass {
	case ClassNone:
		if r.StatusCode >= 200 && r.StatusCode <= 299 {
			return Verdict{Outcome: Delivered, Step: step,
				Reason: fmt.Sprintf("HTTP %s in %s", statusLine(r.StatusCode), duration.Format(r.Duration))}
		}
		// A Result nobody filled in: keep the data, spend a retry.
		return s.retry(step, r, now, rnd, "no result recorded (status 0, no error class)")
	case ClassCanceled:
		// The relay is stopping. Re-send on the next start without
		// spending a step: a restart must not eat an endpoint's retries.
		return Verdict{Outcome: Retry, NextAttemptAt: now, Step: step,
			Reason: "canceled: relay stopping before an answer; re-sent on next start (no retry used; the receiver may see it twice)"}
	case ClassInvalid, ClassBodyTooLarge, ClassTarget:
		return Verdict{Outcome: Fail, Step: step, Reason: "not sent: " + errText(r)}
	case ClassStatus:
		return s.decideStatus(step, r, now, rnd)
	default: // timeout, connect, dns, tls, protocol, unknown
		return s.retry(step, r, now, rnd, errText(r))
	}
}

func (s Schedule) decideStatus(step int, r Result, now time.Time, rnd func() float64) Verdict {
	code := r.StatusCode
	what := "HTTP " + statusLine(code)
	switch {
	case code == http.StatusGone:
		return Verdict{Outcome: Disable, Step: step,
			Reason: what + ": the receiver says this endpoint is gone; subscription disabled" + snippet(r)}
	case code >= 500 && code <= 599, code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return s.retry(step, r, now, rnd, what)
	case code >= 300 && code <= 399:
		if loc := r.Header("Location"); loc != "" {
			return Verdict{Outcome: Fail, Step: step,
				Reason: fmt.Sprintf("%s to %s: redirects are not followed; point the endpoint at the final URL", what, loc)}
		}
		return Verdict{Outcome: Fail, Step: step, Reason: what + ": a 3xx is not a success; not retried" + snippet(r)}
	case code >= 400 && code <= 499:
		return Verdict{Outcome: Fail, Step: step, Reason: what + ": not retried (client error" + hint4xx(code) + ")" + snippet(r)}
	default:
		return Verdict{Outcome: Fail, Step: step, Reason: what + ": unexpected status, not retried" + snippet(r)}
	}
}

func hint4xx(code int) string {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "; check the endpoint's credentials"
	case http.StatusNotFound:
		return "; check the endpoint URL"
	case http.StatusRequestEntityTooLarge:
		return "; the receiver refuses the body size"
	}
	return ""
}

// retry schedules the next attempt or gives up when the schedule is used.
func (s Schedule) retry(step int, r Result, now time.Time, rnd func() float64, what string) Verdict {
	total := s.Retries()
	if total == 0 {
		return Verdict{Outcome: Fail, Step: step, Reason: "failed, retries disabled: " + what}
	}
	if step >= total {
		return Verdict{Outcome: Fail, Step: step,
			Reason: fmt.Sprintf("gave up after %d attempts over %s of backoff: %s", total+1, duration.Format(s.Total()), what)}
	}
	d := jittered(s.Delay(step), s.jitter(), rnd)
	note := ""
	if (r.StatusCode == http.StatusTooManyRequests || r.StatusCode == http.StatusServiceUnavailable) && r.RetryAfter > 0 {
		ra, limit := r.RetryAfter, s.RetryAfterMax
		if limit == 0 {
			limit = ra // no cap
		}
		switch {
		case ra > limit && limit >= d:
			d = limit
			note = fmt.Sprintf("Retry-After %s clamped to %s", duration.Format(ra), duration.Format(limit))
		case ra > limit:
			note = fmt.Sprintf("Retry-After %s clamped to %s; backoff is later", duration.Format(ra), duration.Format(limit))
		case ra >= d:
			d = ra
			note = fmt.Sprintf("Retry-After %s honoured", duration.Format(ra))
		default:
			note = fmt.Sprintf("Retry-After %s; backoff is later", duration.Format(ra))
		}
	}
	next := now.Add(d)
	reason := fmt.Sprintf("%s, retry %d/%d in %s at %s", what, step+1, total, duration.Format(d), clock(now, next))
	if note != "" {
		reason += " (" + note + ")"
	}
	return Verdict{Outcome: Retry, NextAttemptAt: next, Step: step + 1, Reason: reason}
}

// jittered spreads d uniformly over [d(1-j), d(1+j)).
func jittered(d time.Duration, j float64, rnd func() float64) time.Duration {
	if j <= 0 || d <= 0 {
		return d
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	x := rnd()
	if !(x >= 0 && x < 1) {
		x = 0.5 // a broken source must not produce negative or huge waits
	}
	return time.Duration(float64(d) * (1 + j*(2*x-1)))
}

// clock prints t as a time of day, with the date when it is not today.
func clock(now, t time.Time) string {
	t = t.In(now.Location())
	y1, m1, d1 := now.Date()
	y2, m2, d2 := t.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}

func errText(r Result) string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return string(r.ErrorClass)
}

// snippet is ": <first line of the body>" (at most 120 characters,
// printable only), or "" when there is nothing readable.
func snippet(r Result) string {
	if len(r.Body) == 0 {
		return ""
	}
	text := string(r.Body)
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		text = text[:i]
	}
	var b strings.Builder
	n := 0
	for _, c := range text {
		if n == 120 {
			b.WriteString("…")
			break
		}
		if c == utf8.RuneError || !unicode.IsPrint(c) {
			c = ' '
		}
		b.WriteRune(c)
		n++
	}
	out := strings.TrimSpace(b.String())
	if out == "" {
		return ""
	}
	return ": " + out
}
