package events

import (
	"slices"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
)

// sorted is the pane's order when sorted by a column: the visible
// sequence numbers in that order. A batch of arrivals is sorted on its own
// and merged in; only a change of order, filter or (for the status
// column) of an entry's deliveries sorts everything again.
type sorted struct {
	order   sorting.Order
	seqs    []uint64
	pending []uint64 // arrivals since the last resort, in arrival order
	dirty   bool     // sort everything at the next resort
	merged  []uint64 // spare buffer for the merge
	// wasRank holds, for entries whose status rank changed since the last
	// resort (sorted by status), the rank their place in seqs was found
	// by: resort takes them out and merges them back in like arrivals.
	wasRank map[uint64]int
}

// moved notes that seq's status rank changed from rank; the first change
// since the last resort is the one its place in seqs goes by.
func (s *sorted) moved(seq uint64, rank int) {
	if s.wasRank == nil {
		s.wasRank = map[uint64]int{}
	}
	if _, ok := s.wasRank[seq]; !ok {
		s.wasRank[seq] = rank
	}
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
	m.sort.dirty = true
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

// resort brings the sorted order up to date: all of it when dirty, else
// by merging the sorted arrivals into it. Ties keep arrival order.
func (m *Model) resort() {
	if !m.sortedNow() {
		m.sort.seqs, m.sort.pending, m.sort.dirty = m.sort.seqs[:0], m.sort.pending[:0], false
		return
	}
	o := m.sort.order
	cmp := func(a, b uint64) int {
		if c := o.Compare(&m.ring.Get(a).e, &m.ring.Get(b).e); c != 0 {
			return c
		}
		return cmpSeq(a, b)
	}
	first := m.ring.First()
	defer clear(m.sort.wasRank)
	if m.sort.dirty {
		s := m.sort.seqs[:0]
		if m.query != nil {
			s = append(s, m.matches...)
		} else {
			for i := 0; i < m.ring.Len(); i++ {
				s = append(s, first+uint64(i))
			}
		}
		slices.SortFunc(s, cmp)
		m.sort.seqs, m.sort.pending, m.sort.dirty = s, m.sort.pending[:0], false
		return
	}
	if len(m.sort.pending) == 0 && len(m.sort.wasRank) == 0 {
		return
	}
	// Arrivals evicted within the same batch are gone already.
	add := slices.DeleteFunc(m.sort.pending, func(s uint64) bool { return s < first })
	old := slices.DeleteFunc(m.sort.seqs, func(s uint64) bool { return s < first })
	old, add = m.unplaceMoved(old, add, first)
	slices.SortFunc(add, cmp)
	// Each arrival's place is found by binary search from the previous
	// one's, and the held entries between are copied as a block: a batch
	// costs a copy of the order and len(add)·log(len(old)) comparisons,
	// not one comparison per held entry (titles compare slowly).
	after := func(o, a uint64) int {
		if cmp(o, a) <= 0 {
			return -1
		}
		return 1
	}
	out := m.sort.merged[:0]
	i := 0
	for _, a := range add {
		n, _ := slices.BinarySearchFunc(old[i:], a, after)
		out = append(append(out, old[i:i+n]...), a)
		i += n
	}
	out = append(out, old[i:]...)
	m.sort.seqs, m.sort.merged = out, old[:0]
	m.sort.pending = m.sort.pending[:0]
}

// unplaceMoved takes the entries whose status rank changed out of old,
// found by binary search with the ranks old was sorted by, and adds them
// to add, to be merged back in at their new place. Arrivals of this batch
// are in add already, not in old.
func (m *Model) unplaceMoved(old, add []uint64, first uint64) ([]uint64, []uint64) {
	if len(m.sort.wasRank) == 0 {
		return old, add
	}
	desc := m.sort.order.Desc
	rankOf := func(s uint64) int {
		if r, ok := m.sort.wasRank[s]; ok {
			return r
		}
		return sorting.StatusRank(&m.ring.Get(s).e)
	}
	var at []int
	for seq, rank := range m.sort.wasRank {
		if seq < first {
			continue
		}
		i, found := slices.BinarySearchFunc(old, seq, func(s, _ uint64) int {
			c := cmpInt(rankOf(s), rank)
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
			return cmpSeq(s, seq)
		})
		if found {
			at = append(at, i)
			add = append(add, seq)
		}
	}
	if len(at) == 0 {
		return old, add
	}
	slices.Sort(at)
	out, j := old[:0], 0
	for i, s := range old {
		if j < len(at) && at[j] == i {
			j++
			continue
		}
		out = append(out, s)
	}
	return out, add
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SortColumn is the column a sort key stands for.
func SortColumn(k keys.Sort, msg tea.KeyMsg) (sorting.Column, bool) {
	return sorting.ColumnOf(k, msg, sorting.Time, sorting.Kind, sorting.Status, sorting.Title, sorting.Member, sorting.Where)
}
