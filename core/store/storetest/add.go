package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/auditrelay/auditrelay/core/store"
)

// testAddDeliveries: deliveries added to stored entries are claimable
// like ingested ones; an entry keeps one delivery per subscription; an
// entry that is not stored fails the whole call.
func testAddDeliveries(t *testing.T, newDB NewDatabase) {
	b := setup(t, newDB)
	b.ingest(t, entry("a", "old"), entry("b"), entry("c"))
	add := func(entryID, sub string) store.EntryDelivery {
		return store.EntryDelivery{EntryID: entryID, NewDelivery: store.NewDelivery{ID: did(entryID, sub), Subscription: sub, State: store.Pending, Reason: "resent"}}
	}
	got, err := b.s.AddDeliveries(b.ctx, []store.EntryDelivery{add("a", "new"), add("a", "old"), add("b", "new")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{did("a", "new"), did("b", "new")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("added %v, want %v (a already had a delivery for old)", got, want)
	}
	// Again: nothing new.
	if got, err := b.s.AddDeliveries(b.ctx, []store.EntryDelivery{add("a", "new")}); err != nil || len(got) != 0 {
		t.Fatalf("adding again = %v, %v; want none", got, err)
	}
	// An entry that is not stored: nothing is added.
	if _, err := b.s.AddDeliveries(b.ctx, []store.EntryDelivery{add("c", "new"), add("missing", "new")}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing entry: %v, want ErrNotFound", err)
	}
	if _, _, err := b.s.GetDelivery(b.ctx, did("c", "new")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed call added c's delivery: %v", err)
	}
	// Invalid: a leased delivery.
	bad := add("c", "new")
	bad.Lease = &store.Lease{Owner: "w", Until: t0}
	if _, err := b.s.AddDeliveries(b.ctx, []store.EntryDelivery{bad}); err == nil {
		t.Fatal("a leased delivery was accepted")
	}
	res := b.claim(t, store.ClaimParams{Subscription: "new", Owner: "w"})
	if !reflect.DeepEqual(ids(res.Claimed), []string{did("a", "new"), did("b", "new")}) {
		t.Fatalf("claimed %v", ids(res.Claimed))
	}
	if string(res.Claimed[0].EntryRaw) != `{"_id":"a"}` {
		t.Fatalf("claimed entry raw %q", res.Claimed[0].EntryRaw)
	}
}
