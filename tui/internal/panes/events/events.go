// Package events is the live stream pane: every audit-log entry as it
// arrives, newest at the bottom, with the policy outcome at a glance.
//
// Entries live in a ring buffer, so memory stays flat however long the
// console runs. The cursor is kept on an entry (by its sequence number in
// the ring), not on a row index, so arrivals never move it while paused.
// Only visible rows are rendered, and rendered rows are cached per entry
// version.
package events

import (
	"slices"
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/filter"
	"github.com/auditrelay/auditrelay/tui/internal/ring"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
)

// DefaultCapacity is how many entries the stream keeps.
const DefaultCapacity = 10_000

type row struct {
	e       api.EntryView
	version uint32
}

type cachedRow struct {
	version uint32
	s       string
}

// Model is the events pane.
type Model struct {
	c     *ui.Common
	ring  *ring.Ring[row]
	index map[string]uint64 // entry id → ring sequence number

	query   *filter.Query
	matches []uint64 // ascending sequence numbers matching query, when set

	cursor   uint64 // sequence number of the selected entry
	top      uint64 // sequence number of the first visible row
	follow   bool   // keep the newest entry selected and in view
	newCount int    // matching arrivals while not following

	width, height int
	focused       bool
	cols          columns
	memNeed       int // widest member seen, up to maxInfoW
	whereNeed     int // widest project/environment seen, up to maxInfoW
	cache         map[uint64]cachedRow
	loaded        bool // history arrived
	sort          sorted
}

// New returns an empty pane keeping at most capacity entries.
func New(c *ui.Common, capacity int) *Model {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Model{
		c:      c,
		ring:   ring.New[row](capacity),
		index:  make(map[string]uint64, capacity),
		follow: true,
		cache:  map[uint64]cachedRow{},
	}
}

// SetSize sets the body size (inside the border).
func (m *Model) SetSize(w, h int) {
	if w != m.width {
		clear(m.cache)
	}
	m.width, m.height = w, h
	m.cols = layoutColumns(w, m.memNeed, m.whereNeed)
	m.clamp() // a shorter pane must still show the cursor
}

// SetFocused marks the pane as having the keyboard.
func (m *Model) SetFocused(f bool) {
	if f != m.focused {
		m.focused = f
	}
}

// Following reports whether the pane tracks the newest entry.
func (m *Model) Following() bool { return m.follow }

// Len is the number of entries held; Visible the number matching the
// filter.
func (m *Model) Len() int { return m.ring.Len() }

// Visible is the number of entries the filter lets through.
func (m *Model) Visible() int { return m.n() }

// Oldest is when the oldest held entry was received; false when none.
func (m *Model) Oldest() (time.Time, bool) {
	if m.ring.Len() == 0 {
		return time.Time{}, false
	}
	e := &m.ring.At(0).e
	if e.ReceivedAt.IsZero() {
		return e.Date, true
	}
	return e.ReceivedAt, true
}

// Filter returns the current filter.
func (m *Model) Filter() *filter.Query { return m.query }

// SetFilter applies q (nil clears) to every held entry.
func (m *Model) SetFilter(q *filter.Query) {
	if q.Empty() {
		q = nil
	}
	m.query = q
	clear(m.cache) // rows mark the filter's matches
	m.matches = m.matches[:0]
	if q != nil {
		for i := 0; i < m.ring.Len(); i++ {
			r := m.ring.At(i)
			if q.Match(&r.e) {
				m.matches = append(m.matches, m.ring.First()+uint64(i))
			}
		}
	}
	m.newCount = 0
	m.sort.dirty = true
	m.resort()
	if !m.sortedNow() && (m.follow || m.indexOf(m.cursor) >= m.n()) {
		m.follow = true
	}
	m.clamp()
}

