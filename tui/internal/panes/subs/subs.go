// Package subs is the pane listing every subscription with its health:
// state (glyph and word), delivery counts, the last answer and the next
// retry.
package subs

import (
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Model is the subscriptions pane.
type Model struct {
	c             *ui.Common
	subs          []api.SubscriptionInfo
	cursorName    string
	scroll        ui.Scroll
	width, height int
	focused       bool
	order         sorting.Order // chosen column, none = the engine's order
}

// New returns an empty subscriptions pane.
func New(c *ui.Common) *Model { return &Model{c: c} }

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h; m.sync() }

// SetFocused marks the pane as having the keyboard.
func (m *Model) SetFocused(f bool) { m.focused = f }

// Len is the number of subscriptions.
func (m *Model) Len() int { return len(m.subs) }

// Get returns the named subscription.
func (m *Model) Get(name string) (api.SubscriptionInfo, bool) {
	for _, s := range m.subs {
		if s.Name == name {
			return s, true
		}
	}
	return api.SubscriptionInfo{}, false
}

// Selected is the name under the cursor, "" when there is none.
func (m *Model) Selected() string {
	if len(m.subs) == 0 {
		return ""
	}
	return m.subs[m.scroll.Cursor].Name
}

// Selection is the subscription under the cursor.
func (m *Model) Selection() ui.Selection { return ui.Selection{Subscription: m.Selected()} }

// SetSubs replaces the list (from a poll), keeping the cursor on its
// subscription.
func (m *Model) SetSubs(subs []api.SubscriptionInfo) {
	m.subs = subs
	m.sortSubs()
	m.sync()
}

// Apply folds subscription updates from a batch of engine events.
func (m *Model) Apply(events []api.Event) {
	for i := range events {
		s := events[i].Subscription
		if events[i].Kind != api.SubscriptionUpdated || s == nil {
			continue
		}
		found := false
		for j := range m.subs {
			if m.subs[j].Name == s.Name {
				m.subs[j] = *s
				found = true
				break
			}
		}
		if !found {
			m.subs = append(m.subs, *s)
		}
	}
	m.sortSubs()
	m.sync()
}

func (m *Model) sync() {
	for i, s := range m.subs {
		if s.Name == m.cursorName {
			m.scroll.Cursor = i
		}
	}
	m.scroll.Clamp(len(m.subs), m.bodyRows())
	m.cursorName = m.Selected()
}

func (m *Model) bodyRows() int { return max(m.height-1, 1) }

// Update handles keys (when focused) and data.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ui.StatsMsg:
		m.SetSubs(msg.Subs)
	case tea.KeyMsg:
		if m.sortKey(msg) {
			return nil
		}
		if m.c.Keys.Nav.Open.Is(msg) && m.Selected() != "" {
			name := m.Selected()
			return func() tea.Msg { return ui.ScopeMsg{Subscription: name, Focus: true} }
		}
		if m.scroll.Key(msg, m.c.Keys.Nav, len(m.subs), m.bodyRows()) {
			m.cursorName = m.Selected()
		}
	}
	return nil
}

// Title is the pane's border title.
func (m *Model) Title() string {
	bad := 0
	for _, s := range m.subs {
		if s.Disabled || s.Paused || s.Counts[api.Failed] > 0 {
			bad++
		}
	}
	t := "Subscriptions · " + ui.Count(len(m.subs))
	if bad > 0 {
		t += " · " + ui.Count(bad) + " need attention"
	}
	if l := m.order.Label(); l != "" {
		t += " · sorted by " + strings.Replace(strings.Replace(l, "kind", "integration", 1), "title", "name", 1)
	}
	return t
}

// Info is the bottom-border note.
func (m *Model) Info() string {
	if len(m.subs) == 0 {
		return ""
	}
	s := m.subs[m.scroll.Cursor]
	if s.PolicyNote != "" {
		return s.PolicyNote
	}
	return s.IntegrationName
}

type col struct {
	title string
	width int
	right bool
	cell  func(s *api.SubscriptionInfo) string
}

