package filter

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditrelay/auditrelay/core/engine/api"
)

var now = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func at(e api.EntryView, t time.Time) *api.EntryView {
	e.ReceivedAt = t
	return &e
}

func TestTimeAndCodeTerms(t *testing.T) {
	withCodes := api.EntryView{ID: "x", Decisions: []api.Decision{
		{Subscription: "a", Sent: true, State: api.Failed, LastStatus: 503},
		{Subscription: "b", Sent: true, State: api.Pending, LastStatus: 429},
	}}
	tests := []struct {
		filter string
		e      *api.EntryView
		want   bool
	}{
		{"since:2h", at(withCodes, now.Add(-time.Hour)), true},
		{"since:2h", at(withCodes, now.Add(-3*time.Hour)), false},
		{"since:2h", at(withCodes, now.Add(-2*time.Hour)), true},  // inclusive
		{"until:2h", at(withCodes, now.Add(-2*time.Hour)), false}, // exclusive
		{"since:1d until:2h", at(withCodes, now.Add(-5*time.Hour)), true},
		{"since:1w", at(withCodes, now.Add(-6*24*time.Hour)), true},
		{"since:90s", at(withCodes, now.Add(-time.Minute)), true},
		{"since:2026-12-01 until:2026-12-02", at(withCodes, time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)), true},
		{"since:2026-12-01 until:2026-12-02", at(withCodes, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)), false},
		{"since:2026-12-01T15:04", at(withCodes, time.Date(2026, 12, 1, 15, 3, 0, 0, time.UTC)), false},
		{"since:2026-12-01T15:04", at(withCodes, time.Date(2026, 12, 1, 15, 4, 0, 0, time.UTC)), true},
		{"code:5xx", &withCodes, true},
		{"code:429", &withCodes, true},
		{"code:404", &withCodes, false},
		{"code:4xx code:2xx", &withCodes, true},
		{"-code:5xx", &withCodes, false},
		{"actor:alice@example.com", &api.EntryView{Member: "Alice@example.com"}, true},
	}
	for _, tt := range tests {
		q, err := ParseAt(tt.filter, now)
		if err != nil {
			t.Fatalf("ParseAt(%q): %v", tt.filter, err)
		}
		if got := q.Match(tt.e); got != tt.want {
			t.Errorf("%q on %v = %v, want %v", tt.filter, tt.e.ReceivedAt, got, tt.want)
		}
	}
}

func TestTimeAndCodeErrors(t *testing.T) {
	for in, want := range map[string]string{
		"since:yesterday":   "want a duration back from now",
		"until:2026-13-01":  "want a duration back from now",
		"-since:2h":         "cannot be negated",
		"since:9999999999d": "want a duration", // does not fit 32 bits
		"since:4000000000s": "longer than 100 years",
		"since:999999w":     "longer than 100 years",
		"code:6xx":          "want an HTTP status",
		"code:42":           "want an HTTP status",
		"code:abc":          "want an HTTP status",
	} {
		_, err := ParseAt(in, now)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAt(%q) error = %v, want it to contain %q", in, err, want)
		}
	}
}

func TestStoreQuery(t *testing.T) {
	q, err := ParseAt(`since:2h until:1h kind:flag kind:seg* env:prod proj:web member:a@b.c sub:slack code:5xx status:retrying status:failed checkout "new x" -env:test -kind:member`, now)
	if err != nil {
		t.Fatal(err)
	}
	got := q.StoreQuery(50)
	want := api.EntryQuery{
		Limit: 50, Since: now.Add(-2 * time.Hour), Until: now.Add(-time.Hour),
		Kinds: []string{"flag", "seg*"}, Environments: []string{"prod"}, Projects: []string{"web"},
		Members: []string{"a@b.c"}, Subscriptions: []string{"slack"}, Codes: []api.CodeRange{{Min: 500, Max: 599}},
		States: []api.State{api.Pending, api.InFlight, api.Failed}, Text: []string{"checkout", "new x"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StoreQuery:\n got %+v\nwant %+v", got, want)
	}
	if !q.HasTime() {
		t.Error("HasTime = false")
	}
	if terms := q.Terms(); !reflect.DeepEqual(terms, []string{"flag", "prod", "web", "a@b.c", "checkout", "new x"}) {
		t.Errorf("Terms = %q", terms)
	}
}

// TestSinceForBulkActions: the since: term of a filter is offered to the
// console's bulk actions, which read it again with ParseSince.
func TestSinceForBulkActions(t *testing.T) {
	tests := []struct {
		filter, since string
	}{
		{"", ""},
		{"kind:flag", ""},
		{"since:2h", "2h"},
		{"kind:flag since:7d until:1h", "7d"},
		{"since:7d since:2h", "2h"}, // the later start is the one Bounds uses
		{"since:2026-12-01T15:04", "2026-12-01t15:04"},
	}
	for _, tt := range tests {
		q, err := ParseAt(tt.filter, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Since(); got != tt.since {
			t.Errorf("%q: Since() = %q, want %q", tt.filter, got, tt.since)
		}
	}
	var nilQ *Query
	if nilQ.Since() != "" {
		t.Error("nil query has no since")
	}
}

func TestParseSince(t *testing.T) {
	tests := []struct {
		in       string
		want     time.Time
		duration bool
		err      string
	}{
		{"2h", now.Add(-2 * time.Hour), true, ""},
		{" 30M ", now.Add(-30 * time.Minute), true, ""},
		{"7d", now.Add(-7 * 24 * time.Hour), true, ""},
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), false, ""},
		{"2026-12-01T15:04", time.Date(2026, 12, 1, 15, 4, 0, 0, time.UTC), false, ""},
		{"2026-12-01t15:04", time.Date(2026, 12, 1, 15, 4, 0, 0, time.UTC), false, ""},
		{"", time.Time{}, false, "got nothing"},
		{"yesterday", time.Time{}, false, `want a duration back from now (30m, 2h, 7d) or a date`},
		{"99999999999w", time.Time{}, false, "want a duration"},
		{"999999w", time.Time{}, true, "longer than 100 years"},
	}
	for _, tt := range tests {
		got, err := ParseSince(tt.in, now)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%q: error %v, want one containing %q", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || !got.Equal(tt.want)):
			t.Errorf("%q: %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if d := IsDuration(tt.in); d != tt.duration {
			t.Errorf("IsDuration(%q) = %v, want %v", tt.in, d, tt.duration)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"2h", "2026-12-01", "2026-12-01T15:04:05", "2026-12-01T15:04:05+02:00", "0s", "w", "9999999999d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err == nil && IsDuration(s) && got.After(now) {
			t.Fatalf("%q: a duration back from now lands after it: %v", s, got)
		}
	})
}

func TestKindForBulkActions(t *testing.T) {
	for filter, want := range map[string]string{
		"":                        "",
		"kind:flag":               "flag",
		"Kind:Flag since:2h text": "flag",
		"kind:flag kind:segment":  "",
		"-kind:flag":              "",
		"kind:fl*":                "",
		"env:production":          "",
	} {
		q, err := ParseAt(filter, now)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Kind(); got != want {
			t.Errorf("%q: Kind() = %q, want %q", filter, got, want)
		}
	}
}
