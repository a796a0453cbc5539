package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

func testIngest(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	date := t0.Add(-time.Hour)
	received := t0.Add(-time.Minute)
	later := t0.Add(time.Hour)
	e := store.NewEntry{
		EntrySummary: store.EntrySummary{
			ID: "61f0c0ffee", Date: date, ReceivedAt: received, Source: "poller", Kind: "flag",
			Title: "Alice turned on flag x", Member: "alice@example.com", Project: "default", Environment: "production",
		},
		Raw: []byte(`{"_id":"61f0c0ffee","kind":"flag"}`),
		Deliveries: []store.NewDelivery{
			{ID: "dl-1", Subscription: "slack", State: store.Pending},
			{ID: "dl-2", Subscription: "datadog", State: store.Filtered, Reason: "policy denies proj/default:env/production"},
			{ID: "dl-3", Subscription: "webhook", State: store.Pending, NextAttemptAt: later},
			{ID: "dl-4", Subscription: "custom", State: store.Skipped, Reason: "no template for kind flag"},
		},
	}
	listed := entry("list-item")
	listed.ListItem = "LaunchDarkly has no full entry for it (404)"
	res := b.ingest(t, e, entry("no-deliveries"), listed)
	if res[0] != (store.IngestResult{EntryID: "61f0c0ffee"}) || res[1] != (store.IngestResult{EntryID: "no-deliveries"}) {
		t.Fatalf("Ingest results = %+v, want both new", res)
	}
	if got, err := b.s.GetEntry(b.ctx, "list-item"); err != nil || got.ListItem != listed.ListItem {
		t.Fatalf("GetEntry(list-item).ListItem = %q, %v; want %q", got.ListItem, err, listed.ListItem)
	}
	if got, err := b.s.GetEntry(b.ctx, "no-deliveries"); err != nil || got.ListItem != "" {
		t.Fatalf("GetEntry(no-deliveries).ListItem = %q, %v; want none", got.ListItem, err)
	}
	listedSeen := false
	all, err := b.s.ListEntries(b.ctx, store.EntryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.ID == "list-item" {
			listedSeen = s.ListItem == listed.ListItem
		}
	}
	if !listedSeen {
		t.Fatalf("ListEntries = %+v: want list-item with its ListItem note", all)
	}

	got, err := b.s.GetEntry(b.ctx, "61f0c0ffee")
	if err != nil {
		t.Fatalf("GetEntry: %v", err)
	}
	if got.ID != e.ID || got.Source != e.Source || got.Kind != e.Kind || got.Title != e.Title ||
		got.Member != e.Member || got.Project != e.Project || got.Environment != e.Environment {
		t.Fatalf("GetEntry summary = %+v, want %+v", got.EntrySummary, e.EntrySummary)
	}
	wantTime(t, "Date", got.Date, date)
	wantTime(t, "ReceivedAt", got.ReceivedAt, received)
	wantBytes(t, "Raw", got.Raw, e.Raw)
	if len(got.Deliveries) != 4 {
		t.Fatalf("GetEntry deliveries = %d, want 4", len(got.Deliveries))
	}
	byID := map[string]store.Delivery{}
	for _, d := range got.Deliveries {
		byID[d.ID] = d
		if d.EntryID != e.ID || d.Attempts != 0 || d.Step != 0 || d.LeaseOwner != "" {
			t.Fatalf("fresh delivery %+v: want EntryID %s, no attempts, no lease", d, e.ID)
		}
		wantTime(t, d.ID+" CreatedAt", d.CreatedAt, t0)
		wantTime(t, d.ID+" UpdatedAt", d.UpdatedAt, t0)
		wantTime(t, d.ID+" EntryDate", d.EntryDate, date)
		if d.EntryKind != "flag" || d.EntryTitle != e.Title {
			t.Fatalf("delivery %s entry fields = %q %q", d.ID, d.EntryKind, d.EntryTitle)
		}
	}
	for _, nd := range e.Deliveries {
		d, ok := byID[nd.ID]
		if !ok {
			t.Fatalf("delivery %s missing", nd.ID)
		}
		if d.Subscription != nd.Subscription || d.State != nd.State || d.Reason != nd.Reason {
			t.Fatalf("delivery %s = %s/%s/%q, want %s/%s/%q", nd.ID, d.Subscription, d.State, d.Reason, nd.Subscription, nd.State, nd.Reason)
		}
	}
	wantTime(t, "pending NextAttemptAt defaults to now", byID["dl-1"].NextAttemptAt, t0)
	wantTime(t, "pending NextAttemptAt", byID["dl-3"].NextAttemptAt, later)

	bare, err := b.s.GetEntry(b.ctx, "no-deliveries")
	if err != nil {
		t.Fatalf("GetEntry: %v", err)
	}
	wantTime(t, "ReceivedAt defaults to the store clock", bare.ReceivedAt, t0)
	if len(bare.Deliveries) != 0 {
		t.Fatalf("entry without deliveries has %d", len(bare.Deliveries))
	}
}