// columns chooses what fits: state, name and counts always; the rest in
// order of use while width remains; the note takes what is left.
func (m *Model) columns() []col {
	now := m.c.Now()
	must := []col{
		{"state", 21, false, func(s *api.SubscriptionInfo) string { return m.c.Styles.SubStatus(*s).String() }},
		{"subscription", 16, false, func(s *api.SubscriptionInfo) string { return s.Name }},
		{"✓ sent", 7, true, func(s *api.SubscriptionInfo) string { return ui.Count(s.Counts[api.Delivered]) }},
		{"✗ fail", 6, true, func(s *api.SubscriptionInfo) string { return ui.Count(s.Counts[api.Failed]) }},
		{"◌ queue", 7, true, func(s *api.SubscriptionInfo) string {
			return ui.Count(s.Counts[api.Pending] + max(s.Counts[api.InFlight], s.InFlight))
		}},
	}
	optional := []col{
		{"last answer", 14, false, func(s *api.SubscriptionInfo) string {
			if s.LastAttemptAt.IsZero() {
				return "-"
			}
			code := "err"
			if s.LastStatus > 0 {
				code = strconv.Itoa(s.LastStatus)
			}
			return code + " · " + ui.Ago(now, s.LastAttemptAt)
		}},
		{"next retry", 10, false, func(s *api.SubscriptionInfo) string {
			if s.NextRetryAt.IsZero() {
				return "-"
			}
			return ui.Until(now, s.NextRetryAt)
		}},
	}
	integration := col{"integration", 16, false, func(s *api.SubscriptionInfo) string { return s.IntegrationName }}
	used := 2
	for _, c := range must {
		used += c.width + 1
	}
	cols := must
	for _, c := range optional {
		if used+c.width+1 > m.width {
			break
		}
		cols = append(cols, c)
		used += c.width + 1
	}
	// The note says why (paused by whom, the last error): it comes before
	// the integration's name, which only shows when the note keeps 24 cells.
	if m.width-used >= integration.width+1+24 {
		cols = append(cols, integration)
		used += integration.width + 1
	}
	if rest := m.width - used; rest >= 12 {
		cols = append(cols, col{"note", rest, false, note})
	}
	return cols
}

func note(s *api.SubscriptionInfo) string {
	switch {
	case s.Paused && s.UpdatedBy != "":
		return s.Reason + " (" + s.UpdatedBy + ")"
	case s.Paused || s.Disabled:
		return s.Reason
	case s.LastError != "":
		return s.LastError
	}
	return ""
}

// View renders a header line and one row per subscription.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	st := m.c.Styles
	if len(m.subs) == 0 {
		return st.Dim.Render(ui.Fit("  no subscriptions configured", m.width))
	}
	cols := m.columns()
	var b strings.Builder
	hdr := "  "
	for i, c := range cols {
		if i > 0 {
			hdr += " "
		}
		if c.right {
			hdr += ui.FitLeft(c.title, c.width)
		} else {
			hdr += ui.Fit(c.title, c.width)
		}
	}
	b.WriteString(st.Dim.Render(ui.Fit(hdr, m.width)))
	end := min(m.scroll.Offset+m.bodyRows(), len(m.subs))
	for i := m.scroll.Offset; i < end; i++ {
		s := &m.subs[i]
		b.WriteByte('\n')
		selected := i == m.scroll.Cursor
		var line strings.Builder
		if selected {
			line.WriteString("› ")
		} else {
			line.WriteString("  ")
		}
		for j, c := range cols {
			if j > 0 {
				line.WriteByte(' ')
			}
			v := c.cell(s)
			if c.right {
				v = ui.FitLeft(v, c.width)
			} else {
				v = ui.Fit(v, c.width)
			}
			if j == 0 && !(selected && m.focused) {
				v = st.SubStatus(*s).Style.Render(v)
			}
			line.WriteString(v)
		}
		out := ui.Fit(line.String(), m.width)
		if selected && m.focused {
			out = st.Selected.Render(out)
		}
		b.WriteString(out)
	}
	return b.String()
}
