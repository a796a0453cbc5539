package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// testLeaseExpiry: an expired lease is rescued as a lost attempt, the
// delivery is claimed again, and the old owner's late outcome is ignored.
func testLeaseExpiry(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 2)
	const lease = 30 * time.Second
	first := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "worker-a", Limit: 2, Lease: lease})
	wantInt(t, "claimed", len(first.Claimed), 2)
	lost, kept := first.Claimed[0], first.Claimed[1]

	// Finishing after the lease ended but before a rescue still applies:
	// nobody else owns the delivery.
	b.clock.Set(t0.Add(lease + time.Second))
	if fr := b.finish(t, done(kept)); fr.Applied != 1 {
		t.Fatalf("finish after lease end, before rescue: %+v", fr)
	}

	// Not expired at LeaseUntil itself, only after.
	n, err := b.s.RescueExpired(b.ctx, store.RescueParams{Now: t0.Add(lease)})
	if err != nil || n.Requeued != 0 || len(n.Poisoned) != 0 {
		t.Fatalf("RescueExpired at LeaseUntil = %+v, %v; want nothing", n, err)
	}
	rescueAt := t0.Add(lease + time.Millisecond)
	n, err = b.s.RescueExpired(b.ctx, store.RescueParams{Now: rescueAt})
	if err != nil || n.Requeued != 1 || len(n.Poisoned) != 0 {
		t.Fatalf("RescueExpired = %+v, %v; want 1 requeued", n, err)
	}
	d, attempts := b.delivery(t, lost.ID)
	wantState(t, d, store.Pending)
	if d.Attempts != 1 || d.Step != 0 || d.LeaseOwner != "" || !d.LeaseUntil.IsZero() {
		t.Fatalf("rescued delivery %+v: want attempts 1, step 0, no lease", d)
	}
	wantTime(t, "rescued NextAttemptAt", d.NextAttemptAt, rescueAt)
	if len(attempts) != 1 {
		t.Fatalf("attempts after rescue = %+v, want one worker-lost", attempts)
	}
	a := attempts[0]
	if a.Number != 1 || a.ErrorClass != "worker-lost" || a.Instance != "worker-a" || a.Error == "" || a.DeliveryID != lost.ID {
		t.Fatalf("worker-lost attempt = %+v", a)
	}
	wantTime(t, "lost attempt StartedAt", a.StartedAt, t0)
	if d.LastError == "" {
		t.Fatalf("rescued delivery has no LastError")
	}
	// A second rescue finds nothing.
	if n, _ := b.s.RescueExpired(b.ctx, store.RescueParams{Now: rescueAt.Add(time.Hour)}); n.Requeued != 0 {
		t.Fatalf("second rescue = %+v", n)
	}

	second := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "worker-b", Now: rescueAt})
	wantStrings(t, "reclaimed", ids(second.Claimed), []string{lost.ID})
	wantInt(t, "attempt after reclaim", second.Claimed[0].Attempts, 2)

	// worker-a comes back late: ignored, the delivery stays with worker-b.
	fr := b.finish(t, store.Outcome{DeliveryID: lost.ID, Subscription: lost.Subscription, Owner: "worker-a", Attempt: 1, State: store.Failed,
		Record: &store.Attempt{StatusCode: 500}})
	if fr.Applied != 0 || !equalStrings(fr.Stale, []string{lost.ID}) {
		t.Fatalf("late finish = %+v, want stale", fr)
	}
	d, attempts = b.delivery(t, lost.ID)
	wantState(t, d, store.InFlight)
	if d.LeaseOwner != "worker-b" || len(attempts) != 1 {
		t.Fatalf("late finish changed the delivery: owner %s, %d attempts", d.LeaseOwner, len(attempts))
	}
	fr = b.finish(t, done(second.Claimed[0]))
	if fr.Applied != 1 || len(fr.Stale) != 0 {
		t.Fatalf("finish by the new owner = %+v", fr)
	}
	d, _ = b.delivery(t, lost.ID)
	wantState(t, d, store.Delivered)
}

