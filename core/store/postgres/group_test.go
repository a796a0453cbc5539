package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/store"
)

func groupEntry(id, deliveryID string) store.NewEntry {
	now := time.Now()
	return store.NewEntry{
		EntrySummary: store.EntrySummary{ID: id, Date: now, ReceivedAt: now, Source: "webhook", Kind: "flag"},
		Raw:          []byte(`{"_id":"` + id + `"}`),
		Deliveries: []store.NewDelivery{{
			ID: deliveryID, Subscription: "s", State: store.Pending, NextAttemptAt: now,
		}},
	}
}

// TestConcurrentIngestsShareStatements: webhooks arriving together are
// stored in groups, and each caller still gets its own answer: new, a
// duplicate of an entry another caller of the group sent, or the error of
// its own bad entry — which does not fail the others of its group.
func TestConcurrentIngestsShareStatements(t *testing.T) {
	s := openTest(t, newSchema(t), Options{})
	ctx := t.Context()
	const callers = 64
	type answer struct {
		res []store.IngestResult
		err error
	}
	// A first wave of good entries shares statements.
	var first sync.WaitGroup
	for i := range callers {
		first.Add(1)
		go func() {
			defer first.Done()
			id := fmt.Sprintf("first-%d", i)
			if res, err := s.Ingest(ctx, []store.NewEntry{groupEntry(id, "d-"+id)}, nil); err != nil || len(res) != 1 || res[0].Duplicate {
				t.Errorf("first wave, caller %d: %v %+v", i, err, res)
			}
		}()
	}
	first.Wait()
	if s.grouped.Load() == 0 {
		t.Errorf("%d callers at once, and no two of them shared a statement", callers)
	}
	// Stored first: bad reuses its delivery id for another entry.
	if _, err := s.Ingest(ctx, []store.NewEntry{groupEntry("e-taken", "d-taken")}, nil); err != nil {
		t.Fatal(err)
	}
	answers := make([]answer, callers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var e store.NewEntry
			switch {
			case i == 7:
				e = groupEntry("e-bad", "d-taken")
			case i%2 == 1:
				e = groupEntry("e-twice", "d-twice") // every odd caller sends the same entry
			default:
				e = groupEntry(fmt.Sprintf("e-%d", i), fmt.Sprintf("d-%d", i))
			}
			<-start
			res, err := s.Ingest(ctx, []store.NewEntry{e}, nil)
			answers[i] = answer{res, err}
		}()
	}
	close(start)
	wg.Wait()
	stored := 0
	for i, a := range answers {
		switch {
		case i == 7:
			if a.err == nil || !strings.Contains(a.err.Error(), "delivery ID is already used") {
				t.Errorf("caller %d (delivery id taken): %v %+v, want its own error", i, a.err, a.res)
			}
		case a.err != nil:
			t.Errorf("caller %d: %v", i, a.err)
		case len(a.res) != 1:
			t.Errorf("caller %d: %d results for 1 entry", i, len(a.res))
		case i%2 == 1:
			if !a.res[0].Duplicate {
				stored++
			}
		default:
			if a.res[0].Duplicate || a.res[0].EntryID != fmt.Sprintf("e-%d", i) {
				t.Errorf("caller %d: %+v, want its own entry stored", i, a.res[0])
			}
		}
	}
	if stored != 1 {
		t.Errorf("the entry sent by %d callers was new for %d of them, want 1", callers/2-1, stored)
	}
	for i := 0; i < callers; i += 2 {
		if _, err := s.GetEntry(ctx, fmt.Sprintf("e-%d", i)); err != nil {
			t.Errorf("entry of caller %d: %v", i, err)
		}
	}
	if _, err := s.GetEntry(ctx, "e-bad"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused entry: %v, want not found", err)
	}
}

// TestIngestCallerGivingUp: a caller whose context has ended gets its
// error; the store goes on serving the others.
func TestIngestCallerGivingUp(t *testing.T) {
	s := openTest(t, newSchema(t), Options{})
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Ingest(gone, []store.NewEntry{groupEntry("e-gone", "d-gone")}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("ingest with an ended context: %v", err)
	}
	res, err := s.Ingest(t.Context(), []store.NewEntry{groupEntry("e-next", "d-next")}, nil)
	if err != nil || len(res) != 1 || res[0].Duplicate {
		t.Fatalf("next ingest: %v %+v", err, res)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(t.Context(), []store.NewEntry{groupEntry("e-late", "d-late")}, nil); !errors.Is(err, store.ErrClosed) {
		t.Errorf("ingest after Close: %v, want ErrClosed", err)
	}
}
