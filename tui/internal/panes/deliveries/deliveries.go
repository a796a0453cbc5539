// Package deliveries is the pane listing the deliveries of the selected
// subscription or entry: state (glyph and word), attempts, last status
// code and latency, and when the next retry is due.
package deliveries

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// Limits of the list.
const (
	// Max is the most deliveries the pane keeps for one scope.
	Max = 500
	// Debounce is how long a scope must rest before it is fetched.
	Debounce = 150 * time.Millisecond
)

// Scope is what the list is for: a subscription or an entry.
type Scope struct {
	Subscription string
	EntryID      string
}

type fetchTick struct{ tag int }

type listMsg struct {
	tag  int
	rows []api.DeliveryView
	err  error
}

// Model is the deliveries pane.
type Model struct {
	c     *ui.Common
	scope Scope
	rows  []api.DeliveryView
	byID  map[string]int
	// live holds what engine events said about deliveries while a fetch
	// was under way (fetching): its answer may be older than them.
	live     map[string]api.DeliveryView
	fetching bool
	retrying map[string]bool // optimistic state until the engine answers
	loaded   bool
	err      error
	tag      int
	waiting  bool // a fetch timer is pending

	order         sorting.Order // chosen column, none = the engine's order
	cursorID      string
	prefer        api.State // the state the cursor lands on in a new entry's list, "" for none
	scroll        ui.Scroll
	width, height int
	focused       bool
}

// New returns an empty deliveries pane.
func New(c *ui.Common) *Model {
	return &Model{c: c, byID: map[string]int{}, live: map[string]api.DeliveryView{}, retrying: map[string]bool{}}
}

// SetSize sets the body size.
func (m *Model) SetSize(w, h int) { m.width, m.height = w, h; m.sync() }

// SetFocused marks the pane as having the keyboard.
func (m *Model) SetFocused(f bool) { m.focused = f }

// Scope returns what the list is for.
func (m *Model) Scope() Scope { return m.scope }

// Rows returns the listed deliveries in the pane's order: most recently
// updated first unless sorted by a column.
func (m *Model) Rows() []api.DeliveryView { return m.rows }

// Retrying reports whether id has a retry under way.
func (m *Model) Retrying(id string) bool { return m.retrying[id] }

// PreferState, when on, puts the cursor on the first delivery in state
// whenever the pane lists a new entry's deliveries (off: the first row).
func (m *Model) PreferState(state api.State, on bool) {
	m.prefer = ""
	if on {
		m.prefer = state
	}
	if m.scope.EntryID != "" {
		m.preferRow()
	}
}

// preferRow moves the cursor to the first row in the preferred state.
func (m *Model) preferRow() {
	if m.prefer == "" {
		return
	}
	for _, r := range m.rows {
		if r.State == m.prefer && r.ID != "" {
			m.cursorID = r.ID
			m.sync()
			return
		}
	}
}

// SetSubscription lists sub's deliveries.
func (m *Model) SetSubscription(sub string) tea.Cmd {
	if m.scope.Subscription == sub && m.scope.EntryID == "" {
		return nil
	}
	m.scope = Scope{Subscription: sub}
	m.rows, m.loaded = nil, false
	m.reindex()
	return m.schedule()
}

