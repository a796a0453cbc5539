package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestResendSince: a subscription added later receives, with Resend, the
// stored entries of the range that its policy allows, each once, each as
// a new delivery with its own id; entries before the range, entries the
// policy refuses, and a second Resend send nothing.
func TestResendSince(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	tick := func(o *Options) { o.Now = clock }
	t0 := now

	old := newSink(t, nil)
	cfg := testConfig(t, webhookSub("old", old.URL, ""))
	h := startEngineWith(t, cfg, tick)
	set(t0.Add(-48 * time.Hour))
	h.ingest(entryJSON("ancient", "updateOn", "proj/p:env/production:flag/f"))
	set(t0.Add(-2 * time.Hour))
	h.ingest(entryJSON("p1", "updateOn", "proj/p:env/production:flag/f"),
		entryJSON("s1", "updateOn", "proj/p:env/staging:flag/f"),
		entryJSON("p2", "updateOn", "proj/p:env/production:flag/g"))
	for _, id := range []string{"ancient", "p1", "s1", "p2"} {
		h.waitState(DeliveryID("old", id), Delivered)
	}
	h.stop()

	// The next start has a new subscription, for production flags only.
	fresh := newSink(t, nil)
	cfg2 := testConfig(t, webhookSub("old", old.URL, "")+webhookSub("fresh", fresh.URL, `    policy:
      - effect: allow
        resources: ["proj/*:env/production:flag/*"]
        actions: ["*"]
`))
	cfg2.DataDir = cfg.DataDir
	set(t0)
	h = startEngineWith(t, cfg2, tick)
	ctx := context.Background()
	since := t0.Add(-24 * time.Hour)

	dry, err := h.eng.Resend(ctx, "alice", ResendParams{Subscription: "fresh", Since: since, DryRun: true})
	if err != nil || dry.InRange != 3 || dry.Allowed != 2 || dry.Queued != 2 || len(dry.Delivery) != 0 {
		t.Fatalf("dry run = %+v, %v; want 3 in range, 2 allowed, 2 to queue", dry, err)
	}
	if fresh.count.Load() != 0 {
		t.Fatal("a dry run sent something")
	}
	res, err := h.eng.Resend(ctx, "alice", ResendParams{Subscription: "fresh", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{DeliveryID("fresh", "p1"), DeliveryID("fresh", "p2")}
	got := slices.Clone(res.Delivery)
	slices.Sort(got)
	slices.Sort(want)
	if res.Queued != 2 || !slices.Equal(got, want) {
		t.Fatalf("resend = %+v; want deliveries %v", res, want)
	}
	for _, id := range want {
		if id == DeliveryID("old", "p1") || id == DeliveryID("old", "p2") {
			t.Fatalf("resent delivery %s reuses the old subscription's id", id)
		}
		h.waitState(id, Delivered)
	}
	// Again: each entry is sent once.
	again, err := h.eng.Resend(ctx, "alice", ResendParams{Subscription: "fresh", Since: since})
	if err != nil || again.Queued != 0 || again.Already != 2 {
		t.Fatalf("second resend = %+v, %v; want nothing queued, 2 already sent", again, err)
	}
	_, bodies := fresh.received()
	var ids []string
	for _, b := range bodies {
		for _, id := range []string{"ancient", "p1", "s1", "p2"} {
			if strings.Contains(string(b), `"_id": "`+id+`"`) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"p1", "p2"}) {
		t.Fatalf("the new subscription received %v, want p1 and p2 once each", ids)
	}

	// Paused: refused, nothing queued; a dry run still counts.
	if err := h.eng.SetPaused(ctx, "alice", "fresh", true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Resend(ctx, "alice", ResendParams{Subscription: "fresh", Since: t0.Add(-72 * time.Hour)}); !errors.Is(err, ErrHeld) {
		t.Errorf("resend into a paused subscription: %v, want ErrHeld", err)
	}
	if d, err := h.eng.Delivery(ctx, DeliveryID("fresh", "ancient")); err == nil {
		t.Errorf("the refused resend queued %s", d.ID)
	}
}
