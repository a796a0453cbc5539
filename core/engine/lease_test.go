package engine

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/store"
	"github.com/auditrelay/auditrelay/core/store/sqlite"
)

// claimCounter is the real store, counting the deliveries Claim hands out.
type claimCounter struct {
	store.Store
	claimed atomic.Int64
}

func (c *claimCounter) Claim(ctx context.Context, p store.ClaimParams) (store.ClaimResult, error) {
	res, err := c.Store.Claim(ctx, p)
	c.claimed.Add(int64(len(res.Claimed)))
	return res, err
}

func countClaims(shared bool) (*claimCounter, func(*Options)) {
	cc := &claimCounter{}
	return cc, func(o *Options) {
		cc.Store = o.Store
		o.Store = cc
		o.SharedStore = shared
	}
}

// TestAcceptedEntriesStartWithoutAClaim: with a free worker, an entry's
// delivery is stored leased and attempted at once; Claim hands out nothing.
// On a shared store every delivery goes through Claim instead.
func TestAcceptedEntriesStartWithoutAClaim(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			s := newSink(t, nil)
			cc, tune := countClaims(shared)
			h := startEngineWith(t, testConfig(t, webhookSub("raw", s.URL, "")), tune)
			// An entry that comes before the subscription's worker runs is
			// claimed: count from when one has been delivered.
			h.ingest(entryJSON("first", "updateOn", "proj/default:env/production:flag/f"))
			h.waitState(DeliveryID("raw", "first"), Delivered)
			cc.claimed.Store(0)
			const n = 10
			for i := range n {
				id := fmt.Sprintf("e%d", i)
				h.ingest(entryJSON(id, "updateOn", "proj/default:env/production:flag/f"))
				d := h.waitState(DeliveryID("raw", id), Delivered)
				if len(d.Attempts) != 1 || d.Attempts[0].Number != 1 {
					t.Fatalf("delivery %s: %d attempts recorded, want exactly attempt 1", d.ID, len(d.Attempts))
				}
			}
			want := int64(0)
			if shared {
				want = n
			}
			if got := cc.claimed.Load(); got != want {
				t.Fatalf("Claim handed out %d deliveries, want %d", got, want)
			}
		})
	}
}