// SetEntry lists e's deliveries. Its decisions give provisional rows at
// once; the fetch fills in attempts, status codes and latencies.
func (m *Model) SetEntry(e *api.EntryView) tea.Cmd {
	if e == nil {
		if m.scope.EntryID != "" {
			// The entry list is empty (a filter matches nothing): show nothing.
			m.scope, m.rows = Scope{}, nil
			m.reindex()
			m.sync()
		}
		return nil
	}
	if m.scope.EntryID == e.ID {
		// Same entry, maybe newer states: fold them in, and fetch the
		// attempts, codes and latencies that go with them.
		changed := false
		for _, d := range e.Decisions {
			if i, ok := m.byID[d.DeliveryID]; ok && d.Sent && m.rows[i].State != d.State {
				m.rows[i].State = d.State
				changed = true
			}
		}
		if changed {
			m.arrange()
			m.reindex()
			m.sync()
			return m.refetch()
		}
		return nil
	}
	m.scope = Scope{EntryID: e.ID}
	m.rows, m.loaded = m.rows[:0], false
	for _, d := range e.Decisions {
		st := d.State
		if !d.Sent {
			st = api.Filtered
		}
		m.rows = append(m.rows, api.DeliveryView{
			ID: d.DeliveryID, EntryID: e.ID, Subscription: d.Subscription, State: st, Reason: d.Summary,
			EntryKind: e.Kind, EntryTitle: e.Title, EntryDate: e.Date, UpdatedAt: e.ReceivedAt,
		})
	}
	m.arrange()
	m.reindex()
	cmd := m.schedule()
	m.preferRow()
	return cmd
}

// schedule fetches the list of a new scope, from its top.
func (m *Model) schedule() tea.Cmd {
	m.cursorID = ""
	m.scroll = ui.Scroll{}
	m.sync()
	return m.refetch()
}

// refetch fetches the list again once the scope has rested, superseding
// a fetch still under way.
func (m *Model) refetch() tea.Cmd {
	m.tag++
	m.err = nil
	return m.debounce()
}

// debounce starts the fetch timer unless one is pending. A scope that
// changes again before it fires starts it again then, so there is one
// timer however fast the scope changes (a key held down, or thousands
// sent at once over SSH), and the fetch waits until it rests.
func (m *Model) debounce() tea.Cmd {
	if m.waiting {
		return nil
	}
	m.waiting = true
	tag := m.tag
	return m.c.Tick(Debounce, func(time.Time) tea.Msg { return fetchTick{tag} })
}

// MarkRetrying shows id as "retrying…" until the engine reports on it.
func (m *Model) MarkRetrying(id string) { m.retrying[id] = true }

