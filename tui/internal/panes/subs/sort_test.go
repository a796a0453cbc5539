package subs

import (
	"slices"
	"strings"
	"testing"

	"github.com/auditrelay/auditrelay/core/engine/api"
	"github.com/auditrelay/auditrelay/tui/internal/fakeapi"
	"github.com/auditrelay/auditrelay/tui/internal/keys"
	"github.com/auditrelay/auditrelay/tui/internal/ui"
	"github.com/auditrelay/auditrelay/tui/internal/uitest"
)

// TestSortByEachColumn: A, K, S and T order the subscriptions by last
// answer, integration, attention and name; again reverses; the order holds
// across polls and the cursor stays on its subscription.
func TestSortByEachColumn(t *testing.T) {
	fake := fakeapi.Demo(uitest.Now)
	m := New(uitest.Common(t, fake, keys.Operator))
	m.SetSize(118, 8)
	subs := fake.Subscriptions()
	m.Update(ui.StatsMsg{Subs: subs})
	byName := func(less func(a, b api.SubscriptionInfo) int) []string {
		s := slices.Clone(subs)
		slices.SortStableFunc(s, less)
		return m.namesOf(s)
	}
	cases := []struct {
		key, label string
		want       []string
	}{
		{"T", "name ↑", byName(func(a, b api.SubscriptionInfo) int { return strings.Compare(a.Name, b.Name) })},
		{"T", "name ↓", byName(func(a, b api.SubscriptionInfo) int { return strings.Compare(b.Name, a.Name) })},
		{"K", "integration ↑", byName(func(a, b api.SubscriptionInfo) int { return strings.Compare(a.Integration, b.Integration) })},
		{"A", "time ↑", byName(func(a, b api.SubscriptionInfo) int { return a.LastAttemptAt.Compare(b.LastAttemptAt) })},
		{"S", "status ↑", byName(func(a, b api.SubscriptionInfo) int { return attention(&a) - attention(&b) })},
	}
	for _, tc := range cases {
		sel := m.Selected()
		m.Update(uitest.Key(tc.key))
		if got := m.Names(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.label, got, tc.want)
		}
		if !strings.Contains(m.Title(), "sorted by "+tc.label) {
			t.Errorf("%s: title %q", tc.label, m.Title())
		}
		if m.Selected() != sel {
			t.Errorf("%s: the cursor moved from %s to %s", tc.label, sel, m.Selected())
		}
		// A poll brings the engine's order; the pane keeps its own.
		m.Update(ui.StatsMsg{Subs: fake.Subscriptions()})
		if got := m.Names(); !slices.Equal(got, tc.want) {
			t.Errorf("%s after a poll: %v", tc.label, got)
		}
	}
	if first := m.Names()[0]; attention(ptr(fake, first)) != 0 {
		t.Errorf("status sort puts %s first, not the disabled one", first)
	}
}

func (m *Model) namesOf(s []api.SubscriptionInfo) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i].Name
	}
	return out
}

func ptr(fake *fakeapi.API, name string) *api.SubscriptionInfo {
	for _, s := range fake.Subscriptions() {
		if s.Name == name {
			return &s
		}
	}
	return nil
}
