// Package spark draws sparklines: one cell per value, eight heights.
package spark

import "strings"

// levels are the eight block heights, lowest first.
const levels = "▁▂▃▄▅▆▇█"

// Render draws the last width values, scaled so the largest fills a cell.
// A zero draws the lowest block and any positive value at least the second
// lowest, so "nothing" and "a little" look different. Fewer values than
// width are right-aligned behind blanks (the newest value is always at the
// right edge); negative values count as zero.
func Render(values []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(values) > width {
		values = values[len(values)-width:]
	}
	peak := 0.0
	for _, v := range values {
		peak = max(peak, v)
	}
	blocks := []rune(levels)
	var b strings.Builder
	b.Grow(width * 3)
	for range width - len(values) {
		b.WriteByte(' ')
	}
	for _, v := range values {
		i := 0
		if v > 0 && peak > 0 {
			// 1..7: positive values never share the zero block.
			i = 1 + int(v/peak*6+0.5)
		}
		b.WriteRune(blocks[min(i, len(blocks)-1)])
	}
	return b.String()
}
