package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/mask"
	"github.com/auditrelay/auditrelay/core/store"
)

func testAttemptRoundTrip(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingestN(t, "e", "hook", 1)
	c := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w"}).Claimed[0]
	rec := store.Attempt{
		Instance:        "relay-1",
		Trigger:         "manual",
		StartedAt:       t0.Add(1234 * time.Millisecond),
		Duration:        98765 * time.Microsecond,
		URL:             "https://hooks.example.com/services/" + mask.Masked, // stored as the engine records it
		RequestDigest:   "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea",
		Template:        "templates/flag.json.hbs",
		TemplateHash:    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		StatusCode:      429,
		ErrorClass:      "status",
		Error:           "429 Too Many Requests",
		ResponseHeaders: []store.Header{{Name: "Retry-After", Value: "120"}, {Name: "Content-Type", Value: "text/plain; charset=utf-8"}},
		ResponseBody:    []byte("slow down \x00\xff"),
	}
	b.finish(t, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: 1, State: store.Pending, Step: 1, Record: &rec})
	_, as := b.delivery(t, c.ID)
	if len(as) != 1 {
		t.Fatalf("attempts = %d, want 1", len(as))
	}
	got := as[0]
	want := rec
	want.DeliveryID, want.Number = c.ID, 1 // filled in from the outcome
	wantTime(t, "StartedAt", got.StartedAt, want.StartedAt)
	got.StartedAt, want.StartedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("attempt round trip:\n got %+v\nwant %+v", got, want)
	}

	// A second attempt; attempts come back oldest first, without headers as
	// an empty list or nil, both accepted.
	c = b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w"}).Claimed[0]
	b.finish(t, store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: "w", Attempt: 2, State: store.Delivered,
		Record: &store.Attempt{DeliveryID: "ignored", Number: 99, StatusCode: 200}})
	d, as := b.delivery(t, c.ID)
	if len(as) != 2 || as[0].Number != 1 || as[1].Number != 2 || as[1].DeliveryID != c.ID || len(as[1].ResponseHeaders) != 0 || len(as[1].ResponseBody) != 0 {
		t.Fatalf("attempts after the second = %+v", as)
	}
	if d.Attempts != 2 || d.LastStatus != 200 || d.LastError != "" {
		t.Fatalf("delivery after success = %+v", d)
	}
}

// testTimePrecision: times keep at least milliseconds and come back equal
// when they are whole milliseconds; durations keep microseconds.
func testTimePrecision(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	fine := time.Date(2026, 7, 1, 12, 0, 0, 123_456_789, time.UTC)
	e := entry("e", "hook")
	e.Date = fine
	e.ReceivedAt = fine.Truncate(time.Millisecond)
	b.ingest(t, e)
	got, err := b.s.GetEntry(b.ctx, "e")
	if err != nil {
		t.Fatalf("GetEntry: %v", err)
	}
	// Backends may truncate (SQLite: ms) or round (PostgreSQL: µs).
	if diff := got.Date.Sub(fine).Abs(); diff >= time.Millisecond {
		t.Fatalf("Date %v is %v away from %v, want less than a millisecond", got.Date, diff, fine)
	}
	wantTime(t, "whole-millisecond ReceivedAt", got.ReceivedAt, e.ReceivedAt)
	if got.ReceivedAt.Location() != time.UTC {
		t.Fatalf("ReceivedAt location = %v, want UTC", got.ReceivedAt.Location())
	}
}

