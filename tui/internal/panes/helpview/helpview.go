// Package helpview is the "?" screen: every key of every context, read
// from the keymap, with the reason next to keys the role may not use.
package helpview

import (
	"strings"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Model is the help screen.
type Model struct {
	c  *ui.Common
	vp viewport.Model
}

// New returns the help screen.
func New(c *ui.Common) *Model {
	vp := viewport.New(0, 0)
	vp.Style = c.Styles.Plain.Style
	return &Model{c: c, vp: vp}
}

// SetSize sets the body size and lays the sections out in as many
// columns as fit.
func (m *Model) SetSize(w, h int) {
	m.vp.Width, m.vp.Height = w, h
	m.vp.SetContent(Render(m.c.Styles, m.c.Keys.Sections(), w))
}

// Refresh re-renders after a style change.
func (m *Model) Refresh() { m.SetSize(m.vp.Width, m.vp.Height) }

// Title is the border title.
func (m *Model) Title() string { return "Help · " + m.c.Role.String() + " keys" }

// Info is the bottom-border note.
func (m *Model) Info() string { return "esc or ? to close · ↑/↓ scroll" }

// Update scrolls, and closes on esc, ? or q.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		if m.c.Keys.Nav.Back.Is(k) || m.c.Keys.Global.Help.Is(k) || m.c.Keys.Global.Quit.Is(k) && k.String() == "q" {
			return ui.Close
		}
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	return nil
}

// View renders the scrolled help.
func (m *Model) View() string { return m.vp.View() }

// Render lays sections out in columns of at least 56 cells.
func Render(s *ui.Styles, sections []keys.Section, width int) string {
	const colW = 56
	ncol := max(min(width/colW, 3), 1)
	blocks := make([][]string, len(sections))
	for i, sec := range sections {
		blocks[i] = block(s, sec, width/ncol-2)
	}
	// Greedy fill: each section goes to the shortest column so far.
	cols := make([][]string, ncol)
	for _, bl := range blocks {
		best := 0
		for c := range cols {
			if len(cols[c]) < len(cols[best]) {
				best = c
			}
		}
		cols[best] = append(cols[best], bl...)
	}
	height := 0
	for _, c := range cols {
		height = max(height, len(c))
	}
	cw := width / ncol
	var b strings.Builder
	for row := 0; row < height; row++ {
		if row > 0 {
			b.WriteByte('\n')
		}
		for c := range cols {
			cell := ""
			if row < len(cols[c]) {
				cell = cols[c][row]
			}
			b.WriteString(ui.Fit(cell, cw))
		}
	}
	return b.String()
}

// block renders a section; descriptions wrap under themselves and a
// denial goes on its own line, so nothing is cut off.
func block(s *ui.Styles, sec keys.Section, w int) []string {
	const keyW = 13
	out := []string{s.Title.Render(sec.Title)}
	indent := strings.Repeat(" ", keyW)
	for _, bd := range sec.Bindings {
		h := bd.Help()
		desc := ui.Wrap(h.Desc, max(w-keyW, 10))
		for i, d := range desc {
			k := indent
			if i == 0 {
				k = ui.Fit(h.Key, keyW-1) + " "
			}
			if bd.Denied != "" {
				out = append(out, s.Dim.Render(k+d))
			} else {
				out = append(out, s.Key.Render(k)+d)
			}
		}
		if bd.Denied != "" {
			for _, d := range ui.Wrap("✗ "+bd.Denied, max(w-keyW, 10)) {
				out = append(out, indent+s.Error.Render(d))
			}
		}
	}
	return append(out, "")
}
