package events

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/filter"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/sorting"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func entry(i int, kind string, st api.State) api.EntryView {
	at := uitest.Now().Add(time.Duration(i) * time.Second)
	return api.EntryView{
		ID: fmt.Sprintf("e%03d", i), Kind: kind, Title: fmt.Sprintf("title %d", i), ReceivedAt: at,
		Member: "m@example.com", Project: "web", Environment: "production",
		Decisions: []api.Decision{{Subscription: "s1", Sent: true, State: st, DeliveryID: fmt.Sprintf("d%03d", i)}},
	}
}

func received(es ...api.EntryView) []api.Event {
	out := make([]api.Event, len(es))
	for i := range es {
		out[i] = api.Event{Kind: api.EntryReceived, Entry: &es[i]}
	}
	return out
}

func newPane(t *testing.T, capacity int) *Model {
	m := New(uitest.Common(t, fakeapi.New(uitest.Now), keys.Operator), capacity)
	m.SetSize(80, 5)
	return m
}

func selectedID(m *Model) string {
	e, _ := m.Selected()
	if e == nil {
		return ""
	}
	return e.ID
}

func TestFollowTracksNewest(t *testing.T) {
	m := newPane(t, 100)
	m.Apply(received(entry(1, "flag", api.Pending), entry(2, "flag", api.Pending)))
	if !m.Following() || selectedID(m) != "e002" {
		t.Fatalf("following=%v selected=%s", m.Following(), selectedID(m))
	}
	m.Apply(received(entry(3, "flag", api.Pending)))
	if selectedID(m) != "e003" {
		t.Fatalf("follow should move to the newest, at %s", selectedID(m))
	}
}

func TestScrollingUpPausesAndCountsNew(t *testing.T) {
	m := newPane(t, 100)
	for i := 1; i <= 10; i++ {
		m.Apply(received(entry(i, "flag", api.Pending)))
	}
	m.Update(uitest.Key("up"))
	if m.Following() || selectedID(m) != "e009" {
		t.Fatalf("up: following=%v selected=%s", m.Following(), selectedID(m))
	}
	m.Apply(received(entry(11, "flag", api.Pending), entry(12, "segment", api.Pending)))
	if selectedID(m) != "e009" {
		t.Fatalf("paused cursor moved to %s", selectedID(m))
	}
	if !strings.Contains(m.Title(), "paused · 2 new") {
		t.Fatalf("title %q should count 2 new", m.Title())
	}
	m.Update(uitest.Key("G"))
	if !m.Following() || selectedID(m) != "e012" || strings.Contains(m.Title(), "new") {
		t.Fatalf("G: following=%v selected=%s title=%q", m.Following(), selectedID(m), m.Title())
	}
	// Going down to the newest entry also resumes following.
	m.Update(uitest.Key("up"))
	m.Update(uitest.Key("down"))
	if !m.Following() {
		t.Fatal("reaching the bottom should resume following")
	}
	m.Update(uitest.Key("f"))
	if m.Following() {
		t.Fatal("f should pause")
	}
}

func TestRingKeepsMemoryFlat(t *testing.T) {
	m := newPane(t, 50)
	for i := 0; i < 1000; i++ {
		m.Apply(received(entry(i, "flag", api.Pending)))
		m.View()
	}
	if m.Len() != 50 || len(m.index) != 50 {
		t.Fatalf("len=%d index=%d, want 50", m.Len(), len(m.index))
	}
	if len(m.cache) > 3*m.height+16 {
		t.Fatalf("row cache grew to %d", len(m.cache))
	}
	if !strings.Contains(m.Info(), "newest kept") {
		t.Errorf("info %q should say the ring is full", m.Info())
	}
}

func TestPausedCursorOnEvictedEntryMovesToOldest(t *testing.T) {
	m := newPane(t, 5)
	for i := 0; i < 5; i++ {
		m.Apply(received(entry(i, "flag", api.Pending)))
	}
	m.Update(uitest.Key("g")) // e000, paused
	m.Apply(received(entry(5, "flag", api.Pending), entry(6, "flag", api.Pending)))
	if got := selectedID(m); got != "e002" {
		t.Fatalf("selected %s, want the oldest kept e002", got)
	}
}

func TestFilterAndStatusChanges(t *testing.T) {
	m := newPane(t, 100)
	m.Apply(received(entry(1, "flag", api.Failed), entry(2, "segment", api.Delivered), entry(3, "flag", api.Delivered)))
	q, err := filter.Parse("status:failed")
	if err != nil {
		t.Fatal(err)
	}
	m.SetFilter(q)
	if m.Visible() != 1 || selectedID(m) != "e001" {
		t.Fatalf("visible=%d selected=%s", m.Visible(), selectedID(m))
	}
	// e003 fails later: it joins the filtered list, in arrival order.
	m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: "d003", EntryID: "e003", Subscription: "s1", State: api.Failed}}})
	if m.Visible() != 2 || selectedID(m) != "e003" {
		t.Fatalf("after failure: visible=%d selected=%s", m.Visible(), selectedID(m))
	}
	// e001 is retried and delivered: it leaves.
	m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: "d001", EntryID: "e001", Subscription: "s1", State: api.Delivered}}})
	if m.Visible() != 1 {
		t.Fatalf("after delivery: visible=%d", m.Visible())
	}
	if !strings.Contains(m.Info(), "/status:failed · 1 of 3") {
		t.Errorf("info %q", m.Info())
	}
	m.SetFilter(nil)
	if m.Visible() != 3 {
		t.Fatalf("cleared: visible=%d", m.Visible())
	}
}

