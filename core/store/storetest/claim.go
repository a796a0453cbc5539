package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

func testClaimOrder(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	soon, later := t0.Add(10*time.Second), t0.Add(time.Minute)
	mk := func(id string, next time.Time) store.NewEntry {
		e := entry(id, "hook", "other")
		e.Deliveries[0].NextAttemptAt = next
		return e
	}
	// Ingest order within equal NextAttemptAt: z before a (not by id).
	b.ingest(t, mk("z", t0), mk("late", later), mk("a", t0), mk("soon", soon), mk("past", t0.Add(-time.Second)))

	// The limit cuts the ordered list: past, then z (ingested before a).
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Limit: 2, Lease: 30 * time.Second, Owner: "w1"})
	wantStrings(t, "claimed with limit 2", ids(res.Claimed), []string{"past/hook", "z/hook"})
	if res.Throttled {
		t.Fatalf("Throttled without limits")
	}
	wantTime(t, "NextDue with due work left", res.NextDue, t0)
	rest := b.claim(t, store.ClaimParams{Subscription: "hook", Limit: 10, Lease: 30 * time.Second, Owner: "w1"})
	wantStrings(t, "claimed the rest", ids(rest.Claimed), []string{"a/hook"})
	wantTime(t, "NextDue", rest.NextDue, soon)
	for _, c := range append(res.Claimed, rest.Claimed...) {
		wantState(t, c.Delivery, store.InFlight)
		if c.Attempts != 1 || c.LeaseOwner != "w1" || c.Subscription != "hook" {
			t.Fatalf("claimed %+v: want attempt 1, owner w1", c.Delivery)
		}
		wantTime(t, c.ID+" LeaseUntil", c.LeaseUntil, t0.Add(30*time.Second))
		wantTime(t, c.ID+" LastAttemptAt", c.LastAttemptAt, t0)
		wantBytes(t, c.ID+" EntryRaw", c.EntryRaw, []byte(`{"_id":"`+c.EntryID+`"}`))
		if c.EntryKind != "flag" || c.EntryTitle != "title "+c.EntryID {
			t.Fatalf("claimed %s entry fields %q %q", c.ID, c.EntryKind, c.EntryTitle)
		}
	}
	d, _ := b.delivery(t, "z/hook")
	wantState(t, d, store.InFlight)
	wantTime(t, "stored LeaseUntil", d.LeaseUntil, t0.Add(30*time.Second))

	// Claimed deliveries are not claimed again; nothing else is due yet.
	again := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w2"})
	if len(again.Claimed) != 0 {
		t.Fatalf("second claim got %v", ids(again.Claimed))
	}
	wantTime(t, "NextDue", again.NextDue, soon)

	// Limit, and the clock: at soon, one more is due.
	b.clock.Set(later)
	res = b.claim(t, store.ClaimParams{Subscription: "hook", Limit: 1})
	wantStrings(t, "claimed at later, limit 1", ids(res.Claimed), []string{"soon/hook"})
	wantTime(t, "NextDue with due work left", res.NextDue, later)
	// An explicit Now wins over the store clock.
	res = b.claim(t, store.ClaimParams{Subscription: "hook", Now: soon})
	if len(res.Claimed) != 0 {
		t.Fatalf("claim at Now=soon got %v, want none (late is due later)", ids(res.Claimed))
	}
	res = b.claim(t, store.ClaimParams{Subscription: "hook"})
	wantStrings(t, "claimed", ids(res.Claimed), []string{"late/hook"})
	if !res.NextDue.IsZero() {
		t.Fatalf("NextDue = %v with nothing pending, want zero", res.NextDue)
	}
	// The other subscription is untouched by all this.
	res = b.claim(t, store.ClaimParams{Subscription: "other"})
	wantInt(t, "other subscription claimed", len(res.Claimed), 5)
	if res := b.claim(t, store.ClaimParams{Subscription: "nobody"}); len(res.Claimed) != 0 || !res.NextDue.IsZero() {
		t.Fatalf("claim of an unknown subscription = %+v", res)
	}
}

