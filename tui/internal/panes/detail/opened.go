package detail

import (
	"strings"

	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Opened is what the view shows: the view and the id it was opened with.
func (m *Model) Opened() ui.OpenMsg { return m.open }

// SetHighlight marks terms (the events filter's) wherever they appear in
// the details; nil marks nothing.
func (m *Model) SetHighlight(terms []string) {
	m.highlight = terms
	m.render()
}

// markMatches marks the highlight terms in plain lines; styled lines are
// left alone, since a term could match inside an escape sequence.
func (m *Model) markMatches(lines []string) {
	if len(m.highlight) == 0 {
		return
	}
	for i, l := range lines {
		if !strings.Contains(l, "\x1b") {
			lines[i] = ui.Highlight(l, m.highlight, m.c.Styles.Match)
		}
	}
}
