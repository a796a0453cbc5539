package store

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ThrottleRecheck is how long a worker held back by MaxInFlight waits when
// the in-flight leases already expired: the slots free up only when
// RescueExpired runs, at a time the store does not know.
const ThrottleRecheck = time.Second

// Validate checks a Claim call.
func (p ClaimParams) Validate() error {
	switch {
	case p.Subscription == "":
		return errors.New("claim: empty Subscription")
	case p.Owner == "":
		return fmt.Errorf("claim %s: empty Owner", p.Subscription)
	case p.Limit < 1:
		return fmt.Errorf("claim %s: Limit %d, expected at least 1", p.Subscription, p.Limit)
	case p.Lease <= 0:
		return fmt.Errorf("claim %s: Lease %v, expected > 0", p.Subscription, p.Lease)
	case p.MaxInFlight < 0 || p.Rate < 0 || math.IsNaN(p.Rate) || math.IsInf(p.Rate, 0):
		return fmt.Errorf("claim %s: MaxInFlight %d and Rate %v must be finite and >= 0", p.Subscription, p.MaxInFlight, p.Rate)
	}
	return nil
}

// ClaimPlan is the arithmetic of one Claim, the same on every backend: how
// many deliveries the limits let it take, the rate bucket to store, and,
// once the backend claimed, when the subscription has more to give
// (ClaimResult.NextDue and Throttled). The backend reads the in-flight
// count and the stored bucket, claims and stores in SQL, under whatever
// makes the read exact across instances.
type ClaimPlan struct {
	// N is how many deliveries to claim now: at most Limit, the free
	// MaxInFlight slots and the bucket's whole tokens. It may be 0.
	N int
	// Bucket is the rate bucket refilled to now, before this claim takes
	// from it; with a Rate the backend stores Bucket.Take(claimed).
	Bucket Bucket

	p    ClaimParams
	now  time.Time
	free int // MaxInFlight slots free before the claim
}

// Plan computes what a claim at now may take, given inflight, the
// subscription's InFlight deliveries (read only when MaxInFlight > 0), and
// stored, its bucket as last stored (the zero Bucket when none was).
func (p ClaimParams) Plan(now time.Time, inflight int, stored Bucket) ClaimPlan {
	c := ClaimPlan{N: p.Limit, p: p, now: now, free: math.MaxInt}
	if p.MaxInFlight > 0 {
		c.free = max(p.MaxInFlight-inflight, 0)
		c.N = min(c.N, c.free)
	}
	if p.Rate > 0 {
		c.Bucket = stored.Refill(now, p.Rate, p.Burst)
		c.N = min(c.N, c.Bucket.Whole())
	}
	return c
}

// Settle sets res.NextDue and res.Throttled after the claim put
// res.Claimed: nextPending is the earliest NextAttemptAt among the
// subscription's Pending deliveries after the claim (zero when none), and
// firstLease returns the earliest LeaseUntil among its InFlight ones (zero
// when none); Settle calls it only when MaxInFlight held due work back.
func (c ClaimPlan) Settle(res *ClaimResult, nextPending time.Time, firstLease func() (time.Time, error)) error {
	if nextPending.IsZero() {
		return nil
	}
	res.NextDue = nextPending
	claimed := len(res.Claimed)
	if claimed == c.p.Limit || nextPending.After(c.now) {
		return nil // not held back: the limit or the schedule stopped us
	}
	// Due work was left: a limit held it back. NextDue becomes when each
	// limit that is exhausted gives way for one more delivery.
	res.Throttled = true
	if c.p.Rate > 0 {
		if wait := c.Bucket.Take(claimed).Wait(c.p.Rate); wait > 0 {
			res.NextDue = later(res.NextDue, c.now.Add(wait))
		}
	}
	if c.p.MaxInFlight > 0 && c.free-claimed <= 0 {
		first, err := firstLease()
		if err != nil {
			return err
		}
		if !first.IsZero() {
			res.NextDue = later(res.NextDue, first)
		}
	}
	if !res.NextDue.After(c.now) {
		res.NextDue = c.now.Add(ThrottleRecheck)
	}
	return nil
}

// ClaimedChange is the Change a claim publishes after its commit; false
// when it claimed nothing. It names no subscription: a claim gives no one
// more to claim.
func ClaimedChange(claimed []Claimed) (Change, bool) {
	if len(claimed) == 0 {
		return Change{}, false
	}
	ids := make([]string, len(claimed))
	for i, c := range claimed {
		ids[i] = c.ID
	}
	return Change{Kind: DeliveriesChanged, IDs: ids}, true
}

// RefsChanged is the Change a write publishes for deliveries it took out
// of InFlight or a terminal state (RescueExpired, Retry): their ids, and
// their subscriptions, for which Claim may now return more.
func RefsChanged(refs []DeliveryRef) Change {
	c := Change{Kind: DeliveriesChanged, IDs: make([]string, len(refs)), Subscriptions: make([]string, len(refs))}
	for i, r := range refs {
		c.IDs[i], c.Subscriptions[i] = r.ID, r.Subscription
	}
	return c
}