// Selected returns the entry under the cursor and its version, or nil.
func (m *Model) Selected() (*api.EntryView, uint32) {
	if m.n() == 0 {
		return nil, 0
	}
	r := m.ring.Get(m.cursor)
	if r == nil {
		return nil, 0
	}
	return &r.e, r.version
}

// Selection is what actions act on: the selected entry, and its delivery
// when only one of them failed.
func (m *Model) Selection() ui.Selection {
	e, _ := m.Selected()
	if e == nil {
		return ui.Selection{}
	}
	sel := ui.Selection{EntryID: e.ID}
	var failed []api.Decision
	for _, d := range e.Decisions {
		if d.State == api.Failed {
			failed = append(failed, d)
		}
	}
	if len(failed) == 1 {
		sel.DeliveryID, sel.DeliveryState, sel.Subscription = failed[0].DeliveryID, failed[0].State, failed[0].Subscription
	}
	sel.FailedCount = len(failed)
	return sel
}

// HistoryMsg carries the entries loaded at start, newest first.
type HistoryMsg struct {
	Entries []api.EntryView
	Err     error
}

// Update handles keys (when focused) and data.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case HistoryMsg:
		m.loaded = true
		for i := len(msg.Entries) - 1; i >= 0; i-- {
			m.upsert(msg.Entries[i], false)
		}
		m.trimMatches()
		m.sort.dirty = true
		m.resort()
		m.clamp()
	case []api.Event:
		m.Apply(msg)
	case ui.StylesChangedMsg:
		clear(m.cache)
	case tea.KeyMsg:
		return m.key(msg)
	}
	return nil
}

// Apply folds a batch of engine events into the stream.
func (m *Model) Apply(events []api.Event) {
	for i := range events {
		ev := &events[i]
		switch ev.Kind {
		case api.EntryReceived:
			if ev.Entry != nil {
				m.upsert(*ev.Entry, true)
			}
		case api.DeliveryUpdated:
			if ev.Delivery != nil {
				m.deliveryUpdated(ev.Delivery)
			}
		}
	}
	m.trimMatches()
	m.resort()
	m.clamp()
}

func (m *Model) upsert(e api.EntryView, live bool) {
	// The engine hands every console the same entry; deliveryUpdated
	// changes decisions in place, so this console needs its own copy.
	e.Decisions = slices.Clone(e.Decisions)
	if seq, ok := m.index[e.ID]; ok {
		if r := m.ring.Get(seq); r != nil {
			r.e = e
			r.version++
			m.sort.dirty = true
			m.refilter(seq, r)
			return
		}
	}
	m.need(&e)
	seq, old, evicted := m.ring.Push(row{e: e})
	if evicted {
		delete(m.index, old.e.ID)
		delete(m.cache, seq-uint64(m.ring.Cap()))
	}
	m.index[e.ID] = seq
	if m.query == nil || m.query.Match(&e) {
		if m.query != nil {
			m.matches = append(m.matches, seq)
		}
		if m.sortedNow() {
			m.sort.pending = append(m.sort.pending, seq)
		}
		if live && !m.follow {
			m.newCount++
		}
	}
}

func (m *Model) deliveryUpdated(d *api.DeliveryView) {
	seq, ok := m.index[d.EntryID]
	if !ok {
		return
	}
	r := m.ring.Get(seq)
	if r == nil {
		return
	}
	rank := sorting.StatusRank(&r.e)
	changed := false
	for i := range r.e.Decisions {
		dec := &r.e.Decisions[i]
		if dec.DeliveryID == d.ID || (dec.DeliveryID == "" && dec.Subscription == d.Subscription) {
			if dec.State != d.State || dec.LastStatus != d.LastStatus {
				dec.State, dec.LastStatus = d.State, d.LastStatus
				changed = true
			}
			dec.DeliveryID = d.ID
		}
	}
	if !changed {
		return
	}
	r.version++
	if m.sort.order.Col == sorting.Status && sorting.StatusRank(&r.e) != rank {
		m.sort.moved(seq, rank)
	}
	m.refilter(seq, r)
}

