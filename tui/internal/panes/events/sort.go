package events

import (
	"slices"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
)

// sorted is the pane's order when sorted by a column: the visible
// sequence numbers in that order, rebuilt once per batch of events (not
// per frame), and each one's position for the cursor.
type sorted struct {
	order sorting.Order
	seqs  []uint64
	pos   map[uint64]int
}

// SortKey sorts by the column of a sort key; false when msg is none.
func (m *Model) SortKey(msg tea.KeyMsg) bool {
	col, ok := SortColumn(m.c.Keys.Sort, msg)
	if !ok {
		return false
	}
	m.SetSort(m.sort.order.Toggle(col))
	return true
}

// SetSort sorts the pane (sorting.None: arrival order). A sorted pane does
// not follow: arrivals take their place in the order, the cursor stays.
func (m *Model) SetSort(o sorting.Order) {
	m.sort.order = o
	if o.Col != sorting.None {
		m.follow = false
		m.newCount = 0
	}
	m.resort()
	m.clamp()
}

// Sort is the current order.
func (m *Model) Sort() sorting.Order { return m.sort.order }

func (m *Model) sortedNow() bool { return m.sort.order.Col != sorting.None }

// resort rebuilds the sorted order from what the filter lets through.
func (m *Model) resort() {
	if !m.sortedNow() {
		m.sort.seqs, m.sort.pos = m.sort.seqs[:0], nil
		return
	}
	s := m.sort.seqs[:0]
	if m.query != nil {
		s = append(s, m.matches...)
	} else {
		for i := 0; i < m.ring.Len(); i++ {
			s = append(s, m.ring.First()+uint64(i))
		}
	}
	o := m.sort.order
	slices.SortStableFunc(s, func(a, b uint64) int {
		return o.Compare(&m.ring.Get(a).e, &m.ring.Get(b).e)
	})
	m.sort.seqs = s
	if m.sort.pos == nil {
		m.sort.pos = make(map[uint64]int, len(s))
	}
	clear(m.sort.pos)
	for i, seq := range s {
		m.sort.pos[seq] = i
	}
}

// SortColumn is the column a sort key stands for.
func SortColumn(k keys.Sort, msg tea.KeyMsg) (sorting.Column, bool) {
	for col, b := range map[sorting.Column]keys.Binding{sorting.Time: k.Time, sorting.Kind: k.Kind,
		sorting.Status: k.Status, sorting.Title: k.Title, sorting.Member: k.Member, sorting.Where: k.Where} {
		if b.Is(msg) {
			return col, true
		}
	}
	return sorting.None, false
}
