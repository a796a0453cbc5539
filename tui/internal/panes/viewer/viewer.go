// Package viewer is the full-screen reader for long content (an entry's
// JSON, a delivery's request): line numbers, scrolling, and "/" search
// with n/N to move between matches, which are highlighted.
package viewer

import (
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// MaxLines bounds what the viewer holds.
const MaxLines = 200_000

// maxQuery bounds the search text.
const maxQuery = 128

// Model is the viewer.
type Model struct {
	c     *ui.Common
	title string
	lines []string

	top           int // first line shown
	cur           int // line of the current match, -1 when none
	width, height int

	searching bool
	query     string
	matches   []int // lines containing query (lower-cased compare)
	note      string
}

// New returns an empty viewer.
func New(c *ui.Common) *Model { return &Model{c: c, cur: -1} }

// Open shows text under title, from the top.
func (m *Model) Open(title, text string) {
	m.title = title
	m.lines = strings.Split(strings.ReplaceAll(text, "\t", "    "), "\n")
	m.note = ""
	if len(m.lines) > MaxLines {
		m.lines = m.lines[:MaxLines]
		m.note = "first " + ui.Count(MaxLines) + " lines"
	}
	m.top, m.cur = 0, -1
	m.searching, m.query, m.matches = false, "", nil
}

// Text is the content as opened (cut to MaxLines), for the pager.
func (m *Model) Text() string { return strings.Join(m.lines, "\n") }

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.clamp()
}

// Searching reports whether keys go to the search text.
func (m *Model) Searching() bool { return m.searching }

// Title is the border title.
func (m *Model) Title() string {
	t := m.title
	if m.searching || m.query != "" {
		t += " · /" + m.query
		if m.searching {
			t += "▏"
		}
	}
	return t
}

// Info is the bottom-border note: position and matches.
func (m *Model) Info() string {
	var b strings.Builder
	b.WriteString("line " + strconv.Itoa(min(m.top+1, len(m.lines))) + " of " + ui.Count(len(m.lines)))
	if m.query != "" {
		if len(m.matches) == 0 {
			b.WriteString(" · no match")
		} else {
			b.WriteString(" · match " + strconv.Itoa(m.matchIndex()+1) + " of " + ui.Count(len(m.matches)) + " (n/N)")
		}
	}
	if m.note != "" {
		b.WriteString(" · " + m.note)
	}
	b.WriteString(" · / search · esc back")
	return b.String()
}

func (m *Model) matchIndex() int {
	for i, l := range m.matches {
		if l == m.cur {
			return i
		}
	}
	return 0
}

// Update handles keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	if m.searching {
		m.searchKey(k)
		return nil
	}
	nav := m.c.Keys.Nav
	h := max(m.height, 1)
	switch {
	case k.String() == "/":
		m.searching, m.query = true, ""
		m.find()
		return nil
	case k.String() == "n":
		m.step(+1)
		return nil
	case k.String() == "N":
		m.step(-1)
		return nil
	case nav.Back.Is(k):
		if m.query != "" {
			m.query, m.matches, m.cur = "", nil, -1
			return nil
		}
		return ui.Close
	case nav.Up.Is(k):
		m.top--
	case nav.Down.Is(k):
		m.top++
	case nav.PageUp.Is(k):
		m.top -= max(h-1, 1)
	case nav.PageDown.Is(k):
		m.top += max(h-1, 1)
	case nav.Top.Is(k):
		m.top = 0
	case nav.Bottom.Is(k):
		m.top = len(m.lines)
	}
	m.clamp()
	return nil
}

// searchKey edits the query; each change jumps to the first match at or
// after the top line (incremental search). Enter keeps it, esc drops it.
func (m *Model) searchKey(k tea.KeyMsg) {
	switch k.Type {
	case tea.KeyEsc:
		m.searching, m.query, m.matches, m.cur = false, "", nil, -1
		return
	case tea.KeyEnter:
		m.searching = false
		return
	case tea.KeyBackspace:
		if r := []rune(m.query); len(r) > 0 {
			m.query = string(r[:len(r)-1])
		}
	case tea.KeyRunes, tea.KeySpace:
		if len(m.query)+len(string(k.Runes)) > maxQuery {
			return
		}
		m.query += string(k.Runes)
	default:
		return
	}
	m.find()
}

// find recomputes the matches and moves to the first at or after top.
func (m *Model) find() {
	m.matches, m.cur = m.matches[:0], -1
	if m.query == "" {
		return
	}
	q := strings.ToLower(m.query)
	for i, l := range m.lines {
		if strings.Contains(strings.ToLower(l), q) {
			m.matches = append(m.matches, i)
		}
	}
	for _, l := range m.matches {
		if l >= m.top {
			m.show(l)
			return
		}
	}
	if len(m.matches) > 0 {
		m.show(m.matches[0])
	}
}

// step moves to the next (dir 1) or previous match, wrapping.
func (m *Model) step(dir int) {
	if len(m.matches) == 0 {
		return
	}
	i := m.matchIndex()
	if m.cur < 0 {
		i = -dir
		if dir < 0 {
			i = 0
		}
	}
	i = (i + dir + len(m.matches)) % len(m.matches)
	m.show(m.matches[i])
}

// show makes line l the current match, a third down the screen.
func (m *Model) show(l int) {
	m.cur = l
	if l < m.top || l >= m.top+max(m.height, 1) {
		m.top = l - max(m.height, 1)/3
	}
	m.clamp()
}

func (m *Model) clamp() {
	m.top = max(min(m.top, len(m.lines)-max(m.height, 1)), 0)
}

// View renders the visible lines with numbers; matches highlighted, the
// current match's line marked.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	s := m.c.Styles
	numW := len(strconv.Itoa(len(m.lines)))
	textW := max(m.width-numW-3, 1)
	q := strings.ToLower(m.query)
	end := min(m.top+m.height, len(m.lines))
	var b strings.Builder
	for i := m.top; i < end; i++ {
		if i > m.top {
			b.WriteByte('\n')
		}
		mark := " "
		if i == m.cur {
			mark = "›"
		}
		num := strconv.Itoa(i + 1)
		b.WriteString(s.Dim.Render(strings.Repeat(" ", numW-len(num)) + num + " │"))
		b.WriteString(mark)
		line := ui.Fit(m.lines[i], textW)
		if q != "" {
			line = highlight(line, q, s.Match)
		}
		b.WriteString(line)
	}
	return b.String()
}

// highlight renders occurrences of q (lower-case) in line with st.
func highlight(line, q string, st ui.Style) string {
	lower := strings.ToLower(line)
	if len(lower) != len(line) {
		return line
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, q)
		if i < 0 {
			b.WriteString(line)
			return b.String()
		}
		b.WriteString(line[:i])
		b.WriteString(st.Render(line[i : i+len(q)]))
		line, lower = line[i+len(q):], lower[i+len(q):]
	}
}
