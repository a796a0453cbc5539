package store

import (
	"context"
	"fmt"
	"time"
)

// PruneBatchDefault is the rows per transaction when PruneParams.BatchSize
// is not set.
const PruneBatchDefault = 1000

// Validate checks a Prune call.
func (p PruneParams) Validate() error {
	if p.MaxAge < 0 || p.FailedMaxAge < 0 || p.MaxEntries < 0 {
		return fmt.Errorf("prune: MaxAge %v, FailedMaxAge %v and MaxEntries %d must be >= 0", p.MaxAge, p.FailedMaxAge, p.MaxEntries)
	}
	return nil
}

// EntryAge is the age after which an entry with no deliveries left is
// pruned: the shorter of the two retention ages that are set.
func (p PruneParams) EntryAge() time.Duration {
	switch {
	case p.MaxAge == 0:
		return p.FailedMaxAge
	case p.FailedMaxAge == 0:
		return p.MaxAge
	default:
		return min(p.MaxAge, p.FailedMaxAge)
	}
}

// PrunePlan is the retention policy turned into cut-offs at one moment.
// A zero cut-off keeps what it would remove.
type PrunePlan struct {
	Batch int // rows per transaction
	// Finished and Failed: Delivered, Filtered and Skipped deliveries, and
	// Failed ones, last updated before these go, with their attempts.
	Finished, Failed time.Time
	// Entries: entries left without deliveries and received before it go.
	Entries    time.Time
	MaxEntries int // then the oldest entries go while more remain; 0: no cap
}

// Plan computes p's cut-offs at now (p.Now, when set, is the caller's to
// pass).
func (p PruneParams) Plan(now time.Time) PrunePlan {
	pl := PrunePlan{Batch: p.BatchSize, MaxEntries: p.MaxEntries}
	if pl.Batch <= 0 {
		pl.Batch = PruneBatchDefault
	}
	if p.MaxAge > 0 {
		pl.Finished = now.Add(-p.MaxAge)
	}
	if p.FailedMaxAge > 0 {
		pl.Failed = now.Add(-p.FailedMaxAge)
	}
	if age := p.EntryAge(); age > 0 {
		pl.Entries = now.Add(-age)
	}
	return pl
}

// PruneBatch removes one batch of a pass, in one transaction, and reports
// whether there may be more (the batch was full).
type PruneBatch func(ctx context.Context) (r PruneResult, more bool, err error)

// Pruner is a backend's side of Prune: its methods start a pass (without
// touching the database) and return the pass's batch, which Run calls until
// it reports no more. A pass that walks the table keeps its position
// between calls.
type Pruner interface {
	// Deliveries removes deliveries in one of states last updated before
	// cutoff, with their attempts, then those of their entries left
	// without deliveries and received before entryCutoff (zero: none).
	Deliveries(states []State, cutoff, entryCutoff time.Time, batch int) PruneBatch
	// BareEntries walks the entries received before cutoff, oldest first,
	// and removes those without deliveries.
	BareEntries(cutoff time.Time, batch int) PruneBatch
	// Overflow walks the entries oldest first and, while more than
	// maxEntries remain, removes those whose deliveries are all terminal,
	// with their deliveries and attempts.
	Overflow(maxEntries, batch int) PruneBatch
}

// Run carries the plan out with b: finished deliveries, failed
// deliveries, entries left without deliveries, then entries over
// MaxEntries, each pass until its batch reports no more. It stops at the
// first error or when ctx ends, and returns what it removed until then.
func (pl PrunePlan) Run(ctx context.Context, b Pruner) (PruneResult, error) {
	type pass struct {
		what  string
		batch PruneBatch
	}
	var passes []pass
	if !pl.Finished.IsZero() {
		passes = append(passes, pass{"finished deliveries",
			b.Deliveries([]State{Delivered, Filtered, Skipped}, pl.Finished, pl.Entries, pl.Batch)})
	}
	if !pl.Failed.IsZero() {
		passes = append(passes, pass{"failed deliveries",
			b.Deliveries([]State{Failed}, pl.Failed, pl.Entries, pl.Batch)})
	}
	if !pl.Entries.IsZero() {
		passes = append(passes, pass{"entries", b.BareEntries(pl.Entries, pl.Batch)})
	}
	if pl.MaxEntries > 0 {
		passes = append(passes, pass{"entries over MaxEntries", b.Overflow(pl.MaxEntries, pl.Batch)})
	}
	var res PruneResult
	for _, p := range passes {
		for more := true; more; {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			var r PruneResult
			var err error
			if r, more, err = p.batch(ctx); err != nil {
				return res, fmt.Errorf("prune %s: %w", p.what, err)
			}
			res.Entries += r.Entries
			res.Deliveries += r.Deliveries
			res.Attempts += r.Attempts
		}
	}
	return res, nil
}
