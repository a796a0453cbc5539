package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

func testLead(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	const ttl = 15 * time.Second
	lead := func(owner string, at time.Time) bool {
		t.Helper()
		ok, err := b.s.TryLead(b.ctx, store.LeadParams{Name: "poller", Owner: owner, TTL: ttl, Now: at})
		if err != nil {
			t.Fatalf("TryLead(%s): %v", owner, err)
		}
		return ok
	}
	if !lead("a", t0) {
		t.Fatalf("a did not get a free lease")
	}
	if lead("b", t0.Add(time.Second)) {
		t.Fatalf("b got a held lease")
	}
	if !lead("a", t0.Add(10*time.Second)) { // renew: now expires at t0+25s
		t.Fatalf("a could not renew")
	}
	if lead("b", t0.Add(ttl)) {
		t.Fatalf("b took over a renewed lease at the old expiry")
	}
	if lead("b", t0.Add(25*time.Second-time.Millisecond)) {
		t.Fatalf("b took over before expiry")
	}
	if !lead("b", t0.Add(25*time.Second)) {
		t.Fatalf("b did not take over at expiry")
	}
	if lead("a", t0.Add(26*time.Second)) {
		t.Fatalf("a got the lease back while b holds it")
	}
	// Names are independent; the default clock works.
	ok, err := b.s.TryLead(b.ctx, store.LeadParams{Name: "pruner", Owner: "a", TTL: ttl})
	if err != nil || !ok {
		t.Fatalf("TryLead pruner = %v, %v", ok, err)
	}
	// Resign by a non-holder does nothing; by the holder frees the lease.
	if err := b.s.Resign(b.ctx, "poller", "a"); err != nil {
		t.Fatalf("Resign: %v", err)
	}
	if lead("a", t0.Add(27*time.Second)) {
		t.Fatalf("a's resign of b's lease freed it")
	}
	if err := b.s.Resign(b.ctx, "poller", "b"); err != nil {
		t.Fatalf("Resign: %v", err)
	}
	if !lead("a", t0.Add(27*time.Second)) {
		t.Fatalf("a could not take the lease b resigned")
	}
	for name, p := range map[string]store.LeadParams{
		"no name":  {Owner: "a", TTL: ttl},
		"no owner": {Name: "x", TTL: ttl},
		"no ttl":   {Name: "x", Owner: "a"},
	} {
		if _, err := b.s.TryLead(b.ctx, p); err == nil {
			t.Fatalf("%s: TryLead succeeded", name)
		}
	}
}

func testActions(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	if as, err := b.s.ListActions(b.ctx, time.Time{}, 0); err != nil || len(as) != 0 {
		t.Fatalf("ListActions of an empty store = %+v, %v", as, err)
	}
	first, err := b.s.RecordAction(b.ctx, store.Action{Actor: "alice", Kind: "retry", Target: "e1/hook", Detail: "from the console"})
	if err != nil {
		t.Fatalf("RecordAction: %v", err)
	}
	if first.ID == 0 || !first.At.Equal(t0) || first.Actor != "alice" || first.Detail != "from the console" {
		t.Fatalf("RecordAction = %+v", first)
	}
	b.clock.Advance(time.Minute)
	second, _ := b.s.RecordAction(b.ctx, store.Action{Actor: "bob", Kind: "pause", Target: "hook"})
	at := t0.Add(time.Hour)
	third, _ := b.s.RecordAction(b.ctx, store.Action{Actor: "api", Kind: "resume", Target: "hook", At: at})
	if second.ID == first.ID || third.ID == second.ID || !third.At.Equal(at) {
		t.Fatalf("actions %+v %+v", second, third)
	}
	all, err := b.s.ListActions(b.ctx, time.Time{}, 0)
	if err != nil {
		t.Fatalf("ListActions: %v", err)
	}
	if len(all) != 3 || all[0].ID != third.ID || all[2].ID != first.ID {
		t.Fatalf("ListActions = %+v, want newest first", all)
	}
	if all[2] != first {
		t.Fatalf("action round trip = %+v, want %+v", all[2], first)
	}
	since, _ := b.s.ListActions(b.ctx, t0.Add(time.Minute), 0)
	if len(since) != 2 || since[1].ID != second.ID {
		t.Fatalf("ListActions since = %+v", since)
	}
	limited, _ := b.s.ListActions(b.ctx, time.Time{}, 1)
	if len(limited) != 1 || limited[0].ID != third.ID {
		t.Fatalf("ListActions limit 1 = %+v", limited)
	}
	if _, err := b.s.RecordAction(b.ctx, store.Action{Actor: "x"}); err == nil {
		t.Fatalf("action without Kind accepted")
	}
}

