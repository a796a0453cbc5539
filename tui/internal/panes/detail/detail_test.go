package detail

import (
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

func open(t *testing.T, m *Model, msg ui.OpenMsg) {
	t.Helper()
	for _, r := range uitest.Exec(m.Open(msg), time.Second) {
		m.Update(r)
	}
}

func TestDeliveryDetailShowsRequestAndAttempts(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Operator))
	m.SetSize(100, 200)
	open(t, m, ui.OpenMsg{View: ui.ViewDeliveryDetail, DeliveryID: fakeapi.FailedDelivery})
	v := m.View()
	for _, want := range []string{
		"✗ failed", "slack-prod", "POST https://hooks.example.com/slack-prod/" + api.Masked,
		"Authorization: Bearer " + api.Masked, `"text": "Turned on flag pricing-page in production"`,
		"Attempts (5)", "#5", "500", "1.2s", "failed: retries exhausted", `"error": "upstream unavailable"`,
	} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	if sel := m.Selection(); sel.DeliveryID != fakeapi.FailedDelivery || sel.DeliveryState != api.Failed {
		t.Errorf("selection %+v", sel)
	}
	// An update of the shown delivery reloads it.
	if cmd := m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: fakeapi.FailedDelivery}}}); cmd == nil {
		t.Error("no reload on update")
	}
	if cmd := m.Apply([]api.Event{{Kind: api.DeliveryUpdated, Delivery: &api.DeliveryView{ID: "other"}}}); cmd != nil {
		t.Error("reload on an unrelated update")
	}
	if _, ok := uitest.Find[ui.CloseMsg](uitest.Exec(m.Update(uitest.Key("esc")), time.Second)); !ok {
		t.Error("esc should close")
	}
}

func TestEntryDetailAndMissing(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Viewer))
	m.SetSize(100, 200)
	open(t, m, ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: "e0029"})
	v := m.View()
	for _, want := range []string{"Policy decisions", "no statement matched flag", "did not match", "Raw entry", `"_id": "e0029"`} {
		if !strings.Contains(v, want) {
			t.Errorf("entry detail lacks %q:\n%s", want, v)
		}
	}
	open(t, m, ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: "nope"})
	if !strings.Contains(m.View(), "could not load: entry nope: not found") {
		t.Errorf("missing entry:\n%s", m.View())
	}
}

func TestTestResult(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Operator))
	m.SetSize(80, 60)
	res, _ := fake.Test(t.Context(), "x", api.TestParams{Subscription: fakeapi.SubLegacy})
	open(t, m, ui.OpenMsg{View: ui.ViewTestResult, Test: &ui.TestOutcome{Subscription: fakeapi.SubLegacy, Result: res}})
	v := m.View()
	if !strings.Contains(v, "✗ endpoint answered 410 Gone in 31ms") || !strings.Contains(v, `"error": "gone"`) {
		t.Errorf("test result:\n%s", v)
	}
	if !strings.Contains(m.Title(), "Connection test · legacy-webhook") {
		t.Errorf("title %q", m.Title())
	}
}

func TestListItemEntriesAreMarked(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	why := "LaunchDarkly has no full entry for it (404: deleted after it was listed)"
	fake.Ingest(api.EntryView{ID: "listed", Kind: "flag", Title: "Turned on flag x", Source: "poller", ListItem: why,
		Decisions: []api.Decision{{Subscription: "slack-prod", Sent: true, State: api.Pending}}}, "", nil)
	m := New(uitest.Common(t, fake, keys.Viewer))
	m.SetSize(160, 200)
	for _, msg := range []ui.OpenMsg{
		{View: ui.ViewEntryDetail, EntryID: "listed"},
		{View: ui.ViewDeliveryDetail, DeliveryID: "dlv_listed_slack-prod"},
	} {
		open(t, m, msg)
		if v := m.View(); !strings.Contains(v, "rendered from a list item only: "+why) {
			t.Errorf("%v lacks the list-item mark:\n%s", msg.View, v)
		}
	}
	open(t, m, ui.OpenMsg{View: ui.ViewEntryDetail, EntryID: "e0029"})
	if strings.Contains(m.View(), "list item") {
		t.Errorf("a full entry is marked:\n%s", m.View())
	}
}