// testRescueMany rescues more expired leases than fit in one batch.
func testRescueMany(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	const n = 600 // more than one rescue batch of the SQLite backend (500)
	b.ingestN(t, "e", "hook", n)
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Limit: n, Lease: time.Second})
	wantInt(t, "claimed", len(res.Claimed), n)
	got, err := b.s.RescueExpired(b.ctx, store.RescueParams{Now: t0.Add(time.Minute)})
	if err != nil || got.Requeued != n {
		t.Fatalf("RescueExpired = %+v, %v; want %d requeued", got, err, n)
	}
	stats, err := b.s.Stats(b.ctx)
	if err != nil || len(stats) != 1 || stats[0].Counts[store.Pending] != n {
		t.Fatalf("Stats after rescue = %+v, %v", stats, err)
	}
}

func testFinishFencing(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 3)
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 3})
	c0, c1, c2 := res.Claimed[0], res.Claimed[1], res.Claimed[2]
	wrongOwner := done(c0)
	wrongOwner.Owner = "intruder"
	wrongAttempt := done(c1)
	wrongAttempt.Attempt = 2
	wrongSub := done(c1)
	wrongSub.Subscription = "other"
	fr := b.finish(t, wrongOwner, wrongAttempt, wrongSub, done(c2), done(c2))
	if fr.Applied != 1 || !equalStrings(fr.Stale, []string{c0.ID, c1.ID, c1.ID, c2.ID}) {
		t.Fatalf("fenced finish = %+v; want c2 applied once, the rest stale", fr)
	}
	for _, c := range []store.Claimed{c0, c1} {
		d, as := b.delivery(t, c.ID)
		wantState(t, d, store.InFlight)
		if len(as) != 0 {
			t.Fatalf("stale outcome logged an attempt: %+v", as)
		}
	}
	// Unknown deliveries are stale too, not errors.
	fr = b.finish(t, store.Outcome{DeliveryID: "nope", Subscription: "hook", Owner: "w", Attempt: 1, State: store.Delivered})
	if fr.Applied != 0 || !equalStrings(fr.Stale, []string{"nope"}) {
		t.Fatalf("finish of an unknown delivery = %+v", fr)
	}
	// Invalid outcomes fail the whole call.
	bad := map[string]store.Outcome{
		"filtered":        {DeliveryID: c0.ID, Subscription: c0.Subscription, Owner: "w", Attempt: 1, State: store.Filtered},
		"inflight":        {DeliveryID: c0.ID, Subscription: c0.Subscription, Owner: "w", Attempt: 1, State: store.InFlight},
		"no owner":        {DeliveryID: c0.ID, Subscription: c0.Subscription, Attempt: 1, State: store.Delivered},
		"no subscription": {DeliveryID: c0.ID, Owner: "w", Attempt: 1, State: store.Delivered},
		"no id":           {Subscription: c0.Subscription, Owner: "w", Attempt: 1, State: store.Delivered},
		"attempt 0":       {DeliveryID: c0.ID, Subscription: c0.Subscription, Owner: "w", State: store.Delivered},
		"no state":        {DeliveryID: c0.ID, Subscription: c0.Subscription, Owner: "w", Attempt: 1},
		"bogus kind":      {DeliveryID: c0.ID, Subscription: c0.Subscription, Owner: "w", Attempt: 1, State: "bogus"},
	}
	for name, o := range bad {
		if _, err := b.s.Finish(b.ctx, []store.Outcome{done(c1), o}); err == nil {
			t.Fatalf("%s: Finish succeeded, want an error", name)
		}
		d, _ := b.delivery(t, c1.ID)
		wantState(t, d, store.InFlight)
	}
}

