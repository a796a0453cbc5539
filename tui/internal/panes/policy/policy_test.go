package policy

import (
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
	m.SetSize(70, 20)
	return m, fake
}

func demoEntry(t *testing.T, fake *fakeapi.API, id string) *api.EntryView {
	d, err := fake.Entry(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return &d.EntryView
}

func TestSummariesAtOnceExplanationAfterDebounce(t *testing.T) {
	m, fake := setup(t)
	cmd := m.SetEntry(demoEntry(t, fake, "e0029"), 0)
	v := m.View()
	if !strings.Contains(v, "slack-prod") || !strings.Contains(v, "no statement matched flag") {
		t.Fatalf("summary view:\n%s", v)
	}
	if strings.Contains(v, "did not match") || !strings.Contains(m.Info(), "summaries") {
		t.Fatal("the full explanation must wait for the debounce")
	}
	for _, msg := range uitest.Exec(cmd, time.Second) {
		for _, msg := range uitest.Exec(m.Update(msg), time.Second) {
			m.Update(msg)
		}
	}
	v = m.View()
	if !strings.Contains(v, "did not match: the entry is a flag in proj/web:env/staging") {
		t.Fatalf("explanation missing:\n%s", v)
	}
	if !strings.Contains(m.Title(), "sent to 2 of 4") {
		t.Errorf("title %q", m.Title())
	}
}

// TestStaleFetchIsIgnored: a selection that moved on before the debounce
// fired fetches nothing for the entry it left; the one pending timer
// starts again and then fetches the entry selected now.
func TestStaleFetchIsIgnored(t *testing.T) {
	m, fake := setup(t)
	first := m.SetEntry(demoEntry(t, fake, "e0028"), 0)
	if cmd := m.SetEntry(demoEntry(t, fake, "e0029"), 0); cmd != nil { // moved on before the tick
		t.Fatal("a second timer was started while one is pending")
	}
	var again tea.Cmd
	for _, msg := range uitest.Exec(first, time.Second) {
		again = m.Update(msg)
	}
	if m.detail != nil {
		t.Fatal("no detail should be loaded")
	}
	msgs := uitest.Exec(again, time.Second)
	if _, ok := uitest.Find[fetchTick](msgs); !ok || len(msgs) != 1 {
		t.Fatalf("the stale tick must only start the timer again, got %v", msgs)
	}
	for _, msg := range uitest.Exec(m.Update(msgs[0]), time.Second) {
		m.Update(msg)
	}
	if m.detail == nil || m.detail.ID != "e0029" {
		t.Fatalf("detail %+v; want e0029's, the entry selected now", m.detail)
	}
}

// TestOneFetchTimerHoweverFastTheSelectionMoves: thousands of selection
// changes (keys held down, or sent at once over SSH) start one timer, not
// one each.
func TestOneFetchTimerHoweverFastTheSelectionMoves(t *testing.T) {
	m, api := setup(t)
	a, b := demoEntry(t, api, "e0028"), demoEntry(t, api, "e0029")
	timers := 0
	for i := range 10_000 {
		e := a
		if i%2 == 1 {
			e = b
		}
		if m.SetEntry(e, 0) != nil {
			timers++
		}
	}
	if timers != 1 {
		t.Fatalf("%d timers started for 10,000 selection changes; want 1", timers)
	}
}

func TestDecisionSelectionAndOpen(t *testing.T) {
	m, fake := setup(t)
	m.SetEntry(demoEntry(t, fake, "e0028"), 0)
	if sel := m.Selection(); sel.Subscription != fakeapi.SubSlack || sel.DeliveryID != fakeapi.FailedDelivery || sel.DeliveryState != api.Failed {
		t.Fatalf("selection %+v", sel)
	}
	m.Update(uitest.Key("down"))
	if sel := m.Selection(); sel.Subscription != fakeapi.SubDatadog {
		t.Fatalf("after down: %+v", sel)
	}
	msgs := uitest.Exec(m.Update(uitest.Key("enter")), time.Second)
	open, ok := uitest.Find[ui.OpenMsg](msgs)
	if !ok || open.View != ui.ViewDeliveryDetail || open.DeliveryID != "dlv_e0028_datadog-events" {
		t.Fatalf("enter: %+v", msgs)
	}
	// A filtered decision has no delivery: enter shows the entry instead.
	m.Update(uitest.Key("G"))
	open, _ = uitest.Find[ui.OpenMsg](uitest.Exec(m.Update(uitest.Key("enter")), time.Second))
	if open.View != ui.ViewEntryDetail || open.EntryID != "e0028" {
		t.Fatalf("enter on filtered: %+v", open)
	}
}

func TestNewVersionKeepsCursor(t *testing.T) {
	m, fake := setup(t)
	e := demoEntry(t, fake, "e0028")
	m.SetEntry(e, 0)
	m.Update(uitest.Key("down"))
	e.Decisions[0].State = api.Delivered
	if cmd := m.SetEntry(e, 1); cmd != nil {
		t.Fatal("a new version of the same entry must not refetch")
	}
	if m.cursor != 1 || m.Entry().Decisions[0].State != api.Delivered {
		t.Fatalf("cursor %d state %s", m.cursor, m.Entry().Decisions[0].State)
	}
}
