package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// SearchN is how many entries the search benchmark stores.
const SearchN = 1_000_000

// searchBase is when the newest searched entry was received; entry i came
// i minutes earlier, so a million entries span about 694 days.
var searchBase = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// FillSearch stores n entries for the search benchmark, 5,000 per Ingest:
// one a minute back from searchBase, small bodies, kinds flag (90%) and
// segment (10%), ten projects, a member who made one change in 10,000,
// one delivery each for "hook" (one in ten filtered by its policy, the
// rest skipped, so none are claimed while the benchmark runs).
func FillSearch(tb testing.TB, s store.Store, n int) {
	tb.Helper()
	const batch = 5000
	ctx := context.Background()
	es := make([]store.NewEntry, 0, batch)
	raw := []byte(`{"_id":"x"}`)
	for i := 0; i < n; i += batch {
		es = es[:0]
		for j := i; j < min(i+batch, n); j++ {
			id := fmt.Sprintf("s%07d", j)
			at := searchBase.Add(-time.Duration(j) * time.Minute)
			e := store.NewEntry{
				EntrySummary: store.EntrySummary{ID: id, Date: at, ReceivedAt: at, Source: "webhook", Kind: "flag",
					Title: fmt.Sprintf("Alice turned on flag checkout-%d", j), Member: "alice@example.com",
					Project: fmt.Sprintf("proj-%d", j%10), Environment: "production"},
				Raw:        raw,
				Deliveries: []store.NewDelivery{{ID: id + "/hook", Subscription: "hook", State: store.Skipped, Reason: "no template"}},
			}
			if j%10 == 3 {
				e.Kind = "segment"
				e.Deliveries[0].State = store.Filtered
			}
			if j%10_000 == 7 {
				e.Member = "rare@example.com"
			}
			es = append(es, e)
		}
		if _, err := s.Ingest(ctx, es, nil); err != nil {
			tb.Fatalf("Ingest: %v", err)
		}
	}
}

// SearchCases are the searches the benchmark times: the first page (100
// entries) of each, as the console asks for it.
func SearchCases() []struct {
	Name string
	F    store.EntryFilter
} {
	day := searchBase.Add(-100 * 24 * time.Hour)
	return []struct {
		Name string
		F    store.EntryFilter
	}{
		{"newest", store.EntryFilter{}},
		{"one day 100 days back", store.EntryFilter{Since: day, Until: day.Add(24 * time.Hour)}},
		{"one day + kind + project", store.EntryFilter{Since: day, Until: day.Add(24 * time.Hour), Kinds: []string{"segment"}, Projects: []string{"proj-3"}}},
		{"one day + text", store.EntryFilter{Since: day, Until: day.Add(24 * time.Hour), Text: []string{"checkout-14400"}}},
		{"kind (10%) anywhere", store.EntryFilter{Kinds: []string{"segment"}}},
		{"sent to hook (90%)", store.EntryFilter{Subscriptions: []string{"hook"}}},
		{"rare member, 100 of 1M", store.EntryFilter{Members: []string{"rare@example.com"}}},
		{"rare member within 30 days", store.EntryFilter{Since: searchBase.Add(-30 * 24 * time.Hour), Members: []string{"rare@example.com"}}},
		{"no match, whole store", store.EntryFilter{Codes: []store.CodeRange{{Min: 500, Max: 599}}}},
	}
}

// Search times each of SearchCases on s, filled by FillSearch.
func Search(b *testing.B, s store.Store) {
	ctx := context.Background()
	for _, c := range SearchCases() {
		b.Run(c.Name, func(b *testing.B) {
			f := c.F
			var rows int
			for b.Loop() {
				got, err := s.ListEntries(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				rows = len(got)
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