func testStats(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	if st, err := b.s.Stats(b.ctx); err != nil || len(st) != 0 {
		t.Fatalf("Stats of an empty store = %+v, %v", st, err)
	}
	b.ingestN(t, "e", "b-hook", 5)
	b.clock.Advance(time.Minute)
	b.ingestN(t, "f", "b-hook", 1)
	filtered := entry("g", "a-hook")
	filtered.Deliveries[0].State = store.Filtered
	b.ingest(t, filtered)
	res := b.claim(t, store.ClaimParams{Subscription: "b-hook", Owner: "w", Limit: 3})
	b.finish(t, done(res.Claimed[0]), store.Outcome{DeliveryID: res.Claimed[1].ID, Subscription: res.Claimed[1].Subscription, Owner: "w", Attempt: 1, State: store.Failed})

	st, err := b.s.Stats(b.ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if len(st) != 2 || st[0].Subscription != "a-hook" || st[1].Subscription != "b-hook" {
		t.Fatalf("Stats subscriptions = %+v, want a-hook then b-hook", st)
	}
	if !reflect.DeepEqual(st[0].Counts, map[store.State]int{store.Filtered: 1}) || !st[0].OldestPending.IsZero() {
		t.Fatalf("a-hook stats = %+v", st[0])
	}
	want := map[store.State]int{store.Pending: 3, store.InFlight: 1, store.Delivered: 1, store.Failed: 1}
	if !reflect.DeepEqual(st[1].Counts, want) {
		t.Fatalf("b-hook counts = %v, want %v", st[1].Counts, want)
	}
	wantTime(t, "OldestPending", st[1].OldestPending, t0)
}

func testListEntries(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	// 7 entries over 3 receive times, two kinds; ties broken by ID.
	var es []store.NewEntry
	for i, id := range []string{"c", "a", "b", "f", "d", "e", "g"} {
		e := entry(id, "hook")
		e.ReceivedAt = t0.Add(time.Duration(i/3) * time.Second)
		if i%2 == 1 {
			e.Kind = "project"
		}
		es = append(es, e)
	}
	b.ingest(t, es...)
	list := func(f store.EntryFilter) []string {
		t.Helper()
		got, err := b.s.ListEntries(b.ctx, f)
		if err != nil {
			t.Fatalf("ListEntries(%+v): %v", f, err)
		}
		out := make([]string, len(got))
		for i, e := range got {
			out[i] = e.ID
		}
		return out
	}
	all := []string{"g", "f", "e", "d", "c", "b", "a"}
	wantStrings(t, "newest first", list(store.EntryFilter{}), all)
	wantStrings(t, "kind project", list(store.EntryFilter{Kind: "project"}), []string{"f", "e", "a"})
	wantStrings(t, "limit", list(store.EntryFilter{Limit: 2}), []string{"g", "f"})
	wantStrings(t, "before a time", list(store.EntryFilter{Before: t0.Add(time.Second)}), []string{"c", "b", "a"})

	// Page through with a page size that splits a tie.
	var paged []string
	f := store.EntryFilter{Limit: 2}
	for range 10 {
		got, err := b.s.ListEntries(b.ctx, f)
		if err != nil {
			t.Fatalf("ListEntries: %v", err)
		}
		if len(got) == 0 {
			break
		}
		for _, e := range got {
			paged = append(paged, e.ID)
		}
		last := got[len(got)-1]
		f.Before, f.BeforeID = last.ReceivedAt, last.ID
	}
	wantStrings(t, "paged", paged, all)
}

func testListDeliveries(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	for i := range 6 {
		subs := []string{"hook"}
		if i%2 == 0 {
			subs = append(subs, "other")
		}
		b.ingest(t, entry(fmt.Sprintf("e%d", i), subs...))
	}
	// Update times: claim three hook deliveries a second later.
	b.clock.Advance(time.Second)
	res := b.claim(t, store.ClaimParams{Subscription: "hook", Owner: "w", Limit: 3})
	b.clock.Advance(time.Second)
	b.finish(t, done(res.Claimed[0]))

	list := func(f store.DeliveryFilter) []store.Delivery {
		t.Helper()
		got, err := b.s.ListDeliveries(b.ctx, f)
		if err != nil {
			t.Fatalf("ListDeliveries(%+v): %v", f, err)
		}
		return got
	}
	all := list(store.DeliveryFilter{})
	wantInt(t, "all deliveries", len(all), 9)
	wantStrings(t, "most recently updated first", deliveryIDs(all[:3]), []string{"e0/hook", "e2/hook", "e1/hook"})
	for i := 1; i < len(all); i++ {
		p, c := all[i-1], all[i]
		if c.UpdatedAt.After(p.UpdatedAt) || (c.UpdatedAt.Equal(p.UpdatedAt) && c.ID > p.ID) {
			t.Fatalf("order broken at %d: %s (%v) after %s (%v)", i, c.ID, c.UpdatedAt, p.ID, p.UpdatedAt)
		}
	}
	if d := all[0]; d.EntryKind != "flag" || d.EntryTitle != "title e0" {
		t.Fatalf("delivery entry fields = %+v", d)
	}
	wantInt(t, "subscription other", len(list(store.DeliveryFilter{Subscription: "other"})), 3)
	wantStrings(t, "entry e2", deliveryIDs(list(store.DeliveryFilter{EntryID: "e2"})), []string{"e2/hook", "e2/other"})
	wantStrings(t, "inflight", deliveryIDs(list(store.DeliveryFilter{States: []store.State{store.InFlight}})), []string{"e2/hook", "e1/hook"})
	wantInt(t, "pending or delivered of hook",
		len(list(store.DeliveryFilter{Subscription: "hook", States: []store.State{store.Pending, store.Delivered}})), 4)
	wantInt(t, "limit", len(list(store.DeliveryFilter{Limit: 4})), 4)

	var paged []string
	f := store.DeliveryFilter{Limit: 2}
	for range 10 {
		got := list(f)
		if len(got) == 0 {
			break
		}
		paged = append(paged, deliveryIDs(got)...)
		last := got[len(got)-1]
		f.Before, f.BeforeID = last.UpdatedAt, last.ID
	}
	wantStrings(t, "paged", paged, deliveryIDs(all))
}

func testSubscriptionStates(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	if st, err := b.s.SubscriptionStates(b.ctx); err != nil || len(st) != 0 {
		t.Fatalf("states of an empty store = %+v, %v", st, err)
	}
	// Claims with a rate limit keep a bucket per subscription; that must not
	// show up as a state.
	b.ingestN(t, "e", "limited", 1)
	b.claim(t, store.ClaimParams{Subscription: "limited", Rate: 1})

	at := t0.Add(-time.Hour)
	want := []store.SubscriptionState{
		{Name: "b", Paused: true, Reason: "paused by alice", UpdatedBy: "alice", UpdatedAt: at},
		{Name: "a", Disabled: true, Reason: "410", UpdatedBy: "relay-1"},
	}
	for _, st := range want {
		if err := b.s.SetSubscriptionState(b.ctx, st); err != nil {
			t.Fatalf("SetSubscriptionState: %v", err)
		}
	}
	got, err := b.s.SubscriptionStates(b.ctx)
	if err != nil {
		t.Fatalf("SubscriptionStates: %v", err)
	}
	want[1].UpdatedAt = t0 // zero means now
	want[0], want[1] = want[1], want[0]
	if len(got) != 2 {
		t.Fatalf("states = %+v", got)
	}
	for i := range want {
		wantTime(t, want[i].Name+" UpdatedAt", got[i].UpdatedAt, want[i].UpdatedAt)
		got[i].UpdatedAt, want[i].UpdatedAt = time.Time{}, time.Time{}
		if got[i] != want[i] {
			t.Fatalf("state %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	// Setting replaces; the rate bucket survives a state change (no refill).
	if err := b.s.SetSubscriptionState(b.ctx, store.SubscriptionState{Name: "limited", UpdatedBy: "bob"}); err != nil {
		t.Fatalf("SetSubscriptionState: %v", err)
	}
	b.ingestN(t, "f", "limited", 1)
	if res := b.claim(t, store.ClaimParams{Subscription: "limited", Rate: 1}); len(res.Claimed) != 0 || !res.Throttled {
		t.Fatalf("state change refilled the rate bucket: %+v", res)
	}
	if err := b.s.SetSubscriptionState(b.ctx, store.SubscriptionState{Name: "b", UpdatedBy: "bob"}); err != nil {
		t.Fatalf("SetSubscriptionState: %v", err)
	}
	got, _ = b.s.SubscriptionStates(b.ctx)
	if len(got) != 3 || got[1].Name != "b" || got[1].Paused || got[1].Reason != "" || got[1].UpdatedBy != "bob" {
		t.Fatalf("states after resume = %+v", got)
	}
	if err := b.s.SetSubscriptionState(b.ctx, store.SubscriptionState{}); err == nil {
		t.Fatalf("state without Name accepted")
	}
}
