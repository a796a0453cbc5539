package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

func (b *bundle) prune(t *testing.T, p store.PruneParams) store.PruneResult {
	t.Helper()
	res, err := b.s.Prune(b.ctx, p)
	if err != nil {
		t.Fatalf("Prune(%+v): %v", p, err)
	}
	return res
}

func (b *bundle) exists(t *testing.T, entryID string) bool {
	t.Helper()
	_, err := b.s.GetEntry(b.ctx, entryID)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("GetEntry(%q): %v", entryID, err)
	}
	return true
}

func (b *bundle) wantEntries(t *testing.T, present, gone []string) {
	t.Helper()
	for _, id := range present {
		if !b.exists(t, id) {
			t.Fatalf("entry %s was pruned, want kept", id)
		}
	}
	for _, id := range gone {
		if b.exists(t, id) {
			t.Fatalf("entry %s was kept, want pruned", id)
		}
	}
}

func testPrune(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	// At t0: delivered (with an attempt), failed (with an attempt), pending,
	// filtered at ingest, an entry without deliveries, and an entry with one
	// delivered and one pending delivery.
	filtered := entry("filtered", "hook")
	filtered.Deliveries[0].State = store.Filtered
	b.ingest(t, entry("delivered", "hook"), entry("failed", "hook"), entry("pending", "slow"), filtered, entry("bare"), entry("mixed", "hook", "slow"))
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 3})
	byEntry := map[string]store.Claimed{}
	for _, c := range res.Claimed {
		byEntry[c.EntryID] = c
	}
	rec := &store.Attempt{StatusCode: 500}
	b.finish(t,
		store.Outcome{DeliveryID: byEntry["delivered"].ID, Subscription: byEntry["delivered"].Subscription, Owner: "w", Attempt: 1, State: store.Delivered, Record: rec},
		store.Outcome{DeliveryID: byEntry["failed"].ID, Subscription: byEntry["failed"].Subscription, Owner: "w", Attempt: 1, State: store.Failed, Record: rec},
		store.Outcome{DeliveryID: byEntry["mixed"].ID, Subscription: byEntry["mixed"].Subscription, Owner: "w", Attempt: 1, State: store.Delivered, Record: rec},
	)
	all := []string{"delivered", "failed", "pending", "filtered", "bare", "mixed"}
	const day = 24 * time.Hour

	// Exactly MaxAge old is kept; nothing at all without ages.
	if r := b.prune(t, store.PruneParams{Now: t0.Add(day), MaxAge: day, BatchSize: 1}); r != (store.PruneResult{}) {
		t.Fatalf("prune at the boundary removed %+v", r)
	}
	if r := b.prune(t, store.PruneParams{Now: t0.Add(100 * day)}); r != (store.PruneResult{}) {
		t.Fatalf("prune without a policy removed %+v", r)
	}
	b.wantEntries(t, all, nil)

	// A millisecond later: finished deliveries go, failed and pending stay.
	r := b.prune(t, store.PruneParams{Now: t0.Add(day + time.Millisecond), MaxAge: day, BatchSize: 1})
	want := store.PruneResult{Entries: 3, Deliveries: 3, Attempts: 2}
	if r != want {
		t.Fatalf("prune = %+v, want %+v", r, want)
	}
	b.wantEntries(t, []string{"failed", "pending", "mixed"}, []string{"delivered", "filtered", "bare"})
	if e, _ := b.s.GetEntry(b.ctx, "mixed"); len(e.Deliveries) != 1 || e.Deliveries[0].Subscription != "slow" {
		t.Fatalf("mixed entry deliveries after prune = %+v", e.Deliveries)
	}
	if _, _, err := b.s.GetDelivery(b.ctx, byEntry["delivered"].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pruned delivery still readable: %v", err)
	}

	// Failed ones go only with FailedMaxAge; pending never.
	r = b.prune(t, store.PruneParams{Now: t0.Add(30 * day), MaxAge: day, FailedMaxAge: 7 * day})
	if r != (store.PruneResult{Entries: 1, Deliveries: 1, Attempts: 1}) {
		t.Fatalf("failed prune = %+v", r)
	}
	b.wantEntries(t, []string{"pending", "mixed"}, []string{"failed"})
	stats, _ := b.s.Stats(b.ctx)
	if len(stats) != 1 || stats[0].Subscription != "slow" || stats[0].Counts[store.Pending] != 2 {
		t.Fatalf("stats after prune = %+v", stats)
	}
	if _, err := b.s.Prune(b.ctx, store.PruneParams{MaxAge: -time.Second}); err == nil {
		t.Fatalf("negative MaxAge accepted")
	}
}

func testPruneMaxEntries(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	// Seven entries a second apart, oldest first: 0 pending, 1 failed, 2-5
	// delivered, 6 pending.
	var names []string
	for i := range 7 {
		id := string(rune('a' + i))
		names = append(names, id)
		e := entry(id, "hook")
		e.ReceivedAt = t0.Add(time.Duration(i) * time.Second)
		b.ingest(t, e)
	}
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 7})
	var os []store.Outcome
	for _, c := range res.Claimed {
		switch c.EntryID {
		case "a", "g":
			os = append(os, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: 1, State: store.Pending})
		case "b":
			os = append(os, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: 1, State: store.Failed, Record: &store.Attempt{}})
		default:
			os = append(os, done(c))
		}
	}
	b.finish(t, os...)
	// Keep 3: the oldest terminal ones go (b, c, d, e), the pending a stays
	// although it is the oldest.
	r := b.prune(t, store.PruneParams{Now: t0, MaxEntries: 3, BatchSize: 2})
	if r != (store.PruneResult{Entries: 4, Deliveries: 4, Attempts: 1}) {
		t.Fatalf("MaxEntries prune = %+v", r)
	}
	b.wantEntries(t, []string{"a", "f", "g"}, []string{"b", "c", "d", "e"})
	// At the cap nothing more goes; below it neither.
	if r := b.prune(t, store.PruneParams{Now: t0, MaxEntries: 3}); r != (store.PruneResult{}) {
		t.Fatalf("prune at the cap = %+v", r)
	}
	// When only pending entries are left over the cap, they stay.
	if r := b.prune(t, store.PruneParams{Now: t0, MaxEntries: 1}); r != (store.PruneResult{Entries: 1, Deliveries: 1}) {
		t.Fatalf("prune to 1 = %+v, want only f removed", r)
	}
	b.wantEntries(t, []string{"a", "g"}, []string{"f"})
}
