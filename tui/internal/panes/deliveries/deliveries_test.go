package deliveries

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/auditrelay/auditrelay/core/engine"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func setup(t *testing.T) (*Model, *fakeapi.API) {
	api := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, api, keys.Operator))
	m.SetSize(90, 12)
	m.SetFocused(true)
	return m, api
}

// settle runs cmd and what its messages return, as the program would.
func settle(m *Model, cmd tea.Cmd) {
	for _, msg := range uitest.Exec(cmd, time.Second) {
		settle(m, m.Update(msg))
	}
}

func TestEntryScopeShowsDecisionsThenDetails(t *testing.T) {
	m, api := setup(t)
	d, _ := api.Entry(t.Context(), "e0028")
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
	var failed *engine.DeliveryView
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
	upd.State = engine.Delivered
	m.Apply([]engine.Event{{Kind: engine.DeliveryUpdated, Delivery: &upd, Attempt: &engine.AttemptView{Number: 6}}})
	if m.Retrying(fakeapi.FailedDelivery) || !strings.Contains(m.View(), "✓ delivered") {
		t.Fatalf("after the answer:\n%s", m.View())
	}
	// A new delivery of the subscription goes on top; the cursor stays.
	n := len(m.Rows())
	m.Apply([]engine.Event{{Kind: engine.DeliveryUpdated, Delivery: &engine.DeliveryView{ID: "new", Subscription: fakeapi.SubSlack, State: engine.Pending}}})
	if len(m.Rows()) != n+1 || m.Rows()[0].ID != "new" || m.Selection().DeliveryID != fakeapi.FailedDelivery {
		t.Fatalf("rows %d top %s selected %s", len(m.Rows()), m.Rows()[0].ID, m.Selection().DeliveryID)
	}
	// Other subscriptions' deliveries are not listed.
	m.Apply([]engine.Event{{Kind: engine.DeliveryUpdated, Delivery: &engine.DeliveryView{ID: "other", Subscription: fakeapi.SubDatadog}}})
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
	var evs []engine.Event
	for i := 0; i < Max+100; i++ {
		evs = append(evs, engine.Event{Kind: engine.DeliveryUpdated, Delivery: &engine.DeliveryView{ID: fmt.Sprintf("d%d", i), Subscription: "busy"}})
	}
	m.Apply(evs)
	if len(m.Rows()) != Max {
		t.Fatalf("%d rows, want the cap %d", len(m.Rows()), Max)
	}
}

func TestEnterOpensDetail(t *testing.T) {
	m, api := setup(t)
	d, _ := api.Entry(t.Context(), "e0028")
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
