package store

import "time"

// The rules below decide what a write leaves behind. Backends compute them
// in Go and hand the result to their SQL; where a backend makes the whole
// write one statement and cannot (PostgreSQL's RescueExpired), it repeats
// the rule in SQL, and the contract suite checks that both agree.

// DueAt is the NextAttemptAt of a delivery that a write (Ingest, Finish)
// leaves in state st and asked to be due at: for Pending, at, or now when
// at is zero; for every other state, zero (not due).
func DueAt(st State, at, now time.Time) time.Time {
	switch {
	case st != Pending:
		return time.Time{}
	case at.IsZero():
		return now
	default:
		return at
	}
}

// Poisons reports whether RescueExpired fails a delivery as poison rather
// than making it Pending, when its lease expired after lost expired
// leases in a row (Delivery.Lost before this rescue).
func (p RescueParams) Poisons(lost int) bool {
	return p.PoisonAfter > 0 && lost+1 >= p.PoisonAfter
}

// Selected is the states a Retry makes Pending: States, or Failed when
// none are given.
func (p RetryParams) Selected() []State {
	if len(p.States) == 0 {
		return []State{Failed}
	}
	return p.States
}
