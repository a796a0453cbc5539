// Package search is the full-screen list of entries a filter finds in the
// store: what the live stream no longer holds in memory. It asks the
// engine for one page at a time, newest first, and asks for the next page
// when the cursor nears the end.
package search

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/filter"
	"github.com/auditrelay/auditrelay/tui/internal/panes/events"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

const (
	// PageSize is how many entries one store query asks for.
	PageSize = 200
	// MaxRows bounds what the view holds, however far one scrolls.
	MaxRows = 20_000
)

// Model is the search view.
type Model struct {
	c     *ui.Common
	query *filter.Query
	rows  []api.EntryView

	gen     int // which search a page belongs to
	loading bool
	more    bool   // the store may hold more
	after   [2]any // paging key of the last row the store returned: time, id
	err     error
	took    time.Duration // the last page's query time
	pages   int

	cursor, top   int
	width, height int
	order         sorting.Order
	memNeed       int // widest member loaded, up to maxInfoW
	whereNeed     int // widest project/environment loaded
}

// maxInfoW caps the member and project/environment columns.
const maxInfoW = 32

// New returns an empty search view.
func New(c *ui.Common) *Model { return &Model{c: c} }

// pageMsg is one page of results.
type pageMsg struct {
	gen    int
	rows   []api.EntryView // rows the filter accepts
	more   bool
	lastAt time.Time
	lastID string
	took   time.Duration
	err    error
}

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.clamp()
}

// Query is the filter being searched, nil when none.
func (m *Model) Query() *filter.Query { return m.query }

// Len is how many rows are loaded.
func (m *Model) Len() int { return len(m.rows) }

// Open starts a search for q.
func (m *Model) Open(q *filter.Query) tea.Cmd {
	m.gen++
	m.query, m.rows, m.err = q, nil, nil
	m.cursor, m.top, m.pages = 0, 0, 0
	m.more, m.after = true, [2]any{}
	m.memNeed, m.whereNeed = 0, 0
	m.loading = false
	return m.fetch()
}

func (m *Model) fetch() tea.Cmd {
	if m.loading || !m.more || len(m.rows) >= MaxRows || m.query == nil {
		return nil
	}
	m.loading = true
	q := m.query
	eq := q.StoreQuery(PageSize)
	if at, ok := m.after[0].(time.Time); ok {
		eq.Before, eq.BeforeID = at, m.after[1].(string)
	}
	gen := m.gen
	return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
		start := time.Now()
		rows, err := c.API.Entries(ctx, eq)
		msg := pageMsg{gen: gen, took: time.Since(start), err: err, more: len(rows) == eq.Limit}
		if len(rows) > 0 {
			last := rows[len(rows)-1]
			msg.lastAt, msg.lastID = last.ReceivedAt, last.ID
		}
		// The store applied the positive terms; negated ones are checked
		// here, with the same matcher as the live stream.
		for i := range rows {
			if q.Match(&rows[i]) {
				msg.rows = append(msg.rows, rows[i])
			}
		}
		return msg
	})
}

// Update handles its pages and, when it is the open view, keys.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pageMsg:
		if msg.gen != m.gen {
			return nil
		}
		m.loading = false
		m.took, m.err = msg.took, msg.err
		if msg.err != nil {
			m.more = false
			return ui.ErrorToast("search the store", msg.err)
		}
		m.pages++
		m.more = msg.more
		if !msg.lastAt.IsZero() || msg.lastID != "" {
			m.after = [2]any{msg.lastAt, msg.lastID}
		}
		room := MaxRows - len(m.rows)
		m.rows = append(m.rows, msg.rows[:min(len(msg.rows), room)]...)
		for i := range msg.rows {
			m.memNeed = min(max(m.memNeed, ui.Width(msg.rows[i].Member)), maxInfoW)
			m.whereNeed = min(max(m.whereNeed, ui.Width(ui.Where(&msg.rows[i]))), maxInfoW)
		}
		m.sortRows()
		m.clamp()
		// A page the filter emptied (negations) says nothing about the
		// next: keep reading until the screen is full or the store ends.
		if len(m.rows) < m.cursor+2*max(m.height, 1) {
			return m.fetch()
		}
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys
	h := max(m.height, 1)
	if col, ok := events.SortColumn(k.Sort, msg); ok {
		m.order = m.order.Toggle(col)
		m.sortRows()
		return nil
	}
	switch {
	case k.Nav.Back.Is(msg):
		return ui.Close
	case k.Nav.Open.Is(msg):
		if m.cursor < len(m.rows) {
			id := m.rows[m.cursor].ID
			return func() tea.Msg { return ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: id} }
		}
		return nil
	case k.Nav.Up.Is(msg):
		m.cursor--
	case k.Nav.Down.Is(msg):
		m.cursor++
	case k.Nav.PageUp.Is(msg):
		m.cursor -= max(h-1, 1)
	case k.Nav.PageDown.Is(msg):
		m.cursor += max(h-1, 1)
	case k.Nav.Top.Is(msg):
		m.cursor = 0
	case k.Nav.Bottom.Is(msg):
		m.cursor = len(m.rows) - 1
	default:
		return nil
	}
	m.clamp()
	if m.cursor >= len(m.rows)-h {
		return m.fetch()
	}
	return nil
}

