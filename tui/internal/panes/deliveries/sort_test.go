package deliveries

import (
	"cmp"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// sortCase is a sort key, the label the title shows and the column's value
// as the test reads it from a row (compared with cmp.Compare).
type sortCase[T cmp.Ordered] struct {
	key, label string
	val        func(*api.DeliveryView) T
}

func checkSorted[T cmp.Ordered](t *testing.T, m *Model, tc sortCase[T], desc bool) {
	t.Helper()
	rows := m.Rows()
	distinct := map[T]bool{}
	for i := range rows {
		distinct[tc.val(&rows[i])] = true
		if i == 0 {
			continue
		}
		c := cmp.Compare(tc.val(&rows[i-1]), tc.val(&rows[i]))
		if desc {
			c = -c
		}
		if c > 0 {
			t.Errorf("%s: row %d (%v) before row %d (%v)", tc.label, i-1, tc.val(&rows[i-1]), i, tc.val(&rows[i]))
		}
	}
	if len(distinct) < 2 {
		t.Errorf("%s: the rows have one value, the test proves nothing", tc.label)
	}
}

// press sorts by tc twice (up, then down) and checks the order, the
// title and that the cursor stays on its delivery each time.
func press[T cmp.Ordered](t *testing.T, m *Model, tc sortCase[T]) {
	t.Helper()
	for _, desc := range []bool{false, true} {
		sel := m.Selection()
		m.Update(uitest.Key(tc.key))
		label := tc.label + map[bool]string{false: " ↑", true: " ↓"}[desc]
		checkSorted(t, m, sortCase[T]{tc.key, label, tc.val}, desc)
		if !strings.Contains(m.Title(), "sorted by "+label) {
			t.Errorf("%s: title %q", label, m.Title())
		}
		if got := m.Selection(); got != sel {
			t.Errorf("%s: the cursor moved from %+v to %+v", label, sel, got)
		}
	}
}

var (
	byState   = sortCase[int]{"S", "state", func(d *api.DeliveryView) int { return stateRank(d.State) }}
	byUpdated = sortCase[int64]{"A", "updated", func(d *api.DeliveryView) int64 { return d.UpdatedAt.UnixNano() }}
	byTries   = sortCase[int]{"#", "tries", func(d *api.DeliveryView) int { return d.Attempts }}
	byCode    = sortCase[int]{"E", "code", func(d *api.DeliveryView) int {
		switch {
		case d.LastStatus > 0:
			return d.LastStatus
		case d.LastError != "":
			return 1000 // "err" after every status code
		}
		return -1 // "-": no answer yet
	}}
	byLatency = sortCase[time.Duration]{"L", "latency", func(d *api.DeliveryView) time.Duration { return d.LastLatency }}
	byNext    = sortCase[int64]{"N", "next retry", func(d *api.DeliveryView) int64 {
		if d.State == api.Pending && !d.NextAttemptAt.IsZero() {
			return d.NextAttemptAt.UnixNano()
		}
		return 1 << 62 // "-" after every due time
	}}
)

// TestSortByEachColumn: in a subscription's list each column's key sorts
// by it (again reverses), the cursor stays on its delivery, and a live
// update takes its place in the order.
func TestSortByEachColumn(t *testing.T) {
	m, _ := setup(t)
	settle(m, m.SetSubscription(fakeapi.SubSlack))
	if len(m.Rows()) < 5 {
		t.Fatalf("%d rows", len(m.Rows()))
	}
	// The demo's slack deliveries are all of flags and none waits for a
	// retry: two more that differ.
	now := uitest.Now()
	m.Apply([]api.Event{
		{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: "d-seg", EntryID: "e-seg", Subscription: fakeapi.SubSlack, State: api.Pending,
			Attempts: 2, LastStatus: 503, NextAttemptAt: now.Add(30 * time.Second), UpdatedAt: now, EntryKind: "segment", EntryTitle: "Updated segment beta"}},
		{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: "d-proj", EntryID: "e-proj", Subscription: fakeapi.SubSlack, State: api.Pending,
			Attempts: 1, LastError: "connection refused", NextAttemptAt: now.Add(5 * time.Second), UpdatedAt: now, EntryKind: "project", EntryTitle: "created project"}},
	})
	m.scroll.Cursor, m.cursorID = 2, m.Rows()[2].ID
	press(t, m, byState)
	press(t, m, byUpdated)
	press(t, m, sortCase[string]{"K", "kind", func(d *api.DeliveryView) string { return d.EntryKind }})
	press(t, m, sortCase[string]{"T", "entry", func(d *api.DeliveryView) string { return strings.ToLower(d.EntryTitle) }})
	press(t, m, byTries)
	press(t, m, byCode)
	press(t, m, byLatency)
	press(t, m, byNext)

	// Sorted by state (failed first): a delivered row that fails moves up
	// to the failed ones, and a new delivery lands in its place too.
	m.Update(uitest.Key("S"))
	rows := m.Rows()
	last := rows[len(rows)-1]
	if last.State == api.Failed {
		t.Fatalf("last row already failed")
	}
	last.State, last.UpdatedAt = api.Failed, uitest.Now()
	fresh := api.DeliveryView{ID: "d-new", EntryID: "e-new", Subscription: fakeapi.SubSlack, State: api.Failed, EntryKind: "flag", EntryTitle: "new"}
	m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &last}})
	m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &fresh}})
	checkSorted(t, m, sortCase[int]{"S", "state after updates", byState.val}, false)
	for _, id := range []string{last.ID, fresh.ID} {
		if i := m.byID[id]; m.Rows()[i].State != api.Failed || (i > 0 && m.Rows()[i-1].State != api.Failed) {
			t.Errorf("%s at row %d among %v", id, i, states(m.Rows()))
		}
	}
	// A fetch brings the engine's order; the pane keeps its own.
	settle(m, m.refetch())
	checkSorted(t, m, sortCase[int]{"S", "state after a fetch", byState.val}, false)
}

// TestSortAnEntrysDeliveries: an entry's list sorts its subscription
// column with T, and its rows (filtered ones included) with S.
func TestSortAnEntrysDeliveries(t *testing.T) {
	m, fake := setup(t)
	d, _ := fake.Entry(t.Context(), "e0028")
	settle(m, m.SetEntry(&d.EntryView))
	press(t, m, sortCase[string]{"T", "subscription", func(d *api.DeliveryView) string { return d.Subscription }})
	press(t, m, byState)
	if got := m.SortKeys(m.c.Keys.Sort); len(got) != 7 {
		t.Errorf("an entry's list offers %d sort keys, want 7 (no kind)", len(got))
	}
}

func states(rows []api.DeliveryView) []api.State {
	out := make([]api.State, len(rows))
	for i := range rows {
		out[i] = rows[i].State
	}
	return out
}