// Selection is the delivery under the cursor.
func (m *Model) Selection() ui.Selection {
	sel := ui.Selection{Subscription: m.scope.Subscription, EntryID: m.scope.EntryID}
	if len(m.rows) == 0 {
		return sel
	}
	d := m.rows[m.scroll.Cursor]
	sel.Subscription, sel.EntryID = d.Subscription, d.EntryID
	if d.State != api.Filtered && d.ID != "" {
		sel.DeliveryID, sel.DeliveryState, sel.Retrying = d.ID, d.State, m.retrying[d.ID]
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
		q := api.DeliveryQuery{Subscription: m.scope.Subscription, EntryID: m.scope.EntryID, Limit: Max}
		if q.Subscription != "" {
			// A subscription's list is about what was sent; the entries its
			// policy filtered are explained per entry instead.
			q.States = []api.State{api.Pending, api.InFlight, api.Delivered, api.Failed, api.Skipped}
		}
		tag := m.tag
		clear(m.live)
		m.fetching = true
		return m.c.Call(func(ctx context.Context, c *ui.Common) tea.Msg {
			rows, err := c.API.Deliveries(ctx, q)
			return listMsg{tag: tag, rows: rows, err: err}
		})
	case listMsg:
		if msg.tag != m.tag {
			return nil
		}
		m.fetching = false
		defer clear(m.live)
		if msg.err != nil {
			m.err = msg.err
			return nil
		}
		m.rows, m.loaded = m.newerOf(msg.rows), true
		m.arrange()
		m.reindex()
		m.sync()
	case ui.RetryDoneMsg:
		if msg.Err != nil {
			delete(m.retrying, msg.DeliveryID)
		}
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

// Apply folds a batch of engine events into the list.
func (m *Model) Apply(events []api.Event) {
	var fresh []api.DeliveryView
	updated := false
	for i := range events {
		ev := &events[i]
		if ev.Kind != api.DeliveryUpdated || ev.Delivery == nil {
			continue
		}
		d := ev.Delivery
		if m.retrying[d.ID] && (d.State != api.Failed || ev.Attempt != nil) {
			delete(m.retrying, d.ID)
		}
		if !m.inScope(d) {
			continue
		}
		if m.fetching {
			m.live[d.ID] = *d
		}
		if j, ok := m.byID[d.ID]; ok {
			m.rows[j] = *d
			updated = true
			continue
		}
		fresh = append(fresh, *d)
	}
	if len(fresh) == 0 {
		if updated && m.order.Col != sorting.None {
			// A new state, time or code may move the row in the order.
			m.arrange()
			m.reindex()
			m.sync()
		}
		return
	}
	// Newest first, ahead of the rest; the cursor stays on its delivery.
	rows := make([]api.DeliveryView, 0, min(len(fresh)+len(m.rows), Max))
	for i := len(fresh) - 1; i >= 0 && len(rows) < Max; i-- {
		rows = append(rows, fresh[i])
	}
	for _, r := range m.rows {
		if len(rows) == Max {
			break
		}
		rows = append(rows, r)
	}
	m.rows = rows
	m.arrange()
	m.reindex()
	m.sync()
}

// newerOf returns fetched with what engine events reported after the
// fetch was sent put over the rows they are newer than, and the deliveries
// the fetch did not see yet first.
func (m *Model) newerOf(fetched []api.DeliveryView) []api.DeliveryView {
	if len(m.live) == 0 {
		return fetched
	}
	seen := make(map[string]bool, len(m.live))
	for i := range fetched {
		if d, ok := m.live[fetched[i].ID]; ok {
			seen[d.ID] = true
			if !d.UpdatedAt.Before(fetched[i].UpdatedAt) {
				fetched[i] = d
			}
		}
	}
	var unseen []api.DeliveryView
	for id, d := range m.live {
		if !seen[id] {
			unseen = append(unseen, d)
		}
	}
	if len(unseen) == 0 {
		return fetched
	}
	slices.SortFunc(unseen, func(a, b api.DeliveryView) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	rows := append(unseen, fetched...)
	return rows[:min(len(rows), Max)]
}

func (m *Model) inScope(d *api.DeliveryView) bool {
	if m.scope.EntryID != "" {
		return d.EntryID == m.scope.EntryID
	}
	return m.scope.Subscription != "" && d.Subscription == m.scope.Subscription && d.State != api.Filtered
}

func (m *Model) reindex() {
	clear(m.byID)
	for i, r := range m.rows {
		if r.ID != "" {
			m.byID[r.ID] = i
		}
	}
}

// sync puts the cursor back on its delivery after the rows changed.
func (m *Model) sync() {
	if i, ok := m.byID[m.cursorID]; ok && m.cursorID != "" {
		m.scroll.Cursor = i
	}
	m.scroll.Clamp(len(m.rows), m.bodyRows())
	if len(m.rows) > 0 {
		m.cursorID = m.rows[m.scroll.Cursor].ID
	}
}

func (m *Model) bodyRows() int { return max(m.height-1, 1) } // one header line

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if m.sortKey(msg) {
		return nil
	}
	if m.c.Keys.Nav.Open.Is(msg) {
		sel := m.Selection()
		switch {
		case sel.DeliveryID != "":
			return func() tea.Msg { return ui.OpenMsg{View: ui.ViewDeliveryDetail, DeliveryID: sel.DeliveryID} }
		case sel.EntryID != "":
			// Filtered: nothing was sent, so show why from the entry.
			return func() tea.Msg { return ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: sel.EntryID} }
		}
		return nil
	}
	if m.scroll.Key(msg, m.c.Keys.Nav, len(m.rows), m.bodyRows()) && len(m.rows) > 0 {
		m.cursorID = m.rows[m.scroll.Cursor].ID
	}
	return nil
}

// Title is the pane's border title.
func (m *Model) Title() string {
	t := "Deliveries"
	switch {
	case m.scope.Subscription != "":
		t += " · " + m.scope.Subscription
	case m.scope.EntryID != "":
		t += " · entry " + ui.ShortID(m.scope.EntryID)
	}
	if l := m.label(); l != "" {
		t += " · sorted by " + l
	}
	return t
}

// Info is the bottom-border note.
func (m *Model) Info() string {
	if m.err != nil {
		return "could not list: " + m.err.Error()
	}
	failed := 0
	for _, r := range m.rows {
		if r.State == api.Failed {
			failed++
		}
	}
	s := ui.Count(len(m.rows)) + " shown"
	if failed > 0 {
		s += " · " + ui.Count(failed) + " failed"
	}
	if !m.loaded && m.scope != (Scope{}) {
		s += " · loading"
	}
	return s
}

// View renders a header line and the visible rows.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	s := m.c.Styles
	if len(m.rows) == 0 {
		msg := "  no deliveries yet"
		if m.scope == (Scope{}) {
			msg = "  select a subscription or an entry"
		}
		return s.Dim.Render(ui.Fit(msg, m.width))
	}
	now := m.c.Now()
	bySub := m.scope.EntryID != ""
	// Fixed columns: marker 2, state 12, try 4, code 4, time 6, next 10 and
	// their gaps; "updated" (9) only when there is room for it.
	fixed := 2 + 12 + 1 + 1 + 4 + 1 + 4 + 1 + 6 + 1 + 10
	showUpd := m.width >= 80
	if showUpd {
		fixed += 9
	}
	whatW := max(m.width-fixed, 6)
	var b strings.Builder
	hdr := "  " + ui.Fit("state", 12) + " "
	if showUpd {
		hdr += ui.Fit("updated", 8) + " "
	}
	if bySub {
		hdr += ui.Fit("subscription", whatW)
	} else {
		hdr += ui.Fit("entry", whatW)
	}
	hdr += " " + ui.FitLeft("try", 4) + " " + ui.FitLeft("code", 4) + " " + ui.FitLeft("time", 6) + " " + ui.Fit("next", 10)
	b.WriteString(s.Dim.Render(ui.Fit(hdr, m.width)))
	end := min(m.scroll.Offset+m.bodyRows(), len(m.rows))
	for i := m.scroll.Offset; i < end; i++ {
		d := &m.rows[i]
		b.WriteByte('\n')
		st := s.DeliveryStatus(d.State, d.Attempts, m.retrying[d.ID])
		what := d.EntryKind + " · " + d.EntryTitle
		if bySub {
			what = d.Subscription
		}
		code := "-"
		if d.LastStatus > 0 {
			code = strconv.Itoa(d.LastStatus)
		} else if d.LastError != "" {
			code = "err"
		}
		next := "-"
		if d.State == api.Pending && !d.NextAttemptAt.IsZero() {
			next = ui.Until(now, d.NextAttemptAt)
		}
		tries := "-"
		if d.Attempts > 0 {
			tries = "#" + strconv.Itoa(d.Attempts)
		}
		selected := i == m.scroll.Cursor
		marker := "  "
		if selected {
			marker = "› "
		}
		stCell := ui.Fit(st.String(), 12)
		rest := " "
		if showUpd {
			upd := "-"
			if !d.UpdatedAt.IsZero() {
				upd = d.UpdatedAt.Format("15:04:05")
			}
			rest += ui.Fit(upd, 8) + " "
		}
		rest += ui.Fit(what, whatW) + " " + ui.FitLeft(tries, 4) + " " +
			ui.FitLeft(code, 4) + " " + ui.FitLeft(ui.Latency(d.LastLatency), 6) + " " + ui.Fit(next, 10)
		if selected && m.focused {
			b.WriteString(s.Selected.Render(ui.Fit(marker+stCell+rest, m.width)))
			continue
		}
		b.WriteString(ui.Fit(marker+st.Style.Render(stCell)+rest, m.width))
	}
	return b.String()
}