// testClaimConcurrent runs claimers in parallel: no delivery may be claimed
// twice and every one must be delivered exactly once.
func testClaimConcurrent(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	const n, workers = 400, 8
	want := b.ingestN(t, "e", "hook", n)
	var mu sync.Mutex
	seen := map[string]string{}
	var dup []string
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("worker-%d", w)
			for {
				res, err := b.s.Claim(b.ctx, store.ClaimParams{Subscription: "hook", Owner: owner, Limit: 7, Lease: time.Minute})
				if err != nil {
					errs <- err
					return
				}
				if len(res.Claimed) == 0 {
					return
				}
				var os []store.Outcome
				mu.Lock()
				for _, c := range res.Claimed {
					if prev, ok := seen[c.ID]; ok {
						dup = append(dup, c.ID+" by "+prev+" and "+owner)
					}
					seen[c.ID] = owner
					os = append(os, done(c))
				}
				mu.Unlock()
				fr, err := b.s.Finish(b.ctx, os)
				if err != nil {
					errs <- err
					return
				}
				if fr.Applied != len(os) {
					errs <- fmt.Errorf("%s: finish applied %d of %d (stale %v)", owner, fr.Applied, len(os), fr.Stale)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(dup) > 0 {
		t.Fatalf("claimed twice: %v", dup)
	}
	wantInt(t, "distinct deliveries claimed", len(seen), n)
	for _, id := range want {
		if _, ok := seen[id]; !ok {
			t.Fatalf("%s never claimed", id)
		}
	}
	stats, err := b.s.Stats(b.ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if len(stats) != 1 || stats[0].Counts[store.Delivered] != n || len(stats[0].Counts) != 1 {
		t.Fatalf("Stats = %+v, want %d delivered only", stats, n)
	}
}

func testClaimInvalid(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 1)
	ok := store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 1, Lease: time.Second}
	bad := map[string]func(p *store.ClaimParams){
		"no subscription":      func(p *store.ClaimParams) { p.Subscription = "" },
		"no owner":             func(p *store.ClaimParams) { p.Owner = "" },
		"limit 0":              func(p *store.ClaimParams) { p.Limit = 0 },
		"no lease":             func(p *store.ClaimParams) { p.Lease = 0 },
		"negative rate":        func(p *store.ClaimParams) { p.Rate = -1 },
		"negative maxInFlight": func(p *store.ClaimParams) { p.MaxInFlight = -1 },
	}
	for name, mut := range bad {
		p := ok
		mut(&p)
		if _, err := b.s.Claim(b.ctx, p); err == nil {
			t.Fatalf("%s: Claim succeeded, want an error", name)
		}
	}
	if res := b.claim(t, ok); len(res.Claimed) != 1 {
		t.Fatalf("invalid claims consumed the delivery: %+v", res)
	}
}

func testMaxInFlight(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 10)
	b.ingestN(t, "o", "other", 2)
	p := store.ClaimParams{Subscription: "hook", Limit: 10, MaxInFlight: 3, Lease: 30 * time.Second}
	res := b.claim(t, p)
	wantInt(t, "claimed under MaxInFlight 3", len(res.Claimed), 3)
	if !res.Throttled {
		t.Fatalf("not Throttled while due deliveries were held back")
	}
	// Slots free up at the latest when the first lease ends.
	wantTime(t, "NextDue", res.NextDue, t0.Add(30*time.Second))

	b.clock.Advance(time.Second)
	p.Owner = "worker-b" // the cap counts every owner's in-flight deliveries
	again := b.claim(t, p)
	if len(again.Claimed) != 0 || !again.Throttled {
		t.Fatalf("claim at the cap = %d claimed, throttled %v", len(again.Claimed), again.Throttled)
	}
	if !again.NextDue.After(b.clock.Now()) {
		t.Fatalf("NextDue %v is not after now while throttled", again.NextDue)
	}
	// Other subscriptions are not capped by this one.
	if res := b.claim(t, store.ClaimParams{Subscription: "other", MaxInFlight: 3}); len(res.Claimed) != 2 {
		t.Fatalf("other subscription claimed %d", len(res.Claimed))
	}

	b.finish(t, done(res.Claimed[0]))
	one := b.claim(t, p)
	wantInt(t, "claimed after one finished", len(one.Claimed), 1)
	// Limit below the free slots is not throttling.
	b.finish(t, done(res.Claimed[1]), done(res.Claimed[2]))
	p.Limit = 1
	lim := b.claim(t, p)
	if len(lim.Claimed) != 1 || lim.Throttled {
		t.Fatalf("limit 1 with free slots: %d claimed, throttled %v", len(lim.Claimed), lim.Throttled)
	}
}