func testIngestDedupe(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	first := entry("e1", "a")
	first.Title = "first"
	again := entry("e1", "a", "b") // same ID within one batch, more deliveries
	again.Title = "second"
	res := b.ingest(t, first, entry("e2", "a"), again)
	want := []store.IngestResult{{EntryID: "e1"}, {EntryID: "e2"}, {EntryID: "e1", Duplicate: true}}
	for i := range want {
		if res[i] != want[i] {
			t.Fatalf("results = %+v, want %+v", res, want)
		}
	}
	// Across batches: e2 again, e3 new.
	res = b.ingest(t, entry("e2", "a", "b"), entry("e3", "a"))
	if !res[0].Duplicate || res[1].Duplicate {
		t.Fatalf("second batch results = %+v, want e2 duplicate, e3 new", res)
	}
	got, err := b.s.GetEntry(b.ctx, "e1")
	if err != nil {
		t.Fatalf("GetEntry: %v", err)
	}
	if got.Title != "first" || len(got.Deliveries) != 1 {
		t.Fatalf("duplicate changed the entry: title %q, %d deliveries", got.Title, len(got.Deliveries))
	}
	ds, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{})
	if err != nil {
		t.Fatalf("ListDeliveries: %v", err)
	}
	wantInt(t, "deliveries stored", len(ds), 3)
	es, err := b.s.ListEntries(b.ctx, store.EntryFilter{})
	if err != nil {
		t.Fatalf("ListEntries: %v", err)
	}
	wantInt(t, "entries stored", len(es), 3)
}