func testFinishOutcomes(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 4)
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 4})
	retryAt := t0.Add(5 * time.Minute)
	b.clock.Advance(2 * time.Second)
	fr := b.finish(t,
		store.Outcome{DeliveryID: res.Claimed[0].ID, Subscription: res.Claimed[0].Subscription, Owner: "w", Attempt: 1, State: store.Pending, NextAttemptAt: retryAt, Step: 1, Reason: "HTTP 503",
			Record: &store.Attempt{StatusCode: 503, ErrorClass: "status", Error: "503 Service Unavailable", Duration: 1500 * time.Microsecond, StartedAt: t0.Add(time.Second)}},
		store.Outcome{DeliveryID: res.Claimed[1].ID, Subscription: res.Claimed[1].Subscription, Owner: "w", Attempt: 1, State: store.Failed, Reason: "HTTP 400, not retried",
			Record: &store.Attempt{StatusCode: 400, ErrorClass: "status"}},
		store.Outcome{DeliveryID: res.Claimed[2].ID, Subscription: res.Claimed[2].Subscription, Owner: "w", Attempt: 1, State: store.Skipped, Reason: "empty body"},
		store.Outcome{DeliveryID: res.Claimed[3].ID, Subscription: res.Claimed[3].Subscription, Owner: "w", Attempt: 1, State: store.Delivered,
			Record: &store.Attempt{StatusCode: 204}},
	)
	if fr.Applied != 4 || len(fr.Stale) != 0 {
		t.Fatalf("Finish = %+v", fr)
	}
	d, as := b.delivery(t, res.Claimed[0].ID)
	wantState(t, d, store.Pending)
	if d.Step != 1 || d.Reason != "HTTP 503" || d.LastStatus != 503 || d.LastError != "503 Service Unavailable" ||
		d.LastLatency != 1500*time.Microsecond || d.LeaseOwner != "" || len(as) != 1 || as[0].Number != 1 {
		t.Fatalf("retry-later delivery = %+v, attempts %+v", d, as)
	}
	wantTime(t, "NextAttemptAt", d.NextAttemptAt, retryAt)
	wantTime(t, "LastAttemptAt from the record", d.LastAttemptAt, t0.Add(time.Second))
	wantTime(t, "UpdatedAt", d.UpdatedAt, t0.Add(2*time.Second))

	d, _ = b.delivery(t, res.Claimed[1].ID)
	wantState(t, d, store.Failed)
	if d.Reason != "HTTP 400, not retried" || d.LastStatus != 400 {
		t.Fatalf("failed delivery = %+v", d)
	}
	wantTime(t, "LastAttemptAt kept from the claim when the record has none", d.LastAttemptAt, t0)
	d, as = b.delivery(t, res.Claimed[2].ID)
	wantState(t, d, store.Skipped)
	if len(as) != 0 || d.Reason != "empty body" {
		t.Fatalf("skipped without a record: %+v, %d attempts", d, len(as))
	}
	d, _ = b.delivery(t, res.Claimed[3].ID)
	wantState(t, d, store.Delivered)

	// The retry is due at retryAt, not before.
	if res := b.claim(t, store.ClaimParams{Subscription: "hook"}); len(res.Claimed) != 0 {
		t.Fatalf("retry claimed before it was due")
	}
	b.clock.Set(retryAt)
	again := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w2"})
	if len(again.Claimed) != 1 || again.Claimed[0].Attempts != 2 || again.Claimed[0].Step != 1 {
		t.Fatalf("retry claim = %+v", again.Claimed)
	}
	// Pending without NextAttemptAt is due now.
	b.finish(t, store.Outcome{DeliveryID: again.Claimed[0].ID, Subscription: again.Claimed[0].Subscription, Owner: "w2", Attempt: 2, State: store.Pending, Step: 2})
	d, _ = b.delivery(t, again.Claimed[0].ID)
	wantTime(t, "NextAttemptAt defaults to now", d.NextAttemptAt, retryAt)
}

