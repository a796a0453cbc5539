package deliveries

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func setup(t *testing.T) (*Model, *fakeapi.API) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Operator))
	m.SetSize(90, 12)
	m.SetFocused(true)
	return m, fake
}

// settle runs cmd and what its messages return, as the program would.
func settle(m *Model, cmd tea.Cmd) {
	for _, msg := range uitest.Exec(cmd, time.Second) {
		settle(m, m.Update(msg))
	}
}

func TestEntryScopeShowsDecisionsThenDetails(t *testing.T) {
	m, fake := setup(t)
	d, _ := fake.Entry(t.Context(), "e0028")
	cmd := m.SetEntry(&d.EntryView)
	if len(m.Rows()) != 4 || m.loaded {
		t.Fatalf("provisional rows: %d loaded=%v", len(m.Rows()), m.loaded)
	}
	settle(m, cmd)
	if !m.loaded {
		t.Fatal("fetch did not land")
	}
	v := m.View()
	for _, want := range []string{"✗ failed", "slack-prod", "#5", "500", "1.2s", "⟳ retrying", "in 12s"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if !strings.Contains(m.Title(), "entry e0028") {
		t.Errorf("title %q", m.Title())
	}
}

func TestSubscriptionScopeLiveUpdatesAndOptimisticRetry(t *testing.T) {
	m, _ := setup(t)
	settle(m, m.SetSubscription(fakeapi.SubSlack))
	var failed *api.DeliveryView
	for i, r := range m.Rows() {
		if r.ID == fakeapi.FailedDelivery {
			failed = &m.Rows()[i]
			m.scroll.Cursor, m.cursorID = i, r.ID
		}
	}
	if failed == nil {
		t.Fatalf("failed delivery not listed")
	}
	m.MarkRetrying(fakeapi.FailedDelivery)
	if sel := m.Selection(); !sel.Retrying || sel.DeliveryID != fakeapi.FailedDelivery {
		t.Fatalf("selection %+v", sel)
	}
	if !strings.Contains(m.View(), "⟳ retrying…") {
		t.Fatalf("optimistic state missing:\n%s", m.View())
	}
	// The engine answers: delivered, with an attempt.
	upd := *failed
	upd.State = api.Delivered
	m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &upd, Attempt: &api.AttemptView{Number: 6}}})
	if m.Retrying(fakeapi.FailedDelivery) || !strings.Contains(m.View(), "✓ delivered") {
		t.Fatalf("after the answer:\n%s", m.View())
	}
	// A new delivery of the subscription goes on top; the cursor stays.
	n := len(m.Rows())
	m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: "new", Subscription: fakeapi.SubSlack, State: api.Pending}}})
	if len(m.Rows()) != n+1 || m.Rows()[0].ID != "new" || m.Selection().DeliveryID != fakeapi.FailedDelivery {
		t.Fatalf("rows %d top %s selected %s", len(m.Rows()), m.Rows()[0].ID, m.Selection().DeliveryID)
	}
	// Other subscriptions' deliveries are not listed.
	m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: "other", Subscription: fakeapi.SubDatadog}}})
	if len(m.Rows()) != n+1 {
		t.Fatal("out-of-scope delivery listed")
	}
}

func TestRetryErrorClearsOptimisticState(t *testing.T) {
	m, _ := setup(t)
	m.MarkRetrying("x")
	m.Update(ui.RetryDoneMsg{DeliveryID: "x", Err: errors.New("boom")})
	if m.Retrying("x") {
		t.Fatal("still retrying after an error")
	}
}

func TestListIsCapped(t *testing.T) {
	m, _ := setup(t)
	settle(m, m.SetSubscription("busy"))
	var evs []api.Event
	for i := 0; i < Max+100; i++ {
		evs = append(evs, api.Event{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: fmt.Sprintf("d%d", i), Subscription: "busy"}})
	}
	m.Apply(evs)
	if len(m.Rows()) != Max {
		t.Fatalf("%d rows, want the cap %d", len(m.Rows()), Max)
	}
}

func TestEnterOpensDetail(t *testing.T) {
	m, fake := setup(t)
	d, _ := fake.Entry(t.Context(), "e0028")
	settle(m, m.SetEntry(&d.EntryView))
	for i, r := range m.Rows() {
		if r.ID == fakeapi.FailedDelivery {
			m.scroll.Cursor = i
		}
	}
	open, ok := uitest.Find[ui.OpenMsg](uitest.Exec(m.Update(uitest.Key("enter")), time.Second))
	if !ok || open.DeliveryID != fakeapi.FailedDelivery {
		t.Fatalf("open %+v", open)
	}
}