func testIngestInvalid(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingest(t, entry("existing", "a"))
	inflight := entry("x", "a")
	inflight.Deliveries[0].State = store.InFlight
	twice := entry("x", "a")
	twice.Deliveries = append(twice.Deliveries, store.NewDelivery{ID: "other", Subscription: "a", State: store.Pending})
	reused := entry("x", "a")
	reused.Deliveries[0].ID = did("existing", "a") // another entry's delivery id
	noSub := entry("x", "a")
	noSub.Deliveries[0].Subscription = ""
	noDeliveryID := entry("x", "a")
	noDeliveryID.Deliveries[0].ID = ""
	leasedFiltered := entry("x", "a")
	leasedFiltered.Deliveries[0].State = store.Filtered
	leasedFiltered.Deliveries[0].Lease = &store.Lease{Owner: "w", Until: t0.Add(time.Minute)}
	leaseNoOwner := entry("x", "a")
	leaseNoOwner.Deliveries[0].Lease = &store.Lease{Until: t0.Add(time.Minute)}
	leaseNoUntil := entry("x", "a")
	leaseNoUntil.Deliveries[0].Lease = &store.Lease{Owner: "w"}
	cases := map[string]store.NewEntry{
		"lease on filtered":    leasedFiltered,
		"lease without owner":  leaseNoOwner,
		"lease without until":  leaseNoUntil,
		"empty entry id":       entry(""),
		"inflight state":       inflight,
		"two for one sub":      twice,
		"delivery id reused":   reused,
		"empty subscription":   noSub,
		"empty delivery id":    noDeliveryID,
		"unknown state":        {EntrySummary: store.EntrySummary{ID: "x"}, Deliveries: []store.NewDelivery{{ID: "x/a", Subscription: "a", State: "bogus"}}},
		"empty delivery state": {EntrySummary: store.EntrySummary{ID: "x"}, Deliveries: []store.NewDelivery{{ID: "x/a", Subscription: "a"}}},
	}
	for name, bad := range cases {
		cursor := &store.Cursor{Source: "poller", Position: "p-" + name}
		_, err := b.s.Ingest(b.ctx, []store.NewEntry{entry("valid-"+name, "a"), bad}, cursor)
		if err == nil {
			t.Fatalf("%s: Ingest succeeded, want an error", name)
		}
		if errors.Is(err, store.ErrClosed) {
			t.Fatalf("%s: %v", name, err)
		}
		// Nothing of the call is stored: not the valid entry, not the cursor.
		if _, err := b.s.GetEntry(b.ctx, "valid-"+name); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: the valid entry of a failed Ingest was stored (err %v)", name, err)
		}
		if _, err := b.s.GetCursor(b.ctx, "poller"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: the cursor of a failed Ingest advanced (err %v)", name, err)
		}
	}
	// The store still works after rejected calls.
	if res := b.ingest(t, entry("after", "a")); res[0].Duplicate {
		t.Fatalf("ingest after failures: %+v", res)
	}
}