func TestFilterNoMatchSaysSo(t *testing.T) {
	m := newPane(t, 10)
	m.Apply(received(entry(1, "flag", api.Delivered)))
	q, _ := filter.Parse("kind:member")
	m.SetFilter(q)
	if !strings.Contains(m.View(), "no entries match /kind:member") {
		t.Fatalf("view %q", m.View())
	}
}

func TestViewRendersOnlyVisibleRowsWithMarker(t *testing.T) {
	m := newPane(t, 100)
	for i := 1; i <= 20; i++ {
		m.Apply(received(entry(i, "flag", api.Failed)))
	}
	lines := strings.Split(m.View(), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines, want the 5 visible", len(lines))
	}
	for _, l := range lines {
		if ui.Width(l) != 80 {
			t.Errorf("line %q is %d wide", l, ui.Width(l))
		}
	}
	if !strings.HasPrefix(lines[4], "› ") || !strings.Contains(lines[4], "title 20") || !strings.Contains(lines[4], "✗1") {
		t.Errorf("last line %q should be the selected newest entry with its failure", lines[4])
	}
}

func TestSelectionPicksTheOnlyFailedDelivery(t *testing.T) {
	m := newPane(t, 10)
	e := entry(1, "flag", api.Failed)
	e.Decisions = append(e.Decisions, api.Decision{Subscription: "s2", Sent: true, State: api.Delivered, DeliveryID: "x"})
	m.Apply(received(e))
	sel := m.Selection()
	if sel.DeliveryID != "d001" || sel.Subscription != "s1" || sel.FailedCount != 1 || sel.DeliveryState != api.Failed {
		t.Fatalf("selection %+v", sel)
	}
}

func TestHistoryMergesWithLiveByID(t *testing.T) {
	m := newPane(t, 10)
	m.Apply(received(entry(3, "flag", api.Pending)))
	// History arrives newest first and overlaps the live entry.
	m.Update(HistoryMsg{Entries: []api.EntryView{entry(3, "flag", api.Delivered), entry(2, "flag", api.Pending), entry(1, "flag", api.Pending)}})
	if m.Len() != 3 {
		t.Fatalf("len %d, want 3 (e003 merged)", m.Len())
	}
	r := m.ring.Get(m.index["e003"])
	if r.e.Decisions[0].State != api.Delivered {
		t.Errorf("merged entry state %s", r.e.Decisions[0].State)
	}
}

func TestResizeKeepsCursorInView(t *testing.T) {
	m := newPane(t, 100)
	m.SetSize(80, 20)
	for i := 1; i <= 30; i++ {
		m.Apply(received(entry(i, "flag", api.Pending)))
	}
	m.SetSize(80, 5)
	lines := strings.Split(m.View(), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[4], "› ") {
		t.Fatalf("after shrinking, the selected newest row must be the last visible:\n%s", m.View())
	}
}

// TestSortedArrivalsTakeTheirPlace: batches of arrivals, and (sorted by
// status) delivery updates, merged into a sorted pane (ring full, so the
// oldest leave) give the same order as sorting everything again, ties by
// arrival.
func TestSortedArrivalsTakeTheirPlace(t *testing.T) {
	states := []api.State{api.Pending, api.Failed, api.Delivered, api.InFlight, api.Skipped}
	for _, o := range []sorting.Order{{Col: sorting.Title}, {Col: sorting.Title, Desc: true}, {Col: sorting.Kind}, {Col: sorting.Kind, Desc: true},
		{Col: sorting.Status}, {Col: sorting.Status, Desc: true}} {
		m := newPane(t, 50)
		m.SetSort(o)
		kinds := []string{"flag", "segment", "member"}
		id := 0
		for batch := range 12 {
			var es []api.EntryView
			for range batch%4*5 + 1 { // 1, 6, 11 or 16 arrivals
				e := entry(id, kinds[(id*7)%3], api.Delivered)
				e.Title = fmt.Sprintf("Title %d", (id*37)%23) // repeats: ties
				es = append(es, e)
				id++
			}
			evs := received(es...)
			// Delivery updates of held entries and of this batch's, some
			// twice, interleaved with the arrivals.
			for k := range batch * 3 {
				n := max(id-1-(k*13)%60, 0)
				d := api.DeliveryView{ID: fmt.Sprintf("d%03d", n), EntryID: fmt.Sprintf("e%03d", n), Subscription: "s1", State: states[(k+batch)%len(states)]}
				at := min(k, len(evs))
				evs = slices.Insert(evs, at, api.Event{Kind: api.DeliveryUpdated, Delivery: &d})
			}
			m.Apply(evs)
			merged := slices.Clone(m.sort.seqs)
			m.sort.dirty = true
			m.resort()
			if !slices.Equal(merged, m.sort.seqs) {
				t.Fatalf("%s, batch %d: merged %v, sorted %v", o.Label(), batch, merged, m.sort.seqs)
			}
			if len(merged) != m.Len() {
				t.Fatalf("%s, batch %d: %d in the order, %d held", o.Label(), batch, len(merged), m.Len())
			}
		}
	}
}