func (m *Model) clamp() {
	n := len(m.rows)
	h := max(m.height, 1)
	m.cursor = max(min(m.cursor, n-1), 0)
	if m.cursor < m.top {
		m.top = m.cursor
	}
	if m.cursor >= m.top+h {
		m.top = m.cursor - h + 1
	}
	m.top = max(min(m.top, n-h), 0)
}

// Selected is the entry under the cursor, nil when none.
func (m *Model) Selected() *api.EntryView {
	if m.cursor < len(m.rows) {
		return &m.rows[m.cursor]
	}
	return nil
}

// Title is the view's border title.
func (m *Model) Title() string {
	t := "Search the store · /" + m.query.String()
	if l := m.order.Label(); l != "" {
		t += " · sorted by " + l + " (loaded rows)"
	}
	return t
}

// sortRows sorts the loaded rows by the chosen column, newest first
// (the store's order) within ties and when none is chosen.
func (m *Model) sortRows() {
	o := m.order
	slices.SortStableFunc(m.rows, func(a, b api.EntryView) int {
		if c := o.Compare(&a, &b); c != 0 {
			return c
		}
		return cmp.Or(b.ReceivedAt.Compare(a.ReceivedAt), strings.Compare(b.ID, a.ID))
	})
}

// Info is the bottom-border note: rows, query time, whether more exist.
func (m *Model) Info() string {
	var b strings.Builder
	b.WriteString(ui.Count(len(m.rows)))
	b.WriteString(" found")
	switch {
	case m.loading:
		b.WriteString(" · searching…")
	case m.more && len(m.rows) < MaxRows:
		b.WriteString(" · more below")
	case len(m.rows) >= MaxRows:
		b.WriteString(" · first " + ui.Count(MaxRows) + " kept: narrow the filter")
	default:
		b.WriteString(" · all")
	}
	if m.pages > 0 {
		b.WriteString(" · last page " + strconv.FormatInt(m.took.Milliseconds(), 10) + " ms")
	}
	return b.String()
}

// View renders the visible rows, matches highlighted.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	s := m.c.Styles
	if len(m.rows) == 0 {
		msg := "searching the store…"
		switch {
		case m.err != nil:
			msg = "search failed: " + m.err.Error()
		case !m.loading:
			msg = "no stored entries match /" + m.query.String() + " (esc goes back)"
		}
		return s.Dim.Render(ui.Fit("  "+msg, m.width))
	}
	terms := m.query.Terms()
	end := min(m.top+m.height, len(m.rows))
	var b strings.Builder
	for i := m.top; i < end; i++ {
		if i > m.top {
			b.WriteByte('\n')
		}
		e := &m.rows[i]
		line := ui.Fit(m.row(e, i == m.cursor), m.width)
		if i == m.cursor {
			b.WriteString(s.Selected.Render(line))
			continue
		}
		b.WriteString(ui.Highlight(line, terms, s.Match))
	}
	return b.String()
}

// row is one result as plain text: when received (with the date, since a
// search spans days), kind, outcome, title, member, project/environment.
func (m *Model) row(e *api.EntryView, selected bool) string {
	var b strings.Builder
	if selected {
		b.WriteString("› ")
	} else {
		b.WriteString("  ")
	}
	ts := e.ReceivedAt
	if ts.IsZero() {
		ts = e.Date
	}
	b.WriteString(ts.Format("2006-01-02 15:04:05"))
	b.WriteByte(' ')
	b.WriteString(ui.Fit(e.Kind, 11))
	b.WriteByte(' ')
	b.WriteString(ui.Fit(outcome(e), 3))
	b.WriteByte(' ')
	rest := m.width - 2 - 19 - 1 - 11 - 1 - 3 - 1 // marker, time, kind, outcome
	// Member and project/environment get what they need before the
	// title grows past 24 cells, as in the events pane.
	memW, whereW := 0, 0
	if rest >= 60 {
		memW, whereW = max(m.memNeed, 6), max(m.whereNeed, 6)
		if over := memW + whereW + 2 + 24 - rest; over > 0 {
			memW -= over / 2
			whereW -= over - over/2
		}
	}
	titleW := rest
	if memW > 0 {
		titleW -= memW + whereW + 2
	}
	b.WriteString(ui.Fit(e.Title, max(titleW, 0)))
	if memW > 0 {
		b.WriteByte(' ')
		b.WriteString(ui.Fit(e.Member, memW))
		b.WriteByte(' ')
		b.WriteString(ui.Fit(ui.Where(e), whereW))
	}
	return b.String()
}

func outcome(e *api.EntryView) string {
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
	switch {
	case failed > 0:
		return "✗" + strconv.Itoa(min(failed, 9))
	case busy > 0:
		return "⟳"
	case done > 0:
		return "✓"
	}
	return "·"
}
