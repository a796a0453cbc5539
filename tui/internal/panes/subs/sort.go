package subs

import (
	"cmp"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
)

// The subscriptions pane sorts with the entry lists' keys where a column
// means the same: S state (needing attention first), T the name, K the
// integration, A the last answer (most recent first when reversed).

// SortKeys are the sort keys this pane answers, for the hint bar.
func SortKeys(k keys.Sort) []keys.Binding { return []keys.Binding{k.Time, k.Kind, k.Status, k.Title} }

// sortKey toggles the order for a sort key; false when msg is none.
func (m *Model) sortKey(msg tea.KeyMsg) bool {
	col, ok := sorting.ColumnOf(m.c.Keys.Sort, msg, sorting.Time, sorting.Kind, sorting.Status, sorting.Title)
	if !ok {
		return false
	}
	m.order = m.order.Toggle(col)
	m.sortSubs()
	m.sync()
	return true
}

// sortSubs orders the list; config order (as the engine lists them) when
// no column is chosen, and within ties.
func (m *Model) sortSubs() {
	o := m.order
	if o.Col == sorting.None {
		return
	}
	slices.SortStableFunc(m.subs, func(a, b api.SubscriptionInfo) int {
		var c int
		switch o.Col {
		case sorting.Time:
			c = a.LastAttemptAt.Compare(b.LastAttemptAt)
		case sorting.Kind:
			c = strings.Compare(a.Integration, b.Integration)
		case sorting.Status:
			c = cmp.Compare(attention(&a), attention(&b))
		case sorting.Title:
			c = strings.Compare(a.Name, b.Name)
		}
		if o.Desc {
			return -c
		}
		return c
	})
}

// attention ranks what needs an operator first: disabled, failing,
// paused, retrying, fine.
func attention(s *api.SubscriptionInfo) int {
	switch {
	case s.Disabled:
		return 0
	case s.Counts[api.Failed] > 0:
		return 1
	case s.Paused:
		return 2
	case s.Counts[api.Pending] > 0 || s.InFlight > 0:
		return 3
	}
	return 4
}
