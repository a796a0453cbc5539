package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/source"
	"github.com/auditrelay/auditrelay/core/source/ldfake"
	"github.com/auditrelay/auditrelay/core/store"
)

// TestPollerCursorSurvivesRestart runs the LaunchDarkly poller against a
// fake API with the real engine and store, restarts both, and checks the
// second run resumes from the stored cursor: no entry twice, none lost.
func TestPollerCursorSurvivesRestart(t *testing.T) {
	api, err := ldfake.Start(ldfake.Config{Token: "api-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	now := time.Now().UnixMilli()
	add := func(from, to int) {
		for i := from; i < to; i++ {
			api.Add(entryJSONAt(fmt.Sprintf("p%03d", i), now+int64(i)))
		}
	}
	add(0, 45) // more than two pages

	s := newSink(t, nil)
	cfg := testConfig(t, webhookSub("raw", s.URL, ""))
	run := func() *harness {
		h := startEngine(t, cfg)
		p, err := source.NewPoller(source.PollerConfig{BaseURL: api.URL(), Token: "api-token", Interval: 50 * time.Millisecond, Backfill: time.Hour, Limit: 20}, h.eng, h.st)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); p.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		h.cancelPoller = func() { cancel(); <-done }
		return h
	}
	h := run()
	waitCount(t, s, 45)
	cur, err := h.st.GetCursor(context.Background(), "poller")
	if err != nil || cur.Position == "" {
		t.Fatalf("cursor after the first run = %+v, %v", cur, err)
	}
	h.cancelPoller()
	h.stop()

	add(45, 60) // arrive while auditrelay is down
	h2 := run()
	waitCount(t, s, 60)
	time.Sleep(300 * time.Millisecond) // a few more polls: nothing new may arrive
	reqs, bodies := s.received()
	seen := map[string]int{}
	for _, b := range bodies {
		seen[entryIDOf(b)]++
	}
	for i := 0; i < 60; i++ {
		if n := seen[fmt.Sprintf("p%03d", i)]; n != 1 {
			t.Errorf("entry p%03d delivered %d times, want once", i, n)
		}
	}
	if len(reqs) != 60 {
		t.Errorf("sink got %d requests, want 60", len(reqs))
	}
	ents, err := h2.st.ListEntries(context.Background(), store.EntryFilter{Limit: 100})
	if err != nil || len(ents) != 60 {
		t.Errorf("stored entries = %d, %v", len(ents), err)
	}
}

func entryJSONAt(id string, date int64) []byte {
	return []byte(fmt.Sprintf(`{"_id":%q,"date":%d,"kind":"flag","name":"F","title":"changed","accesses":[{"action":"updateOn","resource":"proj/p:env/production:flag/f"}]}`, id, date))
}

func entryIDOf(body []byte) string {
	var i int
	for i = 0; i+7 < len(body); i++ {
		if string(body[i:i+7]) == `"_id":"` {
			break
		}
	}
	rest := body[min(i+7, len(body)):]
	for j := range rest {
		if rest[j] == '"' {
			return string(rest[:j])
		}
	}
	return ""
}

func waitCount(t *testing.T, s *sink, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for s.count.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("sink got %d requests, want %d", s.count.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBackfillWithinTheRateLimit backfills 2,000 entries (each a list item
// plus its full entry: about 2,100 requests) from a fake API that allows
// 200 requests per half second, restarting the relay halfway. The poller
// keeps within the budget the answers report, so LaunchDarkly answers
// hardly any 429; and every entry is delivered exactly once, rendered
// from its full entry.
func TestBackfillWithinTheRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 entries")
	}
	const total = 2000
	api, err := ldfake.Start(ldfake.Config{Token: "api-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	start := time.Now().Add(-30 * time.Minute).UnixMilli()
	for i := range total {
		raw := entryJSONAt(fmt.Sprintf("b%04d", i), start+int64(i)*100)
		raw = append(raw[:len(raw)-1], fmt.Sprintf(`,"currentVersion":{"_id":"f","tags":["full-b%04d"]}}`, i)...)
		if err := api.Add(raw); err != nil {
			t.Fatal(err)
		}
	}
	api.SetLimit(ldfake.Limit{Requests: 200, Window: 500 * time.Millisecond})

	s := newSink(t, nil)
	cfg := testConfig(t, webhookSub("raw", s.URL, ""))
	// Delivery is at least once: an attempt timed out, or whose lease ran
	// out, on a loaded machine is sent again. The test is about the
	// poller, so attempts get time.
	cfg.Delivery.Timeout = 30 * time.Second
	cfg.Delivery.Lease = time.Minute
	var pollers []*source.Poller
	delivered := func() int {
		_, bodies := s.received()
		ids := map[string]bool{}
		for _, b := range bodies {
			ids[entryIDOf(b)] = true
		}
		return len(ids)
	}
	run := func() *harness {
		h := startEngine(t, cfg)
		// One poll does the backfill: later ones would list the minute
		// of lookback (600 entries here) again, which is not the point.
		p, err := source.NewPoller(source.PollerConfig{BaseURL: api.URL(), Token: "api-token", Interval: time.Hour,
			Backfill: time.Hour, Limit: 20}, h.eng, h.st)
		if err != nil {
			t.Fatal(err)
		}
		pollers = append(pollers, p)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); p.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		h.cancelPoller = func() { cancel(); <-done }
		return h
	}
	h := run()
	eventually(t, "a third of the entries stored", func() bool {
		ents, err := h.st.ListEntries(context.Background(), store.EntryFilter{Limit: total / 3})
		return err == nil && len(ents) >= total/3
	})
	h.cancelPoller()
	// Stop the engine once what was stored is delivered and recorded so:
	// an attempt cut off by the stop would be sent again after it, by
	// design.
	eventually(t, "the stored entries delivered", func() bool {
		open, err := h.st.ListDeliveries(context.Background(), store.DeliveryFilter{States: []store.State{store.Pending, store.InFlight}, Limit: 1})
		return err == nil && len(open) == 0
	})
	h.stop()
	first := delivered()
	if first >= total {
		t.Fatalf("the first run delivered all %d entries before the restart", first)
	}

	h2 := run()
	eventually(t, "every entry delivered", func() bool { return delivered() == total })
	eventually(t, "the second run's poll to complete", func() bool { return !pollers[1].Status().LastSuccess.IsZero() })
	_, bodies := s.received()
	seen := map[string]int{}
	for _, b := range bodies {
		seen[entryIDOf(b)]++
		if !strings.Contains(string(b), `"full-`) {
			t.Errorf("delivered the list item, not the full entry: %.120s", b)
		}
	}
	for i := range total {
		if n := seen[fmt.Sprintf("b%04d", i)]; n != 1 {
			t.Errorf("entry b%04d delivered %d times, want once", i, n)
		}
	}
	ents, err := h2.st.ListEntries(context.Background(), store.EntryFilter{Limit: total + 10})
	if err != nil || len(ents) != total {
		t.Errorf("stored entries = %d, %v; want %d", len(ents), err, total)
	}
	var requests, details int
	for _, r := range api.Requests() {
		requests++
		if r.Path != "/api/v2/auditlog" && r.Status == 200 {
			details++
		}
	}
	throttled := api.Throttled()
	t.Logf("%d requests, %d details, %d answered 429; %d delivered before the restart", requests, details, throttled, first)
	if details > total+source.DefaultPollBatch { // a batch fetched but not stored before the stop is fetched again
		t.Errorf("%d detail requests for %d entries", details, total)
	}
	// One in-flight request per fetcher may cross a window's end.
	if throttled > 10 {
		t.Errorf("%d requests answered 429, want at most 10 out of %d", throttled, requests)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // generous: -race on a shared machine
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListItemNoteIsStoredAndShown ingests an entry a source could only
// get as a list item: the note is stored with it and shown with the entry
// and its deliveries.
func TestListItemNoteIsStoredAndShown(t *testing.T) {
	s := newSink(t, nil)
	h := startEngine(t, testConfig(t, webhookSub("raw", s.URL, "")))
	why := "LaunchDarkly has no full entry for it (404: deleted after it was listed)"
	res, err := h.eng.Ingest(context.Background(), []source.Item{
		{Raw: entryJSONAt("listed", 1000), Source: "poller", ListItem: why},
		{Raw: entryJSONAt("full", 1001), Source: "poller"},
	}, nil)
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("Ingest: %+v, %v", res, err)
	}
	for id, want := range map[string]string{"listed": why, "full": ""} {
		e, err := h.eng.Entry(context.Background(), id)
		if err != nil || e.ListItem != want {
			t.Errorf("Entry(%s).ListItem = %q, %v; want %q", id, e.ListItem, err, want)
		}
		d, err := h.eng.Delivery(context.Background(), DeliveryID("raw", id))
		if err != nil || d.EntryListItem != want {
			t.Errorf("Delivery of %s: EntryListItem = %q, %v; want %q", id, d.EntryListItem, err, want)
		}
	}
	list, err := h.eng.Entries(context.Background(), EntryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list {
		if (e.ID == "listed") != (e.ListItem != "") {
			t.Errorf("Entries: %s has ListItem %q", e.ID, e.ListItem)
		}
	}
}