func testCursor(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	if _, err := b.s.GetCursor(b.ctx, "poller"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetCursor before any: %v, want ErrNotFound", err)
	}
	if _, err := b.s.Ingest(b.ctx, []store.NewEntry{entry("e1", "a")}, &store.Cursor{Source: "poller", Position: "page-1"}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	c, err := b.s.GetCursor(b.ctx, "poller")
	if err != nil || c.Source != "poller" || c.Position != "page-1" {
		t.Fatalf("GetCursor = %+v, %v; want page-1", c, err)
	}
	wantTime(t, "cursor UpdatedAt defaults to now", c.UpdatedAt, t0)

	// A page of duplicates still moves the cursor; so does an empty page.
	at := b.clock.Advance(time.Second)
	if _, err := b.s.Ingest(b.ctx, []store.NewEntry{entry("e1", "a")}, &store.Cursor{Source: "poller", Position: "page-2"}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if c, _ := b.s.GetCursor(b.ctx, "poller"); c.Position != "page-2" || !c.UpdatedAt.Equal(at) {
		t.Fatalf("cursor after duplicate page = %+v", c)
	}
	explicit := t0.Add(time.Hour)
	if _, err := b.s.Ingest(b.ctx, nil, &store.Cursor{Source: "poller", Position: "page-3", UpdatedAt: explicit}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if c, _ := b.s.GetCursor(b.ctx, "poller"); c.Position != "page-3" || !c.UpdatedAt.Equal(explicit) {
		t.Fatalf("cursor after empty page = %+v", c)
	}
	// Sources are independent.
	if _, err := b.s.Ingest(b.ctx, nil, &store.Cursor{Source: "replay", Position: "r"}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if c, _ := b.s.GetCursor(b.ctx, "poller"); c.Position != "page-3" {
		t.Fatalf("another source moved the poller cursor: %+v", c)
	}
	// A failing Ingest does not move it (the entry is invalid).
	if _, err := b.s.Ingest(b.ctx, []store.NewEntry{entry("")}, &store.Cursor{Source: "poller", Position: "page-4"}); err == nil {
		t.Fatalf("Ingest of an entry without ID succeeded")
	}
	if c, _ := b.s.GetCursor(b.ctx, "poller"); c.Position != "page-3" {
		t.Fatalf("failed Ingest moved the cursor: %+v", c)
	}
	if _, err := b.s.Ingest(b.ctx, nil, &store.Cursor{Position: "x"}); err == nil {
		t.Fatalf("cursor without Source accepted")
	}
}

// testIngestLeased: a delivery ingested with a Lease is stored as Claim
// would leave it, is not claimable, wakes no claimer, finishes with its
// owner and attempt 1, and is rescued when the lease runs out.
func testIngestLeased(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	ch := b.s.Watch(ctx)
	const lease = 30 * time.Second
	leased := func(id string) store.NewEntry {
		e := entry(id, "hook", "other")
		e.Deliveries[0].Lease = &store.Lease{Owner: "worker-a", Until: t0.Add(lease)}
		return e
	}
	b.ingest(t, leased("e1"), leased("e2"))
	c := nextChange(t, ch, kind(store.EntriesIngested))
	if slices.Contains(c.Subscriptions, "hook") || !slices.Contains(c.Subscriptions, "other") {
		t.Fatalf("ingest change = %+v: want only the unleased subscription to wake claimers", c)
	}

	d, attempts := b.delivery(t, did("e1", "hook"))
	wantState(t, d, store.InFlight)
	if d.Attempts != 1 || d.Step != 0 || d.LeaseOwner != "worker-a" || len(attempts) != 0 {
		t.Fatalf("leased delivery %+v (%d attempts recorded): want attempt 1 leased to worker-a", d, len(attempts))
	}
	wantTime(t, "LeaseUntil", d.LeaseUntil, t0.Add(lease))
	wantTime(t, "LastAttemptAt", d.LastAttemptAt, t0)
	wantTime(t, "NextAttemptAt", d.NextAttemptAt, t0)

	// Claim sees only the unleased deliveries, and counts the leased ones
	// as in flight.
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "worker-b"})
	wantInt(t, "claimed from hook", len(res.Claimed), 0)
	res = b.claim(t, store.ClaimParams{Subscription: "other", Owner: "worker-b"})
	wantInt(t, "claimed from other", len(res.Claimed), 2)
	b.finish(t, done(res.Claimed[0]), done(res.Claimed[1]))
	b.ingest(t, entry("e3", "hook"))
	res = b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "worker-b", MaxInFlight: 2})
	if len(res.Claimed) != 0 || !res.Throttled {
		t.Fatalf("claim with MaxInFlight 2 and two leased at ingest = %+v, want throttled", res)
	}

	// The owner finishes attempt 1; someone else cannot.
	fr := b.finish(t, store.Outcome{DeliveryID: did("e1", "hook"), Subscription: "hook", Owner: "worker-b", Attempt: 1, State: store.Delivered})
	if fr.Applied != 0 {
		t.Fatalf("finish by a non-owner = %+v, want stale", fr)
	}
	fr = b.finish(t, store.Outcome{DeliveryID: did("e1", "hook"), Subscription: "hook", Owner: "worker-a", Attempt: 1, State: store.Delivered,
		Record: &store.Attempt{StatusCode: 200, StartedAt: t0}})
	if fr.Applied != 1 {
		t.Fatalf("finish by the owner = %+v", fr)
	}
	d, attempts = b.delivery(t, did("e1", "hook"))
	wantState(t, d, store.Delivered)
	if len(attempts) != 1 || attempts[0].Number != 1 {
		t.Fatalf("attempts = %+v, want number 1", attempts)
	}

	// The other one's owner never answers: rescued after the lease.
	n, err := b.s.RescueExpired(b.ctx, store.RescueParams{Now: t0.Add(lease + time.Millisecond)})
	if err != nil || n.Requeued != 1 {
		t.Fatalf("RescueExpired = %+v, %v; want 1 requeued", n, err)
	}
	d, _ = b.delivery(t, did("e2", "hook"))
	wantState(t, d, store.Pending)
	res = b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "worker-b", Now: t0.Add(lease + time.Second)})
	// e3 was due first; e2 became due when it was rescued.
	wantStrings(t, "reclaimed", ids(res.Claimed), []string{did("e3", "hook"), did("e2", "hook")})
	wantInt(t, "attempt after rescue", res.Claimed[1].Attempts, 2)
}
