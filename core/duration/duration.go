// Package duration is the one way auditrelay reads and writes a length of
// time: Go's syntax (300ms, 30s, 1h30m, 1.5h) plus d for a day of 24 hours
// (7d, 1d12h), the unit retention and backoff are naturally thought in.
//
// Parse reads every duration of the configuration (settings, the retry
// schedule, flags and AUDITRELAY_* variables alike); Format prints
// durations in the same grammar for reasons, errors and logs, so what the
// relay prints can be pasted back into a config file.
//
// Negative durations are refused: every duration auditrelay takes is a
// length, and "-5m" in a config file is a typo, not a wish.
package duration

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Day is the d unit: 24 hours, whatever the calendar says.
const Day = 24 * time.Hour

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("invalid duration")

// Parse reads a duration such as 30s, 1h30m, 1.5h or 7d. A bare 0 is
// zero; any other number needs a unit.
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return 0, parseError("expected a duration such as 30s, 5m, 24h or 7d, got nothing")
	case s == "0":
		return 0, nil
	case s[0] == '-':
		return 0, parseError(fmt.Sprintf("expected a duration such as 30s, 5m, 24h or 7d, got %q: durations are not negative", s))
	}
	if strings.Trim(s, "0123456789.") == "" {
		return 0, parseError(fmt.Sprintf("expected a duration with a unit such as 30s, 5m or 7d, got %q", s))
	}
	bad := parseError(fmt.Sprintf("expected a duration such as 30s, 5m, 24h or 7d, got %q", s))
	var total time.Duration
	for rest := s; rest != ""; {
		// One term: a decimal number and its unit.
		i := strings.IndexFunc(rest, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
		if i <= 0 {
			return 0, bad // no number, or no unit after it
		}
		j := strings.IndexFunc(rest[i:], func(r rune) bool { return r >= '0' && r <= '9' || r == '.' })
		if j < 0 {
			j = len(rest) - i
		}
		num, unit := rest[:i], rest[i:i+j]
		rest = rest[i+j:]
		mult, ok := units[unit]
		if !ok {
			return 0, bad
		}
		whole, frac, _ := strings.Cut(num, ".")
		if whole == "" && frac == "" || strings.Contains(frac, ".") {
			return 0, bad
		}
		n := uint64(0)
		if whole != "" {
			var err error
			if n, err = strconv.ParseUint(whole, 10, 63); err != nil {
				return 0, tooLong(s)
			}
		}
		if n > uint64(math.MaxInt64/mult) {
			return 0, tooLong(s)
		}
		term := time.Duration(n) * mult
		if frac != "" {
			f, _ := strconv.ParseFloat("0."+frac, 64) // digits only: cannot fail
			term += time.Duration(f * float64(mult))
		}
		if term < 0 || total > math.MaxInt64-term {
			return 0, tooLong(s)
		}
		total += term
	}
	return total, nil
}

var units = map[string]time.Duration{
	"ns": time.Nanosecond,
	"us": time.Microsecond, "µs": time.Microsecond, "μs": time.Microsecond,
	"ms": time.Millisecond,
	"s":  time.Second,
	"m":  time.Minute,
	"h":  time.Hour,
	"d":  Day,
}

func tooLong(s string) error {
	return parseError(fmt.Sprintf("%q is too long: at most about 106751d (292 years)", s))
}

// syntaxError keeps the message free of a "invalid duration:" prefix
// while errors.Is still finds ErrSyntax.
type syntaxError struct{ msg string }

func parseError(msg string) error { return &syntaxError{msg: msg} }

func (e *syntaxError) Error() string { return e.msg }
func (e *syntaxError) Unwrap() error { return ErrSyntax }

// Format prints d compactly in Parse's grammar: 412µs, 250ms, 5s, 2m,
// 1h30m, 1d3h42m35s. From a second up it is rounded to the second.
func Format(d time.Duration) string {
	if d < 0 {
		if d == math.MinInt64 {
			d++ // -MinInt64 does not exist; a nanosecond does not show
		}
		return "-" + Format(-d)
	}
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	if d > math.MaxInt64-time.Second/2 {
		d = math.MaxInt64 - time.Second/2 // Round would saturate; same seconds
	}
	d = d.Round(time.Second)
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{Day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}
