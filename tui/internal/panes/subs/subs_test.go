package subs

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

func TestStatesReadWithoutColor(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Operator))
	m.SetSize(118, 6)
	m.Update(ui.StatsMsg{Subs: fake.Subscriptions()})
	v := m.View()
	for _, want := range []string{"✗ failed", "⟳ retrying", "‖ paused", "⊘ disabled (410 Gone)", "in 12s", "503 · 8s ago", "maintenance window (alice)"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if !strings.Contains(m.Title(), "3 need attention") {
		t.Errorf("title %q", m.Title())
	}
}

func TestCursorStaysOnSubscription(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Operator))
	m.SetSize(80, 6)
	subs := fake.Subscriptions()
	m.SetSubs(subs)
	m.Update(uitest.Key("down"))
	m.Update(uitest.Key("down"))
	if m.Selected() != fakeapi.SubTeams {
		t.Fatalf("selected %s", m.Selected())
	}
	// A poll returns them in another order: the cursor follows the name.
	rev := []api.SubscriptionInfo{subs[3], subs[2], subs[1], subs[0]}
	m.SetSubs(rev)
	if m.Selected() != fakeapi.SubTeams {
		t.Fatalf("after reorder selected %s", m.Selected())
	}
	// A live update resumes it.
	upd := subs[2]
	upd.Paused = false
	m.Apply([]api.Event{{Kind: api.SubscriptionUpdated, Subscription: &upd}})
	if s, _ := m.Get(fakeapi.SubTeams); s.Paused {
		t.Fatal("update not applied")
	}
	msgs := uitest.Exec(m.Update(uitest.Key("enter")), time.Second)
	if sc, ok := uitest.Find[ui.ScopeMsg](msgs); !ok || sc.Subscription != fakeapi.SubTeams || !sc.Focus {
		t.Fatalf("enter: %+v", msgs)
	}
}

func TestNarrowDropsOptionalColumns(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Operator))
	m.SetSize(70, 6)
	m.SetSubs(fake.Subscriptions())
	v := m.View()
	if strings.Contains(v, "integration") || !strings.Contains(v, "subscription") {
		t.Fatalf("narrow view:\n%s", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if ui.Width(l) != 70 {
			t.Errorf("line %q is %d wide", l, ui.Width(l))
		}
	}
}
