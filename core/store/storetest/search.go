package storetest

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// testSearchEntries: every search field of EntryFilter narrows the list as
// documented, alone and together, with paging.
func testSearchEntries(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	type row struct {
		id, kind, title, member, proj, env string
		hour                               int
	}
	rows := []row{
		{"a1", "flag", "Turned on new-checkout", "Alice@example.com", "web", "production", 0},
		{"a2", "segment", "Edited beta_users", "bob@example.com", "web", "test", 1},
		{"a3", "flag", "Archived old 100% rollout", "alice@example.com", "mobile", "production", 2},
		{"a4", "project", "Created project", "carol@example.com", "api", "", 3},
		{"a5", "flag", "Turned off new-checkout", "bob@example.com", "web", "production", 4},
	}
	var es []store.NewEntry
	for _, r := range rows {
		e := entry(r.id, "slack", "hook")
		e.Kind, e.Title, e.Member, e.Project, e.Environment = r.kind, r.title, r.member, r.proj, r.env
		e.ReceivedAt = t0.Add(time.Duration(r.hour) * time.Hour)
		if r.id == "a2" {
			e.Deliveries[0].State, e.Deliveries[0].Reason = store.Filtered, "not allowed"
		}
		es = append(es, e)
	}
	b.ingest(t, es...)
	// a3's hook delivery fails with 503, a5's gets a 429 and retries.
	claimed := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w"}).Claimed
	for _, c := range claimed {
		switch c.EntryID {
		case "a3":
			b.finish(t, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: c.Attempts, State: store.Failed,
				Record: &store.Attempt{StatusCode: 503}})
		case "a5":
			b.finish(t, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: c.Attempts, State: store.Pending, Step: 1,
				NextAttemptAt: t0.Add(time.Hour), Record: &store.Attempt{StatusCode: 429}})
		default:
			b.finish(t, done(c))
		}
	}
	list := func(f store.EntryFilter) string {
		t.Helper()
		got, err := b.s.ListEntries(b.ctx, f)
		if err != nil {
			t.Fatalf("ListEntries(%+v): %v", f, err)
		}
		ids := make([]string, len(got))
		for i, e := range got {
			ids[i] = e.ID
		}
		return strings.Join(ids, " ")
	}
	cases := []struct {
		name string
		f    store.EntryFilter
		want string
	}{
		{"since", store.EntryFilter{Since: t0.Add(3 * time.Hour)}, "a5 a4"},
		{"until", store.EntryFilter{Until: t0.Add(time.Hour)}, "a1"},
		{"range", store.EntryFilter{Since: t0.Add(time.Hour), Until: t0.Add(3 * time.Hour)}, "a3 a2"},
		{"kinds any of", store.EntryFilter{Kinds: []string{"segment", "project"}}, "a4 a2"},
		{"project glob", store.EntryFilter{Projects: []string{"w*"}}, "a5 a2 a1"},
		{"environment", store.EntryFilter{Environments: []string{"PRODUCTION"}}, "a5 a3 a1"},
		{"member ignores case", store.EntryFilter{Members: []string{"alice@example.com"}}, "a3 a1"},
		{"text in title", store.EntryFilter{Text: []string{"NEW-CHECKOUT"}}, "a5 a1"},
		{"text is literal", store.EntryFilter{Text: []string{"100%"}}, "a3"},
		{"underscore is literal", store.EntryFilter{Text: []string{"turned_on"}}, ""},
		{"text in member", store.EntryFilter{Text: []string{"carol"}}, "a4"},
		{"every text", store.EntryFilter{Text: []string{"turned", "off"}}, "a5"},
		{"sent to", store.EntryFilter{Subscriptions: []string{"slack"}}, "a5 a4 a3 a1"},
		{"sent to glob", store.EntryFilter{Subscriptions: []string{"sl*"}}, "a5 a4 a3 a1"},
		{"state", store.EntryFilter{States: []store.State{store.Failed}}, "a3"},
		{"code 5xx", store.EntryFilter{Codes: []store.CodeRange{{Min: 500, Max: 599}}}, "a3"},
		{"code 429", store.EntryFilter{Codes: []store.CodeRange{{Min: 429, Max: 429}}}, "a5"},
		{"codes any of", store.EntryFilter{Codes: []store.CodeRange{{Min: 429, Max: 429}, {Min: 500, Max: 599}}}, "a5 a3"},
		{"together", store.EntryFilter{Since: t0.Add(time.Hour), Kinds: []string{"flag"}, Environments: []string{"production"}}, "a5 a3"},
		{"with paging", store.EntryFilter{Kinds: []string{"flag"}, Before: t0.Add(4 * time.Hour), Limit: 1}, "a3"},
	}
	for _, c := range cases {
		if got := list(c.f); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	// The decisions of a page of entries in one query.
	ds, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{EntryIDs: []string{"a2", "a4", "nope"}, Limit: 10})
	if err != nil {
		t.Fatalf("ListDeliveries(EntryIDs): %v", err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.ID)
	}
	sort.Strings(got)
	if want := []string{"a2/hook", "a2/slack", "a4/hook", "a4/slack"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ListDeliveries(EntryIDs a2 a4) = %v, want %v", got, want)
	}
	if _, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{EntryIDs: make([]string, store.MaxListIDs+1)}); err == nil {
		t.Errorf("ListDeliveries with %d entry ids: no error", store.MaxListIDs+1)
	}
	many := make([]string, store.MaxSearchValues+1)
	for i := range many {
		many[i] = "x"
	}
	if _, err := b.s.ListEntries(b.ctx, store.EntryFilter{Text: many}); err == nil {
		t.Errorf("ListEntries with %d text values: no error", len(many))
	}
}