// TestFetchOlderThanEventsDoesNotWinOverThem: an attempt that ends while
// the list is being fetched is reported by an engine event before the
// (older) fetch answers; the row keeps what the event said, and a delivery
// the fetch did not see yet stays listed.
func TestFetchOlderThanEventsDoesNotWinOverThem(t *testing.T) {
	m, _ := setup(t)
	settle(m, m.SetSubscription(fakeapi.SubSlack))
	fetchCmd := m.refetch()
	tick, ok := uitest.Find[fetchTick](uitest.Exec(fetchCmd, time.Second))
	if !ok {
		t.Fatal("no fetch tick")
	}
	call := m.Update(tick) // the fetch is on its way
	var failed api.DeliveryView
	for _, r := range m.Rows() {
		if r.ID == fakeapi.FailedDelivery {
			failed = r
		}
	}
	done := failed
	done.State, done.Attempts, done.LastStatus, done.LastError = api.Delivered, failed.Attempts+1, 202, ""
	done.UpdatedAt = failed.UpdatedAt.Add(time.Minute)
	fresh := api.DeliveryView{ID: "brand-new", Subscription: fakeapi.SubSlack, State: api.InFlight, Attempts: 1, UpdatedAt: done.UpdatedAt}
	m.Apply([]api.Event{
		{Kind: api.DeliveryUpdated, Delivery: &done, Attempt: &api.AttemptView{Number: done.Attempts}},
		{Kind: api.DeliveryUpdated, Delivery: &fresh},
	})
	list, ok := uitest.Find[listMsg](uitest.Exec(call, time.Second))
	if !ok {
		t.Fatal("fetch did not answer")
	}
	m.Update(list)
	got := map[string]api.DeliveryView{}
	for _, r := range m.Rows() {
		got[r.ID] = r
	}
	if r := got[fakeapi.FailedDelivery]; r.State != api.Delivered || r.LastStatus != 202 || r.Attempts != done.Attempts {
		t.Errorf("row after the older fetch: %s #%d code %d; want delivered #%d code 202", r.State, r.Attempts, r.LastStatus, done.Attempts)
	}
	if m.Rows()[0].ID != "brand-new" {
		t.Errorf("top row %q; want the delivery the fetch had not seen", m.Rows()[0].ID)
	}

	// The next fetch is the truth again: what the store says wins.
	settle(m, m.refetch())
	for _, r := range m.Rows() {
		if r.ID == fakeapi.FailedDelivery && r.State != api.Failed {
			t.Errorf("after a later fetch: %s; want the store's failed", r.State)
		}
		if r.ID == "brand-new" {
			t.Error("a delivery the store does not have is still listed after a later fetch")
		}
	}

	// With no fetch under way, events are not kept aside: a console left
	// on a busy subscription must not grow.
	for i := range 1000 {
		m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: fmt.Sprintf("later%d", i), Subscription: fakeapi.SubSlack}}})
	}
	if len(m.live) != 0 {
		t.Errorf("%d events kept aside with no fetch under way", len(m.live))
	}
}

// TestSameEntryNewStatesFetchDetails: when the selected entry's decisions
// report new states, the pane fetches the attempts and codes that go with
// them instead of showing a state without them.
func TestSameEntryNewStatesFetchDetails(t *testing.T) {
	m, fake := setup(t)
	d, _ := fake.Entry(t.Context(), "e0028")
	settle(m, m.SetEntry(&d.EntryView))
	if cmd := m.SetEntry(&d.EntryView); cmd != nil {
		t.Fatal("the same entry with the same states fetched again")
	}
	changed := d.EntryView
	changed.Decisions = slices.Clone(d.Decisions)
	for i := range changed.Decisions {
		if changed.Decisions[i].DeliveryID == fakeapi.FailedDelivery {
			changed.Decisions[i].State = api.Delivered
		}
	}
	cmd := m.SetEntry(&changed)
	if cmd == nil {
		t.Fatal("new states did not fetch the details")
	}
	if _, ok := uitest.Find[fetchTick](uitest.Exec(cmd, time.Second)); !ok {
		t.Fatal("no fetch scheduled")
	}
}

// TestOneFetchTimerHoweverFastTheScopeChanges: thousands of scope changes
// (keys held down, or sent at once over SSH) start one timer, and the list
// fetched once they rest is the last scope's.
func TestOneFetchTimerHoweverFastTheScopeChanges(t *testing.T) {
	m, _ := setup(t)
	timers := 0
	var first tea.Cmd
	for i := range 10_000 {
		sub := fakeapi.SubSlack
		if i%2 == 1 {
			sub = fakeapi.SubDatadog
		}
		if cmd := m.SetSubscription(sub); cmd != nil {
			timers++
			first = cmd
		}
	}
	if timers != 1 {
		t.Fatalf("%d timers for 10,000 scope changes; want 1", timers)
	}
	settle(m, first)
	if len(m.Rows()) == 0 || m.Rows()[0].Subscription != fakeapi.SubDatadog {
		t.Fatalf("rows %+v; want the deliveries of %s, the scope now", m.Rows(), fakeapi.SubDatadog)
	}
}
