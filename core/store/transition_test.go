package store

import (
	"strings"
	"testing"
	"time"
)

func TestDueAt(t *testing.T) {
	later := t0.Add(time.Minute)
	cases := []struct {
		st       State
		at, want time.Time
	}{
		{Pending, time.Time{}, t0},
		{Pending, later, later},
		{Pending, t0.Add(-time.Hour), t0.Add(-time.Hour)}, // already due: kept, not moved to now
		{Delivered, later, time.Time{}},
		{Failed, later, time.Time{}},
		{Filtered, time.Time{}, time.Time{}},
		{Skipped, time.Time{}, time.Time{}},
	}
	for _, c := range cases {
		if got := DueAt(c.st, c.at, t0); !got.Equal(c.want) {
			t.Errorf("DueAt(%s, %v) = %v, want %v", c.st, c.at, got, c.want)
		}
	}
}

func TestPoisons(t *testing.T) {
	cases := []struct {
		after, lost int
		want        bool
	}{
		{0, 0, false},
		{0, 100, false}, // 0: never
		{-1, 5, false},
		{1, 0, true}, // the first expired lease already
		{3, 0, false},
		{3, 1, false},
		{3, 2, true}, // this is the third in a row
		{3, 7, true},
	}
	for _, c := range cases {
		if got := (RescueParams{PoisonAfter: c.after}).Poisons(c.lost); got != c.want {
			t.Errorf("PoisonAfter %d, Lost %d: Poisons = %v, want %v", c.after, c.lost, got, c.want)
		}
	}
	// PostgreSQL builds the reason in SQL with replace(format, '%d', n).
	if got, sql := PoisonReason(3), strings.ReplaceAll(PoisonReasonFormat(), "%d", "3"); got != sql || !strings.Contains(got, " 3 times") {
		t.Errorf("PoisonReason(3) = %q, the format gives %q", got, sql)
	}
}
