package ui

import "strings"

// borderGlyphs returns the box-drawing set for a pane. Focus reads from the
// line weight (thick vs thin), so it still shows without color.
func borderGlyphs(focused bool) [6]string {
	if focused {
		return [6]string{"┏", "━", "┓", "┃", "┗", "┛"}
	}
	return [6]string{"┌", "─", "┐", "│", "└", "┘"}
}

// Frame draws body inside a box exactly w×h cells, with title embedded in
// the top border and info right-aligned in the bottom border. Body lines
// are fitted to w-2 cells; missing lines are blank.
func (s *Styles) Frame(title, info string, focused bool, w, h int, body []string) string {
	if w < 4 || h < 2 {
		return ""
	}
	g, bs, ts := borderGlyphs(focused), s.Border, s.Title
	if focused {
		bs, ts = s.BorderFocused, s.TitleFocused
	}
	inner := w - 2
	var b strings.Builder
	b.Grow((w + 8) * h)

	// Top: ┏━ title ━━━┓
	title = Trunc(title, inner-3)
	fill := inner - 3 - Width(title)
	b.WriteString(bs.Render(g[0] + g[1] + " "))
	b.WriteString(ts.Render(title))
	b.WriteString(bs.Render(" " + strings.Repeat(g[1], max(fill, 0)) + g[2]))
	b.WriteByte('\n')

	side := bs.Render(g[3])
	blank := strings.Repeat(" ", inner)
	for i := 0; i < h-2; i++ {
		b.WriteString(side)
		if i < len(body) {
			b.WriteString(Fit(body[i], inner))
		} else {
			b.WriteString(blank)
		}
		b.WriteString(side)
		b.WriteByte('\n')
	}

	// Bottom: ┗━━━ info ━┛
	if info != "" {
		info = " " + Trunc(info, inner-4) + " "
	}
	fill = inner - Width(info) - 1
	b.WriteString(bs.Render(g[4] + strings.Repeat(g[1], max(fill, 0))))
	if info != "" {
		b.WriteString(s.Dim.Render(info))
	}
	b.WriteString(bs.Render(g[1] + g[5]))
	return b.String()
}
