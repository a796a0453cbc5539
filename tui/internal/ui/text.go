package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Fit truncates s (which may hold ANSI styling) to width cells, marking the
// cut with "…", and pads it with spaces to exactly width cells.
func Fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := Width(s)
	if w > width {
		s = ansi.Truncate(s, width, "…")
		w = Width(s)
	}
	if w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// FitLeft is Fit for right-aligned columns.
func FitLeft(s string, width int) string {
	if width <= 0 {
		return ""
	}
	w := Width(s)
	if w > width {
		return ansi.Truncate(s, width, "…")
	}
	return strings.Repeat(" ", width-w) + s
}

// Trunc cuts s to at most width cells without padding.
func Trunc(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if Width(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

// Lines fits each line of s to width and returns exactly height lines,
// padding with blank ones.
func Lines(s string, width, height int) []string {
	var in []string
	if s != "" {
		in = strings.Split(s, "\n")
	}
	out := make([]string, height)
	for i := range out {
		if i < len(in) {
			out[i] = Fit(in[i], width)
		} else {
			out[i] = strings.Repeat(" ", max(width, 0))
		}
	}
	return out
}

// Wrap wraps plain text to width, keeping words whole where it can.
func Wrap(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, width, " -/"), "\n")
}

// WrapIndent wraps a line to width, indenting continuation lines like
// the first one so wrapped JSON and explanations stay readable.
func WrapIndent(s string, width int) []string {
	ind := len(s) - len(strings.TrimLeft(s, " "))
	if ind == 0 || ind > width/2 {
		return Wrap(s, width)
	}
	lines := Wrap(s[ind:], width-ind)
	pad := strings.Repeat(" ", ind)
	for i := range lines {
		lines[i] = pad + lines[i]
	}
	return lines
}

// Ago says how long ago t was, in the largest whole unit: "5s ago".
func Ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < time.Second {
		return "just now"
	}
	return Short(d) + " ago"
}

// Until says how long until t: "in 12s", or "now" when due.
func Until(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := t.Sub(now)
	if d <= 0 {
		return "due now"
	}
	return "in " + Short(d)
}

// Short renders a duration in its largest unit: 45s, 3m, 2h, 4d.
func Short(d time.Duration) string {
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
}

// Latency renders a delivery latency compactly: 850µs, 42ms, 1.2s.
func Latency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.Itoa(int(d/time.Microsecond)) + "µs"
	case d < time.Second:
		return strconv.Itoa(int(d/time.Millisecond)) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	default:
		return Short(d)
	}
}

// Rate renders a per-second rate with sensible precision.
func Rate(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.1fk", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

// Count renders n with thousands separators.
func Count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + Count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ShortID shortens a long identifier for tables: the first 12 characters.
func ShortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:11] + "…"
}