// refilter updates seq's membership in matches after its entry changed.
func (m *Model) refilter(seq uint64, r *row) {
	if m.query == nil {
		return
	}
	i := sort.Search(len(m.matches), func(i int) bool { return m.matches[i] >= seq })
	present := i < len(m.matches) && m.matches[i] == seq
	want := m.query.Match(&r.e)
	switch {
	case want && !present:
		m.sort.dirty = true
		m.matches = append(m.matches, 0)
		copy(m.matches[i+1:], m.matches[i:])
		m.matches[i] = seq
	case !want && present:
		m.sort.dirty = true
		m.matches = append(m.matches[:i], m.matches[i+1:]...)
	}
}

// trimMatches forgets matches whose entries left the ring.
func (m *Model) trimMatches() {
	first := m.ring.First()
	i := 0
	for i < len(m.matches) && m.matches[i] < first {
		i++
	}
	if i > 0 {
		m.matches = append(m.matches[:0], m.matches[i:]...)
	}
}

func (m *Model) n() int {
	if m.sortedNow() {
		return len(m.sort.seqs)
	}
	if m.query != nil {
		return len(m.matches)
	}
	return m.ring.Len()
}

func (m *Model) seqAt(i int) uint64 {
	if m.sortedNow() {
		return m.sort.seqs[i]
	}
	if m.query != nil {
		return m.matches[i]
	}
	return m.ring.First() + uint64(i)
}

// indexOf is the visible position of seq, or of the first visible entry
// after it when seq is not visible.
func (m *Model) indexOf(seq uint64) int {
	if m.sortedNow() {
		// A scan, not a map: cheaper than keeping positions up to date
		// when every batch shifts them (3 calls a frame).
		return max(slices.Index(m.sort.seqs, seq), 0) // the top when it left
	}
	if m.query != nil {
		return sort.Search(len(m.matches), func(i int) bool { return m.matches[i] >= seq })
	}
	if seq < m.ring.First() {
		return 0
	}
	return int(seq - m.ring.First())
}

// clamp keeps cursor and top on visible entries, with the cursor in view.
func (m *Model) clamp() {
	n := m.n()
	if n == 0 {
		m.cursor, m.top = m.ring.Next(), m.ring.Next()
		return
	}
	h := max(m.height, 1)
	ci := min(m.indexOf(m.cursor), n-1)
	ti := min(m.indexOf(m.top), n-1)
	if m.follow {
		ci = n - 1
		m.newCount = 0
	}
	if ci < ti {
		ti = ci
	}
	if ci >= ti+h {
		ti = ci - h + 1
	}
	ti = max(min(ti, n-h), 0)
	m.cursor, m.top = m.seqAt(ci), m.seqAt(ti)
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.c.Keys
	if m.SortKey(msg) {
		return nil
	}
	n := m.n()
	if n == 0 {
		return nil
	}
	h := max(m.height, 1)
	ci := min(m.indexOf(m.cursor), n-1)
	switch {
	case k.Events.Follow.Is(msg):
		if m.sortedNow() {
			m.SetSort(sorting.Order{}) // following means arrival order
		}
		m.follow = !m.follow
		m.newCount = 0
		m.clamp()
		return nil
	case k.Nav.Open.Is(msg):
		e, _ := m.Selected()
		if e == nil {
			return nil
		}
		id := e.ID // e points into the ring, which the event loop keeps changing
		return func() tea.Msg { return ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: id} }
	case k.Nav.Up.Is(msg):
		ci--
	case k.Nav.Down.Is(msg):
		ci++
	case k.Nav.PageUp.Is(msg):
		ci -= max(h-1, 1)
	case k.Nav.PageDown.Is(msg):
		ci += max(h-1, 1)
	case k.Nav.Top.Is(msg):
		ci = 0
	case k.Nav.Bottom.Is(msg):
		ci = n - 1
	default:
		return nil
	}
	ci = min(max(ci, 0), n-1)
	// Reaching the newest entry resumes following, as in a log tail; a
	// sorted list has no newest end.
	m.follow = ci == n-1 && !m.sortedNow()
	m.newCount = 0
	m.cursor = m.seqAt(ci)
	m.clamp()
	return nil
}

