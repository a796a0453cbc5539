package events

import (
	"strconv"
	"strings"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// columns are the cell widths of a row; zero hides a column. Member and
// project/environment get the width their longest value needs (up to
// maxInfoW) before the title takes the rest; narrow panes squeeze them,
// then drop where, then member, before squeezing the title below titleMin.
type columns struct {
	time, kind, status, title, member, where int
}

const (
	titleMin = 24 // the title keeps this much before member and where shrink
	maxInfoW = 32 // member and where never take more
	minMemW  = 8
	minWhere = 6
)

const (
	markerW = 2 // "› "
	timeW   = 8 // 15:04:05
	kindW   = 11
	statusW = 3
)

// layoutColumns sizes the columns for a pane w wide whose longest member
// and project/environment are memNeed and whereNeed cells.
func layoutColumns(w, memNeed, whereNeed int) columns {
	c := columns{time: timeW, kind: kindW, status: statusW}
	rest := w - markerW - timeW - 1 - kindW - 1 - statusW - 1
	mem := min(max(memNeed, minMemW), maxInfoW)
	wh := min(max(whereNeed, minWhere), maxInfoW)
	switch {
	case rest >= titleMin+mem+wh+2:
		c.member, c.where = mem, wh
	case rest >= 52:
		// Both shown, shrunk in proportion to what they need.
		avail := rest - titleMin - 2
		c.member = max(min(mem, avail*mem/(mem+wh)), minMemW)
		c.where = max(min(wh, avail-c.member), minWhere)
	case rest >= 36:
		c.member = min(mem, 16)
	}
	if c.member > 0 {
		rest -= c.member + 1
	}
	if c.where > 0 {
		rest -= c.where + 1
	}
	c.title = max(rest, 0)
	return c
}

// status summarises an entry's deliveries in three cells: failures win,
// then work in progress, then success.
func (m *Model) status(e *api.EntryView, plain bool) string {
	failed, busy, done := 0, 0, 0
	for _, d := range e.Decisions {
		switch d.State {
		case api.Failed:
			failed++
		case api.Pending, api.InFlight:
			busy++
		case api.Delivered:
			done++
		}
	}
	s := m.c.Styles
	var text string
	style := s.Muted
	switch {
	case failed > 0:
		text, style = "✗"+strconv.Itoa(min(failed, 9)), s.Fail
	case busy > 0:
		text, style = "⟳", s.Warn
	case done > 0:
		text, style = "✓", s.Ok
	default:
		text = "·"
	}
	text = ui.Fit(text, statusW)
	if plain {
		return text
	}
	return style.Render(text)
}

// cells renders the row's columns; styled colors only when plain is false.
func (m *Model) cells(b *strings.Builder, e *api.EntryView, plain bool) {
	s := m.c.Styles
	c := m.cols
	ts := e.ReceivedAt
	if ts.IsZero() {
		ts = e.Date
	}
	tm := ts.Format("15:04:05")
	kind := ui.Fit(e.Kind, c.kind)
	if plain {
		b.WriteString(tm)
		b.WriteByte(' ')
		b.WriteString(kind)
	} else {
		b.WriteString(s.Dim.Render(tm))
		b.WriteByte(' ')
		b.WriteString(s.Accent.Render(kind))
	}
	b.WriteByte(' ')
	b.WriteString(m.status(e, plain))
	b.WriteByte(' ')
	b.WriteString(ui.Fit(e.Title, c.title))
	if c.member > 0 {
		b.WriteByte(' ')
		mem := ui.Fit(e.Member, c.member)
		if !plain {
			mem = s.Dim.Render(mem)
		}
		b.WriteString(mem)
	}
	if c.where > 0 {
		b.WriteByte(' ')
		b.WriteString(ui.Fit(ui.Where(e), c.where))
	}
}

func (m *Model) renderRow(e *api.EntryView) string {
	var b strings.Builder
	b.Grow(m.width + 48)
	b.WriteString("  ")
	m.cells(&b, e, m.query != nil)
	line := ui.Fit(b.String(), m.width)
	if m.query != nil {
		// Filtered rows are drawn plain with the filter's matches marked,
		// so the marks are not lost inside other styles.
		return ui.Highlight(line, m.query.Terms(), m.c.Styles.Match)
	}
	return line
}

// renderSelected draws the cursor row: a "›" marker (visible without
// color) and, when focused, reverse video over plain cells.
func (m *Model) renderSelected(e *api.EntryView) string {
	var b strings.Builder
	b.Grow(m.width + 16)
	b.WriteString("› ")
	m.cells(&b, e, true)
	line := ui.Fit(b.String(), m.width)
	if m.focused {
		return m.c.Styles.Selected.Render(line)
	}
	return m.c.Styles.Bold.Render(line)
}
