// Package policy is the pane that explains, for the selected entry, each
// subscription's decision: sent or filtered, which statement matched which
// access, or why none did.
package policy

import (
	"context"
	"errors"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Debounce is how long the selection must rest before the full
// explanation is fetched; while the stream is followed at speed the pane
// shows the one-line summaries it already has.
const Debounce = 150 * time.Millisecond

type fetchTick struct{ tag int }

type detailMsg struct {
	tag    int
	detail api.EntryDetail
	err    error
}

// Model is the policy pane.
type Model struct {
	c       *ui.Common
	entry   *api.EntryView
	version uint32
	detail  *api.EntryDetail
	err     error
	tag     int
	waiting bool // a fetch timer is pending

	cursor, offset int
	width, height  int
	focused        bool
}

// New returns an empty policy pane.
func New(c *ui.Common) *Model { return &Model{c: c} }

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h }

// SetFocused marks the pane as having the keyboard.
func (m *Model) SetFocused(f bool) { m.focused = f }

// SetEntry shows e (nil clears). A different entry schedules a debounced
// fetch of its full explanation; a new version of the same entry only
// refreshes the delivery states.
func (m *Model) SetEntry(e *api.EntryView, version uint32) tea.Cmd {
	if e == nil {
		m.entry, m.detail = nil, nil
		return nil
	}
	same := m.entry != nil && m.entry.ID == e.ID
	cp := *e
	cp.Decisions = append([]api.Decision(nil), e.Decisions...)
	m.entry, m.version = &cp, version
	if same {
		return nil
	}
	m.detail, m.err = nil, nil
	m.cursor, m.offset = 0, 0
	m.tag++
	return m.debounce()
}

// debounce starts the fetch timer unless one is pending. A selection that
// moves on before it fires starts it again then, so there is one timer
// however fast the selection moves (a key held down, or thousands sent at
// once over SSH), and the fetch waits until it rests.
func (m *Model) debounce() tea.Cmd {
	if m.waiting {
		return nil
	}
	m.waiting = true
	tag := m.tag
	return m.c.Tick(Debounce, func(time.Time) tea.Msg { return fetchTick{tag} })
}

// Entry is the entry shown, or nil.
func (m *Model) Entry() *api.EntryView { return m.entry }

// Selection is the decision under the cursor.
func (m *Model) Selection() ui.Selection {
	if m.entry == nil || len(m.entry.Decisions) == 0 {
		return ui.Selection{}
	}
	d := m.entry.Decisions[min(m.cursor, len(m.entry.Decisions)-1)]
	sel := ui.Selection{EntryID: m.entry.ID, Subscription: d.Subscription}
	if d.Sent {
		sel.DeliveryID, sel.DeliveryState = d.DeliveryID, d.State
	}
	return sel
}

// Update handles keys (when focused) and data.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case fetchTick:
		m.waiting = false
		if msg.tag != m.tag {
			return m.debounce()
		}
		if m.entry == nil {
			return nil
		}
		id, tag := m.entry.ID, m.tag
		return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
			d, err := c.API.Entry(ctx, id)
			return detailMsg{tag: tag, detail: d, err: err}
		})
	case detailMsg:
		if msg.tag != m.tag {
			return nil
		}
		if msg.err != nil {
			m.err = msg.err
			return nil
		}
		m.detail = &msg.detail
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.entry == nil {
		return nil
	}
	k := m.c.Keys.Nav
	n := len(m.entry.Decisions)
	switch {
	case k.Up.Is(msg):
		m.cursor--
	case k.Down.Is(msg):
		m.cursor++
	case k.Top.Is(msg), k.PageUp.Is(msg):
		m.cursor = 0
	case k.Bottom.Is(msg), k.PageDown.Is(msg):
		m.cursor = n - 1
	case k.Open.Is(msg):
		sel := m.Selection()
		if sel.DeliveryID != "" {
			return func() tea.Msg { return ui.OpenMsg{View: ui.ViewDeliveryDetail, DeliveryID: sel.DeliveryID} }
		}
		return func() tea.Msg { return ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: sel.EntryID} }
	default:
		return nil
	}
	m.cursor = min(max(m.cursor, 0), max(n-1, 0))
	return nil
}