func testRateLimit(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 30)
	p := store.ClaimParams{Subscription: "hook", Limit: 100, Rate: 10, Burst: 5}
	// A fresh bucket is full.
	res := b.claim(t, p)
	wantInt(t, "claimed from a full bucket", len(res.Claimed), 5)
	if !res.Throttled {
		t.Fatalf("not Throttled with due deliveries left")
	}
	wantTime(t, "NextDue = next token", res.NextDue, t0.Add(100*time.Millisecond))

	if res := b.claim(t, p); len(res.Claimed) != 0 || !res.Throttled {
		t.Fatalf("empty bucket claimed %d, throttled %v", len(res.Claimed), res.Throttled)
	}
	b.clock.Advance(100 * time.Millisecond) // one token
	wantInt(t, "claimed after 100ms", len(b.claim(t, p).Claimed), 1)
	at := b.clock.Advance(250 * time.Millisecond) // 2.5 tokens
	res = b.claim(t, p)
	wantInt(t, "claimed after 250ms", len(res.Claimed), 2)
	wantTime(t, "NextDue with half a token left", res.NextDue, at.Add(50*time.Millisecond))
	b.clock.Advance(time.Hour) // refill is capped at Burst
	wantInt(t, "claimed after an hour", len(b.claim(t, p).Claimed), 5)

	// A Limit below the tokens takes Limit and leaves the rest.
	b.clock.Advance(time.Hour)
	p.Limit = 2
	res = b.claim(t, p)
	if len(res.Claimed) != 2 || res.Throttled {
		t.Fatalf("limit 2 from a full bucket: %d claimed, throttled %v", len(res.Claimed), res.Throttled)
	}
	p.Limit = 100
	wantInt(t, "claimed the rest of the bucket", len(b.claim(t, p).Claimed), 3)

	// Burst below 1 means 1.
	b.ingestN(t, "x", "slow", 3)
	q := store.ClaimParams{Subscription: "slow", Rate: 0.5}
	wantInt(t, "claimed with Burst 0", len(b.claim(t, q).Claimed), 1)
	res = b.claim(t, q)
	if len(res.Claimed) != 0 {
		t.Fatalf("second claim at rate 0.5/s got %d", len(res.Claimed))
	}
	wantTime(t, "NextDue at 0.5/s", res.NextDue, b.clock.Now().Add(2*time.Second))
}

// testRateLimitFineClock: a clock finer than the store keeps times in
// must not refill the bucket while time does not pass. Claims at one
// instant a fraction of a microsecond past a whole one (at 100,000/s, a
// token per 10 µs) would each gain the fraction again if a backend
// refilled from the fine clock and stored the bucket's time cut to its
// precision.
func testRateLimitFineClock(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 3)
	now := t0.Add(900*time.Microsecond + 900*time.Nanosecond)
	p := store.ClaimParams{Subscription: "hook", Limit: 10, Rate: 100_000, Burst: 1, Now: now}
	claimed := 0
	for range 50 {
		claimed += len(b.claim(t, p).Claimed)
	}
	wantInt(t, "claimed at one instant with Burst 1", claimed, 1)
}

func testPausedDisabled(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 3)
	b.ingestN(t, "o", "other", 1)
	set := func(st store.SubscriptionState) {
		t.Helper()
		if err := b.s.SetSubscriptionState(b.ctx, st); err != nil {
			t.Fatalf("SetSubscriptionState: %v", err)
		}
	}
	set(store.SubscriptionState{Name: "hook", Paused: true, Reason: "paused by alice", UpdatedBy: "alice"})
	res := b.claim(t, store.ClaimParams{Subscription: "hook"})
	if len(res.Claimed) != 0 || !res.Paused || res.Disabled || !res.NextDue.IsZero() {
		t.Fatalf("claim while paused = %+v", res)
	}
	if res := b.claim(t, store.ClaimParams{Subscription: "other"}); len(res.Claimed) != 1 {
		t.Fatalf("pausing hook held back other: %+v", res)
	}
	set(store.SubscriptionState{Name: "hook", Disabled: true, Reason: "410 Gone"})
	res = b.claim(t, store.ClaimParams{Subscription: "hook"})
	if len(res.Claimed) != 0 || res.Paused || !res.Disabled {
		t.Fatalf("claim while disabled = %+v", res)
	}
	set(store.SubscriptionState{Name: "hook"})
	wantInt(t, "claimed after resume", len(b.claim(t, store.ClaimParams{Subscription: "hook"}).Claimed), 3)
}