// TestLeaseAtIngestKeepsConcurrency: deliveries taken at ingest and those
// claimed later share the subscription's Concurrency.
func TestLeaseAtIngestKeepsConcurrency(t *testing.T) {
	var (
		mu                sync.Mutex
		running, most     int
		release           = make(chan struct{})
		releaseOnce       sync.Once
		openTheFloodgates = func() { releaseOnce.Do(func() { close(release) }) }
	)
	t.Cleanup(openTheFloodgates)
	s := newSink(t, func(_ int, r *http.Request) int {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		mu.Lock()
		running--
		mu.Unlock()
		return http.StatusOK
	})
	cfg := testConfig(t, webhookSub("slow", s.URL, "    concurrency: 2\n"))
	cfg.Delivery.Timeout = 10 * time.Second
	cfg.Delivery.Lease = 20 * time.Second
	h := startEngine(t, cfg)
	const n = 6
	for i := range n {
		h.ingest(entryJSON(fmt.Sprintf("e%d", i), "updateOn", "proj/default:env/production:flag/f"))
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.count.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("sink got %d requests, want 2 in flight", s.count.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a third, if the limit leaked
	if got := s.count.Load(); got != 2 {
		t.Fatalf("%d requests in flight with concurrency 2", got)
	}
	pending := 0
	for i := range n {
		d, err := h.eng.Delivery(context.Background(), DeliveryID("slow", fmt.Sprintf("e%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if d.State == Pending {
			pending++
		}
	}
	if pending != n-2 {
		t.Fatalf("%d deliveries pending, want %d waiting for a slot", pending, n-2)
	}
	openTheFloodgates()
	for i := range n {
		h.waitState(DeliveryID("slow", fmt.Sprintf("e%d", i)), Delivered)
	}
	mu.Lock()
	defer mu.Unlock()
	if most > 2 {
		t.Fatalf("%d requests ran at once, concurrency is 2", most)
	}
}

// TestPausedSubscriptionTakesNothingAtIngest: a paused subscription's new
// deliveries wait until it is resumed.
func TestPausedSubscriptionTakesNothingAtIngest(t *testing.T) {
	s := newSink(t, nil)
	h := startEngine(t, testConfig(t, webhookSub("raw", s.URL, "")))
	if err := h.eng.SetPaused(context.Background(), "alice", "raw", true); err != nil {
		t.Fatal(err)
	}
	h.ingest(entryJSON("e1", "updateOn", "proj/default:env/production:flag/f"))
	time.Sleep(200 * time.Millisecond)
	if d := h.waitState(DeliveryID("raw", "e1"), Pending); len(d.Attempts) != 0 {
		t.Fatalf("paused delivery attempted %d times", len(d.Attempts))
	}
	if got := s.count.Load(); got != 0 {
		t.Fatalf("sink got %d requests while the subscription was paused", got)
	}
	if err := h.eng.SetPaused(context.Background(), "alice", "raw", false); err != nil {
		t.Fatal(err)
	}
	h.waitState(DeliveryID("raw", "e1"), Delivered)
}

func TestDeliveryIDs(t *testing.T) {
	const objectID = "62445f5140fba7f67892484a"
	a, b := DeliveryID("slack", objectID), DeliveryID("datadog", objectID)
	if !strings.HasPrefix(a, "dlv_"+objectID+"_") || !strings.HasPrefix(b, "dlv_"+objectID+"_") || a == b {
		t.Fatalf("ObjectId entry: %q and %q, want dlv_<entry>_<subscription hash>, distinct", a, b)
	}
	if a != DeliveryID("slack", objectID) {
		t.Fatal("DeliveryID is not deterministic")
	}
	// Later entries sort after earlier ones, so indexes grow at one end.
	if next := DeliveryID("slack", "62445f5140fba7f67892484b"); next <= a {
		t.Fatalf("%q sorts before %q", next, a)
	}
	for _, odd := range []string{"with space", "under_score", "ünïcode", strings.Repeat("x", 65), "a/b", ""} {
		id := DeliveryID("slack", odd)
		if len(id) != len("dlv_")+24 || strings.ContainsAny(id, " _/") && !strings.HasPrefix(id, "dlv_") {
			t.Fatalf("entry %q: id %q, want dlv_ and a 24-character hash", odd, id)
		}
		if strings.Count(id, "_") != 1 {
			t.Fatalf("entry %q: id %q carries the entry id", odd, id)
		}
	}
	if DeliveryID("a", "with space") == DeliveryID("b", "with space") {
		t.Fatal("hashed ids of two subscriptions collide")
	}
}

// cancelMidCommit is the real store, with the caller's context cancelled
// while an Ingest commits: it reports the cancellation the way a store
// does when the caller gave up first, although the commit landed.
type cancelMidCommit struct {
	store.Store
	cancel context.CancelFunc
}

func (c *cancelMidCommit) Ingest(ctx context.Context, entries []store.NewEntry, cursor *store.Cursor) ([]store.IngestResult, error) {
	res, err := c.Store.Ingest(ctx, entries, cursor)
	c.cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return res, err
}

// TestCallerGivingUpDoesNotStrandLeases: a webhook sender that hangs up
// while its entry commits must not leave the entry's leased delivery
// waiting out the lease (here ten minutes) before anyone sends it.
func TestCallerGivingUpDoesNotStrandLeases(t *testing.T) {
	s := newSink(t, nil)
	cfg := testConfig(t, webhookSub("raw", s.URL, ""))
	cfg.Delivery.Lease = 10 * time.Minute
	var cm *cancelMidCommit
	h := startEngineWith(t, cfg, func(o *Options) {
		cm = &cancelMidCommit{Store: o.Store, cancel: func() {}}
		o.Store = cm
	})
	// The first entry may come before the worker runs: let it through.
	h.ingest(entryJSON("first", "updateOn", "proj/default:env/production:flag/f"))
	h.waitState(DeliveryID("raw", "first"), Delivered)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cm.cancel = cancel
	res, err := h.eng.Ingest(ctx, []source.Item{{Raw: entryJSON("hungup", "updateOn", "proj/default:env/production:flag/f"), Source: "webhook"}}, nil)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Ingest = %+v, %v; want the entry stored", res, err)
	}
	d := h.waitState(DeliveryID("raw", "hungup"), Delivered)
	if len(d.Attempts) != 1 {
		t.Fatalf("%d attempts, want 1", len(d.Attempts))
	}

	// A caller that has already given up stores nothing.
	if _, err := h.eng.Ingest(ctx, []source.Item{{Raw: entryJSON("late", "updateOn", "proj/default:env/production:flag/f"), Source: "webhook"}}, nil); err == nil {
		t.Fatal("Ingest with a cancelled context succeeded")
	}
	if _, err := h.eng.Delivery(context.Background(), DeliveryID("raw", "late")); err == nil {
		t.Fatal("an entry was stored for a caller that had given up")
	}
}

// TestPoisonAfterRepeatedLostLeases: a delivery whose lease expired
// delivery.poison_after times in a row (here the third expiry is found at
// start, as after the third crash) fails with the poison reason instead of
// being attempted again, and the next entry is delivered.
func TestPoisonAfterRepeatedLostLeases(t *testing.T) {
	s := newSink(t, nil)
	cfg := testConfig(t, webhookSub("raw", s.URL, ""))
	cfg.Delivery.PoisonAfter = 3

	// What three crashed processes left: each claimed the delivery and
	// died; the first two leases were rescued, the third is still held.
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.DataDir, "auditrelay.db"), Instance: "crashed"})
	if err != nil {
		t.Fatal(err)
	}
	id := DeliveryID("raw", "killer")
	past := time.Now().Add(-time.Hour)
	if _, err := st.Ingest(ctx, []store.NewEntry{{EntrySummary: store.EntrySummary{ID: "killer", Kind: "flag"},
		Raw:        entryJSON("killer", "updateOn", "proj/default:env/production:flag/f"),
		Deliveries: []store.NewDelivery{{ID: id, Subscription: "raw", State: store.Pending, NextAttemptAt: past}}}}, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		at := past.Add(time.Duration(i) * time.Minute)
		res, err := st.Claim(ctx, store.ClaimParams{Subscription: "raw", Owner: fmt.Sprintf("crashed-%d", i), Limit: 1, Lease: time.Second, Now: at})
		if err != nil || len(res.Claimed) != 1 {
			t.Fatalf("claim %d: %+v, %v", i, res, err)
		}
		if i < 2 {
			rr, err := st.RescueExpired(ctx, store.RescueParams{Now: at.Add(2 * time.Second), PoisonAfter: 3})
			if err != nil || rr.Requeued != 1 {
				t.Fatalf("rescue %d: %+v, %v", i, rr, err)
			}
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	h := startEngine(t, cfg)
	d := h.waitState(id, Failed)
	if d.Reason != store.PoisonReason(3) {
		t.Fatalf("reason %q, want %q", d.Reason, store.PoisonReason(3))
	}
	if n := len(d.Attempts); n != 3 {
		t.Fatalf("%d attempts, want the 3 lost ones", n)
	}
	if s.count.Load() != 0 {
		t.Fatalf("the poisoned delivery was sent")
	}
	h.ingest(entryJSON("next", "updateOn", "proj/default:env/production:flag/f"))
	h.waitState(DeliveryID("raw", "next"), Delivered)
}