// Title is the pane's border title.
func (m *Model) Title() string {
	if m.entry == nil {
		return "Policy"
	}
	sent := 0
	for _, d := range m.entry.Decisions {
		if d.Sent {
			sent++
		}
	}
	return "Policy · sent to " + ui.Count(sent) + " of " + ui.Count(len(m.entry.Decisions))
}

// Info is the bottom-border note.
func (m *Model) Info() string {
	switch {
	case m.entry == nil:
		return ""
	case m.err != nil && errors.Is(m.err, api.ErrNotFound):
		return "entry no longer stored"
	case m.err != nil:
		return "explanation unavailable"
	case m.detail == nil:
		return "summaries (full explanation when the cursor rests)"
	}
	return "entry " + ui.ShortID(m.entry.ID)
}

type line struct {
	text     string
	decision int // -1 for the entry header
}

func (m *Model) lines() []line {
	s := m.c.Styles
	e := m.entry
	w := m.width
	var out []line
	out = append(out,
		line{s.Bold.Render(ui.Trunc(e.Kind+" · "+e.Title, w)), -1},
		line{s.Dim.Render(ui.Trunc(strings.Join(nonEmpty(e.Member, where(e), e.ID), " · "), w)), -1},
	)
	nameW := 0
	for _, d := range e.Decisions {
		nameW = max(nameW, ui.Width(d.Subscription))
	}
	nameW = min(nameW, max(w/3, 8))
	for i, d := range e.Decisions {
		st := s.DecisionStatus(d)
		marker := "  "
		if i == m.cursor {
			marker = "› "
		}
		head := marker + st.Style.Render(ui.Fit(st.String(), 12)) + " " + s.Bold.Render(ui.Fit(d.Subscription, nameW)) + " "
		summary := d.Summary
		var text, note string
		if m.detail != nil {
			for _, x := range m.detail.Explanation {
				if x.Subscription == d.Subscription {
					text, note = x.Text, x.PolicyNote
					if x.Summary != "" {
						summary = x.Summary
					}
				}
			}
		}
		head += ui.Trunc(summary, max(w-ui.Width(head), 0))
		if i == m.cursor && m.focused {
			head = s.Selected.Render(ui.Fit(ui.Trunc(head, w), w))
		}
		out = append(out, line{head, i})
		for _, tl := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if tl == "" {
				continue
			}
			for _, wl := range ui.Wrap(tl, max(w-4, 8)) {
				out = append(out, line{"    " + s.Dim.Render(wl), i})
			}
		}
		if note != "" {
			out = append(out, line{"    " + s.Warn.Render(ui.Trunc("! "+note, w-4)), i})
		}
	}
	return out
}

// View renders the decisions, scrolled to keep the cursor in view.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.entry == nil {
		return m.c.Styles.Dim.Render("  select an entry to see each policy's decision")
	}
	ls := m.lines()
	first, last := -1, -1
	for i, l := range ls {
		if l.decision == m.cursor {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first >= 0 {
		if first < m.offset {
			m.offset = first
		}
		if last >= m.offset+m.height {
			m.offset = min(first, last-m.height+1)
		}
	}
	m.offset = min(max(m.offset, 0), max(len(ls)-m.height, 0))
	end := min(m.offset+m.height, len(ls))
	var b strings.Builder
	for i := m.offset; i < end; i++ {
		if i > m.offset {
			b.WriteByte('\n')
		}
		b.WriteString(ls[i].text)
	}
	return b.String()
}

func where(e *api.EntryView) string {
	switch {
	case e.Project != "" && e.Environment != "":
		return e.Project + "/" + e.Environment
	case e.Project != "":
		return e.Project
	}
	return e.Environment
}

func nonEmpty(ss ...string) []string {
	out := ss[:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
