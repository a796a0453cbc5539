package deliveries

import (
	"cmp"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
)

// The deliveries pane sorts each of its columns with the key that sorts
// the same kind of column elsewhere: S state (failed first), A updated,
// K the entry's kind, T the entry's title (or, for an entry's list, the
// subscription); its own columns have their own keys: # tries, E code,
// L latency, N next retry.

// SortKeys are the sort keys this pane answers for its scope, for the
// hint bar: an entry's list has one kind, so K is left out.
func (m *Model) SortKeys(k keys.Sort) []keys.Binding {
	if m.scope.EntryID != "" {
		return []keys.Binding{k.Status, k.Time, k.Title, k.Tries, k.Code, k.Latency, k.Next}
	}
	return []keys.Binding{k.Status, k.Time, k.Kind, k.Title, k.Tries, k.Code, k.Latency, k.Next}
}

// Sort is the current order (sorting.None: as the engine lists them,
// most recently updated first).
func (m *Model) Sort() sorting.Order { return m.order }

// sortKey toggles the order for a sort key; false when msg is none.
func (m *Model) sortKey(msg tea.KeyMsg) bool {
	col, ok := sorting.ColumnOf(m.c.Keys.Sort, msg, sorting.Status, sorting.Time, sorting.Kind, sorting.Title,
		sorting.Tries, sorting.Code, sorting.Latency, sorting.Next)
	if !ok {
		return false
	}
	m.order = m.order.Toggle(col)
	m.arrange()
	m.reindex()
	m.sync()
	return true
}

// arrange sorts the rows by the chosen column. Ties go by id, so the
// order does not depend on the order rows arrived in; at most Max rows,
// so sorting all of them on every change is cheap.
func (m *Model) arrange() {
	o := m.order
	if o.Col == sorting.None {
		return
	}
	bySub := m.scope.EntryID != ""
	slices.SortFunc(m.rows, func(a, b api.DeliveryView) int {
		c := compareBy(o.Col, &a, &b, bySub)
		if o.Desc {
			c = -c
		}
		return cmp.Or(c, strings.Compare(a.ID, b.ID), strings.Compare(a.Subscription, b.Subscription))
	})
}

// compareBy orders a and b by col's column as the pane shows it.
func compareBy(col sorting.Column, a, b *api.DeliveryView, bySub bool) int {
	switch col {
	case sorting.Status:
		return cmp.Compare(stateRank(a.State), stateRank(b.State))
	case sorting.Time:
		return a.UpdatedAt.Compare(b.UpdatedAt)
	case sorting.Kind:
		return strings.Compare(a.EntryKind, b.EntryKind)
	case sorting.Title:
		if bySub {
			return strings.Compare(a.Subscription, b.Subscription)
		}
		return sorting.CompareFold(a.EntryTitle, b.EntryTitle)
	case sorting.Tries:
		return cmp.Compare(a.Attempts, b.Attempts)
	case sorting.Code:
		return cmp.Compare(codeRank(a), codeRank(b))
	case sorting.Latency:
		return cmp.Compare(a.LastLatency, b.LastLatency)
	case sorting.Next:
		return nextDue(a).Compare(nextDue(b))
	}
	return 0
}

// stateRank puts what needs attention first: failed, then work in
// progress, then delivered, skipped, and nothing sent.
func stateRank(s api.State) int {
	switch s {
	case api.Failed:
		return 0
	case api.Pending, api.InFlight:
		return 1
	case api.Delivered:
		return 2
	case api.Skipped:
		return 3
	}
	return 4
}

// codeRank orders the code column: no answer yet, then status codes, then
// errors without one ("err"), so descending shows errors then 5xx first.
func codeRank(d *api.DeliveryView) int {
	switch {
	case d.LastStatus > 0:
		return d.LastStatus
	case d.LastError != "":
		return 1000
	}
	return -1
}

// nextDue is when a pending delivery's next try is due; the rest, which
// show "-", come after every due time.
func nextDue(d *api.DeliveryView) time.Time {
	if d.State == api.Pending && !d.NextAttemptAt.IsZero() {
		return d.NextAttemptAt
	}
	return time.Unix(1<<62, 0)
}

// label is the order as the title says it, in the pane's column names.
func (m *Model) label() string {
	o := m.order
	name := o.Col.String()
	switch o.Col {
	case sorting.None:
		return ""
	case sorting.Status:
		name = "state"
	case sorting.Time:
		name = "updated"
	case sorting.Title:
		name = "entry"
		if m.scope.EntryID != "" {
			name = "subscription"
		}
	}
	if o.Desc {
		return name + " ↓"
	}
	return name + " ↑"
}
