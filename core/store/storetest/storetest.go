// Package storetest is the contract suite for store.Store: every backend
// runs Run from its own tests and must pass all of it. A behaviour a backend
// needs that the suite does not test belongs here, not in a backend test.
// The logic backends share from package store (checks, claim and bucket
// arithmetic, retention cut-offs) is unit-tested there, once; the suite
// tests what each backend does itself: its SQL, and that it applies that
// logic. The package also holds the benchmark workloads both backends run
// (BenchEntry, IngestPending, IngestConcurrently, ClaimFinish), so that
// their figures compare.
//
// A backend runs it from one test, giving each sub-test a fresh database:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Opener {
//			db := createEmptyDatabase(t) // temp file, or a new PostgreSQL schema
//			return func(t *testing.T, cfg storetest.Config) store.Store {
//				s := openStore(t, db, cfg.Instance, cfg.Now)
//				t.Cleanup(func() { s.Close() })
//				return s
//			}
//		})
//	}
//
// The suite never sleeps to make time pass: it drives the store's clock
// (Config.Now) and the Now fields of params. Times it passes are whole
// milliseconds, so they round-trip exactly on every backend.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

// Config is how the suite wants a store opened.
type Config struct {
	Instance string           // Options.Instance or equivalent
	Now      func() time.Time // the store's clock
}

// Opener opens a store on one database. The suite may call it again after
// closing the store it returned, to reopen the same database (restart
// tests). The opener must register closing the store with t.Cleanup; the
// suite may close it earlier, so Close must be safe to call twice.
type Opener func(t *testing.T, cfg Config) store.Store

// NewDatabase creates an empty, migrated-on-open database for one test (a
// temporary SQLite file, a fresh PostgreSQL schema) and returns how to open
// it. It is called from parallel tests.
type NewDatabase func(t *testing.T) Opener

// Run runs the contract suite; each behaviour is a parallel sub-test.
func Run(t *testing.T, newDB NewDatabase) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newDB NewDatabase)
	}{
		{"Ingest", testIngest},
		{"IngestDedupe", testIngestDedupe},
		{"IngestInvalid", testIngestInvalid},
		{"IngestLeased", testIngestLeased},
		{"Cursor", testCursor},
		{"ClaimOrder", testClaimOrder},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ClaimInvalid", testClaimInvalid},
		{"MaxInFlight", testMaxInFlight},
		{"RateLimit", testRateLimit},
		{"RateLimitFineClock", testRateLimitFineClock},
		{"PausedDisabled", testPausedDisabled},
		{"LeaseExpiry", testLeaseExpiry},
		{"RescueMany", testRescueMany},
		{"Poison", testPoison},
		{"FinishFencing", testFinishFencing},
		{"FinishOutcomes", testFinishOutcomes},
		{"FinishDisable", testFinishDisable},
		{"Retry", testRetry},
		{"AttemptRoundTrip", testAttemptRoundTrip},
		{"SentRequest", testSentRequest},
		{"AddDeliveries", testAddDeliveries},
		{"TimePrecision", testTimePrecision},
		{"Stats", testStats},
		{"ListEntries", testListEntries},
		{"SearchEntries", testSearchEntries},
		{"ListDeliveries", testListDeliveries},
		{"SubscriptionStates", testSubscriptionStates},
		{"Prune", testPrune},
		{"PruneMaxEntries", testPruneMaxEntries},
		{"Watch", testWatch},
		{"WatchLost", testWatchLost},
		{"Lead", testLead},
		{"Actions", testActions},
		{"Restart", testRestart},
		{"NotFound", testNotFound},
		{"ProbeWrite", testProbeWrite},
		{"Closed", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newDB)
		})
	}
}

// T0 is where every test clock starts: whole milliseconds, not UTC, so that
// backends must convert.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 891_000_000, time.FixedZone("CET", 3600))

// Clock is a settable clock for Config.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

const instance = "test-instance"

// bundle is what most tests need: a store, its clock and its opener.
type bundle struct {
	s     store.Store
	clock *Clock
	open  Opener
	ctx   context.Context
}

