package duration

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0":          0,
		"0s":         0,
		"300ms":      300 * time.Millisecond,
		"412µs":      412 * time.Microsecond,
		"412us":      412 * time.Microsecond,
		"30s":        30 * time.Second,
		" 5m ":       5 * time.Minute,
		"1h30m":      90 * time.Minute,
		"1.5h":       90 * time.Minute,
		".5s":        500 * time.Millisecond,
		"7d":         7 * Day,
		"1d12h":      36 * time.Hour,
		"1.5d":       36 * time.Hour,
		"2h1d":       26 * time.Hour,
		"1d3h42m35s": 99755 * time.Second,
		"106751d":    106751 * Day,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "expected a duration such as 30s, 5m, 24h or 7d, got nothing",
		"10":                    `expected a duration with a unit such as 30s, 5m or 7d, got "10"`,
		"1.5":                   `with a unit`,
		"-5s":                   `got "-5s": durations are not negative`,
		"+5s":                   `got "+5s"`,
		"5 minutes":             `expected a duration such as 30s, 5m, 24h or 7d, got "5 minutes"`,
		"5w":                    `got "5w"`,
		"d":                     `got "d"`,
		"1..5h":                 `got "1..5h"`,
		"1.5.5h":                `got "1.5.5h"`,
		"h5":                    `got "h5"`,
		"5h 30m":                `got "5h 30m"`,
		"106752d":               `"106752d" is too long`,
		"99999999999999999999s": `is too long`,
		"2000000h2000000h":      `is too long`,
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", in, err, want)
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q): %v does not wrap ErrSyntax", in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 412 * time.Microsecond: "412µs", 250 * time.Millisecond: "250ms", 5 * time.Second: "5s",
		120 * time.Second: "2m", 90 * time.Minute: "1h30m", 99755 * time.Second: "1d3h42m35s",
		-5 * time.Second: "-5s", 1500 * time.Millisecond: "2s", 7 * Day: "7d",
	} {
		if got := Format(d); got != want {
			t.Errorf("Format(%s) = %q, want %q", d, got, want)
		}
	}
	// The extremes print without overflowing.
	for _, d := range []time.Duration{math.MaxInt64, math.MinInt64} {
		if got := Format(d); !strings.Contains(got, "106751d") {
			t.Errorf("Format(%d) = %q", int64(d), got)
		}
	}
}

// FuzzParse: Parse never panics, never returns a negative duration, and
// what Format prints of it parses back to the same value at Format's
// precision.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "30s", "1h30m", "1.5h", "7d", "1d3h42m35s", "412µs", "-5s", "10", "106751d", "1..5h", ".5d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := Parse(in)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("Parse(%q) = %s, negative", in, d)
		}
		back, err := Parse(Format(d))
		if err != nil {
			t.Fatalf("Parse(Format(%s)) = %q: %v", d, Format(d), err)
		}
		precision := time.Second
		switch {
		case d < time.Millisecond:
			precision = time.Microsecond
		case d < time.Second:
			precision = time.Millisecond
		}
		if diff := back - d; diff > precision/2 || diff < -precision/2 {
			t.Fatalf("Parse(%q) = %s; Format gives %q, which parses to %s", in, d, Format(d), back)
		}
	})
}
