package postgres

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// Tests of what only a shared database has: several stores (instances)
// on one schema.

func entries(prefix, sub string, n int) []store.NewEntry {
	var es []store.NewEntry
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		es = append(es, store.NewEntry{
			EntrySummary: store.EntrySummary{ID: id, Kind: "flag"},
			Raw:          []byte(`{"_id":"` + id + `"}`),
			Deliveries:   []store.NewDelivery{{ID: id + "/" + sub, Subscription: sub, State: store.Pending}},
		})
	}
	return es
}

func waitListening(t *testing.T, stores ...*Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, s := range stores {
		for !s.listening.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("store %s never started listening", s.instance)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// nextRemote waits for a change from instance on ch that satisfies keep.
func nextRemote(t *testing.T, ch <-chan store.Change, keep func(store.Change) bool) store.Change {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed")
			}
			if keep(c) {
				return c
			}
		case <-timer.C:
			t.Fatalf("no matching change within 10s")
		}
	}
}

func testWatchAcross(t *testing.T, noListen bool) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	schema := newSchema(t)
	o := Options{NoListen: noListen, PollInterval: 50 * time.Millisecond}
	oa, ob := o, o
	oa.Instance, ob.Instance = "relay-a", "relay-b"
	a := openTest(t, schema, oa)
	b := openTest(t, schema, ob)
	if !noListen {
		waitListening(t, a, b)
	}
	fromA := b.Watch(ctx)
	ownB := b.Watch(ctx)

	if _, err := a.Ingest(ctx, entries("e", "hook", 3), nil); err != nil {
		t.Fatal(err)
	}
	c := nextRemote(t, fromA, func(c store.Change) bool { return c.Kind == store.EntriesIngested && c.Instance == "relay-a" })
	if !slices.Contains(c.IDs, "e-0000") || !slices.Contains(c.Subscriptions, "hook") {
		t.Fatalf("B saw A's ingest as %+v, want its ids and the hook subscription to wake", c)
	}
	// A delivery made by B wakes nobody new but shows on A's feed...
	fromB := a.Watch(ctx)
	res, err := b.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: "relay-b", Limit: 1, Lease: time.Minute})
	if err != nil || len(res.Claimed) != 1 {
		t.Fatalf("Claim = %+v, %v", res, err)
	}
	cl := res.Claimed[0]
	if _, err := b.Finish(ctx, []store.Outcome{{DeliveryID: cl.ID, Subscription: cl.Subscription, Owner: "relay-b", Attempt: cl.Attempts, State: store.Failed}}); err != nil {
		t.Fatal(err)
	}
	nextRemote(t, fromB, func(c store.Change) bool {
		return c.Kind == store.DeliveriesChanged && c.Instance == "relay-b" && slices.Contains(c.IDs, cl.ID)
	})
	// ...and a retry pressed on A wakes B's workers for the subscription.
	if n, err := a.Retry(ctx, store.RetryParams{DeliveryID: cl.ID}); err != nil || n != 1 {
		t.Fatalf("Retry = %d, %v", n, err)
	}
	nextRemote(t, fromA, func(c store.Change) bool {
		return c.Kind == store.DeliveriesChanged && c.Instance == "relay-a" && slices.Contains(c.Subscriptions, "hook")
	})
	if err := a.SetSubscriptionState(ctx, store.SubscriptionState{Name: "hook", Paused: true}); err != nil {
		t.Fatal(err)
	}
	nextRemote(t, fromA, func(c store.Change) bool {
		return c.Kind == store.SubscriptionChanged && slices.Contains(c.Subscriptions, "hook")
	})

	// B's own changes reach its watchers once, from the commit, not again
	// from its own notification or poll.
	if _, err := b.RecordAction(ctx, store.Action{Kind: "test", Target: "own"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	deadline := time.After(500 * time.Millisecond)
	for done := false; !done; {
		select {
		case c := <-ownB:
			if c.Kind == store.ActionRecorded && c.Instance == "relay-b" {
				n++
			}
		case <-deadline:
			done = true
		}
	}
	if n != 1 {
		t.Fatalf("B's watcher saw its own action %d times, want 1", n)
	}
}

func TestWatchAcrossInstances(t *testing.T) { testWatchAcross(t, false) }

func TestWatchPollFallback(t *testing.T) { testWatchAcross(t, true) }

// TestLimitsAcrossInstances: MaxInFlight and the rate bucket hold for the
// sum of every instance's claims, not per instance.
func TestLimitsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	stores := []*Store{
		openTest(t, schema, Options{Instance: "a"}),
		openTest(t, schema, Options{Instance: "b"}),
		openTest(t, schema, Options{Instance: "c"}),
	}
	if _, err := stores[0].Ingest(ctx, entries("m", "capped", 300), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[0].Ingest(ctx, entries("r", "rated", 100), nil); err != nil {
		t.Fatal(err)
	}

	// MaxInFlight 4 across 3 instances × 3 workers. Our count rises after
	// a claim returned and falls before its Finish is sent, so it never
	// exceeds the store's; if it passes 4, the store let more in.
	const maxInFlight = 4
	var mu sync.Mutex
	inflight, peak, done := 0, 0, 0
	var wg sync.WaitGroup
	errs := make(chan error, 9)
	for i, s := range stores {
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("%s-%d", s.instance, w)
				for idle := 0; idle < 50; {
					res, err := s.Claim(ctx, store.ClaimParams{Subscription: "capped", Owner: owner, Limit: 3, MaxInFlight: maxInFlight, Lease: time.Minute})
					if err != nil {
						errs <- err
						return
					}
					if len(res.Claimed) == 0 {
						mu.Lock()
						finished := done == 300
						mu.Unlock()
						if finished {
							return
						}
						idle++
						time.Sleep(time.Millisecond)
						continue
					}
					mu.Lock()
					inflight += len(res.Claimed)
					peak = max(peak, inflight)
					mu.Unlock()
					var outs []store.Outcome
					for _, c := range res.Claimed {
						outs = append(outs, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: owner, Attempt: c.Attempts, State: store.Delivered})
					}
					mu.Lock()
					inflight -= len(res.Claimed)
					mu.Unlock()
					fr, err := s.Finish(ctx, outs)
					if err != nil || fr.Applied != len(outs) {
						errs <- fmt.Errorf("finish %v: %v", fr, err)
						return
					}
					mu.Lock()
					done += len(outs)
					mu.Unlock()
				}
			}()
		}
		_ = i
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if peak > maxInFlight {
		t.Fatalf("%d deliveries in flight at once across instances, MaxInFlight %d", peak, maxInFlight)
	}
	if done != 300 {
		t.Fatalf("%d of 300 delivered", done)
	}

	// Rate 1/s, burst 10, all claims at one instant: ten tokens in all.
	at := time.Now().Add(time.Hour) // after the deliveries became due
	var total int
	var tmu sync.Mutex
	var rwg sync.WaitGroup
	for _, s := range stores {
		for range 4 {
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				for range 5 {
					res, err := s.Claim(ctx, store.ClaimParams{Subscription: "rated", Owner: s.instance, Limit: 2, Rate: 1, Burst: 10, Lease: time.Minute, Now: at})
					if err != nil {
						t.Error(err)
						return
					}
					tmu.Lock()
					total += len(res.Claimed)
					tmu.Unlock()
				}
			}()
		}
	}
	rwg.Wait()
	if total != 10 {
		t.Fatalf("claimed %d under a shared bucket of 10 tokens, want exactly 10", total)
	}
}

