package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// wantErr fails unless err contains want, or is nil when want is "".
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
		t.Errorf("%s: err = %v, want %q", what, err, want)
	}
}

func TestValidateFinish(t *testing.T) {
	ok := Outcome{DeliveryID: "d1", Subscription: "hook", Owner: "w", Attempt: 1, State: Delivered}
	cases := []struct {
		name string
		mut  func(o *Outcome)
		want string
	}{
		{"valid", func(*Outcome) {}, ""},
		{"pending (retry later)", func(o *Outcome) { o.State = Pending }, ""},
		{"failed", func(o *Outcome) { o.State = Failed }, ""},
		{"skipped", func(o *Outcome) { o.State = Skipped }, ""},
		{"no delivery", func(o *Outcome) { o.DeliveryID = "" }, "finish: outcome 1: empty DeliveryID"},
		{"no subscription", func(o *Outcome) { o.Subscription = "" }, `finish: outcome 1 (delivery "d1"): empty Subscription`},
		{"no owner", func(o *Outcome) { o.Owner = "" }, `finish: outcome 1 (delivery "d1"): empty Owner`},
		{"attempt 0", func(o *Outcome) { o.Attempt = 0 }, "Attempt 0, expected the claimed attempt (>= 1)"},
		{"back in flight", func(o *Outcome) { o.State = InFlight }, `state "inflight" not allowed here`},
		{"filtered", func(o *Outcome) { o.State = Filtered }, `state "filtered" not allowed here`},
		{"no state", func(o *Outcome) { o.State = "" }, `state "" not allowed here`},
	}
	for _, c := range cases {
		bad := ok
		c.mut(&bad)
		// The second outcome is the one checked: errors name its index.
		wantErr(t, c.name, ValidateFinish([]Outcome{ok, bad}), c.want)
	}
	wantErr(t, "no outcomes", ValidateFinish(nil), "")
}

func TestRetryParamsValidate(t *testing.T) {
	cases := []struct {
		name string
		p    RetryParams
		want string
	}{
		{"one delivery", RetryParams{DeliveryID: "d1"}, ""},
		{"a subscription", RetryParams{Subscription: "hook", States: []State{Failed, Delivered, Filtered, Skipped}}, ""},
		{"neither", RetryParams{States: []State{Failed}}, "DeliveryID or Subscription is required"},
		{"pending", RetryParams{Subscription: "hook", States: []State{Failed, Pending}}, `state "pending" is not terminal`},
		{"in flight", RetryParams{DeliveryID: "d1", States: []State{InFlight}}, `state "inflight" is not terminal`},
	}
	for _, c := range cases {
		wantErr(t, c.name, c.p.Validate(), c.want)
	}
}

func TestRetryParamsSelected(t *testing.T) {
	if got := (RetryParams{}).Selected(); len(got) != 1 || got[0] != Failed {
		t.Errorf("Selected without States = %v, want [failed]", got)
	}
	if got := (RetryParams{States: []State{Delivered, Skipped}}).Selected(); len(got) != 2 || got[0] != Delivered || got[1] != Skipped {
		t.Errorf("Selected = %v, want the given states", got)
	}
}

func TestSmallValidations(t *testing.T) {
	wantErr(t, "state with a name", SubscriptionState{Name: "hook"}.Validate(), "")
	wantErr(t, "state without a name", SubscriptionState{Paused: true}.Validate(), "set subscription state: empty Name")
	wantErr(t, "action with a kind", Action{Kind: "retry"}.Validate(), "")
	wantErr(t, "action without a kind", Action{Actor: "alice"}.Validate(), "record action: empty Kind")
	wantErr(t, "lead", LeadParams{Name: "poller", Owner: "a", TTL: time.Second}.Validate(), "")
	wantErr(t, "lead without TTL", LeadParams{Name: "poller", Owner: "a"}.Validate(), "TTL 0s, expected > 0")
	wantErr(t, "prune", PruneParams{MaxAge: time.Hour}.Validate(), "")
	for _, p := range []PruneParams{{MaxAge: -1}, {FailedMaxAge: -1}, {MaxEntries: -1}} {
		wantErr(t, "negative prune", p.Validate(), "must be >= 0")
	}
}

func TestCheckVersion(t *testing.T) {
	for _, v := range []int{0, 2, 3} {
		if err := CheckVersion(v, 3); err != nil {
			t.Errorf("CheckVersion(%d, 3) = %v", v, err)
		}
	}
	err := CheckVersion(4, 3)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "database is at version 4, this binary knows up to 3") {
		t.Errorf("CheckVersion(4, 3) = %v", err)
	}
}
