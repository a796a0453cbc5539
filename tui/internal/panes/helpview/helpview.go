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
	c     *ui.Common
	vp    viewport.Model
	extra []keys.Section // sections that are not keys: the palette's commands
	// query narrows the help to lines containing it; typing after "/".
	query     string
	searching bool
}

// maxQuery bounds the help search.
const maxQuery = 64

// SetExtra adds sections after the keymap's (the palette's commands).
func (m *Model) SetExtra(secs []keys.Section) {
	m.extra = secs
	m.Refresh()
}

// sections are the keymap's and the extra ones, narrowed to the query.
func (m *Model) sections() []keys.Section {
	all := append(m.c.Keys.Sections(), m.extra...)
	if m.query == "" {
		return all
	}
	q := strings.ToLower(m.query)
	var out []keys.Section
	for _, sec := range all {
		keep := keys.Section{Title: sec.Title}
		title := strings.Contains(strings.ToLower(sec.Title), q)
		for _, b := range sec.Bindings {
			h := b.Help()
			if title || strings.Contains(strings.ToLower(h.Key+" "+h.Desc+" "+b.Denied), q) {
				keep.Bindings = append(keep.Bindings, b)
			}
		}
		if len(keep.Bindings) > 0 {
			out = append(out, keep)
		}
	}
	return out
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
	secs := m.sections()
	if len(secs) == 0 {
		m.vp.SetContent(m.c.Styles.Dim.Render("nothing matches /" + m.query + " (esc clears)"))
		return
	}
	m.vp.SetContent(Render(m.c.Styles, secs, w))
}

// Refresh re-renders after a style change.
func (m *Model) Refresh() { m.SetSize(m.vp.Width, m.vp.Height) }

// Title is the border title.
func (m *Model) Title() string {
	t := "Help · " + m.c.Role.String() + " keys"
	if m.searching || m.query != "" {
		t += " · /" + m.query
		if m.searching {
			t += "▏"
		}
	}
	return t
}

// Info is the bottom-border note.
func (m *Model) Info() string { return "/ search · esc or ? to close · ↑/↓ scroll" }

// Update scrolls, and closes on esc, ? or q.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		if m.searching {
			m.searchKey(k)
			return nil
		}
		switch {
		case k.String() == "/":
			m.searching = true
			return nil
		case m.query != "" && m.c.Keys.Nav.Back.Is(k):
			m.query = ""
			m.Refresh()
			return nil
		}
		if m.c.Keys.Nav.Back.Is(k) || m.c.Keys.Global.Help.Is(k) || m.c.Keys.Global.Quit.Is(k) && k.String() == "q" {
			return ui.Close
		}
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	return nil
}

// searchKey edits the query: esc clears it, enter keeps it.
func (m *Model) searchKey(k tea.KeyMsg) {
	switch k.Type {
	case tea.KeyEsc:
		m.searching, m.query = false, ""
	case tea.KeyEnter:
		m.searching = false
	case tea.KeyBackspace:
		if r := []rune(m.query); len(r) > 0 {
			m.query = string(r[:len(r)-1])
		}
	case tea.KeyRunes, tea.KeySpace:
		if len(m.query)+len(string(k.Runes)) <= maxQuery {
			m.query += string(k.Runes)
		}
	default:
		return
	}
	m.vp.GotoTop()
	m.Refresh()
}

// Searching reports whether keys go to the help search.
func (m *Model) Searching() bool { return m.searching }

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
