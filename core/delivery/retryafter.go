package delivery

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxRetryAfter bounds parsing so absurd values cannot overflow; Decide
// clamps far lower (Schedule.RetryAfterMax).
const maxRetryAfter = 365 * 24 * time.Hour

// ParseRetryAfter reads a Retry-After value: delay-seconds or an HTTP-date
// (RFC 9110 §10.2.3), relative to now. It returns 0 when v is empty,
// invalid, negative or a date not after now.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && allDigits(v) {
				return maxRetryAfter
			}
			return 0
		}
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	if t.After(now.Add(maxRetryAfter)) {
		return maxRetryAfter // also keeps far dates from overflowing below
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	// A date one second ahead is still worth honouring; round up so
	// "never before" holds at second resolution.
	d = time.Duration(math.Ceil(float64(d)/float64(time.Second))) * time.Second
	return min(d, maxRetryAfter)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
