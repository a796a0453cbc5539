package fakeapi

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

func now() time.Time { return time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC) }

func TestFeedDropsInsteadOfBlocking(t *testing.T) {
	a := New(now)
	ctx, cancel := context.WithCancel(context.Background())
	f := a.Subscribe(ctx, 2)
	for i := 0; i < 5; i++ {
		a.Publish(api.Event{Kind: api.ActionRecorded})
	}
	if f.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3", f.Dropped())
	}
	cancel()
	n := 0
	for range f.C {
		n++
	}
	if n != 2 {
		t.Fatalf("read %d buffered events before close, want 2", n)
	}
	a.Publish(api.Event{}) // after close: no panic, nobody listening
}

func TestRetryContract(t *testing.T) {
	a := Demo(now)
	ctx := context.Background()
	if err := a.Retry(ctx, "x", "dlv_e0029_datadog-events"); !errors.Is(err, api.ErrNotRetryable) {
		t.Fatalf("retry of a pending delivery: %v", err)
	}
	if err := a.Retry(ctx, "x", "nope"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("retry of a missing delivery: %v", err)
	}
	f := a.Subscribe(ctx, 16)
	if err := a.Retry(ctx, "alice", FailedDelivery); err != nil {
		t.Fatal(err)
	}
	d, _ := a.Delivery(ctx, FailedDelivery)
	if d.State != api.Delivered || len(d.Attempts) != 6 || d.Attempts[5].Trigger != "manual" {
		t.Fatalf("after retry: %s, %d attempts", d.State, len(d.Attempts))
	}
	var kinds []api.EventKind
	for len(f.C) > 0 {
		kinds = append(kinds, (<-f.C).Kind)
	}
	want := []api.EventKind{api.ActionRecorded, api.DeliveryUpdated, api.DeliveryUpdated}
	if len(kinds) != len(want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	e, _ := a.Entry(ctx, "e0028")
	if e.Decisions[0].State != api.Delivered {
		t.Errorf("entry decision state %s", e.Decisions[0].State)
	}
}

func TestEntriesNewestFirst(t *testing.T) {
	a := Demo(now)
	es, err := a.Entries(context.Background(), api.EntryQuery{Limit: 3})
	if err != nil || len(es) != 3 || es[0].ID != "e0029" || es[2].ID != "e0027" {
		t.Fatalf("%v %v", es, err)
	}
	es, _ = a.Entries(context.Background(), api.EntryQuery{Kind: "member", Limit: 100})
	for _, e := range es {
		if e.Kind != "member" {
			t.Fatalf("kind filter let %s through", e.Kind)
		}
	}
}

func TestSaveTemplateConflict(t *testing.T) {
	a := Demo(now)
	ctx := context.Background()
	ts, _ := a.Templates(SubSlack)
	if _, err := a.SaveTemplate(ctx, "a", SubSlack, "flag", "{}", "stale"); !errors.Is(err, api.ErrConflict) {
		t.Fatalf("stale hash: %v", err)
	}
	if _, err := a.SaveTemplate(ctx, "a", SubSlack, "flag", "{{x", ts[0].Hash); err == nil {
		t.Fatal("a template that does not parse was saved")
	}
	if _, err := a.SaveTemplate(ctx, "a", SubLegacy, "default", "{}", ""); !errors.Is(err, api.ErrNotEditable) {
		t.Fatalf("built-in without override dir: %v", err)
	}
}
