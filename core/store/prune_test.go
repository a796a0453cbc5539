package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEntryAge(t *testing.T) {
	for _, c := range []struct{ max, failed, want time.Duration }{{0, 0, 0}, {time.Hour, 0, time.Hour}, {0, time.Hour, time.Hour}, {2 * time.Hour, time.Hour, time.Hour}} {
		if got := (PruneParams{MaxAge: c.max, FailedMaxAge: c.failed}).EntryAge(); got != c.want {
			t.Errorf("EntryAge(%v, %v) = %v, want %v", c.max, c.failed, got, c.want)
		}
	}
}

func TestPrunePlan(t *testing.T) {
	h := time.Hour
	cases := []struct {
		name string
		p    PruneParams
		want PrunePlan
	}{
		{"nothing set", PruneParams{}, PrunePlan{Batch: PruneBatchDefault}},
		{"MaxAge", PruneParams{MaxAge: h, BatchSize: 10}, PrunePlan{Batch: 10, Finished: t0.Add(-h), Entries: t0.Add(-h)}},
		{"FailedMaxAge", PruneParams{FailedMaxAge: 2 * h}, PrunePlan{Batch: PruneBatchDefault, Failed: t0.Add(-2 * h), Entries: t0.Add(-2 * h)}},
		{"both: entries after the shorter", PruneParams{MaxAge: 3 * h, FailedMaxAge: 2 * h},
			PrunePlan{Batch: PruneBatchDefault, Finished: t0.Add(-3 * h), Failed: t0.Add(-2 * h), Entries: t0.Add(-2 * h)}},
		{"MaxEntries alone", PruneParams{MaxEntries: 5, BatchSize: -1}, PrunePlan{Batch: PruneBatchDefault, MaxEntries: 5}},
	}
	for _, c := range cases {
		if got := c.p.Plan(t0); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Plan = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// scripted is a Pruner whose passes answer from a script, recording what
// Run asked for; it stands for a backend's SQL, which the contract suite
// tests on each backend.
type scripted struct {
	calls  []string
	script map[string][]PruneResult // per pass, one result per batch; the last one reports no more
	fail   string                   // the pass whose first batch fails
	cancel context.CancelFunc       // called after the first batch, when set
}

func (s *scripted) pass(name string) PruneBatch {
	return func(ctx context.Context) (PruneResult, bool, error) {
		s.calls = append(s.calls, name)
		if s.cancel != nil {
			s.cancel()
		}
		if name == s.fail {
			return PruneResult{}, false, errors.New("disk on fire")
		}
		rs := s.script[name]
		r := rs[0]
		s.script[name] = rs[1:]
		return r, len(rs) > 1, nil
	}
}

func (s *scripted) Deliveries(states []State, cutoff, entryCutoff time.Time, batch int) PruneBatch {
	return s.pass(fmt.Sprintf("deliveries %v before %s, entries before %s, batch %d",
		states, cutoff.Format("15:04"), entryCutoff.Format("15:04"), batch))
}

func (s *scripted) BareEntries(cutoff time.Time, batch int) PruneBatch {
	return s.pass(fmt.Sprintf("entries before %s, batch %d", cutoff.Format("15:04"), batch))
}

func (s *scripted) Overflow(maxEntries, batch int) PruneBatch {
	return s.pass(fmt.Sprintf("overflow %d, batch %d", maxEntries, batch))
}

func TestPrunePlanRun(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	plan := PruneParams{MaxAge: 2 * time.Hour, FailedMaxAge: 3 * time.Hour, MaxEntries: 100, BatchSize: 2}.Plan(now)
	const (
		finished = "deliveries [delivered filtered skipped] before 10:00, entries before 10:00, batch 2"
		failed   = "deliveries [failed] before 09:00, entries before 10:00, batch 2"
		bare     = "entries before 10:00, batch 2"
		over     = "overflow 100, batch 2"
	)
	s := &scripted{script: map[string][]PruneResult{
		finished: {{Deliveries: 2, Attempts: 5, Entries: 1}, {Deliveries: 1}},
		failed:   {{Deliveries: 1, Attempts: 3}},
		bare:     {{Entries: 2}, {Entries: 2}, {}},
		over:     {{Entries: 1, Deliveries: 1, Attempts: 1}},
	}}
	res, err := plan.Run(context.Background(), s)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	wantCalls := []string{finished, finished, failed, bare, bare, bare, over}
	if !reflect.DeepEqual(s.calls, wantCalls) {
		t.Fatalf("batches run:\n%s\nwant:\n%s", strings.Join(s.calls, "\n"), strings.Join(wantCalls, "\n"))
	}
	if want := (PruneResult{Entries: 6, Deliveries: 5, Attempts: 9}); res != want {
		t.Fatalf("Run = %+v, want %+v", res, want)
	}

	// A failing pass stops the run, names the pass, and keeps the counts
	// of the passes before it.
	s = &scripted{fail: failed, script: map[string][]PruneResult{finished: {{Deliveries: 1}}}}
	res, err = plan.Run(context.Background(), s)
	if err == nil || !strings.Contains(err.Error(), "prune failed deliveries: disk on fire") {
		t.Fatalf("Run with a failing pass: err = %v", err)
	}
	if res.Deliveries != 1 || len(s.calls) != 2 {
		t.Fatalf("after a failing pass: %+v after %d batches", res, len(s.calls))
	}

	// A canceled context stops the run before its next batch.
	ctx, cancel := context.WithCancel(context.Background())
	s = &scripted{cancel: cancel, script: map[string][]PruneResult{finished: {{Deliveries: 2}, {Deliveries: 2}}}}
	res, err = plan.Run(ctx, s)
	if !errors.Is(err, context.Canceled) || len(s.calls) != 1 || res.Deliveries != 2 {
		t.Fatalf("canceled run: %+v, %v after %d batches", res, err, len(s.calls))
	}

	// An empty plan runs nothing.
	s = &scripted{}
	if res, err := (PruneParams{}).Plan(now).Run(context.Background(), s); err != nil || res != (PruneResult{}) || len(s.calls) != 0 {
		t.Fatalf("empty plan: %+v, %v, batches %q", res, err, s.calls)
	}
}
