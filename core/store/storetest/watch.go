package storetest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

func kind(k store.ChangeKind) func(store.Change) bool {
	return func(c store.Change) bool { return c.Kind == k }
}

func testWatch(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	ch := b.s.Watch(ctx)

	b.ingest(t, entry("e1", "hook", "other"))
	c := nextChange(t, ch, kind(store.EntriesIngested))
	if c.Instance != instance || !slices.Contains(c.IDs, "e1") ||
		!slices.Contains(c.Subscriptions, "hook") || !slices.Contains(c.Subscriptions, "other") {
		t.Fatalf("ingest change = %+v", c)
	}

	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w"})
	b.finish(t, store.Outcome{DeliveryID: res.Claimed[0].ID, Subscription: res.Claimed[0].Subscription, Owner: "w", Attempt: 1, State: store.Pending, NextAttemptAt: t0.Add(time.Minute)})
	c = nextChange(t, ch, func(c store.Change) bool {
		return c.Kind == store.DeliveriesChanged && slices.Contains(c.Subscriptions, "hook")
	})
	if !slices.Contains(c.IDs, "e1/hook") {
		t.Fatalf("finish change = %+v", c)
	}

	if err := b.s.SetSubscriptionState(b.ctx, store.SubscriptionState{Name: "hook", Paused: true}); err != nil {
		t.Fatalf("SetSubscriptionState: %v", err)
	}
	c = nextChange(t, ch, kind(store.SubscriptionChanged))
	if !slices.Equal(c.Subscriptions, []string{"hook"}) {
		t.Fatalf("subscription change = %+v", c)
	}

	a, err := b.s.RecordAction(b.ctx, store.Action{Actor: "alice", Kind: "pause", Target: "hook"})
	if err != nil {
		t.Fatalf("RecordAction: %v", err)
	}
	c = nextChange(t, ch, kind(store.ActionRecorded))
	if !slices.Contains(c.IDs, strconv.FormatInt(a.ID, 10)) {
		t.Fatalf("action change = %+v, want id %d", c, a.ID)
	}

	// Ending the context closes the channel.
	cancel()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatalf("watch channel still open %v after its context ended", waitTimeout)
		}
	}
}

// testWatchLost: a watcher that does not read never blocks writes; what it
// missed is counted in Lost.
func testWatchLost(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	stuck := b.s.Watch(ctx)
	const writes = store.WatchBuffer + 20
	for i := range writes {
		if _, err := b.s.RecordAction(b.ctx, store.Action{Kind: "test", Target: strconv.Itoa(i)}); err != nil {
			t.Fatalf("RecordAction %d with a stuck watcher: %v", i, err)
		}
	}
	// Drain what was buffered.
	received, lost := 0, 0
drain:
	for {
		select {
		case c := <-stuck:
			received++
			lost += c.Lost
		default:
			break drain
		}
	}
	if received > store.WatchBuffer {
		t.Fatalf("received %d changes, more than WatchBuffer %d", received, store.WatchBuffer)
	}
	// The next change carries the count of what was dropped.
	if _, err := b.s.RecordAction(b.ctx, store.Action{Kind: "test", Target: "after"}); err != nil {
		t.Fatalf("RecordAction: %v", err)
	}
	c := nextChange(t, stuck, kind(store.ActionRecorded))
	lost += c.Lost
	if lost == 0 {
		t.Fatalf("a watcher that fell %d changes behind reported Lost 0", writes-received)
	}
	if received+1+lost > writes+1 {
		t.Fatalf("received %d + lost %d exceeds the %d commits", received+1, lost, writes+1)
	}
}
