package store

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClaimParamsValidate(t *testing.T) {
	ok := ClaimParams{Subscription: "hook", Owner: "w", Limit: 1, Lease: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid params: %v", err)
	}
	cases := []struct {
		name string
		mut  func(p *ClaimParams)
		want string
	}{
		{"no subscription", func(p *ClaimParams) { p.Subscription = "" }, "empty Subscription"},
		{"no owner", func(p *ClaimParams) { p.Owner = "" }, "claim hook: empty Owner"},
		{"limit 0", func(p *ClaimParams) { p.Limit = 0 }, "Limit 0, expected at least 1"},
		{"no lease", func(p *ClaimParams) { p.Lease = 0 }, "Lease 0s, expected > 0"},
		{"negative lease", func(p *ClaimParams) { p.Lease = -time.Second }, "Lease -1s"},
		{"negative rate", func(p *ClaimParams) { p.Rate = -1 }, "must be finite and >= 0"},
		{"NaN rate", func(p *ClaimParams) { p.Rate = math.NaN() }, "must be finite and >= 0"},
		{"infinite rate", func(p *ClaimParams) { p.Rate = math.Inf(1) }, "must be finite and >= 0"},
		{"negative MaxInFlight", func(p *ClaimParams) { p.MaxInFlight = -1 }, "must be finite and >= 0"},
	}
	for _, c := range cases {
		p := ok
		c.mut(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestClaimPlan(t *testing.T) {
	cases := []struct {
		name     string
		p        ClaimParams
		inflight int
		stored   Bucket
		n        int
		tokens   float64
	}{
		{"no limits: Limit", ClaimParams{Limit: 7}, 0, Bucket{}, 7, 0},
		{"free slots", ClaimParams{Limit: 10, MaxInFlight: 3}, 1, Bucket{}, 2, 0},
		{"no free slot", ClaimParams{Limit: 10, MaxInFlight: 3}, 3, Bucket{}, 0, 0},
		{"over the cap (lowered since)", ClaimParams{Limit: 10, MaxInFlight: 3}, 5, Bucket{}, 0, 0},
		{"in-flight ignored without MaxInFlight", ClaimParams{Limit: 10}, 50, Bucket{}, 10, 0},
		{"fresh bucket", ClaimParams{Limit: 10, Rate: 10, Burst: 5}, 0, Bucket{}, 5, 5},
		{"Limit below tokens", ClaimParams{Limit: 2, Rate: 10, Burst: 5}, 0, Bucket{}, 2, 5},
		{"whole tokens only", ClaimParams{Limit: 10, Rate: 10, Burst: 5}, 0, Bucket{Tokens: 0.5, At: t0.Add(-200 * time.Millisecond)}, 2, 2.5},
		{"bucket and cap: the smaller", ClaimParams{Limit: 10, Rate: 10, Burst: 5, MaxInFlight: 4}, 2, Bucket{}, 2, 5},
	}
	for _, c := range cases {
		pl := c.p.Plan(t0, c.inflight, c.stored)
		if pl.N != c.n || pl.Bucket.Tokens != c.tokens {
			t.Errorf("%s: N = %d, tokens = %v; want %d, %v", c.name, pl.N, pl.Bucket.Tokens, c.n, c.tokens)
		}
		if c.p.Rate > 0 && !pl.Bucket.At.Equal(t0) {
			t.Errorf("%s: bucket at %v, want now", c.name, pl.Bucket.At)
		}
	}
}

func claimedN(n int) []Claimed {
	out := make([]Claimed, n)
	for i := range out {
		out[i].ID = string(rune('a' + i))
	}
	return out
}

func TestClaimPlanSettle(t *testing.T) {
	ms := time.Millisecond
	noLease := func(t *testing.T) func() (time.Time, error) {
		return func() (time.Time, error) {
			t.Error("firstLease read although MaxInFlight held nothing back")
			return time.Time{}, nil
		}
	}
	lease := func(at time.Time) func(*testing.T) func() (time.Time, error) {
		return func(*testing.T) func() (time.Time, error) {
			return func() (time.Time, error) { return at, nil }
		}
	}
	cases := []struct {
		name      string
		p         ClaimParams
		inflight  int
		stored    Bucket
		claimed   int
		next      time.Time
		lease     func(*testing.T) func() (time.Time, error)
		due       time.Time
		throttled bool
	}{
		{"nothing pending", ClaimParams{Limit: 5}, 0, Bucket{}, 2, time.Time{}, noLease, time.Time{}, false},
		{"Limit reached: not throttled", ClaimParams{Limit: 2}, 0, Bucket{}, 2, t0, noLease, t0, false},
		{"next one scheduled later", ClaimParams{Limit: 5}, 0, Bucket{}, 1, t0.Add(time.Minute), noLease, t0.Add(time.Minute), false},
		{"rate: the next token", ClaimParams{Limit: 100, Rate: 10, Burst: 5}, 0, Bucket{}, 5, t0, noLease, t0.Add(100 * ms), true},
		{"rate: half a token left", ClaimParams{Limit: 100, Rate: 10, Burst: 5}, 0, Bucket{Tokens: 2.5, At: t0}, 2, t0, noLease, t0.Add(50 * ms), true},
		{"MaxInFlight: the first lease", ClaimParams{Limit: 10, MaxInFlight: 3}, 0, Bucket{}, 3, t0.Add(-time.Second), lease(t0.Add(30 * time.Second)), t0.Add(30 * time.Second), true},
		{"MaxInFlight with expired leases: recheck", ClaimParams{Limit: 10, MaxInFlight: 3}, 3, Bucket{}, 0, t0, lease(t0.Add(-time.Second)), t0.Add(ThrottleRecheck), true},
		{"MaxInFlight without a lease read", ClaimParams{Limit: 10, MaxInFlight: 3}, 3, Bucket{}, 0, t0, lease(time.Time{}), t0.Add(ThrottleRecheck), true},
		{"both limits: the later", ClaimParams{Limit: 10, MaxInFlight: 2, Rate: 1, Burst: 2}, 0, Bucket{}, 2, t0, lease(t0.Add(300 * ms)), t0.Add(time.Second), true},
		{"both limits: the later (lease)", ClaimParams{Limit: 10, MaxInFlight: 2, Rate: 10, Burst: 2}, 0, Bucket{}, 2, t0, lease(t0.Add(300 * ms)), t0.Add(300 * ms), true},
		{"slots left, rate held back", ClaimParams{Limit: 10, MaxInFlight: 5, Rate: 10, Burst: 2}, 0, Bucket{}, 2, t0, noLease, t0.Add(100 * ms), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl := c.p.Plan(t0, c.inflight, c.stored)
			res := ClaimResult{Claimed: claimedN(c.claimed)}
			if err := pl.Settle(&res, c.next, c.lease(t)); err != nil {
				t.Fatalf("Settle: %v", err)
			}
			if !res.NextDue.Equal(c.due) || res.Throttled != c.throttled {
				t.Fatalf("NextDue %v, Throttled %v; want %v, %v", res.NextDue, res.Throttled, c.due, c.throttled)
			}
		})
	}

	boom := errors.New("boom")
	pl := ClaimParams{Limit: 10, MaxInFlight: 1}.Plan(t0, 1, Bucket{})
	err := pl.Settle(&ClaimResult{}, t0, func() (time.Time, error) { return time.Time{}, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Settle with a failing lease read = %v, want %v", err, boom)
	}
}

func TestClaimChanges(t *testing.T) {
	if _, ok := ClaimedChange(nil); ok {
		t.Error("ClaimedChange of nothing claimed reports a change")
	}
	c, ok := ClaimedChange(claimedN(2))
	if !ok || c.Kind != DeliveriesChanged || !reflect.DeepEqual(c.IDs, []string{"a", "b"}) || len(c.Subscriptions) != 0 {
		t.Errorf("ClaimedChange = %+v, %v", c, ok)
	}
	c = RefsChanged([]DeliveryRef{{"d1", "hook"}, {"d2", "other"}})
	if c.Kind != DeliveriesChanged || !reflect.DeepEqual(c.IDs, []string{"d1", "d2"}) || !reflect.DeepEqual(c.Subscriptions, []string{"hook", "other"}) {
		t.Errorf("RefsChanged = %+v", c)
	}
}