func setup(t *testing.T, newDB NewDatabase) *bundle {
	t.Helper()
	open := newDB(t)
	clock := NewClock(t0)
	return &bundle{
		s:     open(t, Config{Instance: instance, Now: clock.Now}),
		clock: clock,
		open:  open,
		ctx:   context.Background(),
	}
}

// reopen closes the store and opens the same database again.
func (b *bundle) reopen(t *testing.T) {
	t.Helper()
	if err := b.s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	b.s = b.open(t, Config{Instance: instance, Now: b.clock.Now})
}

// entry builds a NewEntry with one Pending delivery per subscription, due
// now; delivery ids are "<entry>/<subscription>".
func entry(id string, subs ...string) store.NewEntry {
	e := store.NewEntry{
		EntrySummary: store.EntrySummary{ID: id, Kind: "flag", Title: "title " + id, Source: "webhook"},
		Raw:          []byte(`{"_id":"` + id + `"}`),
	}
	for _, s := range subs {
		e.Deliveries = append(e.Deliveries, store.NewDelivery{ID: did(id, s), Subscription: s, State: store.Pending})
	}
	return e
}

func did(entryID, sub string) string { return entryID + "/" + sub }

func (b *bundle) ingest(t *testing.T, entries ...store.NewEntry) []store.IngestResult {
	t.Helper()
	res, err := b.s.Ingest(b.ctx, entries, nil)
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if len(res) != len(entries) {
		t.Fatalf("Ingest returned %d results for %d entries", len(res), len(entries))
	}
	return res
}

// ingestN ingests n entries "<prefix>-000"... with one Pending delivery for
// sub each, in order, and returns the delivery ids.
func (b *bundle) ingestN(t *testing.T, prefix, sub string, n int) []string {
	t.Helper()
	var es []store.NewEntry
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%03d", prefix, i)
		es = append(es, entry(id, sub))
		ids = append(ids, did(id, sub))
	}
	b.ingest(t, es...)
	return ids
}

func (b *bundle) claim(t *testing.T, p store.ClaimParams) store.ClaimResult {
	t.Helper()
	if p.Owner == "" {
		p.Owner = "worker-a"
	}
	if p.Lease == 0 {
		p.Lease = 30 * time.Second
	}
	if p.Limit == 0 {
		p.Limit = 100
	}
	res, err := b.s.Claim(b.ctx, p)
	if err != nil {
		t.Fatalf("Claim(%+v): %v", p, err)
	}
	return res
}

func (b *bundle) finish(t *testing.T, os ...store.Outcome) store.FinishResult {
	t.Helper()
	res, err := b.s.Finish(b.ctx, os)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return res
}

// done is the Delivered outcome for a claimed delivery.
func done(c store.Claimed) store.Outcome {
	return store.Outcome{DeliveryID: c.ID, Subscription: c.Subscription, Owner: c.LeaseOwner, Attempt: c.Attempts, State: store.Delivered}
}

func (b *bundle) delivery(t *testing.T, id string) (store.Delivery, []store.Attempt) {
	t.Helper()
	d, as, err := b.s.GetDelivery(b.ctx, id)
	if err != nil {
		t.Fatalf("GetDelivery(%q): %v", id, err)
	}
	return d, as
}

func ids(cs []store.Claimed) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func deliveryIDs(ds []store.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !equalStrings(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

func wantTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func wantInt(t *testing.T, what string, got, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %d, want %d", what, got, want)
	}
}

func wantState(t *testing.T, d store.Delivery, want store.State) {
	t.Helper()
	if d.State != want {
		t.Fatalf("delivery %s state = %q, want %q (reason %q)", d.ID, d.State, want, d.Reason)
	}
}

func wantErrIs(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error = %v, want errors.Is %v", what, err, target)
	}
}

func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

// waitTimeout bounds waits for asynchronous events so a broken backend
// fails instead of hanging; it is never a performance assertion.
const waitTimeout = 10 * time.Second

// nextChange returns the next change on ch that matches keep.
func nextChange(t *testing.T, ch <-chan store.Change, keep func(store.Change) bool) store.Change {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed while waiting for a change")
			}
			if keep(c) {
				return c
			}
		case <-timer.C:
			t.Fatalf("no matching change within %v", waitTimeout)
		}
	}
}