func testFinishDisable(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 2)
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 1})
	reason := "410 Gone from https://hooks.example.com/x"
	b.finish(t, store.Outcome{DeliveryID: res.Claimed[0].ID, Subscription: res.Claimed[0].Subscription, Owner: "w", Attempt: 1, State: store.Failed, Reason: reason,
		Record: &store.Attempt{StatusCode: 410, ErrorClass: "status"}, DisableSubscription: reason})
	states, err := b.s.SubscriptionStates(b.ctx)
	if err != nil {
		t.Fatalf("SubscriptionStates: %v", err)
	}
	if len(states) != 1 || states[0].Name != "hook" || !states[0].Disabled || states[0].Paused || states[0].Reason != reason {
		t.Fatalf("states after 410 = %+v", states)
	}
	wantTime(t, "disabled UpdatedAt", states[0].UpdatedAt, t0)
	if res := b.claim(t, store.ClaimParams{Subscription: "hook"}); len(res.Claimed) != 0 || !res.Disabled {
		t.Fatalf("claim after disable = %+v", res)
	}
	// A stale outcome does not disable anything.
	b.ingestN(t, "o", "other", 1)
	b.finish(t, store.Outcome{DeliveryID: did("o-000", "other"), Subscription: "other", Owner: "w", Attempt: 1, State: store.Failed, DisableSubscription: "x"})
	if states, _ := b.s.SubscriptionStates(b.ctx); len(states) != 1 {
		t.Fatalf("stale outcome disabled a subscription: %+v", states)
	}
}

func testRetry(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 4)
	b.ingestN(t, "o", "other", 1)
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 4})
	fail := func(c store.Claimed) store.Outcome {
		return store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: c.Attempts, State: store.Failed, Step: 7, Reason: "gave up"}
	}
	b.finish(t, fail(res.Claimed[0]), fail(res.Claimed[1]), fail(res.Claimed[2]), done(res.Claimed[3]))
	other := b.claim(t, store.ClaimParams{Subscription: "other", Owner: "w"})
	b.finish(t, fail(other.Claimed[0]))

	at := b.clock.Advance(time.Hour)
	n, err := b.s.Retry(b.ctx, store.RetryParams{DeliveryID: res.Claimed[0].ID})
	if err != nil || n != 1 {
		t.Fatalf("Retry one = %d, %v", n, err)
	}
	d, _ := b.delivery(t, res.Claimed[0].ID)
	wantState(t, d, store.Pending)
	if d.Step != 0 || d.Attempts != 1 {
		t.Fatalf("retried delivery step %d attempts %d, want 0 and 1", d.Step, d.Attempts)
	}
	wantTime(t, "retried NextAttemptAt", d.NextAttemptAt, at)
	// Retrying a delivery that is not Failed does nothing by default.
	if n, err := b.s.Retry(b.ctx, store.RetryParams{DeliveryID: res.Claimed[3].ID}); err != nil || n != 0 {
		t.Fatalf("Retry of a delivered one = %d, %v", n, err)
	}
	if n, err := b.s.Retry(b.ctx, store.RetryParams{DeliveryID: res.Claimed[0].ID}); err != nil || n != 0 {
		t.Fatalf("Retry of a pending one = %d, %v", n, err)
	}
	// ...unless asked to.
	n, err = b.s.Retry(b.ctx, store.RetryParams{DeliveryID: res.Claimed[3].ID, States: []store.State{store.Delivered}})
	if err != nil || n != 1 {
		t.Fatalf("Retry of a delivered one with States = %d, %v", n, err)
	}
	// All failed of one subscription, at an explicit time.
	when := t0.Add(2 * time.Hour)
	n, err = b.s.Retry(b.ctx, store.RetryParams{Subscription: "hook", Now: when})
	if err != nil || n != 2 {
		t.Fatalf("Retry all = %d, %v; want 2", n, err)
	}
	d, _ = b.delivery(t, res.Claimed[2].ID)
	wantTime(t, "retry-all NextAttemptAt", d.NextAttemptAt, when)
	if d, _ := b.delivery(t, other.Claimed[0].ID); d.State != store.Failed {
		t.Fatalf("retry of hook touched other: %+v", d)
	}
	// The retried ones are claimable again with the next attempt number.
	b.clock.Set(when)
	again := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w"})
	wantInt(t, "claimed after retry", len(again.Claimed), 4)

	if _, err := b.s.Retry(b.ctx, store.RetryParams{DeliveryID: "missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Retry of a missing delivery: %v, want ErrNotFound", err)
	}
	if _, err := b.s.Retry(b.ctx, store.RetryParams{}); err == nil {
		t.Fatalf("Retry without target succeeded")
	}
	if _, err := b.s.Retry(b.ctx, store.RetryParams{Subscription: "hook", States: []store.State{store.InFlight}}); err == nil ||
		!strings.Contains(err.Error(), "inflight") {
		t.Fatalf("Retry of InFlight: %v, want an error naming the state", err)
	}
}