// TestRescueRacesFinish: a lease rescued by one instance while its owner
// finishes on another ends one way or the other, never both (river #1302).
func TestRescueRacesFinish(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	a := openTest(t, schema, Options{Instance: "a"})
	b := openTest(t, schema, Options{Instance: "b"})
	const n = 400
	if _, err := a.Ingest(ctx, entries("x", "hook", n), nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res, err := a.Claim(ctx, store.ClaimParams{Subscription: "hook", Owner: "a", Limit: n, Lease: time.Second, Now: t0})
	if err != nil || len(res.Claimed) != n {
		t.Fatalf("Claim = %d, %v", len(res.Claimed), err)
	}
	var outs []store.Outcome
	for _, c := range res.Claimed {
		outs = append(outs, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "a", Attempt: c.Attempts, State: store.Delivered, Record: &store.Attempt{StatusCode: 204}})
	}
	var fr store.FinishResult
	var rescued int
	var ferr, rerr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i += 20 {
			var r store.FinishResult
			r, ferr = a.Finish(ctx, outs[i:i+20])
			fr.Applied += r.Applied
			fr.Stale = append(fr.Stale, r.Stale...)
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			var k store.RescueResult
			k, rerr = b.RescueExpired(ctx, store.RescueParams{Now: t0.Add(2 * time.Second)})
			rescued += k.Requeued
		}
	}()
	wg.Wait()
	if ferr != nil || rerr != nil {
		t.Fatalf("finish %v, rescue %v", ferr, rerr)
	}
	if fr.Applied+rescued != n || len(fr.Stale) != rescued {
		t.Fatalf("applied %d + rescued %d != %d (stale %d)", fr.Applied, rescued, n, len(fr.Stale))
	}
	stale := map[string]bool{}
	for _, id := range fr.Stale {
		stale[id] = true
	}
	for _, c := range res.Claimed {
		d, atts, err := a.GetDelivery(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case stale[c.ID] && (d.State != store.Pending || len(atts) != 1 || atts[0].ErrorClass != "worker-lost"):
			t.Fatalf("rescued %s: state %s, attempts %+v", c.ID, d.State, atts)
		case !stale[c.ID] && (d.State != store.Delivered || len(atts) != 1 || atts[0].StatusCode != 204):
			t.Fatalf("finished %s: state %s, attempts %+v", c.ID, d.State, atts)
		}
	}
	t.Logf("%d finished, %d rescued", fr.Applied, rescued)
}