// testRestart closes the store and opens the same database again: what was
// committed is all there and the store carries on.
func testRestart(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	if _, err := b.s.Ingest(b.ctx, []store.NewEntry{entry("e1", "hook"), entry("e2", "hook"), entry("e3", "hook")},
		&store.Cursor{Source: "poller", Position: "page-7"}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	claimed := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 1, Lease: time.Minute}).Claimed[0]
	if err := b.s.SetSubscriptionState(b.ctx, store.SubscriptionState{Name: "other", Paused: true}); err != nil {
		t.Fatalf("SetSubscriptionState: %v", err)
	}
	if _, err := b.s.RecordAction(b.ctx, store.Action{Kind: "pause", Target: "other"}); err != nil {
		t.Fatalf("RecordAction: %v", err)
	}
	if ok, _ := b.s.TryLead(b.ctx, store.LeadParams{Name: "poller", Owner: "w", TTL: time.Minute}); !ok {
		t.Fatalf("TryLead failed")
	}

	b.reopen(t)

	if c, err := b.s.GetCursor(b.ctx, "poller"); err != nil || c.Position != "page-7" {
		t.Fatalf("cursor after restart = %+v, %v", c, err)
	}
	stats, err := b.s.Stats(b.ctx)
	if err != nil || len(stats) != 1 || stats[0].Counts[store.Pending] != 2 || stats[0].Counts[store.InFlight] != 1 {
		t.Fatalf("stats after restart = %+v, %v", stats, err)
	}
	d, _ := b.delivery(t, claimed.ID)
	if d.State != store.InFlight || d.LeaseOwner != "w" || !d.LeaseUntil.Equal(t0.Add(time.Minute)) {
		t.Fatalf("in-flight delivery after restart = %+v", d)
	}
	if st, _ := b.s.SubscriptionStates(b.ctx); len(st) != 1 || !st[0].Paused {
		t.Fatalf("states after restart = %+v", st)
	}
	if as, _ := b.s.ListActions(b.ctx, time.Time{}, 0); len(as) != 1 {
		t.Fatalf("actions after restart = %+v", as)
	}
	if ok, _ := b.s.TryLead(b.ctx, store.LeadParams{Name: "poller", Owner: "other", TTL: time.Minute}); ok {
		t.Fatalf("lease lost in restart")
	}
	// Work continues: dedupe still applies, pending work is claimable, the
	// old claim can still be finished.
	if res := b.ingest(t, entry("e1", "hook")); !res[0].Duplicate {
		t.Fatalf("re-ingest after restart not a duplicate")
	}
	if res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w2"}); len(res.Claimed) != 2 {
		t.Fatalf("claim after restart = %d", len(res.Claimed))
	}
	if fr := b.finish(t, done(claimed)); fr.Applied != 1 {
		t.Fatalf("finish of a pre-restart claim = %+v", fr)
	}
}

func testNotFound(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	_, err := b.s.GetEntry(b.ctx, "missing")
	wantErrIs(t, "GetEntry", err, store.ErrNotFound)
	_, _, err = b.s.GetDelivery(b.ctx, "missing")
	wantErrIs(t, "GetDelivery", err, store.ErrNotFound)
	_, err = b.s.GetCursor(b.ctx, "missing")
	wantErrIs(t, "GetCursor", err, store.ErrNotFound)
	_, err = b.s.Retry(b.ctx, store.RetryParams{DeliveryID: "missing"})
	wantErrIs(t, "Retry", err, store.ErrNotFound)
	if ds, err := b.s.ListDeliveries(b.ctx, store.DeliveryFilter{EntryID: "missing"}); err != nil || len(ds) != 0 {
		t.Fatalf("ListDeliveries of a missing entry = %+v, %v (want empty, no error)", ds, err)
	}
}

func testClosed(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 1)
	if err := b.s.Ping(b.ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	watch := b.s.Watch(context.Background())
	closed := make(chan error, 1)
	go func() { closed <- b.s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Close with an open watcher did not return within %v", waitTimeout)
	}
	if err := b.s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Open watch channels close with the store; new ones come closed.
	for _, ch := range []<-chan store.Change{watch, b.s.Watch(context.Background())} {
		timer := time.NewTimer(waitTimeout)
	drain:
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					break drain
				}
			case <-timer.C:
				t.Fatalf("watch channel open after Close")
			}
		}
		timer.Stop()
	}
	_, err := b.s.Ingest(b.ctx, []store.NewEntry{entry("x", "hook")}, nil)
	wantErrIs(t, "Ingest after Close", err, store.ErrClosed)
	_, err = b.s.Claim(b.ctx, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 1, Lease: time.Second})
	wantErrIs(t, "Claim after Close", err, store.ErrClosed)
	_, err = b.s.GetEntry(b.ctx, "e-000")
	wantErrIs(t, "GetEntry after Close", err, store.ErrClosed)
	_, err = b.s.Stats(b.ctx)
	wantErrIs(t, "Stats after Close", err, store.ErrClosed)
	wantErrIs(t, "Ping after Close", b.s.Ping(b.ctx), store.ErrClosed)
	wantErrIs(t, "ProbeWrite after Close", b.s.ProbeWrite(b.ctx), store.ErrClosed)
}

// testProbeWrite: the readiness probe commits on a healthy store, again and
// again, and leaves nothing a reader or watcher could see.
func testProbeWrite(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 1)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	watch := b.s.Watch(ctx)
	for i := range 3 {
		if err := b.s.ProbeWrite(b.ctx); err != nil {
			t.Fatalf("ProbeWrite #%d: %v", i+1, err)
		}
	}
	if es, err := b.s.ListEntries(b.ctx, store.EntryFilter{}); err != nil || len(es) != 1 {
		t.Fatalf("entries after probes = %d, %v; want the 1 ingested", len(es), err)
	}
	// A change after the probes arrives first: the probes published none.
	b.ingestN(t, "f", "hook", 1)
	select {
	case c := <-watch:
		if c.Kind != store.EntriesIngested {
			t.Fatalf("first change after the probes = %+v, want the ingest", c)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no change after an ingest")
	}
}