// Title is the pane's border title.
func (m *Model) Title() string {
	var b strings.Builder
	b.WriteString("Events")
	if m.sortedNow() {
		b.WriteString(" · sorted by ")
		b.WriteString(m.sort.order.Label())
	} else if m.follow {
		b.WriteString(" · ● following")
	} else {
		b.WriteString(" · ‖ paused")
		if m.newCount > 0 {
			b.WriteString(" · ")
			b.WriteString(ui.Count(m.newCount))
			b.WriteString(" new")
		}
	}
	return b.String()
}

// Info is the pane's bottom-border note: counts and the filter.
func (m *Model) Info() string {
	var b strings.Builder
	if m.query != nil {
		b.WriteString("/")
		b.WriteString(m.query.String())
		b.WriteString(" · ")
		b.WriteString(ui.Count(len(m.matches)))
		b.WriteString(" of ")
	}
	b.WriteString(ui.Count(m.ring.Len()))
	if m.ring.Len() == m.ring.Cap() {
		b.WriteString(" (newest kept)")
	}
	return b.String()
}

// View renders the visible rows.
func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	n := m.n()
	if n == 0 {
		msg := "waiting for audit-log entries…"
		if !m.loaded {
			msg = "loading history…"
		}
		if m.query != nil {
			msg = "no entries match /" + m.query.String() + " (esc clears)"
		}
		return m.c.Styles.Dim.Render(ui.Fit("  "+msg, m.width))
	}
	ti := min(m.indexOf(m.top), n-1)
	end := min(ti+m.height, n)
	var b strings.Builder
	b.Grow((end - ti) * (m.width + 32))
	for i := ti; i < end; i++ {
		if i > ti {
			b.WriteByte('\n')
		}
		seq := m.seqAt(i)
		r := m.ring.Get(seq)
		if seq == m.cursor {
			b.WriteString(m.renderSelected(&r.e))
			continue
		}
		if c, ok := m.cache[seq]; ok && c.version == r.version {
			b.WriteString(c.s)
			continue
		}
		s := m.renderRow(&r.e)
		m.cache[seq] = cachedRow{version: r.version, s: s}
		b.WriteString(s)
	}
	m.pruneCache(ti, end)
	return b.String()
}

func (m *Model) pruneCache(ti, end int) {
	if len(m.cache) <= 3*m.height+16 {
		return
	}
	lo, hi := m.seqAt(ti), m.seqAt(end-1)
	span := uint64(m.height)
	for seq := range m.cache {
		if seq+span < lo || seq > hi+span {
			delete(m.cache, seq)
		}
	}
}

// need widens the member and where columns when e needs more room than
// any entry before it (up to maxInfoW), relaying the rows out.
func (m *Model) need(e *api.EntryView) {
	grew := false
	if m.memNeed < maxInfoW {
		if w := ui.Width(e.Member); w > m.memNeed {
			m.memNeed, grew = min(w, maxInfoW), true
		}
	}
	if m.whereNeed < maxInfoW {
		// ui.Where(e) without building it: this runs for every arrival.
		w := ui.Width(e.Project) + ui.Width(e.Environment)
		if e.Project != "" && e.Environment != "" {
			w++
		} else if w == 0 {
			w = 1 // "—"
		}
		if w > m.whereNeed {
			m.whereNeed, grew = min(w, maxInfoW), true
		}
	}
	if grew {
		if c := layoutColumns(m.width, m.memNeed, m.whereNeed); c != m.cols {
			m.cols = c
			clear(m.cache)
		}
	}
}
