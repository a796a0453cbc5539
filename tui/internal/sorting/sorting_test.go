package sorting

import (
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

func TestToggleAndLabel(t *testing.T) {
	var o Order
	if o.Label() != "" {
		t.Errorf("arrival order label %q", o.Label())
	}
	o = o.Toggle(Kind)
	if o != (Order{Col: Kind}) || o.Label() != "kind ↑" {
		t.Errorf("first press: %+v %q", o, o.Label())
	}
	o = o.Toggle(Kind)
	if o != (Order{Col: Kind, Desc: true}) || o.Label() != "kind ↓" {
		t.Errorf("second press: %+v %q", o, o.Label())
	}
	if o = o.Toggle(Title); o != (Order{Col: Title}) {
		t.Errorf("another column starts ascending: %+v", o)
	}
}

func TestCompare(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	a := &api.EntryView{ReceivedAt: t0, Kind: "flag", Title: "beta", Member: "Zed@x", Project: "web", Environment: "prod",
		Decisions: []api.Decision{{State: api.Delivered}}}
	b := &api.EntryView{Date: t0.Add(time.Second), Kind: "segment", Title: "Alpha", Member: "amy@x", Project: "web", Environment: "dev",
		Decisions: []api.Decision{{State: api.Delivered}, {State: api.Failed}}}
	tests := []struct {
		col  Column
		want int // sign of Compare(a, b) ascending
	}{
		{Time, -1}, // b has no ReceivedAt: its date counts
		{Kind, -1},
		{Status, 1}, // b has a failure: first
		{Title, 1},  // case ignored: Alpha < beta
		{Member, 1}, // amy < Zed ignoring case
		{Where, 1},  // same project, dev < prod
		{None, 0},
	}
	for _, tt := range tests {
		if got := (Order{Col: tt.col}).Compare(a, b); sign(got) != tt.want {
			t.Errorf("%s: Compare = %d, want sign %d", tt.col, got, tt.want)
		}
		if got := (Order{Col: tt.col, Desc: true}).Compare(a, b); sign(got) != -tt.want {
			t.Errorf("%s descending: Compare = %d, want sign %d", tt.col, got, -tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