// testPoison: a delivery whose lease keeps expiring (the process attempting
// it dies each time) fails as poison once Lost reaches PoisonAfter, with
// every lost attempt logged; the count survives a restart, and an outcome
// or an operator's retry starts it again from zero.
func testPoison(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingest(t, entry("p", "hook", "other"))
	poison, healthy := did("p", "hook"), did("p", "other")
	const lease = 10 * time.Second
	now := t0
	// loseOne claims id as owner, lets the lease run out and rescues it.
	loseOne := func(id, owner string, poisonAfter int) store.RescueResult {
		t.Helper()
		res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: owner, Limit: 1, Lease: lease, Now: now})
		if len(res.Claimed) != 1 || res.Claimed[0].ID != id {
			t.Fatalf("claim at %v = %v, want %s", now, ids(res.Claimed), id)
		}
		now = now.Add(lease + time.Second)
		b.clock.Set(now)
		rr, err := b.s.RescueExpired(b.ctx, store.RescueParams{Now: now, PoisonAfter: poisonAfter})
		if err != nil {
			t.Fatalf("RescueExpired: %v", err)
		}
		return rr
	}
	// The first two attempts have outcomes (a 503 each).
	for i := 1; i <= 2; i++ {
		res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "proc-0", Limit: 1, Lease: lease, Now: now})
		wantStrings(t, "claimed", ids(res.Claimed), []string{poison})
		if fr := b.finish(t, store.Outcome{DeliveryID: poison, Subscription: "hook", Owner: "proc-0", Attempt: i, State: store.Pending, NextAttemptAt: now,
			Record: &store.Attempt{StatusCode: 503, StartedAt: now}}); fr.Applied != 1 {
			t.Fatalf("finish = %+v", fr)
		}
	}

	for i := 1; i <= 2; i++ {
		rr := loseOne(poison, fmt.Sprintf("proc-%d", i), 3)
		if rr.Requeued != 1 || len(rr.Poisoned) != 0 {
			t.Fatalf("rescue %d = %+v, want requeued", i, rr)
		}
		d, _ := b.delivery(t, poison)
		wantState(t, d, store.Pending)
		wantInt(t, fmt.Sprintf("Lost after rescue %d", i), d.Lost, i)
		// The process restarts between attempts: the count is stored.
		b.reopen(t)
	}
	claimed := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "peek", Limit: 1, Lease: lease, Now: now})
	if len(claimed.Claimed) != 1 || claimed.Claimed[0].Lost != 2 {
		t.Fatalf("claimed %+v, want Lost 2 on the claimed delivery", claimed.Claimed)
	}
	now = now.Add(lease + time.Second)
	b.clock.Set(now)
	rr, err := b.s.RescueExpired(b.ctx, store.RescueParams{Now: now, PoisonAfter: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rr.Requeued != 0 || len(rr.Poisoned) != 1 || rr.Poisoned[0] != (store.DeliveryRef{ID: poison, Subscription: "hook"}) {
		t.Fatalf("third rescue = %+v, want %s poisoned", rr, poison)
	}
	d, attempts := b.delivery(t, poison)
	wantState(t, d, store.Failed)
	wantInt(t, "Lost", d.Lost, 3)
	if d.Reason != store.PoisonReason(3) || !strings.Contains(d.Reason, "poison: the process stopped 3 times while attempting this delivery") {
		t.Fatalf("reason %q", d.Reason)
	}
	if !d.NextAttemptAt.IsZero() || d.LeaseOwner != "" || !strings.HasPrefix(d.LastError, "worker lost: the lease of peek expired") {
		t.Fatalf("poisoned delivery %+v", d)
	}
	var lost []int
	for _, a := range attempts {
		if a.ErrorClass == "worker-lost" {
			lost = append(lost, a.Number)
		}
	}
	if fmt.Sprint(lost) != "[3 4 5]" {
		t.Fatalf("worker-lost attempts %v, want [3 4 5]", lost)
	}
	// Failed is terminal: nothing claims it, a further rescue leaves it.
	if res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Now: now.Add(time.Hour)}); len(res.Claimed) != 0 {
		t.Fatalf("claimed a poisoned delivery: %v", ids(res.Claimed))
	}
	if rr, _ := b.s.RescueExpired(b.ctx, store.RescueParams{Now: now.Add(time.Hour), PoisonAfter: 3}); rr.Requeued+len(rr.Poisoned) != 0 {
		t.Fatalf("rescue after poison = %+v", rr)
	}

	// An operator's retry gives it PoisonAfter more.
	if n, err := b.s.Retry(b.ctx, store.RetryParams{DeliveryID: poison, Now: now}); err != nil || n != 1 {
		t.Fatalf("Retry = %d, %v", n, err)
	}
	d, _ = b.delivery(t, poison)
	wantState(t, d, store.Pending)
	wantInt(t, "Lost after retry", d.Lost, 0)
	rr = loseOne(poison, "proc-4", 3)
	if rr.Requeued != 1 {
		t.Fatalf("rescue after retry = %+v, want requeued", rr)
	}

	// An outcome resets the count: lost, then an answer, then lost again
	// is one in a row, not two.
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "proc-5", Limit: 1, Lease: lease, Now: now})
	wantStrings(t, "claimed", ids(res.Claimed), []string{poison})
	if fr := b.finish(t, store.Outcome{DeliveryID: poison, Subscription: "hook", Owner: "proc-5", Attempt: res.Claimed[0].Attempts, State: store.Pending, NextAttemptAt: now,
		Record: &store.Attempt{StatusCode: 503, StartedAt: now}}); fr.Applied != 1 {
		t.Fatalf("finish = %+v", fr)
	}
	d, _ = b.delivery(t, poison)
	wantInt(t, "Lost after an outcome", d.Lost, 0)
	if rr := loseOne(poison, "proc-6", 2); rr.Requeued != 1 {
		t.Fatalf("rescue after an outcome with PoisonAfter 2 = %+v, want requeued (1 in a row)", rr)
	}

	// PoisonAfter 0 never fails a delivery.
	for i := range 3 {
		if rr := loseOne(poison, fmt.Sprintf("proc-%d", 7+i), 0); rr.Requeued != 1 {
			t.Fatalf("rescue with PoisonAfter 0 = %+v", rr)
		}
	}
	d, _ = b.delivery(t, poison)
	wantState(t, d, store.Pending)
	wantInt(t, "Lost with PoisonAfter 0", d.Lost, 4)

	// Lowered below the count, PoisonAfter fails it at the next loss and
	// the reason tells the real count.
	if rr := loseOne(poison, "proc-10", 2); len(rr.Poisoned) != 1 {
		t.Fatalf("rescue with Lost past PoisonAfter = %+v", rr)
	}
	d, _ = b.delivery(t, poison)
	if d.Reason != store.PoisonReason(5) {
		t.Fatalf("reason %q, want %q", d.Reason, store.PoisonReason(5))
	}
	// The other subscription's delivery was never touched.
	h, _ := b.delivery(t, healthy)
	wantState(t, h, store.Pending)
	wantInt(t, "Lost of the other delivery", h.Lost, 0)
}
