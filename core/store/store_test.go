package store

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestValidateIngest(t *testing.T) {
	ok := NewEntry{EntrySummary: EntrySummary{ID: "e1"}, Deliveries: []NewDelivery{{ID: "d1", Subscription: "a", State: Pending}}}
	cases := []struct {
		name    string
		entries []NewEntry
		cursor  *Cursor
		want    string
	}{
		{"valid", []NewEntry{ok}, &Cursor{Source: "poller"}, ""},
		{"entry id", []NewEntry{{}}, nil, "entry 0: empty ID"},
		{"delivery id", []NewEntry{{EntrySummary: EntrySummary{ID: "e"}, Deliveries: []NewDelivery{{Subscription: "a", State: Pending}}}}, nil, "delivery 0: empty ID"},
		{"subscription", []NewEntry{{EntrySummary: EntrySummary{ID: "e"}, Deliveries: []NewDelivery{{ID: "d", State: Pending}}}}, nil, "empty Subscription"},
		{"two for one subscription", []NewEntry{{EntrySummary: EntrySummary{ID: "e"}, Deliveries: []NewDelivery{{ID: "d1", Subscription: "a", State: Pending}, {ID: "d2", Subscription: "a", State: Pending}}}}, nil, `second delivery for subscription "a"`},
		{"state", []NewEntry{{EntrySummary: EntrySummary{ID: "e"}, Deliveries: []NewDelivery{{ID: "d", Subscription: "a", State: InFlight}}}}, nil, `state "inflight" not allowed`},
		{"cursor", nil, &Cursor{}, "cursor with empty Source"},
	}
	for _, c := range cases {
		err := ValidateIngest(c.entries, c.cursor)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	good := fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}}
	ms, err := LoadMigrations(good, "m")
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].SQL != "B" {
		t.Fatalf("LoadMigrations = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"gap":      {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"bad name": {"m/first.sql": {}},
		"zero":     {"m/0000_a.sql": {}},
	} {
		if _, err := LoadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHubNeverBlocksAndCountsLost(t *testing.T) {
	h := NewHub()
	ctx, cancel := context.WithCancel(context.Background())
	slow := h.Add(ctx)
	for i := 0; i < WatchBuffer+5; i++ {
		h.Publish(Change{Kind: EntriesIngested}) // must not block on the full watcher
	}
	for i := 0; i < WatchBuffer; i++ {
		<-slow
	}
	h.Publish(Change{Kind: DeliveriesChanged})
	if c := <-slow; c.Lost != 5 {
		t.Errorf("Lost = %d, want 5", c.Lost)
	}
	cancel()
	select {
	case _, open := <-slow:
		if open {
			t.Error("channel still open after its context ended")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed")
	}
	other := h.Add(context.Background())
	h.Close()
	if _, open := <-other; open {
		t.Error("Close left a watcher open")
	}
}
